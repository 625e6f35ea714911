"""`kiosk-server site`: create a site, set its policies from TOML, show them."""

from __future__ import annotations

import argparse
from typing import Any

from kiosk_server.commands.common import (
    add_database_option,
    format_time,
    in_transaction,
    now,
    prepare_database,
    read_text,
)


def _site_create(args: argparse.Namespace) -> int:
    from kiosk_server.admin.sites import create_site

    url = prepare_database(args)
    site = in_transaction(
        url,
        lambda session: create_site(
            session,
            code=args.code,
            name=args.name,
            currency=args.currency,
            locale=args.locale,
            time_zone=args.time_zone,
            now=now(),
        ),
    )
    print(
        f"Site {site.code} created: {site.name} ({site.currency}, {site.locale}, {site.time_zone})"
    )
    return 0


def _site_set(args: argparse.Namespace) -> int:
    from kiosk_server.admin.sites import apply_site_file, parse_site_file

    text = read_text(args.file)
    parse_site_file(text)  # Refuse a bad file before touching the database.
    url = prepare_database(args)
    site = in_transaction(url, lambda session: apply_site_file(session, code=args.code, text=text))
    print(f"Site {site.code} updated from {args.file}")
    return 0


def _site_show(args: argparse.Namespace) -> int:
    import tomli_w

    from kiosk_server.admin.sites import effective_settings, get_site

    url = prepare_database(args)
    site = in_transaction(url, lambda session: get_site(session, args.code))
    settings = effective_settings(site).model_dump(mode="json", exclude_none=True)
    password_set = bool(settings.get("smtp", {}).pop("password", None))
    print(f"# Site {site.code}, created {format_time(site.created_at, site.time_zone)}")
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


def register(commands: Any) -> None:
    """Add this group's commands to `kiosk-server`'s."""
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
    for command in (
        create,
        set_,
        show,
    ):
        add_database_option(command, default=argparse.SUPPRESS)
