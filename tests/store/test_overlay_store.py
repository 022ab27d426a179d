"""The coach's overlay in the store: each version written with its decision (one transaction),
in the runner's export, erased with the runner."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.program.engine import decide
from bot.program.events import OverlaySet
from bot.program.loader import Rules
from bot.program.state import Overlay
from bot.store import repo
from bot.store.models import OverlayVersion
from bot.store.testing import enrol_runner

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def _tailor(sm: Maker, rules: Rules, rid: int, ov: Overlay, by: str, at: datetime) -> None:
    async with sm.begin() as s:
        loaded = await repo.load_program(s, rid)
        assert loaded is not None
        state, version = loaded
        d = decide(state, OverlaySet(ov, 0, by), rules, at)
        await repo.apply_decision(
            s, rid, d, event="OverlaySet", actor=by, expected_version=version, at=at
        )


async def test_overlay_versions_are_stored_exported_and_erased(
    sessionmaker: Maker, rules: Rules
) -> None:
    rid = await enrol_runner(sessionmaker, rules, telegram_user_id=40, now=T0)
    await _tailor(sessionmaker, rules, rid, Overlay(hold_sessions=3), "operator:Dr J", T0)
    later = T0 + timedelta(hours=1)
    both = Overlay(hold_sessions=3, weekdays=frozenset({0, 3}))
    await _tailor(sessionmaker, rules, rid, both, "coach:2", later)
    async with sessionmaker() as s:
        rows = await repo.overlay_history(s, rid)
        loaded = await repo.load_program(s, rid)
        exported = await repo.export_runner(s, rid)
    assert [(r.version, r.by) for r in rows] == [(1, "operator:Dr J"), (2, "coach:2")]
    assert rows[1].overlay == {
        "version": 2,
        "by": "coach:2",
        "hold_sessions": 3,
        "weekdays": [0, 3],
    }
    assert loaded is not None and loaded[0].overlay is not None
    assert loaded[0].overlay.version == 2
    assert exported is not None
    json.dumps(exported)
    assert [v["version"] for v in exported["overlay_versions"]] == [1, 2]

    async with sessionmaker.begin() as s:
        assert await repo.delete_runner(s, rid)
    async with sessionmaker() as s:
        n = await s.scalar(
            select(func.count()).select_from(OverlayVersion).where(OverlayVersion.runner_id == rid)
        )
    assert n == 0
