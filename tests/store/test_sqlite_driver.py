"""SQLite's one-trip cursor (bot/store/sqlite_driver.py) behaves as the DB-API cursor it
replaces: rows, counts, last row ids, executemany, errors mapped to SQLAlchemy's, and a
transaction rolled back leaves nothing; and a statement costs one trip to aiosqlite's thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.store.db import make_engine
from bot.store.sqlite_driver import OneTripCursor


async def test_statements_rows_counts_and_errors(tmp_path: Path, monkeypatch: Any) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    trips = 0
    real = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
        nonlocal trips
        trips += 1
        return await real(self, fn, *args, **kw)

    try:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
            inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
            assert inserted.lastrowid == 1
            assert trips == 1  # make a cursor, execute, close: one job in the driver's thread
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])
            changed = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
            assert changed.rowcount == 2
            rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "a"), (2, "b!"), (3, "c!")]
            returned = await conn.execute(text("UPDATE t SET v = 'z' WHERE id = 1 RETURNING v"))
            assert returned.scalar_one() == "z"
            with pytest.raises(IntegrityError):
                await conn.execute(text("INSERT INTO t (v) VALUES ('z')"))
        with pytest.raises(OperationalError):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT nothing FROM nowhere"))
        with pytest.raises(RuntimeError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (v) VALUES ('gone')"))
                raise RuntimeError
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert count == 3  # the failed transactions left nothing
    finally:
        await engine.dispose()
