"""What every step screen shares: the heading, the question's why, key hints and step navigation."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from wizard.checklist import Item, Step
    from wizard.env_answers import EnvAnswers
    from wizard.spec import LaunchSpec


def set_problem(label: Static, text: str | None) -> None:
    """Show a problem under an answer, or hide the line when there is none."""
    label.update(text or "")
    label.set_class(bool(text), "-shown")


class StepScreen(Screen[None]):
    """One checklist step: subclasses compose the body and write answers into `spec`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "next", "Next step"),
        Binding("ctrl+p", "back", "Back"),
        Binding("f1", "why", "Why?"),
    ]

    class Navigated(Message):
        """The founder asked to leave this step: +1 forward, -1 back."""

        def __init__(self, step_id: str, direction: int) -> None:
            super().__init__()
            self.step_id = step_id
            self.direction = direction

    class AnswersChanged(Message):
        """Answers on this step changed (the app saves the draft)."""

        def __init__(self, step_id: str) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(
        self,
        spec: LaunchSpec,
        step: Step,
        number: int,
        total: int,
        env_answers: EnvAnswers | None = None,
    ) -> None:
        super().__init__(id=f"step-{step.id}", classes="step")
        self.spec = spec
        # Answers that are secrets (kept in .env, never in the spec): the app's own object.
        self.env_answers = env_answers
        self.step = step
        self.number = number
        self.total = total

    def compose(self) -> ComposeResult:
        yield Static(
            f"Shipyard · step {self.number} of {self.total} · {self.step.title}",
            classes="step-heading",
            markup=False,
        )
        if self.step.intro:
            yield Static(" ".join(self.step.intro.split()), classes="intro", markup=False)
        yield from self.compose_body()
        yield Static("", id="step-problems", classes="problems", markup=False)
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield VerticalScroll()

    def item(self, item_id: str) -> Item:
        return self.step.item(item_id)

    def question(self, item_id: str) -> ComposeResult:
        """An item's question with its plain-English why."""
        item = self.item(item_id)
        yield Static(item.question or item.title, classes="question", markup=False)
        yield Static(" ".join(item.why.split()), classes="why", markup=False)

    def save_answers(self) -> None:
        """Write what the widgets hold into `spec` (most screens do it as the founder types)."""

    def changed(self) -> None:
        self.post_message(self.AnswersChanged(self.step.id))

    def show_problems(self, problems: list[str]) -> None:
        box = self.query_one("#step-problems", Static)
        box.update("\n".join(f"Fix first: {problem}" for problem in problems[:3]))
        box.set_class(bool(problems), "-shown")

    def action_next(self) -> None:
        from wizard import answers

        self.save_answers()
        problems = answers.problems_on(self.spec, self.step.screen or "")
        self.show_problems(problems)
        if problems:
            self.notify(problems[0], title="Not yet", severity="warning")
            return
        self.post_message(self.Navigated(self.step.id, +1))

    def action_why(self) -> None:
        from wizard.tui.dialogs import Help

        self.app.push_screen(Help(f"Help · {self.step.title}", self.help_text()))

    def help_text(self) -> str:
        """What F1 shows: each question with its help (rules, examples, what a change later
        means), which the screen has no room for; the why, for a question without help."""
        from wizard.paths import as_typed

        values = self.help_values()
        parts = []
        for item in self.step.items:
            text = " ".join((item.help or item.why).split())
            if item.help:
                text = text.format_map(_Blank(values))
            parts.append(f"{item.question or item.title}\n{text}")
        return as_typed("\n\n".join(parts))

    def help_values(self) -> dict[str, str]:
        """The answers so far that a help text's {placeholders} name (see checklists/launch.yaml)."""
        return {}

    def action_back(self) -> None:
        self.save_answers()
        self.post_message(self.Navigated(self.step.id, -1))


class _Blank(dict[str, str]):
    """format_map values: a placeholder no screen fills in stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
