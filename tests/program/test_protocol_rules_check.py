"""`rules check` refuses the misuse of a coach's protocol choice: a protocol no site may follow
(no invite or switch could ever choose it), and a switch's rule id shared with another act (the
decision log could not tell them apart). Each problem names its file, path and reason."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app

RULES = Path(__file__).resolve().parents[2] / "rules"


def _check(rules_dir: Path) -> str:
    result = CliRunner().invoke(app, ["rules", "check", str(rules_dir)])
    assert result.exit_code == 1, result.output
    return " ".join(result.output.split())


def test_a_protocol_no_site_may_follow_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules"
    shutil.copytree(RULES, bad)
    # The example's strength phase has hops; make every low-risk site a no-hop one.
    sites = bad / "sites.yaml"
    text = sites.read_text().replace("    hop_tests: false\n", "")
    sites.write_text(text.replace("    risk: low\n", "    risk: low\n    hop_tests: false\n"))
    output = _check(bad)
    assert "protocols/army-rct-low-risk.yaml" in output and "for_risk" in output
    assert (
        "no site may follow this protocol" in output
        and "low risk (sites that allow hops)" in output
    )


def test_a_switch_rule_id_shared_with_another_act_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules"
    shutil.copytree(RULES, bad)
    symptoms = bad / "symptoms.yaml"
    text = symptoms.read_text()
    assert "    id: coach-protocol-switch\n" in text
    symptoms.write_text(text.replace("    id: coach-protocol-switch\n", "    id: coach-decision\n"))
    output = _check(bad)
    assert "symptoms.yaml" in output and "actions.protocol_switch.id" in output
    assert "'coach-decision' is also actions.coach" in output
