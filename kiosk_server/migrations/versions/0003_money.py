"""Money: running balances with their floor, idempotency keys, tickets and their lines.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FLOOR_CHECK = "balance_cents + overdraft_limit_cents >= 0"
LIMIT_CHECK = "overdraft_limit_cents >= 0"


def _add_balance_columns() -> None:
    bind = op.get_bind()
    op.add_column(
        "accounts",
        sa.Column("balance_cents", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    if bind.dialect.name == "sqlite":
        # No batch rebuild of `accounts`: dropping the old table would cascade-delete the rows
        # that reference it (foreign keys are on; see 0002). SQLite accepts CHECK constraints in
        # ADD COLUMN, as column constraints; they may name other columns of the row.
        op.add_column(
            "accounts",
            sa.Column(
                "overdraft_limit_cents",
                sa.BigInteger(),
                sa.CheckConstraint(FLOOR_CHECK, name="balance_floor"),
                sa.CheckConstraint(LIMIT_CHECK, name="overdraft_limit_nonnegative"),
                nullable=False,
                server_default=sa.text("0"),
            ),
        )
    else:
        op.add_column(
            "accounts",
            sa.Column(
                "overdraft_limit_cents",
                sa.BigInteger(),
                nullable=False,
                server_default=sa.text("0"),
            ),
        )
    # The running balance starts as the sum of the entries; a balance already below zero keeps
    # a floor that lets it be (credits are always taken, debits follow the site's policy).
    bind.execute(
        sa.text(
            "UPDATE accounts SET balance_cents = sums.total, "
            "overdraft_limit_cents = CASE WHEN sums.total < 0 THEN -sums.total ELSE 0 END "
            "FROM (SELECT account_id, SUM(amount_cents) AS total FROM ledger_entries "
            "GROUP BY account_id) AS sums WHERE sums.account_id = accounts.id"
        )
    )
    if bind.dialect.name != "sqlite":
        op.create_check_constraint(op.f("ck_accounts_balance_floor"), "accounts", FLOOR_CHECK)
        op.create_check_constraint(
            op.f("ck_accounts_overdraft_limit_nonnegative"), "accounts", LIMIT_CHECK
        )


def upgrade() -> None:
    _add_balance_columns()
    op.create_table(
        "idempotency_keys",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope")),
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )
    op.create_table(
        "tickets",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("ledger_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_tickets_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_tickets_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_tickets_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_tickets_ledger_entry_id_ledger_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("ledger_entry_id", name=op.f("uq_tickets_ledger_entry_id")),
    )
    op.create_index("ix_tickets_account_id_id", "tickets", ["account_id", "id"], unique=False)
    op.create_table(
        "ticket_lines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=False),
        sa.Column("line_total_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_lines_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_lines")),
    )
    op.create_index(op.f("ix_ticket_lines_ticket_id"), "ticket_lines", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_lines_ticket_id"), table_name="ticket_lines")
    op.drop_table("ticket_lines")
    op.drop_index("ix_tickets_account_id_id", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_accounts_overdraft_limit_nonnegative"), "accounts")
        op.drop_constraint(op.f("ck_accounts_balance_floor"), "accounts")
    # SQLite cannot drop a column that a CHECK constraint names without a table rebuild (see
    # above why there is none): the columns stay, unused, on a downgraded SQLite database.
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("accounts", "overdraft_limit_cents")
        op.drop_column("accounts", "balance_cents")
