"""What made a ticket: an order (paid or refunded) or an online top-up refers to its tickets;
indexes on those references let a ticket name its order or top-up (`TicketSummary.order_id`,
`top_up_id`) without a scan.

Revision ID: 0012_ticket_references
Revises: 0011_contact_change
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_ticket_references"
down_revision: str | None = "0011_contact_change"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_ticket_id", "orders", ["ticket_id"])
    op.create_index("ix_orders_refund_ticket_id", "orders", ["refund_ticket_id"])
    op.create_index("ix_top_ups_ticket_id", "top_ups", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_top_ups_ticket_id", table_name="top_ups")
    op.drop_index("ix_orders_refund_ticket_id", table_name="orders")
    op.drop_index("ix_orders_ticket_id", table_name="orders")
