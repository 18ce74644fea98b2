"""The plain wizard's objects step: name the objects, then their fields, or change them by menu."""

from __future__ import annotations

from typing import Any

import questionary
from questionary import Choice

from wizard import answers, wording
from wizard.checklist import Step
from wizard.plain.prompts import (
    NO_DEFAULT,
    NUMERIC,
    TEXTUAL,
    ask_question,
    default_value,
    explain,
    number,
    say,
    yes_no,
)
from wizard.spec import FieldSpec, LaunchSpec


class ObjectPrompts:
    """Asks about `spec`'s objects and fields, changing `spec` in place."""

    def __init__(self, spec: LaunchSpec) -> None:
        self.spec = spec

    def ask(self, step: Step) -> None:
        explain(step.item("objects"))
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
            choice = ask_question(
                questionary.select(f"Objects: {summary}. What next?", choices=options)
            )
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
            elif yes_no(f"Delete {choice[1]} and its fields?", default=False):
                for dangling in answers.remove_object(self.spec, choice[1]):
                    say(f"{dangling} still links to {choice[1]}; change or delete it.")

    def _new_objects(self, step: Step) -> None:
        say("First name every object, one per question; press Enter on an empty answer when done.")
        while True:
            name = self._object_name(None, allow_empty=bool(self.spec.objects))
            if not name:
                break
            answers.add_object(self.spec, name)
        explain(step.item("fields"))
        for name in self.spec.objects:
            self._fields(name)

    def _object_name(self, current: str | None, allow_empty: bool = False) -> str:
        def valid(text: str) -> bool | str:
            if not text.strip() and (allow_empty or current):
                return True
            return answers.object_name_problem(self.spec, text.strip(), current) or True

        label = f"New name for {current}" if current else "Object name (like Booking)"
        return str(
            ask_question(questionary.text(label, default=current or "", validate=valid))
        ).strip()

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
                f"{name}: {wording.field_summary(f)}" for name, f in obj.fields.items()
            )
            options = [Choice(f"Done with {object_name}", "done"), Choice("Add a field", "add")]
            options += [Choice(f"Change {name}", ("edit", name)) for name in obj.fields]
            options += [Choice(f"Delete {name}", ("delete", name)) for name in obj.fields]
            choice = ask_question(
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
            ask_question(
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
        kinds = [Choice(f"{kind}: {label}", kind) for kind, label in wording.FIELD_TYPES.items()]
        kind = ask_question(
            questionary.select(
                f"What does {name} hold?", choices=kinds, default=old.type if old else "string"
            )
        )
        values: dict[str, Any] = {"type": kind}
        if kind == "ref":
            values["to"] = ask_question(
                questionary.select(
                    f"Which object does {name} link to?", choices=list(self.spec.objects)
                )
            )
        values["required"] = yes_no(
            f"Must {name} always be filled in?", default=bool(old and old.required)
        )
        if kind in TEXTUAL:
            values["max_length"] = number(
                f"Longest {name} allowed, in characters (empty: no limit)",
                old.max_length if old else None,
                int,
                minimum=1,
            )
        if kind in NUMERIC:
            parse = int if kind == "int" else float
            values["min"] = number(
                f"Smallest {name} allowed (empty: no limit)", old.min if old else None, parse
            )
            values["max"] = number(
                f"Largest {name} allowed (empty: no limit)", old.max if old else None, parse
            )
        if kind not in NO_DEFAULT:
            values["default"] = default_value(name, kind, old.default if old else None)
        field = FieldSpec(**{key: value for key, value in values.items() if value is not None})
        problem = answers.field_problem(self.spec, object_name, name, field, current)
        if problem:
            say(f"Not saved: {problem}")
            return True
        answers.put_field(self.spec, object_name, name, field, current)
        return True
