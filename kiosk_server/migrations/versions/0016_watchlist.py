"""The watchlist: a site's entries, and on each visitor the match, the hold and its outcome.

Revision ID: 0016_watchlist
Revises: 0015_checkout_reminders
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_watchlist"
down_revision: str | None = "0015_checkout_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "watchlist_entries",
        sa.Column("id", KEY, nullable=False),
        sa.Column("site_id", KEY, nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_by_account_id", KEY, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_watchlist_entries_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_watchlist_entries_added_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_entries")),
    )
    op.create_index(
        op.f("ix_watchlist_entries_site_id"), "watchlist_entries", ["site_id"], unique=False
    )
    # No foreign key: SQLite cannot add one to an existing table without rebuilding it, and
    # removing an entry clears this column itself (`services.watchlist.remove`).
    op.add_column("visit_visitors", sa.Column("watch_entry_id", KEY, nullable=True))
    for column in ("held_at", "released_at", "refused_at"):
        op.add_column(
            "visit_visitors", sa.Column(column, sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    for column in ("refused_at", "released_at", "held_at"):
        op.drop_column("visit_visitors", column)
    op.drop_column("visit_visitors", "watch_entry_id")
    op.drop_index(op.f("ix_watchlist_entries_site_id"), table_name="watchlist_entries")
    op.drop_table("watchlist_entries")
