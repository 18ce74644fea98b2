"""Hostile launch specs: the loader and validator refuse them quickly with exit 2 and a
sentence, never a hang, a RecursionError or an "unexpected problem" (issue 17, item 9)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wizard.blueprints import blueprint_context
from wizard.cli import app
from wizard.errors import SpecError
from wizard.spec import parse_spec
from wizard.spec.models import FIELD_TYPES, LOGIN_METHODS

ROOT = Path(__file__).resolve().parent.parent

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)

HOSTILE = {
    "alias bomb": (BILLION_LAUGHS, "aliases that repeat aliases"),
    "recursive alias": ("app: &x\n  name: *x\n", "points at the value that contains it"),
    "recursive alias in a list": ("app: {name: a, title: A}\nroles: &r [*r]\n", "contains it"),
    "5000 levels of flow nesting": ("app: " + "[" * 5000 + "]" * 5000, "nested more than"),
    "1000 levels of flow mappings": ("app: " + "{a: " * 1000 + "1" + "}" * 1000, "nested more"),
    "200 levels of block nesting": (
        "app:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 200)),
        "nested more than",
    ),
    "a 300 KB file": ('app: "' + "a" * 300_000 + '"\n', "over 256 KB"),
    "120000 values": ("app: [" + ",".join(["1"] * 120_000) + "]\n", "more than 50,000 values"),
    "a 5000-digit number": ("app: {name: a, title: A, n: " + "1" * 5000 + "}\n", "cannot be read"),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=lambda case: case.replace(" ", "-"))
def test_hostile_yaml_is_refused_quickly_with_exit_2(case: str, tmp_path: Path) -> None:
    text, words = HOSTILE[case]
    spec = tmp_path / "shipyard.yaml"
    spec.write_text(text, encoding="utf-8")

    started = time.process_time()
    result = CliRunner().invoke(app, ["new", str(tmp_path / "p"), "--spec", str(spec), "--yes"])
    elapsed = time.process_time() - started

    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert "unexpected problem" not in result.output and "Traceback" not in result.output
    # CPU time, not wall time: a hang or a bomb burns CPU, and a busy machine does not count.
    assert elapsed < 2, f"took {elapsed:.2f}s of CPU"
    assert not (tmp_path / "p").exists()


def test_a_huge_file_is_not_read_whole(tmp_path: Path) -> None:
    spec = tmp_path / "shipyard.yaml"
    with spec.open("w") as file:
        file.write("app: [" + "1," * 30_000_000 + "1]\n")  # 60 MB
    started = time.process_time()
    with pytest.raises(SpecError, match="over 256 KB"):
        from wizard.spec import load_spec

        load_spec(spec)
    assert time.process_time() - started < 2


def test_thousands_of_problems_are_summarised() -> None:
    text = "app: {name: a, title: A}\nroles: [" + ",".join(["1"] * 5000) + "]\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert len(caught.value.problems) == 5000
    assert "has 5000 problems" in caught.value.message
    assert "and 4950 more like these" in caught.value.message
    assert caught.value.message.count("\n") < 60


def _one_field(field: str) -> str:
    return f"app: {{name: a, title: A}}\nobjects:\n  Note:\n    fields:\n      n: {field}\n"


@pytest.mark.parametrize(
    ("field", "words"),
    [
        # Was: TypeError: object of type 'int' has no len() in _check_default.
        ("{type: int, max_length: 5, default: 3}", "only apply to text fields"),
        ("{type: int, min_length: 1, default: 0}", "only apply to text fields"),
        ("{type: float, max_length: 2, default: 1.5}", "only apply to text fields"),
        # Rendered, then failed on import with NameError: name 'nan'.
        ("{type: float, min: .nan}", "min is nan; use a finite number"),
        ("{type: float, max: .inf}", "max is inf; use a finite number"),
        ("{type: float, default: -.inf}", "default is -inf; use a finite number"),
        ("{type: int, min: .nan}", "min is nan"),
        # Beyond the 32-bit column the rendered migration makes.
        ("{type: int, max: 99999999999}", "does not fit an int column"),
        ("{type: int, default: -2147483649}", "does not fit an int column"),
        ("{type: string, max_length: 100000000000}", "use type: text"),
    ],
)
def test_field_options_that_cannot_render_are_refused(field: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_one_field(field))
    assert words in caught.value.message
    assert "line 5" in caught.value.message


def test_column_limits_themselves_are_accepted() -> None:
    spec = parse_spec(_one_field("{type: int, min: -2147483648, max: 2147483647, default: 0}"))
    assert spec.objects["Note"].fields["n"].max == 2**31 - 1


# --- property: specs from the format's grammar, mutated, always exit 0 or 2 ----------------


def _mostly(valid: list[Any], odd: list[Any], wild: bool) -> st.SearchStrategy[Any]:
    """A valid choice, or in a wild spec an odd choice now and then."""
    return st.sampled_from([*valid * 3, *odd] if wild else valid)


OBJECT_NAMES = ["Note", "Class", "Order"]
ODD_NAMES = ["note", "{{x}}", "Ünï", "a/b", "", "A" * 70, "Notes"]
FIELD_NAMES = ["title", "from", "count", "parent", "starts_at"]
ODD_FIELD_NAMES = ["id", "owner", "Title", "a b", "{%x%}", "é", "", "startsAt"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["string", "int", "ref", "creator", "none", '"', "\\", "\n", "\x00"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
GOOD_OPTIONS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "string": {"max_length": st.integers(1, 300), "min_length": st.integers(0, 3),
               "default": st.text(max_size=5)},
    "text": {"max_length": st.integers(1, 300), "default": st.text(max_size=5)},
    "email": {"max_length": st.integers(5, 300)},
    "int": {"min": st.integers(-5, 0), "max": st.integers(1, 100), "default": st.integers(0, 1)},
    "float": {"min": st.floats(-5, 0), "max": st.floats(1, 100), "default": st.just(0.5)},
    "bool": {"default": st.booleans()},
    "date": {},
    "datetime": {},
}  # fmt: skip
NUMBERS = [0, -1, 3, 1.5, math.nan, math.inf, -math.inf, 2**31, -(2**31) - 1, 10**30]
CONFUSING: dict[str, list[Any]] = {
    # Values the models accept, on fields of any type: only the validator can refuse them.
    "max_length": [1, 3, 300, 10**12],
    "min_length": [0, 2, 400],
    "min": NUMBERS,
    "max": NUMBERS,
    "default": [*NUMBERS, "", "ab", "x" * 400, True, False],
}


@st.composite
def _field(draw: st.DrawFn, objects: list[str], mode: str) -> Any:
    wild = mode == "wild"
    kind = draw(_mostly([*FIELD_TYPES], ["strnig", "Int", ""], wild))
    if kind != "ref" and draw(st.integers(0, 3)) == 0:
        return kind  # the shorthand `name: string`
    field: dict[str, Any] = {"type": kind}
    if draw(st.booleans()):
        field["required"] = True
    if kind == "ref":
        field["to"] = draw(_mostly(objects, ["Nowhere", "", None], wild))
    for option, values in GOOD_OPTIONS.get(kind, {}).items():
        if draw(st.booleans()):
            field[option] = draw(values)
    if mode == "confused":  # options of another type, or values no column holds
        for option in draw(st.lists(st.sampled_from(list(CONFUSING)), max_size=3, unique=True)):
            field[option] = draw(st.sampled_from(CONFUSING[option]))
    return field


RULES = ["public", "signed_in", "owner", "nobody", "role:admin", "role:staff", "public | owner"]
ODD_RULES = ["role:ghost", "owner_of(title)", "owner_of(", "owner_of(parent)", "", "everyone"]


@st.composite
def _spec(draw: st.DrawFn, mode: str) -> dict[str, Any]:
    wild = mode == "wild"
    names = draw(
        st.lists(_mostly(OBJECT_NAMES, ODD_NAMES, wild), min_size=1, max_size=3, unique=True)
    )
    spec: dict[str, Any] = {
        "app": {
            "name": draw(_mostly(["club-house", "a"], ["Bad Name", "x-", "", "a_b"], wild)),
            "title": draw(st.text(min_size=1, max_size=20) | st.sampled_from(["Café", 'A"B'])),
        },
        "login": {
            "methods": draw(
                st.lists(
                    _mostly([*LOGIN_METHODS], ["sms"], wild), min_size=1, max_size=3, unique=True
                )
            )
        },
        "roles": draw(
            st.lists(_mostly(["staff", "coach"], ["Staff", "x y", ""], wild), unique=True)
        ),
        "objects": {},
    }
    for name in names:
        fields = draw(
            st.lists(_mostly(FIELD_NAMES, ODD_FIELD_NAMES, wild), max_size=4, unique=True)
        )
        built = {field: draw(_field(names, mode)) for field in fields}
        refs = [
            f for f, spec_ in built.items() if isinstance(spec_, dict) and spec_["type"] == "ref"
        ]
        spec["objects"][name] = {
            "owner": draw(_mostly(["creator", "none"], ["parent", "title", *refs], wild)),
            "fields": built,
            "permissions": {
                action: draw(_mostly(RULES + [f"owner_of({r})" for r in refs], ODD_RULES, wild))
                for action in draw(
                    st.lists(st.sampled_from(["read", "create", "update", "delete"]), unique=True)
                )
            },
        }
    if draw(st.booleans()):
        spec["frontend"] = {
            "origins": draw(
                st.lists(_mostly(["http://localhost:5173"], ["*", "ftp://y", "z"], wild))
            )
        }
    return spec


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    mode = draw(st.sampled_from(["tame", "confused", "wild"]))
    wild = mode == "wild"
    data = draw(_spec(mode))
    for _ in range(draw(st.integers(0, 3)) if wild else 0):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "extra key"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "maxlength", "fields", "type"]))] = draw(VALUES)
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    if wild and draw(st.integers(0, 3)) == 0:  # damage the text itself
        at = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from([": ", "[", "}", "&a ", "*a", "- ", "'", "\n  ", "\t"]))
        text = text[:at] + junk + text[at:]
    return text


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_mutated())
def test_mutated_specs_are_accepted_or_refused_never_crash(text: str) -> None:
    """What `shipyard new --spec` does before rendering: exit 0 (a LaunchSpec whose blueprint
    context builds) or exit 2 (a SpecError with a line); any other exception is exit 1."""
    try:
        spec = parse_spec(text)
    except SpecError as exc:
        assert exc.problems and all(problem.message for problem in exc.problems)
        return
    context = blueprint_context(spec)
    assert context["app_title"] == spec.app.title
    for obj in spec.objects.values():
        for field in obj.fields.values():
            for value in (field.min, field.max, field.default):
                assert not (isinstance(value, float) and not math.isfinite(value))
