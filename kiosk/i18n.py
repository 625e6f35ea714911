"""Translations of every string a person reads: gettext catalogs under `kiosk/locale`, built with
Babel (see `kiosk/locale/README.md`). Source strings are English, in the code; French is the
default language. The current language can change at any time (a switch on the welcome screen
and during a session), so `_()` looks it up on each call instead of binding a catalog once.

No Textual here: this module only knows about text.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Literal

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
DEFAULT_LANGUAGE: Language = "fr"
LANGUAGE_NAMES: dict[Language, str] = {"fr": "Français", "en": "English"}
"""Each language in its own words (never translated: a person looks for their own)."""
DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: Language = DEFAULT_LANGUAGE


@cache
def _catalog(language: Language) -> gettext.NullTranslations:
    # fallback=True: a missing catalog shows the English source text rather than crashing a kiosk.
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def set_language(language: str) -> Language:
    """Make `language` ("fr" or "en") the one `_()` translates into; returns it."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    global _current
    _current = language
    return _current


def get_language() -> Language:
    """The current language."""
    return _current


def other_language(language: Language | None = None) -> Language:
    """The language a one-key switch goes to from `language` (default: the current one)."""
    return "en" if (language or _current) == "fr" else "fr"


def _(message: str) -> str:
    """`message` (English source text) in the current language."""
    return _catalog(_current).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count`, in the current language."""
    return _catalog(_current).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now (translated where shown)."""
    return message
