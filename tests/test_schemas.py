"""The JSON Schemas shipped for the clinicians' editors match the rules models."""

from __future__ import annotations

import json
from pathlib import Path

from bot.program.loader import json_schemas

ROOT = Path(__file__).resolve().parents[1]


def test_committed_schemas_match_the_models() -> None:
    for name, schema in json_schemas().items():
        stem = name.replace("/*.yaml", "").replace(".yaml", "")
        path = ROOT / "schemas" / f"{stem}.schema.json"
        assert path.exists(), f"run `boneload rules schema` to write {path.name}"
        assert json.loads(path.read_text()) == schema, (
            f"{path.name} is out of date: run `boneload rules schema`"
        )


def test_every_rules_file_points_its_editor_at_a_schema() -> None:
    for f in sorted((ROOT / "rules").rglob("*.yaml")):
        first = f.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), f
        target = (f.parent / first.split("=", 1)[1]).resolve()
        assert target.exists(), f"{f} points at a missing schema {target}"
