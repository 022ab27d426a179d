"""The pure parts of issue 12: the road ahead (phases, plateaus, the typical range: the grade's,
else the site's, else the file's; always a range with a source) and when "Later today" falls
(never into quiet hours, never tomorrow). Plus the rules' validation of typical ranges."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.program.calendar import local_instant
from bot.program.loader import Rules, RulesError, load_rules
from bot.program.road import road, typical_range
from bot.program.rules import Typical
from bot.program.snooze import later_today
from bot.program.state import Profile, ProgramState

BERLIN = "Europe/Berlin"


def _state(rules: Rules, site_id: str, **profile: Any) -> ProgramState:
    proto = rules.protocol_for(rules.site(site_id))
    p = Profile(site_id, date(2026, 1, 5), BERLIN, time(7, 0), frozenset(range(6)), **profile)
    return ProgramState(
        profile=p,
        protocol_id=proto.id,
        phase_id=proto.phases[0].id,
        level=0,
        phase_since=date(2026, 1, 5),
        level_since=date(2026, 1, 5),
    )


def test_every_range_is_a_range_with_a_source(rules: Rules) -> None:
    ranges: list[Typical] = [s.typical for s in rules.sites.sites if s.typical is not None]
    for system in rules.sites.imaging_systems:
        ranges += [g.typical_weeks for g in system.grades if g.typical_weeks is not None]
    assert rules.sites.typical is not None
    ranges.append(rules.sites.typical)
    assert len(ranges) > 10
    assert all(t.min_weeks < t.max_weeks and "DOMAIN" in t.source for t in ranges)


def test_the_grade_wins_over_the_site_and_the_file_is_the_fallback(rules: Rules) -> None:
    site = _state(rules, "posteromedial-tibia")
    t, from_grade = typical_range(site, rules)
    assert (t is not None, from_grade) == (True, False)
    assert (t.min_weeks, t.max_weeks) == (4, 9) and "Hoenig 2023" in t.source
    graded = _state(rules, "posteromedial-tibia", imaging_system="fredericson", imaging_grade="2")
    t, from_grade = typical_range(graded, rules)
    assert from_grade and t is not None and (t.min_weeks, t.max_weeks) == (4, 6)
    # A grade without a published range (Kaeding-Miller IV) keeps the site's.
    ungraded = _state(rules, "navicular", imaging_system="kaeding-miller", imaging_grade="IV")
    t, from_grade = typical_range(ungraded, rules)
    assert not from_grade and t is not None and (t.min_weeks, t.max_weeks) == (15, 22)
    # A site without its own range gets the file's general one; a grade no longer in the
    # rules is ignored.
    talus = _state(rules, "talus", imaging_system="gone", imaging_grade="9")
    assert typical_range(talus, rules) == (rules.sites.typical, False)


def test_road_lists_phases_in_order_and_counts_plateaus(rules: Rules) -> None:
    state = _state(rules, "posteromedial-tibia")
    proto = rules.protocols[state.protocol_id]
    runs = next(i for i, ph in enumerate(proto.phases) if ph.levels)
    at = replace(state, phase_id=proto.phases[runs].id, level=2)
    r = road(at, rules, date(2026, 3, 2))
    assert r.done == tuple(ph.name for ph in proto.phases[:runs])
    assert r.current == proto.phases[runs].name
    assert r.ahead == tuple(ph.name for ph in proto.phases[runs + 1 :])
    assert r.plateaus_passed == 2
    assert r.plateaus_total == sum(len(ph.levels) for ph in proto.phases)
    assert r.weeks_since_diagnosis == 8
    last = replace(state, phase_id=proto.phases[-1].id)
    end = road(last, rules, date(2026, 1, 1))  # a clock before the diagnosis: never negative
    assert end.ahead == () and end.weeks_since_diagnosis == 0


def _berlin(day: date, hh: int, mm: int = 0) -> datetime:
    return local_instant(day, time(hh, mm), BERLIN)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ((7, 0), (9, 0)),  # two hours later
        ((19, 0), (21, 0)),  # still before the quiet hours (21:30)
        ((3, 0), (7, 0)),  # 05:00 is quiet: the end of the quiet hours, the same day
        ((20, 0), None),  # 22:00 is quiet, and its end is tomorrow
        ((23, 0), None),  # past midnight: tomorrow
    ],
)
def test_later_today(rules: Rules, at: tuple[int, int], expected: tuple[int, int] | None) -> None:
    day = date(2026, 3, 3)
    got = later_today(_berlin(day, *at), BERLIN, rules.scheduling)
    assert got == (None if expected is None else _berlin(day, *expected))
    if got is not None:
        assert got.tzinfo is not None and got.astimezone(UTC) == got


def _edit_sites(root: Path, change: Any) -> None:
    path = root / "sites.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("typical", "words"),
    [
        ({"min_weeks": 6, "max_weeks": 6, "source": "x"}, "a range"),
        ({"min_weeks": 4, "max_weeks": 9}, "required"),
        ({"min_weeks": -1, "max_weeks": 9, "source": "x"}, "greater than or equal"),
        ({"min_weeks": 4, "max_weeks": 9, "source": "x", "promise": True}, "unknown key"),
    ],
)
def test_a_bad_typical_range_names_file_path_and_reason(
    tmp_path: Path, rules_dir: Path, typical: dict[str, Any], words: str
) -> None:
    root = tmp_path / "rules"
    shutil.copytree(rules_dir, root)

    def change(data: Any) -> None:
        data["sites"][1]["typical"] = typical

    _edit_sites(root, change)
    with pytest.raises(RulesError) as info:
        load_rules(root)
    found = [p for p in info.value.problems if p.file == "sites.yaml"]
    assert found, [str(p) for p in info.value.problems]
    assert found[0].path.startswith("sites[1].typical"), str(found[0])
    assert words in found[0].reason, str(found[0])


def test_grade_ranges_are_checked_too(tmp_path: Path, rules_dir: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(rules_dir, root)

    def change(data: Any) -> None:
        data["imaging_systems"][0]["grades"][0]["typical_weeks"] = {
            "min_weeks": 9,
            "max_weeks": 3,
            "source": "x",
        }

    _edit_sites(root, change)
    with pytest.raises(RulesError) as info:
        load_rules(root)
    paths = [p.path for p in info.value.problems if p.file == "sites.yaml"]
    assert any(p.startswith("imaging_systems[0].grades[0].typical_weeks") for p in paths), paths
