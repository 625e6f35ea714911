"""Connect QRs: the signed code on a welcome letter that says who is signing in at a kiosk.

Scanning one is the same as typing the identifier on the right site: the answer is what
`POST /v1/auth/identify` answers, and the PIN (or the activation) still proves who it is. A bad
token counts against the terminal like an unknown identifier does (terminal throttle).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import Account, Device, DeviceFailure, Site
from kiosk_server.problems import ProblemError
from kiosk_server.schemas import SiteRef
from kiosk_server.schemas_badges import Connected, register_problems
from kiosk_server.services import auth
from kiosk_server.services.devices import site_by_id
from kiosk_server.site_settings import SiteSettings
from kiosk_server.tokens import (
    ConnectTokenClaims,
    TokenError,
    make_connect_token,
    parse_connect_token,
    verify_connect_token,
)

register_problems()


def connect_token_for(site: Site, account: Account) -> str:
    """The account's current connect token (what its welcome-letter QR carries)."""
    return make_connect_token(
        site_id=site.id,
        account_id=account.id,
        version=account.connect_version,
        secret=site.connect_secret,
    )


async def revoke_connect(session: AsyncSession, account: Account) -> None:
    """Void the account's connect QR (a lost letter): letters made before stop working, and the
    next one printed carries the new version. Flushed, not committed."""
    account.connect_version += 1
    await session.flush()


def _throttle_settings(device: Device, site: Site | None) -> SiteSettings:
    """The policy the terminal throttle is counted under: the token's site when the device
    serves it, else the device's first site (a token that names no served site has no site)."""
    if site is None:
        site = min(device.sites, key=lambda served: served.id, default=None)
    return auth.site_settings(site) if site is not None else SiteSettings()


async def _failed(
    session: AsyncSession, device: Device, now: dt.datetime, problem: ProblemError
) -> ProblemError:
    """Count a bad token as a failed look-up, committed before the error is raised (the
    request's transaction is rolled back on an error)."""
    session.add(DeviceFailure(device_id=device.id, kind="identifier", at=now))
    await session.commit()
    return problem


async def connect(
    session: AsyncSession, *, device: Device, connect_token: str, now: dt.datetime
) -> Connected:
    """Who a scanned connect token names, on which site, and what the terminal asks next.

    Raises `ProblemError`: `connect-malformed` (not a connect token; a badge says so in the
    detail), `connect-other-site` (a site this device does not serve), `connect-invalid`
    (forged, or no such account), `connect-revoked` (a letter made before the last
    revocation), and what identifying raises (`terminal-throttled`, `account-blocked`)."""
    claims: ConnectTokenClaims | None = None
    parse_error: TokenError | None = None
    try:
        claims = parse_connect_token(connect_token.strip())
    except TokenError as error:
        parse_error = error
    site = site_by_id(device, claims.site_id) if claims is not None else None
    # The same accounting as typing an identifier.
    await auth.check_throttle(
        session, device=device, settings=_throttle_settings(device, site), now=now
    )

    if claims is None:
        detail = (
            "This is a badge, not a connect QR: sign in with your identifier or your letter's QR."
            if parse_error is not None and parse_error.code == "token-kind"
            else "This is not a connect QR from a welcome letter."
        )
        raise await _failed(session, device, now, ProblemError("connect-malformed", detail))
    if site is None:
        raise await _failed(
            session,
            device,
            now,
            ProblemError(
                "connect-other-site", "This QR is for a site this terminal does not serve."
            ),
        )
    account = await session.get(Account, claims.account_id)
    invalid = ProblemError("connect-invalid", "This QR is not genuine. Type your identifier.")
    if account is None or account.site_id != site.id:
        raise await _failed(session, device, now, invalid)
    try:
        verify_connect_token(
            claims, secret=site.connect_secret, current_version=account.connect_version
        )
    except TokenError as error:
        if error.code == "token-revoked":
            raise await _failed(
                session,
                device,
                now,
                ProblemError(
                    "connect-revoked",
                    "This QR was replaced by a newer letter. Type your identifier.",
                ),
            ) from None
        raise await _failed(session, device, now, invalid) from None

    identified = await auth.identify(
        session, device=device, site=site, identifier=account.identifier, now=now
    )
    return Connected(
        solution_code=site.code,
        identifier=account.identifier,
        account_state=identified.account_state,
        site=SiteRef(code=site.code, name=site.name),
    )
