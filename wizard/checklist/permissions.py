"""Probe every object x actor x action of the spec's permission matrix against the live API.

Each object gets its own fixture graph, built the way wizard/spec/matrix.py describes it:
one record R owned by the ``owner`` persona, whose references point to records owned by
``owner`` (the ownership field) or ``parent_owner`` (any other reference). Every cell is
then tried for real and its status compared with the expectation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from wizard.checklist.context import CheckContext, check
from wizard.checklist.live import Persona, Session, json_of, session
from wizard.checklist.results import CouldNotRun, Coverage, Finding, Outcome, Skip
from wizard.spec import FieldSpec, LaunchSpec
from wizard.spec.matrix import (
    MATRIX_ACTIONS,
    Expectation,
    actors_for,
    expect,
    has_parent_owner,
    ownable,
)
from wizard.spec.naming import route_name

LIST_PAGE = 100
MAX_DEPTH = 12
MAX_PAGES = 50


def sample_value(spec: FieldSpec, changed: bool = False) -> Any:
    """A value the field accepts; `changed` gives a different one (for updates)."""
    kind = spec.type
    if kind in ("string", "text"):
        word = "Changed" if changed else "Probe"
        shortest, longest = spec.min_length or 1, spec.max_length or 40
        return (word + "x" * max(0, shortest - len(word)))[:longest]
    if kind == "email":
        return "changed@example.com" if changed else "probe@example.com"
    if kind in ("int", "float"):
        low: float = (
            spec.min if spec.min is not None else (spec.max - 10 if spec.max is not None else 1)
        )
        high: float = spec.max if spec.max is not None else low + 10
        first = spec.default if spec.default is not None else low
        value = (high if high != first else low) if changed else first
        return int(value) if kind == "int" else float(value)
    if kind == "bool":
        return not changed
    if kind == "date":
        return "2030-02-03" if changed else "2030-01-02"
    if kind == "datetime":
        return "2030-02-03T10:30:00Z" if changed else "2030-01-02T09:00:00Z"
    return None


def path_of(object_name: str) -> str:
    return f"/api/{route_name(object_name)}"


@dataclass
class Fixture:
    """The record R of one object under test, and the payload that made it."""

    object: str
    payload: dict[str, Any]
    record: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.record["id"])


class Fixtures:
    """Builds fixture records through the API, lifting a persona to admin when its rule says no."""

    def __init__(self, live: Session) -> None:
        self.live = live
        self.spec = live.spec

    def plain_payload(self, object_name: str) -> dict[str, Any]:
        obj = self.spec.objects[object_name]
        return {name: sample_value(f) for name, f in obj.fields.items() if not f.is_ref}

    def build(
        self, object_name: str, owner: str | None, parent_owner: str | None, depth: int = 0
    ) -> Fixture:
        """The record under test when `parent_owner` is given (every reference filled in);
        otherwise a record it points to, with only its required references (as the rendered
        project's own factories do, so a Category that may point to a parent Category ends)."""
        if depth > MAX_DEPTH:
            raise Skip(f"the references of {object_name} go round in a circle of required fields")
        obj = self.spec.objects[object_name]
        payload = self.plain_payload(object_name)
        for name, ref in obj.ref_fields.items():
            if not ref.required and name != obj.owner_field and parent_owner is None:
                continue
            target = ref.to or ""
            target_owner = (
                owner if (name == obj.owner_field or parent_owner is None) else parent_owner
            )
            target_owner = target_owner if ownable(self.spec, target) else None
            payload[name] = self.build(target, target_owner, None, depth + 1).id
        creator = owner if (ownable(self.spec, object_name) and owner) else "admin"
        return Fixture(object_name, payload, self.create_as(creator, object_name, payload))

    def rebuild(self, fixture: Fixture, owner: str | None) -> Fixture:
        creator = owner if (ownable(self.spec, fixture.object) and owner) else "admin"
        return Fixture(
            fixture.object,
            fixture.payload,
            self.create_as(creator, fixture.object, fixture.payload),
        )

    def create_as(self, actor: str, object_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        persona = self.live.persona(actor)
        path = path_of(object_name)
        response = self.live.api.call("POST", path, persona, payload)
        if response.status_code != 201 and actor != "admin":
            admin_problem = self.live.unavailable.get("admin")
            if admin_problem:
                raise Skip(
                    f"the test {object_name} for {actor} could not be made ({response.status_code}) "
                    f"and lifting {actor} to admin needs admin credentials: {admin_problem}"
                )
            roles = list(persona.roles)
            problem = self.live.set_roles(persona, sorted({*roles, "admin"}))
            if problem:
                raise Skip(problem)
            try:
                response = self.live.api.call("POST", path, persona, payload)
            finally:
                restored = self.live.set_roles(persona, roles)
            if restored:  # probing on with an admin "owner" would report false leaks
                raise CouldNotRun(f"{actor}'s roles could not be put back: {restored}")
        data = json_of(response)
        if response.status_code != 201 or not isinstance(data, dict) or "id" not in data:
            raise Skip(
                f"the test {object_name} could not be made: POST {path} answered "
                f"{response.status_code} {response.text[:160]}"
            )
        self.live.remember(path, int(data["id"]))
        return data


@dataclass
class MatrixRun:
    """What probing the matrix found, split by the check that reports it."""

    findings: dict[str, list[Finding]] = field(default_factory=lambda: {"cells": [], "lists": []})
    probed: dict[str, int] = field(default_factory=lambda: {"cells": 0, "lists": 0})
    skipped: dict[str, dict[str, str]] = field(default_factory=lambda: {"cells": {}, "lists": {}})
    total: dict[str, int] = field(default_factory=lambda: {"cells": 0, "lists": 0})


def _actual(expectation: Expectation, response: httpx.Response, record_id: int) -> str:
    """The outcome the API gave, named like the matrix names outcomes."""
    code = response.status_code
    if expectation.action == "list" and code == 200:
        return "allowed" if record_id in _ids(response) else "hidden"
    names = {401: "not_signed_in", 403: "forbidden", 404: "not_found", 422: "invalid_ref"}
    if code in (200, 201, 204):
        return "allowed"
    return names.get(code, f"HTTP {code}")


def _ids(response: httpx.Response) -> set[int]:
    data = json_of(response)
    items = data.get("items") if isinstance(data, dict) else None
    return {int(i["id"]) for i in items or [] if isinstance(i, dict) and "id" in i}


class Prober:
    def __init__(self, live: Session) -> None:
        self.live = live
        self.spec: LaunchSpec = live.spec
        self.fixtures = Fixtures(live)
        self.run = MatrixRun()

    def call(
        self, method: str, path: str, who: Persona, body: Any = None, params: Any = None
    ) -> httpx.Response:
        response = self.live.api.call(method, path, who, body, params=params)
        if response.status_code == 429:  # back off once, briefly, then take the answer as it is
            time.sleep(min(float(response.headers.get("Retry-After", "1") or 1), 3.0))
            response = self.live.api.call(method, path, who, body, params=params)
        return response

    def list_page(self, path: str, who: Persona, record_id: int) -> httpx.Response:
        """The list page that holds `record_id`, or the last page looked at."""
        response = self.call("GET", path, who, params={"limit": LIST_PAGE, "offset": 0})
        for page in range(1, MAX_PAGES):
            if response.status_code != 200 or record_id in _ids(response):
                return response
            data = json_of(response)
            total = int(data.get("total", 0)) if isinstance(data, dict) else 0
            if page * LIST_PAGE >= total:
                return response
            response = self.call(
                "GET", path, who, params={"limit": LIST_PAGE, "offset": page * LIST_PAGE}
            )
        return response

    def probe_all(self) -> MatrixRun:
        for object_name in self.spec.objects:
            self.probe_object(object_name)
        return self.run

    def probe_object(self, object_name: str) -> None:
        actors = actors_for(self.spec, object_name)
        self.run.total["cells"] += len(actors) * (len(MATRIX_ACTIONS) - 1)
        self.run.total["lists"] += len(actors)
        parent_owner = "parent_owner" if has_parent_owner(self.spec.objects[object_name]) else None
        try:
            fixture = self.fixtures.build(object_name, "owner", parent_owner)
        except Skip as exc:
            for key in ("cells", "lists"):
                self.run.skipped[key][f"{object_name} (all actors)"] = exc.reason
            return
        for actor in actors:
            try:
                who = self.live.persona(actor)
            except Skip as exc:
                self.run.skipped["cells"][f"{object_name} as {actor}"] = exc.reason
                self.run.skipped["lists"][f"{object_name} as {actor}"] = exc.reason
                continue
            for action in MATRIX_ACTIONS:
                after = self.probe_cell(expect(self.spec, object_name, actor, action), who, fixture)
                if after is None:
                    return
                fixture = after

    def probe_cell(
        self, expectation: Expectation, who: Persona, fixture: Fixture
    ) -> Fixture | None:
        path = path_of(expectation.object)
        action = expectation.action
        key = "lists" if action == "list" else "cells"
        if action == "list":
            response = self.list_page(path, who, fixture.id)
        elif action == "get":
            response = self.call("GET", f"{path}/{fixture.id}", who)
        elif action == "create":
            response = self.call("POST", path, who, fixture.payload)
            data = json_of(response)
            if response.status_code == 201 and isinstance(data, dict) and "id" in data:
                self.live.remember(path, int(data["id"]))
        elif action == "update":
            response = self.call(
                "PATCH", f"{path}/{fixture.id}", who, self._change(expectation.object)
            )
        else:
            response = self.call("DELETE", f"{path}/{fixture.id}", who)
        if response.status_code == 429:
            # Rate limited even after backing off: the API did not answer the question.
            where = f"{expectation.object} {action} as {expectation.actor}"
            self.run.skipped[key][where] = "the API answered 429 (rate limited) twice"
            return fixture
        self.run.probed[key] += 1
        actual = _actual(expectation, response, fixture.id)
        status_matches = action == "list" or response.status_code == expectation.status
        if actual != expectation.outcome or not status_matches:
            self.run.findings[key].append(self._finding(expectation, actual, response))
        if action == "delete" and response.status_code == 204:
            self.live.forget(path, fixture.id)
            try:
                return self.fixtures.rebuild(fixture, "owner")
            except Skip as exc:
                # The actors after this one try neither the object's cells nor its list.
                for kind in ("cells", "lists"):
                    self.run.skipped[kind][f"{expectation.object} after a delete"] = exc.reason
                return None
        return fixture

    def _change(self, object_name: str) -> dict[str, Any]:
        obj = self.spec.objects[object_name]
        for name, spec in obj.fields.items():
            if not spec.is_ref:
                return {name: sample_value(spec, changed=True)}
        return {}

    def _finding(self, exp: Expectation, actual: str, response: httpx.Response) -> Finding:
        verb = {
            "list": "see in the list",
            "get": "read",
            "create": "create",
            "update": "update",
            "delete": "delete",
        }[exp.action]
        who = "anyone signed out" if exp.actor == "anonymous" else f"the {exp.actor} test user"
        if actual == "allowed" and not exp.allowed:
            message = f"LEAK: {who} could {verb} {exp.object} records the rules deny them"
        elif exp.allowed and actual != "allowed":
            message = f"{who} could not {verb} {exp.object} records the rules allow them"
        else:
            message = f"{who} was refused {exp.action} on {exp.object} with the wrong answer"
        detail = ""
        data = json_of(response)
        if isinstance(data, dict) and data.get("detail"):
            detail = f": {str(data['detail'])[:120]}"
        return Finding(
            message + detail,
            object=exp.object,
            action=exp.action,
            actor=exp.actor,
            expected=f"{exp.outcome} ({exp.status})",
            actual=f"{actual} ({response.status_code})",
        )


def _matrix(ctx: CheckContext) -> MatrixRun:
    cached = ctx.cache.get("matrix_run")
    if isinstance(cached, MatrixRun):
        return cached
    live = session(ctx)
    run = Prober(live).probe_all()
    ctx.cache["matrix_run"] = run
    return run


ADMIN_FIX = (
    "Give the check an admin account of this API: set SHIPYARD_ADMIN_EMAIL and "
    "SHIPYARD_ADMIN_PASSWORD (`python -m app create-admin --email E --password P` makes one)"
)
STAGING_FIX = (
    "or run `shipyard check` inside the project with its staging up (`shipyard up`), "
    "where Shipyard makes its own test admin"
)
RATE_FIX = (
    "The API rate limited the check (429): wait a few minutes for its limit to reset, then "
    "run the check again (it reuses the test accounts it already made, so a rerun signs up "
    "fewer); or run it against the project's own staging (`shipyard up`), which no one else uses"
)
OTHER_FIX = "Fix what stopped the skipped cells (the reasons above) and run the check again"


_ADMIN_CLUES = ("admin credentials", "is not an admin", "test admin", "shipyard_admin")
_RATE_CLUES = ("429", "rate limit")


def coverage_fix(skipped: dict[str, str], url_given: bool) -> str:
    """What a founder can do so that the next run probes every cell, from why cells were skipped."""
    reasons = [why.lower() for why in skipped.values()]
    admin = [why for why in reasons if any(clue in why for clue in _ADMIN_CLUES)]
    rate = [why for why in reasons if any(clue in why for clue in _RATE_CLUES)]
    fixes = []
    if admin:
        fixes.append(f"{ADMIN_FIX}, {STAGING_FIX}" if url_given else ADMIN_FIX)
    if rate:
        fixes.append(RATE_FIX)
    if len({*admin, *rate}) < len(set(reasons)):
        fixes.append(OTHER_FIX)
    fixes.append("Until every cell is probed, the others may still let the wrong people in.")
    return ". ".join(fixes)


def _outcome(run: MatrixRun, key: str, what: str, url_given: bool) -> Outcome:
    skipped = run.skipped[key]
    total = run.total[key]
    if total == 0:
        raise Skip("the spec has no objects, so there are no permission cells to probe")
    fix = coverage_fix(skipped, url_given)
    if run.probed[key] == 0:
        # The API answered but not one cell could be tried: the check did not do its job.
        reason = next(iter(skipped.values()), "nothing could be probed")
        raise CouldNotRun(f"none of the {total} {what} could be probed: {reason}. {fix}")
    note = f"probed {run.probed[key]} of {total} {what}"
    if skipped:
        note += f"; not probed: {_skipped_text(skipped)}"
    coverage = Coverage(what, run.probed[key], total, dict(skipped), fix)
    return Outcome(list(run.findings[key]), note, coverage=coverage)


def _skipped_text(skipped: dict[str, str], shown: int = 4) -> str:
    """Where cells were skipped, grouped by why: "Note get as other, ... (the API answered 429)"."""
    by_reason: dict[str, list[str]] = {}
    for where, why in skipped.items():
        by_reason.setdefault(why, []).append(where)
    parts = []
    for why, places in by_reason.items():
        more = f" and {len(places) - shown} more" if len(places) > shown else ""
        parts.append(f"{', '.join(places[:shown])}{more} ({why})")
    return "; ".join(parts)


@check("live.permission_matrix")
def permission_matrix(ctx: CheckContext) -> Outcome:
    """Every get, create, update and delete of every object, as every persona, as the spec says."""
    return _outcome(_matrix(ctx), "cells", "get/create/update/delete cells", ctx.url_given)


@check("live.list_filtering")
def list_filtering(ctx: CheckContext) -> Outcome:
    """Lists show each persona exactly the records its read rule allows: no one else's."""
    return _outcome(_matrix(ctx), "lists", "list cells", ctx.url_given)
