"""The terminal's typed client of the service's `/v1` API.

Names are loaded on first use: `from kiosk.api.errors import ApiError` stays cheap (standard
library only), while the client and the models bring httpx and pydantic, which the app imports
only after the welcome screen is drawn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.api.client import KioskClient
    from kiosk.api.errors import ApiError, FieldError, ProblemError, ServiceUnavailable
    from kiosk.api.models import (
        DeviceInfo,
        Health,
        Identity,
        Me,
        Money,
        PinSetup,
        SiteDetails,
        SiteRef,
        VerificationSent,
    )

_WHERE = {
    "KioskClient": "kiosk.api.client",
    "ApiError": "kiosk.api.errors",
    "FieldError": "kiosk.api.errors",
    "ProblemError": "kiosk.api.errors",
    "ServiceUnavailable": "kiosk.api.errors",
    "DeviceInfo": "kiosk.api.models",
    "Health": "kiosk.api.models",
    "Identity": "kiosk.api.models",
    "Me": "kiosk.api.models",
    "Money": "kiosk.api.models",
    "PinSetup": "kiosk.api.models",
    "SiteDetails": "kiosk.api.models",
    "SiteRef": "kiosk.api.models",
    "VerificationSent": "kiosk.api.models",
}

__all__ = [
    "ApiError",
    "DeviceInfo",
    "FieldError",
    "Health",
    "Identity",
    "KioskClient",
    "Me",
    "Money",
    "PinSetup",
    "ProblemError",
    "ServiceUnavailable",
    "SiteDetails",
    "SiteRef",
    "VerificationSent",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kiosk.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
