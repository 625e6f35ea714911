"""The scan screen's first judgement of a payload: calm and specific, before the service."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.qr_payload import MAX_SCANNED_CHARS, ScannedKind, classify_scanned
from kiosk_server.tokens import make_badge_token, make_connect_token

SECRET = bytes(range(32))
CONNECT = make_connect_token(site_id=1, account_id=7, version=0, secret=SECRET)
BADGE = make_badge_token(site_id=1, account_id=7, secret=SECRET, step=60_000_000)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (CONNECT, ScannedKind.CONNECT),
        (BADGE, ScannedKind.BADGE),
        ("V1ABCDEFGH234567", ScannedKind.INVITATION),
        ("https://example.test/pay?x=1", ScannedKind.URL),
        ("HTTP://EXAMPLE.TEST", ScannedKind.URL),
        ("www.example.test", ScannedKind.URL),
        ("mailto:someone@example.test", ScannedKind.URL),
        ("A" * (MAX_SCANNED_CHARS + 1), ScannedKind.OVERSIZED),
        ("https://x.test/" + "a" * MAX_SCANNED_CHARS, ScannedKind.OVERSIZED),
        (CONNECT + "\n", ScannedKind.CONTROL_CHARACTERS),
        ("hello\x1b[2Jworld", ScannedKind.CONTROL_CHARACTERS),
        ("caf\u00e9\x9b31m", ScannedKind.CONTROL_CHARACTERS),
        ("abc\u202edcba", ScannedKind.CONTROL_CHARACTERS),
        ("", ScannedKind.EMPTY),
        ("   ", ScannedKind.EMPTY),
        ("Bonjour", ScannedKind.TEXT),
        (CONNECT.lower(), ScannedKind.TEXT),
        (CONNECT[:-1], ScannedKind.TEXT),
        (" " + CONNECT, ScannedKind.TEXT),
        ("B2" + BADGE[2:], ScannedKind.TEXT),
        ("[@click=app.quit]Bye[/]", ScannedKind.TEXT),
    ],
)
def test_each_payload_gets_its_kind(text: str, kind: ScannedKind) -> None:
    assert classify_scanned(text) is kind


@given(st.text(max_size=2 * MAX_SCANNED_CHARS))
def test_any_text_gets_a_kind_and_never_a_token_kind_by_accident(text: str) -> None:
    kind = classify_scanned(text)
    if kind in {ScannedKind.CONNECT, ScannedKind.BADGE}:
        assert len(text) == 38
        assert text.isascii()
        assert text.isupper() or text[2:].isdigit()
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text) and len(text) <= MAX_SCANNED_CHARS:
        assert kind is ScannedKind.CONTROL_CHARACTERS
