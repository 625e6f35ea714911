"""`kiosk-server connect-qr`, `accounts revoke-connect` and `accounts rotate-badge`, through the
real command line, with what they do checked through the service's HTTP API."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import cv2
import httpx
import pytest
import zxingcpp
from fastapi import FastAPI
from sqlalchemy import select

from kiosk_server.cli import main
from kiosk_server.clock import ManualClock
from kiosk_server.commands.accounts import connect_qr_file_name
from kiosk_server.models import Account
from kiosk_server.services.badges import issue_badge
from tests.conftest import device_client
from tests.server.cli_support import isolate_environment
from tests.server.conftest import assert_problem

ACCOUNTS_CSV = """identifier,name,email,phone
A1,Alice Martin,alice@example.com,
B/2,Bruno Lefèvre,bruno@example.com,
C3,Chloé Dubois,,+33612345642
"""


class Cli:
    """Runs `kiosk-server` commands on the test's database, off the test's event loop (each
    command runs a loop of its own), and keeps what they printed."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys
        self.out = ""
        self.err = ""

    async def __call__(self, *argv: str) -> int:
        self.capsys.readouterr()
        status = await asyncio.to_thread(main, [*argv, "--database-url", self.url])
        self.out, self.err = self.capsys.readouterr()
        return status

    async def enrol(self, role: str) -> str:
        assert (
            await self("terminals", "enrol", "--name", role, "--role", role, "--site", "ACME") == 0
        )
        match = re.search(r"Device key: (\S+)", self.out)
        assert match, self.out
        return match.group(1)


@pytest.fixture
async def cli(
    database_url: str,
    api: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """A site ACME with three pending accounts, made with the commands."""
    isolate_environment(monkeypatch, tmp_path)
    cli = Cli(database_url, capsys)
    assert await cli("site", "create", "acme", "--name", "Acme Campus") == 0
    csv_path = tmp_path / "accounts.csv"
    csv_path.write_text(ACCOUNTS_CSV, encoding="utf-8")
    assert await cli("accounts", "import", "ACME", str(csv_path)) == 0, cli.err
    return cli


def decode(path: Path) -> str:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, path
    (found,) = zxingcpp.read_barcodes(image)
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return str(found.text)


async def connect(kiosk: httpx.AsyncClient, token: str) -> httpx.Response:
    return await kiosk.post("/v1/auth/connect", json={"connect_token": token})


async def test_connect_qr_writes_one_decodable_file_per_account(
    cli: Cli, service_app: FastAPI, tmp_path: Path
) -> None:
    out = tmp_path / "letters"

    assert await cli("connect-qr", "acme", "--out", str(out)) == 0, cli.err

    assert "3 connect QR file(s) written" in cli.out
    files = sorted(path.name for path in out.iterdir())
    assert files == ["ACME-A1.png", "ACME-B_2.png", "ACME-C3.png"]
    key = await cli.enrol("terminal")
    async with device_client(service_app, key) as kiosk:
        for name, identifier in [("ACME-A1", "A1"), ("ACME-B_2", "B/2"), ("ACME-C3", "C3")]:
            answer = await connect(kiosk, decode(out / f"{name}.png"))
            assert answer.status_code == 200, answer.text
            assert answer.json() == {
                "solution_code": "ACME",
                "identifier": identifier,
                "account_state": "pending_activation",
                "site": {"code": "ACME", "name": "Acme Campus"},
            }


async def test_connect_qr_as_svg_for_chosen_accounts(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "svg"

    status = await cli(
        "connect-qr", "ACME", "--out", str(out), "--format", "svg", "--identifier", "C3"
    )

    assert status == 0, cli.err
    assert "1 connect QR file(s) written" in cli.out
    (written,) = out.iterdir()
    assert written.name == "ACME-C3.svg"
    assert "<svg" in written.read_text(encoding="utf-8")


async def test_connect_qr_refuses_an_unknown_account_and_writes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "none"

    status = await cli("connect-qr", "ACME", "--out", str(out), "--identifier", "Z9")

    assert status == 2
    assert "no account 'Z9' on ACME" in cli.err
    assert "Traceback" not in cli.err
    assert not out.exists()
    assert await cli("connect-qr", "NOPE", "--out", str(out)) == 2
    assert "no site with code 'NOPE'" in cli.err


async def test_revoke_connect_voids_the_printed_letter(
    cli: Cli, service_app: FastAPI, tmp_path: Path
) -> None:
    out = tmp_path / "letters"
    assert await cli("connect-qr", "ACME", "--out", str(out), "--identifier", "A1") == 0
    printed = decode(out / "ACME-A1.png")

    assert await cli("accounts", "revoke-connect", "ACME", "A1") == 0, cli.err
    assert "no longer works" in cli.out
    assert await cli("connect-qr", "ACME", "--out", str(out), "--identifier", "A1") == 0
    reprinted = decode(out / "ACME-A1.png")

    key = await cli.enrol("terminal")
    async with device_client(service_app, key) as kiosk:
        assert_problem(await connect(kiosk, printed), 410, "connect-revoked")
        assert (await connect(kiosk, reprinted)).json()["identifier"] == "A1"
    assert await cli("accounts", "revoke-connect", "ACME", "nobody") == 2
    assert "no account 'nobody' on ACME" in cli.err


async def test_rotate_badge_voids_every_earlier_badge_token(
    cli: Cli, service_app: FastAPI, clock: ManualClock
) -> None:
    async with service_app.state.session_factory() as session:
        account = await session.scalar(select(Account).where(Account.identifier == "A1"))
        assert account is not None
        before = (await issue_badge(session, account, clock.now())).token
    door_key = await cli.enrol("door")
    async with device_client(service_app, door_key) as door:
        assert (await door.post("/v1/badges/verify", json={"token": before})).status_code == 200

        assert await cli("accounts", "rotate-badge", "ACME", "A1") == 0, cli.err

        refused = await door.post("/v1/badges/verify", json={"token": before})
    assert_problem(refused, 422, "badge-tampered")


def test_file_names_keep_to_safe_characters() -> None:
    assert connect_qr_file_name("ACME", "E-1001.b", "png") == "ACME-E-1001.b.png"
    assert connect_qr_file_name("ACME", "../x y", "svg") == "ACME-.._x_y.svg"
