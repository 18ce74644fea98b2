"""The progress screen: the same pipeline as `shipyard new --spec`, run in a worker thread."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, Static

from wizard.env_answers import EnvAnswers
from wizard.errors import ShipyardError
from wizard.events import Event
from wizard.spec import LaunchSpec


class ProgressScreen(Screen[None]):
    """Shows each pipeline event as it arrives; the worker only posts messages."""

    class Reported(Message):
        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        """The project exists at `path`, committed."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class Failed(Message):
        """The pipeline stopped; nothing was left in the target folder."""

        def __init__(self, message: str, hint: str | None) -> None:
            super().__init__()
            self.message = message
            self.hint = hint

    def __init__(
        self, spec: LaunchSpec, target: Path, env_answers: EnvAnswers | None = None
    ) -> None:
        super().__init__(id="progress")
        self.spec = spec
        self.target = target
        self.env_answers = env_answers

    def compose(self) -> ComposeResult:
        yield Static(
            f"Shipyard · creating {self.spec.app.title}", classes="step-heading", markup=False
        )
        yield Static(
            f"Building the project in {self.target}. This takes a few seconds; "
            "nothing is left behind if it fails.",
            classes="intro",
            markup=False,
        )
        with VerticalScroll(classes="body", id="events"):
            pass
        yield LoadingIndicator(id="working")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.create()

    @work(thread=True, exclusive=True, group="pipeline")
    def create(self) -> None:
        from wizard.pipeline import create_project

        try:
            path = create_project(
                self.spec, self.target, on_event=self._report, env_answers=self.env_answers
            )
        except ShipyardError as exc:
            self.post_message(self.Failed(exc.message, exc.hint))
        except Exception as exc:  # shown as a sentence, never a traceback
            self.post_message(
                self.Failed(
                    f"Shipyard stopped on an unexpected problem: {type(exc).__name__}: {exc}",
                    "This is a bug in Shipyard, not something you did; please report it.",
                )
            )
        else:
            self.post_message(self.Finished(path))

    def _report(self, event: Event) -> None:
        self.post_message(self.Reported(event))

    def on_progress_screen_reported(self, message: Reported) -> None:
        events = self.query_one("#events", VerticalScroll)
        events.mount(Static(f"✓ {message.event.message}", classes="event", markup=False))
        events.scroll_end(animate=False)

    def on_progress_screen_failed(self, message: Failed) -> None:
        self.query_one("#working").display = False

    def restart(self) -> None:
        self.query_one("#events", VerticalScroll).remove_children()
        self.query_one("#working").display = True
        self.create()
