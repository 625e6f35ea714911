"""`kiosk-server`: run the service, and the admin commands that work on its database directly.

Heavy modules (uvicorn, SQLAlchemy, the app) are imported inside the commands, so that
`kiosk-server --help` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
PROG = "kiosk-server"


class CommandError(Exception):
    """A one-line reason a command could not do its work."""


# --- database --------------------------------------------------------------------------------


def _database_url(args: argparse.Namespace) -> tuple[str, bool]:
    """The URL to work on, and whether it is the embedded demo's file (which is seeded)."""
    if args.database_url:
        return args.database_url, False
    configured = os.environ.get("KIOSK_SERVER_DATABASE_URL")
    if configured:
        return configured, False
    from kiosk_server.paths import demo_database_url

    return demo_database_url(), True


def _prepare_database(args: argparse.Namespace) -> str:
    """Migrate the database (and seed the demo when it is the demo's file); return its URL."""
    url, is_demo = _database_url(args)
    if is_demo:
        from kiosk_server.demo import ensure_demo

        ensure_demo(url)
    else:
        from kiosk_server.db import upgrade

        upgrade(url)
    return url


def _in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction, committed only when it returns."""
    from kiosk_server.db import make_engine, make_session_factory

    async def run() -> T:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _now() -> Any:
    from kiosk_server.clock import SystemClock

    return SystemClock().now()


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def _format_time(value: Any, time_zone: str | None = None) -> str:
    from zoneinfo import ZoneInfo

    from kiosk_server.db import as_utc

    when = as_utc(value)
    if time_zone:
        when = when.astimezone(ZoneInfo(time_zone))
    return when.strftime("%Y-%m-%d %H:%M:%S %Z")


# --- serve -----------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    url, is_demo = _database_url(args)
    if is_demo:
        from kiosk_server.demo import ensure_demo
        from kiosk_server.paths import demo_database_path, demo_device_key_path

        ensure_demo(url)
        print(f"Demo database: {demo_database_path()}")
        print(f"Demo terminal key: in {demo_device_key_path()}")
    else:
        from kiosk_server.db import upgrade

        upgrade(url)  # Once here, not in each worker.
    # Workers are separate processes: they read their settings from the environment.
    os.environ["KIOSK_SERVER_DATABASE_URL"] = url
    if args.public_base_url:
        os.environ["KIOSK_SERVER_PUBLIC_BASE_URL"] = args.public_base_url
    elif not os.environ.get("KIOSK_SERVER_PUBLIC_BASE_URL"):
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        os.environ["KIOSK_SERVER_PUBLIC_BASE_URL"] = f"http://{host}:{args.port}"
    import uvicorn

    from kiosk_server.http_protocol import best_protocol

    try:
        protocol = best_protocol(args.http)
    except ImportError as missing:
        raise CommandError(f"--http {args.http}: {missing}") from None
    uvicorn.run(
        "kiosk_server.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=protocol,
        access_log=not args.no_access_log,
    )
    return 0


# --- site ------------------------------------------------------------------------------------


def _site_create(args: argparse.Namespace) -> int:
    from kiosk_server.admin.sites import create_site

    url = _prepare_database(args)
    site = _in_transaction(
        url,
        lambda session: create_site(
            session,
            code=args.code,
            name=args.name,
            currency=args.currency,
            locale=args.locale,
            time_zone=args.time_zone,
            now=_now(),
        ),
    )
    print(
        f"Site {site.code} created: {site.name} ({site.currency}, {site.locale}, {site.time_zone})"
    )
    return 0


def _site_set(args: argparse.Namespace) -> int:
    from kiosk_server.admin.sites import apply_site_file, parse_site_file

    text = _read_text(args.file)
    parse_site_file(text)  # Refuse a bad file before touching the database.
    url = _prepare_database(args)
    site = _in_transaction(url, lambda session: apply_site_file(session, code=args.code, text=text))
    print(f"Site {site.code} updated from {args.file}")
    return 0


def _site_show(args: argparse.Namespace) -> int:
    import tomli_w

    from kiosk_server.admin.sites import effective_settings, get_site

    url = _prepare_database(args)
    site = _in_transaction(url, lambda session: get_site(session, args.code))
    settings = effective_settings(site).model_dump(mode="json", exclude_none=True)
    password_set = bool(settings.get("smtp", {}).pop("password", None))
    print(f"# Site {site.code}, created {_format_time(site.created_at, site.time_zone)}")
    if password_set:
        print("# settings.smtp.password is set (not shown)")
    document = {
        "name": site.name,
        "currency": site.currency,
        "locale": site.locale,
        "time_zone": site.time_zone,
        "settings": settings,
    }
    print(tomli_w.dumps(document), end="")
    return 0


# --- accounts --------------------------------------------------------------------------------


def _accounts_import(args: argparse.Namespace) -> int:
    from kiosk_server.admin.accounts import AccountImportRejected, import_accounts

    text = _read_text(args.file)
    url = _prepare_database(args)
    try:
        result = _in_transaction(
            url,
            lambda session: import_accounts(
                session, site_code=args.code, text=text, update=args.update, now=_now()
            ),
        )
    except AccountImportRejected as rejected:
        for line, message in rejected.errors:
            print(f"{args.file}:{line}: {message}", file=sys.stderr)
        raise
    print(f"{len(result.created)} account(s) created, {len(result.updated)} updated")
    if result.opened:
        print(
            f"{result.opened} opening balance(s), {result.opening_cents / 100:.2f} in all "
            "(a ticket each in the person's history)"
        )
    return 0


def _accounts_roles(args: argparse.Namespace) -> int:
    from kiosk_server.admin.accounts import set_roles

    roles = [part for part in args.set.split(",") if part.strip()]
    url = _prepare_database(args)
    account = _in_transaction(
        url,
        lambda session: set_roles(
            session, site_code=args.code, identifier=args.identifier, roles=roles
        ),
    )
    shown = ", ".join(["member", *account.roles])
    print(f"Account {account.identifier} on {args.code.upper()}: {shown}")
    return 0


def _accounts_revoke_connect(args: argparse.Namespace) -> int:
    from kiosk_server.admin.accounts import revoke_connect

    url = _prepare_database(args)
    account = _in_transaction(
        url,
        lambda session: revoke_connect(session, site_code=args.code, identifier=args.identifier),
    )
    print(
        f"Account {account.identifier} on {args.code.upper()}: its connect QR no longer works "
        f"(print a new one with `{PROG} connect-qr {args.code.upper()} "
        f"--identifier {account.identifier} --out DIR`)"
    )
    return 0


def _accounts_rotate_badge(args: argparse.Namespace) -> int:
    from kiosk_server.admin.accounts import rotate_badge

    url = _prepare_database(args)
    account = _in_transaction(
        url,
        lambda session: rotate_badge(session, site_code=args.code, identifier=args.identifier),
    )
    print(
        f"Account {account.identifier} on {args.code.upper()}: new badge secret, every badge "
        "code shown before no longer works"
    )
    return 0


def _accounts_statement(args: argparse.Namespace) -> int:
    import csv
    import datetime as dt
    import re

    from kiosk_server.admin.accounts import get_account
    from kiosk_server.admin.sites import get_site
    from kiosk_server.clock import SystemClock
    from kiosk_server.problems import ProblemError
    from kiosk_server.schemas_money import Statement
    from kiosk_server.services.statements import monthly_statement

    if not re.fullmatch(r"20[0-9]{2}-(0[1-9]|1[0-2])", args.month):
        raise CommandError("MONTH must be YYYY-MM, such as 2026-11")
    month = dt.date(int(args.month[:4]), int(args.month[5:]), 1)
    url = _prepare_database(args)

    async def build(session: AsyncSession) -> tuple[Statement, str]:
        site = await get_site(session, args.code)
        account = await get_account(session, site_code=args.code, identifier=args.identifier)
        try:
            statement = await monthly_statement(
                session, account=account, site=site, month=month, now=SystemClock().now()
            )
        except ProblemError as exc:
            raise CommandError(f"{args.month} has not begun yet") from exc
        return statement, site.locale

    statement, locale = _in_transaction(url, build)
    if args.pdf is not None:
        from kiosk_server.statement_pdf import statement_pdf

        Path(args.pdf).write_bytes(statement_pdf(statement, locale=locale))
        print(f"Statement of {statement.month} for {statement.identifier} written to {args.pdf}")
        return 0

    def cents(amount: int) -> str:
        return f"{amount / 100:.2f}"

    rows = [
        ("opening_balance", cents(statement.opening_balance.amount_cents), ""),
        ("top_ups", cents(statement.top_ups.amount.amount_cents), str(statement.top_ups.count)),
        (
            "purchases",
            cents(statement.purchases.amount.amount_cents),
            str(statement.purchases.count),
        ),
        ("refunds", cents(statement.refunds.amount.amount_cents), str(statement.refunds.count)),
        (
            "adjustments",
            cents(statement.adjustments.amount.amount_cents),
            str(statement.adjustments.count),
        ),
        ("closing_balance", cents(statement.closing_balance.amount_cents), ""),
    ]
    rows += [
        (f"vat_{rate.rate_bp}bp", cents(rate.total.amount_cents), cents(rate.vat.amount_cents))
        for rate in statement.vat
    ]
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["line", f"amount_{statement.opening_balance.currency}", "count_or_vat"])
        writer.writerows(rows)
        return 0
    print(
        f"Statement of {statement.month} for {statement.identifier} ({statement.name}) on "
        f"{statement.site.code}, in {statement.opening_balance.currency}"
    )
    for line, amount, extra in rows:
        detail = ""
        if extra and line.startswith("vat_"):
            detail = f"  (VAT {extra})"
        elif extra:
            detail = f"  ({extra})"
        print(f"  {line:<18}{amount:>12}{detail}")
    return 0


# --- connect-qr ------------------------------------------------------------------------------

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def connect_qr_file_name(site_code: str, identifier: str, file_format: str) -> str:
    """`<CODE>-<identifier>.<format>`, with any character that is unsafe in a file name (a
    slash, a space...) replaced by `_`."""
    safe = _UNSAFE_IN_FILE_NAME.sub("_", identifier)
    return f"{site_code}-{safe}.{file_format}"


def _connect_qr(args: argparse.Namespace) -> int:
    import segno

    from kiosk_server.admin.accounts import connect_letters
    from kiosk_server.admin.sites import normalise_site_code

    code = normalise_site_code(args.code)
    url = _prepare_database(args)
    letters = _in_transaction(
        url,
        lambda session: connect_letters(session, site_code=code, identifiers=args.identifier or ()),
    )
    names = [connect_qr_file_name(code, letter.identifier, args.format) for letter in letters]
    if len(set(names)) != len(names):
        raise CommandError("two identifiers give the same file name; use --identifier")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for letter, name in zip(letters, names, strict=True):
            # Level M, no micro QR: a version-2 code, as the terminal draws every token.
            qr = segno.make(letter.token, error="m", micro=False)
            qr.save(str(out / name), kind=args.format, scale=8, border=4)
    except OSError as exc:
        raise CommandError(f"cannot write to {out}: {exc.strerror}") from None
    print(f"{len(letters)} connect QR file(s) written to {out}")
    return 0


def _accounts_adjust(args: argparse.Namespace) -> int:
    from kiosk_server.admin.ledger import adjust_balance, parse_amount

    amount_cents = parse_amount(args.amount)
    url = _prepare_database(args)
    done = _in_transaction(
        url,
        lambda session: adjust_balance(
            session,
            site_code=args.code,
            identifier=args.identifier,
            amount_cents=amount_cents,
            reason=args.reason,
            now=_now(),
        ),
    )

    def shown(cents: int) -> str:
        sign = "-" if cents < 0 else ""
        return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d} {done.currency}"

    print(
        f"Account {done.identifier} ({done.name}) adjusted by {shown(done.amount_cents)}: "
        f"balance {shown(done.balance_cents)} (ticket {done.ticket_id})"
    )
    return 0


# --- terminals -------------------------------------------------------------------------------


def _terminals_enrol(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import enrol_device

    url = _prepare_database(args)
    device = _in_transaction(
        url,
        lambda session: enrol_device(
            session, name=args.name, role=args.role, site_codes=args.site, now=_now()
        ),
    )
    print(
        f"Device {device.id} enrolled: {device.name} ({device.role}) for "
        f"{', '.join(device.site_codes)}"
    )
    print(f"Device key: {device.key}")
    print("Keep it now: it will not be shown again (only its hash is stored).")
    return 0


def _terminals_list(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import list_devices

    url = _prepare_database(args)
    devices = _in_transaction(url, list_devices)
    if not devices:
        print("No devices enrolled.")
        return 0
    rows = [("ID", "NAME", "ROLE", "SITES", "CREATED", "REVOKED")]
    rows += [
        (
            str(d.id),
            d.name,
            d.role,
            ",".join(d.site_codes),
            _format_time(d.created_at),
            _format_time(d.revoked_at) if d.revoked_at else "-",
        )
        for d in devices
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _terminals_revoke(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import revoke_device

    url = _prepare_database(args)
    device = _in_transaction(
        url, lambda session: revoke_device(session, device_id=args.id, now=_now())
    )
    print(f"Device {device.id} ({device.name}) revoked: its key no longer works")
    return 0


# --- help ------------------------------------------------------------------------------------


def _help_load(args: argparse.Namespace) -> int:
    from kiosk_server.admin.help import HelpFileError, load_help

    text = _read_text(args.file)
    url = _prepare_database(args)
    try:
        count = _in_transaction(
            url, lambda session: load_help(session, site_code=args.code, text=text)
        )
    except HelpFileError as exc:
        print(f"{PROG}: error: {args.file}: nothing loaded", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    print(f"Help of {args.code.strip().upper()} loaded from {args.file}: {count} questions")
    return 0


# --- catalogue -------------------------------------------------------------------------------


def _catalogue_load(args: argparse.Namespace) -> int:
    from kiosk_server.admin.catalogue import CatalogueFileError, load_catalogue

    text = _read_text(args.file)
    url = _prepare_database(args)
    try:
        report = _in_transaction(
            url, lambda session: load_catalogue(session, site_code=args.code, text=text)
        )
    except CatalogueFileError as exc:
        # Every error, one per line, each with its item's code: the admin fixes them all at once.
        print(f"{PROG}: error: {args.file}: nothing loaded", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    print(
        f"Catalogue of {args.code.strip().upper()} loaded from {args.file}: "
        f"{len(report.created)} created, {len(report.updated)} updated"
    )
    return 0


# --- outbox ----------------------------------------------------------------------------------


def _outbox(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from kiosk_server.admin.sites import get_site
    from kiosk_server.models import OutboxMessage, Site
    from kiosk_server.notify.outbox import latest_messages

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    url = _prepare_database(args)

    async def read(session: AsyncSession) -> tuple[list[OutboxMessage], dict[int, Site]]:
        if args.site is not None:
            await get_site(session, args.site)  # An unknown code is an error, not "no messages".
        messages = await latest_messages(session, site_code=args.site, limit=args.limit)
        sites = {site.id: site for site in await session.scalars(select(Site))}
        return messages, sites

    messages, sites = _in_transaction(url, read)
    if args.json:
        _print_outbox_json(messages, sites)
        return 0
    if not messages:
        print("The outbox is empty.")
        return 0
    for index, message in enumerate(messages):
        site = sites.get(message.site_id)
        if index:
            print("-" * 60)
        print(
            f"{_format_time(message.created_at, site.time_zone if site else None)}  "
            f"{site.code if site else '?'}  {message.channel} to {message.recipient}"
        )
        if message.subject:
            print(f"Subject: {message.subject}")
        for filename in message.attachments:
            print(f"Attachment: {filename}")
        print()
        print(message.body.rstrip("\n"))
        if message.last_error:
            print(f"(not delivered after {message.attempts} attempt(s): {message.last_error})")
    return 0


def _print_outbox_json(messages: list[Any], sites: dict[int, Any]) -> None:
    """The messages as a JSON array, newest first (`[]` when there are none): for scripts."""
    import json

    from kiosk_server.db import as_utc

    print(
        json.dumps(
            [
                {
                    "id": message.id,
                    "site": site.code if (site := sites.get(message.site_id)) else None,
                    "channel": message.channel,
                    "recipient": message.recipient,
                    "subject": message.subject,
                    "body": message.body,
                    "attachments": sorted(message.attachments),
                    "created_at": as_utc(message.created_at).isoformat(),
                    "attempts": message.attempts,
                    "last_error": message.last_error,
                }
                for message in messages
            ],
            ensure_ascii=False,
            indent=2,
        )
    )


# --- purge -----------------------------------------------------------------------------------


def _purge(args: argparse.Namespace) -> int:
    from kiosk_server.admin.purge import purge

    url = _prepare_database(args)
    report = _in_transaction(url, lambda session: purge(session, site_code=args.site, now=_now()))
    for done in report.sites:
        print(
            f"Site {done.site_code}: {done.visitors_anonymised} visitor(s) anonymised, "
            f"{done.messages_deleted} message(s) to them deleted, "
            f"{done.audit_entries_scrubbed} audit detail(s) scrubbed, "
            f"{done.visits_expired} visit(s) expired"
        )
    print(f"{report.idempotency_keys_deleted} used idempotency key(s) deleted")
    return 0


# --- payments --------------------------------------------------------------------------------


def _payments_reconcile(args: argparse.Namespace) -> int:
    from kiosk_server.clock import SystemClock
    from kiosk_server.db import make_engine, make_session_factory
    from kiosk_server.payments.sandbox import SandboxProvider, webhook_secret_from
    from kiosk_server.services.top_ups import expire_stale_top_ups
    from kiosk_server.settings import ServerSettings

    url = _prepare_database(args)

    async def run() -> dict[str, int]:
        engine = make_engine(url)
        try:
            session_factory = make_session_factory(engine)
            clock = SystemClock()
            provider = SandboxProvider(
                session_factory,
                clock=clock,
                secret=lambda: webhook_secret_from(ServerSettings(database_url=url)),
            )
            return await expire_stale_top_ups(session_factory, provider, clock.now())
        finally:
            await engine.dispose()

    counts = asyncio.run(run())
    if not counts:
        print("No pending top-up past its expiry.")
    for state, count in sorted(counts.items()):
        print(f"{count} top-up(s) {state}")
    return 0


# --- demo ------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from kiosk_server.demo import DEMO_SITES, ensure_demo
    from kiosk_server.paths import demo_database_path, demo_database_url, demo_device_key_path

    url = args.database_url or demo_database_url()
    ensure_demo(url)
    where = demo_database_path() if not args.database_url else url
    print(f"Demo database: {where}")
    print(f"Demo terminal key: in {demo_device_key_path()}")
    print(f"Demo sites: {', '.join(site.code for site in DEMO_SITES)}")
    return 0


# --- parser ----------------------------------------------------------------------------------


def _add_database_option(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    parser.add_argument(
        "--database-url",
        default=default,
        help="sqlite:///PATH or postgresql://USER@HOST/DB (default: $KIOSK_SERVER_DATABASE_URL, "
        "else the embedded demo's SQLite file)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the badge kiosk service (no command), or administer its database.",
    )
    _add_database_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--http",
        choices=("auto", "httptools", "h11"),
        default="auto",
        help="HTTP parser (auto: httptools where installed, else h11)",
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log a line per request"
    )
    parser.add_argument(
        "--public-base-url", help="URL people's phones reach the service at (links in messages)"
    )
    parser.set_defaults(handler=_serve)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    site = commands.add_parser("site", help="create, set or show a site")
    site_commands = site.add_subparsers(title="site commands", metavar="ACTION", required=True)
    create = site_commands.add_parser("create", help="create a site")
    create.add_argument("code", metavar="CODE", help="solution code (2-32 of A-Z, 0-9, -)")
    create.add_argument("--name", required=True)
    create.add_argument("--currency", default="EUR")
    create.add_argument("--locale", default="fr_FR")
    create.add_argument("--time-zone", default="Europe/Paris")
    create.set_defaults(handler=_site_create)
    set_ = site_commands.add_parser("set", help="set a site's name and policies from a TOML file")
    set_.add_argument("code", metavar="CODE")
    set_.add_argument("file", metavar="FILE.toml")
    set_.set_defaults(handler=_site_set)
    show = site_commands.add_parser("show", help="print a site and its policies as TOML")
    show.add_argument("code", metavar="CODE")
    show.set_defaults(handler=_site_show)

    accounts = commands.add_parser("accounts", help="import accounts, set roles")
    account_commands = accounts.add_subparsers(
        title="accounts commands", metavar="ACTION", required=True
    )
    import_ = account_commands.add_parser(
        "import",
        help="import accounts from CSV (identifier,name,email,phone[,roles][,balance])",
        description="Import accounts from a UTF-8 CSV file, all or nothing: every row is "
        "checked first, and one bad row (named with its line) imports none.",
        epilog="Columns, comma-separated, with this header line: identifier (up to 64 "
        "characters, unique on the site), name (up to 200), email, phone (an email or a phone "
        "is needed, to send the activation code; a phone in international form, +33612345642, "
        "or national where the site's locale gives the country), and optionally roles, "
        "separated by semicolons (reception;admin; empty for a member), and optionally balance, "
        "a new account's opening balance (12.50; empty or 0 for none), credited through the "
        "ledger with a ticket. New accounts are pending until their owner activates them at a "
        "kiosk. See examples/accounts.csv.",
    )
    import_.add_argument("code", metavar="CODE")
    import_.add_argument("file", metavar="FILE.csv")
    import_.add_argument("--update", action="store_true", help="update accounts that already exist")
    import_.set_defaults(handler=_accounts_import)
    roles = account_commands.add_parser("roles", help="set the roles of an account")
    roles.add_argument("code", metavar="CODE")
    roles.add_argument("identifier", metavar="IDENTIFIER")
    roles.add_argument(
        "--set",
        required=True,
        metavar="ROLES",
        help='comma-separated: reception,admin ("" for none)',
    )
    roles.set_defaults(handler=_accounts_roles)
    adjust = account_commands.add_parser(
        "adjust", help="credit or debit an account, with a reason (an adjustment ticket)"
    )
    adjust.add_argument("code", metavar="CODE")
    adjust.add_argument("identifier", metavar="IDENTIFIER")
    adjust.add_argument("amount", metavar="AMOUNT", help="e.g. 10.00 or -2.50")
    adjust.add_argument("--reason", required=True, help="shown on the person's ticket")
    adjust.set_defaults(handler=_accounts_adjust)
    revoke_connect = account_commands.add_parser(
        "revoke-connect", help="void an account's welcome-letter QR (a lost letter)"
    )
    revoke_connect.add_argument("code", metavar="CODE")
    revoke_connect.add_argument("identifier", metavar="IDENTIFIER")
    revoke_connect.set_defaults(handler=_accounts_revoke_connect)
    statement = account_commands.add_parser(
        "statement", help="an account's monthly statement (totals equal to the ledger)"
    )
    statement.add_argument("code", metavar="CODE")
    statement.add_argument("identifier", metavar="IDENTIFIER")
    statement.add_argument("month", metavar="MONTH", help="YYYY-MM, the site's calendar")
    statement.add_argument("--csv", action="store_true", help="as CSV, amounts in units")
    statement.add_argument("--pdf", metavar="FILE", help="write it as a PDF file instead")
    statement.set_defaults(handler=_accounts_statement)
    rotate_badge = account_commands.add_parser(
        "rotate-badge", help="give an account a new badge secret (voids every badge code before)"
    )
    rotate_badge.add_argument("code", metavar="CODE")
    rotate_badge.add_argument("identifier", metavar="IDENTIFIER")
    rotate_badge.set_defaults(handler=_accounts_rotate_badge)

    terminals = commands.add_parser("terminals", help="enrol, list or revoke devices")
    terminal_commands = terminals.add_subparsers(
        title="terminals commands", metavar="ACTION", required=True
    )
    enrol = terminal_commands.add_parser("enrol", help="enrol a device and print its key once")
    enrol.add_argument("--name", required=True)
    enrol.add_argument("--role", required=True, choices=("terminal", "till", "door", "kitchen"))
    enrol.add_argument(
        "--site", action="append", required=True, metavar="CODE", help="a site it serves (repeat)"
    )
    enrol.set_defaults(handler=_terminals_enrol)
    list_ = terminal_commands.add_parser("list", help="list devices")
    list_.set_defaults(handler=_terminals_list)
    revoke = terminal_commands.add_parser("revoke", help="revoke a device")
    revoke.add_argument("id", type=int, metavar="ID")
    revoke.set_defaults(handler=_terminals_revoke)

    connect_qr = commands.add_parser(
        "connect-qr", help="write the welcome-letter connect QR of a site's accounts as files"
    )
    connect_qr.add_argument("code", metavar="CODE")
    connect_qr.add_argument("--out", required=True, metavar="DIR", help="directory to write to")
    connect_qr.add_argument("--format", choices=("png", "svg"), default="png")
    connect_qr.add_argument(
        "--identifier",
        action="append",
        metavar="ID",
        help="only this account (repeat); every account of the site when not given",
    )
    connect_qr.set_defaults(handler=_connect_qr)

    catalogue = commands.add_parser("catalogue", help="load a site's catalogue")
    catalogue_commands = catalogue.add_subparsers(
        title="catalogue commands", metavar="ACTION", required=True
    )
    catalogue_load = catalogue_commands.add_parser(
        "load", help="add or update a site's items from a TOML file (all or nothing)"
    )
    catalogue_load.add_argument("code", metavar="CODE")
    catalogue_load.add_argument("file", metavar="FILE.toml")
    catalogue_load.set_defaults(handler=_catalogue_load)
    site_help = commands.add_parser("help", help="load a site's help (questions and answers)")
    help_commands = site_help.add_subparsers(title="help commands", metavar="ACTION", required=True)
    help_load = help_commands.add_parser(
        "load", help="replace a site's help and support contact with a TOML file's"
    )
    help_load.add_argument("code", metavar="CODE")
    help_load.add_argument("file", metavar="FILE.toml")
    help_load.set_defaults(handler=_help_load)
    outbox = commands.add_parser("outbox", help="print the latest messages not yet delivered")
    outbox.add_argument("--site", metavar="CODE")
    outbox.add_argument("--limit", type=int, default=10)
    outbox.add_argument(
        "--json",
        action="store_true",
        help="print the messages as a JSON array (id, site, channel, recipient, subject, body, "
        "attachments, created_at in UTC, attempts, last_error)",
    )
    outbox.set_defaults(handler=_outbox)

    purge_ = commands.add_parser(
        "purge", help="delete visitor personal data past the retention period (schedule it)"
    )
    purge_.add_argument("--site", metavar="CODE", help="only this site (default: every site)")
    purge_.set_defaults(handler=_purge)

    payments = commands.add_parser("payments", help="online top-ups")
    payment_commands = payments.add_subparsers(
        title="payments commands", metavar="ACTION", required=True
    )
    reconcile = payment_commands.add_parser(
        "reconcile",
        help="settle pending top-ups past their expiry: ask the provider, then credit or expire",
    )
    reconcile.set_defaults(handler=_payments_reconcile)

    demo = commands.add_parser("demo", help="seed the demo database and print where it is")
    demo.set_defaults(handler=_demo)

    # Every command takes --database-url after its name too. SUPPRESS keeps a command from
    # overwriting the value given before the command's name with its own default.
    for command in (
        create,
        set_,
        show,
        import_,
        roles,
        adjust,
        revoke_connect,
        rotate_badge,
        statement,
        enrol,
        list_,
        revoke,
        connect_qr,
        catalogue_load,
        help_load,
        outbox,
        purge_,
        reconcile,
        demo,
    ):
        _add_database_option(command, default=argparse.SUPPRESS)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `kiosk-server`; returns the exit status (2 on any error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Whoever read the output stopped (`kiosk-server outbox | head`): not an error. What is
        # still buffered goes nowhere, so that Python's flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - an admin sees one line, never a traceback
        print(f"{PROG}: error: {_describe(exc)}", file=sys.stderr)
        return 2


def _describe(exc: Exception) -> str:
    from kiosk_server.admin import AdminError

    if isinstance(exc, AdminError | CommandError):
        return _one_line(exc)
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError | OSError):
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        return f"cannot use the database: {_one_line(cause)}"
    if isinstance(exc, ValueError):
        return _one_line(exc)
    return f"unexpected {type(exc).__name__}: {_one_line(exc)}"


if __name__ == "__main__":
    sys.exit(main())
