"""Step: how people sign in, each method with its trade-off."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from wizard.tui.base import StepScreen
from wizard.tui.widgets import TickList


class LoginScreen(StepScreen):
    """Ticks whose labels and trade-offs are the checklist item's choices."""

    def compose_body(self) -> ComposeResult:
        item = self.item("login-methods")
        chosen = set(self.spec.login.methods)
        options = [
            (choice.label, choice.value, choice.value in chosen, " ".join(choice.why.split()))
            for choice in item.choices
        ]
        with VerticalScroll(classes="body"):
            yield from self.question("login-methods")
            yield TickList(options, id="login-methods")
            yield Static("", id="login-chosen", classes="sentence", markup=False)
            yield Static(
                "Arrows move · Space or Enter ticks; tick as many as you like.", classes="key-help"
            )

    def on_mount(self) -> None:
        self.query_one(TickList).focus()
        self._summarise()

    def _summarise(self) -> None:
        item = self.item("login-methods")
        chosen = [
            choice.label for choice in item.choices if choice.value in self.spec.login.methods
        ]
        text = (
            f"Chosen: {', '.join(chosen)}." if chosen else "Nothing chosen yet: tick at least one."
        )
        self.query_one("#login-chosen", Static).update(text)

    def on_tick_list_changed(self, event: TickList.Changed) -> None:
        self.save_answers()
        self._summarise()
        self.changed()

    def save_answers(self) -> None:
        selected = set(self.query_one(TickList).selected)
        order = [choice.value for choice in self.item("login-methods").choices]
        self.spec.login.methods = [method for method in order if method in selected]
