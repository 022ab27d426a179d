"""Run a runner's program day by day through the engine, as the bot would, without Telegram.

The simulator plays every part: the agenda (messages in due order, re-checked like the ticker
does), the runner (answers from a script, or an all-clear session done as prescribed; at
onboarding the runner says a clinician has cleared everything, and after a stop they say they have
been seen, as an eager runner would: neither unlocks anything), and the coach (clearances granted
half an hour after the alert unless the script withholds them; stops lifted only on the script's
coach days). Pure: the start date comes in, nothing reads the clock.
"""

from __future__ import annotations

import heapq
import multiprocessing
import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from multiprocessing.context import BaseContext
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.program.calendar import local_date, local_instant
from bot.program.decision import Decision, Message, MessageKind
from bot.program.engine import decide
from bot.program.events import (
    CoachAction,
    CoachVerb,
    Enrolled,
    Event,
    FollowupAnswered,
    GateAnswered,
    OverlaySet,
    ProtocolSwitched,
    RunnerResumed,
    SessionMissed,
    SessionReported,
)
from bot.program.loader import Rules
from bot.program.recheck import Verdict, recheck
from bot.program.rules import QuestionStage, SessionKind
from bot.program.state import Outcome, Overlay, Prescription, ProgramState, Status

SESSION_LENGTH = timedelta(hours=1)
ANSWER_DELAY = timedelta(minutes=5)  # follow-ups and gates are answered 5 minutes after asking
COACH_DELAY = timedelta(minutes=30)  # the coach clears half an hour after the alert
ONE_DAY = timedelta(days=1)
ONE_MINUTE = timedelta(minutes=1)
MIDNIGHT = time(0, 0)


def _session_content(rx: Prescription) -> dict[str, object]:
    """A non-run session's own content (steps, contacts, exercises), only where the rules give
    it, so the output of today's protocols is unchanged."""
    content: dict[str, object] = {}
    if rx.steps is not None:
        content["steps"] = rx.steps
    if rx.contacts is not None:
        content["contacts"] = rx.contacts
    if rx.exercises:
        content["exercises"] = [
            {"name": e.name, "sets": e.sets, "reps": e.reps, "per_side": e.per_side}
            | ({"hold_s": e.hold_s} if e.hold_s is not None else {})
            for e in rx.exercises
        ]
    return content


class SessionAnswers(BaseModel):
    """What the runner reports for one session; anything left out is the all-clear answer."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome = Outcome.DONE
    pain_during: int = Field(0, ge=0, le=10)
    rpe: int = Field(4, ge=0, le=10)
    followup: dict[str, int | bool] = Field(default_factory=dict)


class Script(BaseModel):
    """`--answers` file: sessions by number ("3") or date ("2026-03-10"), gates, coach actions."""

    model_config = ConfigDict(extra="forbid")
    sessions: dict[str, SessionAnswers] = Field(default_factory=dict)
    gates: dict[str, dict[str, bool]] = Field(
        default_factory=dict, description="phase id -> gate answers (default: all yes)"
    )
    withhold_clearance: list[str] = Field(
        default_factory=list, description="clearance keys the coach does not grant"
    )
    coach: dict[date, CoachVerb] = Field(
        default_factory=dict, description="date -> coach action (e.g. clear after a red flag)"
    )
    protocol: dict[date, str] = Field(
        default_factory=dict,
        description="date -> the protocol the clinician switches the runner to (at noon)",
    )


@dataclass
class DayRow:
    day: date
    phase: str = ""
    level: str | None = None
    status: str = ""
    session: dict[str, Any] = field(default_factory=lambda: {"kind": "rest"})
    answers: dict[str, Any] = field(default_factory=dict)
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "phase": self.phase,
            "level": self.level,
            "status": self.status,
            "session": self.session,
            "answers": self.answers,
            "decisions": self.decisions,
        }


@dataclass(frozen=True)
class SimProfile:
    site_id: str
    start: date
    days: int = 84
    timezone: str = "UTC"
    preferred_time: time = time(7, 0)
    available_days: frozenset[int] = frozenset(range(7))
    diagnosis_date: date | None = None
    onboarding_yes: bool = True  # answer every onboarding gate question with yes, cleared
    protocol_id: str | None = None  # a protocol chosen for the runner (else by site and risk)
    overlay: Overlay | None = None  # a coach's tailoring, set right after enrolment (a preview)


Answerer = Callable[[int, date, ProgramState], SessionAnswers]
Engine = Callable[[ProgramState | None, Event, Rules, datetime], Decision]


class Simulation:
    """One runner through the engine; `run()` yields after every processed agenda message."""

    def __init__(
        self,
        rules: Rules,
        profile: SimProfile,
        script: Script | None = None,
        answerer: Answerer | None = None,
        record: bool = True,
        engine: Engine | None = None,
    ) -> None:
        """`engine` stands in for `decide` (the benchmark's baseline replays recorded decisions)."""
        self.decide: Engine = engine or decide
        self.rules = rules
        self.p = profile
        self.script = script or Script()
        self.answerer = answerer
        self.record = record
        self.rows: dict[date, DayRow] = {}
        self.heap: list[tuple[datetime, int, str]] = []
        self.pending: dict[str, Message] = {}
        self.counter = 0
        self.state: ProgramState | None = None
        self.decisions = 0
        self.end = local_instant(
            profile.start + timedelta(days=profile.days), MIDNIGHT, profile.timezone
        )
        # The all-clear follow-up answers, by site: the runner's own answers are laid over them.
        self._clear_followup: dict[str, dict[str, int | bool]] = {}
        self._asked_review = False  # the runner asks for a review once per simulation

    # --- agenda ---------------------------------------------------------------------------

    def _apply(self, d: Decision, at: datetime) -> None:
        self.decisions += 1
        self.state = d.state
        pending, heap, counter = self.pending, self.heap, self.counter
        for key in d.cancel:
            pending.pop(key, None)
        for m in d.messages:
            pending[m.key] = m
            counter += 1
            # A message already due goes out now; a stale heap entry (key re-sent or cancelled
            # since) is skipped when it comes up, as `pending` no longer holds it.
            due = m.due
            heapq.heappush(heap, (at if at > due else due, counter, m.key))  # max(due, at)
        self.counter = counter
        if self.record:
            row = self._row(local_date(at, self.p.timezone))
            for a in d.actions:
                row.decisions.append({"action": a.act.value, "rule": a.rule, **_plain(a.detail)})

    def _event(self, ev: Event, at: datetime) -> Decision:
        d = self.decide(self.state, ev, self.rules, at)
        self._apply(d, at)
        return d

    def _row(self, day: date) -> DayRow:
        row = self.rows.get(day)
        if row is None:
            row = self.rows[day] = DayRow(day)
        return row

    # --- the runner and the coach ---------------------------------------------------------

    def _answers_for(self, seq: int, day: date, state: ProgramState) -> SessionAnswers:
        s = self.script.sessions
        if s:
            scripted = s.get(day.isoformat()) or s.get(str(seq))
            if scripted is not None:
                return scripted
        if self.answerer is not None:
            return self.answerer(seq, day, state)
        return _ALL_CLEAR

    def _on_message(self, m: Message, at: datetime) -> None:
        st = self.state
        assert st is not None
        verdict, _ = recheck(st, m.kind, m.payload, at, self.rules)
        if verdict is Verdict.DROP:
            return
        if verdict is Verdict.WAKE:
            self._event(SessionMissed(m.payload["seq"]), at)
            if self.record:
                row = self._row(local_date(at, self.p.timezone) - timedelta(days=1))
                row.session["status"] = "missed"
            return
        kind = m.kind
        if kind is MessageKind.SESSION_REMINDER:
            self._do_session(m.payload["seq"], at)
        elif kind is MessageKind.FOLLOWUP:
            seq = m.payload["seq"]
            answers = dict(self._clear_followup_answers(st))
            answers.update(self.pending_followups.pop(seq, {}))
            self._event(FollowupAnswered(seq, answers), at + ANSWER_DELAY)
            if self.record:
                self._row(local_date(at, self.p.timezone)).answers.update(
                    {f"followup.{k}": v for k, v in answers.items()}
                )
        elif kind is MessageKind.GATE_CHECK:
            phase = m.payload["phase"]
            gate = self.rules.protocols[st.protocol_id].phase(phase).gate
            said: dict[str, bool] = {q: True for q in gate.questions}
            said.update(self.script.gates.get(phase, {}))
            self._event(GateAnswered(phase, said), at + ANSWER_DELAY)
        elif kind is MessageKind.COACH_ALERT and m.payload.get("reason") == "clearance_needed":
            key = m.payload.get("clearance")
            if key not in self.script.withhold_clearance:
                self._event(CoachAction(CoachVerb.CLEAR, 0), at + COACH_DELAY)
        elif (
            kind is MessageKind.RUNNER_NOTICE
            and m.payload.get("code") in _STOPPED_NOTICES
            and self.p.onboarding_yes
            and not self._asked_review
        ):
            # The runner's own "I've been seen and cleared" the next day: asks, lifts nothing.
            self._asked_review = True
            self._event(RunnerResumed(clinician_reviewed=True), at + ONE_DAY)

    def _clear_followup_answers(self, st: ProgramState) -> dict[str, int | bool]:
        """The all-clear answer to every follow-up question the runner's site is asked."""
        site_id = st.profile.site_id
        clear = self._clear_followup.get(site_id)
        if clear is None:
            qs = self.rules.questions_for(QuestionStage.FOLLOWUP, self.rules.site(site_id))
            clear = self._clear_followup[site_id] = {q.id: _clear_value(q.kind) for q in qs}
        return clear

    def _do_session(self, seq: int, at: datetime) -> None:
        st = self.state
        assert st is not None and st.next is not None
        day = st.next.day
        rx = st.next.prescription
        a = self._answers_for(seq, day, st)
        if self.record:
            row = self._row(day)
            row.session = {
                "seq": seq,
                "kind": rx.kind.value,
                "minutes": rx.minutes,
                "description": rx.description,
                "status": a.outcome.value,
            }
            if rx.kind is SessionKind.RUN:
                row.session.update(
                    run_s=rx.run_s,
                    walk_s=rx.walk_s,
                    repeats=rx.repeats,
                    deload=rx.deload,
                    intensity=rx.intensity,
                )
                shape = {
                    "walk_first": rx.walk_first,
                    "warmup_walk_min": rx.warmup_walk_min,
                    "cooldown_walk_min": rx.cooldown_walk_min,
                }
                # Only non-default shapes, so the output of today's protocols is unchanged.
                row.session.update({key: value for key, value in shape.items() if value})
            else:
                row.session.update(_session_content(rx))
            if a.outcome is not Outcome.SKIPPED:
                row.answers.update(pain_during=a.pain_during, rpe=a.rpe)
        ev = SessionReported(seq, a.outcome, a.pain_during, a.rpe)
        if a.outcome is Outcome.SKIPPED:
            ev = SessionReported(seq, a.outcome)
        self.pending_followups[seq] = dict(a.followup)
        # Report within the session's own day: a late-evening runner reports before midnight.
        day_over = local_instant(day + ONE_DAY, MIDNIGHT, self.p.timezone)
        self._event(ev, max(at, min(at + SESSION_LENGTH, day_over - ONE_MINUTE)))

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> Iterator[datetime]:
        p = self.p
        self.pending_followups: dict[int, dict[str, int | bool]] = {}
        t0 = local_instant(p.start, time(0, 0), p.timezone)
        site = self.rules.site(p.site_id)
        proto = self.rules.protocol_for(site)
        gate_answers: dict[str, bool] = {}
        claimed: set[str] = set()
        if p.onboarding_yes:
            # The runner's own answers: yes to everything, "cleared" included. A claim is only a
            # request; what the clinician withholds stays withheld.
            for ph in proto.phases:
                gate_answers.update({q: True for q in ph.gate.questions})
                key = ph.gate.clearance_key
                if key and ph.gate.on_enrolment:
                    claimed.add(key)
        self._event(
            Enrolled(
                site_id=p.site_id,
                diagnosis_date=p.diagnosis_date or p.start,
                timezone=p.timezone,
                preferred_time=p.preferred_time,
                available_days=p.available_days,
                claimed=frozenset(claimed),
                gate_answers=gate_answers,
                protocol_id=p.protocol_id,
            ),
            t0,
        )
        if p.overlay is not None:  # the tailoring being previewed, as the operator would set it
            self._event(OverlaySet(p.overlay, 0, "operator:preview"), t0)
        # The coach acts at noon on their days, also when nothing else is on the agenda (a runner
        # paused by a red flag has none until the clinician's word): then the program goes on.
        coach: list[tuple[datetime, Event]] = [
            (local_instant(d, time(12), p.timezone), CoachAction(v, 0))
            for d, v in sorted(self.script.coach.items())
        ]
        if self.script.protocol:  # a switch on a day with a coach action comes after it
            switches = [
                (local_instant(d, time(12), p.timezone), ProtocolSwitched(pid, 0, by="simulation"))
                for d, pid in self.script.protocol.items()
            ]
            coach = sorted([*coach, *switches], key=lambda c: c[0])
        ci = 0
        heap, pending, end = self.heap, self.pending, self.end
        while True:
            if ci < len(coach) and coach[ci][0] < end and (not heap or coach[ci][0] <= heap[0][0]):
                self._event(coach[ci][1], coach[ci][0])
                ci += 1
                continue
            if not heap:
                break
            due, _, key = heapq.heappop(heap)
            if due >= end:
                break
            m = pending.pop(key, None)
            if m is None:
                continue  # re-sent or cancelled since this entry was pushed
            self._on_message(m, due)
            yield due

    def table(self) -> list[DayRow]:
        """One row per day of the simulated span, with the state at the end of each day."""
        for _ in self.run():
            pass
        return self.rows_in_order()

    def rows_in_order(self) -> list[DayRow]:
        out = []
        # Re-derive phase/level per day from the decisions recorded (state snapshots per day).
        for i in range(self.p.days):
            d = self.p.start + timedelta(days=i)
            out.append(self.rows.get(d) or DayRow(d))
        return out


def _clear_value(kind: str) -> int | bool:
    return False if kind == "yes_no" else 0


def _plain(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in detail.items()
        if k in ("from_level", "to_level", "phase", "seq", "because")
    }


_ALL_CLEAR = SessionAnswers()
_STOPPED_NOTICES = ("red_flag", "escalated")


def simulate(rules: Rules, profile: SimProfile, script: Script | None = None) -> list[DayRow]:
    """The day-by-day table of one runner's program."""
    sim = _SnapshotSimulation(rules, profile, script)
    return sim.table()


class _SnapshotSimulation(Simulation):
    """Records the phase, level and status at the end of every simulated day."""

    def _apply(self, d: Decision, at: datetime) -> None:
        super()._apply(d, at)
        st = d.state
        day = local_date(at, self.p.timezone)
        row = self._row(day)
        proto = self.rules.protocols[st.protocol_id]
        ph = proto.phase(st.phase_id)
        row.phase = st.phase_id
        row.level = ph.levels[st.level].id if ph.levels else None
        row.status = st.status.value

    def rows_in_order(self) -> list[DayRow]:
        out, last = [], None
        for i in range(self.p.days):
            d = self.p.start + timedelta(days=i)
            row = self.rows.get(d) or DayRow(d)
            if not row.phase and last is not None:
                row.phase, row.level, row.status = last.phase, last.level, last.status
            out.append(row)
            last = row
        return out


# --- population ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SymptomModel:
    """A simple chance of symptoms per run session; higher levels a little riskier."""

    mild: float = 0.10
    regress: float = 0.05
    red_flag: float = 0.004
    per_level: float = 0.004


def random_answerer(rng: random.Random, model: SymptomModel) -> Answerer:
    # The simulator only reads answers (as it does the shared all-clear), so each kind is made once.
    red_flag = SessionAnswers(pain_during=2, followup={"pain_night": True})
    regress = SessionAnswers(pain_during=1, followup={"pain_now": 2})
    mild = SessionAnswers(pain_during=1)

    def answer(seq: int, day: date, state: ProgramState) -> SessionAnswers:
        if state.next is None or state.next.prescription.kind is not SessionKind.RUN:
            return _ALL_CLEAR
        bump = model.per_level * state.level
        x = rng.random()
        if x < model.red_flag:
            return red_flag
        if x < model.red_flag + model.regress + bump:
            return regress
        if x < model.red_flag + model.regress + bump + model.mild:
            return mild
        return _ALL_CLEAR

    return answer


def reached_continuous(state: ProgramState, rules: Rules, seconds: int) -> bool:
    proto = rules.protocols[state.protocol_id]
    ph = proto.phase(state.phase_id)
    idx = proto.index(state.phase_id)
    for i, p in enumerate(proto.phases[: idx + 1]):
        for j, lv in enumerate(p.levels):
            if (i < idx or j <= state.level) and lv.continuous_s >= seconds:
                return True
    return ph.kind.value == "maintenance"


@dataclass
class PopulationResult:
    """What a population run counts. The day lists hold one entry per runner who reached the
    milestone within the horizon (days from the first day), sorted, so the result is the same
    however the runners were shared out between processes."""

    runners: int
    weeks: list[int]
    reached: dict[int, int]  # reached 30 min continuous by the end of each week
    red_flags: int  # runners with at least one red flag
    escalations: int  # runners escalated at least once
    days_to_run_walk: list[int] = field(default_factory=list)  # first run/walk session done
    days_to_30_min: list[int] = field(default_factory=list)  # first 30 min continuous planned
    sessions: int = 0  # sessions done by all runners

    def summary(self) -> dict[str, Any]:
        """The figures a clinician compares protocols by (per 100 runners where it is a rate)."""
        n = max(1, self.runners)
        return {
            "runners": self.runners,
            "first_run_walk_days": _spread(self.days_to_run_walk, self.runners),
            "continuous_30_min_days": _spread(self.days_to_30_min, self.runners),
            "red_flags_per_100": round(100 * self.red_flags / n, 1),
            "escalations_per_100": round(100 * self.escalations / n, 1),
            "sessions_per_runner": round(self.sessions / n, 1),
        }


def _spread(days: list[int], runners: int) -> dict[str, Any]:
    """Median and 10th-90th percentile of the days, and the share of runners who got there."""
    share = round(len(days) / runners, 3) if runners else 0.0
    if not days:
        return {"reached": 0, "share": share, "median": None, "p10": None, "p90": None}
    ordered = sorted(days)

    def pick(q: float) -> int:  # nearest-rank percentile: a day some runner really had
        return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]

    return {
        "reached": len(ordered),
        "share": share,
        "median": pick(0.5),
        "p10": pick(0.1),
        "p90": pick(0.9),
    }


@dataclass(frozen=True)
class _Population:
    """What every runner of one population run shares (sent once to each worker process)."""

    rules: Rules
    start: date
    weeks: tuple[int, ...]
    seed: int
    sites: tuple[str, ...]
    model: SymptomModel
    protocol_id: str | None = None
    days: int = 0  # the horizon; 0 = the last of `weeks`


def runner_random(seed: int, index: int) -> random.Random:
    """Runner `index`'s own random stream: its site and its answers depend on the seed and its
    place in the population only, never on the runners before it, so any share of the population
    can be simulated anywhere (another process) with the same result. (A string seed is hashed
    the same way in every process, whatever PYTHONHASHSEED is.)"""
    return random.Random(f"population:{seed}:{index}")


def _simulate_runners(pop: _Population, first: int, stop: int) -> PopulationResult:
    """Runners `first` to `stop - 1` of the population, counted."""
    rules = pop.rules
    need = rules.scheduling.min_continuous_s_for_intensity
    reached = dict.fromkeys(pop.weeks, 0)
    red = esc = sessions = 0
    to_run_walk: list[int] = []
    to_30: list[int] = []
    horizon = pop.days or max(pop.weeks) * 7
    t_start = local_instant(pop.start, time(0), "UTC")
    for index in range(first, stop):
        rng = runner_random(pop.seed, index)
        prof = SimProfile(
            site_id=rng.choice(pop.sites),
            start=pop.start,
            days=horizon,
            protocol_id=pop.protocol_id,
        )
        sim = Simulation(rules, prof, answerer=random_answerer(rng, pop.model), record=False)
        first_reached: datetime | None = None
        first_run: datetime | None = None
        flagged = escalated = False
        for at in sim.run():
            st = sim.state
            assert st is not None
            flagged |= st.status is Status.RED_FLAG
            escalated |= st.status is Status.ESCALATED
            if first_run is None and any(kind is SessionKind.RUN for _, kind in st.recent):
                first_run = at
            if first_reached is None and reached_continuous(st, rules, need):
                first_reached = at
        assert sim.state is not None
        sessions += sim.state.sessions_total
        red += flagged
        esc += escalated
        if first_run is not None:
            to_run_walk.append((first_run - t_start).days)
        if first_reached is not None:
            to_30.append((first_reached - t_start).days)
            week = (first_reached - t_start).days / 7
            for w in pop.weeks:
                if week <= w:
                    reached[w] += 1
    return PopulationResult(
        stop - first, list(pop.weeks), reached, red, esc, to_run_walk, to_30, sessions
    )


def _add(total: PopulationResult, part: PopulationResult) -> None:
    total.runners += part.runners
    for w, count in part.reached.items():
        total.reached[w] += count
    total.red_flags += part.red_flags
    total.escalations += part.escalations
    total.days_to_run_walk += part.days_to_run_walk
    total.days_to_30_min += part.days_to_30_min
    total.sessions += part.sessions


# The population a worker process simulates its shares of (set once per process, see
# `_start_worker`): the rules are sent once, not with every share.
_worker_population: _Population | None = None


def _start_worker(pop: _Population) -> None:
    global _worker_population
    _worker_population = pop


def _simulate_share(first: int, stop: int) -> PopulationResult:
    assert _worker_population is not None, "started by _start_worker"
    return _simulate_runners(_worker_population, first, stop)


def _shares(n: int, jobs: int) -> list[tuple[int, int]]:
    """Runner index ranges: a few per process, so one slow share does not leave the others idle
    and progress moves, but not so many that sending them costs more than simulating them."""
    size = max(1, min(250, -(-n // (jobs * 4))))
    return [(first, min(n, first + size)) for first in range(0, n, size)]


def _pool_context() -> BaseContext:
    """Forked workers start at once with everything imported; but a fork copies only the calling
    thread, so with other threads running (one may hold a lock the copy then waits on forever)
    the workers are fresh interpreters instead, which import the engine first (about a second)."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def simulate_population(
    rules: Rules,
    n: int,
    *,
    start: date,
    weeks: tuple[int, ...] = (4, 8, 12),
    seed: int = 1,
    sites: list[str] | None = None,
    model: SymptomModel | None = None,
    progress: Callable[[int], None] | None = None,
    jobs: int = 1,
    protocol_id: str | None = None,
    days: int = 0,
) -> PopulationResult:
    """N random runners (random site and symptoms): how many reach 30 minutes continuous by each
    week, and how many had a red flag or an escalation.

    `jobs` processes share the runners; the result depends on the seed only, not on `jobs`
    (every runner has its own random stream, see `runner_random`, and the counts are sums)."""
    pop = _Population(
        rules,
        start,
        tuple(weeks),
        seed,
        tuple(sites or [s.id for s in rules.sites.sites]),
        model or SymptomModel(),
        protocol_id,
        days,
    )
    total = PopulationResult(0, list(weeks), dict.fromkeys(weeks, 0), 0, 0)
    shares = _shares(n, max(1, jobs))
    if jobs <= 1 or len(shares) <= 1:
        for first, stop in shares:
            _add(total, _simulate_runners(pop, first, stop))
            if progress:
                progress(total.runners)
        return _sorted(total)
    workers = min(jobs, len(shares))
    with ProcessPoolExecutor(
        workers, _pool_context(), initializer=_start_worker, initargs=(pop,)
    ) as pool:
        for part in as_completed([pool.submit(_simulate_share, *share) for share in shares]):
            _add(total, part.result())
            if progress:
                progress(total.runners)
    return _sorted(total)


def _sorted(total: PopulationResult) -> PopulationResult:
    """The day lists in order, once at the end: the shares arrive in any order."""
    total.days_to_run_walk.sort()
    total.days_to_30_min.sort()
    return total
