"""uvicorn's HTTP/1.1 protocols with Nagle's algorithm off on every connection.

uvicorn writes a response's headers and its body in two writes. With Nagle on, the body waits for
the client to acknowledge the headers, and Linux delays that acknowledgement by up to 40 ms: every
request over loopback took about 44 ms instead of under 1 ms (bench/me_latency.py). The
accepted sockets of this Python's asyncio do not get TCP_NODELAY, so it is set here, per
connection, which works the same with one worker, several, or uvicorn in a thread.

`NoDelayH11Protocol` (pure Python, always there) and `NoDelayHttpToolsProtocol` (uvicorn's
faster parser, where `httptools` is installed) do the same; `best_protocol()` picks one.

Both answer a request their parser cannot read with a problem document (`request-malformed`),
as every other error of the service, rather than uvicorn's plain-text "Invalid HTTP request".

`NoDelayHttpToolsProtocol` also answers the `MAX_REQUESTS_PER_CONNECTION`th request of a
keep-alive connection with `Connection: close` (nginx's `keepalive_requests`). With several
workers on one listening socket, the worker that wakes first at a burst of new connections takes
them all, and keeps them as long as the clients send: in the purchases bench one worker held 13
of 20 tills' connections for the whole run and ran at twice the other's load. A client that
reconnects is accepted by whichever worker is waiting for work, so the load evens out within a
few seconds. Clients reconnect as HTTP/1.1 says (httpx does)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


_MALFORMED = json.dumps(
    {
        "type": "/problems/request-malformed",
        "title": "Malformed HTTP request",
        "status": 400,
        "code": "request-malformed",
        "detail": "The request could not be read as HTTP/1.1.",
    },
    separators=(",", ":"),
).encode()


def _malformed_response() -> bytes:
    """The whole answer to a request the parser refused; the connection closes after it."""
    return b"".join(
        [
            b"HTTP/1.1 400 Bad Request\r\n",
            b"content-type: application/problem+json\r\n",
            b"content-length: " + str(len(_MALFORMED)).encode("ascii") + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
            _MALFORMED,
        ]
    )


class NoDelayH11Protocol(H11Protocol):
    """`H11Protocol` that sets TCP_NODELAY on the connection it serves."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_malformed_response())
        self.transport.close()


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

MAX_REQUESTS_PER_CONNECTION = 100
"""Requests served on one keep-alive connection before it is closed (nginx's old default)."""

if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """`HttpToolsProtocol` that sets TCP_NODELAY on the connection it serves and closes it
        after `MAX_REQUESTS_PER_CONNECTION` requests. (At module level: uvicorn's workers
        receive the class by pickling.)"""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            self._requests_served = 0
            super().connection_made(transport)

        def send_400_response(self, msg: str) -> None:
            self.transport.write(_malformed_response())
            self.transport.close()

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._requests_served += 1
            if self._requests_served >= MAX_REQUESTS_PER_CONNECTION and self.cycle is not None:
                # The answer says `Connection: close` and the connection ends after it.
                self.cycle.keep_alive = False


def best_protocol(name: str = "auto") -> type[Any]:
    """The protocol class for `name`: `h11`, `httptools` (ImportError when it is missing) or
    `auto` (httptools where installed, h11 otherwise), as uvicorn's own `--http` option."""
    if name == "h11":
        return NoDelayH11Protocol
    if HttpToolsProtocol is None:
        if name == "httptools":
            raise ImportError("httptools is not installed")
        return NoDelayH11Protocol
    return NoDelayHttpToolsProtocol
