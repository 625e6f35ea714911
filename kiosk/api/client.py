"""`KioskClient`: the only code of the terminal that speaks HTTP to the service.

Every secret (device key, session token, PIN, code, PIN setup token) travels in a header or a
JSON body, never in a URL, because httpx logs URLs at INFO. Nothing here logs a body or a header.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import ssl
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from kiosk.api.errors import (
    UNEXPECTED_RESPONSE,
    FieldError,
    ProblemError,
    ServiceUnavailable,
)
from kiosk.api.models import (
    AccountMatches,
    AllRead,
    BadgeBlocked,
    BadgeToken,
    CancelReceipt,
    CashDay,
    Catalogue,
    CheckedOut,
    Connected,
    DeskVisit,
    DeviceInfo,
    DeviceRollCalls,
    Evacuation,
    Health,
    HeldCheckIn,
    Help,
    HostMatches,
    Identity,
    Me,
    Notification,
    NotificationList,
    OrderDetail,
    OrderPage,
    OrderReceipt,
    PinChanged,
    PinSetup,
    ProblemDocument,
    Profile,
    ReceptionDay,
    RollCall,
    Session,
    Settings,
    Statement,
    StatementSent,
    TicketDetail,
    TicketPage,
    TopUp,
    TopUpOptions,
    TopUpPage,
    TopUpReceipt,
    TopUpState,
    VerificationPurpose,
    VerificationSent,
    VisitDetail,
    VisitList,
    VisitorBadge,
    VisitorInput,
    WalkInCreated,
    Watchlist,
    WatchlistEntry,
)

logger = logging.getLogger(__name__)

AnswerT = TypeVar("AnswerT", bound=BaseModel)

# Safe to retry whatever happened: reading changes nothing on the service.
_READ_RETRY_ON: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.TimeoutException)
# A request that writes is retried only when no byte of it can have reached the service: the
# connection was refused or never established. Money requests (later) carry an Idempotency-Key
# and may retry more.
_WRITE_RETRY_ON: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)

# A request with an Idempotency-Key is applied at most once by the service, so it may be resent
# whatever happened to the first attempt, even after its bytes reached the service.
_KEYED_RETRY_ON: tuple[type[Exception], ...] = (httpx.TransportError,)

_GATEWAY_DOWN = frozenset({502, 503, 504})
SESSION_INVALID = "session-invalid"


def tls_context(base_url: str) -> ssl.SSLContext | None:
    """The TLS context for a service at `base_url` (certifi's authorities, as httpx's default),
    or None for plain HTTP. Making one reads certifi's bundle, about 50 ms: the kiosk makes it
    in a thread, off the UI loop, and hands it to `KioskClient`."""
    if httpx.URL(base_url).scheme != "https":
        return None
    return httpx.create_ssl_context()


def _verify(base_url: str, tls: ssl.SSLContext | None) -> ssl.SSLContext | bool:
    """httpx's `verify` for a client of `base_url`: the context given, else httpx's default for
    https. A plain-HTTP service (the embedded demo on loopback) has no certificate to verify, and
    the client follows no redirect elsewhere: httpx would still make a TLS context it never
    uses (about 50 ms, on the UI loop, before the kiosk's first request)."""
    if tls is not None:
        return tls
    return httpx.URL(base_url).scheme == "https"


class KioskClient:
    """Typed async client of the `/v1` API (docs/api.md), for one enrolled device.

    The person's session token is held here, set by `sign_in` and `set_pin` and dropped by
    `sign_out` and `forget_session` (and dropped when the service answers `session-invalid`);
    screens never see it. Failures raise `ProblemError` (the
    service said no, with a stable `code`) or `ServiceUnavailable` (it could not be reached).
    """

    def __init__(
        self,
        base_url: str,
        device_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = 3,
        backoff_seconds: float = 0.1,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"X-Device-Key": device_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            verify=_verify(base_url, tls),
        )
        self._session_token: str | None = None
        self._attempts = max(1, attempts)
        self._backoff = backoff_seconds

    def __repr__(self) -> str:
        return f"KioskClient({str(self._http.base_url)!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def base_url(self) -> str:
        """The service's base URL."""
        return str(self._http.base_url)

    @property
    def has_session(self) -> bool:
        """True while a person's session token is held."""
        return self._session_token is not None

    def forget_session(self) -> None:
        """Drop the person's session token locally, without telling the service."""
        self._session_token = None

    async def aclose(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        self.forget_session()
        await self._http.aclose()

    # Routes ----------------------------------------------------------------------------------

    async def health(self) -> Health:
        """`GET /v1/health` (needs no credentials, but sends them anyway: harmless)."""
        return await self._call("GET", "/v1/health", Health)

    async def device(self) -> DeviceInfo:
        """`GET /v1/device`: this terminal and the sites it serves."""
        return await self._call("GET", "/v1/device", DeviceInfo)

    async def device_roll_calls(self) -> DeviceRollCalls:
        """`GET /v1/device/roll-call`: each site's roll call, for a terminal enrolled to keep it
        (`DeviceInfo.roll_call`), nobody signed in."""
        return await self._call("GET", "/v1/device/roll-call", DeviceRollCalls)

    async def identify(self, solution_code: str, identifier: str) -> Identity:
        """`POST /v1/auth/identify`: the state of an account on a site."""
        body = {"solution_code": solution_code, "identifier": identifier}
        return await self._call("POST", "/v1/auth/identify", Identity, json=body)

    async def connect(self, connect_token: str) -> Connected:
        """`POST /v1/auth/connect`: who a scanned welcome-letter QR names, and what to ask next
        (as `identify` answers for a typed identifier)."""
        body = {"connect_token": connect_token}
        return await self._call("POST", "/v1/auth/connect", Connected, json=body)

    async def send_verification_code(
        self,
        solution_code: str,
        identifier: str,
        purpose: VerificationPurpose,
        language: str | None = None,
    ) -> VerificationSent:
        """`POST /v1/auth/verification-codes`: send a code to the account's contact, in
        `language` (the terminal's now; the site's when None)."""
        body = {
            "solution_code": solution_code,
            "identifier": identifier,
            "purpose": purpose,
            "language": language,
        }
        return await self._call("POST", "/v1/auth/verification-codes", VerificationSent, json=body)

    async def check_verification_code(
        self, solution_code: str, identifier: str, code: str
    ) -> PinSetup:
        """`POST /v1/auth/verification-codes/check`: trade a right code for a PIN setup token."""
        body = {"solution_code": solution_code, "identifier": identifier, "code": code}
        return await self._call("POST", "/v1/auth/verification-codes/check", PinSetup, json=body)

    async def set_pin(self, pin_setup_token: str, pin: str) -> Me:
        """`POST /v1/auth/pin`: choose a PIN (activates or unlocks the account) and sign in."""
        body = {"pin_setup_token": pin_setup_token, "pin": pin}
        session = await self._call("POST", "/v1/auth/pin", Session, json=body)
        self._session_token = session.token
        return session.me

    async def change_pin(self, current_pin: str, new_pin: str) -> PinChanged:
        """`POST /v1/me/pin`: the signed-in person changes their PIN."""
        body = {"current_pin": current_pin, "new_pin": new_pin}
        return await self._call("POST", "/v1/me/pin", PinChanged, json=body)

    async def block_badge(self, pin: str) -> BadgeBlocked:
        """`POST /v1/me/badge/block`: the person blocks their lost badge (PIN to confirm)."""
        return await self._call("POST", "/v1/me/badge/block", BadgeBlocked, json={"pin": pin})

    async def help(self, language: str, solution_code: str | None = None) -> Help:
        """`GET /v1/help`: the site's questions and answers (no one need be signed in)."""
        query = {"language": language} | ({"solution_code": solution_code} if solution_code else {})
        return await self._call("GET", f"/v1/help?{urlencode(query)}", Help)

    async def settings(self) -> Settings:
        """`GET /v1/me/settings`: language, low-balance alert, email and SMS per event."""
        return await self._call("GET", "/v1/me/settings", Settings)

    async def change_settings(self, patch: Mapping[str, Any]) -> Settings:
        """`PATCH /v1/me/settings`: what `patch` gives changes, the rest stays."""
        return await self._call("PATCH", "/v1/me/settings", Settings, json=patch)

    async def statement(self, month: dt.date) -> Statement:
        """`GET /v1/me/statements/{YYYY-MM}`: the month's statement."""
        return await self._call("GET", f"/v1/me/statements/{month:%Y-%m}", Statement)

    async def email_statement(self, month: dt.date) -> StatementSent:
        """`POST /v1/me/statements/{YYYY-MM}/email`: the statement as a PDF to the person."""
        path = f"/v1/me/statements/{month:%Y-%m}/email"
        return await self._call("POST", path, StatementSent)

    async def profile(self) -> Profile:
        """`GET /v1/me/profile`: name, identifier, email and phone masked."""
        return await self._call("GET", "/v1/me/profile", Profile)

    async def change_contact(
        self, channel: Literal["email", "phone"], value: str, language: str
    ) -> VerificationSent:
        """`POST /v1/me/contact`: a code goes to the new email address or phone number."""
        body = {"channel": channel, "value": value, "language": language}
        return await self._call("POST", "/v1/me/contact", VerificationSent, json=body)

    async def confirm_contact(self, code: str) -> Profile:
        """`POST /v1/me/contact/confirm`: the code makes the new address the account's."""
        return await self._call("POST", "/v1/me/contact/confirm", Profile, json={"code": code})

    async def sign_in(self, solution_code: str, identifier: str, pin: str) -> Me:
        """`POST /v1/auth/sessions`: sign a person in with their PIN."""
        body = {"solution_code": solution_code, "identifier": identifier, "pin": pin}
        session = await self._call("POST", "/v1/auth/sessions", Session, json=body)
        self._session_token = session.token
        return session.me

    def detach_session(self) -> str | None:
        """Forget the session token locally and hand it over (to end it on the service with
        `sign_out(token)`): the client is ready for the next person at once."""
        token, self._session_token = self._session_token, None
        return token

    async def sign_out(self, token: str | None = None) -> None:
        """`DELETE /v1/auth/sessions/current` for `token` (by default the current session),
        best effort: the token is forgotten locally whatever happens, and no error is raised
        (an unreachable service ends the session on its own when it expires)."""
        if token is None:
            token = self.detach_session()
        if token is None:
            return
        # Forgotten at once, before the request: whatever happens while it is under way, this
        # person's token can neither linger nor touch the session of whoever signs in next.
        try:
            await self._send(
                "DELETE", "/v1/auth/sessions/current", retry_on=_WRITE_RETRY_ON, token=token
            )
        except ProblemError as exc:
            logger.info("sign-out refused by the service: %s", exc.code)
        except ServiceUnavailable:
            logger.info("sign-out not delivered: the service is unreachable")

    async def me(self) -> Me:
        """`GET /v1/me`: the signed-in person, with their balance."""
        return await self._call("GET", "/v1/me", Me)

    async def badge(self) -> BadgeToken:
        """`GET /v1/me/badge`: the signed-in person's current badge token."""
        return await self._call("GET", "/v1/me/badge", BadgeToken)

    async def tickets(self, cursor: str | None = None, limit: int | None = None) -> TicketPage:
        """`GET /v1/me/tickets`: the person's tickets (purchases, top-ups, refunds,
        adjustments), newest first, a page at a time; pass `next_cursor` back as `cursor`."""
        query = {key: str(value) for key, value in (("cursor", cursor), ("limit", limit)) if value}
        path = "/v1/me/tickets" + (f"?{urlencode(query)}" if query else "")
        return await self._call("GET", path, TicketPage)

    async def ticket(self, ticket_id: int) -> TicketDetail:
        """`GET /v1/me/tickets/{id}`: one ticket with its lines and VAT summary."""
        return await self._call("GET", f"/v1/me/tickets/{int(ticket_id)}", TicketDetail)

    async def catalogue(self) -> Catalogue:
        """`GET /v1/catalogue`: the site's items, those not orderable now with a reason."""
        return await self._call("GET", "/v1/catalogue", Catalogue)

    async def place_order(
        self, lines: Sequence[tuple[str, int]], idempotency_key: str
    ) -> OrderReceipt:
        """`POST /v1/me/orders`: pay `(item code, quantity)` lines from the balance. Make one
        key per basket the person confirms and pass the same key on every retry of it: the
        order is then placed and paid at most once."""
        body = {"lines": [{"item_code": code, "quantity": qty} for code, qty in lines]}
        return await self._call(
            "POST", "/v1/me/orders", OrderReceipt, json=body, idempotency_key=idempotency_key
        )

    async def orders(
        self, cursor: str | None = None, state: Literal["active", "past"] | None = None
    ) -> OrderPage:
        """`GET /v1/me/orders`: the person's orders, newest first, a page at a time."""
        query = {key: value for key, value in (("state", state), ("cursor", cursor)) if value}
        path = "/v1/me/orders" + (f"?{urlencode(query)}" if query else "")
        return await self._call("GET", path, OrderPage)

    async def order(self, order_id: int) -> OrderDetail:
        """`GET /v1/me/orders/{id}`: one order with its history."""
        return await self._call("GET", f"/v1/me/orders/{int(order_id)}", OrderDetail)

    async def cancel_order(self, order_id: int, idempotency_key: str) -> CancelReceipt:
        """`POST /v1/me/orders/{id}/cancel`: cancel and refund a paid order (one key per
        intent, reused on retries). `order-not-cancellable` carries the reason in
        `errors[0].message`."""
        return await self._call(
            "POST",
            f"/v1/me/orders/{int(order_id)}/cancel",
            CancelReceipt,
            idempotency_key=idempotency_key,
        )

    async def notifications(self, limit: int | None = None) -> NotificationList:
        """`GET /v1/me/notifications`: unread first, then newest first."""
        path = "/v1/me/notifications" + (f"?limit={int(limit)}" if limit else "")
        return await self._call("GET", path, NotificationList)

    async def mark_all_notifications_read(self) -> AllRead:
        """`POST /v1/me/notifications/read-all`."""
        return await self._call("POST", "/v1/me/notifications/read-all", AllRead)

    async def mark_notification_read(self, notification_id: int) -> Notification:
        """`POST /v1/me/notifications/{id}/read` (marking it again changes nothing)."""
        path = f"/v1/me/notifications/{int(notification_id)}/read"
        return await self._call("POST", path, Notification, retry_on=_KEYED_RETRY_ON)

    # Top-ups ---------------------------------------------------------------------------------

    async def top_up_options(self) -> TopUpOptions:
        """`GET /v1/me/top-ups/options`: presets, limits, and whether online top-ups are on."""
        return await self._call("GET", "/v1/me/top-ups/options", TopUpOptions)

    async def start_top_up(self, amount_cents: int, idempotency_key: str) -> TopUp:
        """`POST /v1/me/top-ups`: start an online top-up; show its `checkout_url` (QR and text)
        and follow it with `top_up`. One key per amount the person confirms, reused on every
        retry: a retry answers the same top-up, never a second payment."""
        return await self._call(
            "POST",
            "/v1/me/top-ups",
            TopUp,
            json={"amount_cents": int(amount_cents)},
            idempotency_key=idempotency_key,
        )

    async def top_up(self, top_up_id: int) -> TopUp:
        """`GET /v1/me/top-ups/{id}`: where a top-up stands (poll it while `pending`)."""
        return await self._call("GET", f"/v1/me/top-ups/{int(top_up_id)}", TopUp)

    async def cancel_top_up(self, top_up_id: int, idempotency_key: str) -> TopUp:
        """`POST /v1/me/top-ups/{id}/cancel`: give up a pending top-up. The answer's state says
        what happened: `cancelled`, or `succeeded` when the person had paid (then credited)."""
        return await self._call(
            "POST",
            f"/v1/me/top-ups/{int(top_up_id)}/cancel",
            TopUp,
            json={},
            idempotency_key=idempotency_key,
        )

    async def top_ups(
        self, cursor: str | None = None, state: TopUpState | None = None
    ) -> TopUpPage:
        """`GET /v1/me/top-ups`: newest first, a page at a time (`state="pending"`: those left
        pending, to show at sign-in)."""
        query = {key: value for key, value in (("state", state), ("cursor", cursor)) if value}
        path = "/v1/me/top-ups" + (f"?{urlencode(query)}" if query else "")
        return await self._call("GET", path, TopUpPage)

    # Visits: the host's requests -------------------------------------------------------------

    async def create_visit(
        self,
        visitors: Sequence[VisitorInput],
        *,
        first_day: dt.date,
        arrival_from: dt.time,
        arrival_until: dt.time,
        reason: str,
        last_day: dt.date | None = None,
        place: str = "",
        submit: bool = False,
    ) -> VisitDetail:
        """`POST /v1/me/visits`: declare a visit, as a draft or submitted (`submit`). Wrong
        fields come back as `validation-failed` with one `errors` entry per field
        (`visitors.0.email`, `first_day`...)."""
        body = {
            "visitors": [v.model_dump() for v in visitors],
            "first_day": first_day.isoformat(),
            "last_day": last_day.isoformat() if last_day else None,
            "arrival_from": arrival_from.isoformat(timespec="minutes"),
            "arrival_until": arrival_until.isoformat(timespec="minutes"),
            "reason": reason,
            "place": place,
            "submit": submit,
        }
        return await self._call("POST", "/v1/me/visits", VisitDetail, json=body)

    async def visits(self) -> VisitList:
        """`GET /v1/me/visits`: the person's visits, upcoming first."""
        return await self._call("GET", "/v1/me/visits", VisitList)

    async def visit(self, visit_id: int) -> VisitDetail:
        """`GET /v1/me/visits/{id}`: one visit with its visitors and history."""
        return await self._call("GET", f"/v1/me/visits/{int(visit_id)}", VisitDetail)

    async def edit_visit(
        self,
        visit_id: int,
        *,
        visitors: Sequence[VisitorInput] | None = None,
        first_day: dt.date | None = None,
        last_day: dt.date | None = None,
        arrival_from: dt.time | None = None,
        arrival_until: dt.time | None = None,
        reason: str | None = None,
        place: str | None = None,
    ) -> VisitDetail:
        """`PATCH /v1/me/visits/{id}`: change what is given (`visitors` replaces the list);
        `visit-not-editable` once approved."""
        body: dict[str, Any] = {}
        if visitors is not None:
            body["visitors"] = [v.model_dump() for v in visitors]
        for name, day in (("first_day", first_day), ("last_day", last_day)):
            if day is not None:
                body[name] = day.isoformat()
        for name, time in (("arrival_from", arrival_from), ("arrival_until", arrival_until)):
            if time is not None:
                body[name] = time.isoformat(timespec="minutes")
        for name, text in (("reason", reason), ("place", place)):
            if text is not None:
                body[name] = text
        return await self._call("PATCH", f"/v1/me/visits/{int(visit_id)}", VisitDetail, json=body)

    async def submit_visit(self, visit_id: int) -> VisitDetail:
        """`POST /v1/me/visits/{id}/submit` ("valider"): requested, or approved at once."""
        return await self._call("POST", f"/v1/me/visits/{int(visit_id)}/submit", VisitDetail)

    async def approve_walk_in(self, visit_id: int) -> VisitDetail:
        """`POST /v1/me/visits/{id}/approve`: the host lets in a walk-in who asked for them."""
        return await self._call("POST", f"/v1/me/visits/{int(visit_id)}/approve", VisitDetail)

    async def decline_walk_in(self, visit_id: int) -> VisitDetail:
        """`POST /v1/me/visits/{id}/decline`: the host declines a walk-in who asked for them."""
        return await self._call("POST", f"/v1/me/visits/{int(visit_id)}/decline", VisitDetail)

    async def cancel_visit(self, visit_id: int) -> VisitDetail:
        """`DELETE /v1/me/visits/{id}`: cancel until a visitor checked in; invitations stop
        working and visitors are told."""
        return await self._call("DELETE", f"/v1/me/visits/{int(visit_id)}", VisitDetail)

    # Visits: the reception desk --------------------------------------------------------------

    async def reception_day(self, day: dt.date | None = None, query: str = "") -> ReceptionDay:
        """`GET /v1/reception/visits`: the day's visitors (today by default), expected, on
        site and left; `query` searches visitor, company and host."""
        params = {
            key: value for key, value in (("day", day and day.isoformat()), ("q", query)) if value
        }
        path = "/v1/reception/visits" + (f"?{urlencode(params)}" if params else "")
        return await self._call("GET", path, ReceptionDay)

    async def approve_visit(self, visit_id: int) -> VisitDetail:
        """`POST /v1/reception/visits/{id}/approve`: invitations are sent."""
        path = f"/v1/reception/visits/{int(visit_id)}/approve"
        return await self._call("POST", path, VisitDetail)

    async def reject_visit(self, visit_id: int, reason: str) -> VisitDetail:
        """`POST /v1/reception/visits/{id}/reject` with a reason the host sees."""
        path = f"/v1/reception/visits/{int(visit_id)}/reject"
        return await self._call("POST", path, VisitDetail, json={"reason": reason})

    async def reception_check_in(self, visitor_id: int) -> VisitorBadge:
        """`POST /v1/reception/visitors/{id}/check-in`: on the visitor's behalf."""
        path = f"/v1/reception/visitors/{int(visitor_id)}/check-in"
        return await self._call("POST", path, VisitorBadge)

    async def reception_visitor_photo(self, visitor_id: int) -> bytes | None:
        """`GET /v1/reception/visitors/{id}/photo`: the visitor's still (JPEG), None if none."""
        return await self._photo(f"/v1/reception/visitors/{int(visitor_id)}/photo")

    async def my_visitor_photo(self, visit_id: int, visitor_id: int) -> bytes | None:
        """`GET /v1/me/visits/{id}/visitors/{vid}/photo`: one of the person's visitors' still."""
        return await self._photo(f"/v1/me/visits/{int(visit_id)}/visitors/{int(visitor_id)}/photo")

    async def _photo(self, path: str) -> bytes | None:
        try:
            response = await self._send("GET", path, retry_on=_READ_RETRY_ON)
        except ProblemError as exc:
            if exc.code == "photo-none":
                return None
            raise
        if not response.headers.get("content-type", "").startswith("image/jpeg"):
            raise ProblemError(code=UNEXPECTED_RESPONSE, status=response.status_code)
        return response.content

    async def visitor_hold(self, visitor_id: int) -> HeldCheckIn:
        """`GET /v1/reception/visitors/{id}/hold`: why a check-in waits (the watchlist entry)."""
        path = f"/v1/reception/visitors/{int(visitor_id)}/hold"
        return await self._call("GET", path, HeldCheckIn)

    async def release_visitor(self, visitor_id: int) -> VisitorBadge:
        """`POST /v1/reception/visitors/{id}/release`: let a held visitor in (checks them in)."""
        path = f"/v1/reception/visitors/{int(visitor_id)}/release"
        return await self._call("POST", path, VisitorBadge)

    async def refuse_visitor(self, visitor_id: int) -> HeldCheckIn:
        """`POST /v1/reception/visitors/{id}/refuse`: refuse a held visitor entry."""
        path = f"/v1/reception/visitors/{int(visitor_id)}/refuse"
        return await self._call("POST", path, HeldCheckIn)

    async def watchlist(self) -> Watchlist:
        """`GET /v1/reception/watchlist`: the site's entries, newest first."""
        return await self._call("GET", "/v1/reception/watchlist", Watchlist)

    async def add_watchlist_entry(
        self, full_name: str, reason: str, birth_date: dt.date | None = None
    ) -> WatchlistEntry:
        """`POST /v1/reception/watchlist` (the signed-in person is recorded as who added it)."""
        body = {
            "full_name": full_name,
            "reason": reason,
            "birth_date": birth_date.isoformat() if birth_date is not None else None,
        }
        return await self._call("POST", "/v1/reception/watchlist", WatchlistEntry, json=body)

    async def remove_watchlist_entry(self, entry_id: int) -> None:
        """`DELETE /v1/reception/watchlist/{id}`."""
        await self._send(
            "DELETE", f"/v1/reception/watchlist/{int(entry_id)}", retry_on=_WRITE_RETRY_ON
        )

    async def reception_check_out(self, visitor_id: int) -> CheckedOut:
        """`POST /v1/reception/visitors/{id}/check-out`: on the visitor's behalf."""
        path = f"/v1/reception/visitors/{int(visitor_id)}/check-out"
        return await self._call("POST", path, CheckedOut)

    async def visitor_badge(self, visitor_id: int) -> VisitorBadge:
        """`GET /v1/reception/visitors/{id}/badge`: a visitor's badge, to print again."""
        return await self._call(
            "GET", f"/v1/reception/visitors/{int(visitor_id)}/badge", VisitorBadge
        )

    async def reception_walk_in(self, visitor: VisitorInput, host_full_name: str) -> WalkInCreated:
        """`POST /v1/reception/walk-ins`: a visit requested for today (`host-unknown` unless
        the full name matches exactly)."""
        body = {**visitor.model_dump(), "host_full_name": host_full_name}
        return await self._call("POST", "/v1/reception/walk-ins", WalkInCreated, json=body)

    async def reception_accounts(self, query: str) -> AccountMatches:
        """`GET /v1/reception/accounts?q=`: whom reception may credit cash to (none before two
        characters)."""
        return await self._call(
            "GET", f"/v1/reception/accounts?{urlencode({'q': query})}", AccountMatches
        )

    async def cash_top_up(
        self, identifier: str, amount_cents: int, idempotency_key: str
    ) -> TopUpReceipt:
        """`POST /v1/cash-top-ups`: credit cash handed to reception. One key per amount the
        clerk confirms, reused on every retry: a retry answers the same top-up, never a second
        credit."""
        return await self._call(
            "POST",
            "/v1/cash-top-ups",
            TopUpReceipt,
            json={"identifier": identifier, "amount_cents": int(amount_cents)},
            idempotency_key=idempotency_key,
        )

    async def reception_cash(self) -> CashDay:
        """`GET /v1/reception/cash`: the site's cash top-ups today, per clerk."""
        return await self._call("GET", "/v1/reception/cash", CashDay)

    async def start_evacuation(self) -> Evacuation:
        """`POST /v1/reception/evacuations`: everyone on site now, all missing
        (`evacuation-in-progress` while one is open)."""
        return await self._call(
            "POST", "/v1/reception/evacuations", Evacuation, retry_on=_READ_RETRY_ON
        )

    async def current_evacuation(self) -> Evacuation:
        """`GET /v1/reception/evacuations/current` (`evacuation-none` when none)."""
        return await self._call("GET", "/v1/reception/evacuations/current", Evacuation)

    async def mark_safe(self, evacuation_id: int, visitor_id: int) -> Evacuation:
        """`POST .../people/{visitor_id}/safe` (marking again changes nothing)."""
        path = f"/v1/reception/evacuations/{int(evacuation_id)}/people/{int(visitor_id)}/safe"
        return await self._call("POST", path, Evacuation, retry_on=_READ_RETRY_ON)

    async def close_evacuation(self, evacuation_id: int) -> Evacuation:
        """`POST /v1/reception/evacuations/{id}/close`."""
        path = f"/v1/reception/evacuations/{int(evacuation_id)}/close"
        return await self._call("POST", path, Evacuation)

    async def evacuation_report_csv(self, evacuation_id: int) -> str:
        """`GET /v1/reception/evacuations/{id}/report.csv`: the report as CSV text."""
        path = f"/v1/reception/evacuations/{int(evacuation_id)}/report.csv"
        response = await self._send("GET", path, retry_on=_READ_RETRY_ON)
        return response.text

    async def roll_call(self) -> RollCall:
        """`GET /v1/reception/roll-call`: everyone on site now."""
        return await self._call("GET", "/v1/reception/roll-call", RollCall)

    async def roll_call_csv(self) -> str:
        """`GET /v1/reception/roll-call.csv`: the roll call as CSV text (cells guarded against
        formula injection)."""
        response = await self._send("GET", "/v1/reception/roll-call.csv", retry_on=_READ_RETRY_ON)
        return response.text

    # Visits: the visitor kiosk (nobody signed in) --------------------------------------------

    @staticmethod
    def _credentials(
        token: str | None, code: str | None, last_name: str | None, language: str
    ) -> dict[str, Any]:
        return {"token": token, "code": code, "last_name": last_name, "language": language}

    async def desk_lookup(
        self,
        *,
        token: str | None = None,
        code: str | None = None,
        last_name: str | None = None,
        language: str = "fr",
    ) -> DeskVisit:
        """`POST /v1/visitor-desk/lookup`: the visit behind a scanned invitation or a typed code
        and last name, the rules in `language`, and whether to check in or out."""
        body = self._credentials(token, code, last_name, language)
        return await self._call("POST", "/v1/visitor-desk/lookup", DeskVisit, json=body)

    async def desk_check_in(
        self,
        *,
        rules_accepted: bool,
        token: str | None = None,
        code: str | None = None,
        last_name: str | None = None,
        language: str = "fr",
        idempotency_key: str | None = None,
        photo: bytes | None = None,
    ) -> VisitorBadge:
        """`POST /v1/visitor-desk/check-in`: the badge to print or show. With a key (one per
        check-in, the same on every retry of it) a retry after a lost answer gets the badge
        again instead of `invitation-used`, and is sent again whatever happened to the first.
        `photo`: the visitor's still (JPEG), where the site asks for one."""
        body: dict[str, Any] = {
            **self._credentials(token, code, last_name, language),
            "rules_accepted": rules_accepted,
        }
        if photo is not None:
            body["photo"] = base64.b64encode(photo).decode("ascii")
        return await self._call(
            "POST",
            "/v1/visitor-desk/check-in",
            VisitorBadge,
            json=body,
            idempotency_key=idempotency_key,
        )

    async def desk_check_out(
        self,
        *,
        token: str | None = None,
        code: str | None = None,
        last_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> CheckedOut:
        """`POST /v1/visitor-desk/check-out` with the badge's QR, or the code and last name;
        with a key, as `desk_check_in`."""
        body = self._credentials(token, code, last_name, "fr")
        return await self._call(
            "POST",
            "/v1/visitor-desk/check-out",
            CheckedOut,
            json=body,
            idempotency_key=idempotency_key,
        )

    async def desk_hosts(self, typed: str, solution_code: str | None = None) -> HostMatches:
        """`GET /v1/visitor-desk/hosts`: the names of the site's people matching what a visitor
        typed, for them to pick their host (five at most; none before three letters)."""
        query = {"q": typed} | ({"solution_code": solution_code} if solution_code else {})
        return await self._call("GET", f"/v1/visitor-desk/hosts?{urlencode(query)}", HostMatches)

    async def desk_walk_in(
        self, visitor: VisitorInput, host_full_name: str, solution_code: str | None = None
    ) -> WalkInCreated:
        """`POST /v1/visitor-desk/walk-ins`: a visitor asks for their host by full name."""
        body = {
            **visitor.model_dump(),
            "host_full_name": host_full_name,
            "solution_code": solution_code,
        }
        return await self._call("POST", "/v1/visitor-desk/walk-ins", WalkInCreated, json=body)

    # Plumbing --------------------------------------------------------------------------------

    async def _call(
        self,
        method: Literal["GET", "POST", "PATCH", "DELETE"],
        path: str,
        answer: type[AnswerT],
        *,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        retry_on: tuple[type[Exception], ...] | None = None,
    ) -> AnswerT:
        headers: dict[str, str] = {}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
            retry_on = retry_on or _KEYED_RETRY_ON
        if retry_on is None:
            retry_on = _READ_RETRY_ON if method == "GET" else _WRITE_RETRY_ON
        response = await self._send(method, path, json=json, retry_on=retry_on, headers=headers)
        try:
            return answer.model_validate_json(response.content)
        except ValidationError:
            # The details would quote the body, which may hold a token: log the shape only.
            logger.warning("%s %s: answer does not fit %s", method, path, answer.__name__)
            raise ProblemError(code=UNEXPECTED_RESPONSE, status=response.status_code) from None

    async def _send(
        self,
        method: str,
        path: str,
        *,
        retry_on: tuple[type[Exception], ...],
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        request_headers = dict(headers or {})
        token = token or self._session_token
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        try:
            try:
                # The first attempt outside tenacity's loop, which cost 23 µs a request (a
                # quarter of the client's own time): most requests succeed at once.
                response = await self._http.request(
                    method, path, json=json, headers=request_headers
                )
            except retry_on as first:
                response = await self._retry(
                    first, method, path, json=json, headers=request_headers, retry_on=retry_on
                )
        except httpx.TransportError as exc:
            logger.info("%s %s: service unreachable (%s)", method, path, type(exc).__name__)
            raise ServiceUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        if response.status_code in _GATEWAY_DOWN:
            raise ServiceUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if response.is_success:
            return response
        problem = _problem(response)
        if problem.code == SESSION_INVALID and self._session_token == token:
            # The service no longer knows this session: keeping the token would only repeat it.
            self._session_token = None
        raise problem

    async def _retry(
        self,
        first: Exception,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        retry_on: tuple[type[Exception], ...],
    ) -> httpx.Response:
        """The attempts after a first one that failed with `first`: tenacity counts that one
        as its first (it raises it again), then waits and retries as it would have."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(
                multiplier=self._backoff, max=self._backoff * 8, jitter=self._backoff
            ),
            retry=retry_if_exception_type(retry_on),
            reraise=True,
        )
        failed: Exception | None = first
        async for attempt in retrying:
            with attempt:
                if failed is not None:
                    error, failed = failed, None
                    raise error
                return await self._http.request(method, path, json=json, headers=headers)
        raise AssertionError("tenacity stops by raising")  # pragma: no cover


def _problem(response: httpx.Response) -> ProblemError:
    """The typed error for a refusal; `unexpected-response` when the body is no problem
    document (a proxy's page, a route of another version...)."""
    try:
        document = ProblemDocument.model_validate_json(response.content)
    except ValidationError:
        return ProblemError(code=UNEXPECTED_RESPONSE, status=response.status_code)
    retry_after = document.retry_after
    if retry_after is None:
        header = response.headers.get("Retry-After", "")
        retry_after = int(header) if header.isdigit() else None
    return ProblemError(
        code=document.code,
        status=response.status_code,
        title=document.title or "",
        detail=document.detail or "",
        retry_after=retry_after,
        attempts_left=document.attempts_left,
        errors=[FieldError(field=e.field, message=e.message) for e in document.errors or ()],
    )
