"""Builds test data directly in the service's database, as an admin command would."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.clock import Clock
from kiosk_server.models import (
    Account,
    Device,
    DeviceSite,
    LedgerEntry,
    OutboxMessage,
    Site,
    Ticket,
    TicketLine,
)
from kiosk_server.security import Argon2, new_token, sha256_hex

T = TypeVar("T")

CODE_PATTERN = re.compile(r"\b(\d{6})\b")


@dataclass(frozen=True)
class EnrolledDevice:
    """A device in the database and the key it was given (shown once, at enrolment)."""

    id: int
    key: str


class Factory:
    """Creates rows in their own committed transactions."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, clock: Clock, argon2: Argon2
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.argon2 = argon2

    async def site(
        self,
        code: str = "CANTINE",
        *,
        name: str = "Cantine Lumière",
        currency: str = "EUR",
        locale: str = "fr_FR",
        time_zone: str = "Europe/Paris",
        settings: dict[str, Any] | None = None,
    ) -> Site:
        site = Site(
            code=code.upper(),
            name=name,
            currency=currency,
            locale=locale,
            time_zone=time_zone,
            settings=settings or {},
            created_at=self.clock.now(),
        )
        return await self._add(site)

    async def account(
        self,
        site: Site,
        identifier: str,
        *,
        name: str = "Jeanne Martin",
        email: str | None = "jeanne@example.com",
        phone: str | None = None,
        pin: str | None = None,
        status: str | None = None,
        roles: Sequence[str] = (),
        locked: bool = False,
    ) -> Account:
        """A pending account, or an active one when `pin` is given."""
        account = Account(
            site_id=site.id,
            identifier=identifier,
            name=name,
            email=email,
            phone=phone,
            roles=list(roles),
            status=status or ("active" if pin is not None else "pending"),
            pin_hash=await self.argon2.hash(pin) if pin is not None else None,
            locked_at=self.clock.now() if locked else None,
            created_at=self.clock.now(),
        )
        return await self._add(account)

    async def ledger_entry(
        self, account: Account, amount_cents: int, *, kind: str = "top_up", currency: str = "EUR"
    ) -> LedgerEntry:
        """An entry written as an admin's import would, keeping the running balance equal to
        the sum of entries (no overdraft check: use `services.money.ledger.post` for that)."""
        async with self.session_factory() as session:
            entry = LedgerEntry(
                site_id=account.site_id,
                account_id=account.id,
                kind=kind,
                amount_cents=amount_cents,
                currency=currency,
                reason="test",
                created_at=self.clock.now(),
            )
            session.add(entry)
            new_balance = Account.balance_cents + amount_cents
            await session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(
                    balance_cents=new_balance,
                    # A test may set up a balance below zero: the floor follows it.
                    overdraft_limit_cents=case(
                        (new_balance + Account.overdraft_limit_cents < 0, -new_balance),
                        else_=Account.overdraft_limit_cents,
                    ),
                )
            )
            await session.commit()
            return entry

    async def ticket_history(
        self,
        account: Account,
        count: int,
        *,
        start: dt.datetime,
        every: dt.timedelta,
        place: str = "Self hall",
        currency: str = "EUR",
    ) -> list[int]:
        """`count` tickets for `account`, oldest first from `start`, one each `every`: every
        fifth a 50.00 top-up ("Rechargement"), the others a purchase of a 8.50 dish (VAT 10 %)
        and a 1.20 coffee (VAT 5.5 %); ledger entries and the running balance kept in step, as
        the till and the top-ups would leave them. Returns the ticket ids, oldest first."""
        async with self.session_factory() as session:
            balance = int(
                await session.scalar(select(Account.balance_cents).where(Account.id == account.id))
                or 0
            )
            entries: list[LedgerEntry] = []
            shapes: list[tuple[str, int, list[tuple[str, int, int, int]]]] = []
            for index in range(count):
                if index % 5 == 0:
                    lines = [("Rechargement", 1, 5000, 0)]
                    kind, amount = "top_up", 5000
                else:
                    lines = [("Plat du jour", 1, 850, 1000), ("Café", 1, 120, 550)]
                    kind, amount = "purchase", -970
                shapes.append((kind, amount, lines))
                entries.append(
                    LedgerEntry(
                        site_id=account.site_id,
                        account_id=account.id,
                        kind=kind,
                        amount_cents=amount,
                        currency=currency,
                        reason="test history",
                        created_at=start + every * index,
                    )
                )
            session.add_all(entries)
            await session.flush()
            tickets: list[Ticket] = []
            for index, (entry, (kind, amount, lines)) in enumerate(
                zip(entries, shapes, strict=True)
            ):
                balance += amount
                ticket = Ticket(
                    site_id=account.site_id,
                    account_id=account.id,
                    device_id=None,
                    ledger_entry_id=entry.id,
                    kind=kind,
                    place=place,
                    total_cents=abs(amount),
                    amount_cents=amount,
                    balance_after_cents=balance,
                    currency=currency,
                    created_at=start + every * index,
                )
                ticket.lines = [
                    TicketLine(
                        position=position,
                        item=item,
                        quantity=quantity,
                        unit_price_cents=price,
                        vat_rate_bp=rate,
                        line_total_cents=quantity * price,
                    )
                    for position, (item, quantity, price, rate) in enumerate(lines)
                ]
                tickets.append(ticket)
            session.add_all(tickets)
            await session.execute(
                update(Account).where(Account.id == account.id).values(balance_cents=balance)
            )
            await session.commit()
            return [ticket.id for ticket in tickets]

    async def device(
        self,
        sites: Iterable[Site],
        *,
        role: str = "terminal",
        name: str = "Borne hall",
        revoked: bool = False,
        roll_call: bool = False,
    ) -> EnrolledDevice:
        key = new_token()
        async with self.session_factory() as session:
            device = Device(
                name=name,
                role=role,
                key_hash=sha256_hex(key),
                created_at=self.clock.now(),
                revoked_at=self.clock.now() if revoked else None,
                roll_call=roll_call,
            )
            session.add(device)
            await session.flush()
            session.add_all(DeviceSite(device_id=device.id, site_id=site.id) for site in sites)
            await session.commit()
            return EnrolledDevice(id=device.id, key=key)

    async def outbox(self, recipient: str | None = None) -> list[OutboxMessage]:
        """Messages in the outbox, oldest first."""
        async with self.session_factory() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if recipient is not None:
                query = query.where(OutboxMessage.recipient == recipient)
            return list((await session.scalars(query)).all())

    async def last_code(self, recipient: str) -> str:
        """The code in the newest message to `recipient`, read as a person reads their mail."""
        messages = await self.outbox(recipient)
        assert messages, f"no message to {recipient}"
        match = CODE_PATTERN.search(messages[-1].body)
        assert match, messages[-1].body
        return match.group(1)

    async def get(self, model: type[Any], ident: int) -> Any:
        async with self.session_factory() as session:
            return await session.get(model, ident)

    async def _add(self, row: T) -> T:
        async with self.session_factory() as session:
            session.add(row)
            await session.commit()
            return row
