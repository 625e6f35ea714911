"""The sandbox's webhooks as the service takes them: signed, once, in any order, or refused."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.clock import ManualClock
from kiosk_server.payments.sandbox import SIGNATURE_HEADER, make_webhook, signature_header
from tests.server.conftest import assert_problem
from tests.server.top_up_support import (
    WebhookOutbox,
    balance,
    cancel,
    jeanne_fixture,
    person_fixture,
    press,
    sandbox_site_fixture,
    secret_of,
    started,
    top_up_state,
    top_up_tickets,
    webhooks_fixture,
)

site = sandbox_site_fixture()
webhooks = webhooks_fixture()
jeanne = jeanne_fixture()
person = person_fixture()


def ref_of(top_up: dict[str, object]) -> str:
    return str(top_up["checkout_url"]).rsplit("/", 1)[1]


async def test_a_webhook_delivered_twice_credits_once(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    top_up = await started(kiosk, person, 2000)
    await press(api, top_up, "pay")
    (webhook,) = webhooks.sent
    again = await webhooks.deliver(webhook)
    assert again.status_code == 200
    assert again.json() == {"outcome": "unchanged"}
    assert await balance(kiosk, person) == 3000
    assert len(await top_up_tickets(kiosk, person)) == 1


async def test_concurrent_deliveries_credit_once(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
) -> None:
    import asyncio

    webhooks.hold = True
    top_up = await started(kiosk, person, 2000)
    await press(api, top_up, "pay")
    (webhook,) = webhooks.held
    answers = await asyncio.gather(*(webhooks.deliver(webhook) for _ in range(5)))
    assert sorted(a.json()["outcome"] for a in answers) == ["applied"] + ["unchanged"] * 4
    assert await balance(kiosk, person) == 3000


async def test_failed_after_succeeded_changes_nothing(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    service_app: FastAPI,
    clock: ManualClock,
) -> None:
    top_up = await started(kiosk, person, 2000)
    await press(api, top_up, "pay")
    late_failure = make_webhook(
        secret_of(service_app),
        base_url="http://kiosk.test",
        ref=ref_of(top_up),
        state="failed",
        now=clock.now(),
    )
    assert (await webhooks.deliver(late_failure)).json() == {"outcome": "unchanged"}
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "succeeded"
    assert await balance(kiosk, person) == 3000


async def test_money_that_arrives_after_a_cancel_is_credited_and_said_so(
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    service_app: FastAPI,
    clock: ManualClock,
) -> None:
    top_up = await started(kiosk, person, 2000)
    assert (await cancel(kiosk, person, top_up["id"])).json()["state"] == "cancelled"
    # The provider took the money all the same (its cancel lost the race): its word wins.
    late_success = make_webhook(
        secret_of(service_app),
        base_url="http://kiosk.test",
        ref=ref_of(top_up),
        state="succeeded",
        now=clock.now(),
    )
    assert (await webhooks.deliver(late_success)).json() == {"outcome": "applied"}
    done = await top_up_state(kiosk, person, top_up["id"])
    assert done["state"] == "succeeded"
    assert done["credited_after_state"] == "cancelled"
    assert await balance(kiosk, person) == 3000


@pytest.mark.parametrize("tampering", ["missing", "wrong-secret", "changed-body", "malformed"])
async def test_badly_signed_webhooks_are_refused_and_logged_without_the_body(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    caplog: pytest.LogCaptureFixture,
    clock: ManualClock,
    tampering: str,
) -> None:
    webhooks.hold = True
    top_up = await started(kiosk, person, 2000)
    await press(api, top_up, "pay")
    (webhook,) = webhooks.held
    headers = dict(webhook.headers)
    body = webhook.body
    if tampering == "missing":
        del headers[SIGNATURE_HEADER]
    elif tampering == "wrong-secret":
        headers[SIGNATURE_HEADER] = signature_header(b"guess", int(clock.now().timestamp()), body)
    elif tampering == "changed-body":
        body = body.replace(b'"succeeded"', b'"succeeded" ')
    else:
        headers[SIGNATURE_HEADER] = "v1=abc"
    with caplog.at_level(logging.WARNING, logger="kiosk_server"):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=webhooks.app), base_url="http://kiosk.test"
        ) as client:
            answer = await client.post(
                "/v1/payments/webhooks/sandbox", content=body, headers=headers
            )
    assert_problem(answer, 401, "webhook-signature-invalid")
    assert "webhook refused" in caplog.text
    assert ref_of(top_up) not in caplog.text
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "pending"
    assert await balance(kiosk, person) == 1000


async def test_a_webhook_signed_more_than_five_minutes_ago_is_refused(
    api: httpx.AsyncClient,
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    clock: ManualClock,
) -> None:
    webhooks.hold = True
    top_up = await started(kiosk, person, 2000)
    await press(api, top_up, "pay")
    (webhook,) = webhooks.held
    clock.advance(minutes=5, seconds=1)
    assert_problem(await webhooks.deliver(webhook), 401, "webhook-signature-invalid")
    assert await balance(kiosk, person) == 1000
    # The money is not lost: at expiry the service asks the sandbox, which says it was paid.
    clock.advance(minutes=10)
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "succeeded"
    assert await balance(kiosk, person) == 3000


async def test_a_webhook_for_an_unknown_payment_changes_nothing(
    kiosk: httpx.AsyncClient,
    person: dict[str, str],
    webhooks: WebhookOutbox,
    service_app: FastAPI,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    top_up = await started(kiosk, person, 2000)
    stranger = make_webhook(
        secret_of(service_app),
        base_url="http://kiosk.test",
        ref="sbx_nobody",
        state="succeeded",
        now=clock.now() - dt.timedelta(minutes=1),
    )
    with caplog.at_level(logging.WARNING, logger="kiosk_server"):
        answer = await webhooks.deliver(stranger)
    assert answer.status_code == 200
    assert answer.json() == {"outcome": "unknown"}
    assert "unknown payment" in caplog.text
    assert (await top_up_state(kiosk, person, top_up["id"]))["state"] == "pending"
    assert await balance(kiosk, person) == 1000
