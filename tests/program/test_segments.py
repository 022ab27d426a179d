"""The shape of a run/walk session: walk-first blocks, warm-up and cool-down walks, and a session
given as total minutes (`walk_first`, `warmup_walk_min`, `cooldown_walk_min`, `total_min`).

The example is `rules/protocols/brigham-walk-jog.yaml` (Brigham/W&M phase III: walk 5 / jog 1 x5,
framed by a 5-minute walk each side). No site uses it by default, so the simulate test points
`protocol_by_risk.low` at it in a copy of the rules.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from program_helpers import RULES_DIR, Recorder
from typer.testing import CliRunner

from bot import texts
from bot.cli import _session_text, app
from bot.program.calendar import prescription
from bot.program.codec import state_from_dict, state_to_dict
from bot.program.loader import Rules
from bot.program.rules import Phase, SessionKind
from bot.program.simulate import SimProfile
from bot.program.state import Prescription

BWJ = "brigham-walk-jog"
BWJ_FILE = "protocols/brigham-walk-jog.yaml"


def _walk_jog_phase(rules: Rules) -> Phase:
    return next(ph for ph in rules.protocols[BWJ].phases if ph.kind.value == "run_walk")


def _rx(**shape: object) -> Prescription:
    base: dict[str, object] = dict(
        kind=SessionKind.RUN,
        phase_id="p",
        level_id="l",
        description="",
        minutes=30,
        run_s=60,
        walk_s=300,
        repeats=5,
    )
    return Prescription(**(base | shape))  # type: ignore[arg-type]


# --- what the runner reads --------------------------------------------------------------------


def test_run_first_text_is_unchanged() -> None:
    assert texts.prescription(_rx()) == "jog 1:00, walk 5:00, ×5 — easy, flat, soft surface"


def test_walk_first_puts_the_walk_first() -> None:
    assert texts.prescription(_rx(walk_first=True)).startswith("walk 5:00, jog 1:00, ×5 — ")


def test_warm_up_and_cool_down_walks_frame_the_blocks() -> None:
    rx = _rx(walk_first=True, warmup_walk_min=5, cooldown_walk_min=10)
    assert texts.prescription(rx) == (
        "warm up: walk 5 min, then walk 5:00, jog 1:00, ×5, then cool down: walk 10 min"
        " — easy, flat, soft surface"
    )
    assert texts.prescription(_rx(warmup_walk_min=15)).startswith(
        "warm up: walk 15 min, then jog 1:00, walk 5:00, ×5 — "
    )


def test_the_protocols_first_session_reads_as_published(rules: Rules) -> None:
    phase = _walk_jog_phase(rules)
    rx = prescription(SessionKind.RUN, phase, 0, False, rules.scheduling)
    assert texts.prescription(rx).split(" — ")[0] == (
        "warm up: walk 5 min, then walk 5:00, jog 1:00, ×5, then cool down: walk 5 min"
    )
    assert rx.minutes == 40  # 30 min of blocks and 5 + 5 min of walking
    assert "×5, then cool down" in texts.level_label(rules, BWJ, phase.levels[0].id)


def test_total_min_makes_the_repeats_and_keeps_running_totals_right(rules: Rules) -> None:
    levels = _walk_jog_phase(rules).levels
    # 30 minutes of 6-minute blocks at every stage: 5 blocks, jogging 1, 2, 3, 4, 5 minutes each.
    assert [lv.repeats for lv in levels] == [5, 5, 5, 5, 5]
    assert [lv.run_total_s // 60 for lv in levels] == [5, 10, 15, 20, 25]
    assert [lv.continuous_s // 60 for lv in levels] == [1, 2, 3, 4, 5]


def test_a_deload_week_cuts_the_blocks_not_the_warm_up(rules: Rules) -> None:
    phase = _walk_jog_phase(rules)
    rx = prescription(SessionKind.RUN, phase, 0, True, rules.scheduling)
    assert rx.repeats < 5
    assert (rx.warmup_walk_min, rx.cooldown_walk_min, rx.walk_first) == (5, 5, True)


def test_state_keeps_the_shape_and_leaves_it_out_when_default(rules: Rules) -> None:
    profile = SimProfile("posteromedial-tibia", start=date(2026, 1, 5), days=3)
    state = Recorder(rules, profile).go().log[-1].decision.state
    assert state.next is not None
    plain = state_to_dict(state)
    assert not {"walk_first", "warmup_walk_min", "cooldown_walk_min"} & set(plain["next"]["rx"])
    shaped = replace(
        state,
        next=replace(
            state.next,
            prescription=replace(
                state.next.prescription, walk_first=True, warmup_walk_min=5, cooldown_walk_min=5
            ),
        ),
    )
    row = state_to_dict(shaped)
    assert row["next"]["rx"]["warmup_walk_min"] == 5
    assert state_from_dict(row) == shaped


# --- rules check -----------------------------------------------------------------------------

FIRST = (
    "{id: bwj-wj-1, walk_first: true, walk_s: 300, run_s: 60, total_min: 30, "
    "warmup_walk_min: 5, cooldown_walk_min: 5, hold_sessions: 2, max_per_week: 3, per_week: 3}"
)
WHERE = f"{BWJ_FILE}: phases[2].levels[0]:"
BAD = [
    (
        "total_min: 30,",
        "total_min: 30, repeats: 5,",
        f"{WHERE} give repeats or total_min, not both",
    ),
    (
        "total_min: 30,",
        "total_min: 5,",
        f"{WHERE} total_min (5) is shorter than one block of run_s + walk_s (6:00)",
    ),
    (
        "total_min: 30,",
        "total_min: 32,",
        f"{WHERE} total_min (32) is not a whole number of 6:00 blocks",
    ),
    ("total_min: 30,", "", f"{WHERE} give repeats or total_min"),
    (
        "walk_s: 300, run_s: 60, total_min: 30,",
        "walk_s: 0, run_s: 60, repeats: 5,",
        f"{WHERE} walk_first needs walk_s above 0",
    ),
    (
        "warmup_walk_min: 5,",
        "warmup_walk_min: 45,",
        f"{BWJ_FILE}: phases[2].levels[0].warmup_walk_min: Input should be less than or equal",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD)
def test_rules_check_names_file_path_and_reason(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    protocol = target / BWJ_FILE
    text = protocol.read_text(encoding="utf-8")
    assert FIRST in text
    protocol.write_text(text.replace(FIRST, FIRST.replace(old, new)), encoding="utf-8")
    res = CliRunner().invoke(app, ["rules", "check", str(target)])
    assert res.exit_code == 1
    assert expected in " ".join(res.output.split()), res.output


def test_rules_check_accepts_the_example_that_no_site_uses() -> None:
    res = CliRunner().invoke(app, ["rules", "check", str(RULES_DIR)])
    assert res.exit_code == 0, res.output
    assert BWJ in res.output


# --- simulate --------------------------------------------------------------------------------


def _rules_with_low_risk_on_bwj(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    sites = target / "sites.yaml"
    text = sites.read_text(encoding="utf-8")
    sites.write_text(text.replace("low: low-risk", f"low: {BWJ}"), encoding="utf-8")
    return target


def test_simulate_json_shows_walk_first_sessions_with_warm_up_and_cool_down(
    tmp_path: Path,
) -> None:
    rules_dir = _rules_with_low_risk_on_bwj(tmp_path)
    args = ["simulate", "--rules", str(rules_dir), "--days", "70", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    runs = [r["session"] for r in rows if r["session"]["kind"] == "run"]
    assert runs, "the low-risk runner reaches walk/jog within 70 days"
    first = runs[0]
    assert (first["walk_s"], first["run_s"], first["repeats"]) == (300, 60, 5)
    assert (first["walk_first"], first["warmup_walk_min"], first["cooldown_walk_min"]) == (
        True,
        5,
        5,
    )
    assert first["minutes"] == 40
    # Every other day at most (the protocol is MGH/W&M's "no more than every other day").
    days = [date.fromisoformat(r["date"]) for r in rows if r["session"]["kind"] == "run"]
    assert all((later - earlier).days >= 2 for earlier, later in pairwise(days))

    # The table `simulate` prints (its cells wrap at 140 columns, so the cell text is checked).
    assert _session_text(first) == "walk 5 min + walk 5:00 / run 1:00 ×5 + walk 5 min"


def test_simulate_json_of_todays_protocols_has_no_shape_keys() -> None:
    res = CliRunner().invoke(app, ["simulate", "--days", "70", "--json"])
    assert res.exit_code == 0, res.output
    runs = [r["session"] for r in json.loads(res.output) if r["session"]["kind"] == "run"]
    assert runs
    assert not any({"walk_first", "warmup_walk_min", "cooldown_walk_min"} & set(s) for s in runs)
