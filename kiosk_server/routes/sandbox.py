"""The sandbox payment provider's checkout page (HTML, outside `/v1`): what the person's phone
opens from the terminal's QR. Paying or declining changes the sandbox's payment, then the
sandbox tells the service with a signed webhook, over HTTP, after the answer is sent."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select, update

from kiosk_server.deps import ClockDep, DbSession
from kiosk_server.models import SandboxPayment, Site, TopUp
from kiosk_server.payments import provider_for, sender_for
from kiosk_server.payments.checkout_page import render_checkout, render_unknown
from kiosk_server.payments.provider import PaymentState
from kiosk_server.payments.sandbox import SandboxProvider, make_webhook, settle_expiry
from kiosk_server.routes.top_ups import public_base_url

router = APIRouter(prefix="/sandbox/checkout", tags=["sandbox"], include_in_schema=False)

Ref = Annotated[str, Path(min_length=1, max_length=64)]

# The page is a person's browser's: it must not be cached, framed or sent elsewhere.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


@router.get("/{ref}", response_class=HTMLResponse)
async def checkout_page(ref: Ref, session: DbSession, clock: ClockDep) -> HTMLResponse:
    """The checkout page. Showing it changes nothing, however often it is reloaded."""
    payment = await session.get(SandboxPayment, ref)
    if payment is None:
        return HTMLResponse(render_unknown(), status_code=404, headers=_PAGE_HEADERS)
    # The time a person reads is the site's, as everywhere else.
    time_zone = await session.scalar(
        select(Site.time_zone)
        .join(TopUp, TopUp.site_id == Site.id)
        .where(TopUp.provider == "sandbox", TopUp.provider_ref == ref)
    )
    zone: dt.tzinfo = ZoneInfo(time_zone) if time_zone else dt.UTC
    return HTMLResponse(render_checkout(payment, clock.now(), zone), headers=_PAGE_HEADERS)


async def _decide(
    request: Request,
    session: DbSession,
    background: BackgroundTasks,
    now: dt.datetime,
    ref: str,
    outcome: PaymentState,
) -> RedirectResponse | HTMLResponse:
    payment = await session.get(SandboxPayment, ref)
    if payment is None:
        return HTMLResponse(render_unknown(), status_code=404, headers=_PAGE_HEADERS)
    # Only a pending, unexpired payment can be decided, once: a second click, a resubmitted
    # form or a race between two tabs matches nothing here and sends no second webhook.
    decided = await session.scalar(
        update(SandboxPayment)
        .where(
            SandboxPayment.ref == ref,
            SandboxPayment.state == "pending",
            SandboxPayment.expires_at > now,
        )
        .values(state=outcome, completed_at=now)
        .returning(SandboxPayment.ref)
        .execution_options(synchronize_session=False)
    )
    state: PaymentState | None = outcome if decided is not None else None
    if decided is None and payment.state == "pending":
        state = await settle_expiry(session, ref, now)
        state = state if state == "expired" else None
    await session.commit()  # Before the webhook: the service may ask the sandbox about it.
    if state is not None:
        provider = provider_for(request.app)
        if isinstance(provider, SandboxProvider):
            webhook = make_webhook(
                provider.webhook_secret(),
                base_url=public_base_url(request),
                ref=ref,
                state=state,
                now=now,
            )
            background.add_task(sender_for(request.app), webhook)
    # Post/redirect/get: reloading the page that follows never posts again.
    return RedirectResponse(f"/sandbox/checkout/{ref}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/{ref}/pay", response_model=None)
async def pay(
    ref: Ref, request: Request, session: DbSession, background: BackgroundTasks, clock: ClockDep
) -> RedirectResponse | HTMLResponse:
    """The person pays (no real money: this is the sandbox)."""
    return await _decide(request, session, background, clock.now(), ref, "succeeded")


@router.post("/{ref}/decline", response_model=None)
async def decline(
    ref: Ref, request: Request, session: DbSession, background: BackgroundTasks, clock: ClockDep
) -> RedirectResponse | HTMLResponse:
    """The person declines: the payment fails."""
    return await _decide(request, session, background, clock.now(), ref, "failed")
