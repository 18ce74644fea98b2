"""Step: app basics — the title, the short name and the roles, validated as they are typed."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from wizard import answers
from wizard.spec.models import App
from wizard.tui.base import StepScreen, set_problem

_INPUTS = ("title", "name", "roles")


class BasicsScreen(StepScreen):
    """Title first; the short name follows it until the founder edits the name by hand."""

    def compose_body(self) -> ComposeResult:
        spec = self.spec
        self._name_follows_title = not spec.app.name or spec.app.name == answers.slugify(
            spec.app.title
        )
        with VerticalScroll(classes="body"):
            yield from self.question("app-title")
            # Placeholders say "for example", so that they never look like an answer given.
            yield Input(
                spec.app.title,
                placeholder=f"for example: {self.item('app-title').default}",
                id="title",
                compact=True,
            )
            yield Static("", id="title-problem", classes="field-problem", markup=False)
            yield from self.question("app-name")
            yield Input(
                spec.app.name,
                placeholder=f"for example: {self.item('app-name').default}",
                id="name",
                compact=True,
            )
            yield Static("", id="name-problem", classes="field-problem", markup=False)
            yield from self.question("roles")
            yield Input(
                ", ".join(spec.roles),
                placeholder="for example: staff, teacher",
                id="roles",
                compact=True,
            )
            yield Static("", id="roles-problem", classes="field-problem", markup=False)

    _position = 0
    _requested: list[str]

    def on_mount(self) -> None:
        self._requested = []
        self.query_one("#title", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "name" and event.input.has_focus:
            # Cleared, or typed back to the suggestion: it follows the title again.
            suggestion = answers.slugify(self._value("title"))
            self._name_follows_title = event.value in ("", suggestion)
        if event.input.id == "title":
            name = self.query_one("#name", Input)
            suggestion = answers.slugify(event.value)
            name.placeholder = f"suggested: {suggestion}" if suggestion else "for example: my-app"
            if self._name_follows_title and not name.has_focus:
                name.value = suggestion
        self.save_answers()
        self._validate(touched=event.input.id or "")
        self.changed()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves one answer on.

        Enters typed ahead can all arrive before focus has moved, so the screen counts
        where the founder is itself rather than asking which input has focus.
        """
        event.stop()
        if self._position >= len(_INPUTS) - 1:
            self.action_next()
            return
        self._position += 1
        self._requested.append(_INPUTS[self._position])
        self.query_one(f"#{_INPUTS[self._position]}", Input).focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        name = event.widget.id
        if name in self._requested:  # focus we asked for, arriving late
            del self._requested[: self._requested.index(name) + 1]
        elif name in _INPUTS:  # the founder moved (Tab, mouse)
            self._requested.clear()
            self._position = _INPUTS.index(name)

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value

    def help_values(self) -> dict[str, str]:
        name = self.spec.app.name or answers.slugify(self.spec.app.title) or "my-app"
        return {
            "name": name,
            "database": name.replace("-", "_"),
            "sqlite": f"{name.replace('-', '_')}.db",
        }

    def save_answers(self) -> None:
        name = self._value("name").strip()
        if not name and self._name_follows_title:  # cleared: the suggestion it shows is meant
            name = answers.slugify(self._value("title"))
        self.spec.app = App(name=name, title=self._value("title").strip())
        self.spec.roles = [
            role for role in answers.split_words(self._value("roles")) if role != "admin"
        ]

    def _validate(self, touched: str = "") -> dict[str, str]:
        problems = answers.app_problem(self.spec.app.title, self.spec.app.name, self.spec.roles)
        if not self.spec.app.title:
            problems.setdefault("title", "give your app a title, like Studio Booking")
        for name in _INPUTS:
            label = self.query_one(f"#{name}-problem", Static)
            # An empty answer is only a problem once the founder has been there.
            show = problems.get(name, "") if (self._value(name) or name == touched) else ""
            set_problem(label, show)
            self.query_one(f"#{name}", Input).set_class(bool(show), "-invalid")
        return problems
