"""Sessions per week as a target (`per_week: N` on a level): up to N runs per calendar week
(Monday to Sunday), spread out, where the gap between runs, the rest day and the runner's weekdays
allow. The example is `rules/protocols/brigham-walk-jog.yaml` (3 a week); the simulate test
points `protocol_by_risk.low` at it in a copy of the rules and asks for 2 a week.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from program_helpers import RULES_DIR
from typer.testing import CliRunner

from bot.cli import app
from bot.program.calendar import next_slot
from bot.program.loader import Rules
from bot.program.rules import Phase, SessionKind

BWJ = "brigham-walk-jog"
BWJ_FILE = "protocols/brigham-walk-jog.yaml"
MONDAY = date(2026, 1, 5)
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _walk_jog_phase(rules: Rules, **level_changes: object) -> Phase:
    phase = next(ph for ph in rules.protocols[BWJ].phases if ph.kind.value == "run_walk")
    first = phase.levels[0].model_copy(update=level_changes)
    return phase.model_copy(update={"levels": [first, *phase.levels[1:]]})


def _run_days(
    rules: Rules, phase: Phase, start: date, weeks: int, available: frozenset[int]
) -> list[date]:
    """Every session the calendar plans, each done as planned, for `weeks` weeks."""
    recent: list[tuple[date, SessionKind]] = []
    day, end = start, start + timedelta(weeks=weeks)
    while day < end:
        slot = next_slot(
            phase=phase,
            level=phase.levels[0],
            start=day,
            recent=tuple(recent[-14:]),
            available_days=available,
            impact_free_until=None,
            maintenance_since=None,
            sch=rules.scheduling,
        )
        assert slot is not None
        if slot.day >= end:
            break
        recent.append((slot.day, slot.kind))
        day = slot.day + timedelta(days=1)
    return [d for d, kind in recent if kind is SessionKind.RUN]


def _weekdays(days: list[date]) -> list[str]:
    return [DAYS[d.weekday()] for d in days]


ALL = frozenset(range(7))


def test_two_a_week_are_spread_monday_and_thursday(rules: Rules) -> None:
    runs = _run_days(rules, _walk_jog_phase(rules, per_week=2), MONDAY, 3, ALL)
    assert _weekdays(runs) == ["Mon", "Thu"] * 3


def test_three_a_week_are_monday_wednesday_friday(rules: Rules) -> None:
    runs = _run_days(rules, _walk_jog_phase(rules, per_week=3), MONDAY, 2, ALL)
    assert _weekdays(runs) == ["Mon", "Wed", "Fri"] * 2


def test_a_late_start_in_the_week_still_meets_the_target_when_it_can(rules: Rules) -> None:
    thursday = MONDAY + timedelta(days=3)
    runs = _run_days(rules, _walk_jog_phase(rules, per_week=2), thursday, 1, ALL)
    assert _weekdays(runs)[:2] == ["Thu", "Sun"]


def test_the_runners_weekdays_are_kept(rules: Rules) -> None:
    available = frozenset({0, 1, 2, 5})  # Mon, Tue, Wed, Sat
    runs = _run_days(rules, _walk_jog_phase(rules, per_week=2), MONDAY, 3, available)
    assert set(_weekdays(runs)) <= {"Mon", "Tue", "Wed", "Sat"}
    weeks = [(d - MONDAY).days // 7 for d in runs]
    assert [weeks.count(w) for w in range(3)] == [2, 2, 2]
    assert all((b - a).days >= 3 for a, b in pairwise(runs))


def test_without_a_target_the_calendar_is_unchanged(rules: Rules) -> None:
    # Every other day, with cross-training between, until the rest day in 7 (Sunday here).
    phase = _walk_jog_phase(rules, per_week=None, max_per_week=4)
    runs = _run_days(rules, phase, MONDAY, 2, ALL)
    assert _weekdays(runs) == ["Mon", "Wed", "Fri"] * 2


# --- rules check -----------------------------------------------------------------------------

FIRST_TAIL = "hold_sessions: 2, max_per_week: 3, per_week: 3}"


def _bad_rules(tmp_path: Path, tail: str, min_gap: int | None = None) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    protocol = target / BWJ_FILE
    text = protocol.read_text(encoding="utf-8")
    protocol.write_text(text.replace(FIRST_TAIL, tail, 1), encoding="utf-8")
    if min_gap is not None:
        sch = target / "scheduling.yaml"
        sch_text = sch.read_text(encoding="utf-8")
        sch.write_text(
            sch_text.replace("min_days_between_runs: 2", f"min_days_between_runs: {min_gap}"),
            encoding="utf-8",
        )
    return target


@pytest.mark.parametrize(
    ("tail", "min_gap", "expected"),
    [
        (
            "hold_sessions: 2, max_per_week: 3, per_week: 4}",
            None,
            f"{BWJ_FILE}: phases[2].levels[0]: per_week (4) is above max_per_week (3)",
        ),
        (
            "hold_sessions: 2, max_per_week: 4, per_week: 4}",
            3,
            f"{BWJ_FILE}: phases[2].levels[0].per_week: 4 runs cannot fit in a Monday-Sunday "
            "week with runs 3 days apart (scheduling.yaml min_days_between_runs; at most 3)",
        ),
    ],
)
def test_rules_check_says_when_the_target_cannot_be_met(
    tmp_path: Path, tail: str, min_gap: int | None, expected: str
) -> None:
    res = CliRunner().invoke(app, ["rules", "check", str(_bad_rules(tmp_path, tail, min_gap))])
    assert res.exit_code == 1
    assert expected in " ".join(res.output.split()), res.output


# --- simulate --------------------------------------------------------------------------------


def test_simulate_json_plans_two_runs_a_week(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    protocol = target / BWJ_FILE
    text = protocol.read_text(encoding="utf-8")
    protocol.write_text(text.replace("per_week: 3}", "per_week: 2}"), encoding="utf-8")
    sites = target / "sites.yaml"
    sites.write_text(
        sites.read_text(encoding="utf-8").replace("low: low-risk", f"low: {BWJ}"), encoding="utf-8"
    )
    args = ["simulate", "--rules", str(target), "--days", "84", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    walk_jog = [
        date.fromisoformat(r["date"])
        for r in rows
        if r["session"]["kind"] == "run" and r["session"].get("walk_first")
    ]
    assert len(walk_jog) >= 4
    per_week: dict[date, int] = {}
    for day in walk_jog:
        monday = day - timedelta(days=day.weekday())
        per_week[monday] = per_week.get(monday, 0) + 1
    assert max(per_week.values()) == 2
    assert all((b - a).days >= 3 for a, b in pairwise(walk_jog))
    # Cross-training fills the days between.
    kinds = {r["session"]["kind"] for r in rows if walk_jog[0] <= date.fromisoformat(r["date"])}
    assert "cross_train" in kinds
