"""The agenda table's claim / lease / finalise semantics, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.store import agenda, repo
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Agenda

Maker = async_sessionmaker[AsyncSession]
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _runner(sm: Maker, tg: int = 1) -> int:
    async with sm.begin() as s:
        r = await repo.create_runner(s, telegram_user_id=tg, chat_id=tg, timezone="UTC", now=T0)
        return r.id


async def _schedule(sm: Maker, rid: int, offsets_s: list[int], kind: str = "runner_notice") -> None:
    items = [
        agenda.NewItem(
            scope=agenda.runner_scope(rid),
            runner_id=rid,
            kind=kind,
            key=f"k{i}",
            due_at=T0 + timedelta(seconds=off),
            payload={"i": i},
        )
        for i, off in enumerate(offsets_s)
    ]
    async with sm.begin() as s:
        await agenda.schedule(s, items, now=T0)


async def _claim(sm: Maker, now: datetime, token: str, limit: int = 10) -> list[agenda.ClaimedRow]:
    async with sm.begin() as s:
        return await agenda.claim(
            s, now=now, owner=f"o-{token}", token=token, lease=LEASE, limit=limit
        )


async def _row(sm: Maker, row_id: int) -> Agenda:
    async with sm() as s:
        row = await s.get(Agenda, row_id)
        assert row is not None
        return row


async def test_claim_takes_due_rows_oldest_first(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, [30, -10, 0, -20, 3600])
    rows = await _claim(sessionmaker, T0, "a")
    assert [r.key for r in rows] == ["k3", "k1", "k2"]
    assert all(r.attempts == 1 and r.lease_token == "a" for r in rows)
    stored = await _row(sessionmaker, rows[0].id)
    assert stored.status == "sending"
    assert stored.lease_owner == "o-a"
    assert stored.lease_expires_at == T0 + LEASE
    assert stored.next_attempt_at == T0 + LEASE
    # Leased rows are not handed out again while the lease holds.
    assert await _claim(sessionmaker, T0 + timedelta(seconds=10), "b") == []
    later = await _claim(sessionmaker, T0 + timedelta(seconds=30), "b")
    assert [r.key for r in later] == ["k0"]


async def test_claim_respects_limit(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, list(range(-10, 0)))
    first = await _claim(sessionmaker, T0, "a", limit=4)
    second = await _claim(sessionmaker, T0, "b", limit=4)
    third = await _claim(sessionmaker, T0, "c", limit=4)
    assert (len(first), len(second), len(third)) == (4, 4, 2)
    ids = [r.id for r in first + second + third]
    assert len(set(ids)) == 10


async def test_expired_lease_is_reclaimed_and_old_owner_locked_out(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, [0])
    (mine,) = await _claim(sessionmaker, T0, "old")
    (theirs,) = await _claim(sessionmaker, T0 + LEASE, "new")
    assert theirs.id == mine.id and theirs.attempts == 2
    async with sessionmaker.begin() as s:
        assert not await agenda.finalise_sent(s, mine.id, "old", now=T0, message_id=1)
        assert await agenda.finalise_sent(s, mine.id, "new", now=T0 + LEASE, message_id=2)
        # Finalising twice is a no-op: the row is no longer `sending`.
        assert not await agenda.finalise_sent(s, mine.id, "new", now=T0 + LEASE, message_id=3)
    row = await _row(sessionmaker, mine.id)
    assert (row.status, row.telegram_message_id, row.sent_at) == ("sent", 2, T0 + LEASE)
    assert row.lease_token is None and row.lease_owner is None


async def test_finalise_outcomes(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, [0, 0, 0])
    a, b, c = await _claim(sessionmaker, T0, "t")
    retry_at = T0 + timedelta(minutes=5)
    async with sessionmaker.begin() as s:
        assert await agenda.finalise_dropped(s, a.id, "t", now=T0, reason="session moved")
        assert await agenda.finalise_failed(
            s, b.id, "t", now=T0, error="BadRequest: chat not found"
        )
        assert await agenda.finalise_retry(s, c.id, "t", next_attempt_at=retry_at, error="TimedOut")
    ra, rb, rc = [await _row(sessionmaker, x.id) for x in (a, b, c)]
    assert (ra.status, ra.last_error) == ("dropped", "session moved")
    assert (rb.status, rb.last_error) == ("failed", "BadRequest: chat not found")
    assert (rc.status, rc.attempts, rc.next_attempt_at) == ("pending", 1, retry_at)
    assert await _claim(sessionmaker, retry_at - timedelta(seconds=1), "u") == []
    (again,) = await _claim(sessionmaker, retry_at, "u")
    assert (again.id, again.attempts) == (c.id, 2)
    async with sessionmaker.begin() as s:
        # Flood control does not use up an attempt.
        assert await agenda.finalise_retry(
            s, c.id, "u", next_attempt_at=retry_at, error="RetryAfter", count_attempt=False
        )
    assert (await _row(sessionmaker, c.id)).attempts == 1


async def test_release_gives_rows_back(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, [0, 0])
    rows = await _claim(sessionmaker, T0, "t")
    async with sessionmaker.begin() as s:
        assert await agenda.release(s, [r.id for r in rows], "wrong", now=T0) == 0
        assert await agenda.release(s, [r.id for r in rows], "t", now=T0) == 2
    again = await _claim(sessionmaker, T0, "u")
    assert sorted(r.id for r in again) == sorted(r.id for r in rows)
    assert all(r.attempts == 1 for r in again)


async def test_coach_scope_keys_are_separate(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    async with sessionmaker.begin() as s:
        coach = await repo.add_coach(s, telegram_user_id=700, name="C", now=T0)
        items = [
            agenda.NewItem(
                agenda.coach_scope(coach.id),
                "digest",
                "digest:2025-06-01",
                T0,
                {},
                coach_id=coach.id,
            ),
            agenda.NewItem(
                agenda.runner_scope(rid),
                "runner_notice",
                "digest:2025-06-01",
                T0,
                {},
                runner_id=rid,
            ),
        ]
        await agenda.schedule(s, items, now=T0)
        await agenda.schedule(s, items, now=T0)
    async with sessionmaker() as s:
        rows = list((await s.execute(select(Agenda))).scalars())
    assert sorted(r.scope for r in rows) == sorted([f"c:{coach.id}", f"r:{rid}"])


async def test_cancel_kinds(sessionmaker: Maker) -> None:
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, [0, 10], kind="session_reminder")
    await _schedule(sessionmaker, rid, [20], kind="followup")  # key k0 again: replaces
    async with sessionmaker.begin() as s:
        n = await agenda.cancel_kinds(s, rid, ["session_reminder"], now=T0)
    assert n == 1
    async with sessionmaker() as s:
        rows = {r.key: (r.kind, r.status) for r in (await s.execute(select(Agenda))).scalars()}
    assert rows == {"k0": ("followup", "pending"), "k1": ("session_reminder", "cancelled")}


@pytest.mark.postgres
async def test_postgres_claims_skip_locked_rows(pg_url: str) -> None:
    """Two open claim transactions on PostgreSQL take disjoint rows without waiting."""
    engine = make_engine(pg_url)
    sm = make_sessionmaker(engine)
    try:
        rid = await _runner(sm)
        await _schedule(sm, rid, [0] * 6)
        async with sm.begin() as s1, sm.begin() as s2:
            a = await agenda.claim(s1, now=T0, owner="a", token="a", lease=LEASE, limit=4)
            b = await agenda.claim(s2, now=T0, owner="b", token="b", lease=LEASE, limit=4)
        assert len(a) == 4 and len(b) == 2
        assert not {r.id for r in a} & {r.id for r in b}
    finally:
        await engine.dispose()


async def test_claim_uses_the_claim_index(engine: AsyncEngine, sessionmaker: Maker) -> None:
    """Without statistics (no ANALYZE ever ran) the claim must still walk the partial index in
    order rather than scan and sort every pending row."""
    rid = await _runner(sessionmaker)
    await _schedule(sessionmaker, rid, list(range(-50, 50)))
    due = "next_attempt_at <= '2030-01-01'"
    query = (
        f"SELECT id FROM agenda WHERE status IN ('pending', 'sending') AND {due} "
        "ORDER BY next_attempt_at, id LIMIT 50"
    )
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}")).all()
            plan = " | ".join(str(r[-1]) for r in rows)
            assert "USING INDEX ix_agenda_claim" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            await conn.exec_driver_sql("SET enable_seqscan = off")  # tiny table: force a choice
            rows = (await conn.exec_driver_sql(f"EXPLAIN {query}")).all()
            plan = " | ".join(str(r[0]) for r in rows)
            assert "ix_agenda_claim" in plan, plan
            assert "Sort" not in plan, plan
