"""Changing one's email or phone: the verification code sent to the new address carries that
address until it is confirmed (`verification_codes.new_contact`).

Revision ID: 0011_contact_change
Revises: 0010_preferences
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Plain ADD COLUMN, never a batch rebuild (see 0008).

revision: str = "0011_contact_change"
down_revision: str | None = "0010_preferences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "verification_codes", sa.Column("new_contact", sa.String(length=254), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("verification_codes", "new_contact")
