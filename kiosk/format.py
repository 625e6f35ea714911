"""How the kiosk shows dates, times and the service's kinds and states to a person: in the
current language, in the site's time zone. No Textual; Babel's date module is imported only when
a whole date is written out (it takes 10-30 ms to import).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.i18n import N_, _, get_language

KIND_LABELS: dict[str, str] = {
    "purchase": "",
    "top_up": N_("Top-up"),
    "refund": N_("Refund"),
    "adjustment": N_("Adjustment"),
}


STATE_LABELS: dict[str, str] = {
    "draft": N_("Draft"),
    "requested": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
    "checked_in": N_("Visitor on site"),
    "checked_out": N_("Visitor left"),
    "expired": N_("Expired"),
}


def state_label(state: str) -> str:
    """The translated name of a visit state."""
    return _(STATE_LABELS.get(state, state))


def site_zone(name: str) -> dt.tzinfo:
    """The site's time zone (UTC when the name is unknown here: a date is still shown)."""
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_time(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """`moment` (with an offset, or UTC when naive) in the site's time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone)


@dataclass(frozen=True, slots=True)
class MonthNames:
    """Babel's month names for one language, January first."""

    abbreviated: tuple[str, ...]
    """As in a date (`MMM`): `nov.` / `Nov`."""
    wide: tuple[str, ...]
    """Standing alone, as a heading (`LLLL`): `novembre` / `November`."""


@functools.lru_cache(maxsize=8)
def month_names(language: str) -> MonthNames:
    """Looked up once per language. Rows are formatted from these names by hand rather than
    with `babel.dates`: that module takes 10-30 ms to import, all of it on the first opening of
    the history, and every call parses its pattern again (the output is the same; a test
    compares them)."""
    from babel import Locale

    locale = Locale.parse(language)
    short = locale.months["format"]["abbreviated"]
    wide = locale.months["stand-alone"]["wide"]
    return MonthNames(
        abbreviated=tuple(short[month] for month in range(1, 13)),
        wide=tuple(wide[month] for month in range(1, 13)),
    )


def format_when(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """`12 nov., 12:05` in the current language, in the site's time zone (Babel's
    `d MMM, HH:mm`)."""
    local = local_time(moment, zone)
    month = month_names(get_language()).abbreviated[local.month - 1]
    return f"{local.day} {month}, {local.hour:02d}:{local.minute:02d}"


def format_month(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """`novembre 2026` / `November 2026` (Babel's `LLLL y`)."""
    local = local_time(moment, zone)
    return f"{month_names(get_language()).wide[local.month - 1]} {local.year}"


def format_day(day: dt.date) -> str:
    """`2 nov. 2026` / `Nov 2, 2026`."""
    from babel.dates import format_date

    return format_date(day, "medium", locale=get_language())


def format_days(first: dt.date, last: dt.date) -> str:
    """One day, or `first → last`."""
    return format_day(first) if first == last else f"{format_day(first)} → {format_day(last)}"


def day_in_words(day: dt.date) -> str:
    """`day` in words, in the current language ("lundi 2 novembre 2026")."""
    from babel.dates import format_date

    return format_date(day, format="full", locale=get_language())


def time_of_day(value: dt.time) -> str:
    """`09:30`."""
    return value.strftime("%H:%M")
