"""Evacuations with a muster: who was on site when reception started one, marked safe at the
muster point, until it is closed (at most one open per site).

Revision ID: 0014_evacuations
Revises: 0013_device_roll_call
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_evacuations"
down_revision: str | None = "0013_device_roll_call"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evacuations",
        sa.Column("id", KEY, nullable=False),
        sa.Column("site_id", KEY, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by_account_id", KEY, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_account_id", KEY, nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_evacuations_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["started_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_evacuations_started_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_evacuations_closed_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuations")),
    )
    op.create_index(
        "ux_evacuations_open_site",
        "evacuations",
        ["site_id"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "evacuation_people",
        sa.Column("evacuation_id", KEY, nullable=False),
        sa.Column("visitor_id", KEY, nullable=False),
        sa.Column("safe_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("marked_by_account_id", KEY, nullable=True),
        sa.ForeignKeyConstraint(
            ["evacuation_id"],
            ["evacuations.id"],
            name=op.f("fk_evacuation_people_evacuation_id_evacuations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visit_visitors.id"],
            name=op.f("fk_evacuation_people_visitor_id_visit_visitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marked_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_evacuation_people_marked_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("evacuation_id", "visitor_id", name=op.f("pk_evacuation_people")),
    )


def downgrade() -> None:
    op.drop_table("evacuation_people")
    op.drop_index("ux_evacuations_open_site", table_name="evacuations")
    op.drop_table("evacuations")
