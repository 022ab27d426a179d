"""Initial schema: runners, coaches, invites, programs, sessions, answers, decisions, agenda,
dialogs, processed updates.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.types import Id, JSONType, UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    op.create_table(
        "coaches",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coaches"),
        sa.UniqueConstraint("telegram_user_id", name="uq_coaches_telegram_user_id"),
    )
    op.create_table(
        "runners",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("unreachable_since", UTCDateTime(), nullable=True),
        sa.Column("coach_id", Id, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runners"),
        sa.UniqueConstraint("telegram_user_id", name="uq_runners_telegram_user_id"),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_runners_coach_id_coaches", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_runners_coach_id", "runners", ["coach_id"])
    op.create_table(
        "invites",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("coach_id", Id, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_by", Id, nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("code", name="uq_invites_code"),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_invites_coach_id_coaches", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["runners.id"], name="fk_invites_used_by_runners", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_invites_coach_id", "invites", ["coach_id"])
    op.create_index("ix_invites_used_by", "invites", ["used_by"])
    op.create_table(
        "programs",
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("state", JSONType, nullable=False),
        sa.Column("phase_id", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("runner_id", name="pk_programs"),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"], name="fk_programs_runner_id_runners", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_programs_status", "programs", ["status"])
    op.create_table(
        "sessions",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("prescription", JSONType, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("pain_during", sa.Integer(), nullable=True),
        sa.Column("rpe", sa.Integer(), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("runner_id", "seq", name="uq_sessions_runner_seq"),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"], name="fk_sessions_runner_id_runners", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "answers",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("value", JSONType, nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"], name="fk_answers_runner_id_runners", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_answers_runner_id", "answers", ["runner_id"])
    op.create_table(
        "decisions",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("actions", JSONType, nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["runner_id"],
            ["runners.id"],
            name="fk_decisions_runner_id_runners",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_decisions_runner_at", "decisions", ["runner_id", "at"])
    op.create_table(
        "agenda",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("runner_id", Id, nullable=True),
        sa.Column("coach_id", Id, nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_token", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agenda"),
        sa.UniqueConstraint("scope", "key", name="uq_agenda_scope_key"),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"], name="fk_agenda_runner_id_runners", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_agenda_coach_id_coaches", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_agenda_claim",
        "agenda",
        ["next_attempt_at", "id"],
        postgresql_where=CLAIMABLE,
        sqlite_where=CLAIMABLE,
    )
    op.create_index("ix_agenda_status_due", "agenda", ["status", "due_at"])
    op.create_index("ix_agenda_runner_id", "agenda", ["runner_id"])
    op.create_index("ix_agenda_coach_id", "agenda", ["coach_id"])
    op.create_table(
        "dialogs",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("runner_id", Id, nullable=True),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id", name="pk_dialogs"),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"], name="fk_dialogs_runner_id_runners", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_dialogs_runner_id", "dialogs", ["runner_id"])
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_processed_updates"),
    )
    op.create_index("ix_processed_updates_processed_at", "processed_updates", ["processed_at"])


def downgrade() -> None:
    op.drop_table("processed_updates")
    op.drop_table("dialogs")
    op.drop_table("agenda")
    op.drop_table("decisions")
    op.drop_table("answers")
    op.drop_table("sessions")
    op.drop_table("programs")
    op.drop_table("invites")
    op.drop_table("runners")
    op.drop_table("coaches")
