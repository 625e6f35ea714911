"""Cursors of the paged lists (tickets, orders, top-ups): the id of the last row a page showed,
opaque to clients. A cursor the service did not give is refused with `cursor-invalid`."""

from __future__ import annotations

import base64
import binascii

from kiosk_server.fields import MAX_ID
from kiosk_server.problems import ProblemError

CURSOR_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
"""What a cursor looks like (base64url without padding), as the API document states it."""


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor carries; `cursor-invalid` unless it is one `encode_cursor` could make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = int(raw.decode("ascii"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ProblemError("cursor-invalid", "Start again from the first page.") from None
    if not 1 <= value <= MAX_ID:
        raise ProblemError("cursor-invalid", "Start again from the first page.")
    return value
