"""A site's help as a terminal shows it: each question and answer in the language asked for
(else the site's, else any the entry has), and the support contact."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas
from kiosk_server.models import HelpEntry, Site


def _in(texts: Mapping[str, Any], languages: list[str]) -> Any:
    for language in languages:
        if language in texts:
            return texts[language]
    return next(iter(texts.values()), None)


async def site_help(session: AsyncSession, *, site: Site, language: str | None) -> schemas.Help:
    """The site's help in `language` (two letters), entry by entry falling back to the site's."""
    languages = [code for code in (language, site.locale[:2].lower()) if code]
    rows = await session.scalars(
        select(HelpEntry).where(HelpEntry.site_id == site.id).order_by(HelpEntry.position)
    )
    entries = []
    for row in rows.all():
        texts = _in(row.texts or {}, languages)
        if texts is not None:
            entries.append(
                schemas.HelpEntry(
                    topic=row.topic, question=texts["question"], answer=texts["answer"]
                )
            )
    contact = _in(site.help_contact or {}, languages)
    return schemas.Help(
        site=schemas.SiteRef(code=site.code, name=site.name),
        contact=contact or "",
        entries=entries,
    )
