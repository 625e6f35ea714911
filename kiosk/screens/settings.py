"""The person's settings ("Paramètres"): the kiosk's language for them (switched to at every
sign-in), a low-balance alert (an amount in the kiosk's language, within the service's range;
empty: none), and which events reach them by email and by SMS (every event is in their
notifications anyway)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from kiosk.i18n import LANGUAGE_NAMES, N_, _, get_language
from kiosk.money import amount_text, format_money, parse_amount
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.widgets.tick_box import TickBox

if TYPE_CHECKING:
    from kiosk.api.models import Settings

EVENT_LABELS: dict[str, str] = {
    "order_ready": N_("An order is ready"),
    "visitor_arrived": N_("A visitor has arrived"),
    "visit_request": N_("A visitor asks for me"),
    "visit_decided": N_("A visit request is approved or rejected"),
    "top_up_credited": N_("A top-up is credited"),
    "low_balance": N_("My balance is low"),
}


class SettingsScreen(KioskScreen):
    """Language, low-balance alert, and email/SMS per event; Save sends what changed."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="settings.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.settings: Settings | None = None
        """What the service holds, once loaded (and after each save)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-body", classes="panel"):
            yield Static(_("Settings"), classes="title", markup=False)
            if self.settings is not None:
                yield from self._form(self.settings)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                if self.settings is not None:
                    yield Button(_("Save"), id="save", variant="primary", classes="while-idle")

    def _form(self, settings: Settings) -> ComposeResult:
        with VerticalScroll(id="settings-fields"):
            with Horizontal(classes="settings-row"):
                yield Static(_("Language"), classes="settings-label", markup=False)
                yield Select(
                    [
                        (_("The kiosk's"), "kiosk"),
                        *((name, code) for code, name in LANGUAGE_NAMES.items()),
                    ],
                    value=settings.language or "kiosk",
                    allow_blank=False,
                    id="settings-language",
                    compact=True,
                    classes="while-idle",
                )
            with Horizontal(classes="settings-row"):
                yield Static(
                    _("Low-balance alert ({currency})").format(
                        currency=settings.low_balance_max.currency
                    ),
                    classes="settings-label",
                    markup=False,
                )
                threshold = settings.low_balance
                yield Input(
                    amount_text(threshold.amount_cents, get_language())
                    if threshold is not None
                    else "",
                    placeholder=_("none"),
                    id="settings-low-balance",
                    max_length=12,
                    compact=True,
                    classes="while-idle",
                )
            yield Static(
                _("Below this amount after a payment, you are told. Empty: no alert."),
                classes="hint",
                markup=False,
            )
            with Horizontal(classes="settings-row settings-head"):
                yield Static(_("Tell me outside the kiosk when…"), classes="settings-label")
                yield Static(_("Email"), classes="settings-channel", markup=False)
                yield Static(_("SMS"), classes="settings-channel", markup=False)
            for event, channels in settings.notify.items():
                with Horizontal(classes="settings-row settings-event"):
                    yield Static(
                        _(EVENT_LABELS[event]) if event in EVENT_LABELS else event,
                        classes="settings-label",
                        markup=False,
                    )
                    yield TickBox(
                        value=channels.email,
                        id=f"email-{event}",
                        compact=True,
                        disabled=not settings.has_email,
                        classes="settings-channel while-idle",
                    )
                    yield TickBox(
                        value=channels.sms,
                        id=f"sms-{event}",
                        compact=True,
                        disabled=not settings.has_phone,
                        classes="settings-channel while-idle",
                    )
            if not settings.has_email or not settings.has_phone:
                yield Static(
                    _("No email address or phone number is known for you: ask the reception desk.")
                    if not settings.has_email and not settings.has_phone
                    else _("No email address is known for you.")
                    if not settings.has_email
                    else _("No phone number is known for you."),
                    classes="hint",
                    markup=False,
                )

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _load(self) -> None:
        self.settings = await self.kiosk.api().settings()
        await self.redraw()
        self.query_one("#settings-language", Select).focus()

    def action_back(self) -> None:
        self.dismiss()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "save":
            self._send()

    def _send(self) -> None:
        settings = self.settings
        if settings is None:
            return
        patch: dict[str, Any] = {}
        chosen = self.query_one("#settings-language", Select).value
        patch["language"] = chosen if chosen in ("fr", "en") else None
        typed = self.query_one("#settings-low-balance", Input).value.strip()
        if typed:
            try:
                cents = parse_amount(typed, get_language())
            except ValueError:
                self.show_message(_("Write the amount as in 12,50."))
                self.query_one("#settings-low-balance", Input).focus()
                return
            top = settings.low_balance_max
            if not 0 <= cents <= top.amount_cents:
                self.show_message(
                    _("The alert must be between {low} and {high}.").format(
                        low=format_money(0, top.currency, get_language()),
                        high=format_money(top.amount_cents, top.currency, get_language()),
                    )
                )
                self.query_one("#settings-low-balance", Input).focus()
                return
            patch["low_balance_cents"] = cents
        else:
            patch["low_balance_cents"] = None
        patch["notify"] = {
            event: {
                "email": self.query_one(f"#email-{event}", TickBox).value,
                "sms": self.query_one(f"#sms-{event}", TickBox).value,
            }
            for event in settings.notify
        }
        self.show_message(_("Saving…"))
        self.set_busy(True)
        self._save(patch)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _save(self, patch: dict[str, Any]) -> None:
        self.settings = await self.kiosk.api().change_settings(patch)
        language = self.settings.language or self.kiosk.settings.language
        if language != get_language():
            await self.kiosk.switch_language(language)
        self.show_message(_("Your settings are saved."))
