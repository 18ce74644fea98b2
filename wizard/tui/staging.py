"""Step: where staging runs — Docker with PostgreSQL, or a local process with SQLite."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import RadioSet, Static

from wizard.tui.base import StepScreen
from wizard.tui.widgets import Dot


class StagingScreen(StepScreen):
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

    def on_mount(self) -> None:
        self.query_one(RadioSet).focus()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.pressed.name in ("docker", "local"):
            self.spec.staging.target = event.pressed.name  # type: ignore[assignment]
            self.changed()
