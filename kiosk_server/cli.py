"""`kiosk-server`: run the service, and the admin commands that work on its database directly.

Heavy modules (uvicorn, SQLAlchemy, the app) are imported inside the commands, so that
`kiosk-server --help` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from kiosk_server.commands import (
    accounts,
    content,
    devices,
    doctor,
    operations,
    sites,
    watchlist,
)
from kiosk_server.commands.common import PROG, CommandError, add_database_option, database_url


def _serve(args: argparse.Namespace) -> int:
    url, is_demo = database_url(args)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the badge kiosk service (no command), or administer its database.",
    )
    add_database_option(parser)
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

    sites.register(commands)
    accounts.register(commands)
    devices.register(commands)
    accounts.register_letters(commands)
    content.register(commands)
    operations.register(commands)
    doctor.register(commands)
    watchlist.register(commands)
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
