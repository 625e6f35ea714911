"""RFC 9457 problem documents: every error the service answers, with a stable `code`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEMS: dict[str, tuple[int, str]] = {
    "device-key-missing": (401, "Device key missing"),
    "device-key-invalid": (401, "Device key invalid"),
    "device-role-forbidden": (403, "Not allowed for this device"),
    "session-missing": (401, "Session missing"),
    "session-invalid": (401, "Session invalid"),
    "solution-unknown": (404, "Unknown solution"),
    "account-unknown": (404, "Unknown account"),
    "account-not-active": (409, "Account not active"),
    "account-already-active": (409, "Account already active"),
    "account-blocked": (403, "Account blocked"),
    "account-paused": (423, "Account paused"),
    "account-locked": (423, "Account locked"),
    "pin-incorrect": (401, "Incorrect PIN"),
    "pin-malformed": (422, "Malformed PIN"),
    "pin-too-simple": (422, "PIN too simple"),
    "pin-unchanged": (422, "New PIN same as the current one"),
    "terminal-throttled": (429, "Terminal throttled"),
    "verification-send-limit": (429, "Too many codes sent"),
    "verification-code-invalid": (422, "Incorrect verification code"),
    "verification-code-expired": (410, "Verification code expired"),
    "pin-setup-expired": (410, "PIN setup expired"),
    "no-contact": (409, "No contact"),
    "contact-invalid": (422, "Not an email address or phone number"),
    "contact-unchanged": (422, "Same address as now"),
    "statement-month-invalid": (422, "Month not begun"),
    "validation-failed": (422, "Validation failed"),
    "body-malformed": (400, "Malformed request body"),
    "body-too-large": (413, "Request body too large"),
    "request-malformed": (400, "Malformed HTTP request"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "internal-error": (500, "Internal error"),
    # Money (ledger, idempotency, tickets, top-ups).
    "idempotency-key-missing": (400, "Idempotency key missing"),
    "idempotency-key-invalid": (400, "Idempotency key invalid"),
    "idempotency-key-reused": (422, "Idempotency key reused"),
    "idempotency-in-progress": (409, "Request in progress"),
    "insufficient-balance": (409, "Insufficient balance"),
    "total-mismatch": (422, "Total does not match the lines"),
    "top-up-out-of-range": (422, "Top-up amount out of range"),
    "role-forbidden": (403, "Not allowed for this person"),
    "ticket-unknown": (404, "Unknown ticket"),
    "cursor-invalid": (422, "Invalid cursor"),
    # Online top-ups and payment webhooks.
    "payments-unavailable": (409, "Online payments unavailable"),
    "top-up-unknown": (404, "Unknown top-up"),
    "payment-provider-unavailable": (502, "Payment provider unavailable"),
    "webhook-signature-invalid": (401, "Webhook signature invalid"),
    # Orders (catalogue, orders, kitchen, notifications).
    "item-unknown": (422, "Unknown item"),
    "item-unavailable": (409, "Item not available now"),
    "item-deadline-passed": (409, "Ordering deadline passed"),
    "item-sold-out": (409, "Item sold out"),
    "order-empty": (422, "Nothing to pay"),
    "item-quantity-limit": (422, "Too many of one item"),
    "order-unknown": (404, "Unknown order"),
    "order-not-cancellable": (409, "Order not cancellable"),
    "order-transition-forbidden": (409, "Order transition forbidden"),
    "notification-unknown": (404, "Unknown notification"),
}
"""Known codes with their status and title (docs/api.md). Later routes add theirs here."""


class FieldError(BaseModel):
    """One field of a request that does not fit the schema."""

    field: str
    message: str


class Problem(BaseModel):
    """An error answer (`application/problem+json`)."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    retry_after: int | None = None
    """Seconds to wait before trying again (also the `Retry-After` header)."""
    attempts_left: int | None = None
    """On `pin-incorrect` from the third wrong PIN in a row: the tries left before the account
    is paused (or locked)."""
    errors: list[FieldError] | None = None
    """On `validation-failed`: what is wrong with which field."""


class ProblemError(Exception):
    """Raised by services and dependencies; answered as a problem document."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        retry_after: int | None = None,
        attempts_left: int | None = None,
        errors: list[FieldError] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        known_status, known_title = PROBLEMS.get(code, (500, code))
        self.code = code
        self.status = status if status is not None else known_status
        self.title = title if title is not None else known_title
        self.detail = detail
        self.retry_after = retry_after
        self.attempts_left = attempts_left
        self.errors = errors
        self.extensions = extensions or {}
        """More members of the problem document (e.g. `min` and `max` of a refused amount)."""
        super().__init__(code)


def problem_document(problem: ProblemError, instance: str) -> dict[str, Any]:
    """The problem's JSON document (RFC 9457), `instance` being the request's path."""
    document = Problem(
        type=f"/problems/{problem.code}",
        title=problem.title,
        status=problem.status,
        code=problem.code,
        detail=problem.detail,
        instance=instance,
        retry_after=problem.retry_after,
        attempts_left=problem.attempts_left,
        errors=problem.errors,
    )
    body = document.model_dump(mode="json", exclude_none=True)
    for name, value in problem.extensions.items():
        body.setdefault(name, value)  # The standard members win over an extension's.
    return body


def problem_response(
    problem: ProblemError, instance: str, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = dict(headers or {})
    if problem.retry_after is not None:
        headers["Retry-After"] = str(problem.retry_after)
    return JSONResponse(
        problem_document(problem, instance),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def problem_responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the problem schema under each status its codes can produce."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(PROBLEMS[code][0], []).append(code)
    return {
        status: {
            "model": Problem,
            "description": ", ".join(f"`{code}`" for code in status_codes),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, status_codes in sorted(by_status.items())
    }


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)  # noqa: S101 - registered for ProblemError only
    return problem_response(exc, request.url.path)


IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


def _message(error: Mapping[str, Any]) -> str:
    # Our own validators' words ("is required", "must not contain control characters"), without
    # pydantic's "Value error, " in front: terminals translate them (kiosk/screens/base.py).
    cause = (error.get("ctx") or {}).get("error")
    if error.get("type") == "value_error" and cause is not None:
        return str(cause)
    return str(error.get("msg", ""))


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> ProblemError:
    """The problem for a request that does not fit the document: a body that is not JSON
    (`body-malformed`), a missing or malformed `Idempotency-Key` (their own codes), else
    `validation-failed` with what is wrong with which field."""
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error") or "not JSON"
            return ProblemError("body-malformed", f"The body is not valid JSON: {reason}.")
    for error in errors:
        if tuple(error.get("loc", ())) == ("header", IDEMPOTENCY_KEY_HEADER):
            if error.get("type") == "missing":
                return ProblemError(
                    "idempotency-key-missing",
                    f"Send an {IDEMPOTENCY_KEY_HEADER} header: one random key per intent, "
                    "reused on every retry.",
                )
            return ProblemError(
                "idempotency-key-invalid",
                f"An {IDEMPOTENCY_KEY_HEADER} is 1 to 255 printable ASCII characters.",
            )
    fields = [
        FieldError(
            field=".".join(str(part) for part in error.get("loc", ()) if part != "body"),
            message=_message(error),
        )
        for error in errors
    ]
    return ProblemError(
        "validation-failed", "The request does not fit the expected schema.", errors=fields
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return problem_response(validation_problem(exc.errors()), request.url.path)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes (Starlette's own 405 names only the first
    route that matched the path). Each method is tried through the routes' own `matches`, which
    also holds for a mount or an included router (no `methods` of their own)."""
    routes: list[BaseRoute] = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    headers: dict[str, str] | None = None
    if exc.status_code == 404:
        problem = ProblemError("not-found", "No such route.")
    elif exc.status_code == 405:
        problem = ProblemError("method-not-allowed", "This route does not take that method.")
        headers = {"Allow": ", ".join(_allowed_methods(request))}
    elif exc.status_code == 413:
        problem = ProblemError("body-too-large", str(exc.detail))
        headers = {"Connection": "close"}
    elif exc.status_code == 400:
        # FastAPI's answer to a body it could not read as JSON at all (not UTF-8, say).
        problem = ProblemError("body-malformed", "The body could not be read as JSON.")
    else:
        problem = ProblemError(f"http-{exc.status_code}", status=exc.status_code, title="Error")
    return problem_response(problem, request.url.path, headers=headers)


def _internal_error(path: str, method: str, exc: BaseException) -> JSONResponse:
    # A traceback, never local variables or the body: they may hold a PIN, a code or a token.
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return problem_response(ProblemError("internal-error", "Something went wrong."), path)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error(request.url.path, request.method, exc)


class InternalErrorMiddleware:
    """Answers an unexpected exception with an `internal-error` problem and stops it there.

    Starlette's own handler for `Exception` sends the answer and then re-raises, so the ASGI
    server would log the error a second time, in its own format."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = _internal_error(scope.get("path", ""), scope.get("method", ""), exc)
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(InternalErrorMiddleware)


BODY_PROBLEMS = ("body-malformed", "body-too-large", "validation-failed")
"""What any route that takes a body may answer, whatever the route."""


def document_common_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Add `BODY_PROBLEMS` to every operation of the OpenAPI `document` that takes a body (in
    place; idempotent), merged into the statuses the route lists already."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            for status, entry in problem_responses(*BODY_PROBLEMS).items():
                listed = responses.get(str(status))
                if listed is None:
                    entry = dict(entry)
                    entry.pop("model", None)
                    responses[str(status)] = entry
                    continue
                codes = [code.strip(" `") for code in listed["description"].split(",")]
                new = [code for code in _codes_of(entry) if code not in codes]
                if new:
                    listed["description"] = ", ".join(f"`{code}`" for code in codes + new)
    return document


def _codes_of(entry: dict[str, Any]) -> list[str]:
    return [code.strip(" `") for code in str(entry["description"]).split(",")]
