"""Rendering the fastapi blueprint: the data it gets, the files it writes, and repeatability."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.blueprints import _openapi_key, blueprint_context, find_blueprint, render
from wizard.errors import BadInput
from wizard.spec import load_spec, parse_spec
from wizard.spec.matrix import actors_for, expect, expected_matrix

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
AWKWARD = REPO / "tests" / "blueprint_specs" / "awkward-names.yaml"


@pytest.fixture(scope="module")
def studio():
    return load_spec(REPO / "examples" / "studio-booking.yaml")


@pytest.fixture(scope="module")
def rendered_studio(studio, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("studio") / "studio-booking"
    render(studio, dest)
    return dest


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_find_blueprint(tmp_path):
    assert (find_blueprint("fastapi") / "copier.yml").is_file()
    with pytest.raises(BadInput, match="no blueprint called 'django'"):
        find_blueprint("django")


def test_one_module_per_object(rendered_studio):
    for package in ("models", "schemas", "policies", "api/routes"):
        for module in ("studio", "class_", "booking"):
            assert (rendered_studio / "app" / package / f"{module}.py").is_file()
    assert (rendered_studio / "alembic" / "versions" / "0001_initial.py").is_file()


def test_secrets_and_copier_metadata_are_not_rendered(rendered_studio):
    assert not (rendered_studio / ".env").exists()
    assert not (rendered_studio / ".copier-answers.yml").exists()
    assert not list(rendered_studio.rglob("*.jinja"))
    assert not (rendered_studio / ".ruff_cache").exists()
    ignored = (rendered_studio / ".gitignore").read_text().splitlines()
    assert {".env", "*.db", "backups/"} <= set(ignored)
    example = (rendered_studio / ".env.example").read_text()
    assert "SECRET_KEY=change-me" in example
    assert "CORS_ORIGINS=http://localhost:5173" in example


def test_rendering_is_byte_identical(studio, rendered_studio, tmp_path):
    again = tmp_path / "again"
    render(studio, again)
    assert tree_digest(again) == tree_digest(rendered_studio)


def test_rendering_does_not_depend_on_hash_seeds(tmp_path):
    digests = []
    for seed in ("1", "2"):
        dest = tmp_path / seed
        script = (
            "import sys; from pathlib import Path; from wizard.blueprints import render; "
            "from wizard.spec import load_spec; render(load_spec(Path(sys.argv[1])), Path(sys.argv[2]))"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(AWKWARD), str(dest)],
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=300,
        )
        digests.append(tree_digest(dest))
    assert digests[0] == digests[1]


def test_rendered_code_passes_ruff(rendered_studio):
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args],
            cwd=rendered_studio,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_founder_names_stay_in_the_api_and_safe_names_in_code(rendered_studio):
    schema = (rendered_studio / "app" / "schemas" / "booking.py").read_text()
    assert (
        'class_id: int = Field(alias="class", ge=1, le=2147483647, strict=True, examples=[1])'
        in schema
    )
    assert 'class_id: int = Field(serialization_alias="class", examples=[1])' in schema
    routes = (rendered_studio / "app" / "api" / "routes" / "class_.py").read_text()
    assert 'prefix="/api/classes"' in routes


def test_login_methods_decide_the_auth_routes(studio, tmp_path):
    magic_only = studio.model_copy(
        update={"login": studio.login.model_copy(update={"methods": ["magic_link"]})}
    )
    render(magic_only, tmp_path / "magic")
    routes = tmp_path / "magic" / "app" / "api" / "routes"
    assert (routes / "auth.py").is_file()
    assert not (routes / "email_password.py").exists()
    assert not (tmp_path / "magic" / "tests" / "test_email_password.py").exists()
    assert "email_password" not in (routes.parent / "main.py").read_text()


def test_context_compiles_rules_to_sql(studio):
    context = blueprint_context(studio)
    booking = next(obj for obj in context["objects"] if obj["name"] == "Booking")
    read = booking["rules"]["read"]
    assert read["text"] == "owner | owner_of(class)"
    assert read["sql"] == [
        "Booking.owner_id == CALLER",
        # On PostgreSQL through the policies' own lookup (a subquery on classes would be
        # filtered by the class's read rule: app/policies/shared.py owner_of).
        'owner_of(Booking.class_id, Class, "rls_owned_classes")',
    ]
    assert [t["name"] for t in context["tables"]] == ["Studio", "Class", "Booking"]
    klass = next(obj for obj in context["objects"] if obj["name"] == "Class")
    assert klass["create_check"]["checks"] == ['parent_owners.get("studio") == user.id']
    assert klass["owner_kind"] == "parent" and klass["owner_attr"] == "studio_id"


def test_context_is_plain_data(studio):
    import json

    context = blueprint_context(studio)
    assert json.loads(json.dumps(context)) == context


def test_keywords_become_safe_identifiers():
    context = blueprint_context(load_spec(AWKWARD))
    group = next(obj for obj in context["objects"] if obj["name"] == "Group")
    attrs = {f["name"]: f["attr"] for f in group["fields"]}
    assert attrs["class"] == "class_" and attrs["from"] == "from_" and attrs["type"] == "type_"
    assert attrs["metadata"] == "metadata_"  # SQLAlchemy's declarative attribute
    assert attrs["select"] == "select"  # not a Python name; SQLAlchemy quotes it


# --- the expected permission matrix ------------------------------------------------


def test_matrix_covers_every_object_actor_and_action(studio):
    matrix = expected_matrix(studio)
    assert len(matrix) == sum(len(actors_for(studio, name)) * 5 for name in studio.objects)
    assert actors_for(studio, "Booking") == [
        "anonymous",
        "owner",
        "other",
        "role:staff",
        "parent_owner",
        "admin",
    ]
    assert "parent_owner" not in actors_for(studio, "Class")  # its only ref decides ownership


@pytest.mark.parametrize(
    ("object_name", "actor", "action", "outcome"),
    [
        ("Studio", "anonymous", "list", "allowed"),
        ("Studio", "owner", "update", "allowed"),
        ("Studio", "owner", "delete", "forbidden"),
        ("Studio", "other", "create", "forbidden"),
        ("Class", "owner", "create", "allowed"),  # owner_of(studio): owner owns the studio
        ("Class", "other", "update", "forbidden"),
        ("Booking", "anonymous", "list", "not_signed_in"),
        ("Booking", "other", "list", "hidden"),
        ("Booking", "other", "get", "not_found"),
        ("Booking", "other", "update", "not_found"),
        ("Booking", "other", "create", "allowed"),  # signed_in
        ("Booking", "parent_owner", "get", "allowed"),  # owner_of(class)
        ("Booking", "parent_owner", "update", "forbidden"),  # update: owner
        ("Booking", "parent_owner", "delete", "allowed"),
        ("Booking", "role:staff", "get", "not_found"),
        ("Booking", "admin", "delete", "allowed"),
    ],
)
def test_matrix_cells(studio, object_name, actor, action, outcome):
    assert expect(studio, object_name, actor, action).outcome == outcome


def test_matrix_unreadable_reference_on_create_is_422():
    spec = parse_spec(
        """
app: {name: notes, title: Notes}
objects:
  Notebook:
    permissions: {read: owner, create: signed_in}
  Note:
    fields: {notebook: {type: ref, to: Notebook, required: true}}
    permissions: {read: owner, create: signed_in}
"""
    )
    assert expect(spec, "Note", "other", "create").outcome == "invalid_ref"
    assert expect(spec, "Note", "other", "create").status == 422
    assert expect(spec, "Note", "parent_owner", "create").outcome == "allowed"


def test_matrix_owner_none_means_nobody_owns():
    spec = parse_spec(
        """
app: {name: cms, title: CMS}
roles: [editor]
objects:
  Page:
    owner: none
    fields: {title: string}
    permissions: {read: public, create: owner, update: owner | role:editor}
"""
    )
    assert expect(spec, "Page", "owner", "update").outcome == "forbidden"
    assert expect(spec, "Page", "owner", "create").outcome == "forbidden"
    assert expect(spec, "Page", "role:editor", "update").outcome == "allowed"
    assert expect(spec, "Page", "admin", "create").outcome == "allowed"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_has_a_context(example):
    context = blueprint_context(load_spec(example))
    assert context["matrix"]


def test_admin_listed_among_the_roles_is_not_a_separate_actor():
    spec = parse_spec(
        """
app: {name: roles, title: Roles}
roles: [admin, staff]
objects:
  Thing:
    fields: {name: string}
    permissions: {read: role:staff}
"""
    )
    assert actors_for(spec, "Thing") == ["anonymous", "owner", "other", "role:staff", "admin"]
    assert blueprint_context(spec)["roles"] == ["staff"]


def test_the_project_commits_its_openapi_document(rendered_studio):
    """The frontend kit's contract: readable operation ids, a tag per object, one error body."""
    document = json.loads((rendered_studio / "openapi.json").read_text(encoding="utf-8"))
    bookings = document["paths"]["/api/bookings"]
    assert bookings["get"]["operationId"] == "listBookings"
    assert bookings["post"]["operationId"] == "createBooking"
    assert document["paths"]["/auth/login"]["post"]["operationId"] == "login"
    assert bookings["post"]["tags"] == ["bookings"]
    problem = {"$ref": "#/components/schemas/Problem"}
    refusals = document["paths"]["/api/bookings/{record_id}"]["patch"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(refusals)
    assert all(
        r["content"]["application/json"]["schema"] == problem
        for s, r in refusals.items()
        if s >= "4"
    )


def test_a_cached_openapi_document_is_the_one_the_app_would_write(studio, tmp_path, monkeypatch):
    """The document comes from importing the rendered app (seconds), so it is cached by the
    app's code: a warm render gives the same bytes as a cold one, and edited code misses."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    cold, warm = tmp_path / "cold", tmp_path / "warm"
    render(studio, cold)
    entries = list((cache / "shipyard" / "openapi").iterdir())
    assert [entry.name for entry in entries] == [_openapi_key(cold)]
    assert sorted(p.name for p in entries[0].iterdir()) == ["api.ts", "openapi.json"]
    render(studio, warm)
    assert tree_digest(warm) == tree_digest(cold)
    contract = warm / "app" / "api" / "contract.py"
    contract.write_text(contract.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _openapi_key(warm) != entries[0].name
