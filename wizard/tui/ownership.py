"""Step: who owns each object — its creator, whoever owns its parent, or nobody."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import RadioSet, Static

from wizard import answers
from wizard.spec.naming import with_article
from wizard.tui.base import StepScreen
from wizard.tui.widgets import Dot


class OwnershipScreen(StepScreen):
    """One set of choices per object; its labels come from the checklist item's choices."""

    def compose_body(self) -> ComposeResult:
        item = self.item("ownership")
        labels = {choice.value: choice.label for choice in item.choices}
        with VerticalScroll(classes="body"):
            yield from self.question("ownership")
            for index, (name, obj) in enumerate(self.spec.objects.items()):
                yield Static(
                    f"Who owns {with_article(name)}?", classes="object-question", markup=False
                )
                with RadioSet(id=f"owner-{index}", name=name, compact=True):
                    yield Dot(labels["creator"], obj.owner == "creator", name="creator")
                    for field_name, field in obj.ref_fields.items():
                        label = labels["parent"].replace("{parent}", field_name)
                        if field.to and field.to != field_name.capitalize():
                            label += f" ({with_article(field.to)})"
                        yield Dot(label, obj.owner == field_name, name=field_name)
                    yield Dot(labels["none"], obj.owner == "none", name="none")
            if not self.spec.objects:
                yield Static("No objects yet: go back (Ctrl+P) and add some.", classes="why")

    def on_mount(self) -> None:
        sets = self.query(RadioSet)
        if sets:
            sets.first().focus()

    def save_answers(self) -> None:
        answers.keep_owners(self.spec)

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        object_name, owner = event.radio_set.name, event.pressed.name
        if not object_name or not owner or object_name not in self.spec.objects:
            return
        obj = self.spec.objects[object_name]
        if obj.owner == owner:
            return
        answers.set_owner(self.spec, object_name, owner)
        if object_name not in self.app_state_touched():
            obj.permissions = answers.default_permissions(obj)
        self.changed()

    def app_state_touched(self) -> set[str]:
        """Objects whose permissions the founder set by hand (kept when ownership changes)."""
        return getattr(self.app, "permissions_touched", set())
