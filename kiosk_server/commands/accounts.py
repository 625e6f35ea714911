"""`kiosk-server accounts` (import, roles, adjust, revoke-connect, statement, rotate-badge) and
`connect-qr` (the welcome letters' QR files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk_server.commands.common import (
    PROG,
    CommandError,
    add_database_option,
    in_transaction,
    now,
    prepare_database,
    read_text,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

import re


def _accounts_import(args: argparse.Namespace) -> int:
    from kiosk_server.admin.accounts import AccountImportRejected, import_accounts

    text = read_text(args.file)
    url = prepare_database(args)
    try:
        result = in_transaction(
            url,
            lambda session: import_accounts(
                session, site_code=args.code, text=text, update=args.update, now=now()
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
    url = prepare_database(args)
    account = in_transaction(
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

    url = prepare_database(args)
    account = in_transaction(
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

    url = prepare_database(args)
    account = in_transaction(
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
    url = prepare_database(args)

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

    statement, locale = in_transaction(url, build)
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
    url = prepare_database(args)
    letters = in_transaction(
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
    url = prepare_database(args)
    done = in_transaction(
        url,
        lambda session: adjust_balance(
            session,
            site_code=args.code,
            identifier=args.identifier,
            amount_cents=amount_cents,
            reason=args.reason,
            now=now(),
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


def register(commands: Any) -> None:
    """Add this group's commands to `kiosk-server`'s."""
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
        "separated by semicolons (reception;admin, or security; empty for a member), and "
        "optionally balance, "
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

    for command in (
        import_,
        roles,
        adjust,
        revoke_connect,
        statement,
        rotate_badge,
    ):
        add_database_option(command, default=argparse.SUPPRESS)


def register_letters(commands: Any) -> None:
    """Add `connect-qr` to `kiosk-server`'s commands."""
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
    add_database_option(connect_qr, default=argparse.SUPPRESS)
