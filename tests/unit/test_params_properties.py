"""Bad params never crash the loader (issue 13, item 9): Hypothesis changes one thing in the project's
params.yaml (a value replaced by anything: a wrong type, a number out of range, nested junk; a key
deleted; an unknown key added) and the load either succeeds or raises ConfigError naming the file and
the changed key, never another exception. The same for params.yaml's text with one value rewritten."""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROJECT_ROOT, project_params
from sentiment.config import ConfigError, load_params, params_from_mapping

Path_ = tuple[str | int, ...]
PARAMS = project_params()
EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def walk(value: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every (path, value) below `value`: the keys of its mappings and the items of its lists."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield (*prefix, key), item
        yield from walk(item, (*prefix, key))


PATHS = [path for path, _ in walk(PARAMS)]
KEYS = [path for path in PATHS if not isinstance(path[-1], int)]
ITEMS = [path for path in PATHS if isinstance(path[-1], int)]  # mostly stopwords: drawn less often
MAPPINGS = [(), *(path for path, item in walk(PARAMS) if isinstance(item, dict))]

extremes = st.sampled_from([2**32, 2**63, 10**400, -(10**400), float("inf"), float("nan"), -0.0, 1e-300])
scalars = (
    extremes
    | st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-3, 12)  # near the bounds
    | st.floats()
    | st.floats(-1.5, 2.5)
    | st.text(max_size=8)
    | st.sampled_from(["", " ", "pre", "rnn", "accuracy", "data/x", "/abs", "../up", "20000", "<OOV>"])
)
junk = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.integers(), children, max_size=3)
    ),
    max_leaves=8,
)
values = scalars | junk  # a scalar half the time: most params are scalars
new_keys = st.text(string.ascii_lowercase + string.digits + "_", min_size=1, max_size=12)


def at(data: Any, path: Path_) -> Any:
    for key in path:
        data = data[key]
    return data


@st.composite
def changed_params(draw: st.DrawFn) -> tuple[dict[str, Any], Path_, str]:
    """The project's params with one change: (params, the path of the changed key, what was done)."""
    data = copy.deepcopy(PARAMS)
    kind = draw(st.sampled_from(["replace", "replace", "delete", "add", "reshape"]))
    if kind == "reshape":  # a mapping with keys left out and junk keys (any type) added
        parent = draw(st.sampled_from(MAPPINGS))
        mapping = at(data, parent)
        for key in draw(st.sets(st.sampled_from(sorted(mapping)), max_size=3)):
            del mapping[key]
        mapping.update(draw(st.dictionaries(st.text(max_size=6) | st.integers(), values, max_size=3)))
        return data, parent, kind
    if kind == "add":
        parent = draw(st.sampled_from(MAPPINGS))
        key = draw(new_keys.filter(lambda name: name not in at(data, parent)))
        at(data, parent)[key] = draw(values)
        return data, (*parent, key), kind
    path = draw(st.one_of(*[st.sampled_from(KEYS)] * 3, st.sampled_from(ITEMS)))
    if kind == "delete":
        del at(data, path[:-1])[path[-1]]
    else:
        at(data, path[:-1])[path[-1]] = draw(values)
    return data, path, kind


def names_the_key(message: str, path: Path_) -> bool:
    """The message names the changed key: its section's dotted path and its own name (the name of the
    list holding it, for a list item)."""
    keys = [str(key) for key in path if not isinstance(key, int)]
    if not keys:  # the top level changed: any key may be the one named
        return message.startswith("params.yaml: ")
    section, name = ".".join(keys[:-1]), keys[-1]
    return message.startswith("params.yaml: ") and section in message and name in message


@EXAMPLES
@given(changed_params())
def test_any_change_loads_or_fails_with_a_config_error_naming_the_key(
    change: tuple[dict[str, Any], Path_, str],
) -> None:
    data, path, kind = change
    try:
        params_from_mapping(data)
    except ConfigError as error:
        assert names_the_key(str(error), path), (kind, path, str(error))
    else:  # an unknown key is never accepted
        assert kind != "add", (path, "an unknown key was accepted")


@pytest.mark.parametrize(
    "path",
    KEYS,
    ids=lambda path: ".".join(map(str, path)),
)
def test_every_key_is_required_except_the_optional_variant_options(path: Path_) -> None:
    data = copy.deepcopy(PARAMS)
    del at(data, path[:-1])[path[-1]]
    optional = {
        "reset_after",
        "bigram_buckets",
        "embedding_learning_rate",
        "average_weights",
        "count_teachers",
    }
    taught = {
        name for student in PARAMS["students"].values() for name in student.values() if isinstance(name, str)
    }
    if path[:1] == ("models",) and len(path) == 2 and path[1] in taught:  # a student names it
        with pytest.raises(ConfigError, match=rf"students\.\w+\.\w+: no variant '{path[1]}'"):
            params_from_mapping(data)
    elif path[0] in ("models", "students") and (len(path) == 2 or path[-1] in optional):
        params_from_mapping(data)  # a variant or a student is an entry, not a key
    else:
        with pytest.raises(ConfigError, match=f"missing key '{re.escape(str(path[-1]))}'"):
            params_from_mapping(data)


NUMBERS = [
    path for path, value in walk(PARAMS) if isinstance(value, int | float) and not isinstance(value, bool)
]


@EXAMPLES
@given(
    path=st.sampled_from(NUMBERS),
    value=extremes | st.integers(-3, 12) | st.floats(-1.5, 2.5) | st.integers() | st.floats(),
)
def test_any_number_anywhere_loads_or_fails_with_a_config_error_naming_the_key(
    path: Path_, value: float
) -> None:
    data = copy.deepcopy(PARAMS)
    at(data, path[:-1])[path[-1]] = value
    try:
        params_from_mapping(data)
    except ConfigError as error:
        assert names_the_key(str(error), path), (path, str(error))


LINES = (PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
VALUE_LINES = [number for number, line in enumerate(LINES) if re.match(r"\s*\w+: \S", line)]


@pytest.fixture(scope="module")
def params_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("params") / "params.yaml"


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    number=st.sampled_from(VALUE_LINES),
    text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
    | st.sampled_from(
        ["0", "-1", "1e9", "8e2", ".inf", ".nan", "null", "~", "[]", "{}", "[1, 2", "yes", "'"]
    ),
)
def test_any_value_written_in_the_file_loads_or_fails_with_a_config_error(
    params_file: Path, number: int, text: str
) -> None:
    key = LINES[number].split(":", 1)[0]
    lines = [*LINES]
    lines[number] = f"{key}: {text}\n"
    params_file.write_text("".join(lines), encoding="utf-8")
    try:
        load_params(params_file)
    except ConfigError as error:
        assert str(error).startswith(str(params_file)), str(error)
