"""A device may keep the roll call of its sites without anyone signed in (`devices.roll_call`):
reception terminals refresh their copy in the background, and `kiosk roll-call` reads it over
SSH.

Revision ID: 0013_device_roll_call
Revises: 0012_ticket_references
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_device_roll_call"
down_revision: str | None = "0012_ticket_references"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "devices",
        sa.Column("roll_call", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("devices", "roll_call")
