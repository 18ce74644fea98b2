"""Toggles whose state shows in their glyph, not only in colour, so NO_COLOR terminals can read them."""

from __future__ import annotations

import textwrap
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, RadioButton, Static


class Tick(Checkbox):
    """A checkbox showing X when ticked and a blank when not."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "X" if self.value else " "


class Dot(RadioButton):
    """A radio button showing a dot only when chosen."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "●" if self.value else " "


class TickList(Vertical):
    """Several ticks, each with an optional explanation; arrows move, Space or Enter ticks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
    ]

    class Changed(Message):
        """What is ticked changed."""

        def __init__(self, tick_list: TickList) -> None:
            super().__init__()
            self.tick_list = tick_list

        @property
        def control(self) -> TickList:
            return self.tick_list

    def __init__(self, options: list[tuple[str, Any, bool, str]], *, id: str | None = None) -> None:
        """`options` are (label, value, ticked, why)."""
        super().__init__(id=id, classes="tick-list")
        self.options = options

    def compose(self) -> ComposeResult:
        for index, (label, _value, ticked, why) in enumerate(self.options):
            yield Tick(Content(label), ticked, name=str(index), compact=True)
            if why:
                yield Static(why, classes="tick-why", markup=False)

    @property
    def ticks(self) -> list[Tick]:
        return list(self.query(Tick))

    @property
    def selected(self) -> list[Any]:
        return [self.options[int(tick.name or 0)][1] for tick in self.ticks if tick.value]

    def focus(self, scroll_visible: bool = True) -> TickList:
        if self.ticks:
            self.ticks[0].focus(scroll_visible)
        return self

    def action_move(self, delta: int) -> None:
        ticks = self.ticks
        current = next((i for i, tick in enumerate(ticks) if tick.has_focus), 0)
        ticks[max(0, min(len(ticks) - 1, current + delta))].focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self))


def wrapped(phrase: str, width: int) -> Text:
    """A table cell's text in lines of at most `width`, broken after commas where it can (then
    between words), so that a narrow column shows the whole label on more lines of its row."""
    lines: list[str] = []
    for part in phrase.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
            continue
        if lines:
            lines[-1] += ","
        lines.extend(textwrap.wrap(part, width, break_on_hyphens=False) or [""])
    return Text("\n".join(lines))
