"""The `kiosk` command: runs the terminal (`kiosk [--server URL] [--config PATH] [--lang fr|en]`),
serves it to browsers (`kiosk serve`) and its helpers (`kiosk doctor`, `kiosk hash-pin`,
`kiosk scan`, `kiosk roll-call`).

Imports are lazy so that `kiosk --help` answers at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kiosk.embedded import EmbeddedService
    from kiosk.settings import KioskSettings


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
    serve = commands.add_parser(
        "serve",
        help="serve the kiosk to web browsers (on 127.0.0.1 unless --host says otherwise)",
        description="Serve the kiosk to web browsers: each tab runs a kiosk of its own. There is "
        "no TLS and no login in front of the kiosk: bind to another address than 127.0.0.1 only "
        "behind a reverse proxy that adds them (README, 'The kiosk in a browser').",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use to reach it (needed when --host is not a name they use, "
        "such as 0.0.0.0, or behind a proxy)",
    )
    serve.add_argument(
        "--max-sessions", type=int, default=8, help="browser tabs served at once (8)"
    )
    commands.add_parser(
        "doctor",
        help="check the configuration, the service and the device key, the clock, the camera "
        "and the printer; change nothing",
    )
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
    if args.command == "serve":
        return _serve(args)
    if args.command == "doctor":
        return _doctor(args)
    return _run(args)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None:
        return 2
    if args.host in {"0.0.0.0", "::", ""} and not args.public_url:  # noqa: S104 - refused
        shown = args.host or "''"
        print(
            f"kiosk: --host {shown} listens on every address, which no browser can "
            "use as the page's own: add --public-url http://NAME:PORT, the address people type.",
            file=sys.stderr,
        )
        return 2
    if _device_key_missing(settings):
        return 2
    if args.max_sessions < 1:
        print("kiosk: --max-sessions must be at least 1", file=sys.stderr)
        return 2
    if args.host not in {"127.0.0.1", "localhost", "::1"}:
        print(
            f"kiosk serve: listening on {args.host}: anyone who reaches this port gets a kiosk "
            "terminal, over plain HTTP. Put a reverse proxy with TLS and a login in front.",
            file=sys.stderr,
        )
    from kiosk.web import serve

    return serve(
        settings,
        config=args.config,
        language=args.lang,
        host=args.host,
        port=args.port,
        public_url=args.public_url.rstrip("/") if args.public_url else None,
        max_sessions=args.max_sessions,
    )


def _roll_call(args: argparse.Namespace) -> int:
    from kiosk.roll_call_cli import run

    settings = _settings(args)
    if settings is None:
        return 2
    return run(args, settings)


def _doctor(args: argparse.Namespace) -> int:
    from kiosk.doctor import run

    settings = _settings(args, prefix="BAD the configuration: ", to=sys.stdout)
    if settings is None:
        return 1
    return run(settings)


def _settings(
    args: argparse.Namespace, *, prefix: str = "kiosk: ", to: TextIO | None = None
) -> KioskSettings | None:
    """The terminal's settings from --config, --server and --lang; None (having said why, after
    `prefix`, on `to`) when they cannot be used."""
    from kiosk.settings import SettingsError, load_settings

    try:
        return load_settings(
            args.config, overrides={"server_url": args.server, "language": args.lang}
        )
    except SettingsError as error:
        print(f"{prefix}{error}", file=to or sys.stderr)
        return None


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


def _device_key_missing(settings: KioskSettings) -> bool:
    """True (and says how to give one) when a terminal of a remote service has no device key."""
    if settings.embedded or settings.device_key:
        return False
    print(
        f"kiosk: a terminal of {settings.server_url} needs its device key, printed once by "
        "`kiosk-server terminals enrol` on the server: set KIOSK_DEVICE_KEY, or "
        "device_key_file in the terminal's kiosk.toml (README: 'A kiosk on another machine').",
        file=sys.stderr,
    )
    return True


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None:
        return 2
    if _device_key_missing(settings):
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
    embedded = _start_demo_service(settings)
    from kiosk.app import create_app

    create_app(settings, embedded=embedded).run()
    return 0


def _start_demo_service(settings: KioskSettings) -> EmbeddedService | None:
    """With no server URL, the demo service's process, started before the app and Textual are
    imported: its own import (about a second) runs on the other core meanwhile. None when it
    cannot start: the app tries again as it connects, and says why on the welcome screen."""
    if settings.server_url is not None:
        return None
    from kiosk.embedded import start_demo_service

    try:
        return start_demo_service(settings)
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
