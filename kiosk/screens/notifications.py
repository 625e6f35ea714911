"""The person's notifications ("Notifications"): what the service told them, newest first and
unread ones marked; choosing one shows its text and marks it read, and all can be marked read
at once. Words come from `kiosk.notices` (the kiosk's language); times are the site's."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.format import format_when, site_zone
from kiosk.i18n import _
from kiosk.notices import notice_body, notice_title
from kiosk.screens.base import KioskScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import Notification

LIMIT = 50
"""The latest notifications shown (the service keeps more)."""
TITLE_MAX = 60
UNREAD_MARK = "●"


class NotificationsScreen(KioskScreen):
    """The latest notifications; Enter or a click shows one and marks it read."""

    AUTO_FOCUS = "#notification-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="notifications.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Notification] | None = None
        """What the service answered, once it did."""
        self.opened: Notification | None = None
        """The notification whose text is shown."""

    def compose(self) -> ComposeResult:
        with Vertical(id="notifications-body", classes="panel"):
            yield Static(_("Notifications"), classes="title", markup=False)
            yield OptionList(*self._options(), id="notification-list", markup=False)
            # Scrolls when long, so that the buttons below stay on the screen.
            with VerticalScroll(id="notification-scroll"):
                yield Static(Content(self._detail()), id="notification-text", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                photo = Button(_("See the photo"), id="notification-photo", classes="while-idle")
                photo.display = self._has_photo(self.opened)
                yield photo
                if any(not item.read for item in self.items or []):
                    yield Button(_("Mark all as read"), id="read-all", classes="while-idle")

    def _options(self) -> list[Option]:
        if self.items is None:
            return [Option(Content(_("Loading…")), disabled=True)]
        if not self.items:
            return [Option(Content(_("No notifications.")), disabled=True)]
        session = self.kiosk.session
        zone = site_zone(session.time_zone if session is not None else "")
        return [
            Option(
                Content(
                    f"{' ' if item.read else UNREAD_MARK} {format_when(item.created_at, zone):<15} "
                    + plain(notice_title(item), max_length=TITLE_MAX)
                ),
                id=f"notification-{item.id}",
            )
            for item in self.items
        ]

    @staticmethod
    def _has_photo(item: Notification | None) -> bool:
        return (
            item is not None
            and item.kind == "visitor_arrived"
            and item.data.get("photo") == 1
            and isinstance(item.data.get("visit_id"), int)
            and isinstance(item.data.get("visitor_id"), int)
        )

    def _detail(self) -> str:
        if self.opened is None:
            return ""
        return notice_body(self.opened)

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="notifications")
    async def _load(self) -> None:
        answer = await self.kiosk.api().notifications(limit=LIMIT)
        self.items = list(answer.items)
        await self.redraw()
        self.query_one("#notification-list", OptionList).focus()

    @on(OptionList.OptionSelected, "#notification-list")
    def _opened(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if not self.items:
            return
        item = self.items[event.option_index]
        self.opened = item
        self.query_one("#notification-text", Static).update(Content(notice_body(item)))
        self.query_one("#notification-photo", Button).display = self._has_photo(item)
        if not item.read:
            self._mark_read(event.option_index)

    @work(exclusive=True, exit_on_error=False, group="notifications")
    async def _mark_read(self, index: int) -> None:
        assert self.items is not None  # noqa: S101 - only called once they are
        read = await self.kiosk.api().mark_notification_read(self.items[index].id)
        self.items[index] = read
        self._redraw_list(highlighted=index)

    def _redraw_list(self, *, highlighted: int | None) -> None:
        options = self.query_one("#notification-list", OptionList)
        options.clear_options()
        options.add_options(self._options())
        options.highlighted = highlighted
        if all(item.read for item in self.items or []):
            for button in self.query("#read-all").results(Button):
                button.remove()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()
        elif event.button.id == "read-all":
            self.set_busy(True)
            self._mark_all_read()
        elif event.button.id == "notification-photo" and self._has_photo(self.opened):
            assert self.opened is not None  # noqa: S101 - checked just above
            self.set_busy(True)
            self._show_photo(self.opened)

    @work(exclusive=True, exit_on_error=False, group="notifications")
    async def _show_photo(self, item: Notification) -> None:
        """The still of the visitor whose arrival the notice tells."""
        from kiosk.screens.visitor_photo import show_still

        visit_id, visitor_id = item.data["visit_id"], item.data["visitor_id"]
        assert isinstance(visit_id, int) and isinstance(visitor_id, int)  # noqa: S101
        jpeg = await self.kiosk.api().my_visitor_photo(visit_id, visitor_id)
        name = plain(str(item.data.get("visitor_name", "")), max_length=TITLE_MAX)
        await show_still(self, jpeg, name)

    @work(exclusive=True, exit_on_error=False, group="notifications")
    async def _mark_all_read(self) -> None:
        await self.kiosk.api().mark_all_notifications_read()
        self.items = [
            item if item.read else item.model_copy(update={"read": True})
            for item in self.items or []
        ]
        highlighted = self.query_one("#notification-list", OptionList).highlighted
        self._redraw_list(highlighted=highlighted)
        self.query_one("#notification-list", OptionList).focus()
        self.show_message(_("All notifications are marked as read."))

    def action_back(self) -> None:
        self.dismiss()
