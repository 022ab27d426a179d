"""Fixtures for the agenda tests: databases on SQLite and PostgreSQL (see bot.store.fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.program.loader import Rules, load_rules
from bot.store.fixtures import (  # noqa: F401
    _db_choice,
    _pg_choice,
    db_url,
    engine,
    pg_session_db,
    pg_url,
    sessionmaker,
    sqlite_template,
)

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules(RULES_DIR)
