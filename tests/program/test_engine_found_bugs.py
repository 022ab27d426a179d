"""Engine bugs found while writing this suite: each test pins the fixed behaviour (or the open
design question, as a strict xfail) in terms a runner, coach or clinician would notice."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from program_helpers import D0, Recorder, Runner, acts, messages

from bot.program.calendar import local_instant
from bot.program.decision import Act, MessageKind
from bot.program.engine import decide
from bot.program.events import (
    CoachAction,
    CoachVerb,
    Enrolled,
    GateAnswered,
    RunnerPaused,
    RunnerResumed,
    SessionReported,
)
from bot.program.loader import Rules
from bot.program.recheck import Verdict, recheck
from bot.program.simulate import SimProfile
from bot.program.state import Outcome, Status

LOW = "posteromedial-tibia"


def test_gate_answer_cannot_skip_weeks_since_diagnosis(rules: Rules) -> None:
    """A navicular runner must stay non-weight-bearing until 42 days after diagnosis, even when
    the protection phase's own 28 days are over and a gate answer arrives early."""
    wb = frozenset({"weight_bearing"})
    enrol = Enrolled("navicular", D0, "UTC", time(7), frozenset(range(7)), claimed=wb)
    r = Runner.enrolled(rules, enrol, local_instant(D0, time(6), "UTC"))
    d = r.send(
        GateAnswered("high-cross-training", {"rest_pain_free": True}),
        r.local(D0 + timedelta(days=30), time(8)),
    )
    assert d.stale
    assert r.state.phase_id == "high-protection"
    d = r.send(
        GateAnswered("high-cross-training", {"rest_pain_free": True}),
        r.local(D0 + timedelta(days=42), time(8)),
    )
    # Ready and past the 42 days; the runner's own "cleared" at onboarding is only a request.
    assert r.state.phase_id == "high-protection"
    assert r.state.gate is not None and r.state.gate.awaiting_clearance
    r.send(CoachAction(CoachVerb.CLEAR, 1), r.now + timedelta(hours=1))
    assert r.state.phase_id == "high-cross-training"


def test_gate_answer_cannot_skip_the_last_levels_hold_days(rules: Rules) -> None:
    """cont-45 is held for 28 days before maintenance; three clear sessions are not enough."""
    r = Runner.at(rules, LOW, "low-continuous", 3, clear=3, since=D0 - timedelta(days=10))
    assert r.level_id == "cont-45"
    d = r.send(GateAnswered("low-maintenance", {}), r.now)
    assert d.stale
    assert r.state.phase_id == "low-continuous"


@pytest.mark.parametrize("how", ["runner", "coach-resume", "red-flag-coach-clear"])
def test_gate_is_asked_again_after_a_pause_that_spanned_its_day(rules: Rules, how: str) -> None:
    """A runner paused (or flagged) on the day the run/walk gate was due must be asked again
    after resuming; otherwise they stay in the strength phase forever."""
    now = local_instant(D0, time(6), "UTC")
    d = decide(
        None,
        Enrolled(
            LOW,
            D0 - timedelta(days=30),
            "UTC",
            time(7),
            frozenset(range(7)),
            gate_answers={"rest_pain_free": True, "daily_pain_free": True},
        ),
        rules,
        now,
    )
    (gate,) = messages(d, MessageKind.GATE_CHECK)
    r = Runner(rules, d.state, now)
    if how == "red-flag-coach-clear":
        r.report(pain=8)  # severe pain in a strength session
        assert r.state.status is Status.RED_FLAG
    else:
        r.send(RunnerPaused(), r.now + timedelta(days=1))
    verdict, _ = recheck(r.state, gate.kind, gate.payload, gate.due, rules)
    assert verdict is Verdict.DROP  # the gate's day passes while paused
    back = gate.due + timedelta(days=5)
    if how == "runner":
        d = r.send(RunnerResumed(), back)
    elif how == "coach-resume":
        d = r.send(CoachAction(CoachVerb.RESUME, 1), back)
    else:
        d = r.send(CoachAction(CoachVerb.CLEAR, 1), back)
    assert r.state.status is Status.ACTIVE
    asked = messages(d, MessageKind.GATE_CHECK)
    assert asked, "the gate must be asked again"
    assert asked[0].payload == {"phase": "low-run-walk"}
    assert asked[0].due >= back
    assert recheck(r.state, asked[0].kind, asked[0].payload, asked[0].due, rules)[0] is Verdict.SEND


def test_late_followup_of_a_session_before_a_regress_does_not_count_toward_the_lower_level(
    rules: Rules,
) -> None:
    """Session A at rw-l3 (follow-up answered late), session B at rw-l3 hurts -> back to rw-l2.
    A's late all-clear must not count toward rw-l2's plateau: the runner must do rw-l2 twice."""
    r = Runner.at(rules, LOW, "low-run-walk", 3)
    r.to_next_run()
    a = r.state.next.seq  # type: ignore[union-attr]
    r.report()
    r.to_next_run()
    b = r.state.next.seq  # type: ignore[union-attr]
    d = r.report(pain=4)
    assert (Act.REGRESS, "pain-regress") in acts(d)
    assert r.level_id == "rw-l2"
    d = r.followup(a)  # two days late, all clear
    assert not acts(d, Act.PROGRESS)
    assert r.state.clear_at_level == 0
    r.followup(b)
    _, fu = r.run()
    assert fu is not None and not acts(fu, Act.PROGRESS), "one session at rw-l2 is not the hold"
    assert r.level_id == "rw-l2"
    _, fu = r.run()
    assert fu is not None and acts(fu, Act.PROGRESS)
    assert r.level_id == "rw-l3"


def test_late_followup_of_a_lower_level_session_does_not_count_toward_the_next(
    rules: Rules,
) -> None:
    """The other direction: a session done at rw-l2 whose follow-up comes after the runner
    reached rw-l3 must not count toward rw-l3's plateau."""
    r = Runner.at(rules, LOW, "low-run-walk", 2, clear=1)
    r.to_next_run()
    a = r.state.next.seq  # type: ignore[union-attr]
    r.report()  # at rw-l2, follow-up not yet answered
    r.to_next_run()
    b = r.state.next.seq  # type: ignore[union-attr]
    r.report()  # also at rw-l2
    d = r.followup(b)
    assert acts(d, Act.PROGRESS) and r.level_id == "rw-l3"
    d = r.followup(a)  # late, done at rw-l2
    assert r.state.clear_at_level == 0
    _, fu = r.run()
    assert fu is not None and not acts(fu, Act.PROGRESS)


def test_lifting_a_red_flag_does_not_clear_a_high_risk_site_for_running(rules: Rules) -> None:
    keys = frozenset({"weight_bearing", "strength"})
    r = Runner.at(rules, "navicular", "high-strength", clearances=keys)
    r.report(pain=8)
    assert r.state.status is Status.RED_FLAG
    r.send(CoachAction(CoachVerb.CLEAR, 1), r.now + timedelta(days=2))
    assert r.state.status is Status.ACTIVE
    assert "running" not in r.state.clearances


@pytest.mark.parametrize("at", [time(23, 0), time(23, 30), time(22, 45)])
def test_late_evening_runner_gets_their_sessions_done_in_simulation(rules: Rules, at: time) -> None:
    """`boneload simulate --time 23:30` used to show every session missed: the simulated runner
    reported an hour after the reminder, i.e. after midnight, when the session's day was over."""
    rec = Recorder(rules, SimProfile(LOW, start=D0, days=28, preferred_time=at)).go()
    assert len(rec.done()) >= 20
    assert rec.runs()


def test_session_before_a_same_day_coach_advance_does_not_count_toward_the_new_level(
    rules: Rules,
) -> None:
    """Found by the simulator property: the runner runs rw-l0 at 07:00, the coach advances them
    to rw-l1 at noon; the 24-hour answer for the rw-l0 run must not count toward rw-l1."""
    r = Runner.at(rules, LOW, "low-run-walk", 0)
    r.to_next_run()
    seq = r.state.next.seq  # type: ignore[union-attr]
    r.report()
    r.send(CoachAction(CoachVerb.ADVANCE, 1), r.local(r.today, time(12)))
    assert r.level_id == "rw-l1"
    r.followup(seq)
    assert r.state.clear_at_level == 0
    _, fu = r.run()
    assert fu is not None and not acts(fu, Act.PROGRESS)
    _, fu = r.run()
    assert fu is not None and acts(fu, Act.PROGRESS) and r.level_id == "rw-l2"


def test_simulated_coach_clear_after_a_red_flag_resumes_the_program(rules: Rules) -> None:
    """`--answers` with `coach: {date: clear}` after a red flag did nothing: the simulator stopped
    when the flagged runner's agenda ran empty and applied the coach's word after the end."""
    from bot.program.simulate import Script, SessionAnswers

    base = Recorder(rules, SimProfile(LOW, start=D0, days=30)).go()
    flagged = base.runs()[1].day
    script = Script(
        sessions={flagged.isoformat(): SessionAnswers(followup={"limping": True})},
        coach={flagged + timedelta(days=4): CoachVerb.CLEAR},
    )
    rec = Recorder(rules, SimProfile(LOW, start=D0, days=30), script).go()
    # Flagged by the 24-hour answer the next morning; nothing until the coach's word, then on.
    after = [d for d in rec.done() if d.day > flagged + timedelta(days=1)]
    assert after and min(d.day for d in after) >= flagged + timedelta(days=4)
    assert rec.state is not None and rec.state.status is Status.ACTIVE


def test_coach_pause_does_not_turn_a_red_flag_into_a_pause_the_runner_can_lift(
    rules: Rules,
) -> None:
    """Red flag, then the coach presses 'pause': the runner could then resume on their own, at
    the same level, without any clinician review."""
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.run(pain_night=True)
    assert r.state.status is Status.RED_FLAG
    d = r.send(CoachAction(CoachVerb.PAUSE, 1), r.now + timedelta(hours=1))
    assert r.state.status is Status.RED_FLAG
    assert "coach-kept-stop" in d.rules
    d = r.send(RunnerResumed(), r.now + timedelta(hours=1))
    assert d.stale and r.state.status is Status.RED_FLAG and r.state.next is None


def test_pain_at_24h_reported_during_a_pause_still_regresses(rules: Rules) -> None:
    """Run, pause for a trip, then answer the follow-up with pain: the pain used to be recorded
    as 'stale' and the runner resumed at the same level."""
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    r.to_next_run()
    r.report()
    r.send(RunnerPaused(), r.now + timedelta(hours=2))
    d = r.followup(pain_now=3)
    assert (Act.REGRESS, "pain-regress") in acts(d)
    assert r.level_id == "rw-l1" and r.state.regressions
    assert r.state.status is Status.PAUSED and r.state.next is None
    assert not messages(d, MessageKind.SESSION_REMINDER)
    r.send(RunnerResumed(), r.now + timedelta(days=1))
    r.to_next_run()
    assert r.state.next is not None and r.state.next.prescription.level_id == "rw-l1"


def test_skipping_before_the_reminder_moves_the_session_to_another_day(rules: Rules) -> None:
    """'Skip today' pressed at 06:00 for a 07:00 session planned the same session again for
    07:00 that same day, with a new reminder."""
    r = Runner.at(rules, LOW, "low-run-walk", 2)
    planned = r.state.next
    assert planned is not None and planned.day == D0
    d = r.send(SessionReported(planned.seq, Outcome.SKIPPED), r.local(D0, time(6)))
    assert (Act.MISSED, "missed-slides") in acts(d)
    assert r.state.next is not None and r.state.next.day == D0 + timedelta(days=1)
    assert all(
        m.due >= r.local(D0 + timedelta(days=1), time(0))
        for m in messages(d, MessageKind.SESSION_REMINDER)
    )


def test_a_session_that_changes_kind_gets_a_new_reminder(rules: Rules) -> None:
    """Strength was planned (and its reminder maybe sent) when the run/walk gate passed the
    same morning: the run is a new session with a new reminder, and the old one's buttons are
    stale instead of reporting a strength session as a run."""
    r = Runner.at(rules, LOW, "low-strength", since=D0 - timedelta(days=20))
    old = r.state.next
    assert old is not None and old.prescription.kind.value == "strength"
    gate = rules.protocols["low-risk"].phase("low-run-walk").gate
    d = r.send(GateAnswered("low-run-walk", {q: True for q in gate.questions}), r.now)
    new = r.state.next
    assert r.state.phase_id == "low-run-walk"
    assert new is not None and new.seq != old.seq
    keys = {m.key for m in d.messages}
    assert f"reminder:{new.seq}" in keys
    assert f"reminder:{old.seq}" in d.cancel
    stale = r.send(SessionReported(old.seq, Outcome.DONE, 0, 4), r.now)
    assert stale.stale
