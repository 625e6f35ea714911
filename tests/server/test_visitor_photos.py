"""Visitor photos over HTTP: where the site asks for one, the kiosk's still travels with the
check-in, the host and the desk see it, the visitor may decline where the site allows it, a site
that takes no photos keeps none, and the retention purge deletes it with the rest."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import cv2
import numpy as np
from fastapi import FastAPI
from sqlalchemy import select

from kiosk_server.admin.purge import purge
from kiosk_server.clock import ManualClock
from kiosk_server.models import Notification, Site, VisitorPhoto
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem
from tests.server.visits_support import (
    DAY,
    People,
    invitation_token,
    people_fixture,  # noqa: F401 - the `people` fixture
    set_local,
    set_site_settings,
    signed_in,
)


def still() -> bytes:
    """A kiosk's still: 320×240, grey, JPEG."""
    ramp = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    cv2.circle(ramp, (160, 120), 60, 30, -1)
    done, encoded = cv2.imencode(".jpg", ramp, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert done
    return bytes(encoded.tobytes())


async def _ready(people: People, factory: Factory, clock: ManualClock) -> tuple[int, str]:
    """An approved visit, the clock in its window: the visitor's id and invitation token."""
    approved = await people.approved()
    visitor_id = approved["visitors"][0]["id"]
    set_local(clock, DAY, "14:05")
    return visitor_id, await invitation_token(factory, visitor_id)


async def _check_in(people: People, token: str, photo: str | None) -> Any:
    body: dict[str, Any] = {"token": token, "rules_accepted": True}
    if photo is not None:
        body["photo"] = photo
    return await people.kiosk.post("/v1/visitor-desk/check-in", json=body)


async def test_the_still_goes_to_the_host_and_the_desk(
    people: People, factory: Factory, site: Site, clock: ManualClock, service_app: FastAPI
) -> None:
    await set_site_settings(factory, site, visitor_photo="optional")
    visitor_id, token = await _ready(people, factory, clock)
    seen = await people.kiosk.post("/v1/visitor-desk/lookup", json={"token": token})
    assert seen.json()["photo"] == "optional"

    jpeg = still()
    checked = await _check_in(people, token, base64.b64encode(jpeg).decode())
    assert checked.status_code == 200, checked.text

    async with factory.session_factory() as session:
        (arrived,) = await session.scalars(
            select(Notification).where(Notification.kind == "visitor_arrived")
        )
    assert arrived.data["photo"] == 1 and arrived.data["visitor_id"] == visitor_id
    visit_id = arrived.data["visit_id"]

    mine = await people.host.get(
        f"/v1/me/visits/{visit_id}/visitors/{visitor_id}/photo", headers=people.host_headers
    )
    assert mine.status_code == 200
    assert mine.headers["content-type"] == "image/jpeg"
    assert mine.headers["cache-control"] == "no-store"
    assert mine.content == jpeg
    desk = await people.desk_get(f"/v1/reception/visitors/{visitor_id}/photo")
    assert desk.content == jpeg
    (row,) = (await people.desk_get("/v1/reception/visits")).json()["on_site"]
    assert row["has_photo"] is True

    # Nobody else's: another person of the site, and another site's desk.
    await factory.account(site, "H2", name="Hugo Autre", pin=PIN)
    other_terminal = await factory.device([site], name="Bureau 14")
    async with device_client(service_app, other_terminal.key) as other:
        headers = await signed_in(other, "H2")
        theirs = await other.get(
            f"/v1/me/visits/{visit_id}/visitors/{visitor_id}/photo", headers=headers
        )
        assert_problem(theirs, 404, "visit-unknown")
        not_a_desk = await other.get(f"/v1/reception/visitors/{visitor_id}/photo", headers=headers)
        assert_problem(not_a_desk, 403, "role-forbidden")


async def test_a_site_that_requires_a_photo_refuses_a_check_in_without_one(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await set_site_settings(factory, site, visitor_photo="required")
    visitor_id, token = await _ready(people, factory, clock)
    assert_problem(await _check_in(people, token, None), 422, "photo-required")
    not_jpeg = base64.b64encode(b"GIF89a" + b"\x00" * 64).decode()
    assert_problem(await _check_in(people, token, not_jpeg), 422, "photo-invalid")
    too_big = base64.b64encode(b"\xff\xd8\xff" + b"\x00" * 42_000 + b"\xff\xd9").decode()
    assert_problem(await _check_in(people, token, too_big), 422, "validation-failed")
    # Nothing was recorded by the refusals.
    day = (await people.desk_get("/v1/reception/visits")).json()
    assert [r["visitor_id"] for r in day["expected"]] == [visitor_id]
    checked = await _check_in(people, token, base64.b64encode(still()).decode())
    assert checked.status_code == 200, checked.text


async def test_declined_or_not_asked_no_photo_is_kept(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    visitor_id, token = await _ready(people, factory, clock)
    # The site takes no photos: one sent anyway is not kept.
    checked = await _check_in(people, token, base64.b64encode(still()).decode())
    assert checked.status_code == 200, checked.text
    assert_problem(
        await people.desk_get(f"/v1/reception/visitors/{visitor_id}/photo"), 404, "photo-none"
    )
    (row,) = (await people.desk_get("/v1/reception/visits")).json()["on_site"]
    assert row["has_photo"] is False

    # Optional, declined: checked in without one.
    await set_site_settings(factory, site, visitor_photo="optional")
    second = await people.approved(
        visitors=[
            {
                "first_name": "Marc",
                "last_name": "Roy",
                "company": "",
                "email": "marc@example.com",
                "phone": None,
            }
        ]
    )
    token = await invitation_token(factory, second["visitors"][0]["id"])
    assert (await _check_in(people, token, None)).status_code == 200


async def test_the_purge_deletes_the_photo(
    people: People, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await set_site_settings(factory, site, visitor_photo="optional")
    _, token = await _ready(people, factory, clock)
    assert (await _check_in(people, token, base64.b64encode(still()).decode())).status_code == 200
    set_local(clock, DAY + dt.timedelta(days=31), "00:30")
    async with factory.session_factory() as session:
        await purge(session, site_code=None, now=clock.now())
        await session.commit()
    async with factory.session_factory() as session:
        assert list(await session.scalars(select(VisitorPhoto))) == []
