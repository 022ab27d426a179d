"""The agenda table's queries: schedule, cancel, claim under a lease, finalise, list.

Every function works inside the caller's session and transaction and takes `now` as a parameter
(never the database's clock), so tests and the dispatcher decide what time it is.

Life of a row (see docs/delivery.md):

    pending --claim--> sending --finalise--> sent | dropped | failed
       ^                  |  \\--retry------> pending (next_attempt_at later)
       |                  \\---lease expires: claimable again by anyone
    cancelled <--cancel-- pending            (a later decision withdrew it)

Claiming is one statement on both databases: an UPDATE of the rows picked by a sub-select that
on PostgreSQL carries `FOR UPDATE SKIP LOCKED` (so concurrent dispatchers take disjoint rows
without waiting on each other). SQLAlchemy leaves that clause out on SQLite, where the UPDATE's
own WHERE repeats the claimable condition and makes it a compare-and-set under SQLite's single
writer lock; SQLite is for a single instance. A claimed row's `next_attempt_at` becomes its
lease expiry, so one partial index finds due rows and abandoned leases alike.

Finalising requires the lease token of the claim: a dispatcher whose lease expired and was taken
over by another can no longer change the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import hot
from bot.store.models import CLAIMABLE, Agenda, AgendaStatus, Coach, Program, Runner

__all__ = [
    "ClaimedRow",
    "NewItem",
    "cancel",
    "cancel_kinds",
    "cancel_snoozes",
    "claim",
    "coach_scope",
    "defer",
    "dialect_insert",
    "finalise_dropped",
    "finalise_failed",
    "finalise_retry",
    "finalise_sent",
    "jsonable",
    "recipients",
    "release",
    "runner_scope",
    "schedule",
    "sent_keys",
    "short_error",
    "unbutton_session",
]

_ERROR_MAX = 300

# An agenda-only kind: take the inline keyboard off a message already sent (payload:
# message_id), e.g. a reminder whose session slid to another day. Key `unbutton:<agenda id>`.
UNBUTTON = "unbutton"


def runner_scope(runner_id: int) -> str:
    return f"r:{runner_id}"


def coach_scope(coach_id: int) -> str:
    return f"c:{coach_id}"


def jsonable(value: Any) -> Any:
    """A JSON-ready deep copy (dates and enums become strings)."""
    return json.loads(json.dumps(value, default=str))


def short_error(error: str) -> str:
    return error if len(error) <= _ERROR_MAX else error[: _ERROR_MAX - 1] + "…"


@dataclass(frozen=True, slots=True)
class NewItem:
    """One row to schedule. `status` other than pending records a row that will never be sent
    (e.g. a coach alert for a runner without a coach), keeping its key taken."""

    scope: str
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    runner_id: int | None = None
    coach_id: int | None = None
    status: AgendaStatus = AgendaStatus.PENDING
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    id: int
    scope: str
    runner_id: int | None
    coach_id: int | None
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    lease_token: str
    lease_expires_at: datetime


def dialect_insert(session: AsyncSession) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"unsupported database {name}")


async def schedule(session: AsyncSession, items: Sequence[NewItem], *, now: datetime) -> None:
    """Insert the rows, or re-schedule rows with the same (scope, key) that are still pending
    (or were cancelled). Rows already sending, sent, dropped or failed are left alone."""
    if not items:
        return
    values = []
    for it in items:
        terminal = it.status is not AgendaStatus.PENDING
        values.append(
            {
                "scope": it.scope,
                "runner_id": it.runner_id,
                "coach_id": it.coach_id,
                "kind": it.kind,
                "key": it.key,
                "due_at": it.due_at,
                "payload": jsonable(it.payload),
                "status": it.status.value,
                "attempts": 0,
                "next_attempt_at": it.due_at,
                "finished_at": now if terminal else None,
                "last_error": short_error(it.reason) if it.reason else None,
                "created_at": now,
            }
        )
    await session.execute(hot.schedule(session), values)


async def cancel(session: AsyncSession, scope: str, keys: Iterable[str], *, now: datetime) -> int:
    """Withdraw pending rows by key. A row being sent right now is not stopped: the dispatcher
    re-checks against the program state just before sending."""
    keys = list(keys)
    if not keys:
        return 0
    result = await session.execute(
        hot.CANCEL_KEYS, {"b_scope": scope, "b_keys": keys, "b_now": now}
    )
    return _rowcount(result)


async def cancel_kinds(
    session: AsyncSession, runner_id: int, kinds: Iterable[str], *, now: datetime
) -> int:
    """Withdraw every pending row of these kinds for one runner (e.g. after they blocked us)."""
    stmt = (
        update(Agenda)
        .where(
            Agenda.runner_id == runner_id,
            Agenda.scope == runner_scope(runner_id),
            Agenda.kind.in_(list(kinds)),
            Agenda.status == AgendaStatus.PENDING.value,
        )
        .values(status=AgendaStatus.CANCELLED.value, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await session.execute(stmt))


async def cancel_snoozes(session: AsyncSession, runner_id: int, seq: int, *, now: datetime) -> int:
    """Withdraw the pending "Later today" repeats of session `seq` (a newer one replaces them)."""
    stmt = (
        update(Agenda)
        .where(
            Agenda.scope == runner_scope(runner_id),
            Agenda.key.like(f"snooze:{seq}:%"),
            Agenda.status == AgendaStatus.PENDING.value,
        )
        .values(status=AgendaStatus.CANCELLED.value, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await session.execute(stmt))


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    owner: str,
    token: str,
    lease: timedelta,
    limit: int,
    runner_ids: Iterable[int] | None = None,
) -> list[ClaimedRow]:
    """Take up to `limit` due rows (pending and due, or sending with an expired lease), oldest
    first, and lease them to `owner`/`token` until `now + lease`. Commit to make it stick.
    `runner_ids`: only rows about these runners (theirs and their coach's alerts about them)."""
    expires = now + lease
    due: ColumnElement[bool] = Agenda.next_attempt_at <= now
    if runner_ids is not None:
        due = and_(due, Agenda.runner_id.in_(list(runner_ids)))
    # A MATERIALIZED CTE runs the locking sub-select exactly once. As a plain `IN (subquery)`
    # PostgreSQL may re-run it per outer row, and each re-run skips the rows this very statement
    # has just updated, so LIMIT would stop limiting anything.
    pick = (
        select(Agenda.id)
        .where(CLAIMABLE, due)
        .order_by(Agenda.next_attempt_at, Agenda.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(Agenda)
        .where(Agenda.id == pick.c.id, CLAIMABLE, due)
        .values(
            status=AgendaStatus.SENDING.value,
            lease_owner=owner,
            lease_token=token,
            lease_expires_at=expires,
            next_attempt_at=expires,
            attempts=Agenda.attempts + 1,
        )
        .returning(
            Agenda.id,
            Agenda.scope,
            Agenda.runner_id,
            Agenda.coach_id,
            Agenda.kind,
            Agenda.key,
            Agenda.due_at,
            Agenda.payload,
            Agenda.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    rows = [
        ClaimedRow(
            id=r.id,
            scope=r.scope,
            runner_id=r.runner_id,
            coach_id=r.coach_id,
            kind=r.kind,
            key=r.key,
            due_at=r.due_at,
            payload=r.payload,
            attempts=r.attempts,
            lease_token=token,
            lease_expires_at=expires,
        )
        for r in result
    ]
    # RETURNING gives no order guarantee; send the oldest first.
    rows.sort(key=lambda r: (r.due_at, r.id))
    return rows


# Finalising runs once per message: the Core table skips the ORM's bulk-update machinery,
# which costs more CPU than the statement itself.
_T = cast(Table, Agenda.__table__)


async def _finalise(session: AsyncSession, row_id: int, token: str, **values: Any) -> bool:
    stmt = (
        update(_T)
        .where(
            _T.c.id == row_id,
            _T.c.lease_token == token,
            _T.c.status == AgendaStatus.SENDING.value,
        )
        .values(lease_owner=None, lease_token=None, lease_expires_at=None, **values)
    )
    return _rowcount(await session.execute(stmt)) == 1


async def finalise_sent(
    session: AsyncSession, row_id: int, token: str, *, now: datetime, message_id: int | None
) -> bool:
    """Telegram accepted the message. False: the lease was lost (another dispatcher owns it).
    `last_error` is kept: it tells an operator the row got through only after retries."""
    return await _finalise(
        session,
        row_id,
        token,
        status=AgendaStatus.SENT.value,
        sent_at=now,
        finished_at=now,
        telegram_message_id=message_id,
    )


async def finalise_dropped(
    session: AsyncSession, row_id: int, token: str, *, now: datetime, reason: str
) -> bool:
    return await _finalise(
        session,
        row_id,
        token,
        status=AgendaStatus.DROPPED.value,
        finished_at=now,
        last_error=short_error(reason),
    )


async def finalise_failed(
    session: AsyncSession, row_id: int, token: str, *, now: datetime, error: str
) -> bool:
    return await _finalise(
        session,
        row_id,
        token,
        status=AgendaStatus.FAILED.value,
        finished_at=now,
        last_error=short_error(error),
    )


async def finalise_retry(
    session: AsyncSession,
    row_id: int,
    token: str,
    *,
    next_attempt_at: datetime,
    error: str,
    count_attempt: bool = True,
) -> bool:
    """Back to pending until `next_attempt_at`. `count_attempt=False` (flood control: Telegram
    told us when to come back) does not use up one of the row's attempts."""
    values: dict[str, Any] = {
        "status": AgendaStatus.PENDING.value,
        "next_attempt_at": next_attempt_at,
        "last_error": short_error(error),
    }
    if not count_attempt:
        values["attempts"] = _T.c.attempts - 1
    return await _finalise(session, row_id, token, **values)


async def defer(
    session: AsyncSession, row_id: int, token: str, *, until: datetime, reason: str
) -> bool:
    """Back to pending until `until` without using up an attempt (e.g. quiet hours)."""
    return await _finalise(
        session,
        row_id,
        token,
        status=AgendaStatus.PENDING.value,
        next_attempt_at=until,
        attempts=_T.c.attempts - 1,
        last_error=short_error(reason),
    )


async def release(
    session: AsyncSession, row_ids: Iterable[int], token: str, *, now: datetime
) -> int:
    """Give claimed rows that were never tried back, claimable at once (a graceful stop)."""
    ids = list(row_ids)
    if not ids:
        return 0
    stmt = (
        update(Agenda)
        .where(
            Agenda.id.in_(ids),
            Agenda.lease_token == token,
            Agenda.status == AgendaStatus.SENDING.value,
        )
        .values(
            status=AgendaStatus.PENDING.value,
            next_attempt_at=now,
            attempts=func.max(Agenda.attempts - 1, 0)
            if session.get_bind().dialect.name == "sqlite"
            else func.greatest(Agenda.attempts - 1, 0),
            lease_owner=None,
            lease_token=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(await session.execute(stmt))


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


async def recipients(
    session: AsyncSession, runner_ids: Iterable[int], coach_ids: Iterable[int]
) -> tuple[dict[int, Any], dict[int, Any]]:
    """Who a claimed batch goes to: runners (chat, language, zone, name, reachability, program
    state) and coaches (chat, active, zone), by id; two queries at most."""
    runners: dict[int, Any] = {}
    coaches: dict[int, Any] = {}
    runner_ids, coach_ids = set(runner_ids), set(coach_ids)
    if runner_ids:
        result = await session.execute(
            select(
                Runner.id,
                Runner.chat_id,
                Runner.language,
                Runner.timezone,
                Runner.display_name,
                Runner.unreachable,
                Program.state,
            )
            .outerjoin(Program, Program.runner_id == Runner.id)
            .where(Runner.id.in_(runner_ids))
        )
        runners = {r.id: r for r in result}
    if coach_ids:
        result = await session.execute(
            select(Coach.id, Coach.telegram_user_id, Coach.active, Coach.timezone).where(
                Coach.id.in_(coach_ids)
            )
        )
        coaches = {c.id: c for c in result}
    return runners, coaches


async def sent_keys(session: AsyncSession, runner_id: int, kind: str) -> list[str]:
    """The keys of the runner's messages of this kind that actually went out."""
    rows = await session.scalars(
        select(Agenda.key).where(
            Agenda.runner_id == runner_id,
            Agenda.kind == kind,
            Agenda.status == AgendaStatus.SENT.value,
        )
    )
    return list(rows)


async def unbutton_session(
    session: AsyncSession, runner_id: int, seq: int, *, now: datetime
) -> int:
    """Schedule, for now, taking the buttons off every message of session `seq` that went out
    with them (its reminder, "Later today" repeats, the check-in nudge). In the caller's
    transaction, so it is as durable as the decision that moved the session; a key per message,
    so it is done at most once. Returns how many were scheduled."""
    scope = runner_scope(runner_id)
    rows = await session.execute(
        select(Agenda.id, Agenda.telegram_message_id).where(
            Agenda.scope == scope,
            or_(
                Agenda.key.in_([f"reminder:{seq}", f"checkin:{seq}"]),
                Agenda.key.like(f"snooze:{seq}:%"),
            ),
            Agenda.status == AgendaStatus.SENT.value,
            Agenda.telegram_message_id.is_not(None),
        )
    )
    items = [
        NewItem(
            scope=scope,
            runner_id=runner_id,
            kind=UNBUTTON,
            key=f"unbutton:{row.id}",
            due_at=now,
            payload={"message_id": int(row.telegram_message_id)},
        )
        for row in rows
    ]
    await schedule(session, items, now=now)
    return len(items)
