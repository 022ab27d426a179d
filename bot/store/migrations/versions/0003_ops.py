"""Operations: processed updates keyed by (bot id, update id); agenda ticker heartbeats.

Telegram counts update ids per bot, so with another bot token the same ids come again: the
dedup table is keyed by the bot's numeric id as well. Rows from before this revision get bot id
0; a redelivery of one of those (only updates in flight during the upgrade) is taken as new.

`heartbeats` holds, per instance, when its agenda ticker last ran, for `boneload doctor` and
`/healthz` (a dispatcher that stopped ticking must not read healthy).

Self-contained on purpose (no import from other revisions), so it can be renumbered on merge.

Revision ID: 0003_ops
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.types import UTCDateTime

revision: str = "0003_ops"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_updates", recreate="always") as batch:
        batch.add_column(
            sa.Column("bot_id", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.drop_constraint("pk_processed_updates", type_="primary")
        batch.create_primary_key("pk_processed_updates", ["bot_id", "update_id"])
    op.create_table(
        "heartbeats",
        sa.Column("instance", sa.String(200), nullable=False),
        sa.Column("last_tick_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance", name="pk_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
    # Ids of other bots would collide on update_id alone: keep one row per update id.
    op.execute(
        "DELETE FROM processed_updates WHERE bot_id <> "
        "(SELECT MAX(bot_id) FROM processed_updates)"
    )
    with op.batch_alter_table("processed_updates", recreate="always") as batch:
        batch.drop_constraint("pk_processed_updates", type_="primary")
        batch.create_primary_key("pk_processed_updates", ["update_id"])
        batch.drop_column("bot_id")
