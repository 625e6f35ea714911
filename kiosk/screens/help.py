"""Help ("Aide"): the site's questions and answers, searched as the person types, and whom to
ask otherwise. Reachable from the welcome screen (nobody signed in: the terminal's site) and
from home (the person's site). Every text is the site's: shown as text, never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from kiosk.i18n import _, get_language
from kiosk.screens.base import KioskScreen
from kiosk.text import fold, plain

if TYPE_CHECKING:
    from kiosk.api.models import Help, HelpEntry


class HelpScreen(KioskScreen):
    """Search, the matching questions, the answer to the one chosen, the support contact."""

    AUTO_FOCUS = "#help-search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="help.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.help: Help | None = None
        """The site's help, once the service answered."""
        self.shown: list[HelpEntry] = []
        """The questions listed (those matching the search)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="help-body", classes="panel"):
            yield Static(_("Help"), classes="title", markup=False)
            yield Input(
                placeholder=_("Search: PIN, top-up, badge…"),
                id="help-search",
                max_length=100,
                compact=True,
            )
            yield OptionList(id="help-questions", markup=False)
            with VerticalScroll(id="help-answer-box"):
                yield Static("", id="help-answer", markup=False)
            yield Static("", id="help-contact", markup=False)
            yield self.message_widget()
            with Horizontal(classes="actions"):
                yield Button(_("Back"), id="back")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, exit_on_error=False, group="help")
    async def _load(self) -> None:
        session = self.kiosk.session
        site = session.site_code if session is not None else None
        self.help = await self.kiosk.api().help(get_language(), site)
        if self.help.contact:
            self.query_one("#help-contact", Static).update(
                Content(_("Still stuck? {contact}").format(contact=plain(self.help.contact)))
            )
        self._filter(self.query_one("#help-search", Input).value)

    @on(Input.Changed, "#help-search")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter(event.value)

    def _filter(self, typed: str) -> None:
        if self.help is None:
            return
        words = fold(typed).split()
        self.shown = [
            entry
            for entry in self.help.entries
            if all(word in fold(f"{entry.question} {entry.answer} {entry.topic}") for word in words)
        ]
        questions = self.query_one("#help-questions", OptionList)
        questions.clear_options()
        questions.add_options(
            [
                Option(Content(plain(entry.question)), id=f"q-{i}")
                for i, entry in enumerate(self.shown)
            ]
        )
        if not self.shown:
            questions.add_option(Option(Content(_("No question matches.")), disabled=True))
        self._show(self.shown[0] if len(self.shown) == 1 else None)

    def _show(self, entry: HelpEntry | None) -> None:
        if entry is None:
            text = _("Choose a question to read its answer.") if self.shown else ""
        else:
            text = f"{plain(entry.question)}\n\n{plain(entry.answer)}"
        self.query_one("#help-answer", Static).update(Content(text))

    @on(Input.Submitted, "#help-search")
    def _search_done(self, event: Input.Submitted) -> None:
        event.stop()
        if self.shown:
            questions = self.query_one("#help-questions", OptionList)
            questions.highlighted = 0
            questions.focus()

    @on(OptionList.OptionHighlighted, "#help-questions")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index < len(self.shown):
            self._show(self.shown[event.option_index])

    @on(OptionList.OptionSelected, "#help-questions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self.shown):
            self._show(self.shown[event.option_index])

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.dismiss()

    def action_back(self) -> None:
        self.dismiss()
