"""Online top-ups: a person pays on the provider's checkout page and their account is credited
exactly once.

States: `pending` → `succeeded`, `failed`, `expired` or `cancelled`. Every change is a guarded
update that names the states it may leave, so that duplicate and out-of-order webhooks, page
reloads, reconciliation and a cancel racing a payment all end in one credit at most:

- `pending → failed | expired | cancelled`: only from `pending`;
- `→ succeeded`: from any state but `succeeded`. Money received is never lost: a payment the
  provider reports succeeded is credited even when the service had already marked its top-up
  expired, cancelled or failed (`credited_after_state` records which). The credit (ledger
  entry, `top_up` ticket, notification) is written in the transaction of the state change.

Before the service gives up on a pending payment (expiry, cancel) it asks the provider first,
and credits it if it did succeed. Provider calls never run inside an open database transaction
of the caller: a real provider is a network call, and the sandbox writes its own table, which
on SQLite needs the lock the caller would hold.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import Counter

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kiosk_server.cursors import decode_cursor, encode_cursor
from kiosk_server.db import as_utc
from kiosk_server.models import Account, Device, Site, Ticket, TopUp
from kiosk_server.payments.provider import (
    PaymentProvider,
    PaymentState,
    ProviderUnavailable,
    WebhookEvent,
)
from kiosk_server.problems import ProblemError
from kiosk_server.schemas_top_ups import (
    TopUpOptions,
    TopUpOut,
    TopUpPage,
    TopUpState,
    WebhookOutcome,
)
from kiosk_server.services.auth import SignedInPerson, site_settings
from kiosk_server.services.money import credits
from kiosk_server.services.money.amounts import money, shown
from kiosk_server.services.money.credits import top_up_label

log = logging.getLogger(__name__)

PAYMENT_WINDOW = dt.timedelta(minutes=15)
"""How long a person has to pay once a top-up is started."""
DEFAULT_PAGE = 20
MAX_PAGE = 100
RECONCILE_BATCH = 500


def payments_available(site: Site) -> bool:
    """Online top-ups are on for this site: the sandbox is the only provider shipped, and it is
    on for the demo sites or where `sandbox_payments` is set."""
    return site_settings(site).sandbox_payments


def options(site: Site) -> TopUpOptions:
    """What the top-up screen offers: presets, limits, and whether payments are on."""
    settings = site_settings(site)
    available = payments_available(site)
    return TopUpOptions(
        available=available,
        sandbox=available,
        currency=site.currency,
        presets=[money(cents, site.currency) for cents in settings.top_up_presets_cents],
        min=money(settings.top_up_min_cents, site.currency),
        max=money(settings.top_up_max_cents, site.currency),
    )


# --- reading ---------------------------------------------------------------------------------


async def _outs(session: AsyncSession, rows: list[TopUp]) -> list[TopUpOut]:
    ticket_ids = [row.ticket_id for row in rows if row.ticket_id is not None]
    balances: dict[int, int] = {}
    if ticket_ids:
        found = await session.execute(
            select(Ticket.id, Ticket.balance_after_cents).where(Ticket.id.in_(ticket_ids))
        )
        balances = {int(ticket_id): int(balance) for ticket_id, balance in found.all()}
    outs = []
    for row in rows:
        balance = balances.get(row.ticket_id) if row.ticket_id is not None else None
        state: TopUpState = row.state  # type: ignore[assignment]
        outs.append(
            TopUpOut.model_validate(
                {
                    "id": row.id,
                    "state": state,
                    "amount": money(row.amount_cents, row.currency),
                    "checkout_url": row.checkout_url,
                    "created_at": as_utc(row.created_at),
                    "expires_at": as_utc(row.expires_at),
                    "completed_at": as_utc(row.completed_at) if row.completed_at else None,
                    "credited_after_state": row.credited_after_state,
                    "ticket_id": row.ticket_id,
                    "balance_after": money(balance, row.currency) if balance is not None else None,
                }
            )
        )
    return outs


async def _owned(session: AsyncSession, account: Account, top_up_id: int) -> TopUp:
    top_up = await session.scalar(
        select(TopUp)
        .where(TopUp.id == top_up_id, TopUp.account_id == account.id)
        .execution_options(populate_existing=True)
    )
    if top_up is None:
        raise ProblemError("top-up-unknown", "No such top-up among yours.")
    return top_up


def _is_stale(top_up: TopUp, now: dt.datetime) -> bool:
    return top_up.state == "pending" and as_utc(top_up.expires_at) <= now


async def _final_state(provider: PaymentProvider, provider_ref: str) -> PaymentState:
    """What a pending payment past its expiry ends as: the provider's state, after stopping it
    there if it was still open. A payment the provider cannot stop is marked expired here; if
    its money arrives later, the webhook still credits it."""
    state = await provider.fetch_state(provider_ref)
    if state == "pending":
        state = await provider.cancel(provider_ref)
    return "expired" if state in ("pending", "cancelled") else state


async def _settle_stale(
    session: AsyncSession, provider: PaymentProvider, rows: list[TopUp], now: dt.datetime
) -> None:
    """Reconcile the pending top-ups among `rows` that are past their expiry, in the caller's
    session (committed first: no transaction stays open across the provider's calls)."""
    stale = [row for row in rows if _is_stale(row, now)]
    if not stale:
        return
    await session.commit()
    outcomes = []
    for row in stale:
        try:
            outcomes.append((row.id, await _final_state(provider, row.provider_ref)))
        except ProviderUnavailable:
            log.warning("top-up %s: provider unreachable, reconciliation postponed", row.id)
    for top_up_id, state in outcomes:
        await apply_provider_state(session, top_up_id=top_up_id, state=state, now=now)


async def get_top_up(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    account: Account,
    top_up_id: int,
    now: dt.datetime,
) -> TopUpOut:
    """One of the account's top-ups; a pending one past its expiry is reconciled first."""
    top_up = await _owned(session, account, top_up_id)
    if _is_stale(top_up, now):
        await _settle_stale(session, provider, [top_up], now)
        top_up = await _owned(session, account, top_up_id)
    return (await _outs(session, [top_up]))[0]


async def list_top_ups(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    account: Account,
    cursor: str | None,
    limit: int,
    state: TopUpState | None,
    now: dt.datetime,
) -> TopUpPage:
    """The account's top-ups newest first (only those in `state` when given). Its pending
    top-ups past their expiry are reconciled first, so that the list tells the truth."""
    stale = list(
        (
            await session.scalars(
                select(TopUp).where(
                    TopUp.account_id == account.id,
                    TopUp.state == "pending",
                    TopUp.expires_at <= now,
                )
            )
        ).all()
    )
    await _settle_stale(session, provider, stale, now)
    limit = max(1, min(limit, MAX_PAGE))
    query = select(TopUp).where(TopUp.account_id == account.id)
    if state is not None:
        query = query.where(TopUp.state == state)
    if cursor:
        query = query.where(TopUp.id < decode_cursor(cursor))
    rows = list(
        (
            await session.scalars(
                query.order_by(TopUp.id.desc())
                .limit(limit + 1)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return TopUpPage(
        items=await _outs(session, rows),
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


# --- starting and cancelling -----------------------------------------------------------------


async def start_top_up(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    person: SignedInPerson,
    device: Device,
    amount_cents: int,
    base_url: str,
    now: dt.datetime,
) -> TopUpOut:
    """Create the provider's payment and the pending top-up. The caller's session must hold no
    open transaction (`idempotency.once` commits before the work)."""
    site = person.site
    if not payments_available(site):
        raise ProblemError("payments-unavailable", "Online top-ups are not available on this site.")
    settings = site_settings(site)
    if not settings.top_up_min_cents <= amount_cents <= settings.top_up_max_cents:
        raise ProblemError(
            "top-up-out-of-range",
            f"A top-up is between {shown(settings.top_up_min_cents, site)} and "
            f"{shown(settings.top_up_max_cents, site)}.",
            extensions={
                "min": money(settings.top_up_min_cents, site.currency).model_dump(),
                "max": money(settings.top_up_max_cents, site.currency).model_dump(),
            },
        )
    reference = secrets.token_hex(12)
    expires_at = now + PAYMENT_WINDOW
    try:
        payment = await provider.create_payment(
            payment_id=reference,
            amount_cents=amount_cents,
            currency=site.currency,
            description=f"{site.name} — {top_up_label(site)}",
            expires_at=expires_at,
            base_url=base_url,
            locale=site.locale,
        )
    except ProviderUnavailable:
        raise ProblemError(
            "payment-provider-unavailable", "The payment service cannot be reached. Try again."
        ) from None
    top_up = TopUp(
        site_id=site.id,
        account_id=person.account.id,
        device_id=device.id,
        reference=reference,
        amount_cents=amount_cents,
        currency=site.currency,
        state="pending",
        provider=provider.name,
        provider_ref=payment.provider_ref,
        checkout_url=payment.checkout_url,
        created_at=now,
        expires_at=expires_at,
        completed_at=None,
        credited_after_state=None,
        ledger_entry_id=None,
        ticket_id=None,
    )
    session.add(top_up)
    await session.flush()
    return (await _outs(session, [top_up]))[0]


async def cancel_top_up(
    session: AsyncSession,
    *,
    provider: PaymentProvider,
    account: Account,
    top_up_id: int,
    now: dt.datetime,
) -> TopUpOut:
    """The person gives up a pending top-up. The provider is asked first: a payment that went
    through is credited and the answer says `succeeded`. A top-up no longer pending is answered
    as it is."""
    top_up = await _owned(session, account, top_up_id)
    if top_up.state == "pending":
        await session.commit()  # No transaction open across the provider's call.
        try:
            state = await provider.cancel(top_up.provider_ref)
        except ProviderUnavailable:
            raise ProblemError(
                "payment-provider-unavailable",
                "The payment service cannot be reached. Try again.",
            ) from None
        await apply_provider_state(
            session,
            top_up_id=top_up.id,
            state="cancelled" if state == "pending" else state,
            now=now,
        )
        top_up = await _owned(session, account, top_up_id)
    return (await _outs(session, [top_up]))[0]


# --- state changes ---------------------------------------------------------------------------


async def apply_provider_state(
    session: AsyncSession, *, top_up_id: int, state: PaymentState, now: dt.datetime
) -> bool:
    """Move the top-up to the provider's `state` if that transition is allowed, in the caller's
    transaction; True when something changed. `succeeded` credits the account once."""
    if state == "succeeded":
        return await credits.credit_top_up(session, top_up_id=top_up_id, now=now)
    if state == "pending":
        return False
    result = await session.execute(
        update(TopUp)
        .where(TopUp.id == top_up_id, TopUp.state == "pending")
        .values(state=state, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def on_webhook(
    session: AsyncSession, *, provider: PaymentProvider, event: WebhookEvent, now: dt.datetime
) -> WebhookOutcome:
    """Apply a verified webhook: `applied`, `unchanged` (a duplicate, or an event the state has
    moved past) or `unknown` (no such payment here: nothing changes, and the provider is told
    it was received so that it stops retrying)."""
    top_up_id = await session.scalar(
        select(TopUp.id).where(
            TopUp.provider == provider.name, TopUp.provider_ref == event.provider_ref
        )
    )
    if top_up_id is None:
        log.warning("%s webhook %s for an unknown payment", provider.name, event.event_id)
        return "unknown"
    changed = await apply_provider_state(session, top_up_id=top_up_id, state=event.state, now=now)
    log.info(
        "%s webhook %s: top-up %s %s (%s)",
        provider.name,
        event.event_id,
        top_up_id,
        "moved" if changed else "unchanged",
        event.state,
    )
    return "applied" if changed else "unchanged"


async def expire_stale_top_ups(
    session_factory: async_sessionmaker[AsyncSession],
    provider: PaymentProvider,
    now: dt.datetime,
) -> dict[str, int]:
    """For every pending top-up past its expiry: ask the provider, then credit it (it was paid)
    or end it (expired, failed). Returns how many ended in each state. Each top-up is settled
    in a transaction of its own, with no transaction open across the provider's calls."""
    async with session_factory() as session:
        stale = (
            await session.execute(
                select(TopUp.id, TopUp.provider_ref)
                .where(
                    TopUp.state == "pending",
                    TopUp.expires_at <= now,
                    TopUp.provider == provider.name,
                )
                .order_by(TopUp.id)
                .limit(RECONCILE_BATCH)
            )
        ).all()
        await session.commit()
    counts: Counter[str] = Counter()
    for top_up_id, provider_ref in stale:
        try:
            state = await _final_state(provider, provider_ref)
        except ProviderUnavailable:
            log.warning("top-up %s: provider unreachable, reconciliation postponed", top_up_id)
            continue
        async with session_factory() as session, session.begin():
            if await apply_provider_state(session, top_up_id=top_up_id, state=state, now=now):
                counts[state] += 1
    return dict(counts)
