"""Coaches' language: NULL until their first contact sets it from Telegram's language_code.

Runners already have `runners.language` (0001); it now holds the negotiated language ("en",
"de") from their first contact and /settings.

Self-contained on purpose (no import from other revisions), so it can be renumbered on merge.

Revision ID: 0008_language
Revises: 0004_overlay (chained after main's head at the merge)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_language"
down_revision: str | Sequence[str] | None = "0004_overlay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coaches") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coaches") as batch:
        batch.drop_column("language")
