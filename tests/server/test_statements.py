"""Monthly statements: the balance at the start and end of a month of the site's calendar, what
moved by kind, and the VAT of what was bought net of refunds; the figures equal the ledger's to
the cent, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from kiosk_server.cli import main
from kiosk_server.clock import ManualClock
from kiosk_server.models import Account, LedgerEntry, Site
from tests.factories import Factory
from tests.server.cli_support import isolate_environment
from tests.server.conftest import assert_problem
from tests.server.orders_support import PARIS, at_paris, customer, load, place


@pytest.fixture
async def site(factory: Factory) -> Site:
    # Sessions that outlast the month the tests move the clock through.
    return await factory.site("CANTINE", settings={"session_minutes": 60 * 24 * 60})


async def statement(kiosk: httpx.AsyncClient, headers: dict[str, str], month: str) -> Any:
    answer = await kiosk.get(f"/v1/me/statements/{month}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def ledger_sum(factory: Factory, account: Account, before: dt.datetime) -> int:
    async with factory.session_factory() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.created_at < before
            )
        )
    return int(total or 0)


async def test_a_month_from_opening_to_closing_balance_equal_to_the_ledger(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    # October 31st, 23:30 in Paris (22:30 UTC): still October for the site.
    clock.set(dt.datetime(2026, 10, 31, 23, 30, tzinfo=PARIS).astimezone(dt.UTC))
    account, headers = await customer(kiosk, factory, site, balance_cents=3000)
    at_paris(clock, 9, 0, day=2)
    first = (await place(kiosk, headers, ("PLAT", 2), ("CAFE", 1))).json()
    await place(kiosk, headers, ("CAFE", 3))
    cancel = await kiosk.post(
        f"/v1/me/orders/{first['id']}/cancel",
        headers={**headers, "Idempotency-Key": "cancel-1"},
    )
    assert cancel.status_code == 200, cancel.text
    await factory.ledger_entry(account, 2000)  # a top-up
    await factory.ledger_entry(account, -150, kind="adjustment")
    at_paris(clock, 11, 0, day=30)
    await place(kiosk, headers, ("PLAT", 1))

    october = await statement(kiosk, headers, "2026-10")
    assert october["opening_balance"]["amount_cents"] == 0
    assert october["top_ups"] == {"amount": {"amount_cents": 3000, "currency": "EUR"}, "count": 1}
    assert october["closing_balance"]["amount_cents"] == 3000

    november = await statement(kiosk, headers, "2026-11")
    assert november["opening_balance"]["amount_cents"] == 3000
    assert november["purchases"] == {
        "amount": {"amount_cents": 3030, "currency": "EUR"},
        "count": 3,
    }
    assert november["refunds"] == {"amount": {"amount_cents": 1820, "currency": "EUR"}, "count": 1}
    assert november["top_ups"]["amount"]["amount_cents"] == 2000
    assert november["adjustments"]["amount"]["amount_cents"] == -150
    closing = november["closing_balance"]["amount_cents"]
    assert closing == 3000 - 3030 + 1820 + 2000 - 150
    # The ledger says the same, summed on its own.
    december_first = dt.datetime(2026, 12, 1, tzinfo=PARIS)
    assert closing == await ledger_sum(factory, account, december_first)
    # VAT of what was kept: 3 coffees (5.5 %) and 1 dish (10 %); the cancelled order nets out.
    assert [(v["rate_bp"], v["total"]["amount_cents"]) for v in november["vat"]] == [
        (550, 360),
        (1000, 850),
    ]
    for rate in november["vat"]:
        assert (
            rate["base"]["amount_cents"] + rate["vat"]["amount_cents"]
            == rate["total"]["amount_cents"]
        )


async def test_a_month_not_begun_is_refused(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site)
    refused = await kiosk.get("/v1/me/statements/2026-12", headers=headers)
    assert_problem(refused, 422, "statement-month-invalid")
    malformed = await kiosk.get("/v1/me/statements/2026-13", headers=headers)
    assert_problem(malformed, 422, "validation-failed")
    quiet = await statement(kiosk, headers, "2025-01")
    assert quiet["opening_balance"] == quiet["closing_balance"]
    assert quiet["vat"] == []


def test_an_admin_prints_a_statement_as_text_or_csv(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    common = ["--database-url", database_url]
    assert main(["site", "create", "acme", "--name", "Acme", *common]) == 0
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "identifier,name,email,phone,roles\nE1,Zoé Martin,zoe@example.com,,\n", "utf-8"
    )
    assert main(["accounts", "import", "ACME", str(accounts), *common]) == 0
    assert (
        main(["accounts", "adjust", "ACME", "E1", "12.50", "--reason", "ouverture", *common]) == 0
    )
    month = f"{dt.datetime.now(dt.UTC):%Y-%m}"
    capsys.readouterr()
    assert main(["accounts", "statement", "ACME", "E1", month, "--csv", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "line,amount_EUR,count_or_vat"
    assert "adjustments,12.50,1" in lines
    assert "closing_balance,12.50," in lines
    pdf = tmp_path / "statement.pdf"
    assert main(["accounts", "statement", "ACME", "E1", month, "--pdf", str(pdf), *common]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "12,50 EUR" in pdf.read_bytes().decode("latin-1")
    assert main(["accounts", "statement", "ACME", "E1", "2026-13", *common]) == 2
    assert "MONTH must be YYYY-MM" in capsys.readouterr().err


async def test_the_statement_goes_by_email_as_a_pdf(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    await load(factory, site)
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site, balance_cents=125000)
    await place(kiosk, headers, ("PLAT", 1), ("CAFE", 1))
    sent = await kiosk.post("/v1/me/statements/2026-11/email", headers=headers)
    assert sent.status_code == 202, sent.text
    assert sent.json() == {"destination": "j***@example.com"}
    [mail] = await factory.outbox("jeanne@example.com")
    assert mail.subject == "Votre relevé mensuel 2026-11"
    [(name, encoded)] = mail.attachments.items()
    assert name == "statement-2026-11.pdf"
    pdf = base64.b64decode(encoded)
    assert pdf.startswith(b"%PDF-")
    # The page's text, as written (uncompressed, Latin-1): the balances with their currency code.
    page = pdf.decode("latin-1")
    for text in ("Relev\xe9 mensuel 2026-11", "Solde de cl\xf4ture", "1\xa0240,30 EUR", "5,5 %"):
        assert text in page


async def test_no_email_no_statement_by_email(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site, clock: ManualClock
) -> None:
    at_paris(clock, 9, 0)
    _, headers = await customer(kiosk, factory, site, email=None, phone="+33612345678")
    refused = await kiosk.post("/v1/me/statements/2026-11/email", headers=headers)
    assert_problem(refused, 409, "no-contact")
