"""What the engine tells a runner when a step back escalates, and when a coach's Regress has
nowhere lower to go (issue 12): one coherent notice, never a move that did not happen."""

from __future__ import annotations

from datetime import timedelta

from program_helpers import Runner, messages

from bot.program.decision import Decision, MessageKind
from bot.program.events import CoachAction, CoachVerb, RunnerPaused
from bot.program.loader import Rules
from bot.program.state import Status

LOW = "posteromedial-tibia"


def codes(d: Decision) -> list[str]:
    return [str(m.payload["code"]) for m in messages(d, MessageKind.RUNNER_NOTICE)]


def test_a_step_back_that_escalates_sends_the_escalation_only_with_its_reason(
    rules: Rules,
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 3)
    _, first = r.run(pain_now=2)
    assert first is not None and codes(first) == ["regressed"]
    _, second = r.run(pain_now=2)
    assert second is not None and r.state.status is Status.ESCALATED
    assert codes(second) == ["escalated"], "not 'back to level N' and then 'running is paused'"
    (notice,) = messages(second, MessageKind.RUNNER_NOTICE)
    assert notice.payload["rules"] == ["repeat-regress-escalate", "regress-pain-24h"]


def test_a_coach_regress_at_the_first_level_is_said_as_a_hold(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 1)
    d = r.send(CoachAction(CoachVerb.REGRESS, 42), r.now + timedelta(hours=1))
    assert codes(d) == ["coach_regress"] and r.state.level == 0
    d = r.send(CoachAction(CoachVerb.REGRESS, 42), r.now + timedelta(hours=1))
    assert codes(d) == ["coach_regress_bottom"] and r.state.level == 0
    assert r.state.status is Status.ACTIVE


def test_a_coach_regress_in_a_phase_without_levels_is_said_as_a_hold(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-strength", 0)
    d = r.send(CoachAction(CoachVerb.REGRESS, 42), r.now + timedelta(hours=1))
    assert codes(d) == ["coach_regress_bottom"]
    assert messages(d, MessageKind.RUNNER_NOTICE)[0].payload["level"] is None


def test_a_coach_regress_at_the_bottom_of_a_paused_runner_does_not_resume_them(
    rules: Rules,
) -> None:
    r = Runner.at(rules, LOW, "low-run-walk", 0)
    r.send(RunnerPaused(), r.now + timedelta(hours=1))
    assert r.state.status is Status.PAUSED
    d = r.send(CoachAction(CoachVerb.REGRESS, 42), r.now + timedelta(hours=1))
    assert codes(d) == ["coach_regress_bottom"]
    assert r.state.status is Status.PAUSED and r.state.next is None
