"""Find blueprints, turn a launch spec into the data a blueprint renders, and render it.

Everything a template needs is computed here, in Python: safe names, tables in
dependency order, permission rules compiled to SQLAlchemy expressions, field
validation, sample values for the rendered tests and the expected permission
matrix. The Jinja templates only place these strings.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from wizard import __version__
from wizard.errors import BadInput, ShipyardError
from wizard.paths import blueprints_dir
from wizard.record import write_record
from wizard.rls import compile_policies, owned_ids_function
from wizard.spec import naming
from wizard.spec.matrix import actors_for, expected_matrix, has_parent_owner, ownable
from wizard.spec.models import FieldSpec, LaunchSpec, ObjectSpec
from wizard.spec.rules import Rule

ACTIONS = ("read", "create", "update", "delete")

# Modules the blueprint may add later beside the per-object ones; the ones it has now
# are read from its template folder (see _blueprint_modules).
_BLUEPRINT_MODULES = frozenset({"base", "types", "factories", "graph"})
# Names the rendered modules define or import next to an object's class.
_GENERATED_NAMES = frozenset(
    {
        "Kind", "KINDS", "Person", "LABEL", "RULES", "REFERENCES", "Callable", "Awaitable",
        "AsyncSession", "Mapping", "ColumnElement", "IntegrityError", "Field", "BaseModel",
        "ConfigDict", "EmailStr", "Mapped", "ForeignKey", "Integer", "String", "Text", "Float",
        "Boolean", "Date", "DateTime", "UTCDateTime", "UTC", "OptionalUser", "SessionDep",
        "CurrentUser", "AdminUser", "IfMatch", "PageDep", "Literal", "Role", "Page", "JSON",
    }
)  # fmt: skip
_MODULE_IN_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.py")

_DEFAULT_STRING_LENGTH = 255
_EMAIL_LENGTH = 320
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # what an INTEGER column holds (ids included)


def find_blueprint(name: str) -> Path:
    """The folder of the blueprint called `name` (it holds copier.yml)."""
    folder = blueprints_dir() / name
    if not (folder / "copier.yml").is_file():
        available = sorted(
            p.name for p in blueprints_dir().iterdir() if (p / "copier.yml").is_file()
        )
        raise BadInput(
            f"There is no blueprint called '{name}'.",
            hint=f"Set blueprint: to one of {', '.join(available) or '(none installed)'} in shipyard.yaml.",
        )
    return folder


# A per-object file of a blueprint: rendered once for each object in `objects_rendered`
# (every object, unless an update reuses unchanged ones), from `obj` alone.
PER_OBJECT_PART = "{% yield obj from objects_rendered %}{{ obj.module }}{% endyield %}"


def render(
    spec: LaunchSpec, dest: Path, reuse: Reuse | None = None, *, wait: bool = True
) -> Callable[[], None]:
    """Render the spec's blueprint into `dest`: the same spec always gives the same bytes.

    With `wait=False` it returns while the app still writes openapi.json and client/api.ts
    (other work can use the rest of the render meanwhile, read-only); call what it returns
    to wait for them. With `wait` (the default) that was done already.

    With `reuse`, the per-object files of the objects it names are copied from an earlier
    render of the same blueprint instead of rendered again (see `reusable`): Copier's cost
    is per file (a Jinja compile of each path part, a git call), most of a big project's."""
    import copier  # imported here: Copier is slow to import and only rendering needs it

    source = find_blueprint(spec.blueprint)
    data = blueprint_context(spec)
    reused = [] if reuse is None else reuse.paths(source)
    if reuse is not None:
        data["objects_rendered"] = [
            obj for obj in data["objects"] if obj["module"] not in reuse.modules
        ]
    try:
        copier.run_copy(
            str(source),
            str(dest),
            data=data,
            defaults=True,
            quiet=True,
            unsafe=False,
            skip_tasks=True,
            overwrite=True,
            vcs_ref=None,
        )
    except Exception as error:  # Copier raises many kinds; the founder needs one sentence
        raise ShipyardError(
            f"Rendering the {spec.blueprint} blueprint failed: {error}",
            hint="This is a bug in the blueprint, not in your spec. Please report it with your shipyard.yaml.",
        ) from error
    for path in reused:  # formatted already, by the render they come from
        assert reuse is not None
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(reuse.render / path, dest / path)
    _format_python(dest)
    finish = _write_openapi(dest)
    # What this render came from, for `shipyard update` (written after formatting: not Python).
    write_record(dest, spec, source)
    if wait:
        finish()
    return finish


@dataclass(frozen=True)
class Reuse:
    """An earlier render of the same blueprint, and the objects whose files it holds as they
    would be rendered now."""

    render: Path
    modules: frozenset[str]

    def paths(self, blueprint: Path) -> list[str]:
        template = blueprint / "template"
        found = []
        for path in template.rglob(f"*{PER_OBJECT_PART}*"):
            relative = path.relative_to(template).as_posix().removesuffix(".jinja")
            for module in sorted(self.modules):
                rendered = relative.replace(PER_OBJECT_PART, module)
                if (self.render / rendered).is_file():
                    found.append(rendered)
        return sorted(found)


def reusable(old: LaunchSpec, new: LaunchSpec) -> frozenset[str]:
    """The modules of the objects whose per-object files render the same bytes from `new` as
    from `old` (same blueprint): every per-object template reads `obj` only (a test holds the
    blueprint to that), so an object whose data is unchanged renders unchanged."""
    if old.blueprint != new.blueprint:
        return frozenset()
    before = {obj["module"]: obj for obj in blueprint_context(old)["objects"]}
    after = {obj["module"]: obj for obj in blueprint_context(new)["objects"]}
    return frozenset(m for m, obj in after.items() if before.get(m) == obj)


def _write_openapi(dest: Path) -> Callable[[], None]:
    """The project's openapi.json and client/api.ts, from the rendered app itself (`python
    -m app openapi --write`, in development settings). Needs the blueprint's packages in this
    interpreter; without them no file is written, and the project's own tests say how to
    make it. Returns what waits for the files: the command runs meanwhile.

    Importing the app takes seconds, and the two files depend only on the app's code and
    the installed library versions, so they are kept in a cache keyed by both: the same
    render (every re-render of `shipyard update` and `shipyard check`) pays once."""
    if not (dest / "app" / "api" / "contract.py").is_file():
        return _done  # a blueprint without the command
    cached = _openapi_cache_dir() / _openapi_key(dest)
    if (cached / "openapi.json").is_file() and (cached / "api.ts").is_file():
        shutil.copyfile(cached / "openapi.json", dest / "openapi.json")
        (dest / "client").mkdir(exist_ok=True)
        shutil.copyfile(cached / "api.ts", dest / "client" / "api.ts")
        return _done
    env = {k: v for k, v in os.environ.items() if k not in _APP_SETTINGS}
    env["ENVIRONMENT"] = "development"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the render holds only what gets committed
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "openapi", "--write"],
        cwd=dest,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def finish() -> None:
        if process.returncode is not None:
            return
        try:
            code = process.wait(timeout=120)
        except BaseException:  # a timeout or Ctrl-C: never leave it writing into the render
            process.kill()
            process.wait()
            raise
        if code == 0 and (dest / "client" / "api.ts").is_file():
            _remember(cached, dest / "openapi.json", dest / "client" / "api.ts")

    return finish


def _done() -> None:
    return None


def _openapi_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shipyard" / "openapi"


def _openapi_key(dest: Path) -> str:
    """A digest of what the document is made from: every file of the app package, this
    Python, and the versions of the libraries that build the document."""
    from importlib import metadata

    digest = hashlib.sha256(sys.version.encode())
    for package in ("fastapi", "starlette", "pydantic", "pydantic-core", "sqlalchemy"):
        try:
            digest.update(f"{package}={metadata.version(package)};".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=none;".encode())
    app = dest / "app"
    for path in sorted(p for p in app.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(app).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _remember(folder: Path, *files: Path) -> None:
    """Store files in the cache whole or not at all (a stopped render leaves no half entry);
    a cache that cannot be written only costs the next render its time."""
    import tempfile

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".new-"))
    except OSError:
        return
    try:
        for file in files:
            shutil.copyfile(file, staging / file.name)
        os.replace(staging, folder)
    except OSError:  # another render stored it first, or the disk is full
        shutil.rmtree(staging, ignore_errors=True)


# The rendered app's settings: the machine's own must not shape the committed document.
_APP_SETTINGS = {"DATABASE_URL", "SECRET_KEY", "ENVIRONMENT", "FRONTEND_URL", "CORS_ORIGINS"}


def _format_python(dest: Path) -> None:
    """Give rendered Python the formatting `ruff format` would, whatever the names' lengths."""
    ruff = _ruff_binary()
    if ruff is None:
        return
    for args in (
        ["check", "--no-cache", "--select", "I", "--fix", "--quiet"],
        ["format", "--no-cache", "--quiet"],
    ):
        subprocess.run([ruff, *args, "."], cwd=dest, check=False, capture_output=True, timeout=120)


def _ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


# ---------------------------------------------------------------------------
# The data the template receives
# ---------------------------------------------------------------------------


def blueprint_context(spec: LaunchSpec) -> dict[str, Any]:
    """Everything the fastapi blueprint's templates render from, as plain JSON-able data."""
    names = _Names(spec)
    objects = [_object_context(spec, names, name) for name in spec.objects]
    by_name = {obj["name"]: obj for obj in objects}
    for obj in objects:
        obj["heirs"] = [other for other in objects if other["owner_target"] == obj["name"]]
        obj["passes_ownership"] = obj["owner_kind"] == "parent" and bool(obj["heirs"])
    for obj in objects:
        obj["heirs"] = [
            {
                "name": heir["name"],
                "class_name": heir["class_name"],
                "module": heir["module"],
                "alias": _policy_alias(heir["module"]),
                "attr": heir["owner_attr"],
                "var": heir["module"].rstrip("_") + "_ids",
                "passes_ownership": heir["passes_ownership"],
            }
            for heir in obj["heirs"]
        ]
        _policy_imports(obj, by_name)
    # The same rules as PostgreSQL row-level security, for the initial migration.
    rls_policies, rls_functions = compile_policies(spec, objects)
    for obj in objects:
        obj["rls_policies"] = rls_policies[obj["name"]]
    order = _dependency_order(spec)
    # References to a table created later (optional references in a circle) get their
    # foreign key once every table exists.
    forward_refs = []
    for position, name in enumerate(order):
        for ref in by_name[name]["refs"]:
            ref["forward"] = order.index(ref["target"]) > position
            if ref["forward"]:
                forward_refs.append({"table": by_name[name]["table"], **ref})
    matrix = [
        {"object": e.object, "actor": e.actor, "action": e.action, "outcome": e.outcome}
        for e in expected_matrix(spec)
    ]
    origins = list(spec.frontend.origins)
    kinds = {f["type"] for obj in objects for f in obj["plain_fields"]}
    factory_datetime_imports = sorted(
        ({"UTC", "datetime"} if "datetime" in kinds else set())
        | ({"date"} if "date" in kinds else set()),
        key=lambda n: (n.islower(), n),
    )
    return {
        "any_invalid_values": any(f["invalid"] for obj in objects for f in obj["fields"]),
        "any_required_fields": any(obj["required_fields"] for obj in objects),
        "any_references": any(obj["refs"] for obj in objects),
        "any_inherited_owner": any(obj["owner_kind"] == "parent" for obj in objects),
        "any_heirs": any(obj["passes_ownership"] for obj in objects),
        "factory_datetime_imports": factory_datetime_imports,
        "app_name": spec.app.name,
        "app_title": spec.app.title,
        # The title as each place that shows it needs it written (issue 17: it was pasted raw
        # into Python, and a quote in it broke the project or ran code on import).
        **_title_context(spec.app.title),
        "package_name": spec.app.name,
        "database_file": f"{spec.app.name.replace('-', '_')}.db",
        "login_methods": list(spec.login.methods),
        "email_password": "email_password" in spec.login.methods,
        "roles": [role for role in spec.roles if role != "admin"],
        "all_roles": spec.all_roles,
        "cors_origins": origins,
        "cors_origins_csv": ",".join(origins),
        "lovable_previews": spec.frontend.lovable_previews,
        "frontend_url": origins[0] if origins else "http://localhost:5173",
        "objects": objects,
        "objects_rendered": objects,  # whose per-object files are rendered (see render)
        "tables": [by_name[name] for name in order],
        "forward_refs": forward_refs,
        "rls_functions": rls_functions,
        "matrix": matrix,
        "matrix_actors": {name: actors_for(spec, name) for name in spec.objects},
        "python_image": spec.staging.images.python,
        "postgres_image": spec.staging.images.postgres,
        # The rendered CI workflow installs the Shipyard that rendered it for its launch check.
        "shipyard_version": __version__,
    }


class _Names:
    """Safe class, module, table and route names, kept unique across the whole project."""

    def __init__(self, spec: LaunchSpec) -> None:
        self.classes: dict[str, str] = {}
        self.modules: dict[str, str] = {}
        self.tables: dict[str, str] = {}
        self.routes: dict[str, str] = {}
        used_classes: set[str] = set(_GENERATED_NAMES)
        used_modules: set[str] = set(_BLUEPRINT_MODULES) | _blueprint_modules(spec.blueprint)
        used_tables: set[str] = set()
        used_routes: set[str] = set()
        for object_name in spec.objects:
            cls = naming.class_name(object_name)
            self.classes[object_name] = _unique(
                cls + "Record" if cls in _GENERATED_NAMES else cls, used_classes
            )
            self.modules[object_name] = _unique(naming.module_name(object_name), used_modules)
            self.tables[object_name] = _unique(naming.table_name(object_name), used_tables)
            self.routes[object_name] = _unique(naming.route_name(object_name), used_routes, "-x")


def _blueprint_modules(blueprint: str) -> set[str]:
    """Every module name the blueprint's own files use, so objects never take one."""
    names: set[str] = set()
    for path in (find_blueprint(blueprint) / "template" / "app").rglob("*"):
        if "{{" not in path.name:
            names.update(_MODULE_IN_NAME.findall(path.name))
        if path.is_dir():
            names.add(path.name)
    return names


def _unique(name: str, used: set[str], suffix: str = "_") -> str:
    candidate = name
    while candidate in used:
        candidate += suffix
    used.add(candidate)
    return candidate


def _policy_alias(module: str) -> str:
    return module.rstrip("_") + "_policy"


def _policy_imports(obj: dict[str, Any], by_name: dict[str, dict[str, Any]]) -> None:
    """Which models, policy modules and SQLAlchemy names an object's policy module uses."""
    models: dict[str, str] = {}
    modules: dict[str, str] = {}
    for ref in obj["refs"]:
        target = by_name[ref["target"]]
        if target["module"] == obj["module"]:
            ref["read_filter"] = "may_read(user)"
            continue
        ref["read_filter"] = f"{_policy_alias(target['module'])}.may_read(user)"
        models[target["module"]] = target["class_name"]
        modules[target["module"]] = _policy_alias(target["module"])
    if obj["passes_ownership"]:
        for heir in obj["heirs"]:
            if heir["module"] != obj["module"]:
                models[heir["module"]] = heir["class_name"]
                if heir["passes_ownership"]:
                    modules[heir["module"]] = heir["alias"]
    rules = [obj["rules"][action] for action in ("read", "update", "delete")]
    obj["policy_uses_model"] = any(
        rule["sql"] for rule in rules if not rule["public"] and not rule["signed_in"]
    ) or any(ref["target"] == obj["name"] for ref in obj["refs"])
    obj["policy_models"] = [{"module": m, "class_name": c} for m, c in sorted(models.items())]
    obj["policy_modules"] = [{"module": m, "alias": a} for m, a in sorted(modules.items())]
    names = {"ColumnElement", "true"}
    if any(not rule["public"] for rule in rules):
        names.add("false")
    if any(len(rule["sql"]) > 1 for rule in rules if not rule["public"] and not rule["signed_in"]):
        names.add("or_")
    terms = [
        term
        for rule in rules
        if not rule["public"] and not rule["signed_in"]
        for term in rule["sql"]
    ]
    if any("select(" in term for term in terms):
        names.add("select")
    shared = {"CALLER"} if any("CALLER" in term for term in terms) else set()
    if any(term.startswith("owner_of(") for term in terms):
        shared.add("owner_of")
    if obj["refs"]:
        shared.add("ref_owner")
    obj["policy_shared_imports"] = sorted(shared, key=lambda n: (n[0].islower(), n))
    if obj["passes_ownership"]:
        names.add("update")
    obj["policy_sa_imports"] = sorted(names, key=lambda n: (n[0].islower(), n))


def _dependency_order(spec: LaunchSpec) -> list[str]:
    """Objects ordered so reference targets come before the objects pointing at them.

    Optional references are followed too when they allow an order at all. Required ones
    always do: the spec validator refuses a circle of them (wizard/spec/validate.py).
    """
    try:
        return _topological(spec, required_only=False)
    except _Circle:
        return _topological(spec, required_only=True)


class _Circle(Exception):
    """The references followed go round in a circle, so they give no order."""


def _topological(spec: LaunchSpec, *, required_only: bool) -> list[str]:
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise _Circle(name)
        visiting.append(name)
        for field in spec.objects[name].ref_fields.values():
            if field.required or (not required_only and field.to != name):
                visit(field.to or "")
        visiting.pop()
        order.append(name)

    for name in spec.objects:
        visit(name)
    return order


def _words(name: str) -> str:
    return naming.snake(name).replace("_", " ")


def _object_context(spec: LaunchSpec, names: _Names, object_name: str) -> dict[str, Any]:
    obj = spec.objects[object_name]
    class_name = names.classes[object_name]
    module = names.modules[object_name]
    used_attrs: set[str] = set()
    fields = [
        _field_context(spec, names, obj, name, field, used_attrs)
        for name, field in obj.fields.items()
    ]
    refs = [f for f in fields if f["is_ref"]]
    owner_field = obj.owner_field
    owner_ref = next((f for f in refs if f["name"] == owner_field), None)
    for ref in refs:
        ref["var"] = naming.snake(ref["name"]) + "_record"
        ref["target_fn"] = naming.snake(ref["target"])
        ref["factory_owner"] = "owner" if ref["name"] == owner_field else "parent_owner or owner"
        # Records pointed at fill only what they must, so self-references stay finite.
        ref["always_built"] = ref["required"] or ref["name"] == owner_field
    label = _words(object_name)
    route = names.routes[object_name]
    rules = {
        action: _rule_context(spec, obj, class_name, fields, obj.permissions.rule(action))
        for action in ACTIONS
    }
    create_check = _create_check(obj, obj.permissions.rule("create"))
    plain_fields = [f for f in fields if not f["is_ref"]]
    change = plain_fields[0] if plain_fields else None
    return {
        "name": object_name,
        "class_name": class_name,
        "module": module,
        "table": names.tables[object_name],
        "route": route,
        "path": f"/api/{route}",
        "label": label,
        "plural_label": route.replace("-", " "),
        "tag": route,
        "fn": route.replace("-", "_"),
        "fn_one": naming.snake(object_name),
        "owner_kind": obj.owner_kind,
        "owner_field": owner_field,
        "owner_attr": owner_ref["attr"] if owner_ref else None,
        "owner_target": owner_ref["target"] if owner_ref else None,
        "owner_spec": obj.owner,
        "ownable": ownable(spec, object_name),
        "has_parent_owner": has_parent_owner(obj),
        "fields": fields,
        "refs": refs,
        "plain_fields": plain_fields,
        "required_fields": [f for f in fields if f["required"]],
        "rules": rules,
        "create_check": create_check,
        "read_is_public": obj.permissions.rule("read").has("public"),
        "create_is_public": obj.permissions.rule("create").has("public"),
        "update_is_public": obj.permissions.rule("update").has("public"),
        "delete_is_public": obj.permissions.rule("delete").has("public"),
        "sample_payload": {f["name"]: f["sample_json"] for f in plain_fields},
        "sample_payload_py": _py_literal({f["name"]: f["sample_json"] for f in plain_fields}),
        "change_py": _py_literal({change["name"]: change["change_json"]} if change else {}),
        "owner_doc": _owner_doc(obj, fields),
        "factory_owner_id": _factory_owner_id(obj, owner_ref),
        "factory_doc": _factory_doc(obj, label, refs),
        "sa_imports": _sa_imports(fields),
        "uses_datetime": any(f["type"] == "datetime" for f in fields),
        "uses_date": any(f["type"] == "date" for f in fields),
        "uses_email": any(f["type"] == "email" for f in fields),
    }


def _owner_doc(obj: ObjectSpec, fields: list[dict[str, Any]]) -> str:
    if obj.owner_kind == "creator":
        return "The owner is the user who created the record."
    if obj.owner_kind == "parent":
        return f"The owner is inherited: whoever owns the record `{obj.owner_field}` points to."
    return "Nobody owns these records: admins manage them."


def _factory_owner_id(obj: ObjectSpec, owner_ref: dict[str, Any] | None) -> str:
    if obj.owner_kind == "creator":
        return "owner.id if owner else None"
    if owner_ref is not None:
        return f"{owner_ref['var']}.owner_id"
    return "None"


def _factory_doc(obj: ObjectSpec, label: str, refs: list[dict[str, Any]]) -> str:
    if obj.owner_kind == "creator":
        doc = f"A {label} owned by `owner`"
    elif obj.owner_kind == "parent":
        doc = f"A {label} whose {_words(obj.owner_field or '')} belongs to `owner` (so the {label} does)"
    else:
        doc = f"A {label}; nobody owns it (admins manage these)"
    others = [_words(ref["name"]) for ref in refs if ref["name"] != obj.owner_field]
    if others:
        doc += f"; its {' and '.join(others)} belong{'s' if len(others) == 1 else ''} to `parent_owner`"
    return doc + "."


def _sa_imports(fields: list[dict[str, Any]]) -> list[str]:
    names = {"ForeignKey", "Index", "Integer"}
    for field in fields:
        kind = field["sa_type"].split("(")[0]
        if kind != "UTCDateTime":
            names.add(kind)
    return sorted(names)


def _title_context(title: str) -> dict[str, str]:
    """The title as a Python string, inside a docstring, as a TOML string and as Markdown text.
    The validator has refused control characters, so none of these needs a line break."""
    sender = str(Address(display_name=title, addr_spec="no-reply@localhost"))
    example_sender = str(Address(display_name=title, addr_spec="no-reply@example.com"))
    description = f"The backend of {title}: a FastAPI app generated by Shipyard."
    return {
        "app_title_py": _py_literal(title),
        "app_title_docstring": title.replace("\\", "\\\\").replace('"', '\\"'),
        # JSON's string escapes are a subset of TOML's basic-string escapes.
        "description_toml": json.dumps(description, ensure_ascii=False),
        "app_title_markdown": _markdown_text(title),
        # A display name with quotes, commas or <> is quoted, so the address still parses.
        "mail_from_py": _py_literal(sender),
        "mail_from_env": json.dumps(example_sender, ensure_ascii=False),
    }


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def _markdown_text(text: str) -> str:
    """Text that Markdown shows as written: no emphasis, links, HTML or table cells."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def _py_literal(value: Any) -> str:
    """A Python literal for JSON-able data, quoted the way ruff format would."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_py_literal(k)}: {_py_literal(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    return repr(value)


def _field_context(
    spec: LaunchSpec,
    names: _Names,
    obj: ObjectSpec,
    name: str,
    field: FieldSpec,
    used_attrs: set[str],
) -> dict[str, Any]:
    is_ref = field.is_ref
    # `startsAt` and `starts_at`, or a ref `studio` and a field `studio_id`, map alike.
    attr = _unique(naming.column_name(name, is_ref), used_attrs)
    ctx: dict[str, Any] = {
        "name": name,
        "attr": attr,
        "alias_needed": attr != name,
        "type": field.type,
        "is_ref": is_ref,
        "required": field.required,
        "nullable": not field.required,
        "label": _words(name),
    }
    ctx.update(_type_context(field))
    if is_ref:
        target = field.to or ""
        ctx.update(
            target=target,
            target_class=names.classes[target],
            target_module=names.modules[target],
            target_table=names.tables[target],
            target_label=_words(target),
            is_owner_field=name == obj.owner_field,
        )
    constraints = _constraints(field)
    default = field.default
    sample, change = _samples(field)
    # openapi.json shows these (Swagger's "Try it out", a generated client's docs): a
    # reference's example is the first record's id.
    example = _py_literal(1 if field.is_ref else sample)
    changed = _py_literal(1 if field.is_ref else change)
    ctx["default_py"] = repr(default) if default is not None else None
    ctx["create_annotation"], ctx["create_default"] = _create_declaration(
        ctx, [*constraints, f"examples=[{example}]"], default
    )
    ctx["update_declaration"] = _update_declaration(ctx, [*constraints, f"examples=[{changed}]"])
    ctx["out_declaration"] = _out_declaration(ctx, example)
    ctx["described"] = _described(field, ctx)
    ctx["sample_json"] = sample
    ctx["change_json"] = change
    ctx["sample_py"] = _sample_python(field.type, sample)
    ctx["sample_json_py"] = _py_literal(sample)
    ctx["invalid"] = _invalid_examples(field)
    return ctx


_TYPES = {
    # spec type: (python type, SQLAlchemy type for the model, for the migration)
    "string": ("str", "String({n})", "sa.String(length={n})"),
    "text": ("str", "Text()", "sa.Text()"),
    "int": ("int", "Integer()", "sa.Integer()"),
    "float": ("float", "Float()", "sa.Float()"),
    "bool": ("bool", "Boolean()", "sa.Boolean()"),
    "date": ("date", "Date()", "sa.Date()"),
    "datetime": ("datetime", "UTCDateTime()", "sa.DateTime(timezone=True)"),
    "email": ("str", "String({n})", "sa.String(length={n})"),
    "ref": ("int", "Integer()", "sa.Integer()"),
}


def _type_context(field: FieldSpec) -> dict[str, Any]:
    py_type, sa_type, migration_type = _TYPES[field.type]
    length = (
        _EMAIL_LENGTH if field.type == "email" else (field.max_length or _DEFAULT_STRING_LENGTH)
    )
    return {
        "py_type": py_type,
        "sa_type": sa_type.format(n=length),
        "migration_type": migration_type.format(n=length),
        "max_length": (field.max_length or _DEFAULT_STRING_LENGTH)
        if field.type == "string"
        else field.max_length,
    }


def _number(value: float | int) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _constraints(field: FieldSpec) -> list[str]:
    found: list[str] = []
    if field.type in ("string", "text"):
        if field.min_length is not None:
            found.append(f"min_length={field.min_length}")
        max_length = field.max_length or (
            _DEFAULT_STRING_LENGTH if field.type == "string" else None
        )
        if max_length is not None:
            found.append(f"max_length={max_length}")
    if field.type == "int":
        # The column is a 32-bit INTEGER: a wider number is a 422, not a driver overflow.
        low, high = _finite(field.min), _finite(field.max)
        low = _INT_MIN if low is None else max(math.ceil(low), _INT_MIN)
        high = _INT_MAX if high is None else min(math.floor(high), _INT_MAX)
        found += [f"ge={low}", f"le={high}"]
    if field.type == "float":
        if field.min is not None:
            found.append(f"ge={_number(field.min)}")
        if field.max is not None:
            found.append(f"le={_number(field.max)}")
    if field.type == "ref":
        found += ["ge=1", f"le={_INT_MAX}"]  # ids are 32-bit INTEGER columns too
    if field.type in ("int", "float", "bool", "ref"):
        # JSON's own types only: "10" is not a number, true is not 1 (issue 17).
        found.append("strict=True")
    return found


_TYPE_WORDS = {
    "string": "text",
    "text": "long text",
    "int": "whole number",
    "float": "number",
    "bool": "true or false",
    "date": "date, like 2030-01-02",
    "datetime": "date and time with a zone, like 2030-01-02T09:00:00Z",
    "email": "email address",
}


def _described(field: FieldSpec, ctx: dict[str, Any]) -> str:
    """The field in plain words, limits included, for FRONTEND.md."""
    kind = f"the id of a {ctx['target_label']}" if field.is_ref else _TYPE_WORDS[field.type]
    words = [kind, "required" if field.required else "optional (may be null)"]
    if field.type in ("string", "text", "email"):
        if field.min_length:
            words.append(f"at least {field.min_length} characters")
        if ctx["max_length"]:
            words.append(f"at most {ctx['max_length']} characters")
    if field.type == "int":
        low, high = _finite(field.min), _finite(field.max)
        low = _INT_MIN if low is None else max(math.ceil(low), _INT_MIN)
        high = _INT_MAX if high is None else min(math.floor(high), _INT_MAX)
        words.append(f"from {low} to {high}")
    if field.type == "float":
        if field.min is not None:
            words.append(f"at least {_number(field.min)}")
        if field.max is not None:
            words.append(f"at most {_number(field.max)}")
    if field.default is not None:
        words.append(f"default {json.dumps(field.default, ensure_ascii=False)}")
    return ", ".join(words)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _annotation(ctx: dict[str, Any]) -> str:
    return "EmailStr" if ctx["type"] == "email" else ctx["py_type"]


def _create_declaration(
    ctx: dict[str, Any], constraints: list[str], default: Any
) -> tuple[str, str]:
    """The annotation and the ` = Field(...)` part of the field in the create schema."""
    annotation = _annotation(ctx)
    args: list[str] = []
    if not ctx["required"]:
        annotation += " | None"
        args.append(f"default={default!r}")
    if ctx["alias_needed"]:
        args.append(f'alias="{ctx["name"]}"')
    args += constraints
    return annotation, f" = Field({', '.join(args)})" if args else ""


def _update_declaration(ctx: dict[str, Any], constraints: list[str]) -> str:
    """Every field is optional in an update; required ones refuse null (see the schema)."""
    annotation = _annotation(ctx) + " | None"
    args = ["default=None"]
    if ctx["alias_needed"]:
        args.append(f'alias="{ctx["name"]}"')
    args += constraints
    return f"{ctx['attr']}: {annotation} = Field({', '.join(args)})"


def _out_declaration(ctx: dict[str, Any], example: str) -> str:
    annotation = ctx["py_type"] + ("" if ctx["required"] else " | None")
    args = [f'serialization_alias="{ctx["name"]}"'] if ctx["alias_needed"] else []
    args.append(f"examples=[{example}]")
    return f"{ctx['attr']}: {annotation} = Field({', '.join(args)})"


def _samples(field: FieldSpec) -> tuple[Any, Any]:
    """A valid value for the field and a different valid value (for updates)."""
    kind = field.type
    if kind in ("string", "text"):
        low = field.min_length or 1
        high = field.max_length or 40
        return _text_between("Sample", low, high), _text_between("Changed", low, high)
    if kind == "email":
        return "person@example.com", "changed@example.com"
    if kind in ("int", "float"):
        lowest: float = field.min if field.min is not None else 1
        if field.min is None and field.max is not None:
            lowest = field.max - 10
        highest: float = field.max if field.max is not None else lowest + 10
        if kind == "int":
            lowest, highest = math.ceil(lowest), math.floor(highest)
        first = field.default if field.default is not None else lowest
        second = highest if highest != first else lowest
        cast = int if kind == "int" else float
        return cast(first), cast(second)
    if kind == "bool":
        return True, False
    if kind == "date":
        return "2030-01-02", "2030-02-03"
    if kind == "datetime":
        return "2030-01-02T09:00:00Z", "2030-02-03T10:30:00Z"
    return None, None  # references are filled in by the fixtures


def _text_between(word: str, low: int, high: int) -> str:
    text = word if len(word) >= low else word + "x" * (low - len(word))
    return text[:high]


def _sample_python(kind: str, sample: Any) -> str:
    """The sample as a Python expression, for inserting fixtures straight into the database."""
    if kind == "date":
        y, m, d = (int(p) for p in sample.split("-"))
        return f"date({y}, {m}, {d})"
    if kind == "datetime":
        day, time = sample.rstrip("Z").split("T")
        y, m, d = (int(p) for p in day.split("-"))
        hh, mm, _ = (int(p) for p in time.split(":"))
        return f"datetime({y}, {m}, {d}, {hh}, {mm}, tzinfo=UTC)"
    return _py_literal(sample)


def _invalid_examples(field: FieldSpec) -> list[dict[str, Any]]:
    """Values the server must reject with a 422 naming the field, and why."""
    bad: list[dict[str, Any]] = []
    if field.type in ("string", "text"):
        max_length = field.max_length or (
            _DEFAULT_STRING_LENGTH if field.type == "string" else None
        )
        if max_length is not None:
            bad.append(
                {"value": "x" * (max_length + 1), "why": f"longer than {max_length} characters"}
            )
        if field.min_length:
            bad.append(
                {"value": "x" * (field.min_length - 1), "why": f"shorter than {field.min_length}"}
            )
    if field.type in ("int", "float"):
        if field.min is not None:
            bad.append({"value": field.min - 1, "why": f"below the minimum {field.min}"})
        if field.max is not None:
            bad.append({"value": field.max + 1, "why": f"above the maximum {field.max}"})
        bad.append({"value": "many", "why": "not a number"})
    if field.type == "email":
        bad.append({"value": "not-an-email", "why": "not an email address"})
    if field.type in ("date", "datetime"):
        bad.append({"value": "someday", "why": "not a date"})
        # openapi.json says a string; pydantic alone reads a number as a Unix time (this one
        # is 2030-01-02 at midnight UTC, which it would take for a date too).
        bad.append({"value": 1893542400, "why": "a number, not a date written out"})
    for item in bad:
        value = item["value"]
        long_text = isinstance(value, str) and len(value) > 20 and set(value) == {"x"}
        item["value_py"] = f'"x" * {len(value)}' if long_text else _py_literal(value)
    return bad


# ---------------------------------------------------------------------------
# Permission rules compiled for the template
# ---------------------------------------------------------------------------


def _rule_context(
    spec: LaunchSpec, obj: ObjectSpec, class_name: str, fields: list[dict[str, Any]], rule: Rule
) -> dict[str, Any]:
    """A rule as the policy module needs it: who passes outright, and SQL for the rest (built
    once per module, with the caller as the bound parameter CALLER)."""
    by_name = {f["name"]: f for f in fields}
    grants = ["user.is_admin"]
    sql: list[str] = []
    for term in rule.terms:
        if term.kind == "role":
            grants.append(f'user.has_role("{term.arg}")')
        elif term.kind == "owner" and obj.owner_kind != "none":
            sql.append(f"{class_name}.owner_id == CALLER")
        elif term.kind == "owner_of":
            ref = by_name[term.arg or ""]
            lookup = owned_ids_function(ref["target_table"])
            sql.append(f'owner_of({class_name}.{ref["attr"]}, {ref["target_class"]}, "{lookup}")')
    return {
        "text": str(rule),
        "words": str(rule).replace(" | ", " or "),  # for Markdown tables, where | splits cells
        "public": rule.has("public"),
        "signed_in": rule.has("signed_in"),
        "grant": " or ".join(grants),
        "sql": sql,
    }


def _create_check(obj: ObjectSpec, rule: Rule) -> dict[str, Any]:
    """The create rule as a Python check on the payload's reference targets."""
    grants = ["user.is_admin"]
    checks: list[str] = []
    signed_in = rule.has("signed_in")
    for term in rule.terms:
        if term.kind == "role":
            grants.append(f'user.has_role("{term.arg}")')
        elif term.kind == "owner":
            if obj.owner_kind == "creator":
                signed_in = True
            elif obj.owner_kind == "parent":
                checks.append(f'parent_owners.get("{obj.owner_field}") == user.id')
        elif term.kind == "owner_of":
            checks.append(f'parent_owners.get("{term.arg}") == user.id')
    return {
        "text": str(rule),
        "public": rule.has("public"),
        "signed_in": signed_in,
        "grant": " or ".join(grants),
        "checks": sorted(set(checks), key=checks.index),
    }
