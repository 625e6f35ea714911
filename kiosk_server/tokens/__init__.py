"""Signed tokens carried by QR codes: rotating badges and welcome-letter connect codes.

Pure functions, no database and no clock: the service passes in the secrets, the account's
connect version and the current time step.
"""

from kiosk_server.tokens.badge import (
    BADGE_MARKER,
    BADGE_TOKEN_LENGTH,
    DEFAULT_STEP_SECONDS,
    BadgeTokenClaims,
    current_step,
    make_badge_token,
    new_badge_secret,
    parse_badge_token,
    seconds_until_next_step,
    step_start,
    verify_badge_token,
)
from kiosk_server.tokens.connect import (
    CONNECT_MARKER,
    CONNECT_TOKEN_LENGTH,
    ConnectTokenClaims,
    make_connect_token,
    new_connect_secret,
    parse_connect_token,
    verify_connect_token,
)
from kiosk_server.tokens.signed import TokenError, TokenErrorCode

__all__ = [
    "BADGE_MARKER",
    "BADGE_TOKEN_LENGTH",
    "CONNECT_MARKER",
    "CONNECT_TOKEN_LENGTH",
    "DEFAULT_STEP_SECONDS",
    "BadgeTokenClaims",
    "ConnectTokenClaims",
    "TokenError",
    "TokenErrorCode",
    "current_step",
    "make_badge_token",
    "make_connect_token",
    "new_badge_secret",
    "new_connect_secret",
    "parse_badge_token",
    "parse_connect_token",
    "seconds_until_next_step",
    "step_start",
    "verify_badge_token",
    "verify_connect_token",
]
