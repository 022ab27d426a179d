"""Walking and plyometric phases, and strength sessions with their exercises.

The example is `rules/protocols/functional-progression.yaml` (W&M/Cannon, DOMAIN §3.2 C): phase I
brisk walking (minutes and steps), strength with exercises, phase II plyometrics (foot contacts,
bouts at least `min_hours_apart` apart), then walk/jog and continuous running. No site uses it by
default; `simulate --protocol functional-progression` follows it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from program_helpers import RULES_DIR, Recorder
from typer.testing import CliRunner

from bot import texts
from bot.cli import app
from bot.program.calendar import prescription
from bot.program.codec import state_from_dict, state_to_dict
from bot.program.engine import protocol_choices
from bot.program.loader import Rules
from bot.program.rules import Phase, PhaseKind, SessionKind
from bot.program.simulate import SimProfile
from bot.program.state import ExerciseRx

FP = "functional-progression"
FP_FILE = "protocols/functional-progression.yaml"


def _phase(rules: Rules, kind: PhaseKind) -> Phase:
    return next(ph for ph in rules.protocols[FP].phases if ph.kind is kind)


def _simulate(*extra: str) -> list[dict[str, Any]]:
    args = ["simulate", "--protocol", FP, "--days", "60", "--json", *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows: list[dict[str, Any]] = json.loads(res.output)
    return rows


def _days(rows: list[dict[str, Any]], kind: str) -> list[date]:
    return [date.fromisoformat(r["date"]) for r in rows if r["session"].get("kind") == kind]


# --- simulate --------------------------------------------------------------------------------


def test_simulate_walks_then_hops_then_runs() -> None:
    rows = _simulate()
    sessions = [r["session"] for r in rows if r["session"].get("kind") not in (None, "rest")]
    kinds = [s["kind"] for s in sessions]
    first = {kind: kinds.index(kind) for kind in ("walk", "strength", "plyometric", "run")}
    assert first["walk"] < first["strength"] < first["plyometric"] < first["run"]
    walk = sessions[first["walk"]]
    assert (walk["minutes"], walk["steps"]) == (30, 4000)
    plyo = sessions[first["plyometric"]]
    assert plyo["contacts"] == 470
    assert plyo["exercises"][0] == {
        "name": "Two-leg hops (each direction)",
        "sets": 3,
        "reps": 30,
        "per_side": False,
    }
    strength = sessions[first["strength"]]
    assert {"name": "Side plank", "sets": 3, "reps": 1, "per_side": True, "hold_s": 30} in (
        strength["exercises"]
    )
    # Plyometric bouts 48 h apart at least: never on consecutive days.
    hops = _days(rows, "plyometric")
    assert len(hops) >= 4
    assert all((later - earlier).days >= 2 for earlier, later in pairwise(hops))
    # The run/walk phase starts walk first, as W&M/Brigham publish it.
    run = sessions[first["run"]]
    assert (run["walk_s"], run["run_s"], run["walk_first"]) == (300, 60, True)


def test_min_hours_apart_above_48_spaces_the_bouts_in_whole_days(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    protocol = target / FP_FILE
    text = protocol.read_text(encoding="utf-8")
    protocol.write_text(text.replace("min_hours_apart: 48", "min_hours_apart: 60"), "utf-8")
    hops = _days(_simulate("--rules", str(target)), "plyometric")
    assert len(hops) >= 3
    assert all((later - earlier).days >= 3 for earlier, later in pairwise(hops))


def test_todays_protocols_show_no_session_content() -> None:
    res = CliRunner().invoke(app, ["simulate", "--days", "40", "--json"])
    assert res.exit_code == 0, res.output
    sessions = [r["session"] for r in json.loads(res.output)]
    assert not any({"steps", "contacts", "exercises"} & set(s) for s in sessions)


def test_a_site_that_must_not_hop_never_gets_plyometrics(rules: Rules) -> None:
    site = rules.site("femoral-neck-compression")
    assert FP not in [p.id for p in protocol_choices(rules, site)]
    assert FP in [p.id for p in protocol_choices(rules, rules.site("posteromedial-tibia"))]
    args = ["simulate", "--site", site.id, "--protocol", FP, "--days", "10", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0
    assert f"protocol {FP!r} is not one for site {site.id!r}" in " ".join(res.output.split())


# --- what the runner reads --------------------------------------------------------------------


def test_the_reminder_lists_the_exercises(rules: Rules) -> None:
    phase = _phase(rules, PhaseKind.STRENGTH)
    rx = prescription(SessionKind.STRENGTH, phase, 0, False, rules.scheduling)
    text = texts.reminder(rx)
    assert text.startswith(
        "🏃 Today's session: Strength for the legs and hips, slow and controlled (40 min)\n"
    )
    assert "\n• Squats: 3 × 10\n" in text
    assert "\n• Reverse lunges: 3 × 8 each side\n" in text
    assert "\n• Side plank: 3 × 1, hold 30 s each side\n" in text
    assert text.endswith("\nProgression: Add 1 set per week while pain-free, up to 4 sets")


def test_walk_and_plyometric_texts_give_steps_and_contacts(rules: Rules) -> None:
    sch = rules.scheduling
    walk = prescription(SessionKind.WALK, _phase(rules, PhaseKind.WALKING), 0, False, sch)
    assert "(30 min, about 4000 steps)" in texts.prescription(walk)
    plyo = prescription(SessionKind.PLYOMETRIC, _phase(rules, PhaseKind.PLYOMETRIC), 0, False, sch)
    assert "(30 min, 470 foot contacts)\n• Two-leg hops" in texts.prescription(plyo)


def test_a_session_without_content_reads_as_before(rules: Rules) -> None:
    phase = rules.protocols["low-risk"].phases[0]
    rx = prescription(SessionKind.CROSS_TRAIN, phase, 0, False, rules.scheduling)
    assert texts.prescription(rx) == f"{rx.description} ({rx.minutes} min)"


def test_state_keeps_the_exercises_and_leaves_them_out_when_empty(rules: Rules) -> None:
    profile = SimProfile("posteromedial-tibia", start=date(2026, 1, 5), days=3)
    state = Recorder(rules, profile).go().log[-1].decision.state
    assert state.next is not None
    plain = state_to_dict(state)
    assert not {"steps", "contacts", "exercises", "progression"} & set(plain["next"]["rx"])
    strength = prescription(
        SessionKind.STRENGTH, _phase(rules, PhaseKind.STRENGTH), 0, False, rules.scheduling
    )
    full = replace(state, next=replace(state.next, prescription=strength))
    row = state_to_dict(full)
    assert row["next"]["rx"]["exercises"][3] == {
        "name": "Side plank",
        "sets": 3,
        "reps": 1,
        "per_side": True,
        "hold_s": 30,
    }
    assert state_from_dict(row) == full
    assert strength.exercises[0] == ExerciseRx(name="Squats", sets=3, reps=10)


# --- rules check -----------------------------------------------------------------------------


def _check(target: Path) -> str:
    res = CliRunner().invoke(app, ["rules", "check", str(target)])
    assert res.exit_code == 1, res.output
    return " ".join(res.output.split())


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


BAD = [
    (
        "contacts: 470",
        "contacts: 5000",
        f"{FP_FILE}: phases[2].impact.contacts: Input should be less than or equal to 1000",
    ),
    (
        "{name: Squats, sets: 3, reps: 10}",
        "{name: Squats, sets: 0, reps: 10}",
        f"{FP_FILE}: phases[1].impact.exercises[0].sets: "
        "Input should be greater than or equal to 1",
    ),
    (
        "      contacts: 470\n",
        "",
        f"{FP_FILE}: phases[2].impact: a plyometric session needs its contacts",
    ),
    (
        "      minutes: 40\n",
        "      minutes: 40\n      steps: 3000\n",
        f"{FP_FILE}: phases[1].impact: steps is for walk sessions",
    ),
    (
        "    kind: walking\n",
        "    kind: cross_training\n",
        f"{FP_FILE}: phases[0]: impact: walk sessions belong to walking phases",
    ),
    (
        "      kind: plyometric\n",
        "      kind: strength\n      hops: true\n",
        f"{FP_FILE}: phases[2].impact: contacts and min_hours_apart are for plyometric sessions",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD)
def test_rules_check_names_file_path_and_reason(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    target = _copy(tmp_path)
    protocol = target / FP_FILE
    text = protocol.read_text(encoding="utf-8")
    assert old in text
    protocol.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert expected in _check(target)


def test_rules_check_refuses_a_plyometric_phase_after_run_walk(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    protocol = target / FP_FILE
    data = yaml.safe_load(protocol.read_text(encoding="utf-8"))
    phases = data["phases"]
    plyometric = next(p for p in phases if p["kind"] == "plyometric")
    phases.remove(plyometric)
    phases.insert(phases.index(next(p for p in phases if p["kind"] == "run_walk")) + 1, plyometric)
    protocol.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    output = _check(target)
    assert f"{FP_FILE}" in output
    assert (
        "phases must follow protection, cross_training, walking, strength, plyometric, " in output
    )


def test_rules_check_refuses_plyometrics_for_a_site_that_must_not_hop(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    sites = target / "sites.yaml"
    text = sites.read_text(encoding="utf-8")
    old = "    hop_tests: false\n    protocol: protected-weight-bearing\n"
    assert old in text
    sites.write_text(text.replace(old, f"    hop_tests: false\n    protocol: {FP}\n"), "utf-8")
    output = _check(target)
    assert (
        f"{FP_FILE}: phases[2].impact.kind: site 'femoral-neck-compression' must never hop"
        in output
    )
