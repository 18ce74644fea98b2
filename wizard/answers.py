"""The wizard's answers as a LaunchSpec being built: edits, wording and validation for any front end."""

from __future__ import annotations

import re
from typing import Any

from wizard.spec import naming
from wizard.spec.models import App, FieldSpec, LaunchSpec, ObjectSpec, Permissions
from wizard.spec.origins import normalise_origin
from wizard.spec.rules import ACTIONS, NOBODY, Rule, Term
from wizard.spec.validate import check

Problem = tuple[tuple[Any, ...], str]

# Which wizard screen answers which part of the spec, for "fix this before going on".
_SCREEN_OF_TOP = {
    "app": "basics",
    "blueprint": "basics",
    "roles": "basics",
    "login": "login",
    "frontend": "frontend",
    "staging": "staging",
}


def blank_spec() -> LaunchSpec:
    """Where a new wizard starts: nothing named yet, every other answer at its safe default."""
    return LaunchSpec(app=App(name="", title=""))


def copy_spec(spec: LaunchSpec) -> LaunchSpec:
    return spec.model_copy(deep=True)


def slugify(title: str) -> str:
    """A suggested app name: 'Studio Booking!' -> 'studio-booking'."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    slug = re.sub(r"^[0-9-]+", "", slug)
    return slug[:50].rstrip("-")


# --- validation: the same checks as --spec, narrowed to what the founder is editing ------------


def screen_of(path: tuple[Any, ...]) -> str:
    """The wizard screen where a problem at `path` is fixed."""
    if path and path[0] == "objects" and len(path) >= 3:
        return {"owner": "ownership", "permissions": "permissions"}.get(path[2], "objects")
    return _SCREEN_OF_TOP.get(path[0], "objects") if path else "basics"


def problems_on(spec: LaunchSpec, screen: str) -> list[str]:
    """What must be fixed on `screen` before the spec is valid, as sentences."""
    return [message for path, message in check(spec) if screen_of(path) == screen]


def problem_at(spec: LaunchSpec, *prefix: Any) -> str | None:
    """The first problem with the key at `prefix` (or inside it), if any."""
    for path, message in check(spec):
        if path[: len(prefix)] == prefix:
            return message
    return None


def app_problem(title: str, name: str, roles: list[str]) -> dict[str, str]:
    """Problems with the basics as typed: keys title, name, roles."""
    spec = blank_spec()
    spec.app = App(name=name, title=title)
    spec.roles = roles
    spec.objects = {"Thing": ObjectSpec()}  # so that only the basics are judged
    found: dict[str, str] = {}
    for path, message in check(spec):
        key = {"app": path[-1] if len(path) > 1 else "name", "roles": "roles"}.get(path[0])
        if key and key not in found:
            found[key] = message
    if not name:
        found["name"] = "give the app a short name, like studio-booking"
    return found


def split_words(text: str) -> list[str]:
    """'staff, teacher' or 'staff teacher' -> ['staff', 'teacher']."""
    return [word for word in re.split(r"[\s,]+", text.strip()) if word]


def object_name_problem(spec: LaunchSpec, name: str, current: str | None = None) -> str | None:
    """Why `name` cannot be (re)named as an object of `spec`, or None."""
    if not name:
        return "type a name, like Booking"
    if name != current and name in spec.objects:
        return f"there is already an object called {name}"
    trial = copy_spec(spec)
    trial.objects = {name: ObjectSpec()}
    return problem_at(trial, "objects", name)


def field_problem(
    spec: LaunchSpec, object_name: str, name: str, field: FieldSpec, current: str | None = None
) -> str | None:
    """Why this field cannot be saved into `object_name`, or None."""
    if not name:
        return "type a field name, like title"
    obj = spec.objects[object_name]
    if name != current and name in obj.fields:
        return f"{object_name} already has a field called {name}"
    trial = copy_spec(spec)
    fields = {key: value for key, value in obj.fields.items() if key != current}
    fields[name] = field
    trial.objects[object_name] = ObjectSpec(fields=fields)
    for path, message in check(trial):
        inside = path[:3] == ("objects", object_name, "fields")
        if inside and (len(path) == 3 or path[3] == name):
            return message
    return None


def origins_from(text: str) -> list[str]:
    """Frontend addresses as typed or pasted, the way browsers send them: an address copied
    from the browser bar (https://TheraMatch.lovable.app/) becomes its origin
    (https://theramatch.lovable.app); repeats are merged. Text that is no origin is kept as
    typed, for origin_problem to explain."""
    return list(dict.fromkeys(normalise_origin(word) for word in split_words(text)))


def origins_note(text: str, origins: list[str]) -> str | None:
    """'Saved as ...' when the addresses kept differ from what was typed, else None."""
    if origins == split_words(text) or origin_problem(origins):
        return None
    them = "it" if len(origins) == 1 else "them"
    return f"Saved as {', '.join(origins)}, the way browsers send {them}."


def origin_problem(origins: list[str]) -> str | None:
    if not origins:
        return None
    trial = blank_spec()
    trial.frontend.origins = origins
    return problem_at(trial, "frontend")


# --- edits that keep the rest of the spec consistent ------------------------------------------


def default_permissions(obj: ObjectSpec) -> Permissions:
    """The safe default rules for an object, given who owns it."""
    if obj.owner_kind == "none":
        return Permissions(
            read=Rule((Term("signed_in"),)), create=NOBODY, update=NOBODY, delete=NOBODY
        )
    create = (
        Rule((Term("owner_of", obj.owner_field),))
        if obj.owner_field
        else Rule((Term("signed_in"),))
    )
    owner = Rule((Term("owner"),))
    return Permissions(read=owner, create=create, update=owner, delete=owner)


def add_object(spec: LaunchSpec, name: str) -> None:
    obj = ObjectSpec()
    obj.permissions = default_permissions(obj)
    spec.objects[name] = obj


def rename_object(spec: LaunchSpec, old: str, new: str) -> None:
    """Rename an object, keeping its place and every reference to it."""
    spec.objects = {(new if key == old else key): value for key, value in spec.objects.items()}
    for obj in spec.objects.values():
        for field in obj.fields.values():
            if field.to == old:
                field.to = new


def remove_object(spec: LaunchSpec, name: str) -> list[str]:
    """Remove an object; returns the ref fields elsewhere that pointed at it (left for the founder)."""
    spec.objects.pop(name, None)
    return [
        f"{other}.{fname}"
        for other, obj in spec.objects.items()
        for fname, field in obj.fields.items()
        if field.to == name
    ]


def put_field(
    spec: LaunchSpec, object_name: str, name: str, field: FieldSpec, current: str | None = None
) -> None:
    """Add or replace a field (renaming `current` to `name`), keeping its place and its uses."""
    obj = spec.objects[object_name]
    if current is None or current not in obj.fields:
        obj.fields[name] = field
        return
    obj.fields = {
        (name if key == current else key): (field if key == current else value)
        for key, value in obj.fields.items()
    }
    if name != current:
        if obj.owner == current:
            obj.owner = name
        obj.permissions = _map_terms(
            obj.permissions,
            lambda t: Term("owner_of", name) if t.kind == "owner_of" and t.arg == current else t,
        )


def remove_field(spec: LaunchSpec, object_name: str, name: str) -> None:
    """Remove a field; ownership and rules that went through it are dropped with it."""
    obj = spec.objects[object_name]
    obj.fields.pop(name, None)
    if obj.owner == name:
        obj.owner = "creator"
    obj.permissions = _map_terms(
        obj.permissions, lambda t: None if t.kind == "owner_of" and t.arg == name else t
    )


def set_owner(spec: LaunchSpec, object_name: str, owner: str) -> None:
    """Set who owns an object; inheriting through a ref field makes that field required."""
    obj = spec.objects[object_name]
    obj.owner = owner
    if owner not in ("creator", "none") and owner in obj.fields:
        obj.fields[owner].required = True


def keep_owners(spec: LaunchSpec) -> None:
    """The ownership step was answered: a default kept counts as an answer, like a changed one."""
    for obj in spec.objects.values():
        obj.owner = obj.owner  # assignment records it as given (pydantic's fields_set)


def _map_terms(permissions: Permissions, change: Any) -> Permissions:
    rules: dict[str, Rule | None] = {}
    for action in ACTIONS:
        rule = getattr(permissions, action)
        if rule is None:
            rules[action] = None
            continue
        terms = [new for term in rule.terms if (new := change(term)) is not None]
        rules[action] = Rule(tuple(dict.fromkeys(terms)))
    return Permissions(**rules)


# --- the terms a rule may use --------------------------------------------------


def term_choices(spec: LaunchSpec, object_name: str) -> list[Term]:
    """Every term a rule of this object may use, in the order a rule is written."""
    obj = spec.objects[object_name]
    terms = [Term("public"), Term("signed_in"), Term("owner")]
    terms += [Term("owner_of", name) for name in obj.ref_fields]
    terms += [Term("role", role) for role in spec.all_roles]
    return terms


def make_rule(spec: LaunchSpec, object_name: str, chosen: set[Term]) -> Rule:
    """The rule for the chosen terms, in canonical order; nothing chosen means nobody."""
    return Rule(tuple(term for term in term_choices(spec, object_name) if term in chosen))


# --- what the launch check would say -----------------------------------------------------------


def launch_warnings(spec: LaunchSpec) -> list[str]:
    """What the launch check would say about this spec, before anything is rendered.

    Runs the launch check's own spec checks (wizard.checklist); falls back to a short
    built-in list should they be unavailable.
    """
    try:
        from wizard.checklist.context import CheckContext
        from wizard.checklist.runner import run_checklist

        report = run_checklist(CheckContext(spec=spec), kinds=("spec",))
    except Exception:  # the review must still show something useful
        return static_warnings(spec)
    lines: list[str] = []
    for item in report.items:
        if item.status not in ("fail", "warn"):
            continue
        for finding in item.findings or []:
            lines.append(f"{item.title}: {finding.message}")
        if not item.findings:
            lines.append(f"{item.title}: {item.reason or item.explanation}")
    if spec.login.methods == ["magic_link"]:
        lines.append(
            "Login methods: magic links are the only way in, so if email delivery "
            "fails nobody can sign in."
        )
    return lines


def static_warnings(spec: LaunchSpec) -> list[str]:
    """A few warnings worked out from the spec alone, without the launch check."""
    warnings: list[str] = []
    for name, obj in spec.objects.items():
        for action in ("create", "update", "delete"):
            if obj.permissions.rule(action).has("public"):
                warnings.append(
                    f"{name}: anyone, even without signing in, may {action} it "
                    "(public writes invite spam and vandalism)."
                )
        for action, rule in obj.permissions.items():
            if getattr(obj.permissions, action) is None:
                warnings.append(f"{name}: no rule for {action}, so only admins may {action} it.")
            elif rule.has("public") and action == "read" and obj.owner_kind == "creator":
                warnings.append(f"{name}: everyone can read every {name}, including other users'.")
    used = {
        role
        for obj in spec.objects.values()
        for _, rule in obj.permissions.items()
        for role in rule.roles
    }
    for role in spec.roles:
        if role not in used:
            warnings.append(f"Role '{role}' is not used by any permission.")
    methods = spec.login.methods
    if "phone_otp" in methods:
        warnings.append(
            "Text-message codes cost money per message, and phone numbers can be "
            "taken over by a SIM swap."
        )
    if methods == ["magic_link"]:
        warnings.append(
            "Magic links are the only way in: if email delivery fails, nobody can sign in."
        )
    if "*" in spec.frontend.origins:
        warnings.append(
            "Frontend origin '*' lets any website call your API; list your real "
            "addresses before launch."
        )
    if any(
        origin.startswith("http://") and "localhost" not in origin and "127.0.0.1" not in origin
        for origin in spec.frontend.origins
    ):
        warnings.append(
            "A frontend address uses http:// rather than https:// outside your computer."
        )
    return warnings


def safe_identifiers(spec: LaunchSpec) -> list[str]:
    """Names that code will spell differently (Class -> Class model in class_.py), for the review."""
    notes = []
    for name in spec.objects:
        module = naming.module_name(name)
        if module != naming.snake(name):
            notes.append(f"{name} is kept as the API name; in code its module is {module}.py.")
    return notes
