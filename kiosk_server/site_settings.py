"""A site's policies. Stored as JSON in `sites.settings`, set by `kiosk-server site set FILE.toml`;
a key that is missing takes the default below, so new policies need no migration."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
    smtp: SmtpRelay | None = None
