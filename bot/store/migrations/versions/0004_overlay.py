"""The coach's overlay: every version of a coach's tailoring of a runner, with who and when.

Self-contained on purpose (no import from other revisions), so it can be renumbered on merge.

Revision ID: 0004_overlay
Revises: 0005_invite_protocol (re-chained at the merges of main; written on 0003_ops)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.types import Id, JSONType, UTCDateTime

revision: str = "0004_overlay"
down_revision: str | Sequence[str] | None = "0005_invite_protocol"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overlay_versions",
        sa.Column("id", Id, autoincrement=True),
        sa.Column("runner_id", Id, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("overlay", JSONType, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_overlay_versions"),
        sa.ForeignKeyConstraint(
            ["runner_id"],
            ["runners.id"],
            name="fk_overlay_versions_runner_id_runners",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("runner_id", "version", name="uq_overlay_versions_runner_version"),
    )


def downgrade() -> None:
    op.drop_table("overlay_versions")
