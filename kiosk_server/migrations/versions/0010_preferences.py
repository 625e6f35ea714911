"""A person's own settings: the kiosk's language for them, a low-balance threshold, and which
events reach them by email or SMS (`preferences`, JSON).

Revision ID: 0010_preferences
Revises: 0009_help
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Plain ADD COLUMN, never a batch rebuild: on SQLite, rebuilding a table drops the old one, and
# with foreign keys on that cascade-deletes every row that refers to it (see 0003).

revision: str = "0010_preferences"
down_revision: str | None = "0009_help"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("preferences", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    op.drop_column("accounts", "preferences")
