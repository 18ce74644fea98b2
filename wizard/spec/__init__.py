"""The launch spec: typed models, the rule language, safe naming, YAML load and save."""

from wizard.spec.loader import dump_spec, load_spec, parse_spec
from wizard.spec.models import FieldSpec, LaunchSpec, ObjectSpec, Permissions
from wizard.spec.rules import ACTIONS, Rule, Term, parse_rule

__all__ = [
    "ACTIONS",
    "FieldSpec",
    "LaunchSpec",
    "ObjectSpec",
    "Permissions",
    "Rule",
    "Term",
    "dump_spec",
    "load_spec",
    "parse_rule",
    "parse_spec",
]
