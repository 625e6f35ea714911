"""Visitor photos: the still a kiosk takes at check-in, where the site asks for one.

Revision ID: 0017_visitor_photos
Revises: 0016_watchlist
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_visitor_photos"
down_revision: str | None = "0016_watchlist"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "visitor_photos",
        sa.Column("visitor_id", KEY, nullable=False),
        sa.Column("jpeg", sa.LargeBinary(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visit_visitors.id"],
            name=op.f("fk_visitor_photos_visitor_id_visit_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("visitor_id", name=op.f("pk_visitor_photos")),
    )


def downgrade() -> None:
    op.drop_table("visitor_photos")
