"""Map the names founders type to safe identifiers for Python, SQL and URLs.

Founder names are data: they are validated against a strict pattern first
(see ``NAME_PATTERN``) and only then mapped here. The API keeps the founder's
spelling; code and tables use these mapped names.
"""

from __future__ import annotations

import builtins
import keyword
import re

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_NAME_BYTES = 63

# Attributes the blueprint's models and schemas define themselves.
RESERVED_FIELDS = frozenset({"id", "owner_id", "owner", "version", "created_at", "updated_at"})

# Names that would shadow something in SQLAlchemy models, pydantic models or the
# rendered modules; such a field still works, under an attribute with a "_" suffix.
_RESERVED_ATTRIBUTES = frozenset(
    {
        "metadata",
        "registry",
        "query",
        "session",
        "user",
        "copy",
        "dict",
        "json",
        "schema",
        "construct",
        "validate",
        "fields",
        "model_config",
        "model_fields",
        "items",
        "total",
        "limit",
        "offset",
        "self",
        "cls",
        "settings",
        "app",
    }
)

# Class, module and table names the blueprint already uses for itself.
_RESERVED_CLASSES = frozenset(
    {
        "User",
        "Session",
        "RefreshToken",
        "Base",
        "Settings",
        "Outbox",
        "OutboxMessage",
        "Message",
        "Role",
        "Token",
        "Page",
        "Model",
        "Any",
        "Annotated",
        "Optional",
        "Depends",
        "Query",
        "Request",
        "Response",
        "HTTPException",
        "APIRouter",
    }
)
_RESERVED_MODULES = frozenset(
    {
        "auth",
        "admin",
        "health",
        "dev",
        "deps",
        "users",
        "main",
        "config",
        "security",
        "db",
        "models",
        "schemas",
        "policies",
        "outbox",
        "api",
        "core",
        "tests",
        "app",
    }
)
_RESERVED_TABLES = frozenset(
    {
        "users",
        "sessions",
        "refresh_tokens",
        "user_roles",
        "outbox_messages",
        "alembic_version",
        "login_attempts",
        "auth_tokens",
        "rate_limits",
    }
)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def is_plain_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name)) and len(name.encode()) <= MAX_NAME_BYTES


def snake(name: str) -> str:
    """``StudioClass`` -> ``studio_class``, ``startsAt`` -> ``starts_at``."""
    return re.sub(r"_+", "_", _CAMEL_BOUNDARY.sub("_", name)).lower().strip("_")


def plural(word: str) -> str:
    """English plural of a lower-case word, good enough for table and route names."""
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def _plural_snake(object_name: str) -> str:
    words = snake(object_name).split("_")
    return "_".join([*words[:-1], plural(words[-1])])


def route_name(object_name: str) -> str:
    """The object's path segment: ``Booking`` -> ``bookings``, ``StudioClass`` -> ``studio-classes``."""
    return _plural_snake(object_name).replace("_", "-")


def table_name(object_name: str) -> str:
    """The object's table: plural snake case, kept clear of the blueprint's own tables."""
    table = _plural_snake(object_name)
    return f"app_{table}" if table in _RESERVED_TABLES else table


def _is_unsafe_python(name: str) -> bool:
    return (
        keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
        or hasattr(builtins, name)
        or name.startswith("_")
    )


def py_identifier(name: str) -> str:
    """A field's Python attribute: ``from`` -> ``from_``, ``type`` -> ``type_``."""
    ident = snake(name)
    if _is_unsafe_python(ident) or ident in _RESERVED_ATTRIBUTES or ident in RESERVED_FIELDS:
        return ident + "_"
    return ident


def column_name(field_name: str, is_ref: bool) -> str:
    """A field's attribute and column name; references end in ``_id``."""
    return py_identifier(snake(field_name) + "_id") if is_ref else py_identifier(field_name)


def class_name(object_name: str) -> str:
    """The object's model class: ``Class`` stays ``Class``; ``User`` becomes ``UserRecord``."""
    name = object_name[0].upper() + object_name[1:]
    if _is_unsafe_python(name) or name in _RESERVED_CLASSES:
        return name + "Record"
    return name


def module_name(object_name: str) -> str:
    """The object's module: ``Class`` -> ``class_``, ``StudioClass`` -> ``studio_class``."""
    module = snake(object_name)
    if _is_unsafe_python(module) or module in _RESERVED_MODULES:
        return module + "_"
    return module


def suggested_name(name: str, what: str) -> str | None:
    """A usable spelling of a typed name: 'Therapist Profile' -> 'TherapistProfile' for an
    object, 'therapist_profile' for a field or role; None when nothing simple would do."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", name) if word]
    if not words or not name.isascii():
        return None
    if what == "object":
        suggestion = "".join(word[0].upper() + word[1:] for word in words)
    else:
        suggestion = "_".join(snake(word) for word in words)
    if suggestion == name or not is_plain_name(suggestion):
        return None
    return suggestion


_AN_BEFORE = re.compile(r"^(?:[aio]|e(?!u)|u(?!ni|s[aeu]|ti|r[aeiou]|k)|hour|honest|heir)", re.I)


def with_article(word: str) -> str:
    """'an AppointmentRequest', 'an Order', 'a User', 'a Booking', 'an int'."""
    return f"{'an' if _AN_BEFORE.match(word) else 'a'} {word}"
