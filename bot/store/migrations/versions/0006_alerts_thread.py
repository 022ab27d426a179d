"""Alerts with a life cycle, and the runner <-> coach message thread.

`alerts`: one row per coach alert that waits on the coach (a red flag, an escalation, a
clearance, a notice), moving new -> acknowledged -> resolved, each step with who and when.
`messages`: what a runner and their coach wrote to each other through the bot. Both belong to
the runner (ON DELETE CASCADE: erased with them) and are part of their export.

Self-contained on purpose (no import from other revisions), so it can be renumbered on merge.

Revision ID: 0006_alerts_thread
Revises: 0003_ops
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.types import Id, UTCDateTime

revision: str = "0006_alerts_thread"
down_revision: str | Sequence[str] | None = "0003_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("coach_id", Id, nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acked_by", sa.String(64), nullable=True),
        sa.Column("acked_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by_action", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.ForeignKeyConstraint(
            ["runner_id"], ["runners.id"], name="fk_alerts_runner_id_runners", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_alerts_coach_id_coaches", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_alerts_runner_state", "alerts", ["runner_id", "state"])
    op.create_index("ix_alerts_coach_id", "alerts", ["coach_id"])
    op.create_table(
        "messages",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("coach_id", Id, nullable=True),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["runner_id"],
            ["runners.id"],
            name="fk_messages_runner_id_runners",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coach_id"], ["coaches.id"], name="fk_messages_coach_id_coaches", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_messages_runner_id", "messages", ["runner_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_runner_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_alerts_coach_id", table_name="alerts")
    op.drop_index("ix_alerts_runner_state", table_name="alerts")
    op.drop_table("alerts")
