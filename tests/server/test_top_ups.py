"""Online top-ups over HTTP: start, pay on the sandbox's checkout page, credited once, with the
site's limits, idempotency, cancel, expiry and reconciliation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.cli import main
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Site
from kiosk_server.payments import provider_for
from kiosk_server.services.top_ups import expire_stale_top_ups
from tests.factories import Factory
from tests.server.cli_support import isolate_environment
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.top_up_support import (
    WebhookOutbox,
    balance,
    cancel,
    jeanne_fixture,
    new_key,
    person_fixture,
    press,
    sandbox_payment_count,
    sandbox_site_fixture,
    start,
    started,
    top_up_state,
    top_up_tickets,
    webhooks_fixture,
)

site = sandbox_site_fixture()
webhooks = webhooks_fixture()
jeanne = jeanne_fixture()
person = person_fixture()


async def test_options_give_presets_and_limits(
    kiosk: httpx.AsyncClient, person: dict[str, str]
) -> None:
    answer = await kiosk.get("/v1/me/top-ups/options", headers=person)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "available": True,
        "sandbox": True,
        "currency": "EUR",
        "presets": [
            {"amount_cents": 1000, "currency": "EUR"},
            {"amount_cents": 2000, "currency": "EUR"},
            {"amount_cents": 5000, "currency": "EUR"},
        ],
        "min": {"amount_cents": 500, "currency": "EUR"},
        "max": {"amount_cents": 20000, "currency": "EUR"},
    }


async def test_a_paid_top_up_is_credited_once_with_a_ticket(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    clock: ManualClock,
) -> None:
    top_up = await started(kiosk, person, 2000)
    assert top_up["state"] == "pending"
    assert top_up["amount"] == {"amount_cents": 2000, "currency": "EUR"}
    assert top_up["checkout_url"].startswith("http://kiosk.test/sandbox/checkout/")
    assert dt.datetime.fromisoformat(top_up["expires_at"]) == clock.now() + dt.timedelta(minutes=15)
    assert top_up["balance_after"] is None

    await press(api, top_up, "pay")

    assert [answer.json() for answer in webhooks.answers] == [{"outcome": "applied"}]
    done = await top_up_state(kiosk, person, top_up["id"])
    assert done["state"] == "succeeded"
    assert done["balance_after"] == {"amount_cents": 3000, "currency": "EUR"}
    assert done["credited_after_state"] is None
    assert await balance(kiosk, person) == 3000
    (ticket,) = await top_up_tickets(kiosk, person)
    assert ticket["id"] == done["ticket_id"]
    assert ticket["amount"] == {"amount_cents": 2000, "currency": "EUR"}
    assert ticket["place"] == "Borne hall"
    # The ticket names the top-up that made it (and the top-up its ticket, above).
    assert (ticket["top_up_id"], ticket["order_id"]) == (top_up["id"], None)
    detail = (await kiosk.get(f"/v1/me/tickets/{ticket['id']}", headers=person)).json()
    assert [line["item"] for line in detail["lines"]] == ["Rechargement"]
    assert detail["top_up_id"] == top_up["id"]
    notes = await kiosk.get("/v1/me/notifications", headers=person)
    assert notes.status_code == 200, notes.text
    assert "Rechargement crédité" in notes.text


async def test_the_same_idempotency_key_answers_the_same_top_up(
    kiosk: httpx.AsyncClient, person: dict[str, str], factory: Factory
) -> None:
    key = new_key()
    first = await start(kiosk, person, 1000, key)
    again = await start(kiosk, person, 1000, key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotency-Replayed"] == "true"
    assert await sandbox_payment_count(factory) == 1
    listed = (await kiosk.get("/v1/me/top-ups", headers=person)).json()
    assert [item["id"] for item in listed["items"]] == [first.json()["id"]]

    other_amount = await start(kiosk, person, 2000, key)
    assert_problem(other_amount, 422, "idempotency-key-reused")
    missing = await kiosk.post("/v1/me/top-ups", json={"amount_cents": 1000}, headers=person)
    assert_problem(missing, 400, "idempotency-key-missing")


@pytest.mark.parametrize("amount", [499, 20001])
async def test_amounts_outside_the_limits_are_refused_with_the_limits(
    kiosk: httpx.AsyncClient, person: dict[str, str], factory: Factory, amount: int
) -> None:
    body = assert_problem(await start(kiosk, person, amount), 422, "top-up-out-of-range")
    assert body["min"] == {"amount_cents": 500, "currency": "EUR"}
    assert body["max"] == {"amount_cents": 20000, "currency": "EUR"}
    assert "5,00" in str(body["detail"]) and "200,00" in str(body["detail"])
    assert await sandbox_payment_count(factory) == 0
    assert (await kiosk.get("/v1/me/top-ups", headers=person)).json()["items"] == []


async def test_without_the_sandbox_a_site_takes_no_online_top_up(
    service_app: FastAPI, factory: Factory
) -> None:
    plain = await factory.site("PLAIN")
    device = await factory.device([plain], name="Borne")
    await factory.account(plain, "7", pin=PIN)
    from tests.conftest import device_client

    async with device_client(service_app, device.key) as kiosk:
        signed_in = await sign_in(kiosk, "7", PIN, solution="PLAIN")
        headers = bearer(signed_in.json()["token"])
        options = (await kiosk.get("/v1/me/top-ups/options", headers=headers)).json()
        assert options["available"] is False
        refused = await start(kiosk, headers, 1000)
        assert_problem(refused, 409, "payments-unavailable")
    assert await sandbox_payment_count(factory) == 0


async def test_cancel_while_pending(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    top_up = await started(kiosk, person, 1000)
    answer = await cancel(kiosk, person, top_up["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "cancelled"
    # The checkout page no longer takes the payment.
    page = await api.get(f"/sandbox/checkout/{top_up['checkout_url'].rsplit('/', 1)[1]}")
    assert "Paiement annulé" in page.text and "<form" not in page.text
    await press(api, top_up, "pay")
    assert webhooks.sent == []
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "cancelled"
    assert await balance(kiosk, person) == 1000
    assert_problem(
        await kiosk.post(f"/v1/me/top-ups/{top_up['id']}/cancel", headers=person),
        400,
        "idempotency-key-missing",
    )


async def test_cancel_after_the_person_paid_credits_instead(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    webhooks.hold = True  # The webhook is slow: the cancel reaches the service first.
    top_up = await started(kiosk, person, 5000)
    await press(api, top_up, "pay")
    answer = await cancel(kiosk, person, top_up["id"])
    assert answer.json()["state"] == "succeeded"
    assert answer.json()["balance_after"] == {"amount_cents": 6000, "currency": "EUR"}
    (held,) = webhooks.held
    assert (await webhooks.deliver(held)).json() == {"outcome": "unchanged"}
    assert await balance(kiosk, person) == 6000
    assert len(await top_up_tickets(kiosk, person)) == 1


async def test_a_payment_whose_webhook_was_lost_is_credited_at_expiry(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    clock: ManualClock,
) -> None:
    webhooks.hold = True  # Never delivered.
    top_up = await started(kiosk, person, 1000)
    await press(api, top_up, "pay")
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "pending"
    clock.advance(minutes=16)
    done = await top_up_state(kiosk, person, top_up["id"])
    assert done["state"] == "succeeded"
    assert await balance(kiosk, person) == 2000


async def test_an_unpaid_top_up_past_its_expiry_expires_and_can_no_longer_be_paid(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    clock: ManualClock,
) -> None:
    top_up = await started(kiosk, person, 1000)
    clock.advance(minutes=15, seconds=1)
    listed = (await kiosk.get("/v1/me/top-ups", headers=person)).json()
    assert [item["state"] for item in listed["items"]] == ["expired"]
    await press(api, top_up, "pay")
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "expired"
    assert await balance(kiosk, person) == 1000
    assert all(w.body.count(b'"succeeded"') == 0 for w in webhooks.sent)


async def test_the_reconcile_job_settles_every_stale_top_up(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    service_app: FastAPI,
    clock: ManualClock,
) -> None:
    webhooks.hold = True
    paid = await started(kiosk, person, 1000)
    await press(api, paid, "pay")
    unpaid = await started(kiosk, person, 2000)
    clock.advance(minutes=20)
    fresh = await started(kiosk, person, 3000)
    report = await expire_stale_top_ups(
        service_app.state.session_factory, provider_for(service_app), clock.now()
    )
    assert report == {"succeeded": 1, "expired": 1}
    assert (await top_up_state(kiosk, person, paid["id"]))["state"] == "succeeded"
    assert (await top_up_state(kiosk, person, unpaid["id"]))["state"] == "expired"
    assert (await top_up_state(kiosk, person, fresh["id"]))["state"] == "pending"
    assert await balance(kiosk, person) == 2000
    again = await expire_stale_top_ups(
        service_app.state.session_factory, provider_for(service_app), clock.now()
    )
    assert again == {}


async def test_listing_pages_newest_first_and_filters_pending(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    ids = [(await started(kiosk, person, 1000 + i * 100))["id"] for i in range(3)]
    first = await top_up_state(kiosk, person, ids[0])
    await press(api, first, "pay")
    page = (await kiosk.get("/v1/me/top-ups?limit=2", headers=person)).json()
    assert [item["id"] for item in page["items"]] == [ids[2], ids[1]]
    rest = (
        await kiosk.get(f"/v1/me/top-ups?limit=2&cursor={page['next_cursor']}", headers=person)
    ).json()
    assert [(item["id"], item["state"]) for item in rest["items"]] == [(ids[0], "succeeded")]
    assert rest["next_cursor"] is None
    pending = (await kiosk.get("/v1/me/top-ups?state=pending", headers=person)).json()
    assert [item["id"] for item in pending["items"]] == [ids[2], ids[1]]


async def test_another_persons_top_up_is_unknown(
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    factory: Factory,
    site: Site,
    jeanne: Account,
) -> None:
    top_up = await started(kiosk, person, 1000)
    await factory.account(site, "1002", name="Paul", pin=PIN)
    paul = bearer((await sign_in(kiosk, "1002", PIN)).json()["token"])
    assert_problem(
        await kiosk.get(f"/v1/me/top-ups/{top_up['id']}", headers=paul), 404, "top-up-unknown"
    )
    assert_problem(await cancel(kiosk, paul, top_up["id"]), 404, "top-up-unknown")
    assert (await kiosk.get("/v1/me/top-ups", headers=paul)).json()["items"] == []


def test_the_reconcile_command_runs_on_a_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    assert main(["payments", "reconcile", "--database-url", url]) == 0
    assert "No pending top-up past its expiry." in capsys.readouterr().out
