"""Properties over random runners and random answer streams (issue 2, 'Properties').

Each example is one runner (random site, weekdays, preferred time, timezone with or without DST,
start date, diagnosis date, onboarding answers, withheld clearances, a few coach actions) who
answers every session at random (done / partly / skipped, pain 0-10, RPE 0-10, random follow-up
answers). The whole run is driven through `Simulation` and every decision is checked.

A second test feeds `decide` events in any order (late, out-of-order or repeated follow-ups,
pauses, settings changes, stray gate answers, coach actions at any moment) and checks the same.
Raise `BONELOAD_HYPOTHESIS_EXAMPLES` (default 100) for a deeper search.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import event as hyp_event
from hypothesis import strategies as st
from program_helpers import RULES_DIR, Recorder, Runner, Step, ladder_position, position

from bot.program.calendar import local_date, local_instant
from bot.program.codec import state_from_dict, state_to_dict
from bot.program.decision import Act, MessageKind
from bot.program.events import (
    CoachAction,
    CoachVerb,
    Enrolled,
    Event,
    FollowupAnswered,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SessionMissed,
    SessionReported,
    SettingsChanged,
    TimePassed,
)
from bot.program.loader import Rules, load_rules
from bot.program.rules import QuestionStage, SessionKind, Severity
from bot.program.simulate import Answerer, Script, SessionAnswers, SimProfile
from bot.program.state import Outcome, ProgramState, Status

EXAMPLES = int(os.environ.get("BONELOAD_HYPOTHESIS_EXAMPLES", "100"))
PROPS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RULES = load_rules(RULES_DIR)  # strategies are built at import time, before any fixture
SITES = [s.id for s in RULES.sites.sites]
ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
]
CLEARANCES = sorted(
    {key for p in RULES.protocols.values() for ph in p.phases if (key := ph.gate.clearance_key)}
)


@dataclass(frozen=True)
class Mood:
    """How one random runner tends to answer."""

    seed: int
    skip: float
    partial: float
    pain: float
    flag: float


def answerer(mood: Mood, rules: Rules) -> Answerer:
    rng = random.Random(mood.seed)

    def answer(seq: int, day: date, state: ProgramState) -> SessionAnswers:
        x = rng.random()
        if x < mood.skip:
            return SessionAnswers(outcome=Outcome.SKIPPED)
        outcome = Outcome.PARTIAL if x < mood.skip + mood.partial else Outcome.DONE
        pain = rng.randint(0, 10) if rng.random() < mood.pain else 0
        followup: dict[str, int | bool] = {}
        site = rules.site(state.profile.site_id)
        for q in rules.questions_for(QuestionStage.FOLLOWUP, site):
            if q.kind == "yes_no":
                if rng.random() < mood.flag:
                    followup[q.id] = True
            elif rng.random() < mood.pain:
                followup[q.id] = rng.randint(q.min, q.max)
        return SessionAnswers(
            outcome=outcome, pain_during=pain, rpe=rng.randint(0, 10), followup=followup
        )

    return answer


def _run_walk_phase(site_id: str) -> str:
    proto = RULES.protocol_for(RULES.site(site_id))
    return next(ph.id for ph in proto.phases if ph.runs)


@st.composite
def runners(draw: st.DrawFn) -> tuple[SimProfile, Script, Mood]:
    site = draw(st.sampled_from(SITES))
    seed = draw(st.integers(0, 2**32))
    start = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    profile = SimProfile(
        site_id=site,
        start=start,
        days=draw(st.integers(45, 200)),
        timezone=draw(st.sampled_from(ZONES)),
        preferred_time=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45, 59]))),
        available_days=frozenset(draw(st.sets(st.integers(0, 6), min_size=2))),
        diagnosis_date=start - timedelta(days=draw(st.integers(0, 120))),
        onboarding_yes=draw(st.booleans()),
    )
    coach = draw(
        st.dictionaries(
            st.dates(start, start + timedelta(days=profile.days)),
            st.sampled_from(list(CoachVerb)),
            max_size=2,
        )
    )
    script = Script(
        withhold_clearance=draw(st.lists(st.sampled_from(CLEARANCES), unique=True, max_size=2)),
        coach=coach,
        # One runner in ten keeps answering "not yet" to the run/walk gate.
        gates={_run_walk_phase(site): {"brisk_walk_30": False}}
        if random.Random(seed).random() < 0.1
        else {},
    )
    mood = Mood(
        seed=seed,
        skip=draw(st.sampled_from([0.0, 0.05, 0.2])),
        partial=draw(st.sampled_from([0.0, 0.05, 0.2])),
        pain=draw(st.sampled_from([0.0, 0.05, 0.15, 0.4])),
        flag=draw(st.sampled_from([0.0, 0.002, 0.01])),
    )
    return profile, script, mood


def simulate(profile: SimProfile, script: Script, mood: Mood) -> Recorder:
    rec = Recorder(RULES, profile, script, answerer=answerer(mood, RULES))
    return rec.go()


def _is_coach(step: Step) -> bool:
    return isinstance(step.event, CoachAction)


# --- the properties ----------------------------------------------------------------------------


def check_days(sessions: list[tuple[date, bool]]) -> None:
    """(day, is a run) of every session done: one a day, runs apart, a rest day in any 7."""
    days = [d for d, _ in sessions]
    assert len(set(days)) == len(days), "one session a day"
    runs = sorted(d for d, run in sessions if run)
    gap = RULES.scheduling.min_days_between_runs
    for a, b in pairwise(runs):
        assert (b - a).days >= gap, f"runs on {a} and {b}"
    trained = set(days)
    for d in trained:
        assert not all(d + timedelta(days=i) in trained for i in range(7)), f"7 days from {d}"


def check_calendar(rec: Recorder) -> None:
    """No two run days in a row; a rest day in every 7; no run in the rest days after a regress;
    runs only on the runner's days and never more than the level allows in 7 days."""
    done = rec.done()
    check_days([(d.day, d.kind is SessionKind.RUN) for d in done])
    runs = sorted(d.day for d in done if d.kind is SessionKind.RUN)
    for d in done:
        assert d.day.weekday() in rec.p.available_days
    for d in runs:
        in_week = [x for x in runs if d <= x < d + timedelta(days=7)]
        assert len(in_week) <= 4
    rest = RULES.symptoms.actions.regress.rest_days
    for s in rec.log:
        for a in s.decision.actions:
            if a.act is Act.REGRESS and a.rule == RULES.symptoms.actions.regress.id:
                on = local_date(s.at, rec.p.timezone)
                banned = {on + timedelta(days=i) for i in range(1, rest + 1)}
                assert not banned & set(runs), f"a run within {rest} days of the regress on {on}"


ALL_RULE_IDS = RULES.all_rule_ids()


def check_decisions(rec: Recorder) -> None:
    site = RULES.site(rec.p.site_id)
    for s in rec.log:
        d = s.decision
        assert d.rules, f"{type(s.event).__name__} decided without naming a rule"
        assert set(d.rules) <= ALL_RULE_IDS, d.rules
        st_ = d.state
        proto = RULES.protocols[st_.protocol_id]
        phase = proto.phase(st_.phase_id)
        # A clearance site never reaches a run phase without the running clearance.
        if phase.runs and site.needs_clearance:
            assert "running" in st_.clearances, (st_.phase_id, st_.clearances)
        # Paused, flagged or escalated: no session on the calendar, no reminder sent.
        if st_.status is not Status.ACTIVE:
            assert st_.next is None
            assert not [m for m in d.messages if m.kind is MessageKind.SESSION_REMINDER]
        # A run is only ever prescribed in a run phase, at the level the runner is on.
        if st_.next is not None and st_.next.prescription.kind is SessionKind.RUN:
            assert phase.runs
            assert st_.next.prescription.level_id == phase.levels[st_.level].id
        # Every state survives the database.
        as_dict = state_to_dict(st_)
        assert state_from_dict(json.loads(json.dumps(as_dict))) == st_
        # Sessions are only accepted while the program is active.
        if isinstance(s.event, SessionReported) and not d.stale:
            assert s.before is not None and s.before.status is Status.ACTIVE


def check_clearance_withheld(rec: Recorder, script: Script) -> None:
    """Without any coach action, a withheld running clearance means never running."""
    site = RULES.site(rec.p.site_id)
    if "running" in script.withhold_clearance and not script.coach and site.needs_clearance:
        assert not [d for d in rec.done() if d.kind is SessionKind.RUN]


def check_levels(rec: Recorder) -> None:
    """Level moves by at most one rung per decision, except by a coach; a move up only after the
    level's hold of clear sessions (done at that level, since arriving there) is met again."""
    proto = RULES.protocols[rec.state.protocol_id]  # type: ignore[union-attr]
    sessions: dict[int, tuple[int, bool]] = {}  # seq -> (ladder position done at, clear report)
    clear_here = 0
    arrived = rec.p.start
    exempt = False
    for s in rec.log:
        if s.before is None:
            continue
        before, after = s.before, s.decision.state
        p0, p1 = position(RULES, before), position(RULES, after)
        ev = s.event
        if isinstance(ev, SessionReported) and not s.decision.stale:
            assert before.next is not None
            rx = before.next.prescription
            here = ladder_position(proto, rx.phase_id, phase_level(rx.phase_id, rx.level_id))
            clear = ev.outcome is Outcome.DONE and (ev.pain_during or 0) == 0 and (ev.rpe or 0) < 7
            sessions[ev.seq] = (here, clear and rx.kind is SessionKind.RUN)
        if isinstance(ev, FollowupAnswered) and not s.decision.stale and ev.seq in sessions:
            here, clear = sessions.pop(ev.seq)
            followup_clear = all(not v for v in ev.answers.values())
            if clear and followup_clear and here == p0:
                clear_here += 1
        if _is_coach(s):
            exempt = True
        else:
            assert abs(p1 - p0) <= 1, f"{type(ev).__name__} moved {p0} -> {p1}"
        if any(a.act in (Act.RED_FLAG, Act.REGRESS) for a in s.decision.actions):
            clear_here = 0
        if p1 > p0 and not _is_coach(s):
            ph = proto.phase(before.phase_id)
            if ph.runs and not exempt:
                lv = ph.levels[before.level]
                assert clear_here >= lv.hold_sessions, (
                    f"progressed from {lv.id} after {clear_here} clear sessions"
                )
                today = local_date(s.at, rec.p.timezone)
                assert (today - arrived).days >= lv.hold_days
        if p1 != p0:
            clear_here = 0
            arrived = local_date(s.at, rec.p.timezone)
            exempt = False


def phase_level(phase_id: str, level_id: str | None) -> int:
    for proto in RULES.protocols.values():
        for ph in proto.phases:
            if ph.id == phase_id:
                return next((i for i, lv in enumerate(ph.levels) if lv.id == level_id), 0)
    raise KeyError(phase_id)


def check_red_flags(rec: Recorder) -> None:
    """A red-flag answer always pauses the program and alerts the coach, in that decision."""
    for s in rec.log:
        ev = s.event
        if isinstance(ev, FollowupAnswered) and not s.decision.stale:
            yes = [k for k, v in ev.answers.items() if v is True]
            if yes:
                assert s.decision.state.status is Status.RED_FLAG
                assert any(
                    m.kind is MessageKind.COACH_ALERT and m.payload["reason"] == "red_flag"
                    for m in s.decision.messages
                )
        if isinstance(ev, SessionReported) and not s.decision.stale and (ev.pain_during or 0) >= 7:
            assert s.decision.state.status is Status.RED_FLAG


@PROPS
@given(runners())
def test_random_runners_keep_every_rule(runner: tuple[SimProfile, Script, Mood]) -> None:
    profile, script, mood = runner
    rec = simulate(profile, script, mood)
    assert rec.state is not None
    check_calendar(rec)
    check_decisions(rec)
    check_levels(rec)
    check_red_flags(rec)
    check_clearance_withheld(rec, script)


@PROPS
@given(runners())
def test_same_input_same_output(runner: tuple[SimProfile, Script, Mood]) -> None:
    profile, script, mood = runner
    a = simulate(profile, script, mood)
    b = simulate(profile, script, mood)
    assert [(s.event, s.at, s.decision) for s in a.log] == [
        (s.event, s.at, s.decision) for s in b.log
    ]


@PROPS
@given(runners())
def test_all_clear_runner_only_ever_holds_or_progresses(
    runner: tuple[SimProfile, Script, Mood],
) -> None:
    """With nothing but clear answers and no coach, nothing regresses, flags or escalates."""
    profile, script, _ = runner
    script = Script(withhold_clearance=script.withhold_clearance)
    rec = Recorder(RULES, profile, script).go()
    for s in rec.log:
        for a in s.decision.actions:
            assert a.act not in (Act.REGRESS, Act.RED_FLAG, Act.ESCALATE), a
            if a.act is Act.RECORD and "severity" in a.detail:
                assert a.detail["severity"] == Severity.CLEAR.value
        assert s.decision.state.status is Status.ACTIVE
    check_calendar(rec)
    check_levels(rec)


# --- any order of events, straight through decide ----------------------------------------------
#
# The simulator answers every follow-up on time and never pauses. Real runners answer late, out of
# order or twice, pause, change their settings, press old buttons; coaches act at any moment.


@dataclass
class Tracked:
    """What the oracle knows of a session it saw accepted."""

    position: int
    day: date
    clear: bool
    run: bool


@PROPS
@given(st.data())
def test_random_event_orders_keep_every_rule(data: st.DataObject) -> None:
    site_id = data.draw(st.sampled_from(SITES), label="site")
    site = RULES.site(site_id)
    proto = RULES.protocol_for(site)
    tz = data.draw(st.sampled_from(ZONES), label="tz")
    pref = time(data.draw(st.integers(0, 22)), data.draw(st.sampled_from([0, 30])))
    days = frozenset(data.draw(st.sets(st.integers(0, 6), min_size=2), label="days"))
    start = data.draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)), label="start")
    gate_qs = [q.id for q in RULES.questions.questions if q.stage is QuestionStage.GATE]
    clearances = frozenset(data.draw(st.sets(st.sampled_from(CLEARANCES)), label="clearances"))
    if data.draw(st.booleans(), label="start on the ladder"):
        ladder = [(ph.id, j) for ph in proto.phases for j in range(len(ph.levels))]
        phase_id, level = data.draw(st.sampled_from(ladder), label="rung")
        runner = Runner.at(
            RULES,
            site_id,
            phase_id,
            level,
            day=start,
            tz=tz,
            pref=pref,
            days=days,
            clearances=clearances | {"running"},
            maintenance_since=start - timedelta(days=data.draw(st.integers(0, 100))),
        )
    else:
        runner = Runner.enrolled(
            RULES,
            Enrolled(
                site_id,
                start - timedelta(days=data.draw(st.integers(0, 200), label="since diagnosis")),
                tz,
                pref,
                days,
                claimed=clearances,
                gate_answers={q: data.draw(st.booleans()) for q in gate_qs},
            ),
            local_instant(start, time(5), tz),
        )
    # How this runner and their coach behave: mostly well, some of them not.
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    hurt = data.draw(st.sampled_from([0.0, 0.03, 0.12]), label="pain rate")
    flag = data.draw(st.sampled_from([0.0, 0.003, 0.02]), label="red-flag rate")
    weights = {
        "session": 12,
        "followup": 10,
        "time": 4,
        "gate": 2,
        "missed": 1,
        "settings": 1,
        "coach": data.draw(st.sampled_from([0, 0.05, 0.5]), label="coach rate"),
        "pause": data.draw(st.sampled_from([0, 0.05, 0.5]), label="pause rate"),
        "resume": 1,
    }
    kinds, w = list(weights), list(weights.values())
    tracked: dict[int, Tracked] = {}
    accepted: list[Tracked] = []
    clear_here = 0
    arrived = runner.today
    exempt = False
    fu_qs = RULES.questions_for(QuestionStage.FOLLOWUP, site)
    for _ in range(data.draw(st.integers(20, 150), label="steps")):
        st0 = runner.state
        kind = rng.choices(kinds, w)[0]
        ev: Event
        at = runner.now
        if kind == "session" and st0.next is not None:
            day = max(st0.next.day, runner.today)
            at = max(runner.now, runner.local(day, pref)) + timedelta(minutes=rng.randint(0, 180))
            outcome = rng.choices(list(Outcome), [8, 1, 1])[0]
            pain = rng.randint(1, 10) if rng.random() < hurt else 0
            ev = SessionReported(st0.next.seq, outcome, pain, rng.randint(0, 10))
        elif kind == "followup" and st0.open:
            seq = rng.choice([o.seq for o in st0.open])
            answers: dict[str, int | bool] = {}
            for q in fu_qs:
                if q.kind == "yes_no":
                    answers[q.id] = rng.random() < flag
                else:
                    answers[q.id] = rng.randint(1, 4) if rng.random() < hurt else 0
            at = runner.now + timedelta(hours=rng.randint(0, 30))
            ev = FollowupAnswered(seq, answers)
        elif kind == "gate":
            i = proto.index(st0.phase_id)
            ahead = proto.phases[min(i + 1, len(proto.phases) - 1)]
            ev = GateAnswered(ahead.id, {q: rng.random() < 0.85 for q in ahead.gate.questions})
        elif kind == "coach":
            ev = CoachAction(rng.choice(list(CoachVerb)), 7)
        elif kind == "pause":
            ev = RunnerPaused()
        elif kind == "resume":
            ev = RunnerResumed(clinician_reviewed=rng.random() < 0.5)
        elif kind == "settings":
            ev = SettingsChanged(
                preferred_time=rng.choice([None, time(6, 30), time(19, 0)]),
                available_days=rng.choice(
                    [None, frozenset(rng.sample(range(7), rng.randint(2, 7)))]
                ),
            )
        elif kind == "missed" and st0.next is not None:
            ev = SessionMissed(st0.next.seq)
            at = max(runner.now, runner.local(st0.next.day + timedelta(days=1), time(0)))
        else:
            ev = TimePassed()
            at = runner.now + timedelta(hours=rng.randint(1, 50))
        d = runner.send(ev, at)
        st1 = d.state
        p0, p1 = position(RULES, st0), position(RULES, st1)
        # Every state survives the database; every decision names known rules.
        assert state_from_dict(json.loads(json.dumps(state_to_dict(st1)))) == st1
        assert set(d.rules) <= ALL_RULE_IDS
        if d.stale:
            assert st1 == st0 and not d.messages
        if st1.status is not Status.ACTIVE:
            assert st1.next is None
        if proto.phase(st1.phase_id).runs and site.needs_clearance:
            assert "running" in st1.clearances
        # The oracle of the plateau: clear sessions done at this rung since arriving on it.
        if isinstance(ev, SessionReported) and not d.stale and ev.outcome is not Outcome.SKIPPED:
            assert st0.next is not None
            rx = st0.next.prescription
            tracked[ev.seq] = Tracked(
                ladder_position(proto, rx.phase_id, phase_level(rx.phase_id, rx.level_id)),
                st0.next.day,
                ev.outcome is Outcome.DONE and ev.pain_during == 0 and (ev.rpe or 0) < 7,
                rx.kind is SessionKind.RUN,
            )
            accepted.append(tracked[ev.seq])
        if isinstance(ev, FollowupAnswered) and not d.stale and ev.seq in tracked:
            t = tracked.pop(ev.seq)
            ok = t.clear and t.run and all(not v for v in ev.answers.values())
            if ok and t.position == p0 and t.day >= arrived:
                clear_here += 1
        coach = isinstance(ev, CoachAction)
        if coach:
            exempt = True
        else:
            assert abs(p1 - p0) <= 1, f"{type(ev).__name__} moved {p0} -> {p1}"
        if any(a.act in (Act.RED_FLAG, Act.REGRESS) for a in d.actions):
            clear_here = 0
        if p1 > p0 and not coach and proto.phase(st0.phase_id).runs and not exempt:
            lv = proto.phase(st0.phase_id).levels[st0.level]
            assert clear_here >= lv.hold_sessions, f"left {lv.id} after {clear_here} clear"
            hyp_event("checked a progression")
        if p1 != p0:
            clear_here, arrived, exempt = 0, runner.today, False
    # The calendar, from the sessions the engine accepted.
    check_days([(t.day, t.run) for t in accepted])
