"""Saving a changed spec over the founder's shipyard.yaml, keeping their comments and order.

ruamel.yaml reads the file as it is (comments, key order, flow or block style, quoting), only
the values that changed are replaced, and it writes the rest back untouched. What the file
does not say and the spec's defaults already mean stays unsaid.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from wizard.errors import ShipyardError
from wizard.spec.loader import dump_spec, parse_spec, spec_data
from wizard.spec.models import LaunchSpec


def save_spec(path: Path, spec: LaunchSpec) -> None:
    """Write `spec` to `path` (atomically); an existing file keeps its comments and order."""
    text = updated_text(path.read_text(encoding="utf-8"), spec) if path.is_file() else None
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text if text is not None else dump_spec(spec), encoding="utf-8")
    os.replace(temporary, path)


def updated_text(text: str, spec: LaunchSpec) -> str:
    """`text` (a shipyard.yaml) changed to say `spec`, as little as possible; the whole spec
    written afresh when the file cannot be kept (it must still read back as `spec`)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        document = yaml.load(text)
        before = spec_data(parse_spec(text))
    except (YAMLError, ValueError, ShipyardError):
        return dump_spec(spec)
    if not hasattr(document, "items"):
        return dump_spec(spec)
    _change(document, before, spec_data(spec))
    out = io.StringIO()
    yaml.dump(document, out)
    result = out.getvalue()
    try:
        if parse_spec(result) == spec:
            return result
    except (ValueError, ShipyardError):
        pass
    return dump_spec(spec)


def _change(node: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Make the mapping `node` (whose meaning is `before`) mean `after`."""
    for key in list(node.keys()):
        if key in before and key not in after:
            del node[key]
    for key, value in after.items():
        if key in before and before[key] == value:
            continue  # the file already means this (said, or left to the default)
        current = node.get(key) if key in node else None
        if (
            isinstance(value, dict)
            and hasattr(current, "items")
            and isinstance(before.get(key), dict)
        ):
            _change(current, before[key], value)
        elif isinstance(value, list) and isinstance(current, list):
            _change_list(current, value)
        else:
            node[key] = _new_node(value)


def _change_list(node: list[Any], after: list[Any]) -> None:
    """Items that stay keep their place and quoting; others are replaced, added or dropped."""
    for index, value in enumerate(after):
        if index >= len(node):
            node.append(_new_node(value))
        elif node[index] != value:
            node[index] = _new_node(value)
    del node[len(after) :]


def _new_node(value: Any) -> Any:
    """A value as the spec writer lays it out: fields and short lists on one line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        mapping = CommentedMap((key, _new_node(item)) for key, item in value.items())
        if getattr(value, "flow", False):
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        seq = CommentedSeq(_new_node(item) for item in value)
        if getattr(value, "flow", False):
            seq.fa.set_flow_style()
        return seq
    return value
