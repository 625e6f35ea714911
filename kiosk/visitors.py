"""What the visitor desk knows of a visitor: the credentials they presented (never shown, never
logged), their name and visit as shown, and the sentences a visitor (not staff) reads when the
desk refuses. No Textual."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.format import day_in_words
from kiosk.i18n import N_, _
from kiosk.problems import describe_error, problem_code, throttled_text
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import DeskVisit

NAME_MAX = 60
"""Longest name, company, host or place shown (the rest ends with …)."""


@dataclass(frozen=True, slots=True)
class DeskCredentials:
    """What the visitor presented: a scanned token, or a typed code and last name. Never
    shown, never logged."""

    token: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)

    def as_arguments(self) -> dict[str, Any]:
        """Keyword arguments of the client's `desk_*` calls."""
        return {"token": self.token, "code": self.code, "last_name": self.last_name}


# Codes whose general wording (kiosk.problems) speaks to staff: a visitor reads these.
VISITOR_MESSAGES: dict[str, str] = {
    "host-unknown": N_(
        "Nobody with this name was found. Type your host's first and last name as they are "
        "written, or ask the reception desk."
    ),
    "host-ambiguous": N_("Several people have this name. Please ask the reception desk."),
    "visitor-not-checked-in": N_("You are not checked in. Please ask the reception desk."),
}


def visitor_error_text(error: BaseException | None) -> str:
    """The calm sentence for a failed visitor-desk call (a throttled terminal says how long to
    wait)."""
    code = problem_code(error)
    if code == "terminal-throttled":
        return throttled_text(error)
    if code in VISITOR_MESSAGES:
        return _(VISITOR_MESSAGES[code])
    return describe_error(error)


def visit_day_text(visit: DeskVisit) -> str:
    """The visit's day or days."""
    if visit.first_day == visit.last_day:
        return day_in_words(visit.first_day)
    return _("from %(first)s to %(last)s") % {
        "first": day_in_words(visit.first_day),
        "last": day_in_words(visit.last_day),
    }


def visitor_name(first_name: str, last_name: str) -> str:
    """The visitor's name as shown and printed: plain, bounded."""
    return plain(f"{first_name} {last_name}".strip(), max_length=NAME_MAX)
