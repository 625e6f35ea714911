"""Orders on the real service: placed from the catalogue, shown in progress, cancelled and
refunded; refused for want of balance with nothing stored."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import Button, Digits

from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.order_new import OrderNewScreen
from kiosk.screens.orders import OrdersScreen
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Order, Site
from tests.factories import Factory
from tests.server.orders_support import at_paris, kitchen_client, load, move
from tests.terminal.conftest import PIN, SIZE, KioskFactory, screen_text, settle, wait_until
from tests.terminal.test_tickets_screen import sign_in


async def order_count(factory: Factory) -> int:
    async with factory.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


async def balance_of(factory: Factory, account: Account) -> int:
    async with factory.session_factory() as session:
        return int(
            await session.scalar(select(Account.balance_cents).where(Account.id == account.id)) or 0
        )


async def open_new_order(pilot: Pilot[Any]) -> OrderNewScreen:
    await sign_in(pilot)
    await pilot.click("#order")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, OrderNewScreen)
    return screen


def item_index(screen: OrderNewScreen, code: str) -> int:
    assert screen.catalogue is not None
    return next(i for i, item in enumerate(screen.catalogue.items) if item.code == code)


async def test_order_placed_then_cancelled_and_refunded(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 5000)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_new_order(pilot)
        text = screen_text(app)
        assert "Plat du jour · 8,50\xa0€" in text
        assert "Allergènes : gluten, lait, céleri" in text
        plat = item_index(screen, "PLAT")
        await pilot.click(f"#plus-{plat}")
        await pilot.pause()
        assert "Panier : 8,50\xa0€ · solde après : 41,50\xa0€" in screen_text(app)
        await pilot.click("#place")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "8,50\xa0€" in screen_text(app)
        assert await order_count(factory) == 0
        await pilot.click("#confirm")
        await settle(pilot)
        assert screen.receipt is not None
        assert app.screen.query_one("#order-pickup", Digits).value == "1"
        assert "Votre solde : 41,50\xa0€" in screen_text(app)
        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "41,50\xa0€" in screen_text(app)

        await pilot.click("#orders")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        assert "N°1 · Payée · 8,50\xa0€ — Plat du jour ×1" in screen_text(app)
        await pilot.click(f"#cancel-{screen.receipt.id}")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "Annuler la commande n°1 ?" in screen_text(app)
        # The two buttons say two different things: keep it, or cancel it.
        assert str(app.screen.query_one("#cancel", Button).label) == "Garder la commande"
        assert str(app.screen.query_one("#confirm", Button).label) == "Annuler la commande"
        await pilot.click("#confirm")
        await settle(pilot)
        text = screen_text(app)
        assert "Commande n°1 annulée. Remboursé : 8,50\xa0€ ; votre solde : 50,00\xa0€." in text
        assert "Aucune commande en cours." in text
        assert "N°1 · Annulée" in text
    assert await balance_of(factory, jeanne) == 5000


async def test_an_empty_basket_or_a_too_dear_one_is_said_before_the_pay_dialog(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 500)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_new_order(pilot)
        await pilot.click("#place")
        await settle(pilot)
        assert isinstance(app.screen, OrderNewScreen)
        assert "Votre panier est vide" in screen_text(app)
        await pilot.click(f"#plus-{item_index(screen, 'PLAT')}")
        await pilot.pause(0.3)  # a second press: a button ignores one within 0.2 s of the last
        await pilot.click("#place")
        await settle(pilot)
        assert isinstance(app.screen, OrderNewScreen)  # no pay dialog showing -3,50 € after
        assert "Votre solde (5,00\xa0€) ne suffit pas pour ce panier" in screen_text(app)
    assert await order_count(factory) == 0


async def test_order_refused_for_insufficient_balance(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 500)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_new_order(pilot)
        # The balance the terminal knows is stale (spent at a till meanwhile, say): the
        # service has the last word.
        assert app.session is not None
        app.session.balance_cents = 5000
        await pilot.click(f"#plus-{item_index(screen, 'PLAT')}")
        await pilot.click("#place")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert isinstance(app.screen, OrderNewScreen)
        assert "Votre solde ne suffit pas. Rien n'a été débité." in screen_text(app)
        assert screen.receipt is None
    assert await order_count(factory) == 0
    assert await balance_of(factory, jeanne) == 500


async def test_unavailable_items_are_greyed_with_the_reason(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 11, 0)  # past the 10:30 deadline of the basket, before the dish's
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_new_order(pilot)
        panier = item_index(screen, "PANIER")
        assert "heure limite de commande passée" in screen_text(app)
        # Pressed, + on the greyed basket says why and adds nothing.
        await pilot.click(f"#plus-{panier}")
        await pilot.pause()
        message = str(app.screen.query_one("#message").render())
        assert message == "Indisponible : heure limite de commande passée."
        assert screen.quantities == {}
        await pilot.click(f"#plus-{item_index(screen, 'PLAT')}")
        await pilot.pause()
        assert screen.quantities == {"PLAT": 1}


async def test_a_long_dish_name_is_shown_whole(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    name = "Filet de lieu jaune rôti, écrasé de pommes de terre à l'huile d'olive et sauce vierge"
    await load(
        factory,
        site,
        f'[[items]]\ncode = "LIEU"\nname = "{name}"\nprice_cents = 1290\nvat_rate_bp = 1000\n',
    )
    at_paris(clock, 9, 0)
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_new_order(pilot)
        text = app.screen.query_one(".order-item-text").render()
        assert name in str(text)  # wrapped in its column, not cut at 40 characters


async def test_an_english_kiosk_on_a_french_site_says_dishes_and_notices_in_english(
    make_kiosk: KioskFactory,
    factory: Factory,
    site: Site,
    clock: ManualClock,
    service_app: FastAPI,
) -> None:
    await load(
        factory,
        site,
        """
        [[items]]
        code = "CAFE"
        name = "Café expresso"
        price_cents = 120
        vat_rate_bp = 1000
        translations.en = { name = "Espresso" }

        [[items]]
        code = "EAU"
        name = "Bouteille d'eau"
        price_cents = 90
        vat_rate_bp = 550
        """,
    )
    at_paris(clock, 9, 0)
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 5000)
    app = make_kiosk(language="en")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_new_order(pilot)
        text = screen_text(app)
        assert "Espresso · €1.20" in text and "Café" not in text
        assert "Bouteille d'eau · €0.90" in text  # no English name given: the site's
        await pilot.click(f"#plus-{item_index(screen, 'CAFE')}")
        await pilot.click("#place")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmMoneyScreen)
        assert "Espresso ×1" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert screen.receipt is not None
        async with await kitchen_client(service_app, factory, [site]) as kitchen:
            for state in ("in_preparation", "ready"):
                moved = await move(kitchen, screen.receipt.id, state)
                assert moved.status_code == 200, moved.text
        await pilot.click("#back")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await wait_until(pilot, lambda: "Your order no. 1 is ready" in screen_text(app))
        assert "Votre commande" not in screen_text(app)
