"""Visits: visit requests, their visitors (with their invitation), their history, and the
site's audit log.

Revision ID: 0006_visits
Revises: 0005_top_ups
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_visits"
down_revision: str | None = "0005_top_ups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("host_account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("arrival_from", sa.Time(), nullable=False),
        sa.Column("arrival_until", sa.Time(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("walk_in", sa.Boolean(), nullable=False),
        sa.Column("rejection_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("visits", "site_id", "sites", "CASCADE"),
        _fk("visits", "host_account_id", "accounts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index("ix_visits_site_id_first_day", "visits", ["site_id", "first_day"])
    op.create_index("ix_visits_host_account_id", "visits", ["host_account_id"])

    op.create_table(
        "visit_visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("invitation_nonce", sa.BigInteger(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("invitation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rules_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rules_language", sa.String(length=8), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        _fk("visit_visitors", "visit_id", "visits", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_visitors")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_visit_visitors_code_hash")),
    )
    op.create_index(op.f("ix_visit_visitors_visit_id"), "visit_visitors", ["visit_id"])

    op.create_table(
        "visit_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_account_id", sa.Integer(), nullable=True),
        sa.Column("by_device_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        _fk("visit_events", "visit_id", "visits", "CASCADE"),
        _fk("visit_events", "visitor_id", "visit_visitors", "SET NULL"),
        _fk("visit_events", "by_account_id", "accounts", "SET NULL"),
        _fk("visit_events", "by_device_id", "devices", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_events")),
    )
    op.create_index(op.f("ix_visit_events_visit_id"), "visit_events", ["visit_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_account_id", sa.Integer(), nullable=True),
        sa.Column("actor_device_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _fk("audit_log", "site_id", "sites", "CASCADE"),
        _fk("audit_log", "actor_account_id", "accounts", "SET NULL"),
        _fk("audit_log", "actor_device_id", "devices", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_site_id_at", "audit_log", ["site_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_site_id_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_visit_events_visit_id"), table_name="visit_events")
    op.drop_table("visit_events")
    op.drop_index(op.f("ix_visit_visitors_visit_id"), table_name="visit_visitors")
    op.drop_table("visit_visitors")
    op.drop_index("ix_visits_host_account_id", table_name="visits")
    op.drop_index("ix_visits_site_id_first_day", table_name="visits")
    op.drop_table("visits")
