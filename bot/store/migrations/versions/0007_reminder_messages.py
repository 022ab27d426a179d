"""Runner's own switch for the session timer (the voice message sent with run reminders).

On by default: rows from before this revision keep getting the timer, as they did.

Self-contained on purpose (no import from other revisions), so it can be renumbered on merge.

Revision ID: 0007_reminder_messages
Revises: 0006_alerts_thread
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reminder_messages"
down_revision: str | Sequence[str] | None = "0006_alerts_thread"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.add_column(
            sa.Column("session_timer", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("runners") as batch:
        batch.drop_column("session_timer")
