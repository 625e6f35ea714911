"""The `kiosk` command: runs the terminal (`kiosk [--server URL] [--config PATH] [--lang fr|en]`)
and its helpers (`kiosk hash-pin`, `kiosk scan`, `kiosk roll-call`).

Imports are lazy so that `kiosk --help` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="The badge kiosk terminal (embedded demo service by default)."
    )
    parser.add_argument("--server", metavar="URL", help="the service's base URL (http://...)")
    parser.add_argument("--config", metavar="PATH", type=Path, help="the terminal's kiosk.toml")
    parser.add_argument("--lang", choices=("fr", "en"), help="the language to start in")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "hash-pin", help="print an argon2 hash of a maintenance PIN, for maintenance_pin_hash"
    )
    from kiosk.roll_call_cli import add_parser

    add_parser(commands)
    commands.add_parser(
        "scan",
        help="read QR codes from image or video files, or a camera (kiosk scan --help)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["scan"]:
        # `scan` has options of its own (kiosk/scan_cli.py); hand them over untouched.
        from kiosk.scan_cli import run

        return run(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "hash-pin":
        return _hash_pin()
    if args.command == "roll-call":
        return _roll_call(args)
    return _run(args)


def _roll_call(args: argparse.Namespace) -> int:
    from kiosk.roll_call_cli import run
    from kiosk.settings import SettingsError, load_settings

    try:
        settings = load_settings(
            args.config, overrides={"server_url": args.server, "language": args.lang}
        )
    except SettingsError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 2
    return run(args, settings)


def _hash_pin() -> int:
    import getpass

    from argon2 import PasswordHasher

    pin = getpass.getpass("Maintenance PIN: ")
    if not pin.isdecimal() or not 4 <= len(pin) <= 12:
        print("The maintenance PIN must be 4 to 12 digits.", file=sys.stderr)
        return 2
    if getpass.getpass("Again: ") != pin:
        print("The two PINs differ.", file=sys.stderr)
        return 2
    print(PasswordHasher().hash(pin))
    return 0


def _no_terminal() -> bool:
    """True when the kiosk has no terminal to draw on (input or output redirected, a service
    manager without a TTY): Textual would then wait for ever. A driver named in TEXTUAL_DRIVER
    (Textual's web driver) brings its own."""
    import os

    if os.environ.get("TEXTUAL_DRIVER"):
        return False
    return not (sys.stdin.isatty() and sys.stdout.isatty())


def _run(args: argparse.Namespace) -> int:
    from kiosk.settings import SettingsError, load_settings

    try:
        settings = load_settings(
            args.config, overrides={"server_url": args.server, "language": args.lang}
        )
    except SettingsError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 2
    if not settings.embedded and not settings.device_key:
        print(
            f"kiosk: a terminal of {settings.server_url} needs its device key, printed once by "
            "`kiosk-server terminals enrol` on the server: set KIOSK_DEVICE_KEY, or "
            "device_key_file in the terminal's kiosk.toml (README: 'A kiosk on another machine').",
            file=sys.stderr,
        )
        return 2
    if _no_terminal():
        print(
            "kiosk: needs a terminal (its input and output must be one); "
            "run it in a terminal window or an SSH session with a TTY (ssh -t).",
            file=sys.stderr,
        )
        return 2
    if settings.log_file is not None:
        import logging

        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(
            filename=settings.log_file,
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
    from kiosk.app import create_app

    create_app(settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
