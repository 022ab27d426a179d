"""The Army RCT return-to-run table as a protocol (rules/protocols/army-rct-low-risk.yaml, DOMAIN.md
§3.2 D): `rules check` accepts it, it is a coach's choice for low-risk sites only, and
`simulate --json` reproduces its stage timing: six phases in order, each at least twice, a rest day
between runs, then the program ends."""

from __future__ import annotations

import json
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli import app
from bot.program.engine import protocol_choices
from bot.program.loader import Rules, site_risk
from bot.program.rules import Risk

ARMY = "army-rct-low-risk"
RULES = Path(__file__).resolve().parents[2] / "rules"
# The published table: (walk min, run min) per phase; phase 6 is all running.
TABLE = [(2, 3), (2, 3), (2, 4), (2, 4), (1, 4), (0, None)]


def test_rules_check_accepts_it() -> None:
    res = CliRunner().invoke(app, ["rules", "check", str(RULES)])
    assert res.exit_code == 0, res.output
    assert ARMY in res.output


def test_it_is_a_choice_for_low_risk_sites_only_and_no_sites_default(rules: Rules) -> None:
    for site in rules.sites.sites:
        allowed = ARMY in {p.id for p in protocol_choices(rules, site)}
        # Low risk, and hops allowed (its strength phase has some), as low-risk.yaml.
        assert allowed is (site_risk(site) is Risk.LOW and site.hop_tests), site.id
        assert rules.protocol_for(site).id != ARMY


def _runs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["session"].get("kind") == "run"]


def test_simulate_reproduces_the_tables_stage_timing() -> None:
    args = ["simulate", "--protocol", ARMY, "--days", "110", "--json"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    rows: list[dict[str, Any]] = json.loads(res.output)
    runs = _runs(rows)
    levels = [r["level"] for r in runs]
    order = list(dict.fromkeys(levels))
    assert order == [f"army-p{i}" for i in range(1, 7)]
    for i, (walk_min, run_min) in enumerate(TABLE, start=1):
        at = [r["session"] for r in runs if r["level"] == f"army-p{i}"]
        # Each phase at least twice before progressing.
        assert len(at) >= 2, (i, at)
        full = next(s for s in at if not s["deload"])
        if run_min is None:
            assert (full["walk_s"], full["run_s"], full["repeats"]) == (0, 1440, 1)
        else:
            assert (full["walk_s"], full["run_s"]) == (walk_min * 60, run_min * 60)
            assert full["walk_first"] is True  # walk, then run, as the table lists it
    # At least one rest day between runs: never on consecutive days.
    days = [date.fromisoformat(r["date"]) for r in runs]
    assert all((b - a).days >= 2 for a, b in pairwise(days))
    # Symptom-free, each phase takes exactly its two sessions (a deload week's lighter sessions
    # hold the level: scheduling.yaml build deloads), then phase 6 twice ends the program.
    full_runs = [r["level"] for r in runs if not r["session"]["deload"]]
    for level in order:
        assert 2 <= full_runs.count(level) <= 3, (level, full_runs)
    # Phase 6 twice, symptom-free: the program ends (discharge); nothing is planned after.
    ended = next(r for r in rows if r["status"] == "discharged")
    ended_on = date.fromisoformat(ended["date"])
    assert (ended_on - days[-1]).days == 1  # at the last run's 24-hour check
    assert full_runs[-2:] == ["army-p6", "army-p6"]
    after = [r for r in rows if r["date"] > ended["date"]]
    assert after and all(r["session"].get("kind") in (None, "rest") for r in after)
