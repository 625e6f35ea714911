"""Connect tokens: the QR printed on a welcome letter, which says who signs in at a kiosk.

Format `C1` (38 characters, a version-2 QR at error correction M)::

    "C1" + base32( site_id u32 | account_id u32 | connect_version u32 | tag 10 bytes )

All integers are big-endian and unsigned; `tag` is HMAC-SHA256(the site's connect secret,
"C1" + the 12 preceding bytes), truncated to 10 bytes. The token is long-lived: the service
revokes one account's letter by bumping that account's `connect_version`, and every letter of a
site by rotating the site's connect secret. A connect token only says who; the PIN still proves it.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

from kiosk_server.tokens.signed import (
    TAG_BYTES,
    TokenError,
    check_tag,
    compute_tag,
    decode_text,
    encode_text,
    text_length,
)

CONNECT_MARKER = "C1"
CONNECT_SECRET_BYTES = 32

_FIELDS = struct.Struct(">III")
_BODY_BYTES = _FIELDS.size + TAG_BYTES
CONNECT_TOKEN_LENGTH = text_length(_BODY_BYTES)
"""Every connect token has exactly this many characters (38)."""

_U32_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class ConnectTokenClaims:
    """What a connect token says, before anyone has checked it."""

    site_id: int
    account_id: int
    version: int
    tag: bytes


def new_connect_secret() -> bytes:
    """A fresh connect secret for a site (rotating it voids every letter of the site)."""
    return secrets.token_bytes(CONNECT_SECRET_BYTES)


def make_connect_token(*, site_id: int, account_id: int, version: int, secret: bytes) -> str:
    """The connect token of an account, for its current `connect_version`."""
    for value in (site_id, account_id, version):
        if not 0 <= value <= _U32_MAX:
            raise ValueError("connect token field out of range")
    signed = _FIELDS.pack(site_id, account_id, version)
    return encode_text(CONNECT_MARKER, signed + compute_tag(secret, CONNECT_MARKER, signed))


def parse_connect_token(text: str) -> ConnectTokenClaims:
    """Reads a connect token without checking it (the service then loads the site's secret and
    the account, and calls `verify_connect_token`). Raises `TokenError("token-malformed")`, or
    `"token-kind"` for another kind of token (a badge)."""
    body = decode_text(text, marker=CONNECT_MARKER, body_bytes=_BODY_BYTES)
    site_id, account_id, version = _FIELDS.unpack_from(body)
    return ConnectTokenClaims(site_id, account_id, version, body[_FIELDS.size :])


def verify_connect_token(
    claims: ConnectTokenClaims, *, secret: bytes, current_version: int
) -> None:
    """Accepts a token signed with the site's `secret` for the account's `current_version`.

    Raises `TokenError("token-tampered")` for a wrong tag (checked first) and
    `TokenError("token-revoked")` for a letter issued before the last revocation.
    """
    signed = _FIELDS.pack(claims.site_id, claims.account_id, claims.version)
    check_tag(secret, CONNECT_MARKER, signed, claims.tag)
    if claims.version != current_version:
        raise TokenError("token-revoked")
