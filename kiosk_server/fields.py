"""The field types of every request: one rule for text, strict numbers, ISO dates, local times.

Each type says in the API document exactly what the service accepts (a `pattern`, bounds,
`format`), so that a request that fits the document is never refused as malformed
(`validation-failed`), and one that does not fit it always is.

**Text.** Every text field of every request, and every text an admin command imports, refuses
the same characters: C0 and C1 controls, DEL, the bidi embedding, override and isolate
controls, and the line and paragraph separators (`FORBIDDEN`). Such a character is never
silently dropped: the request is refused with `validation-failed` naming the field. Everything
else is stored as given, byte for byte: markup, accents, combining marks, right-to-left
scripts, emoji sequences joined with U+200D. (PostgreSQL cannot store NUL at all; the others
could drive or disguise a terminal.) Multi-line text that an admin imports (a catalogue item's
description) may also hold line feeds. Scanned tokens are not text fields: a door posts what it
read, whatever it is, and is told it is not a badge.

**Numbers.** Money, quantities and rates are JSON integers: `true`, `"1250"`, `1250.0` and `5e2`
are refused, never read as a number.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictInt, WithJsonSchema

__all__ = [
    "FORBIDDEN",
    "MAX_ID",
    "Email",
    "IsoDate",
    "LocalTime",
    "OptionalText",
    "Phone",
    "PlainText",
    "RequiredText",
    "StrictBool",
    "StrictInt",
    "forbidden_character",
    "is_email",
    "is_phone",
]

MAX_ID = 2**63 - 1
"""The largest id of any record (a 64-bit key, on SQLite and PostgreSQL alike)."""

_OTHERS = r"\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
"""DEL, C1 controls, bidi marks, embeddings, overrides and isolates, line and paragraph
separators."""
_FORBIDDEN_CLASS = r"\x00-\x1f" + _OTHERS
_FORBIDDEN_RE = re.compile(f"[{_FORBIDDEN_CLASS}]")
_FORBIDDEN_MULTILINE_RE = re.compile(f"[\\x00-\\x09\\x0b-\\x1f{_OTHERS}]")

FORBIDDEN = frozenset(
    chr(c)
    for c in (
        *range(0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x2028,
        0x2029,
    )
)
"""Every character no text field accepts."""
_SPACES = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
"""The space separators (Unicode Zs): a text of only these is blank."""

TEXT_PATTERN = f"^[^{_FORBIDDEN_CLASS}]*$"
"""Text of allowed characters (possibly empty), as the API document states it."""
NON_BLANK_PATTERN = f"^[^{_FORBIDDEN_CLASS}]*[^{_SPACES}{_FORBIDDEN_CLASS}][^{_FORBIDDEN_CLASS}]*$"
"""Allowed characters, at least one of them not a space."""


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of `value` that text may not hold, as `U+XXXX`, or None."""
    found = (_FORBIDDEN_MULTILINE_RE if multiline else _FORBIDDEN_RE).search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def _allowed(value: str) -> str:
    character = forbidden_character(value)
    if character is not None:
        raise ValueError(f"must not contain control characters ({character})")
    return value


_NON_BLANK_RE = re.compile(NON_BLANK_PATTERN)


def _not_blank(value: str) -> str:
    # The document's pattern itself, so that the service and the document agree on "blank".
    if not _NON_BLANK_RE.match(value):
        raise ValueError("is required")
    return value


PlainText = Annotated[
    str, AfterValidator(_allowed), Field(json_schema_extra={"pattern": TEXT_PATTERN})
]
"""Text that may be empty. Give its `max_length` with `Field`."""

RequiredText = Annotated[
    str,
    # `minLength` for the document only: an empty text is refused as blank ("is required").
    Field(json_schema_extra={"minLength": 1, "pattern": NON_BLANK_PATTERN}),
    AfterValidator(_allowed),
    AfterValidator(_not_blank),
]
"""Text with at least one character that is not a space. Give its `max_length` with `Field`."""

OptionalText = PlainText | None


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
_TIME_RE = re.compile(_TIME_PATTERN)


def _iso_date(value: Any) -> Any:
    # Only `YYYY-MM-DD`: pydantic alone also reads 0 or "1700000000" as a day.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        return value
    raise ValueError("must be a date as YYYY-MM-DD")


def _local_time(value: Any) -> Any:
    # A time of day on the site's clock: no UTC offset (the site's time zone says it).
    if isinstance(value, dt.time) and value.tzinfo is None:
        return value
    if isinstance(value, str) and _TIME_RE.fullmatch(value):
        return value
    raise ValueError("must be a local time as HH:MM or HH:MM:SS")


IsoDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date"}),
]
"""A calendar day, `YYYY-MM-DD`."""

LocalTime = Annotated[
    dt.time,
    BeforeValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _TIME_PATTERN,
            "description": "A time of day in the site's time zone, HH:MM:SS (HH:MM accepted).",
        }
    ),
]
"""A time of day in the site's time zone, without offset (`format: time` would demand one)."""


_EMAIL_PATTERN = (
    f"^[^@{_SPACES}{_FORBIDDEN_CLASS}]+@[^@{_SPACES}{_FORBIDDEN_CLASS}]+"
    f"\\.[^@.{_SPACES}{_FORBIDDEN_CLASS}]+$"
)
_EMAIL_RE = re.compile(_EMAIL_PATTERN)
_PHONE_PATTERN = r"^\+?[ .()\-]*([0-9][ .()\-]*){6,}$"
_PHONE_RE = re.compile(_PHONE_PATTERN)


def is_email(value: str) -> bool:
    """True for an email address as `Email` accepts it."""
    return _EMAIL_RE.match(value) is not None


def is_phone(value: str) -> bool:
    """True for a phone number as `Phone` accepts it."""
    return _PHONE_RE.match(value) is not None


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError("is not an email address")
    return value


def _phone(value: str) -> str:
    if not is_phone(value):
        raise ValueError("is not a phone number")
    return value


Email = Annotated[
    str,
    AfterValidator(_email),
    Field(json_schema_extra={"pattern": _EMAIL_PATTERN}),
]
"""An email address (name@domain.tld). Give its `max_length` with `Field`."""

Phone = Annotated[
    str,
    AfterValidator(_phone),
    Field(json_schema_extra={"pattern": _PHONE_PATTERN}),
]
"""A phone number: at least six digits, with an optional leading + and spaces, dots, dashes or
brackets between them. Give its `max_length` with `Field`."""
