"""The audit log: one row per check-in, check-out, approval, rejection and deletion, in the
transaction of what it records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import AuditLogEntry

PERSONAL_DETAIL_KEYS = frozenset({"visitor_name", "company"})
"""Detail keys that name a visitor: the retention purge empties them."""


async def record(
    session: AsyncSession,
    *,
    site_id: int,
    action: str,
    subject: str,
    now: dt.datetime,
    actor_account_id: int | None = None,
    actor_device_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Add one audit row (flushed with the caller's transaction, not committed)."""
    entry = AuditLogEntry(
        site_id=site_id,
        at=now,
        actor_account_id=actor_account_id,
        actor_device_id=actor_device_id,
        action=action,
        subject=subject,
        detail=dict(detail or {}),
    )
    session.add(entry)
    return entry
