"""The one object that holds what the terminal shows of the signed-in person. Dropped (cleared) on
sign-out and on idle timeout, so that nothing of the last person stays in memory.

No httpx or pydantic at import time: the app imports this before the welcome screen is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.api.models import Me


@dataclass(slots=True)
class KioskSession:
    """The signed-in person as the UI shows them. Empty (`signed_in` false) when nobody is.

    Strings are kept as the service sent them; the UI makes them plain text at display.
    """

    identifier: str = ""
    """What the person typed to say who they are."""
    name: str = ""
    """Their name, as the service has it."""
    site_code: str = ""
    """The solution code of their site."""
    site_name: str = ""
    currency: str = ""
    """ISO 4217 code of their balance."""
    site_locale: str = ""
    """Their site's locale (`fr_FR`...)."""
    time_zone: str = ""
    """Their site's time zone (`Europe/Paris`)."""
    roles: tuple[str, ...] = field(default_factory=tuple)
    """`member`, and `reception` or `admin` where granted."""
    balance_cents: int | None = None
    """Their balance in cents, None once cleared."""
    overdraft_limit_cents: int = 0
    """How far below zero their site lets a payment take the balance."""

    @classmethod
    def from_me(cls, me: Me) -> KioskSession:
        """The session for the person the service just signed in."""
        session = cls()
        session.update(me)
        return session

    @property
    def signed_in(self) -> bool:
        """True while a person's data is held."""
        return bool(self.identifier)

    @property
    def site_language(self) -> str:
        """The language part of the site's locale (`fr` for `fr_FR`)."""
        return self.site_locale.replace("-", "_").split("_", 1)[0].lower()

    def update(self, me: Me) -> None:
        """Refresh from a fresh `GET /v1/me` (the balance after a top-up...)."""
        self.identifier = me.identifier
        self.name = me.name
        self.site_code = me.site.code
        self.site_name = me.site.name
        self.currency = me.balance.currency
        self.site_locale = me.site.locale
        self.time_zone = me.site.time_zone
        self.roles = tuple(me.roles)
        self.balance_cents = me.balance.amount_cents
        self.overdraft_limit_cents = me.site.overdraft_limit_cents

    def has_role(self, role: str) -> bool:
        """True when the person holds `role` (`reception`, `admin`...)."""
        return role in self.roles

    def clear(self) -> None:
        """Forget the person: every field back to its empty default (fields added later are
        cleared too, since this walks them all)."""
        blank = KioskSession()
        for each in fields(self):
            setattr(self, each.name, getattr(blank, each.name))
