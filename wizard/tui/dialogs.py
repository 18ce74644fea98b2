"""Small modal dialogs: confirm quitting, a failure to read, resume a draft, a yes/no question."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class Choice(ModalScreen[str]):
    """A message and a few answers, each with its own key; dismisses with the answer's key."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "choose('escape')", "Cancel")]

    def __init__(
        self, title: str, message: str, options: list[tuple[str, str]], *, classes: str = ""
    ) -> None:
        super().__init__(classes=f"dialog {classes}".strip())
        self.title_text = title
        self.message = message
        self.options = options  # (key, label)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.message, classes="dialog-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for index, (key, label) in enumerate(self.options):
                    yield Button(
                        Content(f"{label} ({key})"),
                        id=f"choice-{key}",
                        variant="primary" if index == 0 else "default",
                    )

    def on_key(self, event: events.Key) -> None:
        if event.key in {key for key, _label in self.options}:
            event.stop()
            self.dismiss(event.key)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_choose(self, key: str) -> None:
        self.dismiss(key)


class Help(ModalScreen[None]):
    """F1's help for a step: longer than a dialog's message, so it scrolls (arrows, Page Up
    and Page Down); Escape, Enter or F1 closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,f1", "close", "Close"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog help")
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(id="help-text", classes="help-text"):
                yield Static(self.text, markup=False)
            yield Static(
                "↑/↓ or Page Up/Down scroll · Escape, Enter or F1 closes",
                classes="key-help",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#help-text").focus()

    def action_close(self) -> None:
        self.dismiss(None)
