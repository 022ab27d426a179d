"""Only a clinician clears (issue 9): the promise as an engine property.

For random runners (every site, imaging grades, any onboarding answers and claims, any time since
diagnosis) and random streams of *runner-only* events — session reports, follow-ups, gate answers,
pauses and resumes (with "I've been seen" or not), "a clinician cleared me", symptom reports,
settings, missed sessions, time passing, and stale or forged button data (wrong sequence numbers,
phases of other protocols) — nothing the runner does:

- grants a clearance, or passes a gate that needs a clinician (so a site that needs clearance
  never reaches run/walk);
- makes a runner under a red flag or an escalation active again, or plans them a session.

Raise `BONELOAD_HYPOTHESIS_EXAMPLES` (default 100) for a deeper search.
"""

from __future__ import annotations

import os
import random
from datetime import date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import event as hyp_event
from hypothesis import strategies as st
from program_helpers import RULES_DIR, Runner

from bot.program.calendar import local_instant
from bot.program.decision import MessageKind
from bot.program.engine import needs_clearance
from bot.program.events import (
    ClearanceClaimed,
    Enrolled,
    Event,
    FollowupAnswered,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SessionMissed,
    SessionReported,
    SettingsChanged,
    SymptomsReported,
    TimePassed,
)
from bot.program.loader import load_rules
from bot.program.rules import PhaseKind, QuestionStage
from bot.program.state import Outcome, Status

EXAMPLES = int(os.environ.get("BONELOAD_HYPOTHESIS_EXAMPLES", "100"))
PROPS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

RULES = load_rules(RULES_DIR)
SITES = [s.id for s in RULES.sites.sites]
CLEARANCES = sorted(
    {key for p in RULES.protocols.values() for ph in p.phases if (key := ph.gate.clearance_key)}
)
GRADES = [(None, None)] + [
    (system.id, g.id) for system in RULES.sites.imaging_systems for g in system.grades
]
ALL_PHASES = sorted({ph.id for p in RULES.protocols.values() for ph in p.phases})
GATE_QUESTIONS = [q.id for q in RULES.questions.questions if q.stage is QuestionStage.GATE]
FOLLOWUP_QUESTIONS = [q for q in RULES.questions.questions if q.stage is QuestionStage.FOLLOWUP]


def _answers(rng: random.Random, flag: float, hurt: float) -> dict[str, int | bool]:
    out: dict[str, int | bool] = {}
    for q in FOLLOWUP_QUESTIONS:
        if rng.random() < 0.8:  # some questions left unanswered (a flow cut short)
            if q.kind == "yes_no":
                out[q.id] = rng.random() < flag
            else:
                out[q.id] = rng.randint(1, 10) if rng.random() < hurt else 0
    return out


def _runner_event(rng: random.Random, runner: Runner, flag: float, hurt: float) -> Event:
    """One thing a runner (or a forged button press) can do, and nothing a clinician can."""
    st0 = runner.state
    kind = rng.choices(
        [
            "session",
            "followup",
            "gate",
            "time",
            "pause",
            "resume",
            "claim",
            "report",
            "settings",
            "missed",
            "forged",
        ],
        [12, 10, 4, 6, 1, 3, 2, 1, 1, 1, 2],
    )[0]
    if kind == "session" and st0.next is not None:
        outcome = rng.choices(list(Outcome), [8, 1, 1])[0]
        pain = rng.randint(1, 10) if rng.random() < hurt else 0
        return SessionReported(st0.next.seq, outcome, pain, rng.randint(0, 10))
    if kind == "followup" and st0.open:
        return FollowupAnswered(rng.choice([o.seq for o in st0.open]), _answers(rng, flag, hurt))
    if kind == "gate":
        proto = RULES.protocols[st0.protocol_id]
        i = proto.index(st0.phase_id)
        ahead = proto.phases[min(i + 1, len(proto.phases) - 1)]
        # Every answer yes (the eager runner), or a random mix.
        yes = rng.random() < 0.7
        return GateAnswered(ahead.id, {q: yes or rng.random() < 0.5 for q in ahead.gate.questions})
    if kind == "pause":
        return RunnerPaused()
    if kind == "resume":
        return RunnerResumed(clinician_reviewed=rng.random() < 0.7)
    if kind == "claim":
        return ClearanceClaimed()
    if kind == "report":
        return SymptomsReported(_answers(rng, flag * 5, hurt))
    if kind == "settings":
        return SettingsChanged(
            preferred_time=rng.choice([None, time(6, 30), time(19, 0)]),
            available_days=rng.choice([None, frozenset(rng.sample(range(7), rng.randint(2, 7)))]),
        )
    if kind == "missed" and st0.next is not None:
        return SessionMissed(st0.next.seq)
    if kind == "forged":
        # Stale or forged button data: any sequence number, any phase of any protocol.
        seq = rng.randint(-3, st0.seq + 3)
        return rng.choice(
            [
                SessionReported(seq, Outcome.DONE, 0, 3),
                FollowupAnswered(seq, {}),
                SessionMissed(seq),
                GateAnswered(rng.choice(ALL_PHASES), dict.fromkeys(GATE_QUESTIONS, True)),
            ]
        )
    return TimePassed()


@PROPS
@given(st.data())
def test_runner_alone_never_unlocks_a_clinician_gate_or_lifts_a_stop(data: st.DataObject) -> None:
    site_id = data.draw(st.sampled_from(SITES), label="site")
    site = RULES.site(site_id)
    system, grade_id = data.draw(st.sampled_from(GRADES), label="grade")
    grade = RULES.imaging_grade(system, grade_id)
    proto = RULES.protocol_for(site)
    start = data.draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)), label="start")
    tz = data.draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]), label="tz")
    claims = frozenset(data.draw(st.sets(st.sampled_from(CLEARANCES)), label="claims"))
    runner = Runner.enrolled(
        RULES,
        Enrolled(
            site_id,
            start - timedelta(days=data.draw(st.integers(0, 400), label="since diagnosis")),
            tz,
            time(data.draw(st.integers(5, 21)), 0),
            frozenset(data.draw(st.sets(st.integers(0, 6), min_size=2), label="days")),
            imaging_system=system,
            imaging_grade=grade_id,
            claimed=claims,
            gate_answers={q: data.draw(st.booleans()) for q in GATE_QUESTIONS},
        ),
        local_instant(start, time(5), tz),
    )
    # The first phase whose gate only a clinician opens: the runner never gets past it alone.
    locked = next(
        (i for i, ph in enumerate(proto.phases) if i and needs_clearance(ph.gate, site, grade)),
        len(proto.phases),
    )
    run_walk = next(i for i, ph in enumerate(proto.phases) if ph.kind is PhaseKind.RUN_WALK)
    if needs_clearance(proto.phases[run_walk].gate, site, grade):
        assert locked <= run_walk
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    flag = data.draw(st.sampled_from([0.0, 0.01, 0.05]), label="red-flag rate")
    hurt = data.draw(st.sampled_from([0.0, 0.05, 0.2]), label="pain rate")
    stopped = False
    for _ in range(data.draw(st.integers(30, 250), label="steps")):
        ev = _runner_event(rng, runner, flag, hurt)
        at = runner.now + timedelta(hours=rng.choice([0, 1, 5, 20, 30, 50]))
        if isinstance(ev, SessionReported) and runner.state.next is not None:
            at = max(runner.now, runner.local(runner.state.next.day, time(12)))
        if isinstance(ev, SessionMissed) and runner.state.next is not None:
            at = max(runner.now, runner.local(runner.state.next.day + timedelta(days=1), time(0)))
        d = runner.send(ev, at)
        st1 = d.state
        assert st1.clearances == frozenset(), f"{type(ev).__name__} granted {st1.clearances}"
        assert proto.index(st1.phase_id) < locked, f"{type(ev).__name__} opened {st1.phase_id}"
        if stopped:
            assert st1.status.stopped, f"{type(ev).__name__} lifted the stop"
            assert st1.next is None
            assert not any(m.kind is MessageKind.SESSION_REMINDER for m in d.messages)
        if st1.status.stopped and not stopped:
            stopped = True
            hyp_event(f"stopped: {st1.status.value}")
            assert any(m.kind is MessageKind.COACH_ALERT for m in d.messages)
    if stopped:
        assert runner.state.status in (Status.RED_FLAG, Status.ESCALATED)
