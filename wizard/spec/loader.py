"""Read and write `shipyard.yaml`, locating every problem by file, line and field."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor

from wizard.errors import SpecError, SpecProblem
from wizard.spec import validate
from wizard.spec.models import FieldSpec, LaunchSpec, ObjectSpec

KeyPath = tuple[Any, ...]

# Limits that keep a hostile file from hanging or crashing the loader. A real spec is a few
# kilobytes, nests about six levels (objects > Name > fields > field > options) and has a few
# hundred keys and values; these leave room for a hundred times that.
MAX_SPEC_CHARS = 256 * 1024
MAX_DEPTH = 24
MAX_VALUES = 50_000
MAX_ALIASES = 100


class _Refused(Exception):
    """The file is shaped so that reading it on would hang or crash; carries why."""

    def __init__(self, problem: SpecProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Located:
    """The YAML document as plain data, plus the line each key and item starts on."""

    def __init__(self) -> None:
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[SpecProblem] = []
        self.values = 0
        self.open: set[int] = set()  # the nodes being built, to catch an alias to itself

    def build(self, node: yaml.Node, path: KeyPath = ()) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Refused(
                SpecProblem(
                    f"the file expands to more than {MAX_VALUES:,} values (aliases that repeat "
                    "aliases, a 'billion laughs'); write the spec out without '*' aliases",
                    _dotted(path[:1]),
                    self.lines.get(path[:1], line),
                )
            )
        if len(path) > MAX_DEPTH:
            raise _Refused(_too_deep(line, _dotted(path)))
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.open:
                raise _Refused(
                    SpecProblem(
                        "an alias ('*' name) points at the value that contains it, so the "
                        "value would never end; write the value out instead",
                        _dotted(path),
                        line,
                    )
                )
            self.open.add(id(node))
            try:
                return self._build_collection(node, path)
            finally:
                self.open.discard(id(node))
        return self._scalar(node)

    def _build_collection(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str | int | float | bool) or key is None:
                    self.problems.append(
                        SpecProblem("keys must be plain words", _dotted(path), line)
                    )
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in result:
                    first = self.lines[(*path, key)]
                    self.problems.append(
                        SpecProblem(
                            f"'{key}' appears twice (first on line {first}); keep one",
                            _dotted(path),
                            line,
                        )
                    )
                    continue
                self.lines[(*path, key)] = line
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    @staticmethod
    def _scalar(node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return node  # a mapping used as a key; reported by the caller
        try:
            return SafeConstructor().construct_object(node)
        except ValueError:
            # A number too long for Python to read (over 4300 digits), for one.
            raise _Refused(
                SpecProblem(
                    f"'{node.value[:20]}…' cannot be read as a value; shorten it or quote it",
                    line=node.start_mark.line + 1,
                )
            ) from None

    def line_of(self, path: KeyPath) -> int | None:
        for end in range(len(path), -1, -1):
            if (line := self.lines.get(path[:end])) is not None:
                return line
        return None


def _dotted(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)


def _too_deep(line: int | None, field: str = "") -> SpecProblem:
    return SpecProblem(
        f"values are nested more than {MAX_DEPTH} levels deep; a launch spec needs about six "
        "(objects, the object, fields, the field, its options)",
        field,
        line,
    )


# libyaml, when PyYAML has it, reads a file about ten times faster than PyYAML's own parser.
_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    """The file's node tree. libyaml reads it when it can; a file libyaml finds wrong is read
    again by PyYAML's own parser, whose messages _yaml_advice knows."""
    try:
        _check_shape(text, _FAST_LOADER)
        loader = _FAST_LOADER
    except yaml.YAMLError:
        _check_shape(text, yaml.SafeLoader)  # raises the YAML error with PyYAML's words
        loader = yaml.SafeLoader
    return yaml.compose(text, Loader=loader)


def _check_shape(text: str, loader: type) -> None:
    """Refuse, before building anything, a file whose nesting or aliases would exhaust the
    recursive composer: the event stream is read without recursion."""
    depth = aliases = values = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.NodeEvent):
            values += 1
            if values > MAX_VALUES:
                raise _Refused(
                    SpecProblem(
                        f"the file holds more than {MAX_VALUES:,} values; a launch spec has a "
                        "few hundred: check this is the right file",
                        line=event.start_mark.line + 1,
                    )
                )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(_too_deep(event.start_mark.line + 1))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Refused(
                    SpecProblem(
                        f"the file uses more than {MAX_ALIASES} aliases ('*' names); "
                        "write the values out instead",
                        line=event.start_mark.line + 1,
                    )
                )


def parse_spec(text: str, filename: str = "shipyard.yaml") -> LaunchSpec:
    """Turn the text of a launch spec into a LaunchSpec, or raise SpecError listing every problem."""
    located = _Located()
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(filename, [_too_big()])
    try:
        root = _compose(text)
        data = located.build(root) if root is not None else None
    except _Refused as exc:
        raise SpecError(filename, [exc.problem]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(
            filename, [SpecProblem(_yaml_advice(exc.problem or ""), line=line)]
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        character = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        raise SpecError(
            filename,
            [
                SpecProblem(
                    f"this is not valid YAML: it holds {character}, a control character YAML "
                    "does not allow; delete it (or write it as an escape in double quotes)",
                    line=line,
                )
            ],
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(filename, [SpecProblem(f"this is not valid YAML: {exc}")]) from None
    if located.problems:
        raise SpecError(filename, located.problems)
    if not isinstance(data, dict):
        raise SpecError(
            filename,
            [
                SpecProblem(
                    "the file must be a set of 'key: value' lines starting with app:", line=1
                )
            ],
        )
    try:
        spec = LaunchSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            filename, [_from_pydantic(error, located) for error in exc.errors()]
        ) from None
    problems = [
        SpecProblem(message, _dotted(path), located.line_of(path))
        for path, message in validate.check(spec)
    ]
    if problems:
        raise SpecError(filename, problems)
    return spec


def _too_big() -> SpecProblem:
    return SpecProblem(
        f"the file is over {MAX_SPEC_CHARS // 1024} KB, and a launch spec is a few KB; "
        "check this is the right file"
    )


def _yaml_advice(problem: str) -> str:
    if "'\\t'" in problem:
        advice = "a tab is used for indenting; indent with spaces"
    elif "mapping values are not allowed" in problem:
        advice = (
            "a ':' appears where YAML does not expect one; put text that contains ': ' in quotes"
        )
    elif "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        advice = "a list [..] or {..} is not closed; check its brackets"
    else:
        advice = f"{problem}; check indentation, colons and quotes"
    return f"this is not valid YAML: {advice}"


def load_spec(path: Path) -> LaunchSpec:
    """Load a launch spec file; a missing or unreadable file is a SpecError too."""
    path = Path(path)
    try:
        # Read one character past the limit only, so a huge file (or /dev/zero) costs nothing.
        with path.open(encoding="utf-8") as file:
            text = file.read(MAX_SPEC_CHARS + 1)
    except FileNotFoundError:
        raise SpecError(
            str(path), [SpecProblem("the file does not exist; check the path")]
        ) from None
    except IsADirectoryError:
        raise SpecError(
            str(path), [SpecProblem("this is a folder; give the path of the .yaml file")]
        ) from None
    except UnicodeDecodeError:
        raise SpecError(
            str(path), [SpecProblem("the file is not UTF-8 text; save it as UTF-8")]
        ) from None
    except OSError as exc:
        raise SpecError(
            str(path), [SpecProblem(f"the file cannot be read: {exc.strerror}")]
        ) from None
    return parse_spec(text, str(path))


class _Flow(dict[str, Any]):
    """A mapping written on one line, like the design doc's field definitions."""

    flow = True


class _FlowList(list[Any]):
    """A list of plain values written on one line: [a, b]."""

    flow = True


class _SpecDumper(yaml.SafeDumper):
    pass


_SpecDumper.add_representer(
    _Flow,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True),
)
_SpecDumper.add_representer(
    _FlowList,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)


def dump_spec(spec: LaunchSpec) -> str:
    """The spec as YAML, keys in a stable order; parse_spec(dump_spec(s)) == s."""
    return yaml.dump(
        spec_data(spec), Dumper=_SpecDumper, sort_keys=False, allow_unicode=True, width=100
    )


def spec_data(spec: LaunchSpec) -> dict[str, Any]:
    """The spec as the plain data dump_spec writes (fields in their short form; what is
    written on one line is marked `flow`)."""
    data = spec.model_dump(mode="json", exclude_none=True)
    data["login"]["methods"] = _FlowList(data["login"]["methods"])
    data["roles"] = _FlowList(data["roles"])
    data["frontend"]["origins"] = _FlowList(data["frontend"]["origins"])
    for obj in data["objects"].values():
        obj["fields"] = {name: _compact_field(field) for name, field in obj["fields"].items()}
    if not data["acknowledged"]:
        del data["acknowledged"]
    if not data["frontend"]["lovable_previews"]:  # the default: specs stay as they were
        del data["frontend"]["lovable_previews"]
    return data


def _compact_field(field: dict[str, Any]) -> Any:
    field = {
        key: value for key, value in field.items() if not (key == "required" and value is False)
    }
    return field["type"] if list(field) == ["type"] else _Flow(field)


def _from_pydantic(error: Any, located: _Located) -> SpecProblem:
    loc = tuple(part for part in error["loc"] if not _is_internal(part))
    kind = error["type"]
    line = located.line_of(loc)
    if kind == "extra_forbidden":
        key = loc[-1] if loc else ""
        parent = loc[:-1]
        return SpecProblem(_unknown_key(str(key), parent), _dotted(parent), line)
    return SpecProblem(_plain_message(error), _dotted(loc), line)


def _is_internal(part: Any) -> bool:
    # pydantic adds the names of union members and validators to locations.
    return isinstance(part, str) and (
        part.startswith("function-") or part in ("str", "int", "float")
    )


def _allowed_keys(parent: KeyPath) -> list[str]:
    """The keys allowed in the mapping at ``parent``, for 'did you mean' hints."""
    model: type[BaseModel] = LaunchSpec
    index = 0
    while index < len(parent):
        part = parent[index]
        # objects and fields are maps of founder names: skip the name itself.
        if (model, part) in ((LaunchSpec, "objects"), (ObjectSpec, "fields")):
            model = ObjectSpec if part == "objects" else FieldSpec
            index += 2
            continue
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
        index += 1
    return list(model.model_fields)


def _unknown_key(key: str, parent: KeyPath) -> str:
    allowed = _allowed_keys(parent)
    message = f"'{key}' is not a setting Shipyard knows"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{message}; did you mean '{close[0]}'?"
    if allowed:
        return f"{message}; allowed here: {', '.join(allowed)}"
    return f"{message}; remove it"


def _plain_message(error: Any) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "this is required but missing"
    if kind == "literal_error":
        return f"{value!r} is not allowed; choose one of {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("string_type",):
        return f"{value!r} should be text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{value!r} should be a whole number"
    if kind in ("float_type", "float_parsing"):
        return f"{value!r} should be a number"
    if kind in ("bool_type", "bool_parsing"):
        return f"{value!r} should be true or false"
    if kind in ("list_type",):
        return "this should be a list, like [a, b]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "this should be a set of 'key: value' lines"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{value!r} is too small; use at least {ctx.get('ge', ctx.get('gt'))}"
    return error["msg"]
