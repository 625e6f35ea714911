"""Connect tokens: the welcome-letter QR that says who signs in."""

from __future__ import annotations

import base64

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from kiosk.qr_payload import TOKEN_LENGTH, ScannedKind, classify_scanned
from kiosk_server.tokens import (
    CONNECT_TOKEN_LENGTH,
    TokenError,
    make_badge_token,
    make_connect_token,
    new_connect_secret,
    parse_badge_token,
    parse_connect_token,
    verify_connect_token,
)

U32 = st.integers(min_value=0, max_value=2**32 - 1)
SECRETS = st.binary(min_size=32, max_size=32)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _refusal(text: str, secret: bytes, current_version: int) -> str | None:
    """The code the service would answer with, or None if it accepts."""
    try:
        claims = parse_connect_token(text)
        verify_connect_token(claims, secret=secret, current_version=current_version)
    except TokenError as refused:
        return refused.code
    return None


@given(site_id=U32, account_id=U32, version=U32, secret=SECRETS)
def test_round_trip_keeps_every_field(
    site_id: int, account_id: int, version: int, secret: bytes
) -> None:
    token = make_connect_token(
        site_id=site_id, account_id=account_id, version=version, secret=secret
    )
    claims = parse_connect_token(token)
    assert (claims.site_id, claims.account_id, claims.version) == (site_id, account_id, version)
    assert _refusal(token, secret, version) is None
    assert len(token) == CONNECT_TOKEN_LENGTH == TOKEN_LENGTH
    assert token.startswith("C1")
    assert classify_scanned(token) is ScannedKind.CONNECT
    qr = segno.make(token, error="m", micro=False, boost_error=False)
    assert (qr.version, qr.mode) == (2, "alphanumeric")


def test_revoked_when_the_account_version_is_bumped() -> None:
    secret = new_connect_secret()
    letter = make_connect_token(site_id=1, account_id=5, version=0, secret=secret)
    assert _refusal(letter, secret, 0) is None
    assert _refusal(letter, secret, 1) == "token-revoked"
    reissued = make_connect_token(site_id=1, account_id=5, version=1, secret=secret)
    assert _refusal(reissued, secret, 1) is None


def test_another_sites_secret_is_refused() -> None:
    ours, theirs = new_connect_secret(), new_connect_secret()
    letter = make_connect_token(site_id=2, account_id=5, version=0, secret=theirs)
    assert _refusal(letter, ours, 0) == "token-tampered"


def test_rotating_the_site_secret_voids_every_letter() -> None:
    before = new_connect_secret()
    letters = [
        make_connect_token(site_id=1, account_id=account, version=0, secret=before)
        for account in (1, 2, 3)
    ]
    after = new_connect_secret()
    assert [_refusal(letter, after, 0) for letter in letters] == ["token-tampered"] * 3


def test_tampered_revoked_letter_says_tampered() -> None:
    """A forged letter learns nothing about versions: the tag is checked first."""
    secret = new_connect_secret()
    letter = make_connect_token(site_id=1, account_id=5, version=3, secret=secret)
    body = bytearray(base64.b32decode(letter[2:] + "===="))
    body[11] ^= 1  # version 3 -> 2
    forged = "C1" + base64.b32encode(bytes(body)).decode().rstrip("=")
    assert _refusal(forged, secret, 2) == "token-tampered"


@given(
    secret=SECRETS,
    position=st.integers(min_value=0, max_value=21),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_tampered_byte_is_refused(secret: bytes, position: int, flip: int) -> None:
    letter = make_connect_token(site_id=1, account_id=5, version=0, secret=secret)
    body = bytearray(base64.b32decode(letter[2:] + "===="))
    body[position] ^= flip
    forged = "C1" + base64.b32encode(bytes(body)).decode().rstrip("=")
    # Never "revoked" either, even when the flipped byte is the version: the tag comes first.
    assert _refusal(forged, secret, 0) == "token-tampered"


@given(
    secret=SECRETS,
    position=st.integers(min_value=0, max_value=37),
    replacement=st.sampled_from(BASE32 + "0189abc $%*+-./:"),
)
def test_any_changed_character_is_refused(secret: bytes, position: int, replacement: str) -> None:
    letter = make_connect_token(site_id=1, account_id=5, version=0, secret=secret)
    changed = letter[:position] + replacement + letter[position + 1 :]
    if changed != letter:
        assert _refusal(changed, secret, 0) in {"token-tampered", "token-malformed", "token-kind"}


def test_badge_and_connect_tokens_are_not_interchangeable() -> None:
    secret = new_connect_secret()
    badge = make_badge_token(site_id=1, account_id=5, secret=secret, step=0)
    letter = make_connect_token(site_id=1, account_id=5, version=0, secret=secret)
    with pytest.raises(TokenError) as refused:
        parse_connect_token(badge)
    assert refused.value.code == "token-kind"
    with pytest.raises(TokenError) as refused:
        parse_badge_token(letter)
    assert refused.value.code == "token-kind"
    # Same secret, same numbers, marker swapped: the marker is signed, so it does not verify.
    swapped = "C1" + badge[2:]
    assert _refusal(swapped, secret, 0) == "token-tampered"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "C1",
        "C1" + "A" * 35,
        "C1" + "A" * 37,
        "c1" + "A" * 36,
        "C1" + "=" * 36,
        "C1 " + "A" * 35,
    ],
)
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(TokenError) as refused:
        parse_connect_token(text)
    assert refused.value.code == "token-malformed"
