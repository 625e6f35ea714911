"""Request bodies have a size limit: no route reads more than it could ever need.

`BodyLimitMiddleware` refuses a body larger than the service's limit (`max_body_bytes`, 64 KiB
by default: the largest request a terminal sends, a visit with twenty visitors, is about 20 KiB)
with `413 body-too-large`: at once when `Content-Length` says so, before a byte of the body is
read, and otherwise (a chunked body) as soon as what was received passes the limit. A route may
read its body with a lower limit (`read_body`: the payment webhook)."""

from __future__ import annotations

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk_server.problems import ProblemError, problem_response

DEFAULT_MAX_BODY_BYTES = 64 * 1024


def too_large(limit: int) -> HTTPException:
    """Raised while a body is read (FastAPI lets an `HTTPException` through its body parsing);
    answered as `body-too-large` by `problems`."""
    return HTTPException(413, f"The body is larger than {limit} bytes.")


class BodyLimitMiddleware:
    """Caps every request body at `max_bytes` (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            problem = ProblemError(
                "body-too-large", f"The body is larger than {self.max_bytes} bytes."
            )
            # `Connection: close`: the body that follows is never read.
            response = problem_response(
                problem, scope.get("path", ""), headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        received = 0
        limit = self.max_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, refused with `body-too-large` past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
