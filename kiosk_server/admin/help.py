"""Loading a site's help from a TOML file (`kiosk-server help load CODE FILE.toml`): the
questions people ask and their answers, in each of the site's languages, and the support
contact. The whole file is checked first (every error reported, nothing written on any); a load
replaces the site's help entirely.

```toml
[contact]
fr = "Accueil, bâtiment A : poste 1234, accueil@example.com"
en = "Reception, building A: extension 1234, accueil@example.com"

[[entries]]
topic = "pin"                       # 1-32 of a-z, 0-9 and -
fr.question = "J'ai oublié mon code PIN"
fr.answer = \"\"\"Sur l'écran du code PIN, touchez « Code PIN oublié ? »...\"\"\"
en.question = "I forgot my PIN"
en.answer = "On the PIN screen, ..."
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.admin import AdminError
from kiosk_server.admin.sites import get_site
from kiosk_server.fields import forbidden_character
from kiosk_server.models import HelpEntry

DEMO_HELP = "demo_help.toml"
TOPIC = re.compile(r"[a-z0-9-]{1,32}")
LANGUAGE = re.compile(r"[a-z]{2}")
QUESTION_MAX = 200
ANSWER_MAX = 4000
CONTACT_MAX = 300


def demo_help_text() -> str:
    """The text of the help the demo site is seeded with."""
    return resources.files("kiosk_server.admin").joinpath(DEMO_HELP).read_text("utf-8")


class HelpFileError(AdminError):
    """A help file with errors; `errors` lists each, prefixed with where it is."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__(
            f"{len(errors)} error(s) in the help, nothing loaded: " + "; ".join(errors)
        )


@dataclass(frozen=True)
class HelpSpec:
    """A checked help file."""

    contact: dict[str, str]
    entries: list[tuple[str, dict[str, dict[str, str]]]]
    """Each entry's topic and its texts by language."""


def _text(value: Any, where: str, limit: int, errors: list[str], *, multiline: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where} must be non-empty text")
        return ""
    text = str(value).strip()
    if len(text) > limit:
        errors.append(f"{where} must be at most {limit} characters")
    elif (character := forbidden_character(text, multiline=multiline)) is not None:
        errors.append(f"{where} must not contain control characters ({character})")
    return text


def _contact(raw: Any, errors: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.append('contact must be a table such as [contact] fr = "..."')
        return {}
    contact = {}
    for language, value in raw.items():
        if not LANGUAGE.fullmatch(language):
            errors.append(f"contact: {language!r} is not a two-letter language code")
            continue
        contact[language] = _text(
            value, f"contact.{language}", CONTACT_MAX, errors, multiline=False
        )
    return contact


def _entry(raw: Any, where: str, errors: list[str]) -> tuple[str, dict[str, dict[str, str]]]:
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be a table ([[entries]])")
        return "", {}
    topic = raw.get("topic")
    if not isinstance(topic, str) or not TOPIC.fullmatch(topic):
        errors.append(f"{where}: topic must be 1 to 32 of a-z, 0-9 and -")
        topic = ""
    texts: dict[str, dict[str, str]] = {}
    for language, value in raw.items():
        if language == "topic":
            continue
        if not LANGUAGE.fullmatch(language):
            errors.append(f"{where}: unknown key {language} (languages are two letters)")
            continue
        if not isinstance(value, dict) or set(value) != {"question", "answer"}:
            errors.append(f"{where}: {language} must have a question and an answer, only")
            continue
        texts[language] = {
            "question": _text(
                value["question"], f"{where}: {language}.question", QUESTION_MAX, errors,
                multiline=False,
            ),
            "answer": _text(
                value["answer"], f"{where}: {language}.answer", ANSWER_MAX, errors,
                multiline=True,
            ),
        }  # fmt: skip
    if set(raw) <= {"topic"}:
        errors.append(f"{where}: no language (fr.question, fr.answer...)")
    return topic, texts


def parse_help(text: str) -> HelpSpec:
    """The file, checked; `HelpFileError` lists every error found."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HelpFileError([f"not valid TOML: {exc}"]) from None
    errors = [
        f"unknown top-level key {key}" for key in sorted(set(document) - {"contact", "entries"})
    ]
    contact = _contact(document.get("contact"), errors)
    raw_entries = document.get("entries", [])
    if not isinstance(raw_entries, list) or not raw_entries:
        raise HelpFileError([*errors, "no [[entries]] in the file"])
    entries = [_entry(raw, f"entry #{index + 1}", errors) for index, raw in enumerate(raw_entries)]
    if errors:
        raise HelpFileError(errors)
    return HelpSpec(contact=contact, entries=entries)


async def load_help(session: AsyncSession, *, site_code: str, text: str) -> int:
    """Replace the site's help with the file's (flushed, not committed); how many entries.
    Raises `HelpFileError` (nothing written) when the file has errors."""
    site = await get_site(session, site_code)
    spec = parse_help(text)
    await session.execute(delete(HelpEntry).where(HelpEntry.site_id == site.id))
    for position, (topic, texts) in enumerate(spec.entries):
        session.add(HelpEntry(site_id=site.id, position=position, topic=topic, texts=texts))
    site.help_contact = dict(spec.contact)
    await session.flush()
    return len(spec.entries)
