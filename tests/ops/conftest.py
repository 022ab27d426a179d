"""Operations tests run on SQLite and PostgreSQL (fixtures from bot.store.fixtures)."""

from __future__ import annotations

from bot.store.fixtures import *  # noqa: F403
from bot.store.fixtures import _db_choice, _pg_choice  # noqa: F401
