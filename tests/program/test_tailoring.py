"""The coach's overlay in the engine: a coach tailors one runner within tailoring.yaml's bounds,
and the tailored fields change the decisions where they are made, naming the tailoring rule."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from program_helpers import Runner, acts, messages

from bot.program.codec import state_from_dict, state_to_dict
from bot.program.decision import Act, MessageKind
from bot.program.engine import BadEvent, check_overlay
from bot.program.events import OverlaySet
from bot.program.loader import RulesError, load_rules
from bot.program.rules import SessionKind, Severity
from bot.program.state import Overlay
from bot.program.symptoms import classify

LOW = "posteromedial-tibia"  # a low-risk site: low-risk protocol
RUN_WALK = "low-run-walk"
RULE = "coach-overlay"


def tailor(r: Runner, by: str = "coach:7", **fields: object) -> None:
    base = r.state.overlay.values() if r.state.overlay else Overlay()
    r.send(OverlaySet(replace(base, **fields), coach_id=7, by=by))  # type: ignore[arg-type]


def test_overlay_set_is_versioned_names_who_and_tells_the_runner(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 1)
    d = r.send(OverlaySet(Overlay(hold_sessions=3), coach_id=7, by="coach:7"))
    assert acts(d, Act.TAILOR) == [(Act.TAILOR, RULE)]
    assert r.state.overlay == Overlay(version=1, by="coach:7", hold_sessions=3)
    notice = messages(d, MessageKind.RUNNER_NOTICE)
    assert notice[0].payload["code"] == "tailored"
    assert notice[0].payload["changed"] == ["hold_sessions"]
    d = r.send(
        OverlaySet(Overlay(hold_sessions=3, pain_threshold=1), coach_id=0, by="operator:Dr J")
    )
    assert r.state.overlay is not None
    assert (r.state.overlay.version, r.state.overlay.by) == (2, "operator:Dr J")
    assert d.actions[0].detail["changed"] == ["pain_threshold"]


def test_out_of_bounds_is_a_bad_event_and_changes_nothing(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 1)
    before = r.state
    for bad in (
        Overlay(hold_sessions=0),
        Overlay(hold_sessions=99),
        Overlay(rest_days=0),
        Overlay(pain_threshold=4),
        Overlay(weekdays=frozenset({2})),
        Overlay(weekdays=frozenset({1, 9})),
        Overlay(start_level="cont-30"),  # not a level of the first run phase
        Overlay(maintenance_factor=2.0),
    ):
        with pytest.raises(BadEvent):
            r.send(OverlaySet(bad, coach_id=7, by="coach:7"))
        assert r.state is before
    with pytest.raises(BadEvent, match="nothing to change"):
        r.send(OverlaySet(Overlay(), coach_id=7, by="coach:7"))
    assert check_overlay(Overlay(hold_sessions=4), rules.protocols["low-risk"], rules) == []


def test_a_tailored_pain_threshold_changes_the_decision(rules) -> None:
    """Pain 2/10 during a run holds by the rules (mild); with the coach's threshold at 1 it
    regresses, naming the tailoring rule. The shared tables are not changed."""
    plain = Runner.at(rules, LOW, RUN_WALK, 2)
    _, fu = plain.run(pain=2)
    assert fu is not None
    assert not acts(fu, Act.REGRESS)
    strict = Runner.at(rules, LOW, RUN_WALK, 2)
    tailor(strict, pain_threshold=1)
    d1, _ = strict.run(pain=2)
    regress = [a for a in strict.log[-1][2].actions + d1.actions if a.act is Act.REGRESS]
    assert regress, [a.act for a in d1.actions]
    assert regress[0].detail["because"] == [RULE]
    assert RULE in d1.rules  # the decision log finds it by the tailoring rule id
    # The rules' own table is as it was for everyone else.
    assert classify({"pain_during": 2}, rules, "low-risk")[0] is Severity.MILD


def test_a_higher_pain_threshold_lets_three_out_of_ten_hold(rules) -> None:
    loose = Runner.at(rules, LOW, RUN_WALK, 2)
    tailor(loose, pain_threshold=3)
    d1, fu = loose.run(pain=3)
    assert not [a for a in d1.actions if a.act is Act.REGRESS]
    assert fu is None or not acts(fu, Act.REGRESS)


def test_tailored_hold_sessions_steps_up_sooner_naming_the_overlay(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 1)  # rw-l1 holds 2 sessions by the rules
    tailor(r, hold_sessions=1)
    _, fu = r.run()
    assert fu is not None
    assert (Act.PROGRESS, RULE) in acts(fu)
    assert r.state.level == 2


def test_tailored_hold_sessions_holds_longer(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 1)
    tailor(r, hold_sessions=3)
    for _ in range(2):
        _, fu = r.run()
        assert fu is not None
        assert (Act.HOLD, RULE) in acts(fu)
    _, fu = r.run()
    assert fu is not None
    assert (Act.PROGRESS, RULE) in acts(fu)


def test_weekdays_and_rest_days_shape_the_calendar(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 1)
    tailor(r, weekdays=frozenset({0, 3}), rest_days=2)
    days = []
    for _ in range(4):
        r.to_next_run()
        assert r.state.next is not None
        days.append(r.state.next.day)
        r.run()
    assert {d.weekday() for d in days} <= {0, 3}
    assert all((b - a) >= timedelta(days=3) for a, b in pairwise(days))
    plan = [a for _, _, d in r.log for a in d.actions if a.act is Act.PLAN]
    assert any(RULE in a.detail["why"] for a in plan)


def test_start_level_moves_a_runner_in_the_first_run_phase_up(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 0)
    d = r.send(OverlaySet(Overlay(start_level="rw-l2"), coach_id=7, by="coach:7"))
    assert (Act.PROGRESS, RULE) in acts(d)
    assert r.state.level == 2


def test_start_level_waits_until_running_starts(rules) -> None:
    r = Runner.at(rules, LOW, "low-strength", 0)
    tailor(r, start_level="rw-l1")
    assert r.state.phase_id == "low-strength"
    from bot.program.machine.context import _context
    from bot.program.machine.gates import _start_level

    st = r.state
    ctx = _context(rules, st.protocol_id, rules.site(LOW), r.now, "UTC", st.profile, st.overlay)
    assert _start_level(st, ctx.pt.phase[RUN_WALK], ctx) == 1


def test_maintenance_factor_scales_maintenance_runs(rules) -> None:
    plain = Runner.at(rules, LOW, "low-maintenance", 0)
    plain.to_next_run()
    r = Runner.at(rules, LOW, "low-maintenance", 0)
    tailor(r, maintenance_factor=0.5)
    r.to_next_run()
    assert plain.state.next is not None and r.state.next is not None
    a, b = plain.state.next.prescription, r.state.next.prescription
    assert b.kind is SessionKind.RUN
    assert b.run_s < a.run_s or (a.deload and b.run_s <= a.run_s)


def test_overlay_survives_the_codec_and_old_states_load(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 1)
    stored = state_to_dict(r.state)
    assert "overlay" not in stored  # untailored rows stay as they were
    assert state_from_dict(stored).overlay is None
    tailor(r, weekdays=frozenset({0, 2, 4}), maintenance_factor=0.8, start_level="rw-l1")
    back = state_from_dict(state_to_dict(r.state))
    assert back.overlay == r.state.overlay


def test_a_stop_stays_a_stop_when_tailored(rules) -> None:
    r = Runner.at(rules, LOW, RUN_WALK, 2)
    r.run(pain=8)
    assert r.state.status.stopped
    tailor(r, pain_threshold=3, hold_sessions=1)
    assert r.state.status.stopped
    assert r.state.next is None


def _rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parents[2] / "rules", target)
    return target


def test_rules_check_names_file_path_and_reason_for_misused_tailoring(tmp_path: Path) -> None:
    d = _rules_copy(tmp_path)
    f = d / "tailoring.yaml"
    f.write_text(f.read_text().replace("  max: 3\n  says", "  max: 5\n  says"))
    with pytest.raises(RulesError) as err:
        load_rules(d)
    where = [(p.file, p.path) for p in err.value.problems]
    assert ("tailoring.yaml", "pain_threshold.max") in where
    f.write_text(
        f.read_text()
        .replace("  max: 5\n  says", "  max: 3\n  says")
        .replace("max_rung: 4", "max_rung: 40")
    )
    with pytest.raises(RulesError) as err:
        load_rules(d)
    p = err.value.problems[0]
    assert (p.file, p.path) == ("tailoring.yaml", "start_level.max_rung")
    assert "run ladder" in p.reason


def test_rules_without_a_tailoring_file_use_the_default_bounds(tmp_path: Path) -> None:
    d = _rules_copy(tmp_path)
    (d / "tailoring.yaml").unlink()
    assert load_rules(d).tailoring.id == RULE
