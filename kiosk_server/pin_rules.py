"""Which PINs are too easy to guess: the one rule, used by the service (which refuses them) and
by the terminal (which says so as soon as one is typed, not after it was typed twice). No
dependency beyond the standard library, so that the terminal imports it cheaply."""

from __future__ import annotations

import itertools

__all__ = ["COMMON_PINS", "is_trivial_pin"]

# PINs people pick most often that the patterns in `is_trivial_pin` do not already catch.
COMMON_PINS = frozenset(
    {
        "102030",
        "100000",
        "101010",
        "111222",
        "112358",
        "123321",
        "123654",
        "147258",
        "147852",
        "159753",
        "159357",
        "200000",
        "202020",
        "258369",
        "314159",
        "369258",
        "456123",
        "520520",
        "654123",
        "696969",
        "741852",
        "753951",
        "789456",
        "987654",
        "999000",
        "000999",
    }
)


def is_trivial_pin(pin: str) -> bool:
    """A PIN that is easy to guess: one digit repeated, a run up or down, repeated pairs or
    triples (112233, 121212, 123123), or one of the most common choices."""
    if len(set(pin)) == 1 or pin in COMMON_PINS:
        return True
    digits = [int(c) for c in pin] if pin.isdigit() else []
    steps = {b - a for a, b in itertools.pairwise(digits)}
    if steps in ({1}, {-1}):
        return True
    if len(pin) == 6:
        doubled = pin[0] == pin[1] and pin[2] == pin[3] and pin[4] == pin[5]
        if doubled or pin[:2] * 3 == pin or pin[:3] * 2 == pin:
            return True
    return False
