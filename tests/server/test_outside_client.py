"""What an outside client found, each kept fixed on SQLite and PostgreSQL: bodies have a size
limit (the webhook's signature is checked before its body is read), ids out of range answer
404/422 rather than 500, control characters are refused by one rule on every text field, the
document tells the truth about what the service requires, money and quantities are strict
integers, and locking an account ends its sessions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.body_limit import DEFAULT_MAX_BODY_BYTES
from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, identify, sign_in
from tests.server.visits_support import (
    People,
    people_fixture,  # noqa: F401 - the `people` fixture
    visit_body,
)

DOCUMENT = json.loads((Path(__file__).parents[2] / "api" / "openapi.json").read_text())
WEBHOOK = "/v1/payments/webhooks/sandbox"


def new_key() -> str:
    import uuid

    return str(uuid.uuid4())


class Counted:
    """A streamed body (no Content-Length) that counts the chunks the service pulled."""

    def __init__(self, chunks: int, size: int = 64 * 1024) -> None:
        self.chunks = chunks
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * self.size


# 1. Bodies have a limit.


async def test_a_body_over_the_limit_is_refused_from_its_length(people: People) -> None:
    big = json.dumps({"solution_code": "A" * DEFAULT_MAX_BODY_BYTES, "identifier": "1"})
    answer = await people.kiosk.post(
        "/v1/auth/identify", content=big, headers={"Content-Type": "application/json"}
    )
    assert_problem(answer, 413, "body-too-large")


async def test_a_streamed_body_is_refused_once_it_passes_the_limit(people: People) -> None:
    body = Counted(chunks=1000)  # 64 MB, were it all read
    answer = await people.kiosk.post(
        "/v1/auth/identify", content=body, headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in answer.request.headers
    assert_problem(answer, 413, "body-too-large")
    assert body.pulled <= DEFAULT_MAX_BODY_BYTES // body.size + 1


async def test_an_unsigned_webhook_is_refused_before_its_body_is_read(people: People) -> None:
    body = Counted(chunks=1000)
    answer = await people.kiosk.post(WEBHOOK, content=body)
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert body.pulled == 0
    signed_looking = await people.kiosk.post(
        WEBHOOK, content=b"x" * 100_000, headers={"Kiosk-Signature": "t=1,v1=ab"}
    )
    assert_problem(signed_looking, 413, "body-too-large")


# 2. Ids out of range.


@pytest.mark.parametrize(
    "path",
    [
        "/v1/me/tickets/{}",
        "/v1/me/orders/{}",
        "/v1/me/top-ups/{}",
        "/v1/me/visits/{}",
        "/v1/reception/visitors/{}/badge",
    ],
)
async def test_ids_out_of_range_answer_422_and_unknown_ones_404(people: People, path: str) -> None:
    for wrong in (0, -1, 2**63, 10**30):
        answer = await people.desk_get(path.format(wrong))
        assert_problem(answer, 422, "validation-failed")
    for unknown in (2**31, 2**40, 2**63 - 1):
        answer = await people.desk_get(path.format(unknown))
        assert answer.status_code == 404, (path, unknown, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


# 3. One rule for text.


async def test_nul_and_control_characters_are_refused_on_sign_in(people: People) -> None:
    assert_problem(await identify(people.kiosk, "E\x00"), 422, "validation-failed")
    assert_problem(await sign_in(people.kiosk, "E1", "12\x003456"), 422, "validation-failed")
    assert_problem(await identify(people.kiosk, "E\x1b[2J"), 422, "validation-failed")


async def test_the_same_text_rule_holds_for_visits_and_till_items(
    people: People, till: httpx.AsyncClient
) -> None:
    family = "Famille \U0001f468\u200d\U0001f469\u200d\U0001f467"  # a ZWJ emoji: text
    for bad in ("Dîner\x1b[31m", "abc\u202edef", "a\x00b"):
        visit = await people.host.post(
            "/v1/me/visits", json=visit_body(reason=bad), headers=people.host_headers
        )
        assert_problem(visit, 422, "validation-failed")
        purchase = await till.post(
            "/v1/till/purchases",
            json=_purchase(item=bad),
            headers={"Idempotency-Key": new_key()},
        )
        assert_problem(purchase, 422, "validation-failed")
    visit = await people.host.post(
        "/v1/me/visits", json=visit_body(reason=family), headers=people.host_headers
    )
    assert visit.status_code == 201, visit.text
    assert visit.json()["reason"] == family
    purchase = await till.post(
        "/v1/till/purchases", json=_purchase(item=family), headers={"Idempotency-Key": new_key()}
    )
    # The text passes; the made-up badge token is what is refused.
    assert purchase.status_code != 422, purchase.text


def _purchase(item: str = "Menu", quantity: Any = 1, price: Any = 850) -> dict[str, Any]:
    return {
        "badge_token": "0" * 40,
        "lines": [
            {"item": item, "quantity": quantity, "unit_price_cents": price, "vat_rate_bp": 1000}
        ],
        "total_cents": price,
    }


# 4. The document tells the truth.


OPTIONAL_KEY = {("post", "/v1/visitor-desk/check-in"), ("post", "/v1/visitor-desk/check-out")}
"""Where a key is optional: not money, only a retry made safe (docs/api.md)."""


def test_the_document_says_the_idempotency_key_is_required_and_bounded() -> None:
    optional = set()
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] != "Idempotency-Key":
                    continue
                if (method, path) in OPTIONAL_KEY:
                    optional.add((method, path))
                    assert parameter["required"] is False, (method, path)
                    schema = parameter["schema"]["anyOf"][0]
                else:
                    assert parameter["required"] is True, (method, path)
                    schema = parameter["schema"]
                assert schema["maxLength"] == 255, (method, path)
    assert optional == OPTIONAL_KEY


async def test_missing_or_bad_idempotency_keys_are_refused(people: People) -> None:
    path = "/v1/me/top-ups"
    missing = await people.host_post(path, json={"amount_cents": 1000})
    assert_problem(missing, 400, "idempotency-key-missing")
    for bad in ("x" * 256, " padded ", "a\tb"):
        answer = await people.host.post(
            path,
            json={"amount_cents": 1000},
            headers={**people.host_headers, "Idempotency-Key": bad},
        )
        assert_problem(answer, 400, "idempotency-key-invalid")


async def test_malformed_json_is_a_documented_problem(people: People) -> None:
    answer = await people.kiosk.post(
        "/v1/auth/identify",
        content=b'{"solution_code": ',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(answer, 400, "body-malformed")
    assert body["detail"]
    codes = json.dumps(DOCUMENT)
    assert "body-malformed" in codes


async def test_a_wrong_method_says_which_are_allowed(people: People) -> None:
    answer = await people.host.put("/v1/me/visits/5", headers=people.host_headers)
    assert_problem(answer, 405, "method-not-allowed")
    assert answer.headers["Allow"] == "DELETE, GET, PATCH"


async def test_day_zero_is_refused_as_the_schema_says(people: People) -> None:
    answer = await people.desk_get("/v1/reception/visits", params={"day": "0"})
    assert_problem(answer, 422, "validation-failed")


# 5. Money and quantities are strict integers.


@pytest.mark.parametrize("amount", [True, "1250", 1250.0, 5e2, None])
async def test_a_top_up_amount_must_be_an_integer(people: People, amount: Any) -> None:
    answer = await people.host.post(
        "/v1/me/top-ups",
        json={"amount_cents": amount},
        headers={**people.host_headers, "Idempotency-Key": new_key()},
    )
    assert_problem(answer, 422, "validation-failed")


@pytest.mark.parametrize("amount", [True, "1000", 1000.0])
async def test_a_cash_top_up_amount_must_be_an_integer(people: People, amount: Any) -> None:
    answer = await people.desk.post(
        "/v1/cash-top-ups",
        json={"identifier": "H1", "amount_cents": amount},
        headers={**people.desk_headers, "Idempotency-Key": new_key()},
    )
    assert_problem(answer, 422, "validation-failed")


async def test_quantities_and_prices_must_be_integers(
    people: People, till: httpx.AsyncClient
) -> None:
    order = await people.host.post(
        "/v1/me/orders",
        json={"lines": [{"item_code": "CAFE", "quantity": "2"}]},
        headers={**people.host_headers, "Idempotency-Key": new_key()},
    )
    assert_problem(order, 422, "validation-failed")
    for line in ({"quantity": "2"}, {"quantity": 2.0}, {"price": "850"}, {"price": True}):
        purchase = await till.post(
            "/v1/till/purchases", json=_purchase(**line), headers={"Idempotency-Key": new_key()}
        )
        assert_problem(purchase, 422, "validation-failed")


# 6. Locking an account ends its sessions.


async def test_a_session_opened_before_the_lock_ends_with_it(
    service_app: FastAPI, factory: Factory, site: Site, people: People
) -> None:
    await factory.account(site, "E9", pin=PIN)
    opened = await sign_in(people.host, "E9", PIN)
    assert opened.status_code == 201, opened.text
    headers = bearer(opened.json()["token"])
    assert (await people.host.get("/v1/me/tickets", headers=headers)).status_code == 200
    # Ten wrong PINs lock the account; from two other terminals, as each terminal has a
    # throttle of its own.
    second = await factory.device([site], name="Borne 2")
    async with device_client(service_app, second.key) as other:
        for client in [people.kiosk] * 5 + [other] * 5:
            assert_problem(await sign_in(client, "E9", "999111"), 401, "pin-incorrect")
    me = await people.host.get("/v1/me/tickets", headers=headers)
    assert_problem(me, 401, "session-invalid")
