"""Support for the money tests: tills, badge tokens as a person's phone would show them, and
idempotency keys."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from kiosk_server.clock import Clock
from kiosk_server.models import Account, Site
from kiosk_server.site_settings import SiteSettings
from kiosk_server.tokens import current_step, make_badge_token


def new_key() -> str:
    """A fresh idempotency key, as the terminal makes one per intent."""
    return str(uuid.uuid4())


def badge_token(account: Account, site: Site, clock: Clock, *, steps_ahead: int = 0) -> str:
    """The token the person's badge shows now (or `steps_ahead` steps later)."""
    step_seconds = SiteSettings.model_validate(site.settings or {}).badge_step_seconds
    return make_badge_token(
        site_id=site.id,
        account_id=account.id,
        secret=account.badge_secret,
        step=current_step(clock.now(), step_seconds) + steps_ahead,
    )


def purchase_body(token: str, *lines: tuple[str, int, int, int]) -> dict[str, Any]:
    """A till purchase of `(item, quantity, unit price, VAT rate in bp)` lines, correctly
    totalled."""
    return {
        "badge_token": token,
        "lines": [
            {"item": item, "quantity": qty, "unit_price_cents": price, "vat_rate_bp": vat}
            for item, qty, price, vat in lines
        ],
        "total_cents": sum(qty * price for _, qty, price, _ in lines),
    }


async def buy(
    till: httpx.AsyncClient, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    return await till.post(
        "/v1/till/purchases", json=body, headers={"Idempotency-Key": key or new_key()}
    )
