"""The spec's rules compiled to PostgreSQL row-level security (wizard/rls.py).

These check the compiled SQL's shape; the rendered projects' own
tests/test_row_level_security.py runs it on PostgreSQL against the permission matrix
(tests/test_rendered_projects.py runs those suites).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.blueprints import blueprint_context
from wizard.rls import identifier
from wizard.spec import load_spec

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def studio() -> dict:
    context = blueprint_context(load_spec(REPO / "examples" / "studio-booking.yaml"))
    return {obj["name"]: obj for obj in context["objects"]} | {"": context}


def policies(obj: dict) -> dict[str, dict]:
    return {policy["name"]: policy for policy in obj["rls_policies"]}


def test_each_term_is_a_permissive_policy_and_nobody_is_none(studio):
    booking = policies(studio["Booking"])
    # read: owner | owner_of(class) -> two SELECT policies, ORed by PostgreSQL
    assert booking["read_owner"]["using"] == "owner_id = (select rls_caller())"
    assert booking["read_owner_of_class"]["using"] == (
        '"class_id" = any((select rls_owned_classes())::integer[])'
    )
    assert {p["command"] for p in booking.values()} == {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "ALL",
    }
    assert booking["admin"]["command"] == "ALL"
    studio_policies = policies(studio["Studio"])
    assert studio_policies["read_public"]["using"] == "true"
    assert studio_policies["update_role_admin"]["using"] == "(select rls_has_role('admin'))"


def test_writes_are_checked_and_keep_the_owner(studio):
    booking = policies(studio["Booking"])
    assert booking["create_signed_in"]["check"] == (
        "((select rls_caller()) IS NOT NULL) AND (owner_id IS NOT DISTINCT FROM (select rls_caller()))"
    )
    klass = policies(studio["Class"])
    # create: owner_of(studio) on an object owned through its studio
    assert klass["create_owner_of_studio"]["check"] == (
        '("studio_id" = any((select rls_owned_studios())::integer[])) '
        'AND (owner_id IS NOT DISTINCT FROM rls_owner_studios("studio_id"))'
    )
    assert klass["update_owner"]["check"].startswith("(owner_id = (select rls_caller())) AND")


def test_lookups_are_security_definer_functions(studio):
    functions = {fn["signature"]: fn["sql"] for fn in studio[""]["rls_functions"]}
    assert set(functions) == {
        "rls_caller()",
        "rls_has_role(text)",
        "rls_owned_studios()",
        "rls_owner_studios(integer)",
        "rls_owned_classes()",
    }
    assert "STABLE SECURITY DEFINER" in functions["rls_has_role(text)"]
    assert "FROM users u WHERE u.id = rls_caller()" in functions["rls_has_role(text)"]
    # The policy that lets the lookups (and the owner's maintenance commands) through.
    lookup = policies(studio["Booking"])["owner_lookup"]
    assert lookup["to_owner"] and lookup["command"] == "SELECT"
    assert lookup["using"] == "current_setting('app.rls_lookup', true) = 'on'"


def test_long_names_stay_postgresql_identifiers():
    long = "rls_owned_" + "x" * 80
    cut = identifier(long)
    assert len(cut) == 63 and cut != identifier(long + "y")
    assert identifier("short") == "short"


def test_a_create_reads_back_its_own_new_row_and_no_other(studio):
    # While app.creating is on (the API's INSERT ... RETURNING), only the row whose id this
    # connection's sequence just gave; CASE keeps currval from running otherwise.
    returned = policies(studio["Booking"])["read_returned_by_create"]
    assert returned["command"] == "SELECT"
    assert returned["using"] == (
        "CASE WHEN current_setting('app.creating', true) = 'on' "
        "THEN id = currval(pg_get_serial_sequence('\"bookings\"', 'id')) ELSE false END"
    )
    # Read by everyone: RETURNING passes the read rule, no such policy.
    assert "read_returned_by_create" not in policies(studio["Studio"])


def test_a_rule_change_alone_gets_a_migration_that_rebuilds_the_policies(tmp_path):
    from wizard.migrations import plan_migration
    from wizard.spec.diff import diff_specs

    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "0002_sign_in.py").write_text('revision: str = "0002_sign_in"\n')
    old = load_spec(REPO / "bench" / "booking.yaml")
    changed = tmp_path / "booking.yaml"
    changed.write_text(
        (REPO / "bench" / "booking.yaml").read_text().replace("read: owner", "read: public")
    )
    new = load_spec(changed)
    migration = plan_migration(old, new, diff_specs(old, new), tmp_path)
    assert migration is not None
    assert migration.operations == [
        "row-level security rebuilt from the rules: 6 policies on 1 table (PostgreSQL)"
    ]
    upgrade, downgrade = migration.text.split("def downgrade() -> None:")
    # Old policies and functions go before any change, new ones come after, FORCEd.
    assert upgrade.index('DROP POLICY IF EXISTS read_owner ON "bookings"') < upgrade.index(
        "CREATE POLICY read_public"
    )
    assert 'ALTER TABLE "bookings" FORCE ROW LEVEL SECURITY' in upgrade
    assert "CREATE POLICY read_returned_by_create" not in upgrade  # now read by everyone
    assert "CREATE POLICY read_owner" in downgrade and "CREATE POLICY read_public" not in downgrade
    assert 'postgresql = op.get_bind().dialect.name == "postgresql"' in upgrade  # PostgreSQL only
    assert "import sqlalchemy" not in migration.text  # nothing else to do: ruff-clean
    compile(migration.text, "migration.py", "exec")
