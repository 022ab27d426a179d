"""Shared test fixtures: the shipped rules, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.program.loader import Rules, load_rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shipped_rules() -> Rules:
    return load_rules(ROOT / "rules")
