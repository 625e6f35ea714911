"""Declaring or editing a visit request: one or more visitors (first and last name, company, email
and/or phone), a day or a range of days, the arrival window, the reason and an optional place.

Dates and times are checked for their form here (a date that is not one), with the fields that
must not be empty, all at once; everything else (a day in the past, an end before the start, an
email that is not one) is the service's word, shown field by field next to the field it is about
(`errors` of `visit-invalid`: `first_day`, `visitors.0.email`...), all at once too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from kiosk.i18n import _
from kiosk.problems import field_message
from kiosk.screens.base import IdleKind, KioskScreen

if TYPE_CHECKING:
    from kiosk.api.models import VisitDetail, VisitorInput

VISITOR_FIELDS = ("first_name", "last_name", "company", "email", "phone")
VISIT_FIELDS = ("first_day", "last_day", "arrival_from", "arrival_until", "reason", "place")
MAX_VISITORS = 10
NAMES = ("first_name", "last_name")
"""A visitor's fields that are never empty."""

_DAY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:hH.](\d{2})?)?\s*$")


def parse_day(text: str) -> dt.date | None:
    """`02/11/2026` (or `2026-11-02`) as a date; None when it is not one."""
    match = _DAY.match(text)
    try:
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
        match = _ISO_DAY.match(text)
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


def looks_like_a_day(text: str) -> bool:
    """True for text written as a date (`31/02/2026`), whether or not that day exists."""
    return bool(_DAY.match(text) or _ISO_DAY.match(text))


def parse_time(text: str) -> dt.time | None:
    """`14:30`, `14h30`, `14h` or `14` as a time of day; None when it is not one."""
    match = _TIME.match(text)
    if not match:
        return None
    try:
        return dt.time(int(match[1]), int(match[2] or 0))
    except ValueError:
        return None


def field_id(field: str) -> str:
    """The widget id of a field the service names (`visitors.0.email` → `visitors-0-email`)."""
    return field.replace(".", "-")


class VisitFormScreen(KioskScreen):
    """The form; with `visit`, it edits that visit (until it is approved)."""

    IDLE: ClassVar[IdleKind] = "typing"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visit_form.back"),
    ]

    def __init__(self, visit: VisitDetail | None = None) -> None:
        super().__init__()
        self.visit_id = visit.id if visit is not None else None
        """The visit being edited; None for a new request."""
        self.values: dict[str, str] = {}
        """What is typed, by field id (kept across a recompose)."""
        self.errors: dict[str, str] = {}
        """Translated error sentence by field id."""
        self.visitor_count = 1
        if visit is not None:
            self.visitor_count = max(1, len(visit.visitors))
            for index, person in enumerate(visit.visitors):
                for name in VISITOR_FIELDS:
                    value = getattr(person, name)
                    self.values[f"visitors-{index}-{name}"] = value or ""
            self.values["first_day"] = f"{visit.first_day:%d/%m/%Y}"
            if visit.last_day != visit.first_day:
                self.values["last_day"] = f"{visit.last_day:%d/%m/%Y}"
            self.values["arrival_from"] = f"{visit.arrival_from:%H:%M}"
            self.values["arrival_until"] = f"{visit.arrival_until:%H:%M}"
            self.values["reason"] = visit.reason
            self.values["place"] = visit.place

    # Drawing ----------------------------------------------------------------------------------

    def _field(self, ident: str, label: str, placeholder: str = "") -> ComposeResult:
        with Vertical(classes="field"):
            yield Static(label, classes="field-label", markup=False)
            yield Input(
                self.values.get(ident, ""),
                placeholder=placeholder,
                id=ident,
                max_length=200,
                compact=True,
            )
            yield Static(
                Content(self.errors.get(ident, "")),
                id=f"error-{ident}",
                classes="field-error",
                markup=False,
            )

    def compose(self) -> ComposeResult:
        title = _("Edit the visit request") if self.visit_id else _("New visit request")
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "company": _("Company"),
            "email": _("Email"),
            "phone": _("Phone"),
        }
        with Vertical(id="visit-form-body"):
            yield Static(title, classes="title", markup=False)
            with VerticalScroll(id="visit-form-fields"):
                for index in range(self.visitor_count):
                    with Vertical(classes="visitor-block"):
                        yield Static(_("Visitor {n}").format(n=index + 1), classes="field-label")
                        with Horizontal(classes="form-row"):
                            for name in ("first_name", "last_name", "company"):
                                yield from self._field(f"visitors-{index}-{name}", labels[name])
                        with Horizontal(classes="form-row"):
                            for name in ("email", "phone"):
                                yield from self._field(f"visitors-{index}-{name}", labels[name])
                yield Static(
                    Content(self.errors.get("visitors", "")),
                    id="error-visitors",
                    classes="field-error",
                )
                with Horizontal(classes="actions"):
                    yield Button(_("Add a visitor"), id="add-visitor", compact=True)
                    if self.visitor_count > 1:
                        yield Button(
                            _("Remove the last visitor"), id="remove-visitor", compact=True
                        )
                with Horizontal(classes="form-row"):
                    yield from self._field("first_day", _("Day (or first day)"), _("DD/MM/YYYY"))
                    yield from self._field("last_day", _("Last day (optional)"), _("DD/MM/YYYY"))
                with Horizontal(classes="form-row"):
                    yield from self._field("arrival_from", _("Arrival from"), _("HH:MM"))
                    yield from self._field("arrival_until", _("Arrival until"), _("HH:MM"))
                yield from self._field("reason", _("Reason of the visit"))
                yield from self._field("place", _("Place on site (optional)"))
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back", classes="while-idle")
                if self.visit_id is None:
                    yield Button(_("Save as draft"), id="save-draft", classes="while-idle")
                    yield Button(
                        _("Submit the request"),
                        id="submit",
                        variant="primary",
                        classes="while-idle",
                    )
                else:
                    yield Button(_("Save"), id="save", variant="primary", classes="while-idle")

    def on_mount(self) -> None:
        self.query_one(f"#visitors-{self.visitor_count - 1}-first_name", Input).focus()

    # Reading the form -------------------------------------------------------------------------

    def _harvest(self) -> None:
        for widget in self.query(Input).results(Input):
            if widget.id:
                self.values[widget.id] = widget.value

    def _visitors(self) -> list[VisitorInput]:
        from kiosk.api.models import VisitorInput

        visitors = []
        for index in range(self.visitor_count):

            def value(name: str, index: int = index) -> str:
                return self.values.get(f"visitors-{index}-{name}", "").strip()

            visitors.append(
                VisitorInput(
                    first_name=value("first_name"),
                    last_name=value("last_name"),
                    company=value("company"),
                    email=value("email") or None,
                    phone=value("phone") or None,
                )
            )
        return visitors

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.errors = errors
        for widget in self.query(".field-error").results(Static):
            ident = (widget.id or "").removeprefix("error-")
            widget.update(Content(errors.get(ident, "")))

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.dismiss()
            return
        self._harvest()
        if button == "add-visitor" and self.visitor_count < MAX_VISITORS:
            self.visitor_count += 1
            await self.redraw()
            self.query_one(f"#visitors-{self.visitor_count - 1}-first_name", Input).focus()
        elif button == "remove-visitor" and self.visitor_count > 1:
            self.visitor_count -= 1
            await self.redraw()
        elif button in ("save-draft", "submit", "save"):
            self._send(button)

    def _send(self, button: str) -> None:
        errors: dict[str, str] = {}
        days: dict[str, dt.date | None] = {}
        for name in ("first_day", "last_day"):
            text = self.values.get(name, "").strip()
            days[name] = parse_day(text) if text else None
            if text and days[name] is None:
                errors[name] = (
                    _("This day does not exist.")
                    if looks_like_a_day(text)
                    else _("Write the date as DD/MM/YYYY.")
                )
        if not self.values.get("first_day", "").strip():
            errors["first_day"] = _("Required.")
        times: dict[str, dt.time | None] = {}
        for name in ("arrival_from", "arrival_until"):
            text = self.values.get(name, "").strip()
            times[name] = parse_time(text)
            if times[name] is None:
                errors[name] = _("Write the time as HH:MM.") if text else _("Required.")
        # What the service would refuse before looking at the rest (a field left empty) is
        # said here with the dates, so that every wrong field shows at once.
        required = [f"visitors-{i}-{name}" for i in range(self.visitor_count) for name in NAMES]
        for ident in (*required, "reason"):
            if not self.values.get(ident, "").strip():
                errors[ident] = _("Required.")
        self._show_errors(errors)
        if errors:
            self.show_message(_("Some fields are missing or wrong. See the messages next to them."))
            return
        first_day, arrival_from, arrival_until = (
            days["first_day"],
            times["arrival_from"],
            times["arrival_until"],
        )
        assert first_day and arrival_from and arrival_until  # noqa: S101 - checked just above
        self.show_message(_("Sending…"))
        self.set_busy(True)
        self._save(button, first_day, days["last_day"], arrival_from, arrival_until)

    @work(exclusive=True, exit_on_error=False, group="visit-form")
    async def _save(
        self,
        button: str,
        first_day: dt.date,
        last_day: dt.date | None,
        arrival_from: dt.time,
        arrival_until: dt.time,
    ) -> None:
        api = self.kiosk.api()
        reason = self.values.get("reason", "").strip()
        place = self.values.get("place", "").strip()
        if self.visit_id is None:
            visit = await api.create_visit(
                self._visitors(),
                first_day=first_day,
                last_day=last_day,
                arrival_from=arrival_from,
                arrival_until=arrival_until,
                reason=reason,
                place=place,
                submit=button == "submit",
            )
            from kiosk.screens.visit_detail import VisitDetailScreen

            self.dismiss()
            self.app.push_screen(VisitDetailScreen(visit.id))
        else:
            await api.edit_visit(
                self.visit_id,
                visitors=self._visitors(),
                first_day=first_day,
                last_day=last_day or first_day,
                arrival_from=arrival_from,
                arrival_until=arrival_until,
                reason=reason,
                place=place,
            )
            self.dismiss()

    def on_problem(self, error: BaseException | None) -> None:
        from kiosk.api.errors import ProblemError

        super().on_problem(error)
        if isinstance(error, ProblemError) and error.errors:
            errors: dict[str, str] = {}
            for item in error.errors:
                ident = field_id(item.field)
                # Several complaints about one field: the first says enough.
                errors.setdefault(ident, field_message(item.message))
            self._show_errors(errors)
            self._focus_first_error()

    def _focus_first_error(self) -> None:
        for widget in self.query(Input).results(Input):
            if widget.id in self.errors:
                widget.focus()
                return

    def action_back(self) -> None:
        self.dismiss()
