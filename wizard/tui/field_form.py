"""Dialog: add or edit one field of an object, checked as it is typed."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static

from wizard import answers, wording
from wizard.spec import FieldSpec, LaunchSpec
from wizard.tui.base import set_problem
from wizard.tui.widgets import Tick

_TEXTUAL = ("string", "text", "email")
_NUMERIC = ("int", "float")
_NO_DEFAULT = ("date", "datetime", "ref")
_PARSE: dict[str, Any] = {"int": int, "float": float}


class FieldForm(ModalScreen[tuple[str, FieldSpec] | None]):
    """Dismisses with (name, field), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save field"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, spec: LaunchSpec, object_name: str, current: str | None = None) -> None:
        super().__init__(classes="dialog")
        self.spec = spec
        self.object_name = object_name
        self.current = current
        self.field = (
            spec.objects[object_name].fields[current].model_copy()
            if current
            else FieldSpec(type="string")
        )

    def compose(self) -> ComposeResult:
        field = self.field
        targets = [(name, name) for name in self.spec.objects]
        others = [name for name in self.spec.objects if name != self.object_name] or list(
            self.spec.objects
        )
        target = field.to if field.to in self.spec.objects else others[0]
        with Vertical(classes="dialog-box field-form"):
            heading = f"{self.object_name}: " + (
                f"edit {self.current}" if self.current else "add a field"
            )
            yield Static(heading, classes="dialog-title", markup=False)
            with Grid(classes="form-grid"):
                yield Label("Name")
                yield Input(self.current or "", placeholder="title", id="field-name", compact=True)
                yield Label("Holds")
                yield Select(
                    [(f"{kind}: {label}", kind) for kind, label in wording.FIELD_TYPES.items()],
                    value=field.type,
                    allow_blank=False,
                    id="field-type",
                    compact=True,
                )
                yield Label("Links to", classes="ref-only")
                yield Select(
                    targets,
                    value=target,
                    allow_blank=False,
                    id="field-to",
                    compact=True,
                    classes="ref-only",
                )
                yield Label("Required")
                yield Tick(
                    "must always be filled in", field.required, id="field-required", compact=True
                )
                yield from _setting(
                    "Max length",
                    field.max_length,
                    "e.g. 120",
                    "field-max-length",
                    "text-only",
                    "integer",
                )
                yield from _setting(
                    "Smallest", field.min, "no limit", "field-min", "number-only", "number"
                )
                yield from _setting(
                    "Largest", field.max, "no limit", "field-max", "number-only", "number"
                )
                yield from _setting(
                    "Default", field.default, "none", "field-default", "default-only", "text"
                )
            yield Static("", id="field-problem", classes="field-problem", markup=False)
            yield Static("Tab next · Ctrl+S save · Esc cancel", classes="key-help")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_options()
        self.query_one("#field-name", Input).focus()

    def _show_options(self) -> None:
        kind = self.query_one("#field-type", Select).value
        for selector, shown in (
            (".ref-only", kind == "ref"),
            (".text-only", kind in _TEXTUAL),
            (".number-only", kind in _NUMERIC),
            (".default-only", kind not in _NO_DEFAULT),
        ):
            for widget in self.query(selector):
                widget.display = shown

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "field-type":
            self._show_options()
        self._check()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._check()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def _read(self) -> tuple[str, FieldSpec | None, str | None]:
        """The form as (name, field, problem)."""
        name = self.query_one("#field-name", Input).value.strip()
        kind = str(self.query_one("#field-type", Select).value)
        values: dict[str, Any] = {
            "type": kind,
            "required": self.query_one("#field-required", Checkbox).value,
        }
        try:
            if kind == "ref":
                target = self.query_one("#field-to", Select).value
                if target == Select.NULL:
                    return name, None, "choose the object this field links to"
                values["to"] = target
            if kind in _TEXTUAL:
                values["max_length"] = _number(self, "#field-max-length", int, "max length")
            if kind in _NUMERIC:
                parse = _PARSE[kind]
                values["min"] = _number(self, "#field-min", parse, "smallest value")
                values["max"] = _number(self, "#field-max", parse, "largest value")
            if kind not in _NO_DEFAULT:
                values["default"] = _default(self.query_one("#field-default", Input).value, kind)
        except ValueError as exc:
            return name, None, str(exc)
        if values.get("max_length") is not None and values["max_length"] < 1:
            return name, None, "max length must be 1 or more"
        field = FieldSpec(**{key: value for key, value in values.items() if value is not None})
        return (
            name,
            field,
            answers.field_problem(self.spec, self.object_name, name, field, self.current),
        )

    def _check(self) -> bool:
        name, _field, problem = self._read()
        shown = problem if (name or (problem and "name" not in problem)) else ""
        set_problem(self.query_one("#field-problem", Static), shown)
        return problem is None

    def action_save(self) -> None:
        name, field, problem = self._read()
        if problem or field is None:
            set_problem(self.query_one("#field-problem", Static), problem)
            return
        self.dismiss((name, field))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _setting(
    label: str,
    value: Any,
    placeholder: str,
    input_id: str,
    shown_for: str,
    input_type: Literal["integer", "number", "text"],
) -> ComposeResult:
    """One optional setting of the field: its label and its input, shown for some types only."""
    yield Label(label, classes=shown_for)
    yield Input(
        _shown(value),
        placeholder=placeholder,
        id=input_id,
        compact=True,
        classes=shown_for,
        type=input_type,
    )


def _number(form: FieldForm, selector: str, parse: Any, what: str) -> Any:
    return _parse_number(form.query_one(selector, Input).value, parse, what)


def _parse_number(text: str, parse: Any, what: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        kind = "a whole number" if parse is int else "a number"
        raise ValueError(f"the {what} must be {kind}, not '{text}'") from None


def _default(text: str, kind: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if kind in _NUMERIC:
        return _parse_number(text, _PARSE[kind], "default")
    if kind == "bool":
        if text.lower() in ("yes", "true", "y", "1"):
            return True
        if text.lower() in ("no", "false", "n", "0"):
            return False
        raise ValueError("the default must be yes or no")
    return text
