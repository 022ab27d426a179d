"""Fixtures shared by the storage and agenda tests: databases on SQLite and PostgreSQL (see
bot.store.fixtures) and the rules those delivery tests run with."""

from __future__ import annotations

import dataclasses
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

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"


@pytest.fixture(scope="session")
def rules() -> Rules:
    """The shipped rules without weekly habit prompts: these tests count agenda rows to check
    delivery, and a Sunday sleep check landing beside a reminder would only blur that."""
    shipped = load_rules(RULES_DIR)
    habits = [h for h in shipped.habits.habits if h.trigger != "weekly"]
    return dataclasses.replace(shipped, habits=shipped.habits.model_copy(update={"habits": habits}))
