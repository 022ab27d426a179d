"""Fixtures for the engine's tests: the shipped rules, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from program_helpers import RULES_DIR

from bot.program.loader import Rules, load_rules


@pytest.fixture(scope="session")
def rules_dir() -> Path:
    return RULES_DIR


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules(RULES_DIR)
