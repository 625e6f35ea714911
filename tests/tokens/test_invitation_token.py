"""Invitation tokens (`V1`) and short codes: compact, signed, of one kind, and read by the
terminal's scanned-payload classifier as invitations."""

from __future__ import annotations

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from kiosk.qr_payload import ScannedKind, classify_scanned
from kiosk_server.tokens import (
    TokenError,
    make_badge_token,
    make_connect_token,
    new_connect_secret,
    parse_badge_token,
    parse_connect_token,
)
from kiosk_server.tokens.invitation import (
    CODE_ALPHABET,
    CODE_LENGTH,
    INVITATION_TOKEN_LENGTH,
    make_invitation_token,
    new_short_code,
    normalise_short_code,
    parse_invitation_token,
    short_code_hash,
    verify_invitation_token,
)

U32 = st.integers(min_value=0, max_value=2**32 - 1)
SECRETS = st.binary(min_size=32, max_size=32)


def _refusal(text: str, secret: bytes, nonce: int | None) -> str | None:
    try:
        verify_invitation_token(parse_invitation_token(text), secret=secret, current_nonce=nonce)
    except TokenError as refused:
        return refused.code
    return None


@given(site_id=U32, visit_id=U32, visitor_id=U32, nonce=U32, secret=SECRETS)
def test_round_trip_keeps_every_field(
    site_id: int, visit_id: int, visitor_id: int, nonce: int, secret: bytes
) -> None:
    token = make_invitation_token(
        site_id=site_id, visit_id=visit_id, visitor_id=visitor_id, nonce=nonce, secret=secret
    )
    assert len(token) == INVITATION_TOKEN_LENGTH == 44
    assert token.startswith("V1")
    claims = parse_invitation_token(token)
    assert (claims.site_id, claims.visit_id, claims.visitor_id, claims.nonce) == (
        site_id,
        visit_id,
        visitor_id,
        nonce,
    )
    assert _refusal(token, secret, nonce) is None
    assert classify_scanned(token) is ScannedKind.INVITATION


def test_a_changed_character_another_secret_or_nonce_is_refused() -> None:
    secret = new_connect_secret()
    token = make_invitation_token(site_id=1, visit_id=2, visitor_id=3, nonce=4, secret=secret)
    changed = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert _refusal(changed, secret, 4) == "token-tampered"
    assert _refusal(token, new_connect_secret(), 4) == "token-tampered"
    assert _refusal(token, secret, 5) == "token-revoked"
    assert _refusal(token, secret, None) == "token-revoked"


def test_kinds_never_pass_for_one_another() -> None:
    secret = new_connect_secret()
    invitation = make_invitation_token(site_id=1, visit_id=2, visitor_id=3, nonce=4, secret=secret)
    connect = make_connect_token(site_id=1, account_id=2, version=0, secret=secret)
    badge = make_badge_token(site_id=1, account_id=2, secret=secret, step=3)
    for other in (connect, badge):
        with pytest.raises(TokenError) as caught:
            parse_invitation_token(other)
        assert caught.value.code == "token-kind"
    for parse in (parse_connect_token, parse_badge_token):
        with pytest.raises(TokenError) as caught:
            parse(invitation)
        assert caught.value.code == "token-kind"
    for garbage in ("", "V1", "V1" + "A" * 42 + "=", "hello", invitation.lower()):
        with pytest.raises(TokenError):
            parse_invitation_token(garbage)


def test_fits_a_small_alphanumeric_qr() -> None:
    token = make_invitation_token(
        site_id=2**32 - 1, visit_id=2**32 - 1, visitor_id=2**32 - 1, nonce=7, secret=b"k" * 32
    )
    qr = segno.make(token, error="m")
    assert qr.mode == "alphanumeric"
    assert qr.version == 3


def test_short_codes_are_unambiguous_and_normalised() -> None:
    codes = {new_short_code() for _ in range(200)}
    assert len(codes) > 190
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert not set(code) & set("01OI")
        assert set(code) <= set(CODE_ALPHABET)
    assert normalise_short_code(" ab3-d5e ") == "AB3D5E"
    assert normalise_short_code("AB3D5") is None
    assert normalise_short_code("AB3D5O") is None  # O is not in the alphabet
    secret = new_connect_secret()
    assert short_code_hash("AB3D5E", secret=secret) == short_code_hash("AB3D5E", secret=secret)
    assert short_code_hash("AB3D5E", secret=secret) != short_code_hash(
        "AB3D5E", secret=new_connect_secret()
    )
