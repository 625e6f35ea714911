"""The account area, through the pilot on the real service: the notifications inbox (unread
count on home, one opened and read, all marked read), changing one's PIN, blocking a lost
badge, settings, personal data, the monthly statement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList, Select

from kiosk.screens.account import AccountScreen
from kiosk.screens.badge import BadgeScreen
from kiosk.screens.change_pin import ChangePinScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.lost_badge import LostBadgeScreen
from kiosk.screens.notifications import NotificationsScreen
from kiosk.screens.personal_data import PersonalDataScreen
from kiosk.screens.settings import SettingsScreen
from kiosk.screens.statement import StatementScreen
from kiosk.widgets.qr_view import QrView
from kiosk.widgets.tick_box import TickBox
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, Notification, Site
from tests.factories import Factory
from tests.terminal.conftest import PIN, SIZE, KioskFactory, screen_text, settle, type_text
from tests.terminal.test_tickets_screen import sign_in

NEW_PIN = "862041"


def step(screen: ChangePinScreen) -> str:
    """Where the screen is (read afresh: it moves while the test waits)."""
    return screen.step


async def open_entry(pilot: Pilot[Any], entry: str) -> None:
    """Signed in, from home to My account, then to one of its entries."""
    await sign_in(pilot)
    await pilot.click("#account")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AccountScreen)
    await pilot.click(f"#{entry}")
    await settle(pilot)


async def enter(pilot: Pilot[Any], text: str) -> None:
    """Type `text` (a PIN, a code, an address) and press Enter."""
    await type_text(pilot, text)
    await pilot.press("enter")


async def notify(factory: Factory, account: Account, kind: str, **data: str | int) -> None:
    async with factory.session_factory() as session, session.begin():
        session.add(
            Notification(
                site_id=account.site_id,
                account_id=account.id,
                kind=kind,
                title="[b]Titre du service[/b]",
                body="Texte du service",
                data=data,
                created_at=dt.datetime(2026, 11, 2, 8, 5, tzinfo=dt.UTC),
                read_at=None,
            )
        )


async def test_the_inbox_lists_opens_and_marks_read(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await notify(factory, jeanne, "order_ready", pickup_number=7)
    await notify(factory, jeanne, "visitor_arrived", visitor_name="Léa Dupont", company="ACME")
    await notify(factory, jeanne, "something_new")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        tile = home.query_one("#notifications", Button)
        assert str(tile.label) == "Notifications (3)"
        await pilot.click("#notifications")
        await settle(pilot)
        inbox = app.screen
        assert isinstance(inbox, NotificationsScreen)
        options = inbox.query_one("#notification-list", OptionList)
        rows = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        # Newest first, unread marked, in the site's time (09:05 in Paris), in the kiosk's words;
        # a kind this kiosk does not know keeps the service's, as text, never markup.
        assert rows == [
            "● 2 nov., 09:05   [b]Titre du service[/b]",
            "● 2 nov., 09:05   Votre visiteur est arrivé",
            "● 2 nov., 09:05   Votre commande n°7 est prête",
        ]
        options.highlighted = 1
        await pilot.press("enter")
        await settle(pilot)
        assert "Léa Dupont (ACME) est arrivé(e) à l'accueil." in screen_text(app)
        rows = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert rows[1].startswith("  2 nov.")  # read now
        await pilot.click("#read-all")
        await settle(pilot)
        assert "Toutes les notifications sont marquées comme lues." in screen_text(app)
        assert not inbox.query("#read-all")
        await pilot.click("#back")
        await settle(pilot)
        assert str(home.query_one("#notifications", Button).label) == "Notifications"
    async with factory.session_factory() as session:
        notes = (await session.scalars(Notification.__table__.select())).all()
    assert len(notes) == 3


async def test_a_person_changes_their_pin(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_entry(pilot, "change-pin")
        screen = app.screen
        assert isinstance(screen, ChangePinScreen)
        # A wrong current PIN is said after the new one was chosen (the service checks it).
        await enter(pilot, "000111")
        await settle(pilot)
        assert step(screen) == "new"
        # A trivial new PIN, or the current one, is refused at once.
        await enter(pilot, "123456")
        await settle(pilot)
        assert "Ce code PIN est trop simple" in screen_text(app)
        assert step(screen) == "new"
        await enter(pilot, NEW_PIN)
        await enter(pilot, NEW_PIN)
        await settle(pilot)
        assert "Code PIN incorrect" in screen_text(app)
        assert step(screen) == "current"
        await enter(pilot, PIN)
        await enter(pilot, PIN)
        await settle(pilot)
        assert "C'est votre code PIN actuel" in screen_text(app)
        await enter(pilot, NEW_PIN)
        await enter(pilot, "862042")
        await settle(pilot)
        assert "Les deux codes PIN sont différents" in screen_text(app)
        assert step(screen) == "new"
        await enter(pilot, NEW_PIN)
        await enter(pilot, NEW_PIN)
        await settle(pilot)
        assert step(screen) == "done"
        assert "Votre code PIN est changé" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        me = await app.api().sign_in("CANTINE", "jeanne", NEW_PIN)
        assert me.name == "Jeanne Martin"


async def test_a_person_blocks_their_lost_badge_and_gets_a_new_one(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        old = (await app.api().badge()).token
        await pilot.click("#account")
        await settle(pilot)
        await pilot.click("#lost-badge")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LostBadgeScreen)
        assert "lettre de bienvenue" in screen_text(app)
        # Back is where the focus starts: Enter alone blocks nothing.
        assert app.focused is screen.query_one("#back", Button)
        await pilot.click("#block")
        await settle(pilot)
        await enter(pilot, "000111")
        await settle(pilot)
        assert "Code PIN incorrect" in screen_text(app)
        assert (await app.api().badge()).token == old
        await enter(pilot, PIN)
        await settle(pilot)
        assert "Votre badge est bloqué" in screen_text(app)
        await pilot.click("#new-badge")
        await settle(pilot)
        assert isinstance(app.screen, BadgeScreen)
        assert app.screen.query_one(QrView).payload != old


async def test_settings_change_the_language_the_alert_and_the_channels(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", pin=PIN)
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_entry(pilot, "settings")
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        alert = screen.query_one("#settings-low-balance", Input)
        alert.value = "2000"
        await pilot.click("#save")
        await settle(pilot)
        assert "L'alerte doit être comprise entre 0,00\xa0€ et 1\u202f000,00\xa0€." in screen_text(
            app
        )
        alert.value = "douze"
        await pilot.pause(0.3)  # a second press: a button ignores one within 0.2 s of the last
        await pilot.click("#save")
        await settle(pilot)
        assert "Écrivez le montant comme 12,50." in screen_text(app)
        alert.value = "12,5"
        screen.query_one("#email-order_ready", TickBox).value = False
        screen.query_one("#settings-language", Select).value = "en"
        await pilot.pause(0.3)
        await pilot.click("#save")
        await settle(pilot)
        # Saved, and the kiosk speaks the chosen language at once.
        assert "Your settings are saved." in screen_text(app)
        assert screen.query_one("#settings-low-balance", Input).value == "12.50"
        settings = await app.api().settings()
        assert settings.low_balance is not None and settings.low_balance.amount_cents == 1250
        assert not settings.notify["order_ready"].email
        assert settings.notify["visitor_arrived"].email
        # Signed out, the kiosk is back in its own language; signed in again, in theirs.
        app.end_session()
        await settle(pilot)
        assert "Connexion" in screen_text(app)
        await sign_in(pilot)
        assert "Your balance" in screen_text(app)


async def test_a_person_changes_their_email_without_it_shown_whole(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    await factory.account(site, "jeanne", pin=PIN, email="jeanne@example.com")
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await open_entry(pilot, "personal-data")
        screen = app.screen
        assert isinstance(screen, PersonalDataScreen)
        text = screen_text(app)
        assert "j***@example.com" in text and "jeanne@example.com" not in text
        await pilot.click("#change-email")
        await settle(pilot)
        await enter(pilot, "pas-une-adresse")
        await settle(pilot)
        assert "Ce n'est pas une adresse e-mail ni un numéro de téléphone" in screen_text(app)
        assert screen.step == "new"
        field = screen.query_one("#new-contact", Input)
        assert field.password  # drawn as dots on the shared screen
        field.value = ""
        await enter(pilot, "jeanne.martin@exemple.fr")
        await settle(pilot)
        assert "Saisissez le code envoyé à j***@exemple.fr." in screen_text(app)
        await enter(pilot, await factory.last_code("jeanne.martin@exemple.fr"))
        await settle(pilot)
        text = screen_text(app)
        assert "Votre adresse e-mail est changée." in text
        assert "j***@exemple.fr" in text and "jeanne.martin" not in text


async def test_the_monthly_statement_and_earlier_months(
    make_kiosk: KioskFactory, factory: Factory, site: Site, clock: ManualClock
) -> None:
    jeanne = await factory.account(site, "jeanne", pin=PIN)
    await factory.ledger_entry(jeanne, 2000)
    await factory.ticket_history(
        jeanne, 3, start=clock.now() - dt.timedelta(hours=3), every=dt.timedelta(hours=1)
    )
    app = make_kiosk()
    app.clock = clock.now  # the kiosk's month is the service's
    async with app.run_test(size=SIZE) as pilot:
        await open_entry(pilot, "statement")
        screen = app.screen
        assert isinstance(screen, StatementScreen)
        text = screen_text(app)
        # Three tickets: a 50,00 top-up first, then two purchases of 8,50 + 1,20.
        assert "Rechargements (2)" in text and "+70,00\xa0€" in text
        assert "Achats (2)" in text and "-19,40\xa0€" in text
        assert "Solde de clôture" in text and "50,60\xa0€" in text
        assert "5,5 %" in text or "5.5 %" in text
        # No month after this one; the one before is empty.
        assert screen.query_one("#next", Button).disabled
        await pilot.click("#email")
        await settle(pilot)
        assert "Le relevé part vers j***@example.com (PDF)." in screen_text(app)
        [mail] = await factory.outbox("jeanne@example.com")
        assert list(mail.attachments) == [f"statement-{clock.now():%Y-%m}.pdf"]
        await pilot.press("left")
        await settle(pilot)
        text = screen_text(app)
        assert "Achats (0)" in text
