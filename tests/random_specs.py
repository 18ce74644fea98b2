"""Random but valid launch specs, to render specs nobody wrote by hand.

Names come from pools full of Python keywords and SQL reserved words; references
point backwards, forwards and to their own object; ownership is inherited through
required references; rules mix every term. Specs the validator refuses are skipped,
so every spec returned is one a founder could have written.
"""

from __future__ import annotations

import random

import yaml

from wizard.errors import SpecError
from wizard.spec import LaunchSpec, parse_spec

OBJECT_NAMES = [
    "Class", "Order", "Group", "Type", "Item", "Note", "Event", "Match", "Case", "Select",
    "Default", "Return", "Global", "Table", "Index", "Key", "Value", "Profile", "Request", "Task",
]  # fmt: skip
FIELD_NAMES = [
    "from", "type", "select", "default", "class", "name", "title", "where", "order", "count",
    "sum", "id_code", "list", "dict", "format", "start", "end", "date", "time", "is_open",
]  # fmt: skip
FIELD_TYPES = ["string", "text", "int", "float", "bool", "date", "datetime", "email"]


def _field(rng: random.Random) -> dict[str, object]:
    kind = rng.choice(FIELD_TYPES)
    field: dict[str, object] = {"type": kind}
    if rng.random() < 0.4:
        field["required"] = True
    if kind in ("string", "text") and rng.random() < 0.5:
        field["max_length"] = rng.choice([5, 20, 300])
    if kind == "string" and rng.random() < 0.3:
        field["min_length"] = 2
    if kind in ("int", "float") and rng.random() < 0.5:
        field["min"] = rng.choice([0, 1, -3])
    if kind in ("int", "float") and rng.random() < 0.5:
        field["max"] = rng.choice([10, 1000])
    return field


def _rule(rng: random.Random, refs: list[str], roles: list[str]) -> str | None:
    if rng.random() < 0.15:
        return None
    if rng.random() < 0.1:
        return "nobody"
    terms = ["public", "signed_in", "owner", *[f"owner_of({r})" for r in refs]]
    terms += [f"role:{r}" for r in roles]
    return " | ".join(rng.sample(terms, min(rng.choice([1, 1, 2, 2, 3]), len(terms))))


def _candidate(rng: random.Random, seed: int) -> dict[str, object]:
    roles = rng.sample(["staff", "editor", "select", "viewer"], rng.choice([0, 1, 2]))
    names = rng.sample(OBJECT_NAMES, rng.choice([2, 3, 4]))
    objects: dict[str, object] = {}
    for position, name in enumerate(names):
        fields = {field: _field(rng) for field in rng.sample(FIELD_NAMES, rng.choice([0, 1, 2, 3]))}
        refs = []
        for number in range(rng.choice([0, 1, 1, 2])):
            earlier = names[: position + 1]
            target = rng.choice(earlier) if rng.random() < 0.8 else rng.choice(names)
            ref = rng.choice(["parent", "link", "of", "in_", "target"]) + str(number)
            required = target in earlier[:-1] and rng.random() < 0.6
            fields[ref] = {"type": "ref", "to": target, "required": required}
            refs.append(ref)
        owner = rng.choice(
            ["creator", "creator", "none", *[r for r in refs if fields[r]["required"]]]
        )
        permissions = {}
        for action in ("read", "create", "update", "delete"):
            rule = _rule(rng, refs, roles)
            if rule is not None:
                permissions[action] = rule
        objects[name] = {"owner": owner, "fields": fields, "permissions": permissions}
    return {
        "app": {"name": f"random-{seed}", "title": f"Random {seed}"},
        "login": {"methods": ["email_password"]},
        "roles": roles,
        "objects": objects,
    }


def random_spec(seed: int) -> tuple[str, LaunchSpec]:
    """The first valid spec at or after `seed`, as YAML text and as a LaunchSpec."""
    for attempt in range(seed, seed + 1000):
        text = yaml.safe_dump(_candidate(random.Random(attempt), attempt), sort_keys=False)
        try:
            return text, parse_spec(text, f"random-{attempt}.yaml")
        except SpecError:
            continue
    raise AssertionError(f"no valid spec found from seed {seed}")
