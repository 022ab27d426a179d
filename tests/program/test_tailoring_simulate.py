"""`boneload simulate --overlay FILE`: a coach's tailoring previewed before it is applied."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli import app

RULES = Path(__file__).resolve().parents[2] / "rules"


def simulate(*args: str) -> Any:
    return CliRunner().invoke(
        app, ["simulate", "--site", "posteromedial-tibia", "--rules", str(RULES), *args]
    )


def rows(*args: str) -> list[dict[str, Any]]:
    result = simulate(*args, "--json", "--days", "70")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_previewed_overlay_changes_the_plan_and_names_the_overlay(tmp_path: Path) -> None:
    f = tmp_path / "overlay.yaml"
    f.write_text("weekdays: mon,thu\nhold_sessions: 1\n")
    plain, tailored = rows(), rows("--overlay", str(f))
    assert plain != tailored
    runs = [r for r in tailored if r["session"].get("kind") == "run"]
    assert runs
    assert {date.fromisoformat(r["date"]).weekday() for r in runs} <= {0, 3}
    rules = {d["rule"] for r in tailored for d in r["decisions"]}
    assert "coach-overlay" in rules
    assert "coach-overlay" not in {d["rule"] for r in plain for d in r["decisions"]}


def test_an_overlay_out_of_bounds_is_one_clear_line(tmp_path: Path) -> None:
    f = tmp_path / "overlay.yaml"
    f.write_text("pain_threshold: 6\n")
    result = simulate("--overlay", str(f))
    assert result.exit_code == 1
    assert "pain_threshold 6 is outside 0..3 (coach-overlay)" in result.output
    f.write_text("hold_weeks: 2\n")
    result = simulate("--overlay", str(f))
    assert result.exit_code == 1
    assert "unknown overlay field 'hold_weeks'" in result.output
