"""The admin commands of `kiosk-server`, run through the real command line on a real database."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.cli import main
from kiosk_server.models import (
    Account,
    Device,
    LedgerEntry,
    OutboxMessage,
    Site,
    Ticket,
    TicketLine,
)
from kiosk_server.notify.outbox import enqueue_message
from tests.server.cli_support import isolate_environment, read_database


@pytest.fixture
def url(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated, empty database (tests/conftest.py: SQLite, and PostgreSQL when configured)."""
    isolate_environment(monkeypatch, tmp_path)
    return database_url


class Cli:
    """Runs `kiosk-server` commands on one database and keeps what they printed."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys
        self.out = ""
        self.err = ""

    def __call__(self, *argv: str) -> int:
        self.capsys.readouterr()
        status = main([*argv, "--database-url", self.url])
        self.out, self.err = self.capsys.readouterr()
        return status


@pytest.fixture
def cli(url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(url, capsys)


@pytest.fixture
def acme(cli: Cli) -> Cli:
    assert cli("site", "create", "acme", "--name", "Acme Campus") == 0
    return cli


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def accounts_of(url: str, code: str) -> dict[str, Account]:
    async def work(session: AsyncSession) -> dict[str, Account]:
        rows = await session.scalars(
            select(Account).join(Site, Site.id == Account.site_id).where(Site.code == code)
        )
        return {account.identifier: account for account in rows}

    return read_database(url, work)


def site_of(url: str, code: str) -> Site:
    async def work(session: AsyncSession) -> Site:
        site = await session.scalar(select(Site).where(Site.code == code))
        assert site is not None
        return site

    return read_database(url, work)


# --- sites -----------------------------------------------------------------------------------


def test_site_create_stores_the_code_upper_case_and_refuses_a_duplicate(acme: Cli) -> None:
    site = site_of(acme.url, "ACME")
    assert (site.name, site.currency, site.locale, site.time_zone) == (
        "Acme Campus",
        "EUR",
        "fr_FR",
        "Europe/Paris",
    )

    assert acme("site", "create", "ACME", "--name", "Again") == 2
    assert acme.err.strip() == "kiosk-server: error: a site with code 'ACME' already exists"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bad code!"], "invalid site code"),
        (["X"], "invalid site code"),
        (["OK", "--currency", "euro"], "invalid currency"),
        (["OK", "--time-zone", "Mars/Olympus"], "unknown time zone"),
        (["OK", "--locale", "xx_YY_ZZ"], "unknown locale"),
    ],
)
def test_site_create_refuses_bad_values(cli: Cli, argv: list[str], message: str) -> None:
    assert cli("site", "create", *argv, "--name", "Somewhere") == 2
    assert message in cli.err
    assert len(cli.err.strip().splitlines()) == 1
    assert "Traceback" not in cli.err

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(Site)) or 0)

    assert read_database(cli.url, count) == 0


SITE_TOML = """
name = "Acme Nord"
time_zone = "Europe/Brussels"

[settings]
pin_pause_failures = 3
verification_code_minutes = 5

[settings.smtp]
host = "mail.acme.test"
port = 587
sender = "kiosk@acme.test"
starttls = true
username = "kiosk"
password = "s3cret-relay"
"""


def test_site_set_applies_a_toml_file_and_show_prints_it(acme: Cli, tmp_path: Path) -> None:
    assert acme("site", "set", "acme", write(tmp_path, "site.toml", SITE_TOML)) == 0

    site = site_of(acme.url, "ACME")
    assert (site.name, site.time_zone, site.currency) == ("Acme Nord", "Europe/Brussels", "EUR")
    assert site.settings["pin_pause_failures"] == 3
    assert site.settings["smtp"]["host"] == "mail.acme.test"

    assert acme("site", "show", "ACME") == 0
    assert 'name = "Acme Nord"' in acme.out
    assert "pin_pause_failures = 3" in acme.out
    assert "pin_lock_failures = 10" in acme.out  # a default, shown as it applies
    assert "s3cret-relay" not in acme.out
    assert "password is set (not shown)" in acme.out


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('colour = "red"\n', "unknown key colour"),
        ("[settings]\npin_pause_failure = 3\n", "unknown key settings.pin_pause_failure"),
        ("[settings]\npin_pause_failures = 0\n", "settings.pin_pause_failures"),
        ('[settings.smtp]\nhost = "x"\nhots = "y"\n', "unknown key settings.smtp.hots"),
        ("name = 3\n", "name must be a string"),
        ("name = \n", "not a valid TOML file"),
        ('currency = "DOLLARS"\n', "invalid currency"),
    ],
)
def test_site_set_refuses_a_bad_file_and_changes_nothing(
    acme: Cli, tmp_path: Path, toml: str, message: str
) -> None:
    assert acme("site", "set", "ACME", write(tmp_path, "bad.toml", toml)) == 2
    assert message in acme.err
    assert "Traceback" not in acme.err
    site = site_of(acme.url, "ACME")
    assert (site.name, site.currency, site.settings) == ("Acme Campus", "EUR", {})


def test_site_set_on_an_unknown_site_or_a_missing_file(acme: Cli, tmp_path: Path) -> None:
    assert acme("site", "set", "NOPE", write(tmp_path, "s.toml", 'name = "x"\n')) == 2
    assert "no site with code 'NOPE'" in acme.err
    assert acme("site", "set", "ACME", str(tmp_path / "missing.toml")) == 2
    assert "no such file" in acme.err


# --- accounts --------------------------------------------------------------------------------

GOOD_CSV = """identifier,name,email,phone,roles
3001,Émile Garnier,emile.garnier@example.com,,
3002,Fatou Diallo,,06 12 34 56 42,
3003,Gaspard Roux,gaspard.roux@example.com,+33 (0)6 98 76 54 32,reception
3004,Hélène Blanc,helene.blanc@example.com,0033 6 11 22 33 44,reception;admin
"""


def test_import_creates_pending_accounts_with_normalised_phones_and_roles(
    acme: Cli, tmp_path: Path
) -> None:
    assert acme("accounts", "import", "ACME", write(tmp_path, "a.csv", GOOD_CSV)) == 0
    assert "4 account(s) created, 0 updated" in acme.out

    accounts = accounts_of(acme.url, "ACME")
    assert sorted(accounts) == ["3001", "3002", "3003", "3004"]
    assert {a.status for a in accounts.values()} == {"pending"}
    assert accounts["3001"].email == "emile.garnier@example.com"
    assert accounts["3001"].phone is None
    assert accounts["3002"].phone == "+33612345642"
    assert accounts["3002"].email is None
    assert accounts["3003"].phone == "+33698765432"
    assert accounts["3004"].phone == "+33611223344"
    assert accounts["3003"].roles == ["reception"]
    assert accounts["3004"].roles == ["reception", "admin"]
    assert accounts["3001"].roles == []


def test_import_without_roles_column_and_with_update(acme: Cli, tmp_path: Path) -> None:
    first = "identifier,name,email,phone,roles\n3001,Émile Garnier,e@example.com,,admin\n"
    assert acme("accounts", "import", "ACME", write(tmp_path, "a.csv", first)) == 0

    second = "identifier,name,email,phone\n3001,Émile Garnier-Roy,,+32 470 12 34 56\n"
    path = write(tmp_path, "b.csv", second)
    assert acme("accounts", "import", "ACME", path) == 2
    assert "b.csv:2: identifier '3001' already exists on ACME (use --update" in acme.err
    assert accounts_of(acme.url, "ACME")["3001"].name == "Émile Garnier"

    assert acme("accounts", "import", "ACME", path, "--update") == 0
    assert "0 account(s) created, 1 updated" in acme.out
    account = accounts_of(acme.url, "ACME")["3001"]
    assert (account.name, account.email, account.phone) == (
        "Émile Garnier-Roy",
        None,
        "+32470123456",
    )
    assert account.roles == ["admin"]  # no roles column: roles are left as they were


BAD_CSV = """identifier,name,email,phone,roles
5001,Good Row,good@example.com,,
,No Identifier,x@example.com,,
5003,First,first@example.com,,
5003,Duplicate,dup@example.com,,
5005,,noname@example.com,,
5006,No Contact,,,

5008,Bad Email,not-an-email,,
5009,Bad Phone,,12345,
5010,Bad Role,r@example.com,,reception;chef
7001,Already There,already@example.com,,
5012,Too,few
"""


def test_import_reports_every_bad_row_with_its_line_and_writes_nothing(
    acme: Cli, tmp_path: Path
) -> None:
    existing = "identifier,name,email,phone\n7001,Already,a@example.com,\n"
    assert acme("accounts", "import", "ACME", write(tmp_path, "first.csv", existing)) == 0

    assert acme("accounts", "import", "ACME", write(tmp_path, "bad.csv", BAD_CSV)) == 2
    lines = acme.err.strip().splitlines()
    by_line = {int(line.split(":")[1]): line for line in lines[:-1]}
    assert sorted(by_line) == [3, 5, 6, 7, 9, 10, 11, 12, 13]
    assert "identifier is missing" in by_line[3]
    assert "identifier '5003' already appears on line 4" in by_line[5]
    assert "name is missing" in by_line[6]
    assert "an email or a phone is needed" in by_line[7]
    assert "email 'not-an-email' is not an email address" in by_line[9]
    assert "phone must be in international form" in by_line[10]
    assert "unknown role 'chef'" in by_line[11]
    assert "identifier '7001' already exists on ACME" in by_line[12]
    assert "expected 5 fields, found 3" in by_line[13]
    assert lines[-1] == "kiosk-server: error: 9 bad row(s); nothing was imported"
    assert "Traceback" not in acme.err

    assert sorted(accounts_of(acme.url, "ACME")) == ["7001"]  # not even the good rows


@pytest.mark.parametrize(
    "csv_text",
    [
        "id,name,email,phone\n1,A,a@example.com,\n",
        "identifier;name;email;phone\n1;A;a@example.com;\n",
        "",
        "identifier,name,email,phone\n",
    ],
)
def test_import_refuses_a_file_without_the_expected_header_or_rows(
    acme: Cli, tmp_path: Path, csv_text: str
) -> None:
    assert acme("accounts", "import", "ACME", write(tmp_path, "h.csv", csv_text)) == 2
    assert ":1: " in acme.err
    assert accounts_of(acme.url, "ACME") == {}


def test_phone_in_national_form_needs_a_site_in_a_known_country(cli: Cli, tmp_path: Path) -> None:
    assert cli("site", "create", "INTL", "--name", "Intl", "--locale", "en_US") == 0
    csv_text = "identifier,name,email,phone\n1,A,,06 12 34 56 42\n2,B,,+1 415 555 0100\n"
    assert cli("accounts", "import", "INTL", write(tmp_path, "p.csv", csv_text)) == 2
    assert ":2: phone must be in international form" in cli.err
    assert ":3:" not in cli.err


def test_import_with_opening_balances_credits_them_through_the_ledger(
    acme: Cli, tmp_path: Path
) -> None:
    text = (
        "identifier,name,email,phone,balance\n"
        "8001,Ana,ana@example.com,,12.50\n"
        "8002,Ben,ben@example.com,,\n"
        "8003,Cy,cy@example.com,,0\n"
        '8004,Dee,dee@example.com,,"7,05"\n'
    )
    assert acme("accounts", "import", "ACME", write(tmp_path, "open.csv", text)) == 0, acme.err
    assert "4 account(s) created, 0 updated" in acme.out
    assert "2 opening balance(s), 19.55 in all" in acme.out
    accounts = accounts_of(acme.url, "ACME")
    assert {i: a.balance_cents for i, a in accounts.items()} == {
        "8001": 1250,
        "8002": 0,
        "8003": 0,
        "8004": 705,
    }

    async def movements(session: AsyncSession) -> list[tuple[str, str, int, str]]:
        rows = await session.execute(
            select(Account.identifier, Ticket.kind, Ticket.amount_cents, TicketLine.item)
            .join(Ticket, Ticket.account_id == Account.id)
            .join(TicketLine, TicketLine.ticket_id == Ticket.id)
            .order_by(Account.identifier)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    assert read_database(acme.url, movements) == [
        ("8001", "adjustment", 1250, "Solde d'ouverture"),  # a French site
        ("8004", "adjustment", 705, "Solde d'ouverture"),
    ]

    async def entries(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)

    assert read_database(acme.url, entries) == 2


def test_an_import_with_a_bad_opening_balance_imports_nothing(acme: Cli, tmp_path: Path) -> None:
    first = "identifier,name,email,phone\n9001,Old,old@example.com,\n"
    assert acme("accounts", "import", "ACME", write(tmp_path, "first.csv", first)) == 0
    text = (
        "identifier,name,email,phone,balance\n"
        "9002,Ok,ok@example.com,,5\n"
        "9003,Neg,neg@example.com,,-3\n"
        "9004,Frac,frac@example.com,,1.005\n"
        "9005,Word,word@example.com,,ten\n"
        "9006,Huge,huge@example.com,,1000000\n"
        "9001,Old,old@example.com,,4\n"
    )
    path = write(tmp_path, "bad.csv", text)
    assert acme("accounts", "import", "ACME", path, "--update") == 2
    by_line = {int(line.split(":")[1]): line for line in acme.err.strip().splitlines()[:-1]}
    assert sorted(by_line) == [3, 4, 5, 6, 7]
    assert "an opening balance is not a debt" in by_line[3]
    assert "not an amount in cents" in by_line[4]
    assert "is not an amount (write it like 12.50)" in by_line[5]
    assert "is over 100000" in by_line[6]
    assert "use 'accounts adjust' for an existing one" in by_line[7]
    assert sorted(accounts_of(acme.url, "ACME")) == ["9001"]


def test_import_help_says_the_columns(cli: Cli) -> None:
    with pytest.raises(SystemExit):
        cli("accounts", "import", "--help")
    text = " ".join(cli.capsys.readouterr().out.split())
    assert "identifier (up to 64 characters, unique on the site)" in text
    assert "roles, separated by semicolons (reception;admin" in text
    assert "all or nothing" in text


def test_roles_command_sets_and_clears_roles(acme: Cli, tmp_path: Path) -> None:
    assert acme("accounts", "import", "ACME", write(tmp_path, "a.csv", GOOD_CSV)) == 0

    assert acme("accounts", "roles", "ACME", "3001", "--set", "reception,admin") == 0
    assert accounts_of(acme.url, "ACME")["3001"].roles == ["reception", "admin"]
    assert acme("accounts", "roles", "acme", "3001", "--set", "") == 0
    assert accounts_of(acme.url, "ACME")["3001"].roles == []

    assert acme("accounts", "roles", "ACME", "3001", "--set", "superuser") == 2
    assert "unknown role 'superuser'" in acme.err
    assert acme("accounts", "roles", "ACME", "9999", "--set", "admin") == 2
    assert "no account '9999' on ACME" in acme.err


# --- terminals -------------------------------------------------------------------------------


def test_enrol_prints_the_key_once_and_stores_only_its_hash(acme: Cli) -> None:
    assert acme("site", "create", "BETA", "--name", "Beta") == 0
    assert acme("terminals", "enrol", "--name", "Hall kiosk", "--role", "terminal",
                "--site", "ACME", "--site", "beta") == 0  # fmt: skip
    key_lines = [line for line in acme.out.splitlines() if line.startswith("Device key: ")]
    assert len(key_lines) == 1
    key = key_lines[0].removeprefix("Device key: ")
    assert len(key) >= 40
    assert "will not be shown again" in acme.out

    async def devices(session: AsyncSession) -> list[Device]:
        return list(await session.scalars(select(Device)))

    [device] = read_database(acme.url, devices)
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (device.name, device.key_hash)

    assert acme("terminals", "list") == 0
    assert key not in acme.out
    [row] = [line for line in acme.out.splitlines() if "Hall kiosk" in line]
    assert row.split()[0] == str(device.id)
    assert "terminal" in row
    assert "ACME,BETA" in row
    assert row.rstrip().endswith("-")  # not revoked

    assert acme("terminals", "revoke", str(device.id)) == 0
    assert acme("terminals", "list") == 0
    [row] = [line for line in acme.out.splitlines() if "Hall kiosk" in line]
    assert not row.rstrip().endswith("-")
    [revoked] = read_database(acme.url, devices)
    assert revoked.revoked_at is not None

    assert acme("terminals", "revoke", str(device.id)) == 2
    assert "already revoked" in acme.err
    assert acme("terminals", "revoke", "999") == 2
    assert "no device with id 999" in acme.err


def test_a_terminal_keeps_the_roll_call_when_enrolled_or_set_so(acme: Cli) -> None:
    async def keeps(session: AsyncSession) -> list[tuple[str, bool]]:
        return [
            (d.name, d.roll_call) for d in await session.scalars(select(Device).order_by(Device.id))
        ]

    assert acme("terminals", "enrol", "--name", "Accueil", "--role", "terminal",
                "--site", "ACME", "--roll-call") == 0  # fmt: skip
    assert "keeping the roll call" in acme.out
    assert acme("terminals", "enrol", "--name", "Hall", "--role", "terminal", "--site", "ACME") == 0
    assert acme("terminals", "enrol", "--name", "Till", "--role", "till", "--site", "ACME",
                "--roll-call") == 2  # fmt: skip
    assert "only a terminal keeps the roll call" in acme.err
    assert read_database(acme.url, keeps) == [("Accueil", True), ("Hall", False)]
    assert acme("terminals", "roll-call", "2", "on") == 0
    assert acme("terminals", "roll-call", "1", "off") == 0
    assert "no longer reads the roll call" in acme.out
    assert read_database(acme.url, keeps) == [("Accueil", False), ("Hall", True)]
    assert acme("terminals", "roll-call", "9", "on") == 2
    assert "no device with id 9" in acme.err


def test_enrol_for_an_unknown_site_enrols_nothing(acme: Cli) -> None:
    status = acme("terminals", "enrol", "--name", "Till 1", "--role", "till",
                  "--site", "ACME", "--site", "NOPE")  # fmt: skip
    assert status == 2
    assert "no site with code 'NOPE'" in acme.err
    assert "Device key" not in acme.out
    assert acme("terminals", "list") == 0
    assert "No devices enrolled." in acme.out


# --- outbox ----------------------------------------------------------------------------------


def test_outbox_prints_the_latest_messages_newest_first(acme: Cli) -> None:
    assert acme("site", "create", "BETA", "--name", "Beta", "--time-zone", "UTC") == 0
    start = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

    async def enqueue(session: AsyncSession) -> None:
        sites = {s.code: s for s in await session.scalars(select(Site))}
        for minutes, code, channel, recipient, subject, body in [
            (0, "ACME", "email", "jane@example.com", "Votre code", "Votre code : 482913"),
            (1, "ACME", "sms", "+33612345642", "", "Code 771204"),
            (2, "BETA", "email", "bob@example.com", "Beta news", "Hello Bob"),
        ]:
            await enqueue_message(
                session,
                site=sites[code],
                account=None,
                channel=channel,  # type: ignore[arg-type]
                recipient=recipient,
                subject=subject,
                body=body,
                now=start + dt.timedelta(minutes=minutes),
            )
        await session.commit()

    read_database(acme.url, enqueue)

    assert acme("outbox") == 0
    out = acme.out
    assert out.index("bob@example.com") < out.index("+33612345642") < out.index("jane@example.com")
    assert "2026-11-02 10:00:00 CET  ACME  email to jane@example.com" in out
    assert "Subject: Votre code" in out
    assert "Votre code : 482913" in out
    assert "2026-11-02 09:02:00 UTC  BETA  email to bob@example.com" in out

    assert acme("outbox", "--site", "acme", "--limit", "1") == 0
    assert "Code 771204" in acme.out
    assert "482913" not in acme.out
    assert "bob@example.com" not in acme.out

    assert acme("outbox", "--site", "NOPE") == 2
    assert "no site with code 'NOPE'" in acme.err

    # For scripts: the same messages as JSON, newest first, times in UTC.
    assert acme("outbox", "--json", "--limit", "2") == 0
    messages = json.loads(acme.out)
    assert [(m["site"], m["channel"], m["recipient"]) for m in messages] == [
        ("BETA", "email", "bob@example.com"),
        ("ACME", "sms", "+33612345642"),
    ]
    assert messages[1]["body"] == "Code 771204"
    assert messages[1]["created_at"] == "2026-11-02T09:01:00+00:00"
    assert (messages[1]["attempts"], messages[1]["last_error"]) == (0, None)


def test_outbox_when_empty(acme: Cli) -> None:
    assert acme("outbox") == 0
    assert acme.out.strip() == "The outbox is empty."
    assert acme("outbox", "--json") == 0
    assert json.loads(acme.out) == []

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)

    assert read_database(acme.url, count) == 0


# --- errors ----------------------------------------------------------------------------------


def test_an_unreachable_database_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    status = main(["terminals", "list", "--database-url", "postgresql://nobody@127.0.0.1:1/x"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("kiosk-server: error: cannot use the database")
    assert len(err.strip().splitlines()) == 1


def test_database_url_is_taken_before_or_after_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["--database-url", url, "site", "create", "FIRST", "--name", "First"]) == 0
    assert main(["site", "show", "FIRST", "--database-url", url]) == 0
    monkeypatch.setenv("KIOSK_SERVER_DATABASE_URL", url)
    assert main(["site", "show", "FIRST"]) == 0
    assert 'name = "First"' in capsys.readouterr().out
    # None of this touched the demo database in the data directory.
    assert not (tmp_path / "data" / "demo.sqlite3").exists()
