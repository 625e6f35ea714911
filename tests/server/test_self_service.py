"""What a signed-in person does to their own account: change their PIN under the sign-in's
lockout rules, block their lost badge, and read their notifications (all at once)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from kiosk_server.services.connect import connect_token_for
from kiosk_server.services.notifications import notify
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.orders_support import at_paris, customer, load, place
from tests.server.visits_support import (
    People,
    audit_rows,
    people_fixture,  # noqa: F401 - the `people` fixture
)

NEW_PIN = "862041"


async def signed_in(kiosk: httpx.AsyncClient, pin: str = PIN) -> dict[str, str]:
    answer = await sign_in(kiosk, "1001", pin)
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])


async def change(
    kiosk: httpx.AsyncClient, headers: dict[str, str], current: str, new: str
) -> httpx.Response:
    return await kiosk.post(
        "/v1/me/pin", json={"current_pin": current, "new_pin": new}, headers=headers
    )


async def test_a_person_changes_their_pin_and_is_signed_out_elsewhere(
    kiosk: httpx.AsyncClient,
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    jeanne: Account,
) -> None:
    other_terminal = await factory.device([site], name="Borne cantine")
    async with device_client(service_app, other_terminal.key) as elsewhere:
        there = await signed_in(elsewhere)
        here = await signed_in(kiosk)
        changed = await change(kiosk, here, PIN, NEW_PIN)
        assert changed.status_code == 200, changed.text
        # Still signed in here; signed out on the other terminal.
        assert (await kiosk.get("/v1/me", headers=here)).status_code == 200
        assert_problem(await elsewhere.get("/v1/me", headers=there), 401, "session-invalid")
    assert_problem(await sign_in(kiosk, "1001", PIN), 401, "pin-incorrect")
    assert (await sign_in(kiosk, "1001", NEW_PIN)).status_code == 201
    # Told, on the kiosk and by email; written in the audit log.
    notes = (await kiosk.get("/v1/me/notifications", headers=here)).json()["items"]
    assert [note["kind"] for note in notes] == ["pin_changed"]
    [mail] = await factory.outbox(jeanne.email)
    assert mail.subject == "Votre code PIN a été changé"
    assert NEW_PIN not in mail.body and PIN not in mail.body
    assert [row.action for row in await audit_rows(factory)] == ["account.pin_changed"]


async def test_the_new_pin_follows_the_activation_rules(
    kiosk: httpx.AsyncClient, jeanne: Account
) -> None:
    headers = await signed_in(kiosk)
    assert_problem(await change(kiosk, headers, PIN, "12345"), 422, "pin-malformed")
    assert_problem(await change(kiosk, headers, PIN, "123456"), 422, "pin-too-simple")
    assert_problem(await change(kiosk, headers, PIN, PIN), 422, "pin-unchanged")
    # None of these changed anything.
    assert (await sign_in(kiosk, "1001", PIN)).status_code == 201


async def test_a_wrong_current_pin_counts_as_at_sign_in(
    kiosk: httpx.AsyncClient, jeanne: Account
) -> None:
    headers = await signed_in(kiosk)
    wrong = [await change(kiosk, headers, "000111", NEW_PIN) for _ in range(4)]
    for answer in wrong[:2]:
        assert_problem(answer, 401, "pin-incorrect")
    # From the third wrong PIN in a row, how many tries are left (as at sign-in).
    assert assert_problem(wrong[2], 401, "pin-incorrect")["attempts_left"] == 2
    assert assert_problem(wrong[3], 401, "pin-incorrect")["attempts_left"] == 1
    assert_problem(await change(kiosk, headers, "000111", NEW_PIN), 401, "pin-incorrect")
    # Paused on this terminal now: even the right PIN waits.
    assert_problem(await change(kiosk, headers, PIN, NEW_PIN), 423, "account-paused")
    assert_problem(await sign_in(kiosk, "1001", PIN), 423, "account-paused")


async def test_every_notification_is_marked_read_at_once(
    kiosk: httpx.AsyncClient, jeanne: Account
) -> None:
    headers = await signed_in(kiosk)
    await change(kiosk, headers, PIN, NEW_PIN)
    await change(kiosk, headers, NEW_PIN, "917364")
    listed = (await kiosk.get("/v1/me/notifications", headers=headers)).json()
    assert listed["unread_count"] == 2
    marked = await kiosk.post("/v1/me/notifications/read-all", headers=headers)
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": 2, "unread_count": 0}
    listed = (await kiosk.get("/v1/me/notifications", headers=headers)).json()
    assert listed["unread_count"] == 0
    assert all(item["read"] for item in listed["items"])
    again = await kiosk.post("/v1/me/notifications/read-all", headers=headers)
    assert again.json() == {"marked": 0, "unread_count": 0}


async def test_a_person_blocks_their_lost_badge_with_their_pin(
    kiosk: httpx.AsyncClient,
    service_app: FastAPI,
    factory: Factory,
    site: Site,
    jeanne: Account,
) -> None:
    door_device = await factory.device([site], role="door", name="Porte hall")
    async with factory.session_factory() as session:
        stored_site = await session.get(Site, site.id)
        account = await session.get(Account, jeanne.id)
        assert stored_site is not None and account is not None
        letter = connect_token_for(stored_site, account)
    headers = await signed_in(kiosk)
    old_badge = (await kiosk.get("/v1/me/badge", headers=headers)).json()["token"]
    async with device_client(service_app, door_device.key) as door:
        assert (await door.post("/v1/badges/verify", json={"token": old_badge})).status_code == 200
        # A wrong PIN blocks nothing (and counts as at sign-in).
        refused = await kiosk.post("/v1/me/badge/block", json={"pin": "000111"}, headers=headers)
        assert_problem(refused, 401, "pin-incorrect")
        assert (await door.post("/v1/badges/verify", json={"token": old_badge})).status_code == 200

        blocked = await kiosk.post("/v1/me/badge/block", json={"pin": PIN}, headers=headers)
        assert blocked.status_code == 200, blocked.text
        # The old badge is refused at once; the kiosk shows a new one that works.
        assert_problem(
            await door.post("/v1/badges/verify", json={"token": old_badge}), 422, "badge-tampered"
        )
        new_badge = (await kiosk.get("/v1/me/badge", headers=headers)).json()["token"]
        assert new_badge != old_badge
        assert (await door.post("/v1/badges/verify", json={"token": new_badge})).status_code == 200
    # The welcome letter's QR is revoked too.
    assert_problem(
        await kiosk.post("/v1/auth/connect", json={"connect_token": letter}), 410, "connect-revoked"
    )
    notes = (await kiosk.get("/v1/me/notifications", headers=headers)).json()["items"]
    assert [note["kind"] for note in notes] == ["badge_blocked"]
    [mail] = await factory.outbox(jeanne.email)
    assert mail.subject == "Votre badge a été bloqué"
    [entry] = await audit_rows(factory)
    assert (entry.action, entry.subject) == ("badge.blocked", f"account:{jeanne.id}")


async def test_settings_choose_the_language_the_alert_and_the_channels(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, jeanne: Account
) -> None:
    headers = await signed_in(kiosk)
    settings = (await kiosk.get("/v1/me/settings", headers=headers)).json()
    assert settings["language"] is None and settings["low_balance"] is None
    assert settings["notify"]["order_ready"] == {"email": True, "sms": False}
    assert settings["notify"]["top_up_credited"] == {"email": False, "sms": False}
    assert settings["low_balance_max"] == {"amount_cents": 100000, "currency": "EUR"}
    changed = await kiosk.patch(
        "/v1/me/settings",
        json={
            "language": "en",
            "low_balance_cents": 1500,
            "notify": {"order_ready": {"email": False, "sms": False}},
        },
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["low_balance"] == {"amount_cents": 1500, "currency": "EUR"}
    assert changed.json()["notify"]["order_ready"] == {"email": False, "sms": False}
    assert changed.json()["notify"]["visitor_arrived"] == {"email": True, "sms": False}
    # What a patch leaves out stays; the language comes with the person at sign-in.
    kept = await kiosk.patch("/v1/me/settings", json={"notify": {}}, headers=headers)
    assert kept.json()["language"] == "en" and kept.json()["low_balance"]["amount_cents"] == 1500
    assert (await sign_in(kiosk, "1001", PIN)).json()["me"]["language"] == "en"
    # Out of range, unknown events and channels are refused with the fields named.
    for wrong in (
        {"low_balance_cents": 100001},
        {"low_balance_cents": -1},
        {"language": "de"},
        {"notify": {"lottery": {"email": True}}},
        {"notify": {"order_ready": {"pigeon": True}}},
        {"colour": "red"},
    ):
        refused = await kiosk.patch("/v1/me/settings", json=wrong, headers=headers)
        assert_problem(refused, 422, "validation-failed")
    off = await kiosk.patch("/v1/me/settings", json={"low_balance_cents": None}, headers=headers)
    assert off.json()["low_balance"] is None


async def test_the_chosen_channels_decide_what_goes_out(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    both = await factory.account(
        site, "1002", name="Paul Durand", email="paul@example.com", phone="+33612345678", pin=PIN
    )
    async with factory.session_factory() as session, session.begin():
        account = await session.get(Account, both.id)
        assert account is not None
        account.preferences = {
            "notify": {
                "order_ready": {"email": False, "sms": True},
                "top_up_credited": {"email": True},
            }
        }
        for kind in ("order_ready", "top_up_credited", "visitor_arrived", "pin_changed"):
            await notify(
                session, account=account, kind=kind, title=kind, body="", now=factory.clock.now(),
                email=kind != "top_up_credited",
            )  # fmt: skip
    sent = [(m.channel, m.subject or m.body) for m in await factory.outbox()]
    assert sent == [
        ("sms", "order_ready"),  # chosen: SMS only
        ("email", "top_up_credited"),  # chosen: email (off by default)
        ("email", "visitor_arrived"),  # not chosen: the default
        ("email", "pin_changed"),  # security: always
    ]


async def test_a_payment_below_the_threshold_tells_the_person_once(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site, balance_cents=2000)
    await kiosk.patch("/v1/me/settings", json={"low_balance_cents": 1000}, headers=headers)
    for _ in range(3):  # 20,00 € → 11,50 → 3,00 (below 10,00: told) → refused
        await place(kiosk, headers, ("PLAT", 1))
    notes = (await kiosk.get("/v1/me/notifications", headers=headers)).json()["items"]
    low = [note for note in notes if note["kind"] == "low_balance"]
    assert [note["data"] for note in low] == [{"amount_cents": 300, "currency": "EUR"}]
    assert low[0]["body"] == "Votre solde est de 3,00\xa0€. Pensez à recharger votre compte."


async def test_the_host_is_told_when_reception_decides(people: People) -> None:
    await people.approved()
    rejected = await people.create(submit=True)
    answer = await people.desk_post(
        f"/v1/reception/visits/{rejected['id']}/reject", json={"reason": "Salle indisponible"}
    )
    assert answer.status_code == 200, answer.text
    notes = (await people.host.get("/v1/me/notifications", headers=people.host_headers)).json()
    decided = [note for note in notes["items"] if note["kind"] == "visit_decided"]
    assert [note["data"]["decision"] for note in decided] == ["rejected", "approved"]
    assert decided[0]["data"]["reason"] == "Salle indisponible"
    assert decided[0]["title"] == "Demande de visite refusée"


async def test_a_person_changes_their_email_with_a_code_sent_to_the_new_one(
    kiosk: httpx.AsyncClient, factory: Factory, jeanne: Account
) -> None:
    headers = await signed_in(kiosk)
    profile = (await kiosk.get("/v1/me/profile", headers=headers)).json()
    assert profile == {
        "name": "Jeanne Martin",
        "identifier": "1001",
        "email": "j***@example.com",
        "phone": None,
    }
    for wrong, code in (
        ("pas une adresse", "contact-invalid"),
        (jeanne.email, "contact-unchanged"),
    ):
        refused = await kiosk.post(
            "/v1/me/contact", json={"channel": "email", "value": wrong}, headers=headers
        )
        assert_problem(refused, 422, code)
    sent = await kiosk.post(
        "/v1/me/contact",
        json={"channel": "email", "value": "jeanne.martin@exemple.fr", "language": "en"},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["destination"] == "j***@exemple.fr"
    code = await factory.last_code("jeanne.martin@exemple.fr")
    assert await factory.outbox(jeanne.email) == []  # nothing to the old one yet
    mistyped = await kiosk.post("/v1/me/contact/confirm", json={"code": "000000"}, headers=headers)
    assert_problem(mistyped, 422, "verification-code-invalid")
    confirmed = await kiosk.post("/v1/me/contact/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == "j***@exemple.fr"
    # The old address is told; the code is spent.
    [told] = await factory.outbox(jeanne.email)
    assert told.subject == "Votre adresse e-mail a été changé(e)"
    again = await kiosk.post("/v1/me/contact/confirm", json={"code": code}, headers=headers)
    assert_problem(again, 410, "verification-code-expired")
    assert [row.action for row in await audit_rows(factory)] == ["account.contact_changed"]


async def test_a_phone_typed_the_national_way_is_stored_in_international_form(
    kiosk: httpx.AsyncClient, factory: Factory, jeanne: Account
) -> None:
    headers = await signed_in(kiosk)
    sent = await kiosk.post(
        "/v1/me/contact", json={"channel": "phone", "value": "06 12 34 56 78"}, headers=headers
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["channel"] == "sms"
    code = await factory.last_code("+33612345678")
    confirmed = await kiosk.post("/v1/me/contact/confirm", json={"code": code}, headers=headers)
    assert confirmed.json()["phone"].endswith("78")
    async with factory.session_factory() as session:
        stored = await session.get(Account, jeanne.id)
        assert stored is not None and stored.phone == "+33612345678"
