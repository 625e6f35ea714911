"""The person's data ("Mes informations"): name and identifier, email and phone masked (a shared
screen never shows them whole), and changing the email or the phone: the new address is typed
hidden, a code goes to it, and typing that code here makes it the account's."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from kiosk.i18n import _, get_language
from kiosk.problems import problem_code
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.text import plain
from kiosk.widgets.keypad import Keypad

if TYPE_CHECKING:
    from kiosk.api.models import Profile

Step = Literal["show", "new", "code"]
Channel = Literal["email", "phone"]


class PersonalDataScreen(KioskScreen):
    """What the service knows of the person; Change my email / phone; the code."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="personal_data.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.profile: Profile | None = None
        self.step: Step = "show"
        self.channel: Channel = "email"
        self.destination = ""
        """Where the code went, masked."""

    def compose(self) -> ComposeResult:
        with Vertical(id="personal-body", classes="panel"):
            yield Static(_("My personal data"), classes="title", markup=False)
            if self.step == "show":
                yield from self._compose_show()
            elif self.step == "new":
                label = (
                    _("Your new email address")
                    if self.channel == "email"
                    else _("Your new phone number")
                )
                yield Static(label, classes="field-label", markup=False)
                yield Input(
                    id="new-contact",
                    password=True,
                    max_length=254,
                    compact=True,
                    classes="while-idle",
                )
                yield Static(
                    _("It stays hidden on this shared screen. A code is sent to it."),
                    classes="hint",
                    markup=False,
                )
            else:
                yield Static(
                    Content(
                        _("Type the code sent to {destination}.").format(
                            destination=plain(self.destination)
                        )
                    ),
                    classes="hint",
                    markup=False,
                )
                with Center():
                    yield Keypad(6, id="code")
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                if self.step == "new":
                    yield Button(
                        _("Send a code"), id="send", variant="primary", classes="while-idle"
                    )

    def _compose_show(self) -> ComposeResult:
        profile = self.profile
        if profile is None:
            return
        rows = (
            (_("Name"), profile.name),
            (_("Identifier"), profile.identifier),
            (_("Email"), profile.email or _("not given")),
            (_("Phone"), profile.phone or _("not given")),
        )
        for label, value in rows:
            with Horizontal(classes="personal-row"):
                yield Static(label, classes="personal-label", markup=False)
                yield Static(Content(plain(value, max_length=80)), classes="personal-value")
        with Horizontal(classes="actions"):
            yield Button(_("Change my email"), id="change-email")
            yield Button(_("Change my phone"), id="change-phone")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _load(self) -> None:
        self.profile = await self.kiosk.api().profile()
        await self.redraw()
        self._focus_step()

    async def _go(self, step: Step, message: str = "") -> None:
        self.step = step
        self.message = message
        await self.redraw()
        self._focus_step()

    def _focus_step(self) -> None:
        """The step's field, or Back: after a redraw the focus is never nowhere (a keyboard user
        would not see where they are)."""
        field = self.query("#new-contact, #code")
        (field.first() if field else self.query_one("#back", Button)).focus()

    def action_back(self) -> None:
        if self.step == "show":
            self.dismiss()
        else:
            self.call_later(self._go, "show")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.action_back()
        elif button in ("change-email", "change-phone"):
            self.channel = "email" if button == "change-email" else "phone"
            await self._go("new")
        elif button == "send":
            self._send()

    @on(Input.Submitted, "#new-contact")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._send()

    def _send(self) -> None:
        value = self.query_one("#new-contact", Input).value.strip()
        if not value:
            self.show_message(
                _("Type your new email address.")
                if self.channel == "email"
                else _("Type your new phone number.")
            )
            return
        self.show_message(_("Sending…"))
        self.set_busy(True)
        self._request(value)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _request(self, value: str) -> None:
        sent = await self.kiosk.api().change_contact(self.channel, value, get_language())
        self.destination = sent.destination
        await self._go("code")

    @on(Keypad.Submitted, "#code")
    def _code_typed(self, event: Keypad.Submitted) -> None:
        event.stop()
        self.show_message(_("Checking…"))
        self.set_busy(True)
        self._confirm(event.value)

    @work(exclusive=True, exit_on_error=False, group="api")
    async def _confirm(self, code: str) -> None:
        self.profile = await self.kiosk.api().confirm_contact(code)
        await self._go(
            "show",
            _("Your email address is changed.")
            if self.channel == "email"
            else _("Your phone number is changed."),
        )

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        if problem_code(error) == "verification-code-expired":
            self.call_later(self._go, "new", self.message)
