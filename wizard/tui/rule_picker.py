"""Dialog: who may do one action on one object, chosen as sentences."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from wizard import answers, wording
from wizard.spec import LaunchSpec, Rule
from wizard.tui.widgets import TickList


class RulePicker(ModalScreen[Rule | None]):
    """Tick the people who may do the action; ticking nobody means only admins."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, spec: LaunchSpec, object_name: str, action: str) -> None:
        super().__init__(classes="dialog")
        self.spec = spec
        self.object_name = object_name
        self.action = action
        self.rule = spec.objects[object_name].permissions.rule(action)

    def compose(self) -> ComposeResult:
        chosen = set(self.rule.terms)
        options = [
            (wording.term_phrase(term), index, term in chosen, "")
            for index, term in enumerate(answers.term_choices(self.spec, self.object_name))
        ]
        with Vertical(classes="dialog-box"):
            yield Static(
                wording.permission_sentence(self.object_name, self.action, None).split("?")[0]
                + "?",
                classes="dialog-title",
                markup=False,
            )
            yield TickList(options, id="rule-terms")
            yield Static("", id="rule-sentence", classes="why", markup=False)
            yield Static(
                "Arrows move · Space tick · Ctrl+S save · Esc cancel. "
                "Tick nothing for: nobody but admins.",
                classes="key-help",
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(TickList).focus()
        self._show()

    def _chosen_rule(self) -> Rule:
        terms = answers.term_choices(self.spec, self.object_name)
        chosen = {terms[index] for index in self.query_one(TickList).selected}
        return answers.make_rule(self.spec, self.object_name, chosen)

    def _show(self) -> None:
        sentence = wording.permission_sentence(self.object_name, self.action, self._chosen_rule())
        self.query_one("#rule-sentence", Static).update(sentence)

    def on_tick_list_changed(self, event: TickList.Changed) -> None:
        self._show()

    def action_save(self) -> None:
        self.dismiss(self._chosen_rule())

    def action_cancel(self) -> None:
        self.dismiss(None)
