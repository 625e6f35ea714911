"""The watchlist: people a site wants reception to look at before they come in.

Names are compared folded (`name_keys`): case, accents, punctuation, runs of spaces and the
order of the words are ignored, and so are the joins between words ("Jean-Pierre", "Jean
Pierre", "Jeanpierre"). Nothing is fuzzier than that: a name one letter apart is another person
(a false match holds a stranger at the door; the entry's birth date is there for reception to
compare with an identity document).

- An approved visit's visitors are screened when their invitations go out: a match is noted on
  the visitor and the site's security staff are told ahead, the invitation goes out as usual.
- Every check-in is screened again (the list may have changed): a match holds it. The visitor
  is told only to see reception (`check-in-held`); security is told once; reception sees the
  entry on the desk and lets the visitor in (`release`, which checks them in) or refuses entry.

Security staff are the site's active accounts with the `security` role, else (a site without
any) those with the `reception` role. Nothing of this reaches the visitor or the host.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import String, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server import schemas_watchlist as sw
from kiosk_server.db import as_utc
from kiosk_server.i18n import texts
from kiosk_server.models import Account, Site, Visit, VisitVisitor, WatchlistEntry
from kiosk_server.problems import ProblemError
from kiosk_server.services import audit, notifications
from kiosk_server.services import visits as visit_rules

_NOT_LETTERS = re.compile(r"[^\w]+|_")

HELD_DETAIL = "Please see reception to complete your check-in."


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [word for word in _NOT_LETTERS.split(bare.casefold()) if word]


def name_keys(*parts: str) -> frozenset[str]:
    """The folded forms of a name given in one or more parts (first name, last name): its
    words in any order, and its letters run together in the given order or the reverse one
    (so that a compound name written with or without its joins matches). Two names match when
    their keys meet."""
    pieces = [_words(part) for part in parts]
    words = [word for piece in pieces for word in piece]
    if not words:
        return frozenset()
    keys = {" ".join(sorted(words)), "".join(words)}
    keys.add("".join(word for piece in reversed(pieces) for word in piece))
    return frozenset(keys)


def entry_out(entry: WatchlistEntry) -> sw.WatchlistEntry:
    return sw.WatchlistEntry(
        id=entry.id,
        full_name=entry.full_name,
        birth_date=entry.birth_date,
        reason=entry.reason,
        added_by=entry.added_by,
        created_at=as_utc(entry.created_at),
    )


async def entries(session: AsyncSession, *, site: Site) -> list[WatchlistEntry]:
    """The site's entries, newest first."""
    return list(
        await session.scalars(
            select(WatchlistEntry)
            .where(WatchlistEntry.site_id == site.id)
            .order_by(WatchlistEntry.created_at.desc(), WatchlistEntry.id.desc())
        )
    )


async def add(
    session: AsyncSession,
    *,
    site: Site,
    body: sw.WatchlistEntryIn,
    added_by: str,
    account: Account | None,
    now: dt.datetime,
) -> WatchlistEntry:
    """Add an entry (audit `watchlist.added`; the reason stays out of the audit log). A name
    with no letter or digit at all is kept as typed and matches nobody."""
    entry = WatchlistEntry(
        site_id=site.id,
        full_name=body.full_name.strip(),
        birth_date=body.birth_date,
        reason=body.reason.strip(),
        added_by=added_by.strip()[:200] or "?",
        added_by_account_id=account.id if account is not None else None,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    await audit.record(
        session,
        site_id=site.id,
        action="watchlist.added",
        subject=f"watchlist:{entry.id}",
        now=now,
        actor_account_id=account.id if account is not None else None,
        detail={"added_by": entry.added_by},
    )
    await session.flush()
    return entry


async def remove(
    session: AsyncSession, *, site: Site, entry_id: int, account: Account | None, now: dt.datetime
) -> None:
    """Remove an entry (audit `watchlist.removed`). Visitors it matched keep their hold until
    reception decides; their link to it is cleared."""
    entry = await session.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.id == entry_id, WatchlistEntry.site_id == site.id
        )
    )
    if entry is None:
        raise ProblemError("watchlist-entry-unknown", "No such entry on this site's watchlist.")
    await session.execute(
        update(VisitVisitor)
        .where(VisitVisitor.watch_entry_id == entry.id)
        .values(watch_entry_id=None)
    )
    await session.delete(entry)
    await audit.record(
        session,
        site_id=site.id,
        action="watchlist.removed",
        subject=f"watchlist:{entry_id}",
        now=now,
        actor_account_id=account.id if account is not None else None,
    )
    await session.flush()


async def match(
    session: AsyncSession, *, site: Site, visitor: VisitVisitor
) -> WatchlistEntry | None:
    """The newest of the site's entries the visitor's name matches, if any."""
    keys = name_keys(visitor.first_name, visitor.last_name)
    if not keys:
        return None
    for entry in await entries(session, site=site):
        if keys & name_keys(entry.full_name):
            return entry
    return None


async def _security_staff(session: AsyncSession, *, site: Site) -> list[Account]:
    found: dict[str, list[Account]] = {"security": [], "reception": []}
    for role, people in found.items():
        candidates = await session.scalars(
            select(Account)
            .where(
                Account.site_id == site.id,
                Account.status == "active",
                cast(Account.roles, String).like(f'%"{role}"%'),
            )
            .order_by(Account.id)
        )
        people.extend(account for account in candidates if role in account.roles)
        if people:
            return people
    return []


async def _tell_security(
    session: AsyncSession,
    *,
    site: Site,
    visit: Visit,
    visitor: VisitVisitor,
    entry: WatchlistEntry,
    at_check_in: bool,
    now: dt.datetime,
) -> None:
    host = await session.get(Account, visit.host_account_id)
    tr = texts(site.locale)
    facts = {
        "who": visit_rules.visitor_name(visitor),
        "entry": entry.full_name,
        "reason": entry.reason,
        "host": host.name if host is not None else "?",
        "day": f"{visit.first_day:%d/%m/%Y}",
    }
    if at_check_in:
        title = tr.gettext("Watchlist: a check-in is held")
        body = (
            tr.gettext(
                "%(who)s, visiting %(host)s, matches the watchlist entry %(entry)s "
                "(%(reason)s). The check-in waits for reception."
            )
            % facts
        )
    else:
        title = tr.gettext("Watchlist: a visitor is invited")
        body = (
            tr.gettext(
                "%(who)s, invited by %(host)s on %(day)s, matches the watchlist entry "
                "%(entry)s (%(reason)s). Their check-in will wait for reception."
            )
            % facts
        )
    for person in await _security_staff(session, site=site):
        await notifications.notify(
            session,
            account=person,
            kind="watchlist_match",
            title=title,
            body=body,
            now=now,
            email=True,
            data={"visitor_id": visitor.id, "entry_id": entry.id},
        )


async def screen_invitations(
    session: AsyncSession,
    *,
    site: Site,
    visit: Visit,
    visitors: Sequence[VisitVisitor],
    now: dt.datetime,
) -> None:
    """Invitations are going out: note each visitor who matches, and tell security (once per
    visitor and entry)."""
    for visitor in visitors:
        entry = await match(session, site=site, visitor=visitor)
        if entry is None or visitor.watch_entry_id == entry.id:
            continue
        visitor.watch_entry_id = entry.id
        await _tell_security(
            session,
            site=site,
            visit=visit,
            visitor=visitor,
            entry=entry,
            at_check_in=False,
            now=now,
        )
    await session.flush()


async def hold_if_listed(
    session: AsyncSession,
    *,
    site: Site,
    visit: Visit,
    visitor: VisitVisitor,
    now: dt.datetime,
) -> None:
    """Before a check-in: raises `check-in-held` for a visitor reception refused, or whose name
    is on the watchlist and whom reception has not let in for this visit. The first hold is
    committed (the visitor's record, the audit row, security's notice) before the error, as the
    request's transaction is rolled back on an error."""
    if visitor.refused_at is not None:
        raise ProblemError("check-in-held", HELD_DETAIL)
    if visitor.released_at is not None:
        return
    entry = await match(session, site=site, visitor=visitor)
    if entry is None:
        if visitor.held_at is None:
            return
        # Held earlier, the entry removed since: reception still decides.
        raise ProblemError("check-in-held", HELD_DETAIL)
    if visitor.held_at is None:
        visitor.held_at = now
        visitor.watch_entry_id = entry.id
        await audit.record(
            session,
            site_id=site.id,
            action="watchlist.held",
            subject=f"visitor:{visitor.id}",
            now=now,
            detail={
                "visit_id": visit.id,
                "visitor_name": visit_rules.visitor_name(visitor),
                "entry_id": entry.id,
            },
        )
        await _tell_security(
            session, site=site, visit=visit, visitor=visitor, entry=entry, at_check_in=True, now=now
        )
        await session.commit()
    raise ProblemError("check-in-held", HELD_DETAIL)


async def held_check_in(
    session: AsyncSession, *, site: Site, visitor: VisitVisitor
) -> sw.HeldCheckIn:
    """What reception sees of a visitor's hold."""
    entry = (
        await session.scalar(
            select(WatchlistEntry).where(
                WatchlistEntry.id == visitor.watch_entry_id, WatchlistEntry.site_id == site.id
            )
        )
        if visitor.watch_entry_id is not None
        else None
    )
    return sw.HeldCheckIn(
        visitor_id=visitor.id,
        entry=entry_out(entry) if entry is not None else None,
        held_at=_utc(visitor.held_at),
        released_at=_utc(visitor.released_at),
        refused_at=_utc(visitor.refused_at),
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return as_utc(value) if value is not None else None


def _decided(visitor: VisitVisitor) -> None:
    if visitor.held_at is None and visitor.refused_at is None:
        raise ProblemError("visitor-not-held", "This visitor's check-in is not held.")


async def release(
    session: AsyncSession,
    *,
    site: Site,
    visitor: VisitVisitor,
    account: Account,
    now: dt.datetime,
) -> None:
    """Reception lets a held (or refused) visitor in: later check-ins of this visit are not
    held (audit `watchlist.released`). The caller then checks them in."""
    _decided(visitor)
    visitor.held_at = None
    visitor.refused_at = None
    visitor.released_at = now
    await _record_decision(session, site=site, visitor=visitor, account=account, now=now)


async def refuse(
    session: AsyncSession,
    *,
    site: Site,
    visitor: VisitVisitor,
    account: Account,
    now: dt.datetime,
) -> None:
    """Reception refuses a held visitor entry: their invitation checks nobody in (audit
    `watchlist.refused`); reception may still let them in later."""
    _decided(visitor)
    visitor.held_at = None
    visitor.refused_at = now
    await _record_decision(session, site=site, visitor=visitor, account=account, now=now)
    await session.flush()


async def _record_decision(
    session: AsyncSession,
    *,
    site: Site,
    visitor: VisitVisitor,
    account: Account,
    now: dt.datetime,
) -> None:
    """The audit row of reception's decision, read from the visitor's record."""
    await audit.record(
        session,
        site_id=site.id,
        action="watchlist.refused" if visitor.refused_at is not None else "watchlist.released",
        subject=f"visitor:{visitor.id}",
        now=now,
        actor_account_id=account.id,
        detail={"visitor_name": visit_rules.visitor_name(visitor)},
    )
