"""Step: the addresses the frontend runs at (CORS origins), checked as they are typed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from wizard import answers
from wizard.tui.base import StepScreen, set_problem


class FrontendScreen(StepScreen):
    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield from self.question("cors-origins")
            yield Input(
                ", ".join(self.spec.frontend.origins),
                id="origins",
                compact=True,
                placeholder="for example: http://localhost:5173, https://your-app.lovable.app",
            )
            yield Static("", id="origins-problem", classes="field-problem", markup=False)
            yield Static("", id="origins-saved", classes="field-note", markup=False)
            yield Static("Separate addresses with commas. Enter goes on.", classes="key-help")

    def on_mount(self) -> None:
        self.query_one("#origins", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.save_answers()
        problem = answers.origin_problem(self.spec.frontend.origins) or ""
        set_problem(self.query_one("#origins-problem", Static), problem)
        note = answers.origins_note(event.value, self.spec.frontend.origins)
        set_problem(self.query_one("#origins-saved", Static), note)
        event.input.set_class(bool(problem), "-invalid")
        self.changed()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def save_answers(self) -> None:
        self.spec.frontend.origins = answers.origins_from(self.query_one("#origins", Input).value)
