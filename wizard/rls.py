"""The spec's permission rules compiled to PostgreSQL row-level security.

The same rule model the API's policy modules are compiled from (wizard/spec/rules.py,
wizard/blueprints.py), turned into SQL the initial migration runs on PostgreSQL: every
object table gets ``ENABLE`` and ``FORCE`` row-level security (the owner obeys the policies
too), one permissive policy per term of each action's rule (``|`` is the OR of permissive
policies; ``nobody`` is no policy at all), and one policy of its own for the admin's powers.
The API connects as a role of its own that owns nothing and cannot bypass them. SQLite
keeps API-only enforcement.

The caller is a transaction-local setting, ``app.user_id`` (set with
``set_config('app.user_id', '42', true)``); unset or empty means anonymous. Each term:

``public``         ``true``
``signed_in``      the caller is set
``owner``          ``owner_id = caller`` (owner_id is kept on inherited-ownership records
                   too, the way the API's rules use it; ``owner: none`` objects: no policy)
``owner_of(f)``    ``f_id = any((select <the ids the caller owns there>)::integer[])``: fast
                   form; ``IN (subquery)`` and a correlated ``EXISTS`` are 13-70x slower
``role:x``         ``rls_has_role('x')``, a STABLE SECURITY DEFINER function reading the
                   caller's roles from the users table, never claims in a token

Inserts and updates carry WITH CHECK: the new row must pass the same term (for inserts,
the create rule as the API reads it: ``owner`` on a creator-owned object means signed in,
on an inherited one ``owner_of`` the ownership field) and keep its owner right: a
creator-owned record belongs to its creator, an inherited one to the owner of the record
its ownership field points to, an ``owner: none`` one to nobody. So no one writes a row
they could not have created, or gives it another owner.

The ids a caller owns and the owner of one parent record come from SECURITY DEFINER
functions, never from a subquery in the policy: a policy that reads a table whose own
policies read it back is PostgreSQL's "infinite recursion detected in policy", and a
subquery would also apply the parent's read rule, which the API's ``owner_of`` does not.
Those functions run as the tables' owner with ``app.rls_lookup`` on; one SELECT policy per
table, for the owner role only, lets exactly them through, since ``FORCE`` applies the
policies to the owner as well. Maintenance commands run as the owner set it on purpose
(``python -m app count``, which ``shipyard update`` asks before dropping data); a script
that forgets still sees nothing.

A create answers with its new record (INSERT ... RETURNING), which PostgreSQL checks
against the read policies too, and a rule may let someone create what they may not read:
tables whose read rule is not public have one more SELECT policy, for
``app.creating``, which the API sets only in the transaction of that one INSERT, and which
lets through only the row with the id the sequence just gave this connection: the new row,
never one that was there before.

Every column a policy filters on is indexed by the initial migration: ``owner_id`` leads
``ix_<table>_owner_id_created_at_id`` and every reference column has its own index.
"""

from __future__ import annotations

import hashlib
from typing import Any

from wizard.spec.models import LaunchSpec
from wizard.spec.rules import Rule, Term

CALLER_SETTING = "app.user_id"
LOOKUP_SETTING = "app.rls_lookup"
CREATING_SETTING = "app.creating"
CALLER = "(select rls_caller())"
_MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1

# The functions every policy shares; the per-table lookups are added by `functions`.
_SHARED_FUNCTIONS = [
    {
        "signature": "rls_caller()",
        "sql": (
            "CREATE FUNCTION rls_caller() RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS "
            f"$$ SELECT nullif(current_setting('{CALLER_SETTING}', true), '')::integer $$"
        ),
    },
    {
        "signature": "rls_has_role(text)",
        "sql": (
            "CREATE FUNCTION rls_has_role(role_name text) RETURNS boolean "
            "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS "
            "$$ SELECT coalesce((SELECT u.roles::jsonb @> jsonb_build_array(role_name) "
            "FROM users u WHERE u.id = rls_caller()), false) $$"
        ),
    },
]


def identifier(name: str) -> str:
    """`name` as a PostgreSQL identifier of at most 63 bytes, still unique when cut."""
    if len(name.encode()) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name.encode()[: _MAX_IDENTIFIER - 9].decode(errors="ignore") + "_" + digest


def owned_ids_function(table: str) -> str:
    return identifier(f"rls_owned_{table}")


def owner_function(table: str) -> str:
    return identifier(f"rls_owner_{table}")


def compile_policies(
    spec: LaunchSpec, objects: list[dict[str, Any]]
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, str]]]:
    """Each object's policies (by object name) and every function they call, in creation order.

    `objects` are the blueprint's object contexts (wizard/blueprints.py): names, tables,
    reference attributes and ownership, already made safe and unique.
    """
    by_name = {obj["name"]: obj for obj in objects}
    owned: set[str] = set()  # tables whose caller-owned ids a policy needs
    owner_of: set[str] = set()  # tables whose single-record owner a check needs
    policies: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        spec_obj = spec.objects[obj["name"]]
        refs = {ref["name"]: ref for ref in obj["refs"]}
        keep_owner = _owner_condition(obj, by_name, owner_of)
        rows: list[dict[str, Any]] = []
        read = spec_obj.permissions.rule("read")
        for action in ("read", "create", "update", "delete"):
            rule: Rule = spec_obj.permissions.rule(action)
            for term in rule.terms:
                condition = _term_sql(obj, refs, by_name, term, owned, create=action == "create")
                if condition is None:
                    continue
                name = identifier(f"{action}_{_term_name(term)}")
                if action == "read":
                    rows.append(_policy(name, "SELECT", using=condition))
                elif action == "create":
                    rows.append(_policy(name, "INSERT", check=_and(condition, keep_owner)))
                elif action == "update":
                    check = _and(condition, keep_owner if obj["owner_kind"] != "creator" else None)
                    rows.append(_policy(name, "UPDATE", using=condition, check=check))
                else:
                    rows.append(_policy(name, "DELETE", using=condition))
        if not read.has("public"):
            # A create answers with the new record (INSERT ... RETURNING), which PostgreSQL
            # checks against the read rule too; someone may create what they may not read
            # (create: public with read: signed_in is an anonymous create).
            # The API sets this only in the transaction of that one INSERT.
            rows.append(_policy("read_returned_by_create", "SELECT", using=_just_created(obj)))
        admin = "(select rls_has_role('admin'))"
        rows.append(_policy("admin", "ALL", using=admin, check=admin))
        policies[obj["name"]] = rows
    functions = list(_SHARED_FUNCTIONS)
    # Every table: the lookups read some, the owner's maintenance commands may read all.
    for obj in objects:
        policies[obj["name"]].append(
            {
                "name": "owner_lookup",
                "command": "SELECT",
                "to_owner": True,
                "using": f"current_setting('{LOOKUP_SETTING}', true) = 'on'",
                "check": None,
            }
        )
    for obj in objects:  # spec order, so the same spec gives the same migration
        if obj["table"] in owned:
            functions.append(_owned_ids(obj["table"]))
        if obj["table"] in owner_of:
            functions.append(_owner_of(obj["table"]))
        for policy in policies[obj["name"]]:
            policy["sql"] = _create_policy(obj["table"], policy)
    return policies, functions


def _just_created(obj: dict[str, Any]) -> str:
    """The row this transaction's INSERT is returning, and no other, while app.creating is on.

    PostgreSQL checks the row RETURNING hands back before it is stored (its xmin is not
    set yet), but its id already came from the table's sequence: currval is the id this
    connection took last. CASE keeps currval from running (it fails on a connection that
    never inserted) unless the API has marked the transaction as an INSERT's own.
    """
    sequence = f"pg_get_serial_sequence('\"{obj['table']}\"', 'id')"
    return (
        f"CASE WHEN current_setting('{CREATING_SETTING}', true) = 'on' "
        f"THEN id = currval({sequence}) ELSE false END"
    )


def _create_policy(table: str, policy: dict[str, Any]) -> str:
    sql = f'CREATE POLICY {policy["name"]} ON "{table}" FOR {policy["command"]}'
    if policy["to_owner"]:
        sql += " TO CURRENT_USER"
    if policy["using"] is not None:
        sql += f" USING ({policy['using']})"
    if policy["check"] is not None:
        sql += f" WITH CHECK ({policy['check']})"
    return sql


def _policy(
    name: str, command: str, *, using: str | None = None, check: str | None = None
) -> dict[str, Any]:
    return {"name": name, "command": command, "to_owner": False, "using": using, "check": check}


def _and(condition: str, extra: str | None) -> str:
    if extra is None or condition == "true":
        return extra or condition
    return f"({condition}) AND ({extra})"


def _term_name(term: Term) -> str:
    return f"{term.kind}_{term.arg}" if term.arg else term.kind


def _term_sql(
    obj: dict[str, Any],
    refs: dict[str, dict[str, Any]],
    by_name: dict[str, dict[str, Any]],
    term: Term,
    owned: set[str],
    *,
    create: bool,
) -> str | None:
    """One term of a rule as a condition on the row, or None where it grants nothing."""
    if term.kind == "public":
        return "true"
    if term.kind == "signed_in":
        return f"{CALLER} IS NOT NULL"
    if term.kind == "role":
        return f"(select rls_has_role('{term.arg}'))"
    if term.kind == "owner":
        if obj["owner_kind"] == "none":
            return None
        if create and obj["owner_kind"] == "creator":
            return f"{CALLER} IS NOT NULL"  # whoever creates it owns it
        if create:  # inherited: the caller owns the record ownership comes through
            return _owned(refs[obj["owner_field"]], owned)
        return f"owner_id = {CALLER}"
    return _owned(refs[term.arg or ""], owned)


def _owned(ref: dict[str, Any], owned: set[str]) -> str:
    owned.add(ref["target_table"])
    return f'"{ref["attr"]}" = any((select {owned_ids_function(ref["target_table"])}())::integer[])'


def _owner_condition(
    obj: dict[str, Any], by_name: dict[str, dict[str, Any]], owner_of: set[str]
) -> str | None:
    """What owner_id a new or changed row must have."""
    if obj["owner_kind"] == "none":
        return "owner_id IS NULL"
    if obj["owner_kind"] == "creator":
        return f"owner_id IS NOT DISTINCT FROM {CALLER}"
    target = by_name[obj["owner_target"]]["table"]
    owner_of.add(target)
    return f'owner_id IS NOT DISTINCT FROM {owner_function(target)}("{obj["owner_attr"]}")'


def _lookup(signature: str, returns: str, query: str) -> str:
    """A SECURITY DEFINER function that reads one table as its owner, app.rls_lookup on.

    PL/pgSQL that turns the setting on for its own query and back as it was, rather than
    a ``SET app.rls_lookup = 'on'`` clause on the function: PostgreSQL 15 and later let only
    superusers (or roles granted SET on it) attach a custom setting to a function, and on
    a managed PostgreSQL the owner is an ordinary role. If the query fails, the transaction
    (or its savepoint) undoes the setting too. The argument is $1 and the columns are
    qualified: a table may have a column named like a variable.
    """
    return (
        f"CREATE FUNCTION {signature} RETURNS {returns} LANGUAGE plpgsql STABLE "
        "SECURITY DEFINER SET search_path = pg_catalog, public AS $$ "
        f"DECLARE rls_was text := current_setting('{LOOKUP_SETTING}', true); rls_found {returns}; "
        f"BEGIN PERFORM set_config('{LOOKUP_SETTING}', 'on', true); "
        f"{query}; "
        f"PERFORM set_config('{LOOKUP_SETTING}', coalesce(rls_was, ''), true); "
        "RETURN rls_found; END $$"
    )


def _owned_ids(table: str) -> dict[str, str]:
    name = owned_ids_function(table)
    query = (
        f"SELECT coalesce(array_agg(t.id), '{{}}') INTO rls_found FROM \"{table}\" t "
        "WHERE t.owner_id = rls_caller()"
    )
    return {"signature": f"{name}()", "sql": _lookup(f"{name}()", "integer[]", query)}


def _owner_of(table: str) -> dict[str, str]:
    name = owner_function(table)
    query = f'SELECT t.owner_id INTO rls_found FROM "{table}" t WHERE t.id = $1'
    return {
        "signature": f"{name}(integer)",
        "sql": _lookup(f"{name}(record_id integer)", "integer", query),
    }
