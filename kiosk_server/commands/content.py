"""`kiosk-server catalogue load` and `help load`: a site's items and its help, from TOML."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kiosk_server.commands.common import (
    PROG,
    add_database_option,
    in_transaction,
    prepare_database,
    read_text,
)


def _help_load(args: argparse.Namespace) -> int:
    from kiosk_server.admin.help import HelpFileError, load_help

    text = read_text(args.file)
    url = prepare_database(args)
    try:
        count = in_transaction(
            url, lambda session: load_help(session, site_code=args.code, text=text)
        )
    except HelpFileError as exc:
        print(f"{PROG}: error: {args.file}: nothing loaded", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    print(f"Help of {args.code.strip().upper()} loaded from {args.file}: {count} questions")
    return 0


def _catalogue_load(args: argparse.Namespace) -> int:
    from kiosk_server.admin.catalogue import CatalogueFileError, load_catalogue

    text = read_text(args.file)
    url = prepare_database(args)
    try:
        report = in_transaction(
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


def register(commands: Any) -> None:
    """Add this group's commands to `kiosk-server`'s."""
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
    for command in (
        catalogue_load,
        help_load,
    ):
        add_database_option(command, default=argparse.SUPPRESS)
