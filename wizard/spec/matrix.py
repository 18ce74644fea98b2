"""The expected allow/deny matrix of a launch spec: every object x actor x action.

The rendered project's own tests and the launch check probe a running backend
against this table, so it is computed here once, from the spec alone.

The fixture graph the semantics assume
======================================

For an object ``O`` under test, one record ``R`` of ``O`` is built directly in
the database, with these people (all signed in unless noted):

``anonymous``
    no token at all.
``owner``
    owns ``R``. For an object owned by its ``creator`` that means
    ``R.owner_id = owner``; for an object that inherits ownership through a
    reference field (``owner: studio``), ``owner`` owns the referenced parent
    record (and so, by inheritance, ``R``); for an object with ``owner: none``
    nobody owns ``R`` and ``owner`` is just another signed-in user.
``other``
    signed in, no roles, owns nothing.
``role:<name>``
    one actor per founder role: has that role, owns nothing.
``parent_owner``
    only for objects with reference fields that are *not* the ownership field:
    owns the records those fields point to, but not ``R`` itself.
``admin``
    has the built-in ``admin`` role, which may do everything.

Every reference field of ``R`` (required or not) points to a record built the
same way, recursively: the target of the ownership field is owned by
``owner``, the target of any other reference field is owned by
``parent_owner``. Those targets fill only their required references and the
one their ownership comes through (optional ones stay empty, which also keeps
self-references finite), pointing to records owned by the same person as the
target. Objects with ``owner: none`` are owned by nobody, wherever they appear.

Actions and what "allowed" means:

``list``
    ``GET /api/<objects>``: allowed = ``R`` appears in the actor's list;
    denied = ``R`` is absent (``hidden``), or ``401`` for an anonymous caller
    when the read rule has no ``public``.
``get``
    ``GET /api/<objects>/<id>``: 200; unreadable is ``404``; anonymous on a
    non-public rule is ``401``.
``create``
    ``POST /api/<objects>`` with a valid payload whose reference fields point
    to the same records as ``R``'s: 201. Anonymous on a non-public rule is
    ``401``; a reference the actor may not read is ``422`` (as if it did not
    exist); otherwise a failing create rule is ``403``.
``update`` / ``delete``
    ``PATCH`` / ``DELETE`` on ``R``: 200 / 204. Anonymous on a non-public rule
    is ``401``; a record the actor may not read is ``404``; a readable record
    whose rule fails is ``403``.

Rule terms: ``public`` (anyone), ``signed_in``, ``owner`` (owns the record;
on create: creator-owned -> signed_in, inherited -> owner_of(that field),
none -> nobody), ``owner_of(f)`` (owns the record ``f`` points to),
``role:<name>``; no terms = nobody but admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wizard.spec.models import LaunchSpec, ObjectSpec
from wizard.spec.rules import Rule

MATRIX_ACTIONS: tuple[str, ...] = ("list", "get", "create", "update", "delete")

Outcome = Literal["allowed", "hidden", "not_signed_in", "forbidden", "not_found", "invalid_ref"]

_ALLOWED_STATUS = {"list": 200, "get": 200, "create": 201, "update": 200, "delete": 204}
_DENIED_STATUS = {
    "hidden": 200,
    "not_signed_in": 401,
    "forbidden": 403,
    "not_found": 404,
    "invalid_ref": 422,
}


@dataclass(frozen=True)
class Expectation:
    """What one actor may do with the fixture record of one object."""

    object: str
    actor: str
    action: str
    outcome: Outcome

    @property
    def allowed(self) -> bool:
        return self.outcome == "allowed"

    @property
    def status(self) -> int:
        """The HTTP status the request must get."""
        if self.allowed:
            return _ALLOWED_STATUS[self.action]
        return _DENIED_STATUS[self.outcome]


def has_parent_owner(obj: ObjectSpec) -> bool:
    """True when the object references records that do not decide its ownership."""
    return any(name != obj.owner_field for name in obj.ref_fields)


def actors_for(spec: LaunchSpec, object_name: str) -> list[str]:
    """The actors the matrix covers for one object, in a stable order."""
    obj = spec.objects[object_name]
    roles = [role for role in spec.roles if role != "admin"]  # admin is its own actor
    actors = ["anonymous", "owner", "other", *[f"role:{role}" for role in roles]]
    if has_parent_owner(obj):
        actors.append("parent_owner")
    actors.append("admin")
    return actors


def ownable(spec: LaunchSpec, object_name: str) -> bool:
    """Whether records of this object have an owner at all (inheritance followed to its root)."""
    seen: set[str] = set()
    obj = spec.objects[object_name]
    while obj.owner_kind == "parent" and object_name not in seen:
        seen.add(object_name)
        object_name = obj.fields[obj.owner_field or ""].to or ""
        obj = spec.objects[object_name]
    return obj.owner_kind == "creator"


@dataclass(frozen=True)
class _Record:
    """A fixture record: its object and who owns it (an actor name or None)."""

    object: str
    owner: str | None
    # Owners of the records its reference fields point to, by founder field name.
    ref_owners: dict[str, str | None]


def _build(
    spec: LaunchSpec, object_name: str, owner: str, parent_owner: str | None, *, complete: bool
) -> _Record:
    """The record the fixture builds for `object_name`, as far as ownership goes.

    Only a `complete` record (the one under test) fills its optional references; the
    records it points to fill the required ones and the one ownership comes through.
    """
    obj = spec.objects[object_name]
    ref_owners: dict[str, str | None] = {}
    for name, field in obj.ref_fields.items():
        if not (complete or field.required or name == obj.owner_field):
            continue
        target_owner = owner if (name == obj.owner_field or parent_owner is None) else parent_owner
        ref_owners[name] = target_owner if ownable(spec, field.to or "") else None
    return _Record(object_name, owner if ownable(spec, object_name) else None, ref_owners)


def _allows(spec: LaunchSpec, rule: Rule, actor: str, record: _Record, *, create: bool) -> bool:
    if actor == "admin":
        return True
    obj = spec.objects[record.object]
    signed_in = actor != "anonymous"
    for term in rule.terms:
        if term.kind == "public":
            return True
        if not signed_in:
            continue
        if term.kind == "signed_in":
            return True
        if term.kind == "role" and actor == f"role:{term.arg}":
            return True
        if term.kind == "owner":
            if create:
                if obj.owner_kind == "creator":
                    return True
                if (
                    obj.owner_kind == "parent"
                    and record.ref_owners.get(obj.owner_field or "") == actor
                ):
                    return True
            elif record.owner == actor:
                return True
        if term.kind == "owner_of" and record.ref_owners.get(term.arg or "") == actor:
            return True
    return False


def _may_read_targets(spec: LaunchSpec, actor: str, record: _Record) -> bool:
    """Whether the actor may read every record the fixture record points to."""
    obj = spec.objects[record.object]
    for name, target_owner in record.ref_owners.items():
        target_object = obj.fields[name].to or ""
        target = _build(spec, target_object, target_owner or "nobody", None, complete=False)
        read_rule = spec.objects[target_object].permissions.rule("read")
        if not _allows(spec, read_rule, actor, target, create=False):
            return False
    return True


def expect(spec: LaunchSpec, object_name: str, actor: str, action: str) -> Expectation:
    """The expected outcome of one cell of the matrix."""
    obj = spec.objects[object_name]
    parent_owner = "parent_owner" if has_parent_owner(obj) else None
    record = _build(spec, object_name, "owner", parent_owner, complete=True)
    rule = obj.permissions.rule("read" if action in ("list", "get") else action)
    outcome: Outcome
    if actor == "anonymous" and not rule.has("public"):
        outcome = "not_signed_in"
    elif action == "create":
        if not _may_read_targets(spec, actor, record):
            outcome = "invalid_ref"
        elif _allows(spec, rule, actor, record, create=True):
            outcome = "allowed"
        else:
            outcome = "forbidden"
    elif action in ("list", "get"):
        if _allows(spec, rule, actor, record, create=False):
            outcome = "allowed"
        else:
            outcome = "hidden" if action == "list" else "not_found"
    else:
        read_rule = obj.permissions.rule("read")
        if not _allows(spec, read_rule, actor, record, create=False):
            outcome = "not_found"
        elif _allows(spec, rule, actor, record, create=False):
            outcome = "allowed"
        else:
            outcome = "forbidden"
    return Expectation(object_name, actor, action, outcome)


def expected_matrix(spec: LaunchSpec) -> list[Expectation]:
    """Every object x actor x action of the spec, in spec order."""
    return [
        expect(spec, object_name, actor, action)
        for object_name in spec.objects
        for actor in actors_for(spec, object_name)
        for action in MATRIX_ACTIONS
    ]
