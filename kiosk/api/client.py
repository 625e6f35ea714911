"""`KioskClient`: the only code of the terminal that speaks HTTP to the service.

Every secret (device key, session token, PIN, code, PIN setup token) travels in a header or a
JSON body, never in a URL, because httpx logs URLs at INFO. Nothing here logs a body or a header.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

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
    BadgeToken,
    Connected,
    DeviceInfo,
    Health,
    Identity,
    Me,
    PinSetup,
    ProblemDocument,
    Session,
    VerificationPurpose,
    VerificationSent,
)

logger = logging.getLogger(__name__)

AnswerT = TypeVar("AnswerT", bound=BaseModel)

# Safe to retry whatever happened: reading changes nothing on the service.
_READ_RETRY_ON: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.TimeoutException)
# A request that writes is retried only when no byte of it can have reached the service: the
# connection was refused or never established. Money requests (later) carry an Idempotency-Key
# and may retry more.
_WRITE_RETRY_ON: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout)

_GATEWAY_DOWN = frozenset({502, 503, 504})
SESSION_INVALID = "session-invalid"


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
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"X-Device-Key": device_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
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
        self, solution_code: str, identifier: str, purpose: VerificationPurpose
    ) -> VerificationSent:
        """`POST /v1/auth/verification-codes`: send a code to the account's contact."""
        body = {"solution_code": solution_code, "identifier": identifier, "purpose": purpose}
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

    # Plumbing --------------------------------------------------------------------------------

    async def _call(
        self,
        method: Literal["GET", "POST", "DELETE"],
        path: str,
        answer: type[AnswerT],
        *,
        json: Mapping[str, Any] | None = None,
    ) -> AnswerT:
        retry_on = _READ_RETRY_ON if method == "GET" else _WRITE_RETRY_ON
        response = await self._send(method, path, json=json, retry_on=retry_on)
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
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(
                multiplier=self._backoff, max=self._backoff * 8, jitter=self._backoff
            ),
            retry=retry_if_exception_type(retry_on),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._http.request(
                        method, path, json=json, headers=request_headers
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
        errors=[FieldError(field=e.field, message=e.message) for e in document.errors or ()],
    )
