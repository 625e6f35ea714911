"""Admin operations behind `kiosk-server site|accounts|terminals`: service functions that take a
session and plain values, check everything, and leave committing to the caller."""

from __future__ import annotations


class AdminError(Exception):
    """A refused admin operation; its message is one line, meant for the person at the shell."""
