"""Step: how people sign in, each method with its trade-off."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from wizard.tui.base import StepScreen


class LoginScreen(StepScreen):
    """A multiple choice whose options read the checklist's labels and trade-offs."""

    def compose_body(self) -> ComposeResult:
        item = self.item("login-methods")
        chosen = set(self.spec.login.methods)
        options = []
        for choice in item.choices:
            prompt = Text(choice.label, style="bold")
            prompt.append("\n" + " ".join(choice.why.split()), style="")
            options.append(Selection(prompt, choice.value, choice.value in chosen))
        with VerticalScroll(classes="body"):
            yield from self.question("login-methods")
            yield SelectionList[str](*options, id="login-methods")
            yield Static("Space or Enter ticks a method; tick as many as you like.", classes="key-help")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.save_answers()
        self.changed()

    def save_answers(self) -> None:
        selected = set(self.query_one(SelectionList).selected)
        order = [choice.value for choice in self.item("login-methods").choices]
        self.spec.login.methods = [method for method in order if method in selected]
