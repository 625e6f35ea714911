"""What a terminal words in its own language: a catalogue item's name and description per
language (`translations`), and the facts a notification is made of (`data`: an order's pickup
number, a visitor's name...), so that a kiosk in English on a French site says it in English.

Revision ID: 0008_languages
Revises: 0007_big_keys
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_languages"
down_revision: str | None = "0007_big_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalogue_items") as batch:
        batch.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(
            sa.Column("data", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("data")
    with op.batch_alter_table("catalogue_items") as batch:
        batch.drop_column("translations")
