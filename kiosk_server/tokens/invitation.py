"""Invitation tokens and short codes: what a visitor shows (QR) or types at the kiosk.

Token format `V1` (44 characters, a version-3 QR at error correction M in alphanumeric mode)::

    "V1" + base32( site_id u32 | visit_id u32 | visitor_id u32 | nonce u32 | tag 10 bytes )

All integers are big-endian and unsigned; `nonce` is random per visitor, stored by the service;
`tag` is HMAC-SHA256(the site's secret, "V1" + the 16 preceding bytes), truncated to 10 bytes.
The marker is part of the MAC, so the site's connect secret can sign both kinds without a tag of
one ever verifying as the other. The token says which invitation; whether it works now (state,
day, window) is the service's call, on every use.

Short code: 6 characters from `CODE_ALPHABET` (no 0/O, no 1/I), random, stored only as
HMAC-SHA256(site secret, "V1-code:" + code) so that a typed code can be looked up but not read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

from kiosk_server.tokens.signed import (
    MIN_SECRET_BYTES,
    TAG_BYTES,
    TokenError,
    check_tag,
    compute_tag,
    decode_text,
    encode_text,
    text_length,
)

INVITATION_MARKER = "V1"
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""32 characters that cannot be mistaken for one another when typed from a printout."""
CODE_LENGTH = 6

_FIELDS = struct.Struct(">IIII")
_BODY_BYTES = _FIELDS.size + TAG_BYTES
INVITATION_TOKEN_LENGTH = text_length(_BODY_BYTES)
"""Every invitation token has exactly this many characters (44)."""

_U32_MAX = 2**32 - 1
_CODE_MAC_PREFIX = b"V1-code:"


@dataclass(frozen=True, slots=True)
class InvitationTokenClaims:
    """What an invitation token says, before anyone has checked it."""

    site_id: int
    visit_id: int
    visitor_id: int
    nonce: int
    tag: bytes


def new_invitation_nonce() -> int:
    """A fresh nonce for a visitor's invitation."""
    return secrets.randbelow(_U32_MAX + 1)


def make_invitation_token(
    *, site_id: int, visit_id: int, visitor_id: int, nonce: int, secret: bytes
) -> str:
    """The invitation token of one visitor."""
    for value in (site_id, visit_id, visitor_id, nonce):
        if not 0 <= value <= _U32_MAX:
            raise ValueError("invitation token field out of range")
    signed = _FIELDS.pack(site_id, visit_id, visitor_id, nonce)
    return encode_text(INVITATION_MARKER, signed + compute_tag(secret, INVITATION_MARKER, signed))


def parse_invitation_token(text: str) -> InvitationTokenClaims:
    """Reads an invitation token without checking it. Raises `TokenError("token-malformed")`,
    or `"token-kind"` for another kind of token of ours (a badge, a connect QR)."""
    body = decode_text(text, marker=INVITATION_MARKER, body_bytes=_BODY_BYTES)
    site_id, visit_id, visitor_id, nonce = _FIELDS.unpack_from(body)
    return InvitationTokenClaims(site_id, visit_id, visitor_id, nonce, body[_FIELDS.size :])


def verify_invitation_token(
    claims: InvitationTokenClaims, *, secret: bytes, current_nonce: int | None
) -> None:
    """Accepts a token signed with the site's `secret` for the visitor's current nonce.

    Raises `TokenError("token-tampered")` for a wrong tag (checked first) and
    `TokenError("token-revoked")` for a nonce that is no longer the visitor's."""
    signed = _FIELDS.pack(claims.site_id, claims.visit_id, claims.visitor_id, claims.nonce)
    check_tag(secret, INVITATION_MARKER, signed, claims.tag)
    if current_nonce is None or claims.nonce != current_nonce:
        raise TokenError("token-revoked")


def new_short_code() -> str:
    """A random 6-character code from `CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_short_code(typed: str) -> str | None:
    """The code as stored, from what a person typed (case, spaces and dashes ignored); None
    when it cannot be a code."""
    cleaned = "".join(ch for ch in typed.upper() if ch not in " -\t")
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def short_code_hash(code: str, *, secret: bytes) -> str:
    """HMAC-SHA256 (hex) of a normalised code under the site's secret: what is stored and
    looked up."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError("secret too short")
    return hmac.new(secret, _CODE_MAC_PREFIX + code.encode("ascii"), hashlib.sha256).hexdigest()
