"""The 24-hour follow-up decision as the tables in `bot/program/followup.py` (DOMAIN.md §4.4).

Every row of FOLLOWUP and CLIMB is driven here from the runner's side (a session reported, its
follow-up answered) and checked by what the decision does and the rule it names; a test fails if a
row is added without a story for it. The tables are also complete: every situation finds a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from itertools import product

import pytest
from program_helpers import D0, Runner, acts, clear_followup

from bot.program.decision import Act, Decision, MessageKind
from bot.program.events import (
    CoachAction,
    CoachVerb,
    FollowupAnswered,
    RunnerPaused,
    SymptomsReported,
)
from bot.program.followup import (
    CLIMB,
    FOLLOWUP,
    Check,
    Climb,
    RunnerStatus,
    Situation,
    decide_climb,
    decide_followup,
)
from bot.program.loader import Rules
from bot.program.rules import SessionKind, Severity
from bot.program.state import OpenSession, Status

LOW = "posteromedial-tibia"

# Each story: (what the follow-up decision must contain, the story) -> the follow-up decision.
Story = Callable[[Rules], tuple[Decision, Runner]]


def _on_ladder(rules: Rules, level: int = 2, clear: int = 1, **over: object) -> Runner:
    return Runner.at(rules, LOW, "low-run-walk", level, clear=clear, **over)  # type: ignore[arg-type]


def _red_flag(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules)
    _, fu = r.run(pain_night=True)
    assert fu is not None
    return fu, r


def _stopped(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules)
    r.to_next_run()
    r.report()
    # A stop closes the open checks (a /pain red flag here): the late answer is stale...
    before = r.state
    r.send(SymptomsReported({"pain_rest": True}), r.now + timedelta(hours=2))
    assert r.state.status is Status.RED_FLAG and not r.state.open
    assert acts(r.followup()) == [(Act.STALE, "stale-input-ignored")]
    # ...and a check still open under a stop (a state stored before stops closed them) is
    # recorded, and nothing moves.
    r.state = before.evolve(status=Status.ESCALATED)
    return r.followup(), r


def _paused(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules)
    r.to_next_run()
    r.report(pain=1)
    r.send(RunnerPaused(), r.now + timedelta(hours=2))
    return r.followup(), r


def _watch(pain_now: int) -> Story:
    def story(rules: Rules) -> tuple[Decision, Runner]:
        r = Runner.at(rules, LOW, "low-strength")
        r.report()  # a strength session: the red-flag check before running is asked
        assert any(o.watch for o in r.state.open)
        return r.followup(pain_now=pain_now), r

    return story


def _already_regressed(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules)
    report, fu = r.run(pain=4)  # regressed at once, at report time
    assert (Act.REGRESS, "pain-regress") in acts(report)
    assert fu is not None
    return fu, r


def _followup_with(**answers: int | bool) -> Story:
    def story(rules: Rules) -> tuple[Decision, Runner]:
        r = _on_ladder(rules)
        _, fu = r.run(**answers)  # type: ignore[arg-type]
        assert fu is not None
        return fu, r

    return story


def _before_level_changed(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules)
    r.to_next_run()
    r.report()
    r.send(CoachAction(CoachVerb.REGRESS, 42), r.now + timedelta(hours=1))  # the same day
    return r.followup(), r


def _no_ladder(rules: Rules) -> tuple[Decision, Runner]:
    # A run's follow-up still open while the runner is in a phase without a ladder (a state
    # written before a rules change): it counts toward nothing.
    r = Runner.at(rules, LOW, "low-strength")
    opened = OpenSession(99, r.today, SessionKind.RUN, r.now, Severity.CLEAR, Severity.CLEAR)
    r.state = r.state.evolve(open=(opened,))
    full = clear_followup(rules, LOW)
    return r.send(FollowupAnswered(99, full), r.now + timedelta(hours=24)), r


def _hold_not_reached(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules, clear=0)
    _, fu = r.run()
    assert fu is not None
    return fu, r


def _deload_week(rules: Rules) -> tuple[Decision, Runner]:
    # Loading began 22 days ago: the follow-up falls in the 4th week, a deload week.
    r = _on_ladder(rules, loading_since=D0 - timedelta(days=22))
    _, fu = r.run()
    assert fu is not None
    return fu, r


def _top_of_ladder(rules: Rules) -> tuple[Decision, Runner]:
    r = _on_ladder(rules, level=6)
    _, fu = r.run()
    assert fu is not None
    return fu, r


# row name -> (story, (act, rule) the follow-up decision must contain, level id after)
STORIES: dict[str, tuple[Story, tuple[Act, str], str | None]] = {
    "red-flag-stops": (_red_flag, (Act.RED_FLAG, "red-flag-stop"), "rw-l2"),
    "stopped-noted": (_stopped, (Act.RECORD, "stale-input-ignored"), "rw-l2"),
    "paused-noted": (_paused, (Act.RECORD, "stale-input-ignored"), "rw-l2"),
    "watch-pain-steps-back": (_watch(2), (Act.REGRESS, "pain-regress"), None),
    "watch-noted": (_watch(0), (Act.RECORD, "watch-every-phase"), None),
    "already-regressed": (_already_regressed, (Act.HOLD, "pain-regress"), "rw-l1"),
    "pain-regresses": (_followup_with(pain_now=1), (Act.REGRESS, "pain-regress"), "rw-l1"),
    "mild-holds": (_followup_with(pain=2), (Act.HOLD, "mild-hold"), "rw-l2"),
    "clear-counts": (_followup_with(), (Act.PROGRESS, "progress-after-hold"), "rw-l3"),
    "clear-before-level-changed": (
        _before_level_changed,
        (Act.HOLD, "progress-after-hold"),
        "rw-l1",
    ),
    "no-ladder-holds": (_no_ladder, (Act.HOLD, "progress-after-hold"), None),
    "hold-not-reached": (_hold_not_reached, (Act.HOLD, "progress-after-hold"), "rw-l2"),
    "deload-week-holds": (_deload_week, (Act.HOLD, "build-deload-every-4th-week"), "rw-l2"),
    # No gate questions and the clearance given: straight into continuous running.
    "top-asks-next-gate": (_top_of_ladder, (Act.ADVANCE_PHASE, "gate-low-continuous"), "cont-30"),
    "step-up": (_followup_with(), (Act.PROGRESS, "progress-after-hold"), "rw-l3"),
}


def test_every_row_of_both_tables_has_a_story() -> None:
    names = [row.name for row in (*FOLLOWUP, *CLIMB)]
    assert len(names) == len(set(names)), "row names are unique"
    assert set(names) == set(STORIES)


@pytest.mark.parametrize("name", list(STORIES))
def test_each_row_as_the_runner_meets_it(rules: Rules, name: str) -> None:
    story, expected, level_after = STORIES[name]
    fu, r = story(rules)
    assert expected in acts(fu)
    assert r.level_id == level_after
    assert len(acts(fu, Act.PROGRESS)) + len(acts(fu, Act.REGRESS)) <= 1


def test_rows_say_what_the_runner_sees(rules: Rules) -> None:
    fu, r = _stopped(rules)
    assert r.state.status is Status.ESCALATED, "a stopped runner's answers: noted only"
    assert not fu.messages
    fu, r = _paused(rules)
    assert r.state.status is Status.PAUSED and r.state.clear_at_level == 1
    fu, r = _top_of_ladder(rules)
    assert (Act.HOLD, "progress-after-hold") in acts(fu)
    assert any(a.detail.get("reason") == "top of ladder" for a in fu.actions)
    fu, r = _hold_not_reached(rules)
    notices = [m.payload for m in fu.messages if m.kind is MessageKind.RUNNER_NOTICE]
    assert any(n["code"] == "holding" and n["clear"] == 1 and n["needed"] == 2 for n in notices)


def test_every_situation_finds_a_row() -> None:
    for check, runner, severity, applied, counts in product(
        Check, RunnerStatus, Severity, (False, True), (False, True)
    ):
        row = decide_followup(Situation(check, runner, severity, applied, counts))
        if severity is Severity.RED_FLAG:
            assert row.name == "red-flag-stops", "a red flag acts in every situation"
    for flags in product((False, True), repeat=4):
        decide_climb(Climb(*flags))


def test_the_table_is_what_the_engine_reads(rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing a row changes the engine: a mild answer made to regress, by the table alone."""
    import bot.program.followup as followup

    rows = tuple(
        replace(row, do=followup.Do.REGRESS, rule="regress") if row.name == "mild-holds" else row
        for row in followup.FOLLOWUP
    )
    monkeypatch.setattr(followup, "FOLLOWUP", rows)
    followup.followup_row.cache_clear()
    try:
        fu, r = _followup_with(pain=2)(rules)
        assert (Act.REGRESS, "pain-regress") in acts(fu) and r.level_id == "rw-l1"
    finally:
        monkeypatch.undo()
        followup.followup_row.cache_clear()


def test_one_painful_strength_session_is_one_regression(rules: Rules) -> None:
    r = Runner.at(rules, LOW, "low-strength")
    report = r.report(pain=4)
    assert (Act.REGRESS, "pain-regress") in acts(report)
    fu = r.followup()
    assert not acts(fu, Act.REGRESS) and r.state.status is Status.ACTIVE
    assert len(r.state.regressions) == 1
