"""A site's policies. Stored as JSON in `sites.settings`, set by `kiosk-server site set FILE.toml`;
a key that is missing takes the default below, so new policies need no migration."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SmtpRelay(BaseModel):
    """The site's mail relay. Without one, email stays in the outbox (the demo's mailbox)."""

    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = 25
    sender: str = "kiosk@localhost"
    """The From address of every email the site sends."""
    starttls: bool = False
    username: str | None = None
    password: str | None = None


class SiteSettings(BaseModel):
    """Policies of one site. Numbers are the issue's defaults."""

    model_config = ConfigDict(extra="forbid")

    pin_pause_failures: int = Field(5, ge=1)
    """Wrong PINs on one terminal before the account is paused on that terminal."""
    pin_pause_minutes: int = Field(15, ge=1)
    """How long such a pause lasts."""
    pin_lock_failures: int = Field(10, ge=1)
    """Wrong PINs across terminals (since the last success) before the account is locked until
    a verification code unlocks it."""
    pin_failure_window_minutes: int = Field(24 * 60, ge=1)
    """Failures older than this are forgotten when counting towards a lock."""
    verification_code_minutes: int = Field(10, ge=1)
    """How long a verification code is valid."""
    verification_max_attempts: int = Field(5, ge=1)
    """Tries per code."""
    verification_max_sends: int = Field(3, ge=1)
    """Codes sent per account within `verification_send_window_minutes`."""
    verification_send_window_minutes: int = Field(15, ge=1)
    pin_setup_minutes: int = Field(10, ge=1)
    """How long the person has to choose a PIN once the code matched."""
    terminal_throttle_failures: int = Field(20, ge=1)
    """Failed PINs and unknown identifiers on one terminal, across accounts, within
    `terminal_throttle_window_minutes`, before it slows down."""
    terminal_throttle_window_minutes: int = Field(15, ge=1)
    session_minutes: int = Field(30, ge=1)
    """A person's session ends after this long at the latest (the terminal ends it sooner, when
    the person signs out or leaves)."""
    badge_step_seconds: int = Field(30, ge=10, le=300)
    """How long one badge token is the current one. The service accepts a token one step
    either side of now, so a screenshot works for at most three steps."""
    smtp: SmtpRelay | None = None
    walk_in_wait_seconds: int = Field(180, ge=1, le=3600)
    """How long a visitor without an invitation waits at the kiosk for their host's answer
    before the kiosk sends them to the reception desk."""
    walk_in_host_search: bool = True
    """Whether a visitor without an invitation may look their host up by typing part of the
    name (three letters at least; five names at most, names only). Off: the host's full name
    must be typed exactly as it is stored."""
    overdraft_limit_cents: int = Field(0, ge=0)
    """How far below zero a balance may go, in cents (0: not at all). Credits are always taken;
    only debits are refused past it."""
    top_up_min_cents: int = Field(500, ge=1)
    """The smallest top-up (online or cash at reception), in cents."""
    top_up_max_cents: int = Field(30000, ge=1)
    """The largest single top-up, in cents."""
    top_up_presets_cents: list[int] = Field(default_factory=lambda: [1000, 2000, 5000])
    """Amounts the terminal offers to pick, in cents (each within the minimum and maximum)."""
    sandbox_payments: bool = False
    """Online top-ups through the sandbox payment provider (its test checkout page, no real
    money). On for the demo sites; off elsewhere unless turned on explicitly."""
    order_cancel_cutoff_minutes: int | None = Field(None, ge=0)
    """When set, a paid order whose items have an ordering deadline can be cancelled only until
    this many minutes before that deadline (and, always, only until preparation starts)."""

    visit_approval_required: bool = True
    """Whether a submitted visit request waits for reception's approval (False: approved, and
    its invitations sent, on submission)."""
    invitation_margin_minutes: int = Field(30, ge=0, le=24 * 60)
    """How early before and how late after a visit's arrival window its invitation checks in."""
    visit_rules: dict[str, str] = Field(
        default_factory=lambda: {
            "fr": "Portez votre badge visiteur de façon visible, restez avec votre hôte, et "
            "suivez les consignes d'évacuation du personnel en cas d'alarme.",
            "en": "Wear your visitor badge where it can be seen, stay with your host, and follow "
            "the staff's evacuation instructions if the alarm sounds.",
        }
    )
    """The site's rules a visitor accepts at check-in, per language (`fr`, `en`...)."""
    auto_checkout_time: dt.time | None = None
    """Visitors still on site are checked out at this local time of their arrival's day (the
    next day's, for an arrival after it); None: not by the hour."""
    auto_checkout_after_minutes: int | None = Field(None, ge=1, le=24 * 60)
    """Visitors are checked out this long after their arrival; None: not by duration. With both,
    the earlier applies."""
    checkout_reminder_minutes: int = Field(15, ge=0, le=24 * 60)
    """How long before an automatic check-out the host is reminded (0: no reminder)."""
    visitor_photo: Literal["off", "optional", "required"] = "off"
    """Whether the visitor kiosk takes a still of the visitor at check-in: `optional` (the
    visitor may decline), `required`, or `off` (none taken, none kept)."""
    site_closing_time: dt.time = dt.time(20, 0)
    """Local time the site closes: a visitor not checked out leaves the roll call then, and an
    invitation checks out until then."""
    visitor_retention_days: int = Field(30, ge=0)
    """Days after a visit's last day before `kiosk-server purge` deletes its visitors' personal
    data."""

    @model_validator(mode="after")
    def _top_up_limits_agree(self) -> SiteSettings:
        if self.top_up_min_cents > self.top_up_max_cents:
            raise ValueError("top_up_min_cents is above top_up_max_cents")
        for preset in self.top_up_presets_cents:
            if not self.top_up_min_cents <= preset <= self.top_up_max_cents:
                raise ValueError(f"top-up preset {preset} is outside the minimum and maximum")
        return self
