"""The catalogue: what a person can order now, in the site's time zone, and loading it from a
TOML file with `kiosk-server catalogue load` (all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin.catalogue import CatalogueFileError, demo_catalogue_text
from kiosk_server.cli import main
from kiosk_server.clock import ManualClock
from kiosk_server.models import CatalogueItem, Site
from tests.factories import Factory
from tests.server.cli_support import isolate_environment, read_database
from tests.server.conftest import assert_problem
from tests.server.orders_support import LONG_SESSIONS, at_paris, customer, load, place

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "catalogue.toml"


@pytest.fixture
async def site(factory: Factory) -> Site:
    return await factory.site("CANTINE", settings=LONG_SESSIONS)


async def items(kiosk: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = await kiosk.get("/v1/catalogue", headers=headers)
    assert answer.status_code == 200, answer.text
    return {item["code"]: item for item in answer.json()["items"]}


async def test_items_with_prices_allergens_and_what_can_be_ordered_now(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 10, 29)
    _, headers = await customer(kiosk, factory, site)
    now = await items(kiosk, headers)
    assert list(now) == ["PLAT", "CAFE", "PANIER"]
    plat = now["PLAT"]
    assert plat["price"] == {"amount_cents": 850, "currency": "EUR"}
    assert plat["vat_rate_bp"] == 1000
    assert plat["allergens"] == ["gluten", "milk", "celery"]
    assert plat["order_deadline"] == "11:30:00"
    assert (plat["available"], plat["reason"]) == (True, None)
    assert (now["PANIER"]["available"], now["PANIER"]["stock"]) == (True, 3)
    assert now["CAFE"]["stock"] is None

    at_paris(clock, 10, 31)
    later = await items(kiosk, headers)
    assert (later["PANIER"]["available"], later["PANIER"]["reason"]) == (False, "deadline_passed")
    assert later["PLAT"]["available"] is True

    at_paris(clock, 15, 0)
    assert (await items(kiosk, headers))["PLAT"]["reason"] == "not_now"
    at_paris(clock, 12, 0, day=8)  # A Sunday.
    assert (await items(kiosk, headers))["PLAT"]["reason"] == "not_now"
    assert (await items(kiosk, headers))["CAFE"]["available"] is True


async def test_the_deadline_is_in_the_site_time_zone_not_utc(
    kiosk: httpx.AsyncClient, factory: Factory, clock: ManualClock
) -> None:
    montreal = await factory.site(
        "MTL", locale="fr_CA", time_zone="America/Montreal", settings=LONG_SESSIONS
    )
    await load(factory, montreal)
    kiosk.headers["X-Device-Key"] = (await factory.device([montreal])).key
    _, headers = await customer(kiosk, factory, montreal)
    at_paris(clock, 16, 0)  # 10:00 in Montréal: the panier can still be ordered there.
    assert (await items(kiosk, headers))["PANIER"]["available"] is True
    at_paris(clock, 16, 31)
    assert (await items(kiosk, headers))["PANIER"]["reason"] == "deadline_passed"


async def test_a_sold_out_item_is_listed_greyed_out(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site, balance_cents=10000)
    assert (await place(kiosk, headers, ("PANIER", 3))).status_code == 201
    panier = (await items(kiosk, headers))["PANIER"]
    assert (panier["available"], panier["reason"], panier["stock"]) == (False, "sold_out", 0)


async def test_the_catalogue_is_for_a_signed_in_person(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await load(factory, site)
    assert_problem(await kiosk.get("/v1/catalogue"), 401, "session-missing")


async def test_reloading_updates_by_code_and_inactive_items_disappear(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    first = await load(factory, site)
    assert (first.created, first.updated) == (["PLAT", "CAFE", "PANIER"], [])
    second = await load(
        factory,
        site,
        """
        [[items]]
        code = "cafe"
        name = "Café serré"
        price_cents = 130
        vat_rate_bp = 550

        [[items]]
        code = "PLAT"
        name = "Plat du jour"
        price_cents = 850
        vat_rate_bp = 1000
        active = false
        """,
    )
    assert (second.created, second.updated) == ([], ["CAFE", "PLAT"])
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site)
    listed = await items(kiosk, headers)
    assert list(listed) == ["CAFE", "PANIER"]
    assert listed["CAFE"]["price"]["amount_cents"] == 130
    assert_problem(await place(kiosk, headers, ("PLAT", 1)), 422, "item-unknown")


async def test_an_item_has_its_name_and_description_per_language(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(
        factory,
        site,
        """
        [[items]]
        code = "CAFE"
        name = "Café serré"
        description = "Un expresso court."
        price_cents = 130
        vat_rate_bp = 550
        translations.en = { name = "Ristretto" }
        translations.de = { name = "Kurzer Espresso", description = "Ein kurzer Espresso." }

        [[items]]
        code = "EAU"
        name = "Eau"
        price_cents = 90
        vat_rate_bp = 550
        """,
    )
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site)
    listed = await items(kiosk, headers)
    assert listed["CAFE"]["name"] == "Café serré"  # the site's language
    assert listed["CAFE"]["translations"] == {
        "de": {"name": "Kurzer Espresso", "description": "Ein kurzer Espresso."},
        # What a language leaves out stays in the site's.
        "en": {"name": "Ristretto", "description": "Un expresso court."},
    }
    assert listed["EAU"]["translations"] == {}


async def test_translations_are_checked_with_the_rest(factory: Factory, site: Site) -> None:
    with pytest.raises(CatalogueFileError) as refused:
        await load(
            factory,
            site,
            """
            [[items]]
            code = "CAFE"
            name = "Café"
            price_cents = 130
            vat_rate_bp = 550
            translations.english = { name = "Coffee" }
            translations.en = { name = "", colour = "brown" }
            translations.de = { name = "Kaffee\\u001b[2J" }
            """,
        )
    assert refused.value.errors == [
        "CAFE: translations: 'english' is not a two-letter language code",
        "CAFE: translations.en: unknown key colour",
        "CAFE: name must be non-empty text",
        "CAFE: name must not contain control characters (U+001B)",
    ]


def test_the_example_is_what_the_demo_loads_and_it_loads(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == demo_catalogue_text()
    isolate_environment(monkeypatch, tmp_path)
    assert main(["site", "create", "acme", "--name", "Acme", "--database-url", database_url]) == 0
    status = main(["catalogue", "load", "ACME", str(EXAMPLE), "--database-url", database_url])
    assert status == 0, capsys.readouterr().err
    assert "7 created, 0 updated" in capsys.readouterr().out

    async def stored(session: AsyncSession) -> dict[str, CatalogueItem]:
        rows = await session.scalars(select(CatalogueItem))
        return {item.code: item for item in rows.all()}

    loaded = read_database(database_url, stored)
    panier = loaded["PANIER-REPAS"]
    assert (panier.kind, panier.stock, str(panier.order_deadline)) == ("service", 20, "10:30:00")
    assert "gluten" in loaded["PLAT-DU-JOUR"].allergens
    assert loaded["CAFE"].translations == {"en": {"name": "Espresso"}}


BROKEN = """
[[items]]
code = "GOOD"
name = "Bon"
price_cents = 100
vat_rate_bp = 550

[[items]]
code = "BAD"
name = "Mauvais"
price_cents = -5
vat_rate_bp = 10
allergens = ["gluten", "arachides"]
order_deadline = "25:00"
days = ["lun"]
colour = "red"

[[items]]
code = "GOOD"
name = "Encore"
price_cents = 100
vat_rate_bp = 550

[[items]]
name = "Sans code"
price_cents = 100
vat_rate_bp = 2000
"""


def test_a_file_with_errors_reports_them_all_and_writes_nothing(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    assert main(["site", "create", "acme", "--name", "Acme", "--database-url", database_url]) == 0
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    capsys.readouterr()
    status = main(["catalogue", "load", "ACME", str(path), "--database-url", database_url])
    err = capsys.readouterr().err
    assert status == 2
    assert "nothing loaded" in err
    lines = [line.strip() for line in err.splitlines()[1:]]
    assert "BAD: unknown key colour" in lines
    assert "BAD: price_cents must be between 0 and 100000" in lines
    assert any(line.startswith("BAD: vat_rate_bp 10 is not a French VAT rate") for line in lines)
    assert any(line.startswith("BAD: unknown allergen(s) arachides") for line in lines)
    assert "BAD: order_deadline must be a time of day such as 10:30" in lines
    assert "BAD: unknown day 'lun' (use mon..sun or 1..7)" in lines
    assert "GOOD: the code appears twice in the file" in lines
    assert "item #4: code must be 1 to 32 of A-Z, 0-9, _ and -" in lines

    async def count(session: AsyncSession) -> int:
        return len((await session.scalars(select(CatalogueItem))).all())

    assert read_database(database_url, count) == 0
    missing = main(["catalogue", "load", "NOPE", str(EXAMPLE), "--database-url", database_url])
    assert missing == 2
    assert "no site with code 'NOPE'" in capsys.readouterr().err
