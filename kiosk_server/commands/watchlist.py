"""`kiosk-server watchlist`: add, list and remove the people a site's reception looks at before
they come in (`services.watchlist`)."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk_server.commands.common import (
    CommandError,
    add_database_option,
    format_time,
    in_transaction,
    now,
    prepare_database,
)


def _watchlist_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kiosk_server.admin.sites import get_site
    from kiosk_server.schemas_watchlist import WatchlistEntryIn
    from kiosk_server.services import watchlist

    try:
        body = WatchlistEntryIn(full_name=args.name, birth_date=args.birth_date, reason=args.reason)
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'-'.join(str(part) for part in error['loc']).replace('_', '-')}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise CommandError(problems.replace("--full-name", "--name")) from None

    async def work(session: Any) -> Any:
        site = await get_site(session, args.code)
        entry = await watchlist.add(
            session, site=site, body=body, added_by=args.by, account=None, now=now()
        )
        return entry.id, site.code

    url = prepare_database(args)
    entry_id, code = in_transaction(url, work)
    print(f"Watchlist entry {entry_id} added to {code}: {body.full_name}")
    return 0


def _watchlist_list(args: argparse.Namespace) -> int:
    from kiosk_server.admin.sites import get_site
    from kiosk_server.services import watchlist

    async def work(session: Any) -> Any:
        site = await get_site(session, args.code)
        return site.time_zone, await watchlist.entries(session, site=site)

    url = prepare_database(args)
    zone, entries = in_transaction(url, work)
    if not entries:
        print(f"The watchlist of {args.code.strip().upper()} is empty.")
        return 0
    rows = [("ID", "NAME", "BORN", "REASON", "ADDED BY", "ADDED")]
    rows += [
        (
            str(entry.id),
            entry.full_name,
            entry.birth_date.isoformat() if entry.birth_date else "-",
            entry.reason,
            entry.added_by,
            format_time(entry.created_at, zone),
        )
        for entry in entries
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _watchlist_remove(args: argparse.Namespace) -> int:
    from kiosk_server.admin.sites import get_site
    from kiosk_server.problems import ProblemError
    from kiosk_server.services import watchlist

    async def work(session: Any) -> None:
        site = await get_site(session, args.code)
        try:
            await watchlist.remove(session, site=site, entry_id=args.id, account=None, now=now())
        except ProblemError:
            raise CommandError(
                f"no watchlist entry {args.id} on {site.code} (see: watchlist list {site.code})"
            ) from None

    url = prepare_database(args)
    in_transaction(url, work)
    print(f"Watchlist entry {args.id} removed.")
    return 0


def register(commands: Any) -> None:
    """Add this group's commands to `kiosk-server`'s."""
    group = commands.add_parser(
        "watchlist", help="people reception looks at before they come in (per site)"
    )
    actions = group.add_subparsers(title="watchlist commands", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a person: a matching visitor's check-in is held")
    add.add_argument("code", metavar="CODE", help="the site's solution code")
    add.add_argument("--name", required=True, help="full name, as on an identity document")
    add.add_argument("--birth-date", metavar="YYYY-MM-DD", help="to compare with a document")
    add.add_argument("--reason", required=True, help="what reception and security are told")
    add.add_argument("--by", required=True, metavar="NAME", help="who asks for it")
    add.set_defaults(handler=_watchlist_add)
    list_ = actions.add_parser("list", help="a site's entries, newest first")
    list_.add_argument("code", metavar="CODE")
    list_.set_defaults(handler=_watchlist_list)
    remove = actions.add_parser("remove", help="remove an entry")
    remove.add_argument("code", metavar="CODE")
    remove.add_argument("id", type=int, metavar="ID")
    remove.set_defaults(handler=_watchlist_remove)
    for command in (add, list_, remove):
        add_database_option(command, default=argparse.SUPPRESS)
