"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection.

uvicorn writes a response's headers and its body in two writes. With Nagle on, the body waits for
the client to acknowledge the headers, and Linux delays that acknowledgement by up to 40 ms: every
request over loopback took about 44 ms instead of under 1 ms (bench/me_latency.py). The
accepted sockets of this Python's asyncio do not get TCP_NODELAY, so it is set here, per
connection, which works the same with one worker, several, or uvicorn in a thread."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    """`H11Protocol` that sets TCP_NODELAY on the connection it serves."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
