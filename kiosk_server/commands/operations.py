"""`kiosk-server outbox`, `purge`, `payments reconcile` and `demo`: running a site day to day."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from kiosk_server.commands.common import (
    CommandError,
    add_database_option,
    format_time,
    in_transaction,
    now,
    prepare_database,
    shown_url,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def _outbox(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from kiosk_server.admin.sites import get_site
    from kiosk_server.models import OutboxMessage, Site
    from kiosk_server.notify.outbox import latest_messages

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    url = prepare_database(args)

    async def read(session: AsyncSession) -> tuple[list[OutboxMessage], dict[int, Site]]:
        if args.site is not None:
            await get_site(session, args.site)  # An unknown code is an error, not "no messages".
        messages = await latest_messages(session, site_code=args.site, limit=args.limit)
        sites = {site.id: site for site in await session.scalars(select(Site))}
        return messages, sites

    messages, sites = in_transaction(url, read)
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
            f"{format_time(message.created_at, site.time_zone if site else None)}  "
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


def _purge(args: argparse.Namespace) -> int:
    from kiosk_server.admin.purge import purge

    url = prepare_database(args)
    report = in_transaction(url, lambda session: purge(session, site_code=args.site, now=now()))
    for done in report.sites:
        print(
            f"Site {done.site_code}: {done.visitors_anonymised} visitor(s) anonymised, "
            f"{done.messages_deleted} message(s) to them deleted, "
            f"{done.audit_entries_scrubbed} audit detail(s) scrubbed, "
            f"{done.visits_expired} visit(s) expired"
        )
    print(f"{report.idempotency_keys_deleted} used idempotency key(s) deleted")
    return 0


def _payments_reconcile(args: argparse.Namespace) -> int:
    from kiosk_server.clock import SystemClock
    from kiosk_server.db import make_engine, make_session_factory
    from kiosk_server.payments.sandbox import SandboxProvider, webhook_secret_from
    from kiosk_server.services.top_ups import expire_stale_top_ups
    from kiosk_server.settings import ServerSettings

    url = prepare_database(args)

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


def _migrate(args: argparse.Namespace) -> int:
    from kiosk_server.migrations import HEAD

    url = prepare_database(args)
    print(f"Database at migration {HEAD}: {shown_url(url)}")
    return 0


def register(commands: Any) -> None:
    """Add this group's commands to `kiosk-server`'s."""
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
    migrate = commands.add_parser(
        "migrate",
        help="bring the database to this version's schema (the upgrade step; serving and every "
        "command do it too)",
    )
    migrate.set_defaults(handler=_migrate)
    for command in (
        outbox,
        purge_,
        reconcile,
        demo,
        migrate,
    ):
        add_database_option(command, default=argparse.SUPPRESS)
