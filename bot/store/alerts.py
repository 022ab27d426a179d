"""Coach alerts' life cycle in SQL: opened when an alert is scheduled, acknowledged and resolved
by a clinician's recorded act, listed (most urgent first) and counted for a coach.

Written in the caller's transaction (the turn's), beside the decision that caused the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Alert, AlertState, Runner

__all__ = [
    "STOP_REASONS",
    "URGENCY",
    "OpenAlert",
    "count_open",
    "list_open",
    "open_alert",
    "resolve_notices",
    "settle_after_act",
    "urgency_of",
]

# What each alert reason waits on, most urgent first. Alerts without an entry (a runner's
# message, "a runner joined") tell only and have no life cycle.
URGENCY = {
    "red_flag": 3,
    "escalated": 2,
    "clearance_needed": 1,
    "step_back_notice": 0,
    "discharged": 0,
    "screening": 0,
    "unreachable": 0,
    # The invite's protocol was not followed (not one for the runner's site): the coach chose
    # it, so it waits until they have seen what happened instead.
    "protocol_fallback": 0,
}
STOP_REASONS = ("red_flag", "escalated")
_UNRESOLVED = (AlertState.NEW.value, AlertState.ACKNOWLEDGED.value)


def urgency_of(reason: str, payload_stopped: str = "") -> int | None:
    """A review request is as urgent as the stop it asks about."""
    if reason == "review_requested":
        return URGENCY["red_flag"] if payload_stopped == "red_flag" else URGENCY["escalated"]
    return URGENCY.get(reason)


async def open_alert(
    session: AsyncSession,
    runner_id: int,
    coach_id: int,
    reason: str,
    *,
    now: datetime,
    stopped: str = "",
) -> None:
    """One unresolved alert per runner and reason: a reminder, a re-send to a new coach or a
    second request moves the open one to this coach instead of opening another."""
    urgency = urgency_of(reason, stopped)
    if urgency is None:
        return
    if reason == "review_requested":
        reason = stopped if stopped in STOP_REASONS else "escalated"
    moved = await session.execute(
        update(Alert)
        .where(
            Alert.runner_id == runner_id,
            Alert.reason == reason,
            Alert.state.in_(_UNRESOLVED),
        )
        .values(coach_id=coach_id)
    )
    if int(moved.rowcount or 0) > 0:  # type: ignore[attr-defined]
        return
    session.add(
        Alert(
            runner_id=runner_id,
            coach_id=coach_id,
            reason=reason,
            urgency=urgency,
            state=AlertState.NEW.value,
            created_at=now,
        )
    )
    await session.flush()


async def settle_after_act(
    session: AsyncSession,
    runner_id: int,
    *,
    actor: str,
    action: str,
    stopped: bool,
    acknowledged_by: str | None,
    awaiting_clearance: bool,
    now: datetime,
) -> None:
    """After a clinician's recorded act: a stop they acknowledged moves its alerts to
    acknowledged; alerts whose cause is gone (the stop lifted, the clearance granted) and the
    notices (anything the coach did answers them) are resolved by this act."""
    mine = and_(Alert.runner_id == runner_id, Alert.state.in_(_UNRESOLVED))
    if stopped and acknowledged_by is not None:
        await session.execute(
            update(Alert)
            .where(mine, Alert.state == AlertState.NEW.value, Alert.reason.in_(STOP_REASONS))
            .values(state=AlertState.ACKNOWLEDGED.value, acked_by=acknowledged_by, acked_at=now)
        )
    done = [r for r, u in URGENCY.items() if u == 0]
    if not stopped:
        done += list(STOP_REASONS)
    if not awaiting_clearance:
        done.append("clearance_needed")
    await session.execute(
        update(Alert)
        .where(mine, Alert.reason.in_(done))
        .values(
            state=AlertState.RESOLVED.value,
            resolved_by=actor,
            resolved_at=now,
            resolved_by_action=action[:32],
        )
    )


async def resolve_notices(
    session: AsyncSession, runner_id: int, *, actor: str, now: datetime, action: str = "message"
) -> None:
    """A coach wrote to the runner (or marked the notices seen): the notices about them
    (nothing to decide) are answered."""
    notices = [r for r, u in URGENCY.items() if u == 0]
    await session.execute(
        update(Alert)
        .where(
            Alert.runner_id == runner_id,
            Alert.state.in_(_UNRESOLVED),
            Alert.reason.in_(notices),
        )
        .values(
            state=AlertState.RESOLVED.value,
            resolved_by=actor,
            resolved_at=now,
            resolved_by_action=action,
        )
    )


@dataclass(frozen=True, slots=True)
class OpenAlert:
    id: int
    runner_id: int
    runner_name: str | None
    reason: str
    urgency: int
    state: str
    created_at: datetime
    acked_by: str | None
    acked_at: datetime | None


async def list_open(session: AsyncSession, coach_id: int, *, limit: int = 20) -> list[OpenAlert]:
    """Unresolved alerts of the coach's own runners now (whoever they were first sent to),
    most urgent first, then oldest first."""
    rows = await session.execute(
        select(Alert, Runner.display_name)
        .join(Runner, Runner.id == Alert.runner_id)
        .where(Runner.coach_id == coach_id, Alert.state.in_(_UNRESOLVED))
        .order_by(Alert.urgency.desc(), Alert.created_at, Alert.id)
        .limit(limit)
    )
    return [
        OpenAlert(
            a.id,
            a.runner_id,
            name,
            a.reason,
            a.urgency,
            a.state,
            a.created_at,
            a.acked_by,
            a.acked_at,
        )
        for a, name in rows.all()
    ]


async def count_open(session: AsyncSession, coach_id: int) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(Alert)
        .join(Runner, Runner.id == Alert.runner_id)
        .where(Runner.coach_id == coach_id, Alert.state.in_(_UNRESOLVED))
    )
    return int(n or 0)
