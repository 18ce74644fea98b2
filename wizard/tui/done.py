"""The last screen: where the project is, its addresses, and what to do next."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from wizard.env_answers import EnvAnswers
from wizard.next_steps import next_steps_text
from wizard.spec import LaunchSpec
from wizard.spec.naming import route_name


class DoneScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "close", "Finish"),
        Binding("q", "close", "Finish", show=False),
    ]

    class Closed(Message):
        """The founder has read the last screen."""

    def __init__(self, spec: LaunchSpec, path: Path, env_answers: EnvAnswers | None = None) -> None:
        super().__init__(id="done")
        self.spec = spec
        self.path = path
        self.env_answers = env_answers

    def compose(self) -> ComposeResult:
        shown = _relative(self.path)
        yield Static(
            f"Shipyard · {self.spec.app.title} is ready", classes="step-heading", markup=False
        )
        with VerticalScroll(classes="body"):
            yield Static(
                f"Your backend is in {self.path}\nIt is committed to Git; its secrets are in "
                ".env, which Git ignores.",
                classes="question",
                markup=False,
            )
            routes = ", ".join(f"/api/{route_name(name)}" for name in self.spec.objects)
            alerts_to = (
                self.env_answers.destination()
                if self.env_answers and self.env_answers.alert_url
                else None
            )
            yield Static(next_steps_text(self.spec, shown, alerts_to), classes="plan", markup=False)
            yield Static(
                "Addresses once staging runs (the port is printed by `up`):\n"
                "  API docs:  <api address>/docs\n"
                "  Health:    <api address>/health\n"
                f"  Your data: {routes}\n"
                f"Tell your frontend to call the API address; it accepts requests from "
                f"{', '.join(self.spec.frontend.origins) or 'no browser origins yet'}.",
                classes="why",
                markup=False,
            )
        yield Static("Press Enter to finish.", classes="call-to-action")
        yield Footer(compact=True)

    def action_close(self) -> None:
        self.post_message(self.Closed())


def _relative(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
