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
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kiosk_server.tokens import new_badge_secret, new_connect_secret

# Stable constraint names, so that Alembic migrations name the same things on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


Key = BigInteger().with_variant(Integer, "sqlite")
"""Ids and the columns that refer to them: 64-bit (`MAX_ID` in `kiosk_server.fields`). SQLite's
INTEGER PRIMARY KEY is already 64-bit (and must be spelt INTEGER to be the row id)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - read by SQLAlchemy as a class attribute
        # Every `Mapped[int]` without a type of its own is an id or refers to one.
        int: Key,
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
    help_contact: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    """The support contact by language (`{"fr": "Accueil : poste 1234"}`), from the help file."""
    connect_secret: Mapped[bytes] = mapped_column(LargeBinary, default=new_connect_secret)
    """Signs the site's welcome-letter connect QRs; rotating it voids every letter of the site.
    Never leaves the service."""


class Account(Base):
    """A person on a site. Pending until activated with a verification code and a chosen PIN."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("site_id", "identifier"),
        # The last line of defence under the ledger's guarded update (`services.money.ledger`).
        CheckConstraint("balance_cents + overdraft_limit_cents >= 0", name="balance_floor"),
        CheckConstraint("overdraft_limit_cents >= 0", name="overdraft_limit_nonnegative"),
    )

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
    badge_secret: Mapped[bytes] = mapped_column(LargeBinary, default=new_badge_secret)
    """Signs the account's rotating badge tokens; rotating it voids every token made with it.
    Never leaves the service."""
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    """The person's own settings (`kiosk_server.preferences.Preferences`): language, low-balance
    threshold, and which events reach them by email or SMS."""
    connect_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped to revoke the account's connect QR: letters carry the version they were made for."""
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Running balance: always the sum of the account's ledger entries, kept by
    `services.money.ledger.post` (the only code that moves money)."""
    overdraft_limit_cents: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The site's overdraft limit as of the account's last debit: the floor the CHECK constraint
    holds the balance to (`balance_cents >= -overdraft_limit_cents`)."""

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
    roll_call: Mapped[bool] = mapped_column(default=False, server_default=false())
    """The device keeps the roll call of its sites without anyone signed in (a reception
    terminal, the roll-call account of an SSH host): `GET /v1/device/roll-call`."""

    sites: Mapped[list[Site]] = relationship(secondary="device_sites", lazy="raise")


class DeviceSite(Base):
    __tablename__ = "device_sites"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class PersonSession(Base):
    """A signed-in person on one device. The token is random; only its SHA-256 is stored."""

    __tablename__ = "person_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
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
    """`activate`, `reset_pin`, `change_email` or `change_phone`."""
    code_hash: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    pin_setup_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 of the one-time token that lets the person choose a PIN once the code matched."""
    pin_setup_expires_at: Mapped[dt.datetime | None]
    new_contact: Mapped[str | None] = mapped_column(String(254))
    """For `change_email` and `change_phone`: the address the code was sent to, which becomes
    the account's once the code is confirmed."""


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


class BadgeTokenUse(Base):
    """A badge token spent on a payment. One row per account and time step: inserting is how a
    token is consumed, and the unique constraint is what makes one token pay once, on SQLite and
    PostgreSQL alike, whatever the concurrency."""

    __tablename__ = "badge_token_uses"
    __table_args__ = (UniqueConstraint("account_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(BigInteger)
    """The time step the token was made for (see `kiosk_server.tokens.badge`)."""
    used_at: Mapped[dt.datetime]
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    """The till that took the payment."""


class IdempotencyKey(Base):
    """A money request's idempotency key: claimed before the work, with the first answer stored
    in the work's own transaction (`services.idempotency`). Kept a day."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("scope", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    """Who may reuse the key: `device:<id>` (a till) or `device:<id>:account:<id>` (a person on a
    terminal). Never NULL, so the unique constraint holds on every database."""
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of method, path and canonical JSON body."""
    state: Mapped[str] = mapped_column(String(16))
    """`in_progress` or `done`."""
    owner: Mapped[str] = mapped_column(String(32))
    """Random per claim: only the request holding the claim may store the answer."""
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime]
    """An `in_progress` claim past this time was left by a crash and may be taken over."""


class Ticket(Base):
    """What a person sees in their history for one ledger entry: a purchase at a till, a top-up,
    a refund or an adjustment, with its lines."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    ledger_entry_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_entries.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    """`purchase`, `top_up`, `refund` or `adjustment` (as its ledger entry)."""
    place: Mapped[str] = mapped_column(String(100))
    """Where it happened, as the person knows it (the till's or terminal's name)."""
    total_cents: Mapped[int] = mapped_column(BigInteger)
    """The ticket's total as printed: what was paid, credited or adjusted."""
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    """The signed movement on the balance (a purchase is negative)."""
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime]

    lines: Mapped[list[TicketLine]] = relationship(
        lazy="raise", order_by="TicketLine.position", cascade="all, delete-orphan"
    )


class TicketLine(Base):
    """One line of a ticket. Prices include VAT; the rate is in basis points (5.5 % = 550)."""

    __tablename__ = "ticket_lines"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    line_total_cents: Mapped[int] = mapped_column(BigInteger)


class HelpEntry(Base):
    """A question and its answer, in each language the site gives it (`texts`:
    `{"fr": {"question": ..., "answer": ...}}`), loaded from the site's help file."""

    __tablename__ = "help_entries"
    __table_args__ = (Index("ix_help_entries_site_id_position", "site_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    """Display order, as in the file."""
    topic: Mapped[str] = mapped_column(String(32))
    """What it is about (`sign-in`, `pin`, `top-up`...), for the terminal to group by."""
    texts: Mapped[dict[str, Any]]


class Notification(Base):
    """Something the service tells a person on their home screen (order ready, top-up credited,
    visitor arrived...). Those that must reach a person who left the kiosk also go through the
    outbox (`services.notifications.notify`)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    """`order_ready`, `top_up_credited`, `visitor_arrived`..."""
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    """The facts `title` and `body` are made of (`pickup_number`, `visitor_name`...): a terminal
    words the notification in its own language from `kind` and these (the service writes
    `title` and `body` in the site's, for the email)."""
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]


class CatalogueItem(Base):
    """A product or service a site sells through orders, loaded by `kiosk-server catalogue load`.
    Times of day are in the site's time zone; prices include VAT."""

    __tablename__ = "catalogue_items"
    __table_args__ = (
        UniqueConstraint("site_id", "code"),
        # The last line of defence under the guarded stock update (`services.orders`).
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    """`product` or `service`."""
    price_cents: Mapped[int] = mapped_column(BigInteger)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    allergens: Mapped[list[str]] = mapped_column(default=list)
    """Codes of the 14 EU allergens (`services.catalogue.ALLERGENS`)."""
    available_from: Mapped[dt.time | None] = mapped_column(Time)
    available_until: Mapped[dt.time | None] = mapped_column(Time)
    days: Mapped[list[int]] = mapped_column(JSON, default=list)
    """ISO weekdays (1 = Monday) the item is sold on; empty: every day."""
    stock: Mapped[int | None] = mapped_column(Integer)
    """Units left; NULL: unlimited."""
    order_deadline: Mapped[dt.time | None] = mapped_column(Time)
    """Orders for today close at this time of day (e.g. 10:30 for today's lunch)."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Display order, as in the loaded file."""
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    """By language code (`en`): `{"name": ..., "description": ...}`, what a terminal in that
    language shows instead of `name` and `description` (the site's language)."""


class PickupCounter(Base):
    """The last pickup number given on a site on a (local) day: one guarded upsert per order."""

    __tablename__ = "pickup_counters"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Order(Base):
    """A person's order, paid from their balance. Its state only changes through the checked
    transitions of `services.orders` (created → paid → in_preparation → ready → collected, or
    cancelled and refunded while paid)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_account_id_id", "account_id", "id"),
        Index("ix_orders_site_id_day_state", "site_id", "day", "state"),
        # A ticket names the order that made it (`services.tickets`).
        Index("ix_orders_ticket_id", "ticket_id"),
        Index("ix_orders_refund_ticket_id", "refund_ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16))
    """`created`, `paid`, `in_preparation`, `ready`, `collected` or `cancelled`."""
    day: Mapped[dt.date] = mapped_column(Date)
    """The site-local day the order was placed on (pickup numbers restart each day)."""
    pickup_number: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    payment_entry_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ledger_entries.id", ondelete="SET NULL")
    )
    refund_entry_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ledger_entries.id", ondelete="SET NULL")
    )
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="SET NULL")
    )
    refund_ticket_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="SET NULL")
    )

    lines: Mapped[list[OrderLine]] = relationship(
        lazy="raise", order_by="OrderLine.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        lazy="raise", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    """One line of an order: a snapshot of the item as it was sold."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogue_items.id", ondelete="SET NULL")
    )
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    line_total_cents: Mapped[int] = mapped_column(BigInteger)


class OrderEvent(Base):
    """One step of an order's history: the state it reached, when, and who moved it."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime]
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    """The person who moved it (the customer placing or cancelling), if any."""


class Visit(Base):
    """A person's guests expected on a site: one or more visitors, a day or a range of days and
    an arrival window (times in the site's time zone). Its `state` only moves through
    `services.visits` transitions."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_site_id_first_day", "site_id", "first_day"),
        Index("ix_visits_host_account_id", "host_account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    host_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    """`draft`, `requested`, `approved`, `rejected`, `cancelled`, `checked_in`, `checked_out` or
    `expired`."""
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    arrival_from: Mapped[dt.time] = mapped_column(Time)
    arrival_until: Mapped[dt.time] = mapped_column(Time)
    reason: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(100), default="")
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    """Asked for at the kiosk by a visitor without an invitation."""
    rejection_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class VisitVisitor(Base):
    """One visitor of a visit, with their one invitation (token nonce and short code). Personal
    fields are emptied by the retention purge (`anonymised_at`); the row stays."""

    __tablename__ = "visit_visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    invitation_nonce: Mapped[int | None] = mapped_column(BigInteger)
    """Random, carried by the invitation token: a token made for another nonce is void."""
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """HMAC-SHA256 (hex) of the short code under the site's secret, so a typed code can be found;
    the code itself is only in the invitation message."""
    invitation_sent_at: Mapped[dt.datetime | None]
    rules_accepted_at: Mapped[dt.datetime | None]
    rules_language: Mapped[str | None] = mapped_column(String(8))
    checked_in_at: Mapped[dt.datetime | None]
    checked_out_at: Mapped[dt.datetime | None]
    checkout_reminded_at: Mapped[dt.datetime | None]
    """When the host was reminded of the visitor's automatic check-out (once)."""
    watch_entry_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    """The site's watchlist entry the visitor's name matched (at invitation or check-in); no
    foreign key (SQLite cannot add one to this table): removing an entry clears it."""
    held_at: Mapped[dt.datetime | None]
    """When a check-in was held for reception's approval (a watchlist match); null once done."""
    released_at: Mapped[dt.datetime | None]
    """When reception let a matched visitor in: later check-ins of this visit are not held."""
    refused_at: Mapped[dt.datetime | None]
    """When reception refused a matched visitor entry: their invitation checks nobody in."""
    anonymised_at: Mapped[dt.datetime | None]


class VisitEvent(Base):
    """One step of a visit's history (what the host's detail view shows)."""

    __tablename__ = "visit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    visitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("visit_visitors.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(24))
    """`submitted`, `approved`, `rejected`, `invitation_sent`, `checked_in`, `checked_out`,
    `cancelled`, `edited`, `expired`."""
    at: Mapped[dt.datetime]
    by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(200), default="")


class AuditLogEntry(Base):
    """Who did what on a site (check-ins, check-outs, approvals, rejections, deletions). Details
    that name a visitor are emptied by the retention purge."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_site_id_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]
    actor_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    actor_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(32))
    """`visit.approved`, `visitor.checked_in`...: `<subject kind>.<what happened>`."""
    subject: Mapped[str] = mapped_column(String(64))
    """`visit:<id>` or `visitor:<id>`."""
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TopUp(Base):
    """A person's online top-up, paid through a payment provider. Its state only changes through
    the checked transitions of `services.top_ups` (pending → succeeded, failed, expired or
    cancelled; a payment the provider reports succeeded is credited even after the service gave
    up on it, and `credited_after_state` then says so)."""

    __tablename__ = "top_ups"
    __table_args__ = (
        Index("ix_top_ups_account_id_id", "account_id", "id"),
        Index("ix_top_ups_state_expires_at", "state", "expires_at"),
        Index("ix_top_ups_ticket_id", "ticket_id"),
        UniqueConstraint("provider", "provider_ref"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    """The service's own random reference, given to the provider as the payment's id."""
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))
    """`pending`, `succeeded`, `failed`, `expired` or `cancelled`."""
    provider: Mapped[str] = mapped_column(String(16))
    """The payment provider's name (`sandbox`)."""
    provider_ref: Mapped[str] = mapped_column(String(64))
    """The provider's id of the payment (what its webhooks name)."""
    checkout_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    credited_after_state: Mapped[str | None] = mapped_column(String(16))
    """When the money arrived after the service had marked the top-up `expired`, `cancelled` or
    `failed`: that state (the top-up is credited all the same)."""
    ledger_entry_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("ledger_entries.id", ondelete="SET NULL"), unique=True
    )
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="SET NULL")
    )


class SandboxPayment(Base):
    """A payment held by the sandbox payment provider. The sandbox plays the external provider's
    part, so its payments live apart from the service's `top_ups` and are only reached through
    the provider interface, the checkout page and the webhooks."""

    __tablename__ = "sandbox_payments"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Random and unguessable: it is in the checkout page's URL, which lets anyone pay."""
    payment_id: Mapped[str] = mapped_column(String(64))
    """The merchant's own reference of the payment."""
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    """`pending`, `succeeded`, `failed`, `cancelled` or `expired`."""
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]


class Evacuation(Base):
    """An evacuation started at a reception desk: who was on site then (`EvacuationPerson`),
    marked safe at the muster point as they arrive, until reception closes it. At most one is
    open per site."""

    __tablename__ = "evacuations"
    __table_args__ = (
        Index(
            "ux_evacuations_open_site",
            "site_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime]
    started_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    closed_at: Mapped[dt.datetime | None]
    closed_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )


class EvacuationPerson(Base):
    """A visitor on site when the evacuation started. Names are read from the visitor's record,
    so that the retention purge, which empties those, covers evacuations too."""

    __tablename__ = "evacuation_people"

    evacuation_id: Mapped[int] = mapped_column(
        ForeignKey("evacuations.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("visit_visitors.id", ondelete="CASCADE"), primary_key=True
    )
    safe_at: Mapped[dt.datetime | None]
    marked_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )


class WatchlistEntry(Base):
    """A person a site wants reception to look at before they come in: a visitor whose name
    matches (case, accents, spaces, punctuation and word order folded) is held at check-in for
    reception's approval, and the site's security staff are told. Never shown to visitors."""

    __tablename__ = "watchlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None]
    """For reception to compare with an identity document (visitors give none)."""
    reason: Mapped[str] = mapped_column(String(500))
    added_by: Mapped[str] = mapped_column(String(200))
    """Who added it: a reception person's name, or what an admin command was told."""
    added_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime]


class VisitorPhoto(Base):
    """The still a visitor's kiosk took at check-in, where the site asks for one (a JPEG of a
    few kilobytes): shown to the host and the desk, printed on the badge, deleted by the
    retention purge with the rest of the visitor's data."""

    __tablename__ = "visitor_photos"

    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("visit_visitors.id", ondelete="CASCADE"), primary_key=True
    )
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[dt.datetime]
