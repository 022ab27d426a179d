"""Which protocol a site follows: a site's own `protocol:` must be written for its risk."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.program.loader import load_rules, site_risk
from bot.program.rules import Risk

RULES = Path(__file__).resolve().parents[2] / "rules"


def test_every_shipped_site_follows_a_protocol_written_for_its_risk() -> None:
    rules = load_rules(RULES)
    for site in rules.sites.sites:
        assert rules.protocol_for(site).for_risk is site_risk(site), site.id
    unsure = next(s for s in rules.sites.sites if s.unsure)
    assert site_risk(unsure) is Risk.HIGH


def test_rules_check_refuses_a_low_risk_protocol_on_a_high_risk_site(tmp_path: Path) -> None:
    bad = tmp_path / "rules"
    shutil.copytree(RULES, bad)
    sites = bad / "sites.yaml"
    text = sites.read_text()
    # femoral-neck-tension is high risk; give it the low-risk ladder (no protected phase).
    marker = "    notes: Highest risk of completing to a full fracture"
    assert marker in text
    sites.write_text(text.replace(marker, "    protocol: low-risk\n" + marker, 1))
    result = CliRunner().invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "sites.yaml" in output
    assert "sites[0].protocol" in output
    assert "written for risk low" in output and "'femoral-neck-tension' is high risk" in output
