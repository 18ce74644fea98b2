"""What changed between two launch specs, in the founder's words and as data for migrations.

Shipyard owns both specs, so it never guesses: a field that disappeared while another of the
same type appeared on the same object is a rename only when the founder says so (`renames`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from wizard.spec.models import FieldSpec, LaunchSpec

# Field settings compared one by one; the schema follows the first six.
_FIELD_KEYS = ("type", "required", "to", "max_length", "min_length", "min", "max", "default")


@dataclass(frozen=True)
class Change:
    """One difference between the recorded spec and shipyard.yaml."""

    kind: str  # object_added, object_removed, field_added, field_removed, field_renamed,
    # field_changed, owner_changed, rule_changed, setting_changed
    text: str  # a sentence for the founder
    object: str | None = None
    field: str | None = None
    old: Any = None
    new: Any = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "text": self.text}
        for key in ("object", "field", "old", "new"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.details:
            data["details"] = self.details
        return data


@dataclass(frozen=True)
class Rename:
    object: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.object}.{self.old}={self.new}"


def parse_rename(text: str) -> Rename:
    """OBJECT.OLD=NEW, as given to --rename; ValueError with what is wrong otherwise."""
    target, sep, new = text.partition("=")
    obj, dot, old = target.partition(".")
    if not sep or not dot or not obj.strip() or not old.strip() or not new.strip():
        raise ValueError(f"'{text}' is not OBJECT.OLD=NEW (for example Booking.fee=price)")
    return Rename(obj.strip(), old.strip(), new.strip())


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def _field_data(spec: FieldSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude_none=True)


def _describe_field(spec: FieldSpec) -> str:
    parts = [spec.type if not spec.is_ref else f"ref to {spec.to}"]
    if spec.required:
        parts.append("required")
    return ", ".join(parts)


def diff_specs(old: LaunchSpec, new: LaunchSpec, renames: list[Rename] = ()) -> list[Change]:  # type: ignore[assignment]
    """Every change from `old` to `new`, objects and fields in the new spec's order."""
    changes: list[Change] = []
    for key in ("app", "blueprint", "login", "roles", "staging", "frontend", "acknowledged"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            changes.append(
                Change(
                    "setting_changed",
                    f"{key} changed",
                    old=_plain(before),
                    new=_plain(after),
                    details={"setting": key},
                )
            )
    for name in old.objects:
        if name not in new.objects:
            changes.append(Change("object_removed", f"{name} removed", object=name))
    for name, obj in new.objects.items():
        if name not in old.objects:
            fields = ", ".join(obj.fields) or "no fields"
            changes.append(Change("object_added", f"{name} added ({fields})", object=name))
            continue
        changes += _object_changes(name, old.objects[name], obj, renames)
    return changes


def _object_changes(name: str, before: Any, after: Any, renames: list[Rename]) -> list[Change]:
    changes: list[Change] = []
    renamed = {r.old: r.new for r in renames if r.object == name}
    renamed = {
        old: new
        for old, new in renamed.items()
        if old in before.fields and old not in after.fields and new in after.fields
    }
    if before.owner != after.owner:
        changes.append(
            Change(
                "owner_changed",
                f"{name}: owner {before.owner} -> {after.owner}",
                object=name,
                old=before.owner,
                new=after.owner,
            )
        )
    for field_name in before.fields:
        if field_name not in after.fields and field_name not in renamed:
            changes.append(
                Change(
                    "field_removed",
                    f"{name}.{field_name} removed",
                    object=name,
                    field=field_name,
                    old=_field_data(before.fields[field_name]),
                )
            )
    new_names = {new: old for old, new in renamed.items()}
    for field_name, spec in after.fields.items():
        if field_name in new_names:
            old_name = new_names[field_name]
            changes.append(
                Change(
                    "field_renamed",
                    f"{name}.{old_name} renamed to {field_name}",
                    object=name,
                    field=field_name,
                    old=old_name,
                    new=field_name,
                )
            )
            previous = before.fields[old_name]
        elif field_name not in before.fields:
            changes.append(
                Change(
                    "field_added",
                    f"{name}.{field_name} added ({_describe_field(spec)})",
                    object=name,
                    field=field_name,
                    new=_field_data(spec),
                )
            )
            continue
        else:
            previous = before.fields[field_name]
        if previous == spec:
            continue
        was, now = _field_data(previous), _field_data(spec)
        was.setdefault("required", False)
        now.setdefault("required", False)
        changed = {k: [was.get(k), now.get(k)] for k in _FIELD_KEYS if was.get(k) != now.get(k)}
        words = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changed.items())
        changes.append(
            Change(
                "field_changed",
                f"{name}.{field_name}: {words}",
                object=name,
                field=field_name,
                old=was,
                new=now,
                details={"changed": changed},
            )
        )
    for action, rule in after.permissions.items():
        old_rule = before.permissions.rule(action)
        if str(old_rule) != str(rule):
            changes.append(
                Change(
                    "rule_changed",
                    f"{name}: who may {action}: {old_rule} -> {rule}",
                    object=name,
                    old=str(old_rule),
                    new=str(rule),
                    details={"action": action},
                )
            )
    return changes


def summary_line(changes: list[Change]) -> str:
    """A commit subject for the changes, at most about 72 characters."""
    words = "; ".join(change.text for change in changes)
    subject = f"Update from shipyard.yaml: {words}"
    if len(subject) <= 72:
        return subject
    first = changes[0].text
    more = len(changes) - 1
    subject = f"Update from shipyard.yaml: {first}" + (f" and {more} more" if more else "")
    return subject if len(subject) <= 72 else subject[:69] + "..."


def rename_candidates(changes: list[Change]) -> list[tuple[str, str, str]]:
    """(object, removed field, added field) pairs of one type on one object: maybe a rename."""
    pairs = []
    for removed in changes:
        if removed.kind != "field_removed":
            continue
        for added in changes:
            if (
                added.kind == "field_added"
                and added.object == removed.object
                and added.new.get("type") == removed.old.get("type")
                and added.new.get("to") == removed.old.get("to")
            ):
                pairs.append((removed.object or "", removed.field or "", added.field or ""))
    return pairs


def data_loss(changes: list[Change]) -> list[Change]:
    """The changes that delete stored values or can fail on existing records."""
    risky = []
    for change in changes:
        if change.kind in ("object_removed", "field_removed"):
            risky.append(change)
        elif change.kind == "field_changed":
            was, now = change.old, change.new
            changed = change.details["changed"]
            narrowed = (
                "type" in changed
                or ("to" in changed)
                or _length(now) < _length(was)
                or (now.get("required") and not was.get("required") and now.get("default") is None)
            )
            if narrowed:
                risky.append(change)
    return risky


def _length(field: dict[str, Any]) -> float:
    """The column's length: the blueprint's 255 for a string without max_length."""
    if field.get("type") == "string":
        return float(field.get("max_length") or 255)
    return float(field.get("max_length") or math.inf)
