"""Badge tokens: the short-lived code in the QR a person shows to doors and tills.

Format `B1` (38 characters, always a version-2 QR at error correction M)::

    "B1" + base32( site_id u32 | account_id u32 | step u32 | tag 10 bytes )

All integers are big-endian and unsigned; `step` counts `step_seconds` periods since the Unix
epoch, as TOTP does; `tag` is HMAC-SHA256(badge secret, "B1" + the 12 preceding bytes), truncated
to 10 bytes. The badge secret belongs to one account and never leaves the service; rotating it
voids every token made with it.
"""

from __future__ import annotations

import datetime as dt
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

BADGE_MARKER = "B1"
DEFAULT_STEP_SECONDS = 30
BADGE_SECRET_BYTES = 32

_FIELDS = struct.Struct(">III")
_BODY_BYTES = _FIELDS.size + TAG_BYTES
BADGE_TOKEN_LENGTH = text_length(_BODY_BYTES)
"""Every badge token has exactly this many characters (38)."""

_U32_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class BadgeTokenClaims:
    """What a badge token says, before anyone has checked it."""

    site_id: int
    account_id: int
    step: int
    tag: bytes


def new_badge_secret() -> bytes:
    """A fresh badge secret for an account (store it; rotate it to void its tokens)."""
    return secrets.token_bytes(BADGE_SECRET_BYTES)


def current_step(now: dt.datetime, step_seconds: int = DEFAULT_STEP_SECONDS) -> int:
    """The time step `now` falls in. `now` must be timezone-aware."""
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    return int(now.timestamp()) // step_seconds


def step_start(step: int, step_seconds: int = DEFAULT_STEP_SECONDS) -> dt.datetime:
    """When `step` begins (UTC)."""
    return dt.datetime.fromtimestamp(step * step_seconds, dt.UTC)


def seconds_until_next_step(now: dt.datetime, step_seconds: int = DEFAULT_STEP_SECONDS) -> float:
    """How long the token of `now`'s step is still the current one (0 < result <= step_seconds)."""
    following = step_start(current_step(now, step_seconds) + 1, step_seconds)
    return (following - now).total_seconds()


def _signed_fields(site_id: int, account_id: int, step: int) -> bytes:
    for value in (site_id, account_id, step):
        if not 0 <= value <= _U32_MAX:
            raise ValueError("badge token field out of range")
    return _FIELDS.pack(site_id, account_id, step)


def make_badge_token(*, site_id: int, account_id: int, secret: bytes, step: int) -> str:
    """The badge token of an account for one time step."""
    signed = _signed_fields(site_id, account_id, step)
    return encode_text(BADGE_MARKER, signed + compute_tag(secret, BADGE_MARKER, signed))


def parse_badge_token(text: str) -> BadgeTokenClaims:
    """Reads a badge token without checking it (the service then loads the account's secret and
    calls `verify_badge_token`). Raises `TokenError("token-malformed")`, or `"token-kind"` for
    another kind of token (a connect QR)."""
    body = decode_text(text, marker=BADGE_MARKER, body_bytes=_BODY_BYTES)
    site_id, account_id, step = _FIELDS.unpack_from(body)
    return BadgeTokenClaims(site_id, account_id, step, body[_FIELDS.size :])


def verify_badge_token(
    claims: BadgeTokenClaims, *, secret: bytes, now_step: int, skew: int = 1
) -> None:
    """Accepts a token made with `secret` for a step within `skew` steps of `now_step`.

    Raises `TokenError("token-tampered")` for a wrong tag (checked first, so a forgery never
    learns whether its step would have passed) and `TokenError("token-expired")` for a step too
    far from now, either way.
    """
    signed = _FIELDS.pack(claims.site_id, claims.account_id, claims.step)
    check_tag(secret, BADGE_MARKER, signed, claims.tag)
    if abs(claims.step - now_step) > skew:
        raise TokenError("token-expired")
