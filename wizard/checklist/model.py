"""Load and validate the launch checklist file (checklists/launch.yaml) into typed models."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wizard.errors import ShipyardError
from wizard.paths import checklists_dir

Severity = Literal["fail", "warn"]
CheckKind = Literal["spec", "project", "live"]
SCREENS: tuple[str, ...] = (
    "basics",
    "objects",
    "ownership",
    "login",
    "permissions",
    "frontend",
    "staging",
    "monitoring",
)
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_CHECK_ID = re.compile(r"^(spec|project|live)\.[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(BaseModel):
    """One check `shipyard check` runs; keys other than id and severity are its parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    severity: Severity | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _CHECK_ID.match(value):
            raise ValueError(f"'{value}' is not a check id; write <spec|project|live>.<name>")
        return value

    @property
    def kind(self) -> CheckKind:
        return self.id.split(".", 1)[0]  # type: ignore[return-value]

    @property
    def params(self) -> dict[str, Any]:
        """The check's extra keys: parameters for the code that evaluates it."""
        return dict(self.model_extra or {})


class Choice(_Strict):
    """One answer offered for a question; `label` may hold {parent} or {role} placeholders."""

    value: Any
    label: str
    why: str = ""


class Item(_Strict):
    """One thing on the checklist: asked by the wizard when it has a question, always checked."""

    id: str
    title: str
    question: str | None = None
    why: str
    help: str = ""  # what F1 adds to the screen: rules, examples, what it changes later
    default: Any = None
    choices: list[Choice] = Field(default_factory=list)
    answers: list[str] = Field(default_factory=list)
    severity: Severity
    fix: str = ""
    checks: list[Check] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _item_id(cls, value: str) -> str:
        return _plain_id(value, "item")

    @property
    def asked(self) -> bool:
        return self.question is not None

    def choice(self, value: Any) -> Choice | None:
        return next((choice for choice in self.choices if choice.value == value), None)

    def severity_of(self, check: Check) -> Severity:
        return check.severity or self.severity


class Step(_Strict):
    """A group of items: one wizard screen (when `screen` is set) and one section of the report."""

    id: str
    title: str
    screen: str | None = None
    intro: str = ""
    items: list[Item] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _step_id(cls, value: str) -> str:
        return _plain_id(value, "step")

    @field_validator("screen")
    @classmethod
    def _known_screen(cls, value: str | None) -> str | None:
        if value is not None and value not in SCREENS:
            raise ValueError(f"'{value}' is not a wizard screen; use one of {', '.join(SCREENS)}")
        return value

    @property
    def asked_items(self) -> list[Item]:
        return [item for item in self.items if item.asked]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


class Checklist(_Strict):
    """The whole launch checklist, in order."""

    version: Literal[1]
    steps: list[Step]

    @model_validator(mode="after")
    def _unique(self) -> Checklist:
        for what, ids in (
            ("step", [step.id for step in self.steps]),
            ("item", [item.id for _, item in self.all_items()]),
            ("screen", [step.screen for step in self.steps if step.screen]),
        ):
            twice = sorted({one for one in ids if ids.count(one) > 1})
            if twice:
                raise ValueError(f"{what} {', '.join(twice)} appears more than once; keep one")
        return self

    @property
    def wizard_steps(self) -> list[Step]:
        """The steps the wizard walks, in order: those with a screen."""
        return [step for step in self.steps if step.screen]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def all_items(self) -> Iterator[tuple[Step, Item]]:
        for step in self.steps:
            for item in step.items:
                yield step, item

    def item(self, item_id: str) -> Item:
        for _, item in self.all_items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def checks(self) -> Iterator[tuple[Step, Item, Check]]:
        for step, item in self.all_items():
            for check in item.checks:
                yield step, item, check


def _plain_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"'{value}' is not a {what} id; use lower-case words joined by dashes")
    return value


def default_path() -> Path:
    return checklists_dir() / "launch.yaml"


def parse_checklist(text: str, filename: str = "launch.yaml") -> Checklist:
    """Validate the checklist's text; every problem is named by its place in the file."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ShipyardError(
            f"The checklist {filename} is not valid YAML: {exc}",
            hint="Fix the file (indent with spaces, quote text containing ': '), then try again.",
        ) from None
    try:
        return Checklist.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {_where(data, error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ShipyardError(
            f"The checklist {filename} has problems:\n{problems}",
            hint="The schema is described at the top of checklists/launch.yaml.",
        ) from None


def _where(data: Any, loc: tuple[Any, ...]) -> str:
    """`steps[2].items[0].severity`, naming steps and items by id where possible."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1] += f"[{ident}]" if isinstance(ident, str) else f"[{key}]"
            continue
        node = node.get(key) if isinstance(node, dict) else None
        if isinstance(key, str) and key.startswith(("function-", "literal[")):
            continue
        parts.append(str(key))
    return ".".join(parts) or "the file"


def load_checklist(path: Path | None = None) -> Checklist:
    """The checklist at `path`, or Shipyard's own launch checklist."""
    if path is None:
        return _default_checklist()
    return _read(Path(path))


@cache
def _default_checklist() -> Checklist:
    return _read(default_path())


def _read(path: Path) -> Checklist:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShipyardError(
            f"Cannot read the checklist {path}: {exc.strerror or exc}",
            hint="Reinstall Shipyard, or check the path you gave.",
        ) from None
    return parse_checklist(text, str(path))
