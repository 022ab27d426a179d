"""Alembic environment for boneload: runs the migrations on the connection `bot.store.db` gives.

`bot.store.db.migrate()` opens the connection (and its transaction) itself and passes it in
`config.attributes["connection"]`; this file only configures the context. Run standalone (e.g.
`alembic -c <ini> revision --autogenerate` by a developer) it builds its own async engine from
`sqlalchemy.url`. SQLite gets batch mode, because it can alter almost nothing in place.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from bot.store.db import make_engine
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_on(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = make_engine(url, foreign_keys=False, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and sqlalchemy.url is not set")
    if context.is_offline_mode():
        run_offline(url)
    else:
        asyncio.run(_run_standalone(url))
