"""The database schema as typed SQLAlchemy 2 models: one class per table.

Every instant is a `UTCDateTime` (timezone-aware UTC on both databases); calendar days are plain
dates in the runner's own time zone, which is kept as an IANA name on the runner. Everything that
belongs to a runner hangs off `runners.id` with ON DELETE CASCADE, so deleting the runner row
deletes all of their data in one statement (the runner's right to erasure).

The schema itself is created and changed only by the Alembic migrations in
`bot/store/migrations/`; these models must match them (a test compares the two).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.types import Id, JSONType, UTCDateTime

__all__ = [
    "CLAIMABLE",
    "Agenda",
    "AgendaStatus",
    "Alert",
    "AlertState",
    "Answer",
    "Base",
    "Coach",
    "DecisionRecord",
    "Dialog",
    "Heartbeat",
    "Invite",
    "OverlayVersion",
    "ProcessedUpdate",
    "Program",
    "Runner",
    "SessionRecord",
    "ThreadMessage",
]

# Stable constraint names, so that migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AgendaStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time (or its next attempt)
    SENDING = "sending"  # claimed under a lease by one dispatcher
    SENT = "sent"  # Telegram accepted it (terminal)
    DROPPED = "dropped"  # no longer meaningful when it fell due, or nobody to send to (terminal)
    CANCELLED = "cancelled"  # withdrawn by a later decision before it fell due
    FAILED = "failed"  # gave up: BadRequest, blocked, or out of attempts (terminal)


# The claim query's predicate, written with literals rather than bound parameters: a partial
# index is only used when the planner can prove the query implies the index's WHERE, which SQLite
# (and PostgreSQL with a generic prepared plan) cannot do through a parameter.
CLAIMABLE = text("status IN ('pending', 'sending')")


class Coach(Base):
    __tablename__ = "coaches"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None until the coach's first contact sets it from Telegram's language_code.
    language: Mapped[str | None] = mapped_column(String(16))


class Runner(Base):
    __tablename__ = "runners"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when Telegram answers 403 (the runner blocked the bot); cleared when they write again.
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The runner's own switch (/settings): send the session timer with run reminders.
    session_timer: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    coach_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("coaches.id", ondelete="SET NULL"), index=True
    )


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    coach_id: Mapped[int] = mapped_column(
        Id, ForeignKey("coaches.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # SET NULL: deleting a runner must not leave their id behind in a coach's invite list.
    used_by: Mapped[int | None] = mapped_column(
        Id, ForeignKey("runners.id", ondelete="SET NULL"), index=True
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The protocol the coach chose for the runner enrolling with this invite (None: the site's).
    protocol_id: Mapped[str | None] = mapped_column(String(64))


class Program(Base):
    """A runner's program state (`bot.program.codec` JSON) plus columns for listing."""

    __tablename__ = "programs"

    runner_id: Mapped[int] = mapped_column(
        Id, ForeignKey("runners.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSONType)
    phase_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)
    # Optimistic concurrency: every write bumps it; a writer that read an older one loses.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionRecord(Base):
    """One session: prescribed when planned, completed when reported (or marked missed)."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("runner_id", "seq", name="uq_sessions_runner_seq"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(Id, ForeignKey("runners.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    prescription: Mapped[dict[str, Any]] = mapped_column(JSONType)
    outcome: Mapped[str | None] = mapped_column(String(16))  # done|partial|skipped|missed
    pain_during: Mapped[int | None] = mapped_column(Integer)
    rpe: Mapped[int | None] = mapped_column(Integer)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Answer(Base):
    """One answer to one question (onboarding, session report, follow-up, gate)."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(
        Id, ForeignKey("runners.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSONType)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRecord(Base):
    """The audit trail: what was decided, by whom, on which event, and the rules behind it."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_runner_at", "runner_id", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(Id, ForeignKey("runners.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))  # "engine", "runner", "coach:<id>"
    event: Mapped[str] = mapped_column(String(64))
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{act, rule, detail}]
    rules: Mapped[str] = mapped_column(Text)  # rule ids, space-separated, for searching
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer)  # program version this decision produced


class Agenda(Base):
    """One future message (or internal wake-up): the durable schedule. See docs/delivery.md."""

    __tablename__ = "agenda"
    __table_args__ = (
        # `scope` is "r:<runner id>" or "c:<coach id>": a key is unique within its scope, which
        # a plain UNIQUE over a nullable runner_id could not express on both databases.
        UniqueConstraint("scope", "key", name="uq_agenda_scope_key"),
        Index(
            "ix_agenda_claim",
            "next_attempt_at",
            "id",
            postgresql_where=CLAIMABLE,
            sqlite_where=CLAIMABLE,
        ),
        # Listing by due time (`boneload agenda`). Deliberately not (status, due_at): SQLite's
        # planner, without statistics, would pick that for the claim and sort every pending row.
        Index("ix_agenda_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32))
    runner_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("runners.id", ondelete="CASCADE"), index=True
    )
    coach_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("coaches.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default=AgendaStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the row may next be claimed: due_at at first, later the retry time, and while the
    # row is `sending` its lease expiry (so one index finds due rows and abandoned leases alike).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Dialog(Base):
    """Where a multi-step conversation stands, so it survives a restart. One per user."""

    __tablename__ = "dialogs"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    runner_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("runners.id", ondelete="CASCADE"), index=True
    )
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedUpdate(Base):
    """Telegram update ids already handled: a redelivered update is recognised and ignored.
    Keyed by the bot's id too: update ids are counted per bot."""

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, server_default=text("0")
    )
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Heartbeat(Base):
    """When each instance's agenda ticker last ran (health checks)."""

    __tablename__ = "heartbeats"

    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_tick_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OverlayVersion(Base):
    """One version of a coach's tailoring of a runner (the coach's overlay): the full overlay as
    it stood after the change (`bot.program.codec.overlay_to_dict`), who made it and when."""

    __tablename__ = "overlay_versions"
    __table_args__ = (
        UniqueConstraint("runner_id", "version", name="uq_overlay_versions_runner_version"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(Id, ForeignKey("runners.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    overlay: Mapped[dict[str, Any]] = mapped_column(JSONType)
    by: Mapped[str] = mapped_column(String(200))  # "coach:3", "operator:Dr Jones"
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertState(StrEnum):
    NEW = "new"  # sent (or due), nobody has looked yet
    ACKNOWLEDGED = "acknowledged"  # a clinician said they saw it (who and when recorded)
    RESOLVED = "resolved"  # an act answered it (a clearance, a hold, ...)


class Alert(Base):
    """A coach alert's life cycle: new -> acknowledged -> resolved, each step with who/when."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_runner_state", "runner_id", "state"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(Id, ForeignKey("runners.id", ondelete="CASCADE"))
    coach_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("coaches.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32))  # the alert payload's reason
    urgency: Mapped[int] = mapped_column(Integer)  # red flag 3 > escalation 2 > clearance 1 > 0
    state: Mapped[str] = mapped_column(String(16), default=AlertState.NEW.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(64))  # "coach:<id>", "operator:<name>"
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_action: Mapped[str | None] = mapped_column(String(32))  # the verb or event


class ThreadMessage(Base):
    """One message of the runner <-> coach thread (health data: never logged)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    runner_id: Mapped[int] = mapped_column(
        Id, ForeignKey("runners.id", ondelete="CASCADE"), index=True
    )
    coach_id: Mapped[int | None] = mapped_column(Id, ForeignKey("coaches.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(16))  # "to_coach" | "to_runner"
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
