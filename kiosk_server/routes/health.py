from __future__ import annotations

from fastapi import APIRouter

from kiosk_server.routes import API
from kiosk_server.schemas import Health

router = APIRouter(prefix=API, tags=["health"])


@router.get("/health")
async def health() -> Health:
    """Whether the service is up (no credentials needed)."""
    return Health()
