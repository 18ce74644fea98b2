"""Checks of the launch spec alone: names, ownership, a rule for every action, public writes, roles."""

from __future__ import annotations

from collections.abc import Iterator

from wizard.checklist.context import CheckContext, check
from wizard.checklist.results import Finding, Outcome
from wizard.spec import ACTIONS, LaunchSpec, validate

WRITE_ACTIONS = ("create", "update", "delete")


def _validation(ctx: CheckContext, *prefixes: tuple[str, ...]) -> Outcome:
    """The spec validator's problems under the given key paths (none once the spec loaded)."""
    spec = ctx.need_spec()
    findings = []
    for path, message in validate.check(spec):
        if any(tuple(path[: len(prefix)]) == prefix for prefix in prefixes):
            dotted = ".".join(str(part) for part in path)
            obj = str(path[1]) if len(path) > 1 and path[0] == "objects" else None
            findings.append(Finding(f"{dotted}: {message}", object=obj))
    return Outcome.of(findings)


@check("spec.app_title")
def app_title(ctx: CheckContext) -> Outcome:
    return _validation(ctx, ("app", "title"))


@check("spec.app_name")
def app_name(ctx: CheckContext) -> Outcome:
    return _validation(ctx, ("app", "name"))


@check("spec.role_names")
def role_names(ctx: CheckContext) -> Outcome:
    return _validation(ctx, ("roles",))


@check("spec.field_names")
def field_names(ctx: CheckContext) -> Outcome:
    return _validation(ctx, ("objects",))


@check("spec.login_methods")
def login_methods(ctx: CheckContext) -> Outcome:
    outcome = _validation(ctx, ("login",))
    if not ctx.need_spec().login.methods:
        outcome.findings.append(Finding("no login method is selected, so nobody can sign in"))
    return outcome


@check("spec.objects_present")
def objects_present(ctx: CheckContext) -> Outcome:
    spec = ctx.need_spec()
    if not spec.objects:
        return Outcome.of([Finding("the spec has no objects, so the API stores nothing")])
    return Outcome.of([], f"{len(spec.objects)} objects")


@check("spec.cors_origins")
def cors_origins(ctx: CheckContext) -> Outcome:
    spec = ctx.need_spec()
    outcome = _validation(ctx, ("frontend",))
    for origin in spec.frontend.origins:
        if origin.strip() == "*":
            outcome.findings.append(
                Finding("frontend.origins lists '*': any website could use your users' sessions")
            )
    return outcome


@check("spec.text_limits")
def text_limits(ctx: CheckContext) -> Outcome:
    """Long-text fields have a maximum length, so nobody can store megabytes in one record."""
    spec = ctx.need_spec()
    findings = [
        Finding(
            f"{name}.{field_name} is text without max_length: anyone allowed to write it can "
            "store huge values",
            object=name,
        )
        for name, obj in spec.objects.items()
        for field_name, field in obj.fields.items()
        if field.type == "text" and field.max_length is None
    ]
    return Outcome.of(findings)


@check("spec.sms_cost")
def sms_cost(ctx: CheckContext) -> Outcome:
    spec = ctx.need_spec()
    if "phone_otp" not in spec.login.methods:
        return Outcome.of([], "phone_otp is not used")
    return Outcome.of([Finding("phone_otp is on: every code sent by text message costs money")])


@check("spec.ownership_defined")
def ownership(ctx: CheckContext) -> Outcome:
    """Every object says who owns its records (creator, a parent, or none)."""
    spec = ctx.need_spec()
    findings = [
        Finding(
            f"{name} does not say who owns its records (owner:); Shipyard assumes the person "
            "who created each one",
            object=name,
        )
        for name, obj in spec.objects.items()
        if "owner" not in obj.model_fields_set
    ]
    return Outcome.of(findings, f"{len(spec.objects)} objects")


@check("spec.every_action_has_rule")
def explicit_rules(ctx: CheckContext) -> Outcome:
    """Every action of every object has a rule, or an explicit `nobody`."""
    spec = ctx.need_spec()
    findings = [
        Finding(
            f"{name} has no rule for {action}, so only admins may {action} it; write "
            f"'{action}: nobody' if that is what you want",
            object=name,
            action=action,
        )
        for name, obj in spec.objects.items()
        for action in ACTIONS
        if getattr(obj.permissions, action) is None
    ]
    return Outcome.of(findings, f"{len(spec.objects) * len(ACTIONS)} rules")


def _public(spec: LaunchSpec, actions: tuple[str, ...]) -> Iterator[Finding]:
    for name, obj in spec.objects.items():
        for action in actions:
            rule = obj.permissions.rule(action)
            if rule.has("public"):
                yield Finding(
                    f"anyone on the internet, without signing in, may {action} {name} records",
                    object=name,
                    action=action,
                    expected="signed_in, owner or a role",
                    actual=str(rule),
                )


@check("spec.public_writes")
def public_writes(ctx: CheckContext) -> Outcome:
    """Creating, changing or deleting records without signing in is flagged."""
    return Outcome.of(_public(ctx.need_spec(), WRITE_ACTIONS))


@check("spec.roles_used")
def roles_used(ctx: CheckContext) -> Outcome:
    """Every role a rule names can be granted, and every listed role is used by some rule."""
    spec = ctx.need_spec()
    grantable = set(spec.all_roles)
    used: dict[str, list[tuple[str, str]]] = {}
    for name, obj in spec.objects.items():
        for action in ACTIONS:
            for role in obj.permissions.rule(action).roles:
                used.setdefault(role, []).append((name, action))
    findings = [
        Finding(
            f"the {role} role is used by {name}.{action} but is not listed under roles:, so "
            "nobody can ever be given it",
            object=name,
            action=action,
        )
        for role, places in used.items()
        if role not in grantable
        for name, action in places
    ]
    findings += [
        Finding(f"the {role} role is listed but no rule uses it: holders get nothing extra")
        for role in spec.roles
        if role not in used
    ]
    return Outcome.of(findings, f"roles used by rules: {', '.join(sorted(used)) or 'none'}")
