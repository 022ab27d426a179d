"""Agenda: index due_at alone instead of (status, due_at).

With (status, due_at) SQLite's planner, lacking statistics (no ANALYZE has run), preferred it for
the claim query over the partial claim index and then sorted every pending row: 0.8 s per claim
with 400,000 pending rows. due_at alone serves `boneload agenda` and cannot serve the claim.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_agenda_status_due", table_name="agenda")
    op.create_index("ix_agenda_due_at", "agenda", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_agenda_due_at", table_name="agenda")
    op.create_index("ix_agenda_status_due", "agenda", ["status", "due_at"])
