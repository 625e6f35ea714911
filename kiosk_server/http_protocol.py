"""uvicorn's HTTP/1.1 protocols with Nagle's algorithm off on every connection.

uvicorn writes a response's headers and its body in two writes. With Nagle on, the body waits for
the client to acknowledge the headers, and Linux delays that acknowledgement by up to 40 ms: every
request over loopback took about 44 ms instead of under 1 ms (bench/me_latency.py). The
accepted sockets of this Python's asyncio do not get TCP_NODELAY, so it is set here, per
connection, which works the same with one worker, several, or uvicorn in a thread.

`NoDelayH11Protocol` (pure Python, always there) and `NoDelayHttpToolsProtocol` (uvicorn's
faster parser, where `httptools` is installed) do the same; `best_protocol()` picks one."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """`H11Protocol` that sets TCP_NODELAY on the connection it serves."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:

    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """`HttpToolsProtocol` that sets TCP_NODELAY on the connection it serves. (At module
        level: uvicorn's workers receive the class by pickling.)"""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            _no_delay(transport)
            super().connection_made(transport)


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
