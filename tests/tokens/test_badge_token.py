"""Badge tokens: what a door or a till will accept, and what it must refuse."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from kiosk.qr_payload import TOKEN_LENGTH, ScannedKind, classify_scanned
from kiosk_server.tokens import (
    BADGE_TOKEN_LENGTH,
    TokenError,
    current_step,
    make_badge_token,
    new_badge_secret,
    parse_badge_token,
    seconds_until_next_step,
    step_start,
    verify_badge_token,
)

U32 = st.integers(min_value=0, max_value=2**32 - 1)
SECRETS = st.binary(min_size=32, max_size=32)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
NOW = dt.datetime(2026, 11, 2, 9, 0, 10, tzinfo=dt.UTC)


def _token(step: int, secret: bytes, *, site_id: int = 3, account_id: int = 42) -> str:
    return make_badge_token(site_id=site_id, account_id=account_id, secret=secret, step=step)


def _refusal(text: str, secret: bytes, now_step: int) -> str | None:
    """The code a door would answer with, or None if it accepts."""
    try:
        verify_badge_token(parse_badge_token(text), secret=secret, now_step=now_step)
    except TokenError as refused:
        return refused.code
    return None


@given(site_id=U32, account_id=U32, step=U32, secret=SECRETS)
def test_round_trip_keeps_every_field(
    site_id: int, account_id: int, step: int, secret: bytes
) -> None:
    token = make_badge_token(site_id=site_id, account_id=account_id, secret=secret, step=step)
    claims = parse_badge_token(token)
    assert (claims.site_id, claims.account_id, claims.step) == (site_id, account_id, step)
    verify_badge_token(claims, secret=secret, now_step=step)
    assert len(token) == BADGE_TOKEN_LENGTH == TOKEN_LENGTH == 38
    assert token.startswith("B1")
    assert set(token[2:]) <= set(BASE32)
    assert classify_scanned(token) is ScannedKind.BADGE


@given(site_id=U32, account_id=U32, step=U32)
def test_qr_is_version_2_at_error_correction_m(site_id: int, account_id: int, step: int) -> None:
    token = make_badge_token(site_id=site_id, account_id=account_id, secret=bytes(32), step=step)
    qr = segno.make(token, error="m", micro=False, boost_error=False)
    assert (qr.version, qr.error, qr.mode) == (2, "M", "alphanumeric")


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-2, "token-expired"),
        (-1, None),
        (0, None),
        (1, None),
        (2, "token-expired"),
        (-1000, "token-expired"),
    ],
)
def test_accepted_in_the_current_and_adjacent_steps_only(offset: int, expected: str | None) -> None:
    secret = new_badge_secret()
    now_step = current_step(NOW)
    assert _refusal(_token(now_step + offset, secret), secret, now_step) == expected


@given(
    secret=SECRETS,
    now_step=st.integers(min_value=2, max_value=2**32 - 3),
    offset=st.integers(-1, 1),
)
def test_window_holds_for_any_step(secret: bytes, now_step: int, offset: int) -> None:
    assert _refusal(_token(now_step + offset, secret), secret, now_step) is None
    assert (
        _refusal(_token(now_step + 2 * (offset or 1), secret), secret, now_step) == "token-expired"
    )


@given(
    secret=SECRETS,
    step=st.integers(min_value=1, max_value=2**32 - 2),
    position=st.integers(min_value=0, max_value=21),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_tampered_byte_is_refused(secret: bytes, step: int, position: int, flip: int) -> None:
    token = _token(step, secret)
    body = bytearray(base64.b32decode(token[2:] + "===="))
    body[position] ^= flip
    forged = "B1" + base64.b32encode(bytes(body)).decode().rstrip("=")
    assert _refusal(forged, secret, step) == "token-tampered"


@given(
    secret=SECRETS,
    position=st.integers(min_value=0, max_value=37),
    replacement=st.sampled_from(BASE32 + "01890abc $%*+-./:"),
)
def test_any_changed_character_is_refused(secret: bytes, position: int, replacement: str) -> None:
    step = 60_000_000
    token = _token(step, secret)
    changed = token[:position] + replacement + token[position + 1 :]
    if changed == token:
        return
    assert _refusal(changed, secret, step) in {"token-tampered", "token-malformed", "token-kind"}


def test_last_character_padding_bits_must_be_zero() -> None:
    """36 base32 characters carry 180 bits for 176: the spare low bits of the last character
    could otherwise be changed without changing the token's bytes."""
    secret = new_badge_secret()
    token = _token(7, secret)
    last = BASE32.index(token[-1])
    twins = [c for c in BASE32 if BASE32.index(c) >> 4 == last >> 4 and c != token[-1]]
    assert twins
    for twin in twins:
        assert _refusal(token[:-1] + twin, secret, 7) == "token-malformed"


def test_signed_for_another_account_is_refused() -> None:
    """A token claiming account 42 but signed with account 43's secret: the service checks it
    with account 42's secret and refuses it."""
    secrets_by_account = {42: new_badge_secret(), 43: new_badge_secret()}
    forged = _token(100, secrets_by_account[43], account_id=42)
    claimed = parse_badge_token(forged).account_id
    assert _refusal(forged, secrets_by_account[claimed], 100) == "token-tampered"
    genuine = _token(100, secrets_by_account[43], account_id=43)
    assert _refusal(genuine, secrets_by_account[42], 100) == "token-tampered"
    assert _refusal(genuine, secrets_by_account[43], 100) is None


def test_rotated_secret_voids_every_token() -> None:
    before = new_badge_secret()
    tokens = [_token(step, before) for step in (99, 100, 101)]
    after = new_badge_secret()
    assert [_refusal(token, after, 100) for token in tokens] == ["token-tampered"] * 3
    assert _refusal(_token(100, after), after, 100) is None


def test_moved_to_another_site_is_refused() -> None:
    """The token names its site (the service refuses a device of another site); rewriting that
    field to pass as a token of another site breaks the tag."""
    secret = new_badge_secret()
    token = _token(100, secret, site_id=9)
    assert parse_badge_token(token).site_id == 9
    body = bytearray(base64.b32decode(token[2:] + "===="))
    body[0:4] = (3).to_bytes(4, "big")
    moved = "B1" + base64.b32encode(bytes(body)).decode().rstrip("=")
    assert parse_badge_token(moved).site_id == 3
    assert _refusal(moved, secret, 100) == "token-tampered"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "token-malformed"),
        ("B1", "token-malformed"),
        ("hello", "token-malformed"),
        ("B1" + "A" * 35, "token-malformed"),
        ("B1" + "A" * 37, "token-malformed"),
        ("b1" + "A" * 36, "token-malformed"),
        ("B1" + "a" * 36, "token-malformed"),
        ("B1" + "0" * 36, "token-malformed"),
        ("B1" + "A" * 35 + "\n", "token-malformed"),
        ("B2" + "A" * 36, "token-malformed"),
        ("C1" + "A" * 36, "token-kind"),
    ],
)
def test_malformed_text_gets_a_stable_code(text: str, code: str) -> None:
    with pytest.raises(TokenError) as refused:
        parse_badge_token(text)
    assert refused.value.code == code


def test_secret_is_32_random_bytes() -> None:
    first, second = new_badge_secret(), new_badge_secret()
    assert len(first) == len(second) == 32
    assert first != second


def test_steps_and_countdown() -> None:
    step = current_step(NOW)
    assert step_start(step) <= NOW < step_start(step + 1)
    assert seconds_until_next_step(NOW) == 20.0
    assert current_step(step_start(step + 1)) == step + 1
    assert seconds_until_next_step(step_start(step + 1)) == 30.0
    assert current_step(NOW, step_seconds=60) == step // 2
    with pytest.raises(ValueError, match="naive"):
        current_step(NOW.replace(tzinfo=None))


def test_out_of_range_fields_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="range"):
        make_badge_token(site_id=-1, account_id=1, secret=bytes(32), step=1)
    with pytest.raises(ValueError, match="range"):
        make_badge_token(site_id=1, account_id=2**32, secret=bytes(32), step=1)
    with pytest.raises(ValueError, match="short"):
        make_badge_token(site_id=1, account_id=1, secret=b"short", step=1)
