"""Step: where alerts go and an optional error monitor, both secrets kept in .env."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from wizard.env_answers import EnvAnswers
from wizard.tui.base import StepScreen, set_problem

_BOXES = {"alert-url": "alert_url", "sentry-dsn": "sentry_dsn"}


class MonitoringScreen(StepScreen):
    """Two optional answers checked as they are typed; they never enter the spec."""

    @property
    def answers(self) -> EnvAnswers:
        if self.env_answers is None:  # a screen shown on its own (tests) keeps its own answers
            self.env_answers = EnvAnswers()
        return self.env_answers

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body"):
            yield from self.question("alert-destination")
            yield Input(
                self.answers.alert_url,
                id="alert-url",
                compact=True,
                placeholder="mailto://you:app-password@gmail.com or slack://A/B/C",
            )
            yield Static("", id="alert-url-problem", classes="field-problem", markup=False)
            yield from self.question("error-monitoring")
            yield Input(
                self.answers.sentry_dsn,
                id="sentry-dsn",
                compact=True,
                placeholder="https://KEY@ORG.ingest.sentry.io/PROJECT",
            )
            yield Static("", id="sentry-dsn-problem", classes="field-problem", markup=False)
            yield Static(
                "Both go into .env (Git ignores it), never into shipyard.yaml. Empty is fine: "
                "`shipyard alert set URL` sets the destination later. Enter goes on.",
                classes="key-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#alert-url", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.save_answers()
        problems = self.answers.problems()
        for box, key in _BOXES.items():
            problem = problems.get(key)
            set_problem(self.query_one(f"#{box}-problem", Static), problem)
            self.query_one(f"#{box}", Input).set_class(bool(problem), "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "alert-url":
            self.query_one("#sentry-dsn", Input).focus()
        else:
            self.action_next()

    def save_answers(self) -> None:
        for box, key in _BOXES.items():
            setattr(self.answers, key, self.query_one(f"#{box}", Input).value.strip())

    def action_next(self) -> None:
        self.save_answers()
        problems = list(self.answers.problems().values())
        self.show_problems(problems)
        if problems:
            self.notify(problems[0], title="Not yet", severity="warning")
            return
        super().action_next()
