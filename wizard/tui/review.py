"""The review: the spec as YAML and what the launch check would warn about, before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.syntax import Syntax
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from wizard import answers
from wizard.env_answers import EnvAnswers
from wizard.spec import LaunchSpec, dump_spec
from wizard.spec.validate import check


class ReviewScreen(Screen[None]):
    """Ctrl+N creates the project (or saves shipyard.yaml when editing); Ctrl+P goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "confirm", "Create the project"),
        Binding("ctrl+p", "back", "Back"),
    ]

    class Confirmed(Message):
        """The founder accepted the answers."""

    class WentBack(Message):
        """The founder wants to change something."""

    def __init__(
        self,
        spec: LaunchSpec,
        target: Path | None,
        mode: str = "new",
        env_answers: EnvAnswers | None = None,
    ) -> None:
        super().__init__(id="review")
        self.spec = spec
        self.target = target
        self.mode = mode
        self.env_answers = env_answers

    def compose(self) -> ComposeResult:
        yield Static("Shipyard · review your answers", classes="step-heading")
        with VerticalScroll(classes="body", id="review-body"):
            yield Static(self._where(), classes="question", markup=False)
            problems = check(self.spec)
            if problems:
                lines = "\n".join(
                    f"  - {answers.screen_of(path)}: {message}" for path, message in problems
                )
                yield Static(
                    f"Fix these first (Ctrl+P goes back):\n{lines}",
                    classes="problems -shown",
                    markup=False,
                )
            with Vertical(id="warnings-box", classes="warnings"):
                yield Static(
                    "Asking the launch check about these answers…", id="warnings", markup=False
                )
            yield Static(self._alerts(), classes="why", id="alerts", markup=False)
            notes = answers.safe_identifiers(self.spec)
            if notes:
                yield Static("\n".join(notes), classes="why", markup=False)
            yield Static(
                "shipyard.yaml (every answer, in one file you can edit later):", classes="question"
            )
            if not problems:
                yield Static(
                    Syntax(
                        dump_spec(self.spec), "yaml", theme="ansi_dark", background_color="default"
                    ),
                    id="yaml",
                )
        yield Footer(compact=True)

    class Evaluated(Message):
        """The launch check's verdict on the spec, as sentences."""

        def __init__(self, warnings: list[str]) -> None:
            super().__init__()
            self.warnings = warnings

    def on_mount(self) -> None:
        self.query_one("#review-body").focus()
        self.evaluate()

    @work(thread=True, exclusive=True, group="review")
    def evaluate(self) -> None:
        self.post_message(self.Evaluated(answers.launch_warnings(self.spec)))

    def on_review_screen_evaluated(self, message: Evaluated) -> None:
        warnings = message.warnings
        heading = (
            "What the launch check would warn about:"
            if warnings
            else ("The launch check has nothing to warn about in these answers.")
        )
        self.query_one("#warnings", Static).update(heading)
        # One line each, wrapped under its own text rather than under the "!".
        self.query_one("#warnings-box").mount_all(
            Static(f"! {warning}", classes="warning", markup=False) for warning in warnings
        )

    def _alerts(self) -> str:
        """Where alerts go, naming only the service: the rest of the URL is a secret."""
        env = self.env_answers
        if env is None or not env.alert_url:
            return (
                "Alerts go nowhere yet: `shipyard alert set URL` sets where later "
                "(Monitoring and alerts)."
            )
        errors = " Errors also go to your error monitor (SENTRY_DSN)." if env.sentry_dsn else ""
        return f"Alerts go to {env.destination()}, kept in .env, not in shipyard.yaml.{errors}"

    def _where(self) -> str:
        if self.mode == "edit":
            return f"Ctrl+N saves these answers to {self.target}."
        return f"Ctrl+N creates the project in {self.target}: rendered, with secrets in .env, committed to Git."

    def action_confirm(self) -> None:
        if check(self.spec):
            self.notify(
                "Some answers need fixing first; they are listed at the top.",
                title="Not yet",
                severity="warning",
            )
            return
        self.post_message(self.Confirmed())

    def action_back(self) -> None:
        self.post_message(self.WentBack())


class EditReviewScreen(ReviewScreen):
    """The review when editing an existing project: Ctrl+N saves shipyard.yaml."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+n", "confirm", "Save shipyard.yaml")]

    def __init__(
        self,
        spec: LaunchSpec,
        target: Path | None,
        mode: str = "edit",
        env_answers: EnvAnswers | None = None,
    ) -> None:
        super().__init__(spec, target, mode, env_answers)
