"""Contract fuzzing: schemathesis, every check on, sends what the committed `api/openapi.json`
allows and what it does not to a real `kiosk-server` on loopback, with an enrolled terminal and a
signed-in person who has the reception role, on SQLite and on PostgreSQL. No answer may be a 5xx,
none may be missing from the document or stray from its schema. The site, the person and the
devices are written to the database first (tests/factories.py, as the admin commands would: the
end-to-end test walks those); the person signs in over HTTP.

What schemathesis is told beyond the command line is in `contract_fuzz.toml`, each exception
with its reason. A failure shows schemathesis's report, with a `curl` line to reproduce it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from kiosk_server.clock import SystemClock
from kiosk_server.db import make_engine, make_session_factory
from kiosk_server.security import Argon2
from tests.factories import Factory
from tests.processes import kiosk_server
from tests.server.cli_support import CHEAP_ARGON2

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "api" / "openapi.json"
CONFIG = Path(__file__).resolve().with_name("contract_fuzz.toml")

SITE = "ACME"
"""The site's solution code (also in `contract_fuzz.toml`)."""
IDENTIFIER = "F-7"
PIN_CHANGER = "F-8"
"""Another person, whose PIN the fuzzer tries to change (wrong PINs lock their account)."""
PIN = "582043"

MAX_EXAMPLES = int(os.environ.get("KIOSK_FUZZ_MAX_EXAMPLES", "10"))
"""Test cases per operation and phase: about 35 s a database on a 2-core machine. A deeper run:
`KIOSK_FUZZ_MAX_EXAMPLES=100 KIOSK_FUZZ_SEED=7 uv run pytest --timeout 0 tests/test_contract_fuzz.py`."""
SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "20261207"))
"""A fixed seed: the same requests every run, so a failure is the code's, not the draw's."""
FUZZ_SECONDS = 11 * max(MAX_EXAMPLES, 10)
"""How long schemathesis may run (110 s by default; the per-test limit is 200 s, setup included)."""


async def _set_up(url: str) -> dict[str, str]:
    """A site, an active account with a PIN and the reception role, and a device of each role
    the routes serve (a terminal, a till, a kitchen screen); the devices' keys by role."""
    engine = make_engine(url)
    try:
        factory = Factory(
            make_session_factory(engine),
            clock=SystemClock(),
            argon2=Argon2(time_cost=1, memory_cost_kib=64, parallelism=1),
        )
        site = await factory.site(SITE, name="ACME Lyon")
        await factory.account(site, IDENTIFIER, name="Zoé Fuzz", pin=PIN, roles=["reception"])
        await factory.account(site, PIN_CHANGER, name="Paul Fuzz", pin=PIN)
        return {
            role: (await factory.device([site], role=role, name=role)).key
            for role in ("terminal", "till", "kitchen")
        }
    finally:
        await engine.dispose()


def _sign_in(base_url: str, device_key: str, identifier: str = IDENTIFIER) -> str:
    """A new session for the person on the terminal; its bearer token."""
    answer = httpx.post(
        f"{base_url}/v1/auth/sessions",
        headers={"X-Device-Key": device_key},
        json={"solution_code": SITE, "identifier": identifier, "pin": PIN},
    )
    assert answer.status_code == 201, answer.text
    assert identifier != IDENTIFIER or "reception" in answer.json()["me"]["roles"], answer.text
    token: str = answer.json()["token"]
    return token


def schemathesis_command(base_url: str, device_key: str, token: str) -> list[str]:
    return [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(CONFIG),
        "run", str(DOCUMENT),
        "--url", base_url,
        "--header", f"X-Device-Key: {device_key}",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--generation-database", "none",
        "--workers", "1",
        "--no-color",
    ]  # fmt: skip


def test_the_service_keeps_its_contract_under_fuzzing(database_url: str, tmp_path: Path) -> None:
    keys = asyncio.run(_set_up(database_url))
    env = {name: value for name, value in os.environ.items() if name != "KIOSK_SERVER_DATABASE_URL"}
    env.update(CHEAP_ARGON2, KIOSK_DATA_DIR=str(tmp_path / "data"))
    server = ["--database-url", database_url, "--no-access-log"]
    with kiosk_server(server, env, tmp_path / "server.log") as base_url:
        # Both before the fuzzing: a few hundred failed sign-ins later, the terminal is throttled.
        token = _sign_in(base_url, keys["terminal"])
        sign_out_token = _sign_in(base_url, keys["terminal"])
        pin_token = _sign_in(base_url, keys["terminal"], PIN_CHANGER)
        fuzz = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
            schemathesis_command(base_url, keys["terminal"], token),
            # Its working directory is the test's: whatever it writes stays out of the checkout.
            cwd=tmp_path,
            env={
                **env,
                "KIOSK_FUZZ_SIGN_OUT_TOKEN": sign_out_token,
                "KIOSK_FUZZ_PIN_TOKEN": pin_token,
                "KIOSK_FUZZ_TILL_KEY": keys["till"],
                "KIOSK_FUZZ_KITCHEN_KEY": keys["kitchen"],
            },
            capture_output=True,
            text=True,
            timeout=FUZZ_SECONDS,
            check=False,
        )
        server_log = (tmp_path / "server.log").read_text(errors="replace")
    status = fuzz.returncode
    assert status == 0, (
        f"schemathesis found failures (exit {status}):\n{fuzz.stdout}\n{fuzz.stderr}\n"
        f"--- kiosk-server's output ---\n{server_log[-20_000:]}"
    )
