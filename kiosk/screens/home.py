"""Home: the signed-in person's name and balance, sign-out and the language switch. Later issues
add tiles (badge, account, services) here, as they deliver what the tiles open."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import _, other_language
from kiosk.screens.base import KioskScreen
from kiosk.screens.welcome import LANGUAGE_NAMES
from kiosk.text import plain
from kiosk.widgets.money_label import Money, MoneyLabel


class HomeScreen(KioskScreen):
    """What the signed-in person sees first: who they are and their balance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+d", "sign_out", "Sign out", show=False, id="home.sign_out"),
    ]

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        name = plain(session.name, max_length=60) if session is not None else ""
        site = plain(session.site_name, max_length=60) if session is not None else ""
        money = (
            Money(session.balance_cents, session.currency)
            if session is not None and session.balance_cents is not None
            else None
        )
        with Vertical(id="home-body"):
            # The name is data from the service: a template variable, never markup.
            yield Static(Content.from_markup(_("Hello, $name"), name=name), id="home-name")
            yield Static(Content(site), id="home-site")
            with Horizontal(id="home-balance-row"):
                yield Static(_("Your balance"), id="home-balance-label", markup=False)
                yield MoneyLabel(money, id="home-balance")
            # Later issues add the tiles (badge, account, services) here.
            with Horizontal(classes="actions"):
                yield Button(LANGUAGE_NAMES[other_language()], id="language")
                yield Button(_("Sign out"), id="sign-out", variant="error")

    def action_sign_out(self) -> None:
        self.kiosk.end_session()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "sign-out":
            self.kiosk.end_session()
        elif event.button.id == "language":
            await self.kiosk.switch_language()
