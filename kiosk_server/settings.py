"""The service's own settings (not a site's policies: those live in `site_settings`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _demo_database_url() -> str:
    # Imported here so that reading settings with an explicit URL never touches the demo paths.
    from kiosk_server.paths import demo_database_url

    return demo_database_url()


class ServerSettings(BaseSettings):
    """Settings of one service process, read from `KIOSK_SERVER_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="KIOSK_SERVER_", extra="ignore")

    database_url: str = Field(default_factory=_demo_database_url)
    """`sqlite:///path` or `postgresql://user@host/db`; the embedded demo's SQLite file by default."""
    public_base_url: str | None = None
    """Where people's phones reach the service (links in messages, checkout pages)."""
    argon2_time_cost: int = Field(3, ge=1)
    """Argon2 passes (RFC 9106 low-memory profile by default)."""
    argon2_memory_cost_kib: int = Field(65536, ge=8)
    """Argon2 memory in KiB (64 MiB by default)."""
    argon2_parallelism: int = Field(4, ge=1)
    """Argon2 lanes."""
    device_cache_seconds: float = Field(5.0, ge=0)
    """How long each worker keeps a device it looked up (`services.devices.DeviceCache`): a
    revoked key or a changed site setting takes effect within this time. 0 turns it off."""
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    """The largest request body any route reads; a larger one is refused with `413
    body-too-large` (kiosk_server.body_limit)."""
    log_level: str = "INFO"
    sweep_seconds: float = Field(60.0, ge=0)
    """How often each worker checks out the visitors whose site checks them out automatically,
    and reminds their hosts (`services.auto_checkout`); 0 turns it off."""
    telemetry: bool = False
    """FastAPI's OpenTelemetry traces, metrics and logs, for a site that runs a collector (the
    standard `OTEL_*` variables configure it). Off by default: checking for a configured
    provider on every request cost /v1/me about 4% of its time for nobody (bench/me_latency)."""
    """Level of the service's loggers."""
    sandbox_webhook_secret: SecretStr | None = None
    """The key the sandbox payment provider signs its webhooks with (HMAC-SHA256). When unset,
    one is generated on first use and kept in the data directory (`sandbox-webhook.key`), which
    every worker of one machine shares; set it when the service runs on several machines."""
