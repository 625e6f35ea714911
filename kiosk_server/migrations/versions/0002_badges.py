"""Badges and connect QRs: per-account badge secrets and connect versions, per-site connect
secrets, and the table that makes one badge token pay once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_BYTES = 32
"""As `kiosk_server.tokens` makes them; copied here so that this migration never changes when
the application code does."""


def _add_secret_column(table: str, column: str) -> None:
    """Add a NOT NULL secret column and give every existing row a random secret of its own."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite can only make a column NOT NULL by rebuilding its table, and rebuilding a table
        # that others reference with ON DELETE CASCADE would empty those (foreign keys are on
        # and cannot be turned off inside the migration's transaction). So the column is added
        # NOT NULL with an empty default, which no row keeps: each gets its random secret below,
        # and new rows get theirs from the model. An empty secret would refuse to sign anyway.
        op.add_column(
            table,
            sa.Column(column, sa.LargeBinary(), nullable=False, server_default=sa.text("X''")),
        )
    else:
        op.add_column(table, sa.Column(column, sa.LargeBinary(), nullable=True))
    table_ref = sa.table(table, sa.column("id", sa.Integer()), sa.column(column, sa.LargeBinary()))
    ids = bind.execute(sa.select(table_ref.c.id)).scalars().all()
    for row_id in ids:
        bind.execute(
            table_ref.update()
            .where(table_ref.c.id == row_id)
            .values({column: secrets.token_bytes(SECRET_BYTES)})
        )
    if bind.dialect.name != "sqlite":
        op.alter_column(table, column, existing_type=sa.LargeBinary(), nullable=False)


def upgrade() -> None:
    _add_secret_column("accounts", "badge_secret")
    op.add_column(
        "accounts",
        sa.Column("connect_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    _add_secret_column("sites", "connect_secret")
    op.create_table(
        "badge_token_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_badge_token_uses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_badge_token_uses_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_token_uses")),
        sa.UniqueConstraint("account_id", "step", name=op.f("uq_badge_token_uses_account_id")),
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), not a batch rebuild: see `_add_secret_column`.
    op.drop_table("badge_token_uses")
    op.drop_column("sites", "connect_secret")
    op.drop_column("accounts", "connect_version")
    op.drop_column("accounts", "badge_secret")
