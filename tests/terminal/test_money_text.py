"""Money formatting and parsing; plain text from outside."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.money import MAX_AMOUNT_CENTS, AmountError, format_money, parse_amount
from kiosk.text import FORBIDDEN, plain

NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("cents", "currency", "language", "shown"),
    [
        (1250, "EUR", "fr", f"12,50{NBSP}€"),
        (1250, "EUR", "en", "€12.50"),
        (-1250, "EUR", "fr", f"-12,50{NBSP}€"),
        (-1250, "EUR", "en", "-€12.50"),
        (0, "EUR", "fr", f"0,00{NBSP}€"),
        (5, "EUR", "en", "€0.05"),
        (123456789, "EUR", "fr", f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        (123456789, "EUR", "en", "€1,234,567.89"),
        # A currency without minor unit: the amount is already in yen.
        (1250, "JPY", "en", "¥1,250"),
    ],
)
def test_format_money(cents: int, currency: str, language: str, shown: str) -> None:
    assert format_money(cents, currency, language) == shown


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("12", 1200),
        ("12,5", 1250),
        (" 7.05 ", 705),
        ("0", 0),
        ("0,01", 1),
        ("007", 700),
    ],
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_parse_amount(text: str, cents: int, language: str) -> None:
    assert parse_amount(text, language) == cents


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-5", "negative"),
        ("−5", "negative"),
        ("12,505", "too-many-decimals"),
        ("1.000", "too-many-decimals"),
        ("12,", "invalid"),
        (",5", "invalid"),
        ("abc", "invalid"),
        ("12 50", "invalid"),
        ("1,2,3", "invalid"),
        ("12€", "invalid"),
        ("1e3", "invalid"),
        (
            "١٢",
            "invalid",
        ),  # Arabic-Indic digits: int() would take them, the keypad never sends them
        ("+5", "invalid"),
        ("9" * 500, "too-large"),
        (str(MAX_AMOUNT_CENTS // 100 + 1), "too-large"),
    ],
)
def test_parse_amount_refuses(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, "fr")

    assert caught.value.reason == reason


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_CENTS))
def test_parse_reads_back_what_english_formatting_writes(cents: int) -> None:
    shown = f"{cents // 100}.{cents % 100:02d}"

    assert parse_amount(shown, "en") == cents
    assert parse_amount(shown.replace(".", ","), "fr") == cents


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Alice Martin", "Alice Martin"),
        ("[@click=app.quit]Bob[/]", "[@click=app.quit]Bob[/]"),  # markup is the UI's business
        ("Bob\x1b[2J\x1b[31mred\x1b[0m", "Bobred"),
        ("a\x1b]0;owned title\x07b", "ab"),
        ("a\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
        ("a\x9b31mb", "ab"),
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),
        ("unterminated\x1b]52;c;secret", "unterminated"),
        ("a\x1b(Bb", "ab"),
        ("a\x1b", "a"),
        ("line1\nline2\ttab\r\n", "line1 line2 tab  "),
        ("bell\x07null\x00del\x7fnel\x85c1\x90", "bellnulldelnel c1"),
        ("\u202eevil\u202c.txt", "evil.txt"),
        ("\u2066x\u2069\u200e\u200f\u061c", "x"),
        ("Chloé Dubois — ☕ 𝔘", "Chloé Dubois — ☕ 𝔘"),
    ],
)
def test_plain(raw: str, shown: str) -> None:
    assert plain(raw) == shown


def test_plain_cuts_long_text_with_an_ellipsis() -> None:
    assert plain("Alexandrine", max_length=6) == "Alexa…"
    assert plain("Alex", max_length=6) == "Alex"
    assert plain("Alexandrine", max_length=0) == ""


@given(st.text(alphabet=st.characters(codec="utf-8")) | st.text())
def test_plain_never_returns_a_control_or_bidi_character(raw: str) -> None:
    cleaned = plain(raw)

    assert not FORBIDDEN.intersection(cleaned)


@given(st.text(), st.integers(min_value=1, max_value=50))
def test_plain_respects_max_length(raw: str, max_length: int) -> None:
    assert len(plain(raw, max_length=max_length)) <= max_length


@given(st.text(alphabet=st.characters(exclude_characters=FORBIDDEN, exclude_categories=["Cs"])))
def test_plain_keeps_ordinary_text_as_it_is(raw: str) -> None:
    assert plain(raw) == raw
