"""64-bit ids on PostgreSQL: every id, and every column that refers to one, is BIGINT.

A path id is any integer from 1 to 2^63 - 1 (the API document says so), and tokens carry 32-bit
unsigned ids: with 32-bit columns, an id between 2^31 and 2^63 made PostgreSQL refuse the query
(a 500). SQLite's INTEGER is already 64-bit: nothing changes there.

Revision ID: 0007_big_keys
Revises: 0006_visits
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_big_keys"
down_revision: str | None = "0006_visits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table → its 32-bit id columns (as 0001-0006 made them); `id` first where the table's own id is.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sites": ("id",),
    "accounts": ("id", "site_id"),
    "audit_log": ("site_id", "actor_account_id", "actor_device_id"),
    "badge_token_uses": ("id", "account_id", "device_id"),
    "catalogue_items": ("id", "site_id"),
    "device_failures": ("id", "device_id"),
    "device_sites": ("device_id", "site_id"),
    "devices": ("id",),
    "ledger_entries": ("site_id", "account_id"),
    "notifications": ("site_id", "account_id"),
    "order_events": ("device_id", "account_id"),
    "order_lines": ("item_id",),
    "orders": ("site_id", "account_id", "device_id"),
    "outbox_messages": ("id", "site_id", "account_id"),
    "person_sessions": ("id", "account_id", "device_id"),
    "pickup_counters": ("site_id",),
    "pin_failures": ("id", "account_id", "device_id"),
    "tickets": ("site_id", "account_id", "device_id"),
    "top_ups": ("site_id", "account_id", "device_id"),
    "verification_codes": ("id", "account_id", "device_id"),
    "visit_events": ("visit_id", "visitor_id", "by_account_id", "by_device_id"),
    "visit_visitors": ("id", "visit_id"),
    "visits": ("id", "site_id", "host_account_id"),
}


def _change(to: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{column}" TYPE {to}' for column in columns)
        op.execute(sa.text(f'ALTER TABLE "{table}" {changes}'))
        if columns[0] == "id":
            # The serial's sequence has a type of its own, and stops at its maximum.
            op.execute(sa.text(f"ALTER SEQUENCE {_sequence(table)} AS {to}"))


def _sequence(table: str) -> str:
    name = op.get_bind().scalar(sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
    return str(name)


def upgrade() -> None:
    _change("BIGINT")


def downgrade() -> None:
    _change("INTEGER")
