"""params.yaml maps onto frozen, typed config; an unknown, missing or mistyped key fails loudly."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentiment.config import Params, load_params, params_from_mapping
from sentiment.core.errors import ConfigError


def test_the_project_params_load_into_typed_frozen_config(project_config: Params) -> None:
    assert isinstance(project_config.vocabulary.num_words, int)
    assert project_config.vocabulary.oov_token == "<OOV>"
    assert project_config.sequences.padding in ("pre", "post")
    assert isinstance(project_config.cleaning.stopwords, tuple)
    assert "not" in project_config.cleaning.negations
    with pytest.raises(dataclasses.FrozenInstanceError):
        project_config.vocabulary.num_words = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        (None, "trainig", {"epochs": 3}, r"unknown key\(s\) \['trainig'\]"),
        ("cleaning", "remove_emoji", True, r"cleaning: unknown key\(s\) \['remove_emoji'\]"),
        ("vocabulary", "num_word", 100, r"vocabulary: unknown key\(s\) \['num_word'\]"),
    ],
)
def test_an_unknown_key_names_the_key_and_the_file(
    params_data: dict[str, Any], section: str | None, key: str, value: object, expected: str
) -> None:
    (params_data[section] if section else params_data)[key] = value
    with pytest.raises(ConfigError, match=rf"^params.yaml: {expected}"):
        params_from_mapping(params_data)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("vocabulary", "num_words"), "vocabulary: missing key 'num_words'"),
        (("sequences", "max_len"), "sequences: missing key 'max_len'"),
        (("paths", "raw_table"), "paths: missing key 'raw_table'"),
        (("cleaning",), "missing key 'cleaning'"),
        (("seed",), "missing key 'seed'"),
    ],
)
def test_a_missing_key_is_named(params_data: dict[str, Any], path: tuple[str, ...], expected: str) -> None:
    *parents, last = path
    mapping = params_data
    for parent in parents:
        mapping = mapping[parent]
    del mapping[last]
    with pytest.raises(ConfigError, match=f"^params.yaml: {expected}"):
        params_from_mapping(params_data)


def test_a_key_with_a_default_may_be_left_out(params_data: dict[str, Any]) -> None:
    del params_data["vocabulary"]["oov_token"]
    assert params_from_mapping(params_data).vocabulary.oov_token == "<OOV>"


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("vocabulary", "num_words", "20000", "vocabulary.num_words: expected int, got '20000'"),
        ("vocabulary", "num_words", 200.5, "vocabulary.num_words: expected int"),
        ("vocabulary", "num_words", True, "vocabulary.num_words: expected int, got True"),
        ("sequences", "padding", "middle", r"sequences.padding: 'middle' is not one of \['pre', 'post'\]"),
        ("sequences", "validation_fraction", "10%", "sequences.validation_fraction: expected a number"),
        ("cleaning", "lowercase", "yes", "cleaning.lowercase: expected bool, got 'yes'"),
        ("cleaning", "stopwords", "the a an", "cleaning.stopwords: expected a list"),
        ("cleaning", "negations", ["not", 3], r"cleaning.negations\[1\]: expected str, got 3"),
        (None, "seed", 4.2, "seed: expected int, got 4.2"),
        (None, "vocabulary", [20000], "vocabulary: expected a mapping"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(
    params_data: dict[str, Any], section: str | None, key: str, value: object, expected: str
) -> None:
    (params_data[section] if section else params_data)[key] = value
    with pytest.raises(ConfigError, match=f"^params.yaml: {expected}"):
        params_from_mapping(params_data)


def test_an_int_is_accepted_where_a_number_is_expected(params_data: dict[str, Any]) -> None:
    params_data["source"]["synthetic_test_fraction"] = 1
    assert params_from_mapping(params_data).source.synthetic_test_fraction == 1.0


def test_load_params_names_the_file(tmp_path: Path, params_data: dict[str, Any]) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match=f"params file not found: {missing}"):
        load_params(missing)

    broken = tmp_path / "broken.yaml"
    broken.write_text("seed: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{broken}: not valid YAML"):
        load_params(broken)

    listed = tmp_path / "listed.yaml"
    listed.write_text("- seed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{listed}: expected a mapping at the top level"):
        load_params(listed)

    params_data["sequences"]["shuffle"] = True
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump(params_data), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{unknown}: sequences: unknown key\(s\) \['shuffle'\]"):
        load_params(unknown)
