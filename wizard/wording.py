"""Rules, ownership and fields as plain-English phrases, for every front end."""

from __future__ import annotations

from wizard.spec.models import FieldSpec, ObjectSpec
from wizard.spec.naming import with_article
from wizard.spec.rules import Rule, Term

FIELD_TYPES: dict[str, str] = {
    "string": "short text (a name, a title)",
    "text": "long text (a description)",
    "int": "whole number",
    "float": "number with decimals",
    "bool": "yes or no",
    "date": "date",
    "datetime": "date and time",
    "email": "email address",
    "ref": "link to another object",
}


def term_phrase(term: Term, short: bool = False) -> str:
    if term.kind == "public":
        return "anyone" if short else "anyone, even without signing in"
    if term.kind == "signed_in":
        return "signed in" if short else "anyone signed in"
    if term.kind == "owner":
        return "owner" if short else "the person who owns it"
    if term.kind == "owner_of":
        return f"{term.arg}'s owner" if short else f"whoever owns its {term.arg}"
    if term.arg == "admin":
        return "admins"
    return f"{term.arg} role" if short else f"anyone with the role {term.arg}"


def rule_phrase(rule: Rule | None, short: bool = False) -> str:
    """'the person who owns it, or admins'; 'only admins' for nobody."""
    if rule is None or rule.is_nobody:
        return "only admins" if short else "nobody but admins"
    parts = [term_phrase(term, short) for term in rule.terms]
    if short:
        return ", ".join(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def permission_sentence(object_name: str, action: str, rule: Rule | None) -> str:
    one = with_article(object_name)
    what = {
        "read": f"see {one}",
        "create": f"create {one}",
        "update": f"change {one}",
        "delete": f"delete {one}",
    }
    phrase = rule_phrase(rule)
    return f"Who may {what[action]}? {phrase[0].upper()}{phrase[1:]}."


def owner_phrase(obj: ObjectSpec) -> str:
    if obj.owner_kind == "creator":
        return "the person who created it"
    if obj.owner_kind == "none":
        return "nobody (only admins)"
    return f"whoever owns its {obj.owner}"


def field_summary(field: FieldSpec) -> str:
    """'link to Studio, required, max 120 characters'."""
    parts = [f"link to {field.to}" if field.is_ref else FIELD_TYPES[field.type]]
    if field.required:
        parts.append("required")
    if field.max_length is not None:
        parts.append(f"max {field.max_length} characters")
    if field.min_length is not None:
        parts.append(f"min {field.min_length} characters")
    if field.min is not None:
        parts.append(f"at least {field.min}")
    if field.max is not None:
        parts.append(f"at most {field.max}")
    if field.default is not None:
        parts.append(f"default {field.default}")
    return ", ".join(parts)
