"""Invites carry a protocol: the coach's choice for the runner who enrols through the invite.

Null (every invite from before this revision, and `/invite` with no argument): the runner follows
their site's protocol. A protocol that is not one for the runner's site is not followed there
(the site's own is, and the coach is told): the engine decides that at enrolment, not the store.

Self-contained on purpose (no import from other revisions), so it can be renumbered on merge.

Revision ID: 0005_invite_protocol
Revises: 0007_reminder_messages
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_invite_protocol"
down_revision: str | Sequence[str] | None = "0007_reminder_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("protocol_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("protocol_id")
