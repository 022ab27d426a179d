"""Column types shared by the models: UTC instants that stay UTC on SQLite, JSON, 64-bit ids.

SQLite has no time zone type: SQLAlchemy stores a naive ISO string and hands back a naive
datetime. `UTCDateTime` makes both databases behave the same way: only timezone-aware values
may go in (a naive one is a bug, so it raises), they are stored as UTC, and they always come
back timezone-aware in UTC. Because every value is normalised to UTC before it is written,
SQLite's string comparison orders instants correctly, which the agenda's claim query relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Id", "JSONType", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every database (see the module docstring)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC instants")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # One fixed textual form, so that comparisons in SQL are chronological.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact); plain JSON text elsewhere.
JSONType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
