"""The CLI's database entry points return plain rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.program.loader import Rules
from bot.store import admin
from bot.store.models import Agenda
from bot.store.testing import enrol_runner

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def test_list_agenda(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession], rules: Rules
) -> None:
    rid = await enrol_runner(
        sessionmaker, rules, telegram_user_id=77, now=T0, timezone="America/New_York"
    )
    async with sessionmaker.begin() as s:
        await s.execute(
            update(Agenda)
            .where(Agenda.key == "checkin:1")
            .values(status="failed", last_error="BadRequest: Chat not found")
        )
        await s.execute(update(Agenda).where(Agenda.key == "close:1").values(status="sent"))
    rows = await admin.list_agenda(db_url)
    assert [r.key for r in rows] == [
        "reminder:1",
        "checkin:1",
        "gate:high-cross-training:2025-03-29",
    ]
    reminder = rows[0]
    assert reminder.runner_id == rid and reminder.status == "pending"
    assert reminder.due_utc == "2025-03-01T12:00:00+00:00"
    assert reminder.due_local == "2025-03-01T07:00:00-05:00"
    assert rows[1].last_error == "BadRequest: Chat not found"
    json.dumps([r.as_dict() for r in rows])
    assert [r.key for r in await admin.list_agenda(db_url, statuses=["sent"])] == ["close:1"]


async def test_coaches_and_export(
    db_url: str, sessionmaker: async_sessionmaker[AsyncSession], rules: Rules
) -> None:
    coach = await admin.add_coach(db_url, 555, "Ana", timezone="Europe/Berlin")
    assert (coach.name, coach.runners) == ("Ana", 0)
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=78, now=T0, coach_id=coach.id)
    assert [(c.name, c.runners) for c in await admin.list_coaches(db_url)] == [("Ana", 1)]
    by_id = await admin.export_runner(db_url, rid)
    by_tg = await admin.export_runner(db_url, 78)
    assert by_id is not None and by_id == by_tg
    assert await admin.export_runner(db_url, 12345) is None
    assert by_id["agenda"][0]["due_at"] >= (T0 - timedelta(days=1)).isoformat()
