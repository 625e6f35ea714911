"""Plain text for display: what came from the service, a QR code or a file, with every control
character, terminal escape sequence and bidi override removed, so that it can neither drive the
terminal nor disguise itself. (Markup is a separate matter: the UI shows such text as `Content`,
never as markup.)"""

from __future__ import annotations

import re
import unicodedata

# ECMA-48 sequences, in their 7-bit (ESC ...) and 8-bit (C1) forms. Control strings (OSC, DCS,
# SOS, PM, APC) run to their terminator, or to the end of the text when it has none, as a
# terminal would swallow them.
_ESCAPE_SEQUENCES = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]* [\x20-\x2f]* [\x40-\x7e]?          # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)  # control strings
    | \x1b [\x20-\x2f]* [\x30-\x7e]?                                  # other ESC sequences
    """,
    re.VERBOSE | re.DOTALL,
)

_BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE_BREAKS = "\t\n\v\f\r\u0085\u2028\u2029"

#: Every character `plain` never returns.
FORBIDDEN = frozenset(
    [chr(c) for c in range(0x20)]
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + list(_BIDI_CONTROLS)
    + ["\u2028", "\u2029"]
)

# Line breaks and tabs become a space (words stay apart); other controls go; lone surrogates
# (possible in JSON) go too, since the terminal cannot encode them.
_TABLE: dict[int, str | None] = {ord(c): None for c in FORBIDDEN}
_TABLE.update({ord(c): " " for c in _LINE_BREAKS})
_TABLE.update({c: None for c in range(0xD800, 0xE000)})

ELLIPSIS = "…"


def plain(text: str, *, max_length: int | None = None) -> str:
    """`text` without control characters, escape sequences or bidi controls; line breaks and tabs
    become spaces. With `max_length`, a longer result is cut and ends with `…`."""
    cleaned = _ESCAPE_SEQUENCES.sub("", text).translate(_TABLE)
    if max_length is not None and len(cleaned) > max_length:
        if max_length <= 0:
            return ""
        cleaned = cleaned[: max_length - 1] + ELLIPSIS
    return cleaned


class _WithoutMarks(dict[int, int | None]):
    """A `str.translate` table that drops combining marks (accents once decomposed), filled in
    as characters are met: a table of every mark would take a scan of all of Unicode."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


def fold(text: str) -> str:
    """`text` for matching: accents removed, case folded (as the service's searches do)."""
    if text.isascii():
        return text.casefold()  # Decomposing plain ASCII changes nothing.
    return unicodedata.normalize("NFKD", text).translate(_WITHOUT_MARKS).casefold()
