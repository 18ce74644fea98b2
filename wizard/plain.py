"""`shipyard new --plain`: the wizard's checklist as line prompts (questionary) for basic terminals and screen readers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import questionary
from questionary import Choice

from wizard import answers, drafts
from wizard.checklist import Checklist, Item, Step, load_checklist
from wizard.errors import Cancelled
from wizard.spec import ACTIONS, FieldSpec, LaunchSpec, dump_spec
from wizard.spec.models import App
from wizard.spec.validate import check

_TEXTUAL = ("string", "text", "email")
_NUMERIC = ("int", "float")
_NO_DEFAULT = ("date", "datetime", "ref")


def say(text: str = "") -> None:
    """Explanations go to stderr, so that stdout carries only the project's path."""
    print(text, file=sys.stderr, flush=True)


def _ask(question: Any) -> Any:
    """Ask, turning Ctrl-C into KeyboardInterrupt (questionary would return None)."""
    return question.unsafe_ask()


class PlainWizard:
    """Walks the checklist's steps in order; `spec` holds the answers so far."""

    def __init__(
        self,
        dest: Path | None,
        spec: LaunchSpec | None = None,
        mode: str = "new",
        checklist: Checklist | None = None,
    ) -> None:
        self.dest = Path(os.path.abspath(dest)) if dest is not None else None
        self.spec = spec.model_copy(deep=True) if spec is not None else answers.blank_spec()
        self.mode = mode
        self.steps = (checklist or load_checklist()).wizard_steps
        self.draft_file: Path | None = None

    @property
    def target(self) -> Path | None:
        if self.dest is not None:
            return self.dest
        if self.spec.app.name and not answers.problem_at(self.spec, "app", "name"):
            return Path.cwd() / self.spec.app.name
        return None

    # --- the walk -----------------------------------------------------------------------------

    def run(self) -> LaunchSpec:
        """Ask every step, then the review; returns the accepted spec."""
        start = 0
        if self.mode == "new":
            start = self._welcome()
        for index in range(start, len(self.steps)):
            self.ask_step(index)
        while True:
            choice = self.review()
            if isinstance(choice, str):  # "accept"
                return self.spec
            self.ask_step(choice)

    def _welcome(self) -> int:
        say("Shipyard: a backend for your frontend.")
        say(
            "A backend is the part of your app that runs on a server: it keeps the data, checks "
            "who is signed in and decides who may see or change what. Shipyard builds one from "
            "your answers. Nothing is written into the project folder until you confirm at the end."
        )
        say("Press Ctrl-C at any time to stop; your answers are saved as you go.")
        draft = drafts.find_draft(self.dest)
        if draft is None:
            return 0
        title = draft.spec.app.title or "your app"
        if _ask(
            questionary.confirm(
                f"Resume the answers for {title} saved in {draft.path}?", default=True
            )
        ):
            self.spec, self.dest, self.draft_file = draft.spec, self.dest or draft.dest, draft.path
            ids = [step.id for step in self.steps]
            return ids.index(draft.step) if draft.step in ids else len(self.steps)
        drafts.discard_draft(draft.path)
        return 0

    def ask_step(self, index: int) -> None:
        step = self.steps[index]
        say()
        say(f"Step {index + 1} of {len(self.steps)}: {step.title}")
        if step.intro:
            say(" ".join(step.intro.split()))
        ask = getattr(self, f"ask_{step.screen}")
        while True:
            ask(step)
            problems = answers.problems_on(self.spec, step.screen or "")
            if not problems:
                break
            say("Please fix these first:")
            for problem in problems:
                say(f"  - {problem}")
        self.save_draft(self.steps[index + 1].id if index + 1 < len(self.steps) else "review")

    def save_draft(self, step: str) -> None:
        target = self.target
        if self.mode != "new" or target is None:
            return
        path = drafts.draft_path(target)
        if self.draft_file is not None and self.draft_file != path:
            drafts.discard_draft(self.draft_file)
        try:
            self.draft_file = drafts.save_draft(target, self.spec, step)
        except OSError:
            self.draft_file = None

    # --- steps (one method per checklist screen) ----------------------------------------------

    def ask_basics(self, step: Step) -> None:
        spec = self.spec
        title = _ask(
            questionary.text(
                _q(step.item("app-title")),
                default=spec.app.title,
                validate=lambda text: bool(text.strip()) or "type a title",
            )
        )
        name = _ask(
            questionary.text(
                _q(step.item("app-name")),
                default=spec.app.name or answers.slugify(title),
                validate=lambda text: (
                    answers.app_problem(title, text.strip(), []).get("name") or True
                ),
            )
        )
        roles = _ask(
            questionary.text(
                _q(step.item("roles")) + " (commas between them; empty for none)",
                default=", ".join(spec.roles),
                validate=lambda text: (
                    answers.app_problem(title, name.strip(), answers.split_words(text)).get("roles")
                    or True
                ),
            )
        )
        spec.app = App(title=title.strip(), name=name.strip())
        spec.roles = [role for role in answers.split_words(roles) if role != "admin"]

    def ask_objects(self, step: Step) -> None:
        _explain(step.item("objects"))
        if not self.spec.objects:
            self._new_objects(step)
            return
        while True:
            summary = ", ".join(
                f"{name} ({len(obj.fields)} fields)" for name, obj in self.spec.objects.items()
            )
            options = [Choice("Done with objects", "done"), Choice("Add an object", "add")]
            for name in self.spec.objects:
                options += [
                    Choice(f"Change the fields of {name}", ("fields", name)),
                    Choice(f"Rename {name}", ("rename", name)),
                    Choice(f"Delete {name}", ("delete", name)),
                ]
            choice = _ask(questionary.select(f"Objects: {summary}. What next?", choices=options))
            if choice == "done":
                return
            if choice == "add":
                if name := self._object_name(None):
                    answers.add_object(self.spec, name)
                    self._fields(name)
            elif choice[0] == "fields":
                self._fields(choice[1])
            elif choice[0] == "rename":
                if (new := self._object_name(choice[1])) and new != choice[1]:
                    answers.rename_object(self.spec, choice[1], new)
            elif _ask(questionary.confirm(f"Delete {choice[1]} and its fields?", default=False)):
                for dangling in answers.remove_object(self.spec, choice[1]):
                    say(f"{dangling} still links to {choice[1]}; change or delete it.")

    def _new_objects(self, step: Step) -> None:
        say("First name every object, one per question; press Enter on an empty answer when done.")
        while True:
            name = self._object_name(None, allow_empty=bool(self.spec.objects))
            if not name:
                break
            answers.add_object(self.spec, name)
        _explain(step.item("fields"))
        for name in self.spec.objects:
            self._fields(name)

    def _object_name(self, current: str | None, allow_empty: bool = False) -> str:
        def valid(text: str) -> bool | str:
            if not text.strip() and (allow_empty or current):
                return True
            return answers.object_name_problem(self.spec, text.strip(), current) or True

        label = f"New name for {current}" if current else "Object name (like Booking)"
        return str(_ask(questionary.text(label, default=current or "", validate=valid))).strip()

    def _fields(self, object_name: str) -> None:
        """New objects: ask field after field. Objects with fields: a menu to change them."""
        obj = self.spec.objects[object_name]
        if not obj.fields:
            say(f"The fields of {object_name}, one per question; Enter on an empty name when done.")
            while self._field(object_name, None):
                pass
            return
        while True:
            listed = "; ".join(
                f"{name}: {answers.field_summary(f)}" for name, f in obj.fields.items()
            )
            options = [Choice(f"Done with {object_name}", "done"), Choice("Add a field", "add")]
            options += [Choice(f"Change {name}", ("edit", name)) for name in obj.fields]
            options += [Choice(f"Delete {name}", ("delete", name)) for name in obj.fields]
            choice = _ask(
                questionary.select(f"{object_name} holds {listed}. What next?", choices=options)
            )
            if choice == "done":
                return
            if choice == "add":
                self._field(object_name, None)
            elif choice[0] == "edit":
                self._field(object_name, choice[1])
            else:
                answers.remove_field(self.spec, object_name, choice[1])

    def _field(self, object_name: str, current: str | None) -> bool:
        """Ask one field; False when the founder gave no name (nothing to add)."""
        old = self.spec.objects[object_name].fields.get(current or "")
        name = str(
            _ask(
                questionary.text(
                    f"{object_name}: field name (like title; empty to finish)"
                    if current is None
                    else f"{object_name}: name of the field {current}",
                    default=current or "",
                    validate=lambda t: (
                        True
                        if not t.strip()
                        else answers.field_problem(
                            self.spec, object_name, t.strip(), FieldSpec(type="string"), current
                        )
                        or True
                    ),
                )
            )
        ).strip()
        if not name:
            return False
        kinds = [Choice(f"{kind}: {label}", kind) for kind, label in answers.FIELD_TYPES.items()]
        kind = _ask(
            questionary.select(
                f"What does {name} hold?", choices=kinds, default=old.type if old else "string"
            )
        )
        values: dict[str, Any] = {"type": kind}
        if kind == "ref":
            values["to"] = _ask(
                questionary.select(
                    f"Which object does {name} link to?", choices=list(self.spec.objects)
                )
            )
        values["required"] = _ask(
            questionary.confirm(
                f"Must {name} always be filled in?", default=bool(old and old.required)
            )
        )
        if kind in _TEXTUAL:
            values["max_length"] = _number(
                f"Longest {name} allowed, in characters (empty: no limit)",
                old.max_length if old else None,
                int,
                minimum=1,
            )
        if kind in _NUMERIC:
            parse = int if kind == "int" else float
            values["min"] = _number(
                f"Smallest {name} allowed (empty: no limit)", old.min if old else None, parse
            )
            values["max"] = _number(
                f"Largest {name} allowed (empty: no limit)", old.max if old else None, parse
            )
        if kind not in _NO_DEFAULT:
            values["default"] = _default(name, kind, old.default if old else None)
        field = FieldSpec(**{key: value for key, value in values.items() if value is not None})
        problem = answers.field_problem(self.spec, object_name, name, field, current)
        if problem:
            say(f"Not saved: {problem}")
            return True
        answers.put_field(self.spec, object_name, name, field, current)
        return True

    def ask_ownership(self, step: Step) -> None:
        item = step.item("ownership")
        _explain(item)
        labels = {choice.value: choice.label for choice in item.choices}
        for name, obj in self.spec.objects.items():
            options = [Choice(labels["creator"], "creator")]
            options += [
                Choice(labels["parent"].replace("{parent}", ref), ref) for ref in obj.ref_fields
            ]
            options += [Choice(labels["none"], "none")]
            owner = _ask(
                questionary.select(f"Who owns a {name}?", choices=options, default=obj.owner)
            )
            if owner != obj.owner:
                answers.set_owner(self.spec, name, owner)
                obj.permissions = answers.default_permissions(obj)

    def ask_login(self, step: Step) -> None:
        item = step.item("login-methods")
        _explain(item)
        for choice in item.choices:
            say(f"  {choice.label}: {' '.join(choice.why.split())}")
        chosen = _ask(
            questionary.checkbox(
                _q(item),
                choices=[
                    Choice(c.label, c.value, checked=c.value in self.spec.login.methods)
                    for c in item.choices
                ],
                validate=lambda picked: bool(picked) or "tick at least one (Space ticks)",
            )
        )
        self.spec.login.methods = chosen

    def ask_permissions(self, step: Step) -> None:
        _explain(step.item("permissions"))
        say(
            "For each question, tick everyone who may do it (Space ticks, Enter goes on). "
            "Ticking nobody means: nobody but admins."
        )
        for name, obj in self.spec.objects.items():
            terms = answers.term_choices(self.spec, name)
            for action in ACTIONS:
                rule = obj.permissions.rule(action)
                question = answers.permission_sentence(name, action, None).split("?")[0] + "?"
                picked = _ask(
                    questionary.checkbox(
                        question,
                        choices=[
                            Choice(answers.term_phrase(term), term, checked=term in rule.terms)
                            for term in terms
                        ],
                    )
                )
                setattr(obj.permissions, action, answers.make_rule(self.spec, name, set(picked)))

    def ask_frontend(self, step: Step) -> None:
        item = step.item("cors-origins")
        text = _ask(
            questionary.text(
                _q(item) + " (commas between addresses)",
                default=", ".join(self.spec.frontend.origins),
                validate=lambda t: answers.origin_problem(answers.split_words(t)) or True,
            )
        )
        self.spec.frontend.origins = answers.split_words(text)

    def ask_staging(self, step: Step) -> None:
        item = step.item("staging-target")
        _explain(item)
        options = [Choice(f"{c.label} ({c.why})", c.value) for c in item.choices]
        self.spec.staging.target = _ask(
            questionary.select(_q(item), choices=options, default=self.spec.staging.target)
        )

    # --- review -------------------------------------------------------------------------------

    def review(self) -> int | str:
        """'accept', or the index of the step to ask again."""
        say()
        say("Your answers, as shipyard.yaml:")
        problems = check(self.spec)
        if not problems:
            say(dump_spec(self.spec).rstrip())
        warnings = answers.launch_warnings(self.spec)
        say(
            "What the launch check would warn about:"
            if warnings
            else "The launch check has nothing to warn about."
        )
        for warning in warnings:
            say(f"  ! {warning}")
        for path, message in problems:
            say(f"  Fix first ({answers.screen_of(path)}): {message}")
        accept = (
            "Save shipyard.yaml" if self.mode == "edit" else f"Create the project in {self.target}"
        )
        options = [] if problems else [Choice(accept, "accept")]
        options += [Choice(f"Change: {step.title}", index) for index, step in enumerate(self.steps)]
        return _ask(questionary.select("What next?", choices=options))  # type: ignore[no-any-return]


def _q(item: Item) -> str:
    return item.question or item.title


def _explain(item: Item) -> None:
    say(" ".join(item.why.split()))


def _number(
    label: str, current: Any, parse: Callable[[str], Any], minimum: float | None = None
) -> Any:
    def valid(text: str) -> bool | str:
        if not text.strip():
            return True
        try:
            value = parse(text.strip())
        except ValueError:
            return "type a whole number" if parse is int else "type a number"
        return True if minimum is None or value >= minimum else f"use {minimum} or more"

    text = _ask(
        questionary.text(label, default="" if current is None else str(current), validate=valid)
    )
    return parse(text.strip()) if text.strip() else None


def _default(name: str, kind: str, current: Any) -> Any:
    if kind == "bool":
        choice = _ask(
            questionary.select(
                f"Default for {name}",
                choices=["none", "yes", "no"],
                default={True: "yes", False: "no"}.get(current, "none"),
            )
        )
        return {"yes": True, "no": False}.get(choice)
    if kind in _NUMERIC:
        return _number(f"Default {name} (empty: none)", current, int if kind == "int" else float)
    text = _ask(questionary.text(f"Default {name} (empty: none)", default=current or ""))
    return text or None


def ask(dest: Path | None) -> Path:
    """Ask everything, create the project through the pipeline and return its folder."""
    from wizard.pipeline import check_destination, create_project

    if dest is not None:
        check_destination(dest)  # say so now, not after every answer
    wizard = PlainWizard(dest)
    try:
        spec = wizard.run()
    except KeyboardInterrupt:
        raise Cancelled(_on_disk(wizard)) from None
    target = wizard.target
    assert target is not None  # the review only accepts a valid spec
    check_destination(target)
    path = create_project(spec, target, on_event=lambda event: say(f"  {event.message}"))
    drafts.discard_draft(wizard.draft_file)
    return path


def edit(spec: LaunchSpec, project: Path) -> LaunchSpec:
    """Walk the prompts over an existing spec; returns the changed spec (not yet saved)."""
    wizard = PlainWizard(project / "shipyard.yaml", spec=spec, mode="edit")
    try:
        return wizard.run()
    except KeyboardInterrupt:
        raise Cancelled("Cancelled: shipyard.yaml was not changed.") from None


def _on_disk(wizard: PlainWizard) -> str:
    where = f" into {wizard.target}" if wizard.target else ""
    if wizard.draft_file is not None and wizard.draft_file.exists():
        return (
            f"Cancelled: nothing was written{where}. Your answers are saved in "
            f"{wizard.draft_file}; run `shipyard new --plain` with the same folder to resume."
        )
    return f"Cancelled: nothing was written{where}."
