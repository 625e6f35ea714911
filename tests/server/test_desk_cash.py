"""Cash at the reception desk, over HTTP: finding whom to credit, the audit row of each top-up,
and the day's cash per reception person for counting the till."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, AuditLogEntry, Site
from tests.factories import Factory
from tests.server.conftest import PIN, assert_problem, bearer, sign_in
from tests.server.money_support import new_key


async def signed_in(kiosk: httpx.AsyncClient, identifier: str) -> dict[str, str]:
    answer = await sign_in(kiosk, identifier, PIN)
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])


async def cash(
    kiosk: httpx.AsyncClient, headers: dict[str, str], identifier: str, cents: int, key: str = ""
) -> httpx.Response:
    return await kiosk.post(
        "/v1/cash-top-ups",
        json={"identifier": identifier, "amount_cents": cents},
        headers={**headers, "Idempotency-Key": key or new_key()},
    )


async def search(kiosk: httpx.AsyncClient, headers: dict[str, str], q: str) -> list[str]:
    answer = await kiosk.get("/v1/reception/accounts", params={"q": q}, headers=headers)
    assert answer.status_code == 200, answer.text
    return [f"{a['identifier']} {a['name']} {a['status']}" for a in answer.json()["accounts"]]


@pytest.fixture
async def alice(kiosk: httpx.AsyncClient, factory: Factory, site: Site) -> dict[str, str]:
    await factory.account(site, "R01", name="Alice Accueil", pin=PIN, roles=["reception"])
    return await signed_in(kiosk, "R01")


async def test_reception_finds_people_by_identifier_or_name_words(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, alice: dict[str, str]
) -> None:
    await factory.account(site, "1001", name="Marie Dupont")
    await factory.account(site, "1002", name="Hélène  D'Arcy-Dupré", status="active")
    await factory.account(site, "2100", name="Marc Dupuis", status="blocked")
    other = await factory.site("AUTRE", name="Autre site")
    await factory.account(other, "1003", name="Marie Dupond")

    assert await search(kiosk, alice, "ma dup") == [
        "2100 Marc Dupuis blocked",
        "1001 Marie Dupont pending",
    ]
    # Accents, case and spaces folded; a hyphenated name is two words.
    assert await search(kiosk, alice, "HELENE dupre") == ["1002 Hélène  D'Arcy-Dupré active"]
    # An identifier's start, the exact one first; nobody of the other site.
    assert await search(kiosk, alice, "100") == [
        "1001 Marie Dupont pending",
        "1002 Hélène  D'Arcy-Dupré active",
    ]
    assert await search(kiosk, alice, "2100") == ["2100 Marc Dupuis blocked"]
    assert await search(kiosk, alice, "1") == []  # too short: most of the site
    assert await search(kiosk, alice, "zz") == []


async def test_search_lists_eight_and_says_there_are_more(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, alice: dict[str, str]
) -> None:
    for number in range(10):
        await factory.account(site, f"30{number}", name=f"Person {number}")
    answer = (await kiosk.get("/v1/reception/accounts", params={"q": "30"}, headers=alice)).json()
    assert len(answer["accounts"]) == 8 and answer["more"] is True


async def test_only_reception_searches_and_counts_the_cash(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await factory.account(site, "1001", pin=PIN)
    member = await signed_in(kiosk, "1001")
    answer = await kiosk.get("/v1/reception/accounts", params={"q": "10"}, headers=member)
    assert_problem(answer, 403, "role-forbidden")
    assert_problem(await kiosk.get("/v1/reception/cash", headers=member), 403, "role-forbidden")
    assert_problem(await kiosk.get("/v1/reception/cash"), 401, "session-missing")


async def test_each_cash_top_up_is_audited_with_the_clerk_and_the_desk(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, alice: dict[str, str]
) -> None:
    person = await factory.account(site, "1001")
    key = new_key()
    first = await cash(kiosk, alice, "1001", 2000, key)
    assert first.status_code == 201, first.text
    assert (await cash(kiosk, alice, "1001", 2000, key)).headers["Idempotency-Replayed"] == "true"
    assert_problem(await cash(kiosk, alice, "1001", 40000), 422, "top-up-out-of-range")
    async with factory.session_factory() as session:
        rows = (await session.scalars(select(AuditLogEntry))).all()
        clerk = await session.scalar(select(Account).where(Account.identifier == "R01"))
    assert clerk is not None
    (row,) = rows  # the replay and the refusal wrote nothing
    assert row.action == "account.cash_top_up"
    assert row.subject == f"account:{person.id}"
    assert row.actor_account_id == clerk.id and row.actor_device_id is not None
    assert row.detail == {"amount_cents": 2000, "ticket_id": first.json()["ticket_id"]}


async def test_the_days_cash_per_clerk(
    kiosk: httpx.AsyncClient,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    alice: dict[str, str],
) -> None:
    await factory.account(site, "R02", name="Bruno Bureau", pin=PIN, roles=["reception"])
    await factory.account(site, "1001")
    await factory.account(site, "1002", name="Paul Petit")
    empty = (await kiosk.get("/v1/reception/cash", headers=alice)).json()
    assert empty["clerks"] == [] and empty["count"] == 0
    assert empty["total"] == {"amount_cents": 0, "currency": "EUR"}

    # Yesterday's cash (Paris) is not today's.
    assert (await cash(kiosk, alice, "1001", 5000)).status_code == 201
    clock.advance(hours=15)  # 09:00 UTC + 15 h = 01:00 the next day in Paris
    alice, bruno = await signed_in(kiosk, "R01"), await signed_in(kiosk, "R02")
    key = new_key()
    for response in (
        await cash(kiosk, alice, "1001", 2000, key),
        await cash(kiosk, alice, "1001", 2000, key),  # a retry: counted once
        await cash(kiosk, alice, "1002", 1050),
        await cash(kiosk, bruno, "1002", 3000),
    ):
        assert response.status_code == 201, response.text
    day = (await kiosk.get("/v1/reception/cash", headers=bruno)).json()
    assert day["day"] == "2026-11-03"
    assert [
        (c["identifier"], c["name"], c["count"], c["total"]["amount_cents"]) for c in day["clerks"]
    ] == [
        ("R01", "Alice Accueil", 2, 3050),
        ("R02", "Bruno Bureau", 1, 3000),
    ]
    assert day["count"] == 3 and day["total"] == {"amount_cents": 6050, "currency": "EUR"}
