"""What badge and connect tokens share: the error type, the text framing and the tag.

A token's text is a two-character marker (kind letter + format digit) followed by the RFC 4648
base32 encoding (upper-case, no padding) of a fixed-size binary body. Every character of that text
is in the QR alphanumeric set, so segno encodes it in alphanumeric mode (5.5 bits a character)
rather than byte mode (8 bits), which keeps the QR one version smaller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Literal

TokenErrorCode = Literal[
    "token-malformed", "token-kind", "token-expired", "token-tampered", "token-revoked"
]

TAG_BYTES = 10
"""Truncated HMAC-SHA256 length. 80 bits: tokens are only ever checked online, by a service that
holds the secret, so forging one means guessing 2**80 tags through the API."""

MIN_SECRET_BYTES = 16

KNOWN_MARKERS = ("B1", "C1", "V1")
"""Markers this package knows. A scanner tells the kinds apart by this prefix alone."""

_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


class TokenError(Exception):
    """A token was refused. `code` is stable and goes into the problem document as is."""

    def __init__(self, code: TokenErrorCode) -> None:
        super().__init__(code)
        self.code: TokenErrorCode = code


def encode_text(marker: str, body: bytes) -> str:
    return marker + base64.b32encode(body).decode("ascii").rstrip("=")


def text_length(body_bytes: int) -> int:
    """Characters of a token whose body has `body_bytes` bytes, marker included."""
    return 2 + (body_bytes * 8 + 4) // 5


def decode_text(text: str, *, marker: str, body_bytes: int) -> bytes:
    """The body of `text`, a token of kind `marker`; refuses anything that is not exactly the
    text `encode_text` would have made (so no two texts ever carry the same body)."""
    if text[:2] != marker:
        if text[:2] in KNOWN_MARKERS:
            raise TokenError("token-kind")
        raise TokenError("token-malformed")
    encoded = text[2:]
    if len(text) != text_length(body_bytes) or not set(encoded) <= _BASE32_ALPHABET:
        raise TokenError("token-malformed")
    try:
        body = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except (binascii.Error, ValueError):
        raise TokenError("token-malformed") from None
    # The last character carries unused low bits: a text that differs there would decode to the
    # same body, so insist on the canonical text.
    if len(body) != body_bytes or encode_text(marker, body) != text:
        raise TokenError("token-malformed")
    return body


def compute_tag(secret: bytes, marker: str, signed: bytes) -> bytes:
    """HMAC-SHA256 over the marker and the signed fields, truncated. The marker is signed too, so
    a tag made for one kind of token never verifies as another."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError("secret too short")
    mac = hmac.new(secret, marker.encode("ascii") + signed, hashlib.sha256)
    return mac.digest()[:TAG_BYTES]


def check_tag(secret: bytes, marker: str, signed: bytes, tag: bytes) -> None:
    """Raises `token-tampered` unless `tag` is right; compares in constant time."""
    if not hmac.compare_digest(compute_tag(secret, marker, signed), tag):
        raise TokenError("token-tampered")
