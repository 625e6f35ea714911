"""A PIN keypad: digits 0-9, erase and OK, usable with keys, a mouse or a touch screen (a touch is
a click). It shows one dot per digit typed, never the digits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.content import Content
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.widget import Widget
from textual.widgets import Button, Static

from kiosk.i18n import _


class KeypadKey(Button, can_focus=False):
    """A key of the keypad. Not focusable: keys typed go to the keypad, and Enter on a focused
    digit button must not type that digit."""


class Keypad(Widget, can_focus=True):
    """A numeric keypad for PINs and codes. Posts `Keypad.Submitted` on OK / Enter once the
    expected number of digits is typed, `Keypad.Incomplete` before."""

    DEFAULT_CSS = """
    Keypad {
        width: auto;
        height: auto;
        padding: 0 1;
    }
    Keypad #keypad-dots {
        width: 100%;
        content-align: center middle;
        text-style: bold;
        margin-bottom: 1;
    }
    Keypad Grid {
        grid-size: 3 4;
        grid-gutter: 0 1;
        grid-columns: 11;
        grid-rows: 3;
        width: auto;
        height: auto;
    }
    Keypad KeypadKey {
        width: 11;
        min-width: 11;
    }
    Keypad:focus #keypad-dots {
        color: $accent;
        text-style: bold underline;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "erase", "Erase", show=False, id="keypad.erase"),
        Binding("enter", "submit", "OK", show=False, id="keypad.submit"),
    ]

    value: Reactive[str] = reactive("", init=False)
    """The digits typed so far (never rendered: only their count is shown)."""

    @dataclass
    class Submitted(Message):
        """The person pressed OK with a complete entry."""

        keypad: Keypad
        """The keypad that was submitted."""
        value: str
        """The digits typed."""

        @property
        def control(self) -> Keypad:
            """The keypad (for `@on(Keypad.Submitted, "#id")`)."""
            return self.keypad

    @dataclass
    class Incomplete(Message):
        """The person pressed OK before typing every digit: the screen says what is missing."""

        keypad: Keypad
        typed: int
        """How many digits were typed."""

        @property
        def control(self) -> Keypad:
            return self.keypad

    def __init__(self, length: int = 6, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.length = length

    def compose(self) -> ComposeResult:
        yield Static(self._dots(), id="keypad-dots")
        with Grid():
            for digit in "123456789":
                yield KeypadKey(digit, id=f"key-{digit}")
            yield KeypadKey(_("Erase"), id="key-erase", variant="warning")
            yield KeypadKey("0", id="key-0")
            yield KeypadKey(_("OK"), id="key-ok", variant="success")

    def _dots(self) -> Content:
        typed = len(self.value)
        return Content("● " * typed + "○ " * (self.length - typed)).rstrip()

    def watch_value(self) -> None:
        self.query_one("#keypad-dots", Static).update(self._dots())

    def clear(self) -> None:
        """Forget what was typed."""
        self.value = ""

    def type_digit(self, digit: str) -> None:
        """Add one digit, ignored once the entry is complete."""
        if digit.isdecimal() and len(digit) == 1 and len(self.value) < self.length:
            self.value += digit

    def action_erase(self) -> None:
        self.value = self.value[:-1]

    def action_submit(self) -> None:
        if len(self.value) == self.length:
            self.post_message(self.Submitted(self, self.value))
        else:
            self.post_message(self.Incomplete(self, len(self.value)))

    def on_key(self, event: events.Key) -> None:
        if event.character is not None and event.character in "0123456789":
            event.stop()
            event.prevent_default()
            self.type_digit(event.character)

    @on(Button.Pressed, "KeypadKey")
    def _key_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        key = event.button.id or ""
        if key == "key-erase":
            self.action_erase()
        elif key == "key-ok":
            self.action_submit()
        else:
            self.type_digit(key.removeprefix("key-"))
        # A click takes focus away from nothing (keys are not focusable), but keep typed keys
        # coming here even when the person mixes touch and keyboard.
        self.focus()
