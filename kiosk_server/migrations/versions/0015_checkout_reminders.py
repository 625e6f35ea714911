"""Automatic check-out: when the host was reminded of a visitor's coming check-out (once).

Revision ID: 0015_checkout_reminders
Revises: 0014_evacuations
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_checkout_reminders"
down_revision: str | None = "0014_evacuations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "visit_visitors",
        sa.Column("checkout_reminded_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("visit_visitors", "checkout_reminded_at")
