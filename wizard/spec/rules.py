"""The permission rule language: `public`, `signed_in`, `owner`, `owner_of(field)`, `role:name`, `nobody`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TermKind = Literal["public", "signed_in", "owner", "owner_of", "role"]
ACTIONS: tuple[str, ...] = ("read", "create", "update", "delete")

_OWNER_OF = re.compile(r"^owner_of\(\s*([A-Za-z][A-Za-z0-9_]*)\s*\)$")
_ROLE = re.compile(r"^role:\s*([A-Za-z][A-Za-z0-9_]*)$")
_SYNTAX_HELP = (
    "write one or more of public, signed_in, owner, owner_of(<reference field>), "
    "role:<name> or nobody, joined with |"
)


@dataclass(frozen=True, order=True)
class Term:
    """One alternative of a rule; `arg` is the field of owner_of or the role of role."""

    kind: TermKind
    arg: str | None = None

    def __str__(self) -> str:
        if self.kind == "owner_of":
            return f"owner_of({self.arg})"
        if self.kind == "role":
            return f"role:{self.arg}"
        return self.kind


@dataclass(frozen=True)
class Rule:
    """Who may do an action: any one of its terms. No terms means nobody but admins."""

    terms: tuple[Term, ...] = ()

    @property
    def is_nobody(self) -> bool:
        return not self.terms

    def has(self, kind: TermKind) -> bool:
        return any(term.kind == kind for term in self.terms)

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(t.arg for t in self.terms if t.kind == "role" and t.arg)

    @property
    def owner_of_fields(self) -> tuple[str, ...]:
        return tuple(t.arg for t in self.terms if t.kind == "owner_of" and t.arg)

    def __str__(self) -> str:
        return " | ".join(str(term) for term in self.terms) or "nobody"


NOBODY = Rule()


def parse_rule(text: object) -> Rule:
    """Parse a rule's text; raises ValueError with a sentence saying what to write instead."""
    if isinstance(text, Rule):
        return text
    if not isinstance(text, str):
        raise ValueError(f"a rule must be text, not {type(text).__name__}: {_SYNTAX_HELP}")
    parts = [part.strip() for part in text.split("|")]
    if not any(parts):
        raise ValueError(f"the rule is empty: {_SYNTAX_HELP}")
    terms: list[Term] = []
    saw_nobody = False
    for part in parts:
        if not part:
            raise ValueError(f"'{text}' has an empty alternative around '|': {_SYNTAX_HELP}")
        term = _parse_term(part)
        if term is None:
            saw_nobody = True
        elif term not in terms:
            terms.append(term)
    if saw_nobody and terms:
        raise ValueError(f"'{text}' combines nobody with other terms: use nobody on its own")
    return Rule(tuple(terms))


def _parse_term(part: str) -> Term | None:
    if part == "nobody":
        return None
    if part in ("public", "signed_in", "owner"):
        return Term(part)  # type: ignore[arg-type]
    if match := _OWNER_OF.match(part):
        return Term("owner_of", match.group(1))
    if match := _ROLE.match(part):
        return Term("role", match.group(1))
    if part.startswith("owner_of"):
        raise ValueError(f"'{part}' should name one reference field, like owner_of(studio)")
    if part.startswith("role"):
        raise ValueError(f"'{part}' should name one role, like role:staff")
    raise ValueError(f"'{part}' is not a rule term: {_SYNTAX_HELP}")
