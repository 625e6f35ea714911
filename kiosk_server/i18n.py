"""The service's words for people, in their site's language: gettext catalogs under
`kiosk_server/locale` (see the README there), English in the code, French translated.

    tr = texts(site.locale)
    title = tr.gettext("Top-up credited")
    body = tr.gettext("%(amount)s was added to your balance.") % {"amount": shown}

Messages are written in the language of the site (or of the person at the terminal, where
known); a missing catalog shows the English source rather than failing a request.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

DOMAIN = "kiosk_server"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def language_of(locale: str) -> str:
    """`fr` for a French locale (`fr`, `fr_FR`, `fr-BE`...), `en` for any other."""
    return "fr" if locale.lower().startswith("fr") else "en"


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def texts(locale: str) -> gettext.NullTranslations:
    """The catalog for a site's locale (or a person's language code)."""
    return _catalog(language_of(locale))
