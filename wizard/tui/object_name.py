"""Dialog: name (or rename) an object, checked as it is typed."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from wizard import answers
from wizard.spec import LaunchSpec
from wizard.tui.base import set_problem


class ObjectNameForm(ModalScreen[str | None]):
    """Dismisses with the new name, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, spec: LaunchSpec, current: str | None = None) -> None:
        super().__init__(classes="dialog")
        self.spec = spec
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            title = f"Rename {self.current}" if self.current else "Add an object"
            yield Static(title, classes="dialog-title", markup=False)
            yield Static(
                "One thing your app stores, in the singular with a capital letter: "
                "Booking, Studio, Invoice.",
                classes="why",
            )
            yield Input(self.current or "", placeholder="Booking", id="object-name", compact=True)
            yield Static("", id="object-name-problem", classes="field-problem", markup=False)
            yield Static("Enter save · Esc cancel", classes="key-help")
        yield Footer(compact=True)

    def on_input_changed(self, event: Input.Changed) -> None:
        problem = answers.object_name_problem(self.spec, event.value.strip(), self.current)
        shown = problem if event.value.strip() else ""
        set_problem(self.query_one("#object-name-problem", Static), shown)
        event.input.set_class(bool(shown), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        problem = answers.object_name_problem(self.spec, name, self.current)
        if problem:
            set_problem(self.query_one("#object-name-problem", Static), problem)
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)
