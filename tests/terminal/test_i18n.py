"""Catalogs: every string of the terminal has a French translation, the committed .mo files are
those of the .po files, and the language switches while the app runs."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk.i18n import LOCALE_DIR, _, set_language
from kiosk.screens.home import HomeScreen
from kiosk.screens.welcome import WelcomeScreen
from kiosk_server.models import Site
from tests.factories import Factory
from tests.terminal.conftest import PIN, SIZE, KioskFactory, screen_text, settle, type_text

ROOT = Path(__file__).resolve().parents[2]


def _msgids() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map=[("kiosk/**.py", "python")]
    ):
        found.add(tuple(message) if isinstance(message, list | tuple) else message)
    return found


def test_every_string_has_a_french_translation() -> None:
    with (LOCALE_DIR / "fr" / "LC_MESSAGES" / "kiosk.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    ids = _msgids()
    assert "Incorrect PIN. Try again." in ids
    missing = []
    for msgid in ids:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        message = catalog.get(key)
        strings = () if message is None else message.string
        texts = strings if isinstance(strings, tuple) else (strings,)
        if message is None or message.fuzzy or not all(texts):
            missing.append(msgid)
    assert missing == []


TRANSLATING = {"_", "ngettext", "N_"}


def test_no_translated_string_hides_in_an_f_string() -> None:
    """The catalog's extractor does not read calls inside f-strings: a `_("Item")` there is
    never translated (the French ticket showed English headers)."""
    package = Path(__file__).resolve().parents[2] / "kiosk"
    hidden: list[str] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in TRANSLATING
                ):
                    hidden.append(f"{path.relative_to(package.parent)}:{inner.lineno}")
    assert hidden == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_committed_mo_matches_a_fresh_compile(language: str) -> None:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    with (folder / "kiosk.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (folder / "kiosk.mo").read_bytes() == compiled.getvalue()


def test_translation_follows_the_current_language() -> None:
    set_language("fr")
    assert _("Incorrect PIN. Try again.") == "Code PIN incorrect. Réessayez."
    set_language("en")
    assert _("Incorrect PIN. Try again.") == "Incorrect PIN. Try again."


async def test_balance_in_french_and_english_and_switch_during_a_session(
    make_kiosk: KioskFactory, factory: Factory, site: Site
) -> None:
    account = await factory.account(site, "jeanne", name="Jeanne Martin", pin=PIN)
    await factory.ledger_entry(account, 1250)
    app = make_kiosk(language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Touch or press Enter to start" in screen_text(app)
        await pilot.click("#language")
        await pilot.pause()
        assert "Touchez l'écran ou appuyez sur Entrée pour commencer" in screen_text(app)
        await pilot.click("#language")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.press("enter")
        await type_text(pilot, "jeanne")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "€12.50" in screen_text(app)
        assert "Hello, Jeanne Martin" in screen_text(app)
        await pilot.click("#language")
        await pilot.pause()
        text = screen_text(app)
        assert "12,50\xa0€" in text
        assert "Bonjour Jeanne Martin" in text
        assert "Votre solde" in text


def test_the_services_words_in_a_visit_history_are_translated() -> None:
    import datetime as dt

    from kiosk.api.models import VisitEvent
    from kiosk.screens.visit_detail import event_line

    set_language("fr")
    at = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)
    walk_in = VisitEvent(
        kind="submitted", at=at, by_name=None, by_device="Hall", visitor_name=None, detail="walk-in"
    )
    line = event_line(walk_in, dt.UTC)
    assert "visiteur sans invitation" in line and "walk-in" not in line
    sent = VisitEvent(
        kind="invitation_sent",
        at=at,
        by_name=None,
        by_device=None,
        visitor_name="Léa Dupont",
        detail="email",
    )
    assert "Invitation envoyée — Léa Dupont — par e-mail" in event_line(sent, dt.UTC)
