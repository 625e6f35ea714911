"""One visit request: its days, window, reason, place, visitors and state, and the history of
what happened to it. Edit while the service says it is editable, Validate (submit) a draft,
Delete (cancel) while it is cancellable, after a confirmation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.format import format_days, format_when, site_zone, state_label
from kiosk.i18n import N_, _
from kiosk.screens.base import KioskScreen
from kiosk.text import plain

if TYPE_CHECKING:
    from kiosk.api.models import VisitDetail, VisitEvent, VisitorInfo

EVENT_LABELS: dict[str, str] = {
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "invitation_sent": N_("Invitation sent"),
    "checked_in": N_("Checked in"),
    "checked_out": N_("Checked out"),
    "cancelled": N_("Cancelled"),
    "edited": N_("Edited"),
    "expired": N_("Expired"),
}
EVENT_DETAILS: dict[str, str] = {
    "walk-in": N_("visitor without an invitation"),
    "site policy": N_("by the site's rules"),
    "email": N_("by email"),
    "sms": N_("by SMS"),
}
"""The service's own words in an event's detail (a rejection's reason is the person's text,
shown as written)."""
TEXT_MAX = 80


def visitor_line(person: VisitorInfo) -> str:
    """`Léa Dupont (ACME) · lea@example.com`, plain text."""
    if person.anonymised:
        return _("(personal data deleted)")
    name = f"{person.first_name} {person.last_name}"
    if person.company:
        name += f" ({person.company})"
    contacts = " · ".join(part for part in (person.email, person.phone) if part)
    return plain(f"{name} · {contacts}" if contacts else name, max_length=TEXT_MAX)


def event_line(event: VisitEvent, zone: dt.tzinfo) -> str:
    """`2 nov., 10:00  Approved — by Rémi Accueil — Léa Dupont`, plain text."""
    label = EVENT_LABELS.get(event.kind)
    parts = [_(label) if label else event.kind]
    by = event.by_name or event.by_device
    if by:
        parts.append(_("by {name}").format(name=by))
    if event.visitor_name:
        parts.append(event.visitor_name)
    if event.detail:
        known = EVENT_DETAILS.get(event.detail)
        parts.append(_(known) if known else event.detail)
    return plain(f"{format_when(event.at, zone):<15} " + " — ".join(parts), max_length=TEXT_MAX)


class VisitDetailScreen(KioskScreen):
    """One of the person's visits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="visit_detail.back"),
    ]

    def __init__(self, visit_id: int) -> None:
        super().__init__()
        self.visit_id = visit_id
        self.visit: VisitDetail | None = None
        """The visit as the service last described it."""

    def compose(self) -> ComposeResult:
        visit = self.visit
        with Vertical(id="visit-detail-body"):
            yield Static(_("Visit request"), classes="title", markup=False)
            with VerticalScroll(id="visit-detail-scroll"):
                if visit is None:
                    yield Static(_("Loading…"), markup=False)
                else:
                    yield from self._describe(visit)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")
                if visit is not None and visit.walk_in and visit.state == "requested":
                    # A visitor without an invitation asked for this host at a kiosk.
                    yield Button(_("Let in"), id="let-in", variant="success", classes="while-idle")
                    yield Button(_("Decline"), id="decline", variant="error", classes="while-idle")
                elif visit is not None and visit.editable:
                    yield Button(_("Edit"), id="edit", classes="while-idle")
                if visit is not None and visit.state == "draft":
                    yield Button(
                        _("Validate"), id="validate", variant="success", classes="while-idle"
                    )
                if visit is not None and visit.cancellable:
                    yield Button(_("Delete"), id="delete", variant="error", classes="while-idle")

    def _describe(self, visit: VisitDetail) -> ComposeResult:
        session = self.kiosk.session
        zone = site_zone(session.time_zone if session is not None else "")
        window = f"{visit.arrival_from:%H:%M}–{visit.arrival_until:%H:%M}"
        yield Static(Content(state_label(visit.state)), id="visit-detail-state", classes="section")
        if visit.rejection_reason:
            yield Static(
                Content(
                    _("Reason: {reason}").format(
                        reason=plain(visit.rejection_reason, max_length=TEXT_MAX)
                    )
                )
            )
        yield Static(Content(f"{format_days(visit.first_day, visit.last_day)}, {window}"))
        yield Static(Content(plain(visit.reason, max_length=TEXT_MAX)), id="visit-detail-reason")
        if visit.place:
            yield Static(Content(plain(visit.place, max_length=TEXT_MAX)))
        yield Static(_("Visitors"), classes="section", markup=False)
        for person in visit.visitors:
            yield Static(Content(visitor_line(person)), classes="visit-detail-visitor")
        yield Static(_("History"), classes="section", markup=False)
        if not visit.history:
            yield Static(_("Nothing yet."), markup=False)
        for event in visit.history:
            yield Static(Content(event_line(event, zone)), classes="visit-detail-event")

    async def on_screen_resume(self) -> None:
        await super().on_screen_resume()
        self._load()

    @work(exclusive=True, exit_on_error=False, group="visit-detail")
    async def _load(self) -> None:
        self.visit = await self.kiosk.api().visit(self.visit_id)
        await self.redraw()

    @work(exclusive=True, exit_on_error=False, group="visit-action")
    async def _transition(self, action: str) -> None:
        api = self.kiosk.api()
        if action == "validate":
            await api.submit_visit(self.visit_id)
            self.message = _("The request is sent.")
        elif action == "let-in":
            await api.approve_walk_in(self.visit_id)
            self.message = _("The visitor can come in: the kiosk checks them in.")
        elif action == "decline":
            await api.decline_walk_in(self.visit_id)
            self.message = _("Declined: the visitor is asked to see the reception desk.")
        else:
            await api.cancel_visit(self.visit_id)
            self.message = _("The visit is deleted.")
        # Fetched again after the change (a load started before it is dropped), so what is
        # shown is never older than the change.
        self._load()

    def _cancel_confirmed(self, confirmed: bool | None) -> None:
        if confirmed:
            self.set_busy(True)
            self._transition("cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.dismiss()
        elif button == "edit" and self.visit is not None:
            from kiosk.screens.visit_form import VisitFormScreen

            self.app.push_screen(VisitFormScreen(self.visit))
        elif button in ("validate", "let-in", "decline"):
            self.set_busy(True)
            self._transition(button)
        elif button == "delete":
            from kiosk.screens.visit_cancel import ConfirmCancelVisitScreen

            self.app.push_screen(ConfirmCancelVisitScreen(), self._cancel_confirmed)

    def action_back(self) -> None:
        self.dismiss()
