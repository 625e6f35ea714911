"""`kiosk-server terminals`: enrol, list and revoke devices."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk_server.commands.common import (
    add_database_option,
    format_time,
    in_transaction,
    now,
    prepare_database,
)


def _terminals_enrol(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import enrol_device

    url = prepare_database(args)
    device = in_transaction(
        url,
        lambda session: enrol_device(
            session,
            name=args.name,
            role=args.role,
            site_codes=args.site,
            now=now(),
            roll_call=args.roll_call,
        ),
    )
    print(
        f"Device {device.id} enrolled: {device.name} ({device.role}) for "
        f"{', '.join(device.site_codes)}" + (", keeping the roll call" if args.roll_call else "")
    )
    print(f"Device key: {device.key}")
    print("Keep it now: it will not be shown again (only its hash is stored).")
    return 0


def _terminals_list(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import list_devices

    url = prepare_database(args)
    devices = in_transaction(url, list_devices)
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
            format_time(d.created_at),
            format_time(d.revoked_at) if d.revoked_at else "-",
        )
        for d in devices
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _terminals_roll_call(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import set_roll_call

    url = prepare_database(args)
    keeps = args.state == "on"
    device = in_transaction(
        url, lambda session: set_roll_call(session, device_id=args.id, keeps=keeps)
    )
    if keeps:
        print(f"Device {device.id} ({device.name}) keeps the roll call of its sites")
    else:
        print(f"Device {device.id} ({device.name}) no longer reads the roll call")
    return 0


def _terminals_revoke(args: argparse.Namespace) -> int:
    from kiosk_server.admin.devices import revoke_device

    url = prepare_database(args)
    device = in_transaction(
        url, lambda session: revoke_device(session, device_id=args.id, now=now())
    )
    print(f"Device {device.id} ({device.name}) revoked: its key no longer works")
    return 0


def register(commands: Any) -> None:
    """Add this group's commands to `kiosk-server`'s."""
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
    enrol.add_argument(
        "--roll-call",
        action="store_true",
        help="a terminal that keeps its sites' roll call without anyone signed in (reception "
        "terminals, the roll-call account of an SSH host)",
    )
    enrol.set_defaults(handler=_terminals_enrol)
    list_ = terminal_commands.add_parser("list", help="list devices")
    list_.set_defaults(handler=_terminals_list)
    revoke = terminal_commands.add_parser("revoke", help="revoke a device")
    revoke.add_argument("id", type=int, metavar="ID")
    revoke.set_defaults(handler=_terminals_revoke)
    roll_call = terminal_commands.add_parser(
        "roll-call", help="let a terminal keep its sites' roll call (on), or stop it (off)"
    )
    roll_call.add_argument("id", type=int, metavar="ID")
    roll_call.add_argument("state", choices=("on", "off"))
    roll_call.set_defaults(handler=_terminals_roll_call)
    for command in (
        enrol,
        list_,
        revoke,
        roll_call,
    ):
        add_database_option(command, default=argparse.SUPPRESS)
