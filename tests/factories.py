"""Builds test data directly in the service's database, as an admin command would."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.clock import Clock
from kiosk_server.models import Account, Device, DeviceSite, LedgerEntry, OutboxMessage, Site
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
        entry = LedgerEntry(
            site_id=account.site_id,
            account_id=account.id,
            kind=kind,
            amount_cents=amount_cents,
            currency=currency,
            reason="test",
            created_at=self.clock.now(),
        )
        return await self._add(entry)

    async def device(
        self,
        sites: Iterable[Site],
        *,
        role: str = "terminal",
        name: str = "Borne hall",
        revoked: bool = False,
    ) -> EnrolledDevice:
        key = new_token()
        async with self.session_factory() as session:
            device = Device(
                name=name,
                role=role,
                key_hash=sha256_hex(key),
                created_at=self.clock.now(),
                revoked_at=self.clock.now() if revoked else None,
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
