"""What a scanned QR code looks like it is, so the scan screen can answer calmly and precisely.

Only the shape is judged here; whether a token is genuine, current and of this site is the
service's call. Imports neither Textual nor the service: the token formats are restated below
(see `kiosk_server.tokens`) and a test keeps the two in step.
"""

from __future__ import annotations

import enum
import re

MAX_SCANNED_CHARS = 256
"""Longer payloads are refused unread: our own codes are 38 characters."""

TOKEN_LENGTH = 38
"""Length of badge (`B1`) and connect (`C1`) tokens, marker included."""

INVITATION_MARKER = "V1"
"""Marker proposed for visit invitation tokens (the visits issue owns their format)."""

_BASE32 = "[A-Z2-7]"
_CONNECT = re.compile(rf"C1{_BASE32}{{{TOKEN_LENGTH - 2}}}")
_BADGE = re.compile(rf"B1{_BASE32}{{{TOKEN_LENGTH - 2}}}")
_INVITATION = re.compile(rf"{INVITATION_MARKER}[A-Z0-9]+")
_URL = re.compile(r"(?i)(?:[a-z][a-z0-9+.\-]*://|www\.|mailto:|tel:)")
# C0 controls, DEL, C1 controls, and the bidirectional overrides and isolates that can make a
# string display differently from what it is.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class ScannedKind(enum.Enum):
    """What a scanned payload appears to be."""

    CONNECT = "connect"
    """A welcome-letter connect QR: send it to the service to find the account."""
    BADGE = "badge"
    """A rotating badge token: for doors and tills, not for signing in."""
    INVITATION = "invitation"
    """A visitor's invitation: for the visitor check-in screen."""
    URL = "url"
    """A web address or other link."""
    OVERSIZED = "oversized"
    """Far longer than any code of ours."""
    CONTROL_CHARACTERS = "control-characters"
    """Contains control or bidi characters; never shown."""
    EMPTY = "empty"
    """Nothing, or only spaces."""
    TEXT = "text"
    """Anything else."""


def classify_scanned(text: str) -> ScannedKind:
    """The kind of a payload read from a QR code. Cheap: call it on every decoded frame."""
    if len(text) > MAX_SCANNED_CHARS:
        return ScannedKind.OVERSIZED
    if _CONTROL.search(text):
        return ScannedKind.CONTROL_CHARACTERS
    if not text.strip():
        return ScannedKind.EMPTY
    if _CONNECT.fullmatch(text):
        return ScannedKind.CONNECT
    if _BADGE.fullmatch(text):
        return ScannedKind.BADGE
    if _INVITATION.fullmatch(text):
        return ScannedKind.INVITATION
    if _URL.match(text):
        return ScannedKind.URL
    return ScannedKind.TEXT
