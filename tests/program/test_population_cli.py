"""`boneload simulate --population`: by site, by protocol, over a horizon, and two rules
directories compared on the same runners; bad input gets one clear line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, ["simulate", *args, "--rules", str(RULES), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return result


def population(*args: str) -> dict[str, Any]:
    result = run("--population", *args, "--json")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_high_risk_site_reaches_run_walk_later_than_a_low_risk_one_within_26_weeks() -> None:
    low = population("12", "--site", "posteromedial-tibia")["summary"]
    high = population("12", "--site", "navicular")["summary"]
    assert low["first_run_walk_days"]["share"] == 1.0
    assert high["first_run_walk_days"]["share"] == 1.0  # the default horizon is long enough
    assert high["first_run_walk_days"]["median"] > low["first_run_walk_days"]["median"] + 28
    # Non-weight-bearing first: a high-risk runner never runs within the first four weeks.
    assert high["first_run_walk_days"]["p10"] >= 28


def test_weeks_sets_the_horizon_and_the_table_of_weeks() -> None:
    short = population("6", "--site", "navicular", "--weeks", "8")
    assert list(short["reached_30_min_by_week"]) == ["4", "8"]
    assert short["summary"]["first_run_walk_days"]["share"] == 0.0  # still protected at week 8
    long = population("6", "--site", "navicular")
    assert list(long["reached_30_min_by_week"])[-1] == "26"


def test_protocol_makes_every_runner_follow_it(tmp_path: Path) -> None:
    result = population("8", "--protocol", "zero-pain-low-risk")
    default = population("8")
    assert result["runners"] == 8
    # Only sites of the protocol's risk class are drawn: nobody waits out a protection phase.
    assert result["summary"]["first_run_walk_days"]["p90"] < 28
    assert default["summary"]["first_run_walk_days"]["p90"] > 28


def slower_copy(tmp_path: Path) -> Path:
    """rules/ with every low-risk level held for 4 sessions instead of 2."""
    slow = tmp_path / "slow"
    shutil.copytree(RULES, slow)
    path = slow / "protocols" / "low-risk.yaml"
    doc = yaml.safe_load(path.read_text())
    for phase in doc["phases"]:
        for level in phase.get("levels", []):
            level["hold_sessions"] = 4
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return slow


def test_compare_runs_the_same_runners_under_two_rules_directories(tmp_path: Path) -> None:
    slow = slower_copy(tmp_path)
    args = ["simulate", "--population", "10", "--site", "posteromedial-tibia", "--jobs", "1"]
    result = CliRunner().invoke(app, [*args, "--compare", str(RULES), str(slow), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    a = doc["a"]["summary"]["continuous_30_min_days"]
    b = doc["b"]["summary"]["continuous_30_min_days"]
    assert b["median"] > a["median"]  # holding each level longer takes longer
    assert doc["difference"]["continuous_30_min_days"] == f"{b['median'] - a['median']:+d} d"
    # The same runners: the first run/walk day does not depend on the ladder's holds.
    assert doc["a"]["summary"]["first_run_walk_days"] == doc["b"]["summary"]["first_run_walk_days"]

    table = CliRunner().invoke(app, [*args, "--compare", str(RULES), str(slow)])
    assert table.exit_code == 0, table.output
    assert "B - A" in table.stdout and "30 min continuous" in table.stdout
    assert "runner-days" in table.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--population", "3", "--site", "nowhere"], "unknown site 'nowhere'; known sites:"),
        (["--population", "3", "--protocol", "nope"], "unknown protocol 'nope'"),
        (
            ["--population", "3", "--site", "navicular", "--protocol", "low-risk"],
            "protocol 'low-risk' is not one for site 'navicular'",
        ),
        (
            [
                "--population",
                "3",
                "--site",
                "femoral-neck-compression",
                "--protocol",
                "zero-pain-low-risk",
            ],
            "protocol 'zero-pain-low-risk' is not one for site 'femoral-neck-compression'",
        ),
        (["--compare", "rules", "rules"], "--compare needs --population"),
    ],
)
def test_bad_choices_get_one_clear_line(args: list[str], says: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *args, "--rules", str(RULES)])
    assert result.exit_code == 1
    assert says in result.stderr
    assert "Traceback" not in result.output


def test_weeks_out_of_range_is_refused() -> None:
    result = CliRunner().invoke(app, ["simulate", "--population", "2", "--weeks", "200"])
    assert result.exit_code == 2
    assert "--weeks" in result.stderr


def test_a_broken_rules_directory_in_compare_names_file_path_and_reason(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(RULES, broken)
    path = broken / "scheduling.yaml"
    text = path.read_text().replace("min_days_between_runs: 2", "min_days_between_runs: 1")
    path.write_text(text)
    args = ["simulate", "--population", "2", "--compare", str(RULES), str(broken)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "scheduling.yaml" in result.stderr and "min_days_between_runs" in result.stderr


def test_the_json_output_has_no_progress_bar() -> None:
    result = run("--population", "3", "--json")
    json.loads(result.stdout)  # nothing but the document
