"""Secrets: random tokens, their hashes, argon2 for what people can guess, and masking."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kiosk_server.settings import ServerSettings

PIN_PATTERN = re.compile(r"[0-9]{6}")


# Two-digit and one-digit country calling codes; every other code has three digits (ITU E.164).
_ONE_DIGIT_CODES = {"1", "7"}
_TWO_DIGIT_CODES = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
}  # fmt: skip


def new_token() -> str:
    """A random token for device keys, sessions and PIN setup (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def sha256_hex(token: str) -> str:
    """How tokens are stored: they are random, so a fast hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_verification_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class Argon2:
    """Argon2id hashing for guessable secrets (PINs, verification codes), run in a thread so
    that the event loop keeps serving other requests meanwhile."""

    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> Argon2:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
        )

    async def hash(self, secret: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, hash: str, secret: str) -> bool:
        return await asyncio.to_thread(self._verify_blocking, hash, secret)

    def _verify_blocking(self, hash: str, secret: str) -> bool:
        try:
            return bool(self._hasher.verify(hash, secret))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def is_well_formed_pin(pin: str) -> bool:
    """Exactly six ASCII digits."""
    return PIN_PATTERN.fullmatch(pin) is not None


def mask_email(email: str) -> str:
    """`jane@example.com` → `j***@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """`+33612345642` → `+33 6** ** ** 42`; other countries: the country code, stars, the last
    two digits."""
    digits = "".join(c for c in phone if c.isdigit())
    if not phone.strip().startswith("+") or len(digits) < 6:
        return "*" * max(len(digits) - 2, 0) + digits[-2:]
    if digits.startswith("33") and len(digits) == 11:
        return f"+33 {digits[2]}** ** ** {digits[-2:]}"
    if digits[:1] in _ONE_DIGIT_CODES:
        size = 1
    elif digits[:2] in _TWO_DIGIT_CODES:
        size = 2
    else:
        size = 3
    national = digits[size:]
    return f"+{digits[:size]} {'*' * (len(national) - 2)} {national[-2:]}"
