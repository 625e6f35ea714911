"""`kiosk roll-call`: the evacuation roll call in a terminal, for an SSH session or a script.

It asks the service with this terminal's device key (a terminal enrolled to keep the roll call:
`kiosk-server terminals enrol --roll-call`), nobody signed in, and prints each site's list as
text, or as CSV with `--csv`. When the service cannot be reached, it prints the newest copy that
a reception terminal keeps (`kiosk.roll_call_cache`): in this terminal's data directory, or in
directories given with `--copies` (where other reception terminals' copies are gathered), and
says how old it is.

Exit status: 0 the live list, 3 a copy (the service could not be reached), 1 neither, 2 usage
or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kiosk.api.models import RollCall
    from kiosk.settings import KioskSettings

LIVE, NOTHING, USAGE, FROM_COPY = 0, 1, 2, 3
NAME_WIDTH = 30


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`kiosk roll-call`'s options."""
    parser = commands.add_parser(
        "roll-call",
        help="print the evacuation roll call (the service's, else the newest local copy)",
        description="Print who is on site now, from the service, or from the newest copy a "
        "reception terminal keeps when the service cannot be reached. Exit status: 0 live, "
        "3 from a copy, 1 neither.",
    )
    parser.add_argument("--csv", action="store_true", help="CSV instead of text")
    parser.add_argument("--site", metavar="CODE", help="only this site")
    parser.add_argument(
        "--copies",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="another data directory holding reception terminals' copies (repeat)",
    )


def run(args: argparse.Namespace, settings: KioskSettings, out: TextIO = sys.stdout) -> int:
    """Print the roll call; the exit status (see the module)."""
    from kiosk.i18n import _, set_language

    set_language(settings.language)
    zones: dict[str, dt.tzinfo] = {}
    try:
        roll_calls, zones = asyncio.run(_fetch(settings))
        live = True
    except Exception as error:  # noqa: BLE001 - any failure: the copy is what is left
        from kiosk.roll_call_cache import newest_copies

        print(_("The service cannot give the roll call: {reason}").format(reason=_why(error)),
              file=sys.stderr)  # fmt: skip
        roll_calls = newest_copies([settings.resolved_data_dir(), *args.copies])
        live = False
    if args.site:
        roll_calls = [r for r in roll_calls if r.site.code.upper() == args.site.upper()]
    if not roll_calls:
        print(_("No roll call, and no copy of one here."), file=sys.stderr)
        return NOTHING
    now = dt.datetime.now(dt.UTC)
    local = now.astimezone().tzinfo or dt.UTC
    for roll_call in roll_calls:
        zone = zones.get(roll_call.site.code, local)
        if args.csv:
            from kiosk.roll_call_cache import roll_call_csv

            out.write(roll_call_csv(roll_call, zone, now, live=live))
        else:
            out.write(text(roll_call, zone, now, live=live))
    return LIVE if live else FROM_COPY


def _why(error: BaseException) -> str:
    from kiosk.api.errors import ProblemError
    from kiosk.i18n import _
    from kiosk.problems import describe_error

    if isinstance(error, ProblemError) and error.code in ("device-role-forbidden",
                                                         "device-key-invalid"):  # fmt: skip
        return _(
            "this terminal is not enrolled to keep the roll call (on the server: kiosk-server "
            "terminals roll-call ID on)."
        )
    return describe_error(error)


async def _fetch(settings: KioskSettings) -> tuple[list[RollCall], dict[str, dt.tzinfo]]:
    """Each site's roll call and time zone, from the service (the embedded demo one, started
    here for the question, when the terminal has no server)."""
    from kiosk.api.client import KioskClient
    from kiosk.format import site_zone

    embedded = None
    if settings.server_url is not None:
        base_url, key = settings.server_url, settings.device_key or ""
    else:
        from kiosk.embedded import EmbeddedService

        embedded = EmbeddedService()
        embedded.start(settings.resolved_data_dir())
        endpoint = await embedded.wait_ready_async()
        base_url, key = endpoint.base_url, endpoint.device_key
    try:
        async with KioskClient(base_url, key, timeout=settings.request_timeout_seconds) as client:
            device = await client.device()
            answer = await client.device_roll_calls()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
    zones = {site.code: site_zone(site.time_zone) for site in device.sites}
    return list(answer.roll_calls), zones


def text(roll_call: RollCall, zone: dt.tzinfo, now: dt.datetime, *, live: bool) -> str:
    """The roll call as lines of text, each value made plain (no control characters)."""
    from kiosk.i18n import _, ngettext
    from kiosk.roll_call_cache import age, generated_at
    from kiosk.text import plain

    generated = generated_at(roll_call)
    count = len(roll_call.people)
    lines = [
        _("Roll call — {site} — {time}").format(
            site=plain(roll_call.site.name, max_length=60),
            time=generated.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        ),
        ngettext("%(n)d person on site", "%(n)d people on site", count) % {"n": count},
    ]
    if not live:
        minutes = int(age(roll_call, now).total_seconds() // 60)
        lines.append(
            _("LOCAL COPY, {minutes} min old: the service could not be reached.").format(
                minutes=minutes
            )
        )
    rows = [(_("Visitor"), _("Company"), _("Host"), _("Arrived"), "")]
    for person in roll_call.people:
        rows.append(
            (
                plain(f"{person.first_name} {person.last_name}", max_length=NAME_WIDTH),
                plain(person.company, max_length=NAME_WIDTH),
                plain(person.host_name, max_length=NAME_WIDTH),
                person.checked_in_at.astimezone(zone).strftime("%H:%M"),
                _("OVERDUE") if person.overdue else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines) + "\n\n"
