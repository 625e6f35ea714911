"""The visitor's still at check-in, where the site asks for one: the visitor looks at the camera,
takes the picture, sees it and keeps it or takes it again; where the site allows it, they may go
on without one. The camera is read in a thread and released at once; the still stays on this
screen and in the check-in request only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.i18n import _
from kiosk.screens.base import IdleKind, KioskScreen
from kiosk.widgets.photo_view import PhotoView

if TYPE_CHECKING:
    import numpy.typing as npt

Policy = Literal["optional", "required"]
PhotoChoice = tuple[Literal["photo"], bytes] | tuple[Literal["none"], None]
"""What the visitor chose: their still, or none (where the site allows it)."""


class VisitorPhotoScreen(ModalScreen[PhotoChoice | None]):
    """Dismissed with ("photo", jpeg), ("none", None), or None (Cancel, Escape)."""

    IDLE: ClassVar[IdleKind] = "visitor"
    AUTO_FOCUS = "#photo-take"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False, id="visitor_photo.cancel"),
    ]

    def __init__(self, policy: Policy, camera_source: str) -> None:
        super().__init__()
        self.policy = policy
        self.camera_source = camera_source
        self.jpeg: bytes | None = None
        """The still taken, once taken."""
        self.taking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="visitor-photo-body", classes="panel"):
            yield Static(_("A photo for your visit"), classes="title", markup=False)
            yield Static(
                _("Look at the camera, then take the photo. Your host and reception see it.")
                if self.policy == "required"
                else _(
                    "Look at the camera, then take the photo. Your host and reception see it. "
                    "You may also go on without one."
                ),
                id="photo-hint",
                markup=False,
            )
            yield PhotoView(id="photo-view")
            yield Static(Content(""), id="photo-message", classes="message")
            with Horizontal(classes="actions"):
                yield Button(_("Cancel"), id="photo-cancel", compact=True)
                if self.policy == "optional":
                    yield Button(_("Without a photo"), id="photo-skip", compact=True)
                yield Button(_("Take the photo"), id="photo-take", variant="primary", compact=True)
                yield Button(_("Use this photo"), id="photo-use", variant="success", compact=True)

    def on_mount(self) -> None:
        self.query_one("#photo-use", Button).display = False

    def _say(self, text: str) -> None:
        self.query_one("#photo-message", Static).update(Content(text))

    @on(Button.Pressed, "#photo-take")
    def _take_pressed(self) -> None:
        if self.taking:
            return
        self.taking = True
        self.query_one("#photo-take", Button).disabled = True
        self._say(_("Look at the camera…"))
        self._take()

    @work(thread=True, exclusive=True, exit_on_error=False, group="photo")
    def _take(self) -> None:
        from kiosk.photo import decode_still, take_still

        jpeg = take_still(self.camera_source)
        pixels = decode_still(jpeg) if jpeg is not None else None
        self.app.call_from_thread(self._taken, jpeg if pixels is not None else None, pixels)

    def _taken(self, jpeg: bytes | None, pixels: npt.NDArray[Any] | None) -> None:
        self.taking = False
        take = self.query_one("#photo-take", Button)
        take.disabled = False
        if jpeg is None:
            self._say(
                _("The camera gives no picture. Please ask the reception desk.")
                if self.policy == "required"
                else _("The camera gives no picture. You may go on without a photo.")
            )
            return
        self.jpeg = jpeg
        self.query_one("#photo-view", PhotoView).show(pixels)
        take.label = _("Take it again")
        use = self.query_one("#photo-use", Button)
        use.display = True
        use.focus()
        self._say(_("Is this photo right?"))

    @on(Button.Pressed, "#photo-use")
    def _use(self) -> None:
        if self.jpeg is not None:
            self.dismiss(("photo", self.jpeg))

    @on(Button.Pressed, "#photo-skip")
    def _skip(self) -> None:
        self.dismiss(("none", None))

    @on(Button.Pressed, "#photo-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.jpeg = None
        self.dismiss(None)


class StillScreen(ModalScreen[None]):
    """A visitor's still, for their host (from the arrival notice) or the desk."""

    IDLE: ClassVar[IdleKind] = "default"
    AUTO_FOCUS = "#still-close"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False, id="still.close"),
    ]

    def __init__(self, caption: str, pixels: npt.NDArray[Any]) -> None:
        super().__init__()
        self.caption = caption
        """Plain text already (the visitor's name)."""
        self.pixels = pixels

    def compose(self) -> ComposeResult:
        with Vertical(id="still-body", classes="panel"):
            yield Static(Content(self.caption), classes="title")
            yield PhotoView(self.pixels, id="still-view")
            with Horizontal(classes="actions"):
                yield Button(_("Close"), id="still-close", variant="primary", compact=True)

    @on(Button.Pressed, "#still-close")
    def _close_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


async def show_still(screen: KioskScreen, jpeg: bytes | None, caption: str) -> None:
    """Open `StillScreen` over `screen` with `jpeg` decoded off the UI loop, or say on `screen`
    that there is no photo (none taken, or purged since). `caption` is plain text already."""
    import asyncio

    from kiosk.photo import decode_still

    pixels = await asyncio.to_thread(decode_still, jpeg) if jpeg is not None else None
    if pixels is None:
        screen.show_message(_("No photo of this visitor any more."))
        return
    screen.app.push_screen(StillScreen(caption, pixels))
