"""The first connection, end to end, on the real service."""

from __future__ import annotations

import socket
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from kiosk.app import create_app
from kiosk.screens.choose_pin import ChoosePinScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.identifier import IdentifierScreen
from kiosk.screens.pin import PinScreen
from kiosk.screens.verification import VerificationScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk.settings import KioskSettings
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import PIN, SIZE, KioskFactory, screen_text, settle, stack, type_text


async def test_active_account_signs_in_with_pin(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 1250)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await type_text(pilot, "jeanne")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        assert "Jeanne Martin" in text
        assert "12,50\xa0€" in text
        assert stack(app) == [WelcomeScreen, HomeScreen]


async def _reach_identifier(pilot: Pilot[Any], identifier: str) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await type_text(pilot, identifier)
    await pilot.press("enter")
    await settle(pilot)


async def _type_code_and_choose_pin(
    pilot: Pilot[Any], factory: Factory, recipient: str, new_pin: str
) -> None:
    await pilot.click("#send")
    await settle(pilot)
    code = await factory.last_code(recipient)
    await type_text(pilot, code)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ChoosePinScreen)
    for _ in range(2):
        await type_text(pilot, new_pin)
        await pilot.press("enter")
        await settle(pilot)


async def test_pending_account_is_activated_with_a_mailed_code(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "paul", name="Paul Durand", email="paul@example.com")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "paul")
        assert isinstance(app.screen, VerificationScreen)
        assert "Votre compte a été trouvé — activez-le" in screen_text(app)
        await pilot.click("#send")
        await settle(pilot)
        shown = screen_text(app)
        assert "Un code a été envoyé à" in shown
        assert "@example.com" in shown
        assert "paul@example.com" not in shown
        code = await factory.last_code("paul@example.com")
        await type_text(pilot, code)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoosePinScreen)
        await type_text(pilot, "271828")
        await pilot.press("enter")
        await settle(pilot)
        assert "Saisissez à nouveau votre code PIN" in screen_text(app)
        await type_text(pilot, "271828")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "Paul Durand" in screen_text(app)
        assert stack(app) == [WelcomeScreen, HomeScreen]


async def test_trivial_pin_is_refused_and_two_different_pins_start_again(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "paul", name="Paul Durand", email="paul@example.com")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "paul")
        await pilot.click("#send")
        await settle(pilot)
        await type_text(pilot, await factory.last_code("paul@example.com"))
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, "271828")
        await pilot.press("enter")
        await type_text(pilot, "271829")
        await pilot.press("enter")
        await settle(pilot)
        assert "Les deux codes PIN sont différents" in screen_text(app)
        # A trivial PIN is refused as soon as it is typed, not after typing it twice.
        await type_text(pilot, "123456")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChoosePinScreen)
        assert "Ce code PIN est trop simple" in screen_text(app)
        assert screen._first is None  # back to the first entry


async def test_phone_only_account_shows_the_masked_number(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "sms", name="Sam", email=None, phone="+33612345642")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "sms")
        await pilot.click("#send")
        await settle(pilot)
        shown = str(app.screen.query_one("#destination", Static).render())
        assert shown.startswith("Un code a été envoyé à")
        assert shown.rstrip().endswith("42")
        assert "612345" not in shown.replace(" ", "")


async def test_locked_account_is_unlocked_by_a_code(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "lea", name="Léa Petit", pin=PIN, locked=True)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "lea")
        assert isinstance(app.screen, VerificationScreen)
        assert "Votre compte est verrouillé" in screen_text(app)
        await _type_code_and_choose_pin(pilot, factory, "jeanne@example.com", "271828")
        assert isinstance(app.screen, HomeScreen)
        assert "Léa Petit" in screen_text(app)


async def test_forgotten_pin_leads_to_a_new_pin(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "jeanne")
        await pilot.click("#forgotten")
        await settle(pilot)
        assert isinstance(app.screen, VerificationScreen)
        assert "Code PIN oublié" in screen_text(app)
        await _type_code_and_choose_pin(pilot, factory, "jeanne@example.com", "271828")
        assert isinstance(app.screen, HomeScreen)
        assert stack(app) == [WelcomeScreen, HomeScreen]


async def test_wrong_pin_says_so_without_counting(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "jeanne")
        await type_text(pilot, "000001")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)
        text = screen_text(app)
        assert "Code PIN incorrect. Réessayez." in text
        assert "Jeanne Martin" not in text
        assert app.session is None


async def test_unknown_identifier_is_a_calm_message(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "nobody")
        assert isinstance(app.screen, IdentifierScreen)
        assert "Aucun compte n'a été trouvé avec cet identifiant" in screen_text(app)


async def test_unreachable_service_shows_a_calm_message_and_retry() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = KioskSettings(server_url=f"http://127.0.0.1:{port}", device_key="unused")
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        text = screen_text(app)
        assert "Le service est injoignable. Réessayez dans un instant." in text
        assert "Traceback" not in text
        assert str(app.screen.query_one("#retry", Button).label) == "Réessayer"
        await pilot.press("enter")
        await settle(pilot)
        assert app.connection == "failed"
        assert app.is_running


async def test_after_an_unknown_identifier_the_field_takes_keys_at_once(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    """The field keeps its focus and its text is ready to be replaced: the next keys type the
    right identifier, with no Tab or tap first."""
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "jeane")
        assert isinstance(app.screen, IdentifierScreen)
        field = app.screen.query_one("#identifier", Input)
        assert app.screen.focused is field
        assert field.selected_text == "jeane"  # typing replaces it
        await type_text(pilot, "jeanne")
        assert field.value == "jeanne"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PinScreen)


async def test_wrong_pins_tell_the_tries_left_then_the_pause_of_the_account(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    """The pause is the account's, on this terminal: the message says so and how long, points
    to "Forgotten PIN?", and another person signs in here at once."""
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.account(site, "paul", name="Paul Durand", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "jeanne")
        said = []
        for _ in range(5):
            await type_text(pilot, "000001")
            await pilot.press("enter")
            await settle(pilot)
            said.append(str(app.screen.query_one("#message", Static).render()))
        assert said[:2] == ["Code PIN incorrect. Réessayez."] * 2
        assert said[2] == "Code PIN incorrect. Encore 2 essais avant la suspension de ce compte."
        assert said[3] == "Code PIN incorrect. Encore 1 essai avant la suspension de ce compte."
        assert "Plus aucun essai" in said[4] and "Code PIN oublié ?" in said[4]
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        paused = screen_text(app)
        assert "ce compte est suspendu sur cette borne pendant 15 minutes" in paused
        assert "Code PIN oublié ?" in paused
        assert "autre borne" not in paused
        assert app.session is None

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IdentifierScreen)
        field = app.screen.query_one("#identifier", Input)
        field.value = ""
        await type_text(pilot, "paul")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "Paul Durand" in screen_text(app)


async def test_enter_while_connecting_starts_once_the_service_answers(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.connection = "connecting"  # as at start, before the service answers
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert "dès qu'il répond" in screen_text(app)
        app.connection = "ready"
        await settle(pilot)
        assert isinstance(app.screen, IdentifierScreen)


async def test_enter_on_an_incomplete_pin_says_what_is_missing(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "jeanne")
        assert isinstance(app.screen, PinScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert "Tapez les 6 chiffres." in screen_text(app)
        await type_text(pilot, "41")
        await pilot.press("enter")
        await pilot.pause()
        assert "Tapez les 6 chiffres." in screen_text(app)
        assert app.session is None


async def test_the_code_is_sent_in_the_language_of_the_kiosk(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    """The site is French; the person switched the kiosk to English: the mail is English."""
    await factory.account(site, "paul", name="Paul Durand", email="paul@example.com")
    app = make_kiosk(language="en")
    async with app.run_test(size=SIZE) as pilot:
        await _reach_identifier(pilot, "paul")
        assert isinstance(app.screen, VerificationScreen)
        await pilot.click("#send")
        await settle(pilot)
        (message,) = await factory.outbox("paul@example.com")
        assert message.subject == "Your verification code"
        assert "It is valid for" in message.body
