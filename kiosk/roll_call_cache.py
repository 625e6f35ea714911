"""The reception terminal's local copy of the evacuation roll call, for when the service is down.

The copy names people on site, so it is readable only by the user the terminal runs as: a file
of mode 0600 in a directory of mode 0700 under the terminal's data directory. It is written
atomically (a temporary file in the same directory, then a rename), so that a reader, or a
power cut, never sees half a roll call. It keeps the service's `generated_at`, which says how
old the copy is.

No Textual here (import-linter contract): the reception screen calls it from a thread.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kiosk.api.models import RollCall

logger = logging.getLogger(__name__)

DIRECTORY_NAME = "reception"
"""The sub-directory of the data directory that holds the copies (mode 0700)."""
REFRESH_SECONDS = 60
"""How often the copy is refreshed: by the reception desk while it is open, and in the background
by a terminal enrolled to keep the roll call (`KioskApp`), whether the desk is open or not."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class RollCallCache:
    """The last roll call of one site, kept in `data_dir`."""

    def __init__(self, data_dir: Path, site_code: str) -> None:
        self.directory = data_dir / DIRECTORY_NAME
        """Where the copy lives (created with mode 0700)."""
        safe = _UNSAFE.sub("_", site_code) or "site"
        self.path = self.directory / f"roll-call-{safe}.json"
        """The copy (mode 0600)."""

    @classmethod
    def from_path(cls, path: Path) -> RollCallCache:
        """The copy kept in `path` (a `roll-call-<SITE>.json` file)."""
        cache = cls.__new__(cls)
        cache.directory = path.parent
        cache.path = path
        return cache

    def _prepare_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode goes through the umask, and an existing directory keeps its own.
        os.chmod(self.directory, 0o700)

    def save(self, roll_call: RollCall) -> None:
        """Replace the copy with `roll_call`, atomically."""
        self._prepare_directory()
        data = roll_call.model_dump_json().encode("utf-8")
        # mkstemp creates the file with mode 0600 whatever the umask.
        handle, temporary = tempfile.mkstemp(
            dir=self.directory, prefix=".roll-call-", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def load(self) -> RollCall | None:
        """The copy, or None when there is none or it cannot be read."""
        from pydantic import ValidationError

        from kiosk.api.models import RollCall

        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("roll call copy cannot be read: %s", exc.strerror)
            return None
        try:
            return RollCall.model_validate_json(data)
        except ValidationError:
            logger.warning("roll call copy is damaged; ignored")
            return None

    def write_export(self, text: str, now: dt.datetime, name: str = "roll-call") -> Path:
        """Write a CSV export beside the copy (mode 0600), named `<name>-<time>.csv`, and return
        its path."""
        self._prepare_directory()
        path = self.directory / f"{name}-{now:%Y%m%d-%H%M%S}.csv"
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".export-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path


def age(roll_call: RollCall, now: dt.datetime) -> dt.timedelta:
    """How old the roll call is at `now` (never negative)."""
    return max(dt.timedelta(0), now - generated_at(roll_call))


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text, as the service's export guards it: control characters
    stripped, a leading quote before what a spreadsheet would read as a formula."""
    cleaned = _CONTROL.sub("", value)
    return "'" + cleaned if cleaned.startswith(_FORMULA_START) else cleaned


def copy_csv(roll_call: RollCall, zone: dt.tzinfo, now: dt.datetime) -> str:
    """The local copy as CSV, in the columns of the service's export (`GET
    /v1/reception/roll-call.csv`), its first row saying it is a copy and how old: what the desk
    exports and hands over when the service cannot be reached."""
    return roll_call_csv(roll_call, zone, now, live=False)


def roll_call_csv(roll_call: RollCall, zone: dt.tzinfo, now: dt.datetime, *, live: bool) -> str:
    """A roll call as CSV (`copy_csv`); `live`: just read from the service, which the first row
    says instead of the copy's age."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    generated = generated_at(roll_call)
    minutes = int(age(roll_call, now).total_seconds() // 60)
    writer.writerow(
        [
            _cell(f"Roll call {roll_call.site.name}"),
            generated.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "live" if live else f"local copy, {minutes} min old: the service could not be reached",
        ]
    )
    writer.writerow(["last_name", "first_name", "company", "host", "checked_in_at", "overdue"])
    for person in roll_call.people:
        writer.writerow(
            [
                _cell(person.last_name),
                _cell(person.first_name),
                _cell(person.company),
                _cell(person.host_name),
                person.checked_in_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "yes" if person.overdue else "no",
            ]
        )
    return buffer.getvalue()


def newest_copies(data_dirs: Sequence[Path]) -> list[RollCall]:
    """The newest copy of each site's roll call kept in any of `data_dirs` (each a terminal's data
    directory, or a directory where reception terminals' copies are gathered), by site code."""
    newest: dict[str, RollCall] = {}
    for data_dir in data_dirs:
        for path in sorted((data_dir / DIRECTORY_NAME).glob("roll-call-*.json")):
            roll_call = RollCallCache.from_path(path).load()
            if roll_call is None:
                continue
            kept = newest.get(roll_call.site.code)
            if kept is None or generated_at(roll_call) > generated_at(kept):
                newest[roll_call.site.code] = roll_call
    return [newest[code] for code in sorted(newest)]


def generated_at(roll_call: RollCall) -> dt.datetime:
    """When the service made the roll call, as an aware UTC time (a copy may hold a naive one)."""
    generated = roll_call.generated_at
    return generated if generated.tzinfo is not None else generated.replace(tzinfo=dt.UTC)
