"""End-to-end fixtures: databases from bot.store.fixtures (SQLite and PostgreSQL)."""

from __future__ import annotations

from bot.store.fixtures import *  # noqa: F403  (pytest finds fixtures by name)
from bot.store.fixtures import _db_choice, _pg_choice  # noqa: F401
