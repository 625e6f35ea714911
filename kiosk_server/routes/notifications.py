"""The signed-in person's notifications (order ready, top-up credited, visitor arrived...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kiosk_server.db import as_utc
from kiosk_server.deps import ClockDep, CurrentPerson, DbSession, ResourceId
from kiosk_server.models import Notification
from kiosk_server.problems import problem_responses
from kiosk_server.routes import API
from kiosk_server.schemas_orders import AllRead, NotificationList, NotificationOut
from kiosk_server.services import notifications

router = APIRouter(prefix=f"{API}/me/notifications", tags=["notifications"])

_PERSON = (
    "device-key-missing",
    "device-key-invalid",
    "device-role-forbidden",
    "session-missing",
    "session-invalid",
    "validation-failed",
)


def _out(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        title=notification.title,
        body=notification.body,
        data=dict(notification.data or {}),
        created_at=as_utc(notification.created_at),
        read=notification.read_at is not None,
    )


@router.get("", responses=problem_responses(*_PERSON))
async def list_notifications(
    session: DbSession,
    person: CurrentPerson,
    limit: Annotated[int, Query(ge=1, le=notifications.MAX_LIMIT)] = notifications.DEFAULT_LIMIT,
) -> NotificationList:
    """The latest notifications, unread first, then newest first, with the unread count."""
    rows = await notifications.list_notifications(session, account=person.account, limit=limit)
    unread = await notifications.count_unread(session, account=person.account)
    return NotificationList(unread_count=unread, items=[_out(row) for row in rows])


@router.post("/read-all", responses=problem_responses(*_PERSON))
async def mark_all_read(session: DbSession, person: CurrentPerson, clock: ClockDep) -> AllRead:
    """Mark every unread notification read."""
    marked = await notifications.mark_all_read(session, account=person.account, now=clock.now())
    return AllRead(marked=marked, unread_count=0)


@router.post(
    "/{notification_id}/read", responses=problem_responses(*_PERSON, "notification-unknown")
)
async def mark_read(
    session: DbSession, person: CurrentPerson, clock: ClockDep, notification_id: ResourceId
) -> NotificationOut:
    """Mark one notification read (marking it again changes nothing)."""
    row = await notifications.mark_read(
        session, account=person.account, notification_id=notification_id, now=clock.now()
    )
    return _out(row)
