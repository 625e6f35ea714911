"""Help: the questions and answers a site gives its people (in each of its languages), and its
support contact, loaded with `kiosk-server help load`.

Revision ID: 0009_help
Revises: 0008_languages
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Plain ADD COLUMN, never a batch rebuild: on SQLite, rebuilding a table drops the old one, and
# with foreign keys on that cascade-deletes every row that refers to it (see 0003).

revision: str = "0009_help"
down_revision: str | None = "0008_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_help_entries_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_entries")),
    )
    op.create_index("ix_help_entries_site_id_position", "help_entries", ["site_id", "position"])
    op.add_column(
        "sites",
        sa.Column("help_contact", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    op.drop_column("sites", "help_contact")
    op.drop_index("ix_help_entries_site_id_position", table_name="help_entries")
    op.drop_table("help_entries")
