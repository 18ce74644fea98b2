"""The first screen: what a backend is, what the wizard will ask, and how to move around."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

_ABOUT = (
    "Your frontend (from Lovable, Cursor, v0 or Bolt) shows the screens. A backend is the part "
    "that runs on a server: it keeps the data, checks who is signed in and decides who may see "
    "or change what. Shipyard builds one for you from your answers: a tested FastAPI project, "
    "committed to Git, with a staging copy you can try."
)
_KEYS = (
    "Keys: Ctrl+N next step · Ctrl+P back · Tab moves between boxes · F1 why a question "
    "matters · Ctrl+Q quit. Your answers are saved as you go."
)


class WelcomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start"),
        Binding("ctrl+n", "start", "Start", show=False),
    ]

    class Started(Message):
        """The founder is ready for the first question."""

    def __init__(self, steps: list[str], target: str | None) -> None:
        """`steps` are the titles of the steps the wizard will walk."""
        super().__init__(id="welcome")
        self.steps = steps
        self.target = target

    def compose(self) -> ComposeResult:
        yield Static("Shipyard · a backend for your frontend", classes="step-heading")
        with VerticalScroll(classes="body"):
            yield Static(_ABOUT, classes="intro", markup=False)
            plan = "\n".join(f"  {number}. {title}" for number, title in enumerate(self.steps, 1))
            yield Static(
                f"You will answer {len(self.steps)} short steps, about ten minutes:\n{plan}",
                classes="plan",
                markup=False,
            )
            where = (
                f"The project will be created in {self.target}."
                if self.target
                else ("The project will be created in a new folder named after your app.")
            )
            yield Static(
                f"{where} Nothing is written there until you confirm at the end.",
                classes="why",
                markup=False,
            )
            yield Static(_KEYS, classes="key-help", markup=False)
        yield Static("Press Enter to start.", classes="call-to-action")
        yield Footer(compact=True)

    def action_start(self) -> None:
        self.post_message(self.Started())
