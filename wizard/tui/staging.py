"""Step: where staging runs — Docker with PostgreSQL, or a local process with SQLite."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import RadioSet, Static

from wizard.staging import engine
from wizard.tui.base import StepScreen, set_problem
from wizard.tui.widgets import Dot


class StagingScreen(StepScreen):
    class DockerChecked(Message):
        """Whether Docker staging could start on this machine (None: it could)."""

        def __init__(self, problem: str | None) -> None:
            super().__init__()
            self.problem = problem

    def compose_body(self) -> ComposeResult:
        item = self.item("staging-target")
        with VerticalScroll(classes="body"):
            yield from self.question("staging-target")
            with RadioSet(id="staging-target", compact=True):
                for choice in item.choices:
                    yield Dot(
                        choice.label,
                        self.spec.staging.target == choice.value,
                        name=str(choice.value),
                    )
            for choice in item.choices:
                yield Static(
                    f"{choice.label.split(',')[0]}: {choice.why}", classes="why", markup=False
                )
            yield Static("", id="docker-readiness", classes="problems", markup=False)

    def on_mount(self) -> None:
        self.query_one(RadioSet).focus()
        self.check_docker()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.pressed.name in ("docker", "local"):
            self.spec.staging.target = event.pressed.name  # type: ignore[assignment]
            self.changed()
            self.check_docker()

    @work(thread=True, exclusive=True, group="docker-readiness")
    def check_docker(self) -> None:
        """Before Docker is chosen: does an engine answer here, and can it get the images?"""
        problem = engine.docker_problem(self.spec) if self.spec.staging.target == "docker" else None
        self.post_message(self.DockerChecked(problem))

    def on_staging_screen_docker_checked(self, message: DockerChecked) -> None:
        text = None
        if message.problem and self.spec.staging.target == "docker":
            text = (
                f"Docker staging would not start here yet: {message.problem}. Start Docker "
                "before `shipyard up`, or choose the local process (up offers it too)."
            )
        set_problem(self.query_one("#docker-readiness", Static), text)
