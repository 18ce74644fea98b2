"""Checks that need the whole spec: names, references, ownership and rules agree."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from wizard.spec import naming
from wizard.spec.models import FieldSpec, LaunchSpec, ObjectSpec
from wizard.spec.origins import origin_problem
from wizard.spec.rules import ACTIONS

Path = tuple[Any, ...]
Problem = tuple[Path, str]

_NUMERIC = ("int", "float")
_TEXTUAL = ("string", "text", "email")
_DEFAULT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "text": (str,),
    "email": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}
# What the rendered columns hold: Integer() is 32 bits on PostgreSQL, and PostgreSQL's
# varchar(n) takes n up to 10485760.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_STRING_LENGTH = 10_485_760
_SLUG_HELP = "use lower-case letters a-z, digits and dashes, starting with a letter"


# Characters founder text may not hold: control characters (a line break, a tab, NUL), line
# and paragraph separators (line breaks to YAML and to some editors), lone surrogates (not text)
# and the bidirectional embeddings, overrides and isolates that make code read in another order
# than it runs ("Trojan Source"). Right-to-left marks (U+200E, U+200F), joiners and emoji are fine.
_BIDI_CONTROLS = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}")
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?/?")


_CONTROL_NAMES = {"\x00": "NUL", "\t": "a tab", "\n": "a line break", "\r": "a carriage return"}


def text_problem(text: str, what: str) -> str | None:
    """Why founder text cannot reach code, config or docs as it is, or None when it can."""
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp") or ord(char) in _BIDI_CONTROLS:
            name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "a control character")
            return (
                f"{what} holds U+{ord(char):04X} ({name.lower()}); "
                "write it on one line with visible characters"
            )
    return None


def name_problem(name: str, what: str) -> str | None:
    """Why a founder-typed name cannot be used, or None when it is fine."""
    if not isinstance(name, str) or not name:
        return f"{what} names must be non-empty text"
    if any(mark in name for mark in ("{{", "}}", "{%", "%}", "{#", "#}")):
        return f"{what} name '{name}' contains template syntax; use letters, digits and _ only"
    if "/" in name or "\\" in name or ".." in name:
        return f"{what} name '{name}' contains a path separator; use letters, digits and _ only"
    if not name.isascii():
        return f"{what} name '{name}' has non-ASCII characters; use plain letters a-z, digits and _"
    if len(name.encode()) > naming.MAX_NAME_BYTES:
        return f"{what} name '{name[:20]}…' is {len(name.encode())} bytes; keep it to 63 or fewer"
    if not naming.NAME_PATTERN.match(name):
        suggestion = naming.suggested_name(name, what)
        instead = f"; try {suggestion}" if suggestion else ""
        return (
            f"{what} name '{name}' must start with a letter and use only letters, digits and _"
            f"{instead}"
        )
    return None


def check(spec: LaunchSpec) -> list[Problem]:
    """Every problem in the spec, each with the path of the key it is about."""
    return [
        *_check_app(spec),
        *_check_roles(spec),
        *_check_login(spec),
        *_check_objects(spec),
        *_check_ownership_cycles(spec),
        *_check_required_circles(spec),
        *_check_origins(spec),
    ]


def _check_app(spec: LaunchSpec) -> Iterator[Problem]:
    name = spec.app.name
    if not name:
        yield ("app", "name"), f"the short name is empty: {_SLUG_HELP}, like studio-booking"
    elif (
        not naming.is_plain_name(name.replace("-", "_")) or not name.islower() or name.endswith("-")
    ):
        yield ("app", "name"), f"'{name}' is not a valid app name: {_SLUG_HELP}"
    if not spec.app.title.strip():
        yield ("app", "title"), "the title is empty; write the app's name as people should see it"
    elif len(spec.app.title) > 100:
        yield ("app", "title"), "the title is longer than 100 characters; shorten it"
    elif problem := text_problem(spec.app.title, "the title"):
        yield ("app", "title"), problem
    if not naming.is_plain_name(spec.blueprint.replace("-", "_")):
        yield ("blueprint",), f"'{spec.blueprint}' is not a blueprint name; use fastapi"
    for kind in ("python", "postgres"):
        image = getattr(spec.staging.images, kind)
        if not _IMAGE.fullmatch(image):
            yield (
                ("staging", "images", kind),
                f"{image!r} is not an image name; write it like python:3.12-slim or "
                "registry.example.com/team/python:3.12 (letters, digits and . _ / : @ - only)",
            )


def _check_roles(spec: LaunchSpec) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, role in enumerate(spec.roles):
        if problem := name_problem(role, "role"):
            yield ("roles", index), problem
        elif role != role.lower():
            yield ("roles", index), f"role '{role}' must be lower case, like '{role.lower()}'"
        elif role in seen:
            yield ("roles", index), f"role '{role}' is listed twice; remove one"
        seen.add(role)


def _check_login(spec: LaunchSpec) -> Iterator[Problem]:
    methods = spec.login.methods
    if not methods:
        yield (
            ("login", "methods"),
            "choose at least one login method: email_password, magic_link or phone_otp",
        )
    for index, method in enumerate(methods):
        if method in methods[:index]:
            yield ("login", "methods", index), f"'{method}' is listed twice; remove one"


def _check_origins(spec: LaunchSpec) -> Iterator[Problem]:
    for index, origin in enumerate(spec.frontend.origins):
        if origin == "*":
            continue
        if problem := origin_problem(origin):
            yield ("frontend", "origins", index), problem
        elif not _ORIGIN.fullmatch(origin):
            # It is pasted into config, .env files and the README: no quotes, spaces or the like.
            yield (
                ("frontend", "origins", index),
                f"{origin!r} has characters no origin has; write scheme, host and port only, "
                "like https://app.example.com (an international domain in its xn-- form)",
            )


def _check_objects(spec: LaunchSpec) -> Iterator[Problem]:
    if not spec.objects:
        yield ("objects",), "add at least one object (the things your app stores, like Booking)"
    tables: dict[str, str] = {}
    for object_name, obj in spec.objects.items():
        path: Path = ("objects", object_name)
        if problem := name_problem(object_name, "object"):
            yield path, problem
            continue
        if not object_name[0].isupper():
            yield (
                path,
                f"object names start with a capital letter, like '{object_name[0].upper() + object_name[1:]}'",
            )
        table = naming.table_name(object_name)
        if table in tables:
            yield (
                path,
                f"'{object_name}' and '{tables[table]}' would share one table; rename one of them",
            )
        tables[table] = object_name
        yield from _check_fields(spec, object_name, obj)
        yield from _check_owner(object_name, obj)
        yield from _check_permissions(spec, object_name, obj)


def _check_fields(spec: LaunchSpec, object_name: str, obj: ObjectSpec) -> Iterator[Problem]:
    columns: dict[str, str] = {}
    for field_name, field in obj.fields.items():
        path: Path = ("objects", object_name, "fields", field_name)
        if problem := name_problem(field_name, "field"):
            yield path, problem
            continue
        if naming.snake(field_name) in naming.RESERVED_FIELDS:
            yield (
                path,
                (
                    f"'{field_name}' is added to every object by Shipyard "
                    f"(id, owner_id, owner, version, created_at, updated_at); pick another name"
                ),
            )
            continue
        column = naming.column_name(field_name, field.is_ref)
        if column in columns:
            yield (
                path,
                f"'{field_name}' and '{columns[column]}' would share the column {column}; rename one",
            )
        columns[column] = field_name
        yield from _check_field_options(spec, path, field)


def _check_field_options(spec: LaunchSpec, path: Path, field: FieldSpec) -> Iterator[Problem]:
    if field.is_ref:
        if not field.to:
            yield path, "a ref field needs 'to: <Object>' naming the object it points at"
        elif field.to not in spec.objects:
            known = ", ".join(spec.objects) or "none yet"
            yield (*path, "to"), f"'{field.to}' is not an object in this spec (objects: {known})"
    elif field.to is not None:
        yield (*path, "to"), f"'to' only applies to ref fields; this field is {field.type}"
    for option in ("min", "max", "default"):
        value = getattr(field, option)
        if isinstance(value, float) and not math.isfinite(value):
            yield (*path, option), f"{option} is {value}; use a finite number"
            return
        if field.type == "int" and isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
            yield (
                (*path, option),
                f"{option} {value} does not fit an int column (from {INT_MIN} to {INT_MAX})",
            )
            return
    for option in ("min_length", "max_length"):
        if (getattr(field, option) or 0) > MAX_STRING_LENGTH:
            yield (*path, option), f"{option} is over {MAX_STRING_LENGTH:,}; use type: text"
            return
    if field.type not in _TEXTUAL and (
        field.max_length is not None or field.min_length is not None
    ):
        yield path, f"max_length/min_length only apply to text fields; this field is {field.type}"
    if field.type not in _NUMERIC and (field.min is not None or field.max is not None):
        yield path, f"min/max only apply to int and float fields; this field is {field.type}"
    if field.min is not None and field.max is not None and field.min > field.max:
        yield path, f"min ({field.min}) is greater than max ({field.max})"
    if (field.min_length or 0) > (field.max_length or 10**9):
        yield (
            path,
            f"min_length ({field.min_length}) is greater than max_length ({field.max_length})",
        )
    if field.default is not None:
        yield from _check_default(path, field)


def _check_default(path: Path, field: FieldSpec) -> Iterator[Problem]:
    allowed = _DEFAULT_TYPES.get(field.type)
    value = field.default
    if allowed is None:
        yield (*path, "default"), f"{field.type} fields cannot have a default; remove it"
    elif not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        yield (*path, "default"), f"the default {value!r} is not a valid {field.type}"
    elif field.type in _NUMERIC and (
        (field.min is not None and value < field.min)
        or (field.max is not None and value > field.max)
    ):
        yield (*path, "default"), f"the default {value!r} is outside min/max"
    elif field.type in _TEXTUAL and field.max_length is not None and len(value) > field.max_length:
        yield (*path, "default"), f"the default is longer than max_length ({field.max_length})"
    elif field.type in _TEXTUAL and any(
        char == "\x00" or unicodedata.category(char) == "Cs" for char in value
    ):
        yield (
            (*path, "default"),
            "the default holds NUL or a lone surrogate, which the database cannot store",
        )


def _check_owner(object_name: str, obj: ObjectSpec) -> Iterator[Problem]:
    if obj.owner_kind != "parent":
        return
    path: Path = ("objects", object_name, "owner")
    field = obj.fields.get(obj.owner)
    choices = ", ".join(["creator", "none", *obj.ref_fields])
    if field is None:
        yield (
            path,
            f"'{obj.owner}' is not creator, none or a reference field of {object_name} (choose: {choices})",
        )
    elif not field.is_ref:
        yield (
            path,
            f"'{obj.owner}' is {naming.with_article(field.type)} field; ownership can only be inherited through a ref field",
        )
    elif not field.required:
        yield (
            path,
            f"ownership comes from '{obj.owner}', so that field must be required: add required: true",
        )


def _check_permissions(spec: LaunchSpec, object_name: str, obj: ObjectSpec) -> Iterator[Problem]:
    roles = set(spec.all_roles)
    for action in ACTIONS:
        rule = obj.permissions.rule(action)
        path: Path = ("objects", object_name, "permissions", action)
        for role in rule.roles:
            if role not in roles:
                yield (
                    path,
                    f"role '{role}' is not defined; add it to roles: or use one of {', '.join(sorted(roles))}",
                )
        for field_name in rule.owner_of_fields:
            field = obj.fields.get(field_name)
            if field is None:
                yield path, f"owner_of({field_name}): {object_name} has no field '{field_name}'"
            elif not field.is_ref:
                yield (
                    path,
                    f"owner_of({field_name}): '{field_name}' is {naming.with_article(field.type)} field, "
                    "not a reference",
                )


def _check_ownership_cycles(spec: LaunchSpec) -> Iterator[Problem]:
    """Ownership inherited through references must end at a creator or an admin."""
    reported: set[str] = set()
    for start in spec.objects:
        chain = [start]
        current = start
        while True:
            obj = spec.objects.get(current)
            field = obj.fields.get(obj.owner_field or "") if obj else None
            if field is None or not field.is_ref or field.to not in spec.objects:
                break
            current = field.to
            if current in chain:
                cycle = [*chain[chain.index(current) :], current]
                if not reported & set(cycle):
                    reported.update(cycle)
                    yield (
                        ("objects", start, "owner"),
                        (
                            f"ownership goes round in a circle ({' -> '.join(cycle)}); "
                            "let one of them be owned by its creator or by nobody"
                        ),
                    )
                break
            chain.append(current)


def _check_required_circles(spec: LaunchSpec) -> Iterator[Problem]:
    """Required references must not go round in a circle: no record of any object in it could
    be created, since each needs a record of the next to exist first."""
    done: set[str] = set()
    reported: set[str] = set()
    trail: list[tuple[str, str]] = []  # (object, the required reference followed out of it)

    def visit(name: str) -> Iterator[list[tuple[str, str]]]:
        for field_name, field in spec.objects[name].ref_fields.items():
            if not field.required or field.to not in spec.objects:
                continue
            trail.append((name, field_name))
            on_trail = [obj for obj, _ in trail]
            if field.to in on_trail:
                yield trail[on_trail.index(field.to) :]
            elif field.to not in done:
                yield from visit(field.to)
            trail.pop()
        done.add(name)

    for start in spec.objects:
        for circle in visit(start) if start not in done else ():
            names = {obj for obj, _ in circle}
            if not names & reported:
                reported.update(names)
                yield _circle_problem(spec, circle)


def _circle_problem(spec: LaunchSpec, circle: list[tuple[str, str]]) -> Problem:
    order = list(spec.objects)
    # Start at the object written first in the spec: the problem points at its line.
    first = min(range(len(circle)), key=lambda i: order.index(circle[i][0]))
    circle = circle[first:] + circle[:first]
    obj, field = circle[0]
    route = " -> ".join([*(f"{o}.{f}" for o, f in circle), obj])
    names = sorted({o for o, _ in circle}, key=order.index)
    if len(names) == 1:
        why = f"the first {obj} would need another {obj} to exist already"
        fix = f"make '{field}' optional (remove required: true)"
    else:
        listed = ", ".join(names[:-1]) + f" or {names[-1]}"
        why = f"no {listed} could ever be created, as each needs the next to exist first"
        fix = "make one of these references optional (remove required: true from it)"
    return ("objects", obj, "fields", field), (
        f"required references go round in a circle ({route}): {why}; {fix}"
    )
