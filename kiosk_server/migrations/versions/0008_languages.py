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

# Plain ADD COLUMN, never a batch rebuild: on SQLite, rebuilding a table drops the old one, and
# with foreign keys on that cascade-deletes every row that refers to it (see 0003).

revision: str = "0008_languages"
down_revision: str | None = "0007_big_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "catalogue_items",
        sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column(
        "notifications",
        sa.Column("data", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    op.drop_column("notifications", "data")
    op.drop_column("catalogue_items", "translations")
