"""Visitor photos: where a site asks for one (`visitor_photo`), the visitor kiosk sends a still
with the check-in. It is kept beside the visitor's record, shown to the host and the desk, and
deleted by the retention purge with the rest of the visitor's data; a site that takes no photos
keeps none, even if a kiosk sends one."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Site, VisitorPhoto, VisitVisitor
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_visits import PHOTO_MAX_BYTES
from kiosk_server.services import visits as visit_rules

_JPEG_START = b"\xff\xd8\xff"
_JPEG_END = b"\xff\xd9"


def accepted(site: Site, photo: str | None) -> bytes | None:
    """The JPEG to keep with a check-in, per the site's policy: None where the site takes no
    photos or the visitor declined (where allowed). Raises `photo-required` or
    `photo-invalid` (not base64, not a JPEG, over 40 KiB)."""
    policy = visit_rules.settings_of(site).visitor_photo
    if policy == "off":
        return None
    if not photo:
        if policy == "required":
            raise ProblemError("photo-required", "This site asks for a photo at check-in.")
        return None
    try:
        jpeg = base64.b64decode(photo, validate=True)
    except (binascii.Error, ValueError):
        raise ProblemError("photo-invalid", "The photo is not base64.") from None
    if len(jpeg) > PHOTO_MAX_BYTES:
        raise ProblemError("photo-invalid", "The photo is over 40 KiB.")
    if not jpeg.startswith(_JPEG_START) or not jpeg.rstrip(b"\x00").endswith(_JPEG_END):
        raise ProblemError("photo-invalid", "The photo is not a JPEG image.")
    return jpeg


async def keep(
    session: AsyncSession, *, visitor: VisitVisitor, jpeg: bytes, now: dt.datetime
) -> None:
    """Keep the visitor's photo (a later one replaces it: a visit of several days)."""
    existing = await session.get(VisitorPhoto, visitor.id)
    if existing is None:
        session.add(VisitorPhoto(visitor_id=visitor.id, jpeg=jpeg, taken_at=now))
    else:
        existing.jpeg = jpeg
        existing.taken_at = now
    await session.flush()


async def photo_of(session: AsyncSession, *, visitor_id: int) -> bytes:
    """The visitor's JPEG (`photo-none` when none was taken, or it was purged). The caller has
    checked the visitor is theirs to see."""
    jpeg = await session.scalar(
        select(VisitorPhoto.jpeg).where(VisitorPhoto.visitor_id == visitor_id)
    )
    if jpeg is None:
        raise ProblemError("photo-none", "No photo of this visitor.")
    return bytes(jpeg)
