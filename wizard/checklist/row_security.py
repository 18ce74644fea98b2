"""Live checks of what PostgreSQL itself enforces on staging: row-level security and the API's role.

The rendered app reads its database's catalog (`python -m app row-security`, run
inside staging like create-admin); these checks compare that with the policies Shipyard
compiles from the spec's rules (wizard/rls.py). On SQLite (local staging) there is no
row-level security: the API's checks are the only ones, and the checks say so.
"""

from __future__ import annotations

from typing import Any

from wizard.checklist.context import CheckContext, check
from wizard.checklist.results import Finding, Outcome, Skip
from wizard.spec import LaunchSpec

SQLITE_NOTE = (
    "staging runs on SQLite, which has no row-level security: there the API's checks are "
    "the only ones (Docker staging and production use PostgreSQL)"
)


def expected_policies(spec: LaunchSpec) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each object table: its object's name and the (policy, command) pairs its rules compile to."""
    from wizard.blueprints import blueprint_context

    context = blueprint_context(spec)
    return {
        obj["table"]: (
            obj["name"],
            [(policy["name"], policy["command"]) for policy in obj["rls_policies"]],
        )
        for obj in context["objects"]
    }


def catalog(ctx: CheckContext) -> dict[str, Any]:
    """The staging database's answer, read once per run."""
    if "row_security" in ctx.cache:
        return ctx.cache["row_security"]
    project = ctx.need_project()
    ctx.need_url()
    target = ctx.cache.get("staging_target")
    if ctx.url_given or not target:
        raise Skip("the database is read inside Shipyard's own staging; --url gives only the API")
    from wizard.checklist import admin

    argv = ["python", "-m", "app", "row-security"]
    output = (
        admin._run_local(project, argv) if target == "local" else admin._run_docker(project, argv)
    )
    answer = admin.json_answer(output, "python -m app row-security")
    if not isinstance(answer, dict):
        raise Skip("the staging app could not read its database's catalog")
    ctx.cache["row_security"] = answer
    return answer


def table_findings(spec: LaunchSpec, report: dict[str, Any], *, forced: bool) -> list[Finding]:
    """With `forced`: every object table has row-level security on and FORCEd. Without:
    it has a policy for each term of each rule, and none the rules do not give."""
    tables = report.get("tables", {})
    findings = []
    for table, (object_name, expected) in expected_policies(spec).items():
        actual = tables.get(table)
        if actual is None:
            findings.append(Finding(f"the table {table} is missing", object=object_name))
            continue
        if forced:
            if not actual["enabled"]:
                findings.append(
                    Finding(
                        f"{table}: row-level security is off, so every query sees every row",
                        object=object_name,
                        expected="ENABLE ROW LEVEL SECURITY",
                    )
                )
            elif not actual["forced"]:
                findings.append(
                    Finding(
                        f"{table}: row-level security is not FORCEd, so the tables' owner "
                        "(migrations, scripts) skips the policies",
                        object=object_name,
                        expected="FORCE ROW LEVEL SECURITY",
                    )
                )
            continue
        present = {(p["name"], p["command"]) for p in actual["policies"]}
        for name, command in expected:
            if (name, command) not in present:
                action = name.split("_", 1)[0]
                findings.append(
                    Finding(
                        f"{table}: the policy {name} (FOR {command}) that the rules give is "
                        "missing, so the database refuses what the API allows",
                        object=object_name,
                        action=action if action in ("read", "create", "update", "delete") else None,
                        expected=f"{name} FOR {command}",
                    )
                )
        for name, command in sorted(present - set(expected)):
            findings.append(
                Finding(
                    f"{table}: the policy {name} (FOR {command}) is not from the rules and may "
                    "let the API's role see or change more than they allow",
                    object=object_name,
                    actual=f"{name} FOR {command}",
                )
            )
    return findings


def role_findings(report: dict[str, Any]) -> list[Finding]:
    """The API's role owns nothing and cannot skip the policies."""
    role = report.get("api_role", {})
    name = role.get("name", "?")
    findings = []
    if not role.get("own_url"):
        findings.append(
            Finding(
                "the API connects with DATABASE_URL, as the tables' owner: set API_DATABASE_URL "
                "to a role of its own",
                expected="API_DATABASE_URL",
            )
        )
    if role.get("superuser"):
        findings.append(Finding(f"the API's role {name} is a superuser: it skips every policy"))
    if role.get("bypassrls"):
        findings.append(
            Finding(
                f"the API's role {name} has BYPASSRLS: it skips every policy", actual="BYPASSRLS"
            )
        )
    if role.get("owns_tables"):
        findings.append(
            Finding(
                f"the API's role {name} owns {role['owns_tables']} table(s): an owner can turn "
                "their row-level security off"
            )
        )
    return findings


@check("live.row_level_security_forced")
def row_level_security_forced(ctx: CheckContext) -> Outcome:
    """Every object table has row-level security on and FORCEd."""
    report = catalog(ctx)
    if report.get("database") == "sqlite":
        return Outcome.of([], SQLITE_NOTE)
    spec = ctx.need_spec()
    findings = table_findings(spec, report, forced=True)
    return Outcome.of(findings, f"{len(spec.objects)} object table(s) on PostgreSQL")


@check("live.row_level_security_policies")
def row_level_security_policies(ctx: CheckContext) -> Outcome:
    """Each object table has a policy for every term of every rule, and no other."""
    report = catalog(ctx)
    if report.get("database") == "sqlite":
        return Outcome.of([], SQLITE_NOTE)
    spec = ctx.need_spec()
    expected = sum(len(policies) for _, policies in expected_policies(spec).values())
    return Outcome.of(
        table_findings(spec, report, forced=False), f"{expected} policies read from the catalog"
    )


@check("live.api_database_role")
def api_database_role(ctx: CheckContext) -> Outcome:
    """The API connects as a role that owns nothing and cannot bypass row-level security."""
    report = catalog(ctx)
    if report.get("database") == "sqlite":
        return Outcome.of([], SQLITE_NOTE)
    role = report.get("api_role", {})
    return Outcome.of(role_findings(report), f"the API connects as {role.get('name', '?')}")
