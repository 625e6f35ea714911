"""The service's catalogs: every word it writes for people has a French translation that keeps
its placeholders, the committed .mo is that of the .po, and a site gets its own language."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk_server.i18n import DOMAIN, LOCALE_DIR, texts

ROOT = Path(__file__).resolve().parents[2]
PO = LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{DOMAIN}.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _msgids() -> set[str]:
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map=[("kiosk_server/**.py", "python")]
        )
    }


def test_every_string_has_a_french_translation_with_the_same_placeholders() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    ids = _msgids()
    assert "Top-up credited" in ids
    missing, broken = [], []
    for msgid in sorted(ids):
        message = catalog.get(msgid)
        if message is None or message.fuzzy or not message.string:
            missing.append(msgid)
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(str(message.string))):
            broken.append(msgid)
    assert missing == []
    assert broken == []


def test_no_translated_string_hides_in_an_f_string() -> None:
    """The extractor does not read calls inside f-strings: such a string is never translated."""
    hidden: list[str] = []
    for path in sorted((ROOT / "kiosk_server").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                hidden += [
                    f"{path.relative_to(ROOT)}:{inner.lineno}"
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in {"gettext", "ngettext"}
                ]
    assert hidden == []


def test_committed_mo_matches_a_fresh_compile() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert PO.with_suffix(".mo").read_bytes() == compiled.getvalue()


def test_a_site_gets_its_own_language() -> None:
    assert texts("fr_FR").gettext("Top-up credited") == "Rechargement crédité"
    assert texts("fr").gettext("Low balance") == "Solde bas"
    assert texts("en_GB").gettext("Top-up credited") == "Top-up credited"
    assert texts("de_DE").gettext("Low balance") == "Low balance"
