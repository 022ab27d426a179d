"""Drivers shared by the engine tests.

- `Runner` feeds events to `decide` directly, one runner, with a hand-held clock: it builds a state
  at any phase and level, walks to the next run, reports a session and answers its follow-up.
- `Recorder` is a `Simulation` that keeps every (event, instant, state before, decision).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.program.calendar import local_date, local_instant
from bot.program.decision import Act, Decision, Message, MessageKind
from bot.program.engine import decide
from bot.program.events import (
    Enrolled,
    Event,
    FollowupAnswered,
    SessionReported,
    TimePassed,
)
from bot.program.loader import Rules
from bot.program.rules import Protocol, QuestionStage, SessionKind
from bot.program.simulate import Simulation
from bot.program.state import Outcome, Profile, ProgramState

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
D0 = date(2026, 3, 2)  # a Monday
ALL_DAYS = frozenset(range(7))
SESSION = timedelta(hours=1)
FOLLOWUP_AFTER = timedelta(hours=24)


def clear_followup(rules: Rules, site_id: str) -> dict[str, int | bool]:
    """The all-clear answers to every follow-up question this site is asked."""
    qs = rules.questions_for(QuestionStage.FOLLOWUP, rules.site(site_id))
    return {q.id: (False if q.kind == "yes_no" else 0) for q in qs}


def all_clearance_keys(rules: Rules) -> frozenset[str]:
    return frozenset(
        ph.gate.clearance_key
        for proto in rules.protocols.values()
        for ph in proto.phases
        if ph.gate.clearance_key
    )


def acts(d: Decision, act: Act | None = None) -> list[tuple[Act, str]]:
    return [(a.act, a.rule) for a in d.actions if act is None or a.act is act]


def messages(d: Decision, kind: MessageKind) -> list[Message]:
    return [m for m in d.messages if m.kind is kind]


def ladder_position(protocol: Protocol, phase_id: str, level: int) -> int:
    """One number for 'how far along': every non-run phase is one rung, every run level one."""
    pos = 0
    for ph in protocol.phases:
        if ph.id == phase_id:
            return pos + level
        pos += max(1, len(ph.levels))
    raise KeyError(phase_id)


def position(rules: Rules, state: ProgramState) -> int:
    return ladder_position(rules.protocols[state.protocol_id], state.phase_id, state.level)


class Runner:
    """One runner driven through `decide` with an explicit clock."""

    def __init__(self, rules: Rules, state: ProgramState, now: datetime) -> None:
        self.rules = rules
        self.state = state
        self.now = now
        self.log: list[tuple[Event, datetime, Decision]] = []
        self.reported_at: dict[int, datetime] = {}

    @classmethod
    def at(
        cls,
        rules: Rules,
        site_id: str,
        phase_id: str,
        level: int = 0,
        *,
        clear: int = 0,
        day: date = D0,
        tz: str = "UTC",
        pref: time = time(7, 0),
        days: Iterable[int] = ALL_DAYS,
        clearances: frozenset[str] | None = None,
        since: date | None = None,
        **over: Any,
    ) -> Runner:
        """A runner already in `phase_id` at `level`, with the next session planned from `day`."""
        site = rules.site(site_id)
        proto = rules.protocol_for(site)
        profile = Profile(site_id, day - timedelta(days=150), tz, pref, frozenset(days))
        since = since or day - timedelta(days=30)
        state = ProgramState(
            profile=profile,
            protocol_id=proto.id,
            phase_id=phase_id,
            level=level,
            phase_since=since,
            level_since=since,
            clear_at_level=clear,
            clearances=all_clearance_keys(rules) if clearances is None else clearances,
            **over,
        )
        r = cls(rules, state, local_instant(day, time(0, 5), tz))
        r.send(TimePassed())
        return r

    @classmethod
    def enrolled(cls, rules: Rules, ev: Enrolled, now: datetime) -> Runner:
        d = decide(None, ev, rules, now)
        r = cls(rules, d.state, now)
        r.log.append((ev, now, d))
        return r

    # --- the clock and events ------------------------------------------------------------

    @property
    def tz(self) -> str:
        return self.state.profile.timezone

    @property
    def today(self) -> date:
        return local_date(self.now, self.tz)

    def local(self, day: date, at: time) -> datetime:
        return local_instant(day, at, self.tz)

    def send(self, ev: Event, at: datetime | None = None) -> Decision:
        if at is not None:
            assert at >= self.now, "the test clock never runs backwards"
            self.now = at
        d = decide(self.state, ev, self.rules, self.now)
        assert d.rules, "every decision names at least one rule"
        self.state = d.state
        self.log.append((ev, self.now, d))
        return d

    # --- sessions --------------------------------------------------------------------------

    @property
    def next_kind(self) -> SessionKind:
        assert self.state.next is not None, "no session planned"
        return self.state.next.prescription.kind

    def session_time(self) -> datetime:
        assert self.state.next is not None, "no session planned"
        at = self.local(self.state.next.day, self.state.profile.preferred_time) + SESSION
        return max(at, self.now)

    def report(
        self, outcome: Outcome = Outcome.DONE, pain: int | None = 0, rpe: int | None = 4
    ) -> Decision:
        assert self.state.next is not None, "no session planned"
        seq = self.state.next.seq
        at = self.session_time()
        if outcome is Outcome.SKIPPED:
            pain = rpe = None
        d = self.send(SessionReported(seq, outcome, pain, rpe), at)
        self.reported_at[seq] = at
        return d

    def followup(self, seq: int | None = None, **answers: int | bool) -> Decision:
        if seq is None:
            seq = max(self.reported_at)
        full = clear_followup(self.rules, self.state.profile.site_id)
        full.update(answers)
        at = max(self.now, self.reported_at[seq] + FOLLOWUP_AFTER)
        return self.send(FollowupAnswered(seq, full), at)

    def to_next_run(self, limit: int = 30) -> None:
        """Do (all clear) every cross-training or strength session until a run is next."""
        for _ in range(limit):
            if self.next_kind is SessionKind.RUN:
                return
            self.report()
        raise AssertionError("no run within the limit")

    def run(
        self, pain: int = 0, rpe: int = 4, outcome: Outcome = Outcome.DONE, **followup: int | bool
    ) -> tuple[Decision, Decision | None]:
        """Walk to the next run, report it, answer its follow-up (if one opened)."""
        self.to_next_run()
        seq = self.state.next.seq  # type: ignore[union-attr]
        d1 = self.report(outcome, pain, rpe)
        if not any(o.seq == seq for o in self.state.open):
            return d1, None
        return d1, self.followup(seq, **followup)

    @property
    def level_id(self) -> str | None:
        ph = self.rules.protocols[self.state.protocol_id].phase(self.state.phase_id)
        return ph.levels[self.state.level].id if ph.levels else None


# --- the simulator, observed ---------------------------------------------------------------


@dataclass
class Step:
    event: Event
    at: datetime
    before: ProgramState | None
    decision: Decision


@dataclass
class Done:
    """A session the engine accepted as done (or partly done)."""

    seq: int
    day: date
    kind: SessionKind
    phase_id: str
    level_id: str | None
    outcome: Outcome
    pain_during: int | None
    rpe: int | None
    run_s: int = 0
    walk_s: int = 0
    repeats: int = 0
    deload: bool = False


class Recorder(Simulation):
    """A Simulation that keeps every event and decision, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[Step] = []

    def _event(self, ev: Event, at: datetime) -> Decision:
        before = self.state
        d = super()._event(ev, at)
        self.log.append(Step(ev, at, before, d))
        return d

    def go(self) -> Recorder:
        for _ in self.run():
            pass
        return self

    def done(self) -> list[Done]:
        out = []
        for s in self.log:
            ev = s.event
            if not isinstance(ev, SessionReported) or s.decision.stale:
                continue
            if ev.outcome is Outcome.SKIPPED:
                continue
            assert s.before is not None and s.before.next is not None
            rx = s.before.next.prescription
            out.append(
                Done(
                    ev.seq,
                    s.before.next.day,
                    rx.kind,
                    rx.phase_id,
                    rx.level_id,
                    ev.outcome,
                    ev.pain_during,
                    ev.rpe,
                    rx.run_s,
                    rx.walk_s,
                    rx.repeats,
                    rx.deload,
                )
            )
        return out

    def runs(self) -> list[Done]:
        return [d for d in self.done() if d.kind is SessionKind.RUN]

    def all_messages(self) -> list[Message]:
        return [m for s in self.log for m in s.decision.messages]

    def all_actions(self) -> list[tuple[Act, str]]:
        return [(a.act, a.rule) for s in self.log for a in s.decision.actions]
