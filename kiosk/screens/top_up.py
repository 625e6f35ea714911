"""Topping up ("Recharger mon compte"): pick a preset or type an amount, confirm it, pay on a phone
through the checkout link shown as a QR, and see the outcome and the new balance.

One idempotency key is made per amount the person confirms and reused on every retry, so a lost
answer never starts a second payment. The screen shows only outcomes the service gave: when it
cannot get an answer it says so and offers to try again (with the same key).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, ClassVar, Literal
from urllib.parse import urlsplit

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from kiosk.api.errors import ApiError
from kiosk.api.retry import is_retryable, send_money
from kiosk.i18n import N_, _, get_language
from kiosk.money import AmountError, format_money, parse_amount
from kiosk.problems import describe_error
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.screens.confirm_money import ConfirmMoneyScreen
from kiosk.text import plain
from kiosk.widgets.qr_view import QrView

if TYPE_CHECKING:
    from kiosk.api.models import TopUp, TopUpOptions

Phase = Literal["loading", "choose", "sending", "unconfirmed", "pending", "done", "off"]

POLL_SECONDS = 2.0
"""How often a pending top-up's state is asked for."""

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

AMOUNT_ERRORS: dict[str, str] = {
    "empty": N_("Type an amount."),
    "invalid": N_("This is not an amount. Type it like 12,50."),
    "negative": N_("The amount cannot be negative."),
    "too-many-decimals": N_("An amount has at most two decimals."),
    "too-large": N_("This amount is too large."),
}

OUTCOMES: dict[str, str] = {
    "succeeded": N_("Payment received: your account is credited."),
    "failed": N_("The payment was declined. Your account was not credited."),
    "expired": N_("The payment time ran out. Your account was not credited."),
    "cancelled": N_("The top-up was cancelled. Your account was not credited."),
}


def _money(cents: int, currency: str) -> str:
    return format_money(cents, currency, get_language())


class TopUpScreen(KioskScreen):
    """Tops up the signed-in person's account. Given a pending `top_up`, it follows that one
    (the "still pending" line of home leads here)."""

    # A person is paying on their phone meanwhile: the longer idle time applies.
    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="top_up.back"),
    ]

    def __init__(
        self,
        top_up: TopUp | None = None,
        *,
        poll_seconds: float | None = None,
        retry_delays: tuple[float, ...] | None = None,
    ) -> None:
        super().__init__()
        self.poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self.retry_delays = retry_delays
        self.options: TopUpOptions | None = None
        """The site's presets and limits, once loaded."""
        self.top_up: TopUp | None = top_up
        """The top-up under way or finished."""
        self.phase: Phase = "pending" if top_up is not None else "loading"
        """Where the person is in the flow."""
        self.amount_cents: int | None = None
        """The amount confirmed."""
        self.idempotency_key: str | None = None
        """The key of the confirmed amount: reused on every retry of it."""
        self._cancel_key: str | None = None

    # Drawing --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="top-up-body", classes="panel"):
            yield Static(_("Top up my account"), classes="title", markup=False)
            yield from getattr(self, f"_compose_{self.phase}")()
            if self.phase != "pending":  # pending: beside the code, which needs every row
                yield self.message_widget()

    def _compose_loading(self) -> ComposeResult:
        yield Static(_("Loading…"), classes="hint", markup=False)
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")

    def _compose_off(self) -> ComposeResult:
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")

    def _compose_choose(self) -> ComposeResult:
        options = self.options
        if options is None:
            return
        if options.sandbox:
            yield Static(_("Test payments: no real money is charged."), classes="hint")
        yield Static(_("Choose an amount"), markup=False)
        with Horizontal(id="top-up-presets"):
            for index, preset in enumerate(options.presets):
                yield Button(
                    Content(_money(preset.amount_cents, preset.currency)),
                    id=f"preset-{index}",
                    classes="preset",
                    variant="primary",
                )
        limits = _("Other amount (from {min} to {max})").format(
            min=_money(options.min.amount_cents, options.min.currency),
            max=_money(options.max.amount_cents, options.max.currency),
        )
        yield Static(Content(limits), markup=False)
        with Horizontal(id="top-up-other"):
            yield Input(placeholder="12,50", id="amount", max_length=12)
            yield Button(_("Continue"), id="continue", variant="success")
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")

    def _compose_sending(self) -> ComposeResult:
        yield Static(Content(self._amount_line()), id="top-up-amount", markup=False)

    def _compose_unconfirmed(self) -> ComposeResult:
        yield Static(Content(self._amount_line()), id="top-up-amount", markup=False)
        with Horizontal(classes="actions"):
            yield Button(_("Back"), id="back")
            yield Button(_("Try again"), id="retry", variant="primary")

    def _compose_pending(self) -> ComposeResult:
        """The payment link as a QR on the left, at its full height (a phone must see it whole,
        at 80×24 too), and everything else beside it."""
        top_up = self.top_up
        if top_up is None:
            return
        url = plain(top_up.checkout_url)
        with Horizontal(id="top-up-pay"):
            yield QrView(top_up.checkout_url, error="l", id="top-up-qr")
            with Vertical(id="top-up-side"):
                yield Static(Content(self._amount_line()), id="top-up-amount", markup=False)
                yield Static(_("Scan with your phone to pay"), id="top-up-scan", markup=False)
                yield Static(Content(url), id="top-up-url", markup=False)
                if urlsplit(top_up.checkout_url).hostname in _LOOPBACK_HOSTS:
                    yield Static(
                        _("Demo: open this address in a browser on this computer."),
                        classes="hint",
                        markup=False,
                    )
                yield Static(_("Waiting for the payment…"), id="top-up-state", markup=False)
                yield self.message_widget()
                with Horizontal(classes="actions"):
                    yield Button(_("Cancel the top-up"), id="cancel-top-up", variant="error")

    def _compose_done(self) -> ComposeResult:
        top_up = self.top_up
        if top_up is None:
            return
        yield Static(Content(self._amount_line()), id="top-up-amount", markup=False)
        yield Static(Content(self._outcome_text(top_up)), id="top-up-outcome", markup=False)
        if top_up.balance_after is not None:
            balance = _("Your balance: {amount}").format(
                amount=_money(top_up.balance_after.amount_cents, top_up.balance_after.currency)
            )
            yield Static(Content(balance), id="top-up-balance", markup=False)
        with Horizontal(classes="actions"):
            yield Button(_("Back to home"), id="back", variant="primary")

    def _amount_line(self) -> str:
        if self.top_up is not None:
            cents, currency = self.top_up.amount.amount_cents, self.top_up.amount.currency
        elif self.amount_cents is not None and self.options is not None:
            cents, currency = self.amount_cents, self.options.currency
        else:
            return ""
        return _("Top-up of {amount}").format(amount=_money(cents, currency))

    @staticmethod
    def _outcome_text(top_up: TopUp) -> str:
        if top_up.state == "succeeded" and top_up.credited_after_state:
            return _("The payment arrived late but your account was credited.")
        return _(OUTCOMES.get(top_up.state, N_("Waiting for the payment…")))

    async def _go(self, phase: Phase, message: str = "") -> None:
        self.phase = phase
        self.message = message
        self.set_class(phase == "pending", "-pending")
        await self.redraw()
        self._focus_first()

    def _focus_first(self) -> None:
        for selector in ("#preset-0", "#amount", "#retry", "#cancel-top-up", "#back"):
            found = self.query(selector)
            if found:
                found.first().focus()
                return

    # Flow -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_class(self.phase == "pending", "-pending")
        if self.top_up is not None:
            self._follow(self.top_up.id)
        else:
            self._load_options()
        self._focus_first()

    @work(exclusive=True, exit_on_error=False, group="top-up")
    async def _load_options(self) -> None:
        options = await self.kiosk.api().top_up_options()
        self.options = options
        if not options.available:
            await self._go("off", _("Online top-ups are not available on this site."))
        else:
            await self._go("choose")

    def on_problem(self, error: BaseException | None) -> None:
        super().on_problem(error)
        if self.phase == "loading":
            self.call_later(self._go, "off", self.message)

    @on(Input.Submitted, "#amount")
    def _amount_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._typed_amount()

    def _typed_amount(self) -> None:
        options = self.options
        if options is None:
            return
        text = self.query_one("#amount", Input).value
        try:
            cents = parse_amount(text, get_language())
        except AmountError as error:
            self.show_message(_(AMOUNT_ERRORS.get(error.reason, AMOUNT_ERRORS["invalid"])))
            return
        if not options.min.amount_cents <= cents <= options.max.amount_cents:
            self.show_message(
                _("A top-up is from {min} to {max}.").format(
                    min=_money(options.min.amount_cents, options.currency),
                    max=_money(options.max.amount_cents, options.currency),
                )
            )
            return
        self._ask_confirmation(cents)

    def _ask_confirmation(self, cents: int) -> None:
        options = self.options
        if options is None:
            return
        self.show_message("")
        session = self.kiosk.session
        details: list[str] = []
        if session is not None and session.balance_cents is not None:
            details.append(
                _("Balance after payment: {amount}").format(
                    amount=_money(session.balance_cents + cents, options.currency)
                )
            )
        screen = ConfirmMoneyScreen(
            _("Top up your account?"),
            _money(cents, options.currency),
            details,
            confirm_label=_("Top up"),
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.amount_cents = cents
                # One key per confirmed amount: every retry of this intent reuses it.
                self.idempotency_key = str(uuid.uuid4())
                self._start()

        self.app.push_screen(screen, confirmed)

    def _start(self) -> None:
        self._send_start()

    @work(exclusive=True, exit_on_error=False, group="top-up")
    async def _send_start(self) -> None:
        cents, key = self.amount_cents, self.idempotency_key
        if cents is None or key is None:
            return
        await self._go("sending", _("Sending the payment request…"))
        api = self.kiosk.api()
        try:
            top_up = await send_money(
                lambda: api.start_top_up(cents, key),
                on_retry=self._retrying,
                delays=self.retry_delays,
            )
        except ApiError as error:
            if is_retryable(error):
                await self._go(
                    "unconfirmed",
                    _(
                        "We could not confirm the payment request. Try again: you will not be "
                        "charged twice."
                    ),
                )
            else:
                await self._go("choose", describe_error(error))
            return
        self.top_up = top_up
        await self._show_top_up()

    def _retrying(self, attempt: int) -> None:
        del attempt
        self.show_message(_("We could not confirm the request; retrying…"))

    async def _show_top_up(self) -> None:
        top_up = self.top_up
        if top_up is None:
            return
        if top_up.state == "pending":
            await self._go("pending")
            self._follow(top_up.id)
        else:
            self._note_balance(top_up)
            await self._go("done")

    def _note_balance(self, top_up: TopUp) -> None:
        session = self.kiosk.session
        if session is not None and top_up.balance_after is not None:
            session.balance_cents = top_up.balance_after.amount_cents

    @work(exclusive=True, exit_on_error=False, group="follow")
    async def _follow(self, top_up_id: int) -> None:
        """Ask the top-up's state every `poll_seconds` until it ends (an unreachable service
        only delays the next question)."""
        from kiosk.api.errors import ServiceUnavailable

        api = self.kiosk.api()
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                top_up = await api.top_up(top_up_id)
            except ServiceUnavailable:
                self.show_message(_("Reconnecting…"))
                continue
            self.show_message("")
            if top_up.state != "pending":
                self.top_up = top_up
                self._note_balance(top_up)
                await self._go("done")
                return

    @work(exclusive=True, exit_on_error=False, group="top-up")
    async def _send_cancel(self) -> None:
        top_up = self.top_up
        if top_up is None:
            return
        if self._cancel_key is None:
            self._cancel_key = str(uuid.uuid4())
        key = self._cancel_key
        api = self.kiosk.api()
        self.show_message(_("Cancelling…"))
        try:
            answer = await send_money(
                lambda: api.cancel_top_up(top_up.id, key),
                on_retry=self._retrying,
                delays=self.retry_delays,
            )
        except ApiError as error:
            # The top-up stands as it was: still followed, the person may try again.
            self.show_message(describe_error(error))
            return
        self.workers.cancel_group(self, "follow")
        self.top_up = answer
        self._note_balance(answer)
        if answer.state == "pending":
            await self._go("pending")
            self._follow(answer.id)
        else:
            await self._go("done")

    # Buttons --------------------------------------------------------------------------------

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss()

    @on(Button.Pressed, ".preset")
    def _preset(self, event: Button.Pressed) -> None:
        if self.options is not None:
            index = int((event.button.id or "").removeprefix("preset-"))
            self._ask_confirmation(self.options.presets[index].amount_cents)

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self._typed_amount()

    @on(Button.Pressed, "#retry")
    def _retry(self) -> None:
        self._start()

    @on(Button.Pressed, "#cancel-top-up")
    def _cancel_top_up(self) -> None:
        self._send_cancel()

    def action_back(self) -> None:
        # Leaving while a payment is pending is fine: home shows it at the next sign-in, and
        # the service settles it. Leaving while a request is unanswered is not offered.
        if self.phase != "sending":
            self.dismiss()
