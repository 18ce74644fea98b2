"""The launch spec: models, rule language, naming and YAML round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.errors import SpecError
from wizard.spec import dump_spec, load_spec, naming, parse_rule, parse_spec
from wizard.spec.rules import Rule, Term

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
DESIGN = ROOT.parent / "shared" / "design.md"


def design_doc_example() -> str:
    return DESIGN.read_text(encoding="utf-8").split("```yaml\n")[1].split("```")[0]


def test_bundled_studio_example_is_the_design_docs_example_unchanged() -> None:
    if not DESIGN.exists():
        pytest.skip("shared/design.md is not beside this checkout")
    assert (ROOT / "examples" / "studio-booking.yaml").read_text() == design_doc_example()


def test_design_doc_example_loads_as_written() -> None:
    spec = load_spec(ROOT / "examples" / "studio-booking.yaml")
    assert spec.app.name == "studio-booking"
    assert list(spec.objects) == ["Studio", "Class", "Booking"]
    assert spec.login.methods == ["email_password", "magic_link"]
    assert spec.all_roles == ["admin", "staff"]
    studio_class = spec.objects["Class"]
    assert studio_class.owner_kind == "parent" and studio_class.owner_field == "studio"
    assert (
        studio_class.fields["capacity"].min == 1 and studio_class.fields["capacity"].default == 12
    )
    assert spec.objects["Studio"].fields["city"].type == "string"
    booking = spec.objects["Booking"]
    assert booking.permissions.rule("read") == Rule((Term("owner"), Term("owner_of", "class")))
    assert str(booking.permissions.rule("delete")) == "owner | owner_of(class)"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_round_trip_through_yaml(path: Path) -> None:
    spec = load_spec(path)
    text = dump_spec(spec)
    assert parse_spec(text) == spec
    assert dump_spec(parse_spec(text)) == text


def test_missing_permission_means_nobody() -> None:
    spec = parse_spec("app: {name: a, title: A}\nobjects:\n  Note:\n    fields: {title: string}\n")
    permissions = spec.objects["Note"].permissions
    assert all(rule.is_nobody for _, rule in permissions.items())
    assert spec.objects["Note"].owner_kind == "creator"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("public", "public"),
        ("owner|role:admin", "owner | role:admin"),
        ("  owner_of( studio ) | signed_in ", "owner_of(studio) | signed_in"),
        ("owner | owner", "owner"),
        ("nobody", "nobody"),
    ],
)
def test_rules_parse_to_canonical_text(text: str, canonical: str) -> None:
    assert str(parse_rule(text)) == canonical


def test_nobody_has_no_terms() -> None:
    assert parse_rule("nobody").is_nobody
    assert not parse_rule("public").is_nobody


@pytest.mark.parametrize(
    "text", ["", "anyone", "owner |", "role:", "owner_of()", "nobody | public", "role:a b"]
)
def test_bad_rules_are_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        parse_rule(text)


def test_problems_name_file_line_and_field() -> None:
    text = (
        "app: {name: a, title: A}\n"
        "roles: [staff]\n"
        "objects:\n"
        "  Note:\n"
        "    fields: {title: string}\n"
        "    permissions:\n"
        "      read: role:editor\n"
        "      update: owner_of(title)\n"
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "my.yaml")
    problems = {(p.line, p.field) for p in caught.value.problems}
    assert problems == {
        (7, "objects.Note.permissions.read"),
        (8, "objects.Note.permissions.update"),
    }
    assert "my.yaml, line 7: objects.Note.permissions.read: role 'editor' is not defined" in str(
        caught.value
    )


def test_every_problem_is_reported_at_once() -> None:
    text = "app: {name: Bad Name, title: ''}\nobjects:\n  note: {}\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize(
    ("name", "route", "table", "cls", "module"),
    [
        ("Booking", "bookings", "bookings", "Booking", "booking"),
        ("StudioClass", "studio-classes", "studio_classes", "StudioClass", "studio_class"),
        ("Class", "classes", "classes", "Class", "class_"),
        ("Order", "orders", "orders", "Order", "order"),
        ("Group", "groups", "groups", "Group", "group"),
        ("TimeEntry", "time-entries", "time_entries", "TimeEntry", "time_entry"),
        ("User", "users", "app_users", "UserRecord", "user"),
    ],
)
def test_object_names_map_to_safe_identifiers(
    name: str, route: str, table: str, cls: str, module: str
) -> None:
    assert naming.route_name(name) == route
    assert naming.table_name(name) == table
    assert naming.class_name(name) == cls
    assert naming.module_name(name) == module


@pytest.mark.parametrize(
    ("field", "attr"),
    [
        ("from", "from_"),
        ("type", "type_"),
        ("select", "select"),
        ("default", "default"),
        ("class", "class_"),
        ("startsAt", "starts_at"),
        ("metadata", "metadata_"),
        ("city", "city"),
    ],
)
def test_field_names_map_to_safe_attributes(field: str, attr: str) -> None:
    assert naming.py_identifier(field) == attr
    assert attr.isidentifier()


def test_keyword_names_are_ordinary_choices() -> None:
    spec = load_spec(ROOT / "examples" / "club-house.yaml")
    assert set(spec.objects) == {"Group", "Class", "Order"}
    assert {"from", "to", "select"} <= set(spec.objects["Class"].fields)
    assert naming.column_name("class", is_ref=True) == "class_id"


# --- required references in a circle ----------------------------------------------------------

CIRCLE_SPEC = """\
app: {name: loop, title: Loop}
objects:
  Start:
    fields:
      a: {type: ref, to: A, required: true}
  A:
    fields:
      note: string
      b: {type: ref, to: B, required: true}
  B:
    fields:
      a: {type: ref, to: A, required: true}
"""


def test_required_references_in_a_circle_are_refused_naming_the_circle() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(CIRCLE_SPEC, "loop.yaml")
    (problem,) = caught.value.problems
    # Start leads into the circle but is not part of it; A is written first of the two.
    assert (problem.line, problem.field) == (9, "objects.A.fields.b")
    assert "(A.b -> B.a -> A)" in problem.message
    assert "no A or B could ever be created" in problem.message
    assert "make one of these references optional" in problem.message
    assert caught.value.exit_code == 2


def test_a_required_reference_to_its_own_object_is_a_circle() -> None:
    text = "app: {name: t, title: T}\nobjects:\n  Category:\n    fields:\n      up: {type: ref, to: Category, required: true}\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (5, "objects.Category.fields.up")
    assert "(Category.up -> Category)" in problem.message
    assert "make 'up' optional" in problem.message


def test_each_circle_is_reported_once() -> None:
    second = "  C:\n    fields:\n      d: {type: ref, to: D, required: true}\n  D:\n    fields:\n      c: {type: ref, to: C, required: true}\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(CIRCLE_SPEC + second)
    circles = [p.field for p in caught.value.problems if "circle" in p.message]
    assert circles == ["objects.A.fields.b", "objects.C.fields.d"]


@pytest.mark.parametrize(
    "reference", ["b: {type: ref, to: B, required: true}", "a: {type: ref, to: A, required: true}"]
)
def test_one_optional_reference_breaks_the_circle(reference: str) -> None:
    assert reference in CIRCLE_SPEC
    spec = parse_spec(CIRCLE_SPEC.replace(reference, reference.replace(", required: true", "")))
    assert list(spec.objects) == ["Start", "A", "B"]


@pytest.mark.parametrize(
    ("word", "phrase"),
    [
        ("AppointmentRequest", "an AppointmentRequest"),
        ("Order", "an Order"),
        ("Item", "an Item"),
        ("Booking", "a Booking"),
        ("User", "a User"),
        ("Unit", "a Unit"),
        ("Usage", "a Usage"),
        ("Upload", "an Upload"),
        ("int", "an int"),
        ("email", "an email"),
        ("ref", "a ref"),
    ],
)
def test_articles_read_as_english(word: str, phrase: str) -> None:
    assert naming.with_article(word) == phrase


def test_a_name_with_a_space_suggests_one_that_works() -> None:
    from wizard.spec.validate import name_problem

    assert "try TherapistProfile" in (name_problem("Therapist Profile", "object") or "")
    assert "try therapist_profile" in (name_problem("therapist profile", "field") or "")
    # Nothing to suggest when no spelling of it would do.
    assert "try" not in (name_problem("2nd", "object") or "")


ORIGIN_SPEC = "app: {name: a, title: A}\nobjects:\n  Note:\n    fields: {title: string}\nfrontend:\n  origins: [%s]\n"


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("https://theramatch.lovable.app/", "https://theramatch.lovable.app"),
        ("HTTPS://TheraMatch.Lovable.App", "https://theramatch.lovable.app"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("http://localhost:5173", "http://localhost:5173"),
    ],
)
def test_origins_are_kept_as_browsers_send_them(typed: str, origin: str) -> None:
    """An address copied from the browser bar ends in "/"; the Origin header never does."""
    spec = parse_spec(ORIGIN_SPEC % typed)
    assert spec.frontend.origins == [origin]
    assert f"origins: ['{origin}']" in dump_spec(spec)


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("https://theramatch.lovable.app/login", "has a path; browsers send only the origin"),
        ("theramatch.lovable.app", "is not an origin; write scheme, host and port only"),
        ("https://me:pw@app.example.com", "has a user name or password"),
    ],
)
def test_an_address_that_is_not_an_origin_is_refused_with_the_fix(
    typed: str, sentence: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(ORIGIN_SPEC % typed, "shipyard.yaml")
    message = str(caught.value)
    assert sentence in message and "frontend.origins" in message, message
    if "/login" in typed:
        assert "write https://theramatch.lovable.app" in message


def test_lovable_previews_are_asked_for_in_the_spec_and_absent_otherwise() -> None:
    """Deny by default: only `frontend: {lovable_previews: true}` lets Lovable's preview
    addresses in (the blueprint's tests cover what the API then allows); a spec that does
    not ask is written exactly as before."""
    plain = parse_spec(ORIGIN_SPEC % "https://theramatch.lovable.app")
    assert plain.frontend.lovable_previews is False
    assert "lovable_previews" not in dump_spec(plain)
    opted = parse_spec(
        ORIGIN_SPEC % "https://theramatch.lovable.app" + "  lovable_previews: true\n"
    )
    assert opted.frontend.lovable_previews is True
    assert parse_spec(dump_spec(opted)) == opted
    with pytest.raises(SpecError):
        parse_spec(ORIGIN_SPEC % "https://theramatch.lovable.app" + "  lovable_previews: maybe\n")


def test_saving_a_changed_spec_keeps_the_founders_comments_order_and_quoting(tmp_path):
    """`shipyard edit` and `connect` save through ruamel.yaml's round trip: only what changed
    is rewritten (issue 14: dump_spec dropped all 8 comments of the studio example)."""
    import re

    from wizard.spec.roundtrip import save_spec

    original = (ROOT / "examples" / "studio-booking.yaml").read_text(encoding="utf-8")
    path = tmp_path / "shipyard.yaml"
    path.write_text(original, encoding="utf-8")
    spec = load_spec(path)
    changed = spec.model_copy(deep=True)
    studio = changed.objects["Studio"]
    studio.fields["phone"] = type(studio.fields["city"])(type="string", max_length=30)
    changed.app.title = "Studio Booking Pro"
    del changed.objects["Booking"]
    changed.frontend.origins.append("http://localhost:3000")

    save_spec(path, changed)

    text = path.read_text(encoding="utf-8")
    assert load_spec(path) == changed
    comments = [line.split("#", 1)[1] for line in original.splitlines() if "#" in line]
    assert len(comments) == 8
    for comment in comments:
        assert comment in text
    assert "      phone: {type: string, max_length: 30}\n" in text
    assert '["http://localhost:5173", http://localhost:3000]' in text
    keys = re.findall(r"^(\w+):", text, flags=re.M)
    assert keys == [k for k in re.findall(r"^(\w+):", original, flags=re.M)]
    unchanged = original.split("  Booking:\n")[0].replace(
        "      city: string\n", "      city: string\n      phone: {type: string, max_length: 30}\n"
    )
    assert text.startswith(unchanged.replace("Studio Booking\n", "Studio Booking Pro\n", 1))


def test_a_spec_file_that_is_not_a_mapping_is_written_afresh(tmp_path):
    from wizard.spec import dump_spec
    from wizard.spec.roundtrip import save_spec

    spec = load_spec(ROOT / "examples" / "studio-booking.yaml")
    path = tmp_path / "shipyard.yaml"
    path.write_text("- just a list\n", encoding="utf-8")
    save_spec(path, spec)
    assert path.read_text(encoding="utf-8") == dump_spec(spec)
