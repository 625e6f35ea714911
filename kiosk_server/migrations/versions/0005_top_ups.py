"""Top-ups: the service's online top-ups, and the sandbox payment provider's own payments.

Revision ID: 0005_top_ups
Revises: 0004_orders
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_top_ups"
down_revision: str | None = "0004_orders"
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
        "top_ups",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=False),
        sa.Column("checkout_url", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credited_after_state", sa.String(length=16), nullable=True),
        sa.Column("ledger_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        _fk("top_ups", "site_id", "sites", "CASCADE"),
        _fk("top_ups", "account_id", "accounts", "CASCADE"),
        _fk("top_ups", "device_id", "devices", "SET NULL"),
        _fk("top_ups", "ledger_entry_id", "ledger_entries", "SET NULL"),
        _fk("top_ups", "ticket_id", "tickets", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_top_ups")),
        sa.UniqueConstraint("reference", name=op.f("uq_top_ups_reference")),
        sa.UniqueConstraint("provider", "provider_ref", name=op.f("uq_top_ups_provider")),
        sa.UniqueConstraint("ledger_entry_id", name=op.f("uq_top_ups_ledger_entry_id")),
    )
    op.create_index("ix_top_ups_account_id_id", "top_ups", ["account_id", "id"], unique=False)
    op.create_index("ix_top_ups_state_expires_at", "top_ups", ["state", "expires_at"], unique=False)
    op.create_table(
        "sandbox_payments",
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_sandbox_payments")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_payments")
    op.drop_index("ix_top_ups_state_expires_at", table_name="top_ups")
    op.drop_index("ix_top_ups_account_id_id", table_name="top_ups")
    op.drop_table("top_ups")
