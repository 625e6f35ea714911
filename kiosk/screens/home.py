"""Home: the signed-in person's name and balance (refreshed each time home is shown again), what
the service has to tell them (unread notifications, a top-up left pending), the tiles of what
they can do (Compte: badge, tickets, orders; Services: top up, place an order), sign-out and the
language switch."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Digits, Static

from kiosk.i18n import LANGUAGE_NAMES, _, get_language, other_language
from kiosk.money import format_money
from kiosk.notices import notice_title
from kiosk.screens.base import KioskScreen
from kiosk.text import plain
from kiosk.widgets.money_label import Money, MoneyLabel

if TYPE_CHECKING:
    from kiosk.api.models import TopUp, VisitSummary

NOTICE_MAX = 70
MAX_NOTICES = 3


_ROOMS = {
    "badge": "kiosk.screens.badge:BadgeScreen",
    "tickets": "kiosk.screens.tickets:TicketsScreen",
    "orders": "kiosk.screens.orders:OrdersScreen",
    "notifications": "kiosk.screens.notifications:NotificationsScreen",
    "help": "kiosk.screens.help:HelpScreen",
    "account": "kiosk.screens.account:AccountScreen",
    "order": "kiosk.screens.order_new:OrderNewScreen",
    "visits": "kiosk.screens.visits:VisitsScreen",
    "reception": "kiosk.screens.reception:ReceptionScreen",
}
"""The rooms a home button opens (each screen imported when first opened)."""


class HomeScreen(KioskScreen):
    """What the signed-in person sees first: who they are and their balance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+d", "sign_out", "Sign out", show=False, id="home.sign_out"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.notices: list[str] = []
        """Notifications shown on this visit (plain text, newest first)."""
        self.pending_top_up: TopUp | None = None
        """A top-up left pending (shown at sign-in, leads to its status)."""
        self.walk_ins: list[VisitSummary] = []
        """Visitors without an invitation who asked for this person at a kiosk and wait for
        their answer: each gets a row with Let in and Decline."""
        self._checked_pending = False
        self.unread_count = 0
        """Unread notifications, on the Notifications tile."""
        self._shown: set[int] = set()
        """Notifications already shown as notices on this visit."""

    def compose(self) -> ComposeResult:
        session = self.kiosk.session
        name = plain(session.name, max_length=60) if session is not None else ""
        site = plain(session.site_name, max_length=60) if session is not None else ""
        with Vertical(id="home-body"):
            # The name is data from the service: a template variable, never markup.
            yield Static(Content.from_markup(_("Hello, $name"), name=name), id="home-name")
            yield Static(Content(site), id="home-site")
            with Horizontal(id="home-balance-row"):
                yield Static(_("Your balance"), id="home-balance-label", markup=False)
                yield MoneyLabel(self._balance(), id="home-balance")
            # The large-text layout shows the balance in big figures instead (home.tcss).
            yield Digits(self._balance_text(), id="home-balance-big")
            with Vertical(id="home-notices"):
                for notice in self.notices:
                    yield Static(Content(notice), classes="home-notice", markup=False)
                for visit in self.walk_ins:
                    with Horizontal(classes="home-walk-in"):
                        names = ", ".join(visit.visitor_names)
                        yield Static(
                            Content(
                                _("{names} asks for you at the kiosk").format(
                                    names=plain(names, max_length=NOTICE_MAX)
                                )
                            ),
                            classes="home-walk-in-text",
                            markup=False,
                        )
                        yield Button(
                            _("Let in"),
                            id=f"walk-in-let-{visit.id}",
                            variant="success",
                            compact=True,
                            classes="while-idle walk-in-answer",
                        )
                        yield Button(
                            _("Decline"),
                            id=f"walk-in-decline-{visit.id}",
                            variant="error",
                            compact=True,
                            classes="while-idle walk-in-answer",
                        )
                if self.pending_top_up is not None:
                    yield Button(
                        Content(self._pending_text(self.pending_top_up)),
                        id="pending-top-up",
                        variant="warning",
                        compact=True,
                    )
            # The portal's words and grouping: Compte (what I have), Services (what I do).
            yield Static(_("Account"), classes="home-group", markup=False)
            with Grid(id="home-tiles", classes="home-tiles"):
                yield Button(_("My badge"), id="badge", variant="primary")
                yield Button(_("Tickets"), id="tickets", variant="primary")
                yield Button(_("My orders"), id="orders", variant="primary")
                yield Button(self._notifications_label(), id="notifications", variant="primary")
                yield Button(_("My account"), id="account", variant="primary")
            yield Static(_("Services"), classes="home-group", markup=False)
            with Grid(id="home-services", classes="home-tiles"):
                yield Button(_("Top up"), id="top-up", variant="success")
                yield Button(_("Place an order"), id="order", variant="success")
                yield Button(_("Visit requests"), id="visits", variant="success")
                if session is not None and session.has_role("reception"):
                    yield Button(_("Reception desk"), id="reception", variant="warning")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Help"), id="help")
                yield Button(LANGUAGE_NAMES[other_language()], id="language")
                yield Button(_("Sign out"), id="sign-out", variant="error")

    def _notifications_label(self) -> str:
        if not self.unread_count:
            return _("Notifications")
        return _("Notifications ({count})").format(count=self.unread_count)

    def _balance_text(self) -> str:
        balance = self._balance()
        if balance is None:
            return ""
        return format_money(balance.amount_cents, balance.currency, get_language())

    def _balance(self) -> Money | None:
        session = self.kiosk.session
        if session is None or session.balance_cents is None:
            return None
        return Money(session.balance_cents, session.currency)

    @staticmethod
    def _pending_text(top_up: TopUp) -> str:
        amount = format_money(top_up.amount.amount_cents, top_up.amount.currency, get_language())
        return _("A top-up of {amount} is still pending").format(amount=amount)

    # Keeping it current ---------------------------------------------------------------------

    async def on_screen_resume(self) -> None:
        # Shown first, and back from any screen: what the local session knows at once, then
        # the service's word (a top-up or an order changed the balance, an order is ready).
        self._show_balance()
        self.refresh_from_service()

    def _show_balance(self) -> None:
        for label in self.query("#home-balance").results(MoneyLabel):
            label.money = self._balance()
        for big in self.query("#home-balance-big").results(Digits):
            big.update(self._balance_text())

    def refresh_from_service(self) -> None:
        """Fetch the balance, unread notifications and (at sign-in) pending top-ups."""
        self._refresh()

    @work(exclusive=True, exit_on_error=False, group="home")
    async def _refresh(self) -> None:
        api = self.kiosk.api()
        me = await api.me()
        session = self.kiosk.session
        if session is None:
            return
        session.update(me)
        self._show_balance()
        changed = False
        if not self._checked_pending or self.pending_top_up is not None:
            pending = await api.top_ups(state="pending")
            self._checked_pending = True
            latest = pending.items[0] if pending.items else None
            changed = latest != self.pending_top_up
            self.pending_top_up = latest
        visits = await api.visits()
        asking = [visit for visit in visits.items if visit.walk_in and visit.state == "requested"]
        if [visit.id for visit in asking] != [visit.id for visit in self.walk_ins]:
            self.walk_ins = asking
            changed = True
        notifications = await api.notifications()
        # What is new is shown here once; it stays unread (and counted on the Notifications
        # tile) until the person opens it there.
        fresh = [
            item for item in notifications.items if not item.read and item.id not in self._shown
        ]
        for item in reversed(fresh):
            self._shown.add(item.id)
            if item.kind == "visit_request" and self.walk_ins:
                continue  # the visitor's own row says it, with Let in and Decline
            self.notices.insert(0, plain(notice_title(item), max_length=NOTICE_MAX))
        del self.notices[MAX_NOTICES:]
        if fresh or changed:
            self.unread_count = notifications.unread_count
            await self.redraw()
        elif notifications.unread_count != self.unread_count:
            self.unread_count = notifications.unread_count
            for tile in self.query("#notifications").results(Button):
                tile.label = self._notifications_label()

    # Buttons --------------------------------------------------------------------------------

    def action_sign_out(self) -> None:
        self.kiosk.end_session()

    @on(Button.Pressed, "#sign-out")
    def _sign_out(self) -> None:
        self.kiosk.end_session()

    @on(Button.Pressed, "#language")
    async def _switch_language(self) -> None:
        await self.kiosk.switch_language()

    @on(Button.Pressed, ", ".join(f"#{room}" for room in _ROOMS))
    def _open_room(self, event: Button.Pressed) -> None:
        self.open_screen(_ROOMS[event.button.id or ""])

    @on(Button.Pressed, "#top-up, #pending-top-up")
    def _top_up(self, event: Button.Pressed) -> None:
        from kiosk.screens.top_up import TopUpScreen

        pending = self.pending_top_up if event.button.id == "pending-top-up" else None
        self.app.push_screen(TopUpScreen(pending))

    @on(Button.Pressed, ".walk-in-answer")
    def _walk_in_answer(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        visit_id = int(button.rsplit("-", 1)[1])
        self.set_busy(True)
        self._answer_walk_in(visit_id, let_in=button.startswith("walk-in-let-"))

    @work(exclusive=True, exit_on_error=False, group="walk-in-answer")
    async def _answer_walk_in(self, visit_id: int, *, let_in: bool) -> None:
        """The host's answer to a visitor waiting at a kiosk: that kiosk learns it within a few
        seconds (it asks the service) and checks them in, or sends them to reception."""
        api = self.kiosk.api()
        visit = await (api.approve_walk_in(visit_id) if let_in else api.decline_walk_in(visit_id))
        names = plain(
            ", ".join(person.first_name + " " + person.last_name for person in visit.visitors),
            max_length=NOTICE_MAX,
        )
        self.walk_ins = [each for each in self.walk_ins if each.id != visit_id]
        if let_in:
            self.message = _("{names} can come in: the kiosk checks them in.").format(names=names)
        else:
            self.message = _("Declined: {names} is asked to see the reception desk.").format(
                names=names
            )
        await self.redraw()
