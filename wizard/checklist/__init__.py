"""The launch checklist: the steps the wizard walks and the items `shipyard check` evaluates."""

from wizard.checklist.model import (
    SCREENS,
    Check,
    Checklist,
    Choice,
    Item,
    Step,
    load_checklist,
    parse_checklist,
)

__all__ = [
    "SCREENS",
    "Check",
    "Checklist",
    "Choice",
    "Item",
    "Step",
    "load_checklist",
    "parse_checklist",
]
