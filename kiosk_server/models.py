"""The service's tables, as SQLAlchemy 2 declarative models.

Models hold data and relationships only: no HTTP and no domain rules (those live in
`kiosk_server.services`). Every table that belongs to a site carries `site_id`, so that every
query can be scoped to the site the request is for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so that Alembic migrations name the same things on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Site(Base):
    """A tenant ("solution"): everything else belongs to exactly one site."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    """The solution code people type at first connection (stored upper-case)."""
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    locale: Mapped[str] = mapped_column(String(16), default="fr_FR")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Site policies (lockout numbers, code validity, SMTP relay...), validated by
    `kiosk_server.site_settings.SiteSettings`; missing keys take that model's defaults."""
    created_at: Mapped[dt.datetime]


class Account(Base):
    """A person on a site. Pending until activated with a verification code and a chosen PIN."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("site_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(64))
    """What the person types to say who they are (employee number, badge number...)."""
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    roles: Mapped[list[str]] = mapped_column(default=list)
    """Besides `member`, which everyone is: `reception`, `admin`."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """`pending` (not yet activated), `active`, or `blocked` (by an admin)."""
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    locked_at: Mapped[dt.datetime | None]
    """Set after too many failed PINs across terminals; cleared by a verification code."""
    created_at: Mapped[dt.datetime]

    site: Mapped[Site] = relationship(lazy="raise")


class Device(Base):
    """An enrolled device (terminal, till, door, kitchen screen) and the sites it serves."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    """`terminal`, `till`, `door` or `kitchen`."""
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 (hex) of the device key; the key itself is shown once, at enrolment."""
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    sites: Mapped[list[Site]] = relationship(secondary="device_sites", lazy="raise")


class DeviceSite(Base):
    __tablename__ = "device_sites"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)


class PersonSession(Base):
    """A signed-in person on one device. The token is random; only its SHA-256 is stored."""

    __tablename__ = "person_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class PinFailure(Base):
    """One wrong PIN, counted per terminal (pause) and across terminals (lock)."""

    __tablename__ = "pin_failures"
    __table_args__ = (Index("ix_pin_failures_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]


class DeviceFailure(Base):
    """A failed PIN or an unknown identifier seen by a device, whatever the account: a terminal
    that sees many of them slows down (against one PIN tried on many accounts)."""

    __tablename__ = "device_failures"
    __table_args__ = (Index("ix_device_failures_device_at", "device_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """`pin` or `identifier`."""
    at: Mapped[dt.datetime]


class VerificationCode(Base):
    """A 6-digit code sent to an account's contact, to activate it or to choose a new PIN."""

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(16))
    """`activate` or `reset_pin`."""
    code_hash: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    pin_setup_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 of the one-time token that lets the person choose a PIN once the code matched."""
    pin_setup_expires_at: Mapped[dt.datetime | None]


class OutboxMessage(Base):
    """A message to a person (email or SMS). Delivered messages are purged; undelivered ones
    stay readable (the embedded demo's mailbox, `kiosk-server outbox`)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_site_created", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8))
    """`email` or `sms`."""
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """File name → base64 content, for later messages that carry a QR image."""
    created_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


class LedgerEntry(Base):
    """One immutable movement of money on an account, in integer cents. A balance is the sum of
    an account's entries. (The money issue adds top-ups, purchases and refunds on top of this.)"""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    """`top_up`, `purchase`, `refund` or `adjustment`."""
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime]

    __table_args__ = (
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
        CheckConstraint("amount_cents <> 0", name="nonzero"),
    )
