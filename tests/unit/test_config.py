"""params.yaml maps onto frozen, typed config; an unknown, missing or mistyped key fails loudly."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentiment.config import BASELINE, Params, load_params, model_family, params_from_mapping
from sentiment.core.errors import ConfigError


def test_the_project_params_load_into_typed_frozen_config(project_config: Params) -> None:
    assert isinstance(project_config.vocabulary.num_words, int)
    assert project_config.vocabulary.oov_token == "<OOV>"
    assert project_config.sequences.padding in ("pre", "post")
    assert isinstance(project_config.cleaning.stopwords, tuple)
    assert "not" in project_config.cleaning.negations
    assert project_config.splits.validation_fraction == 0.1 and project_config.splits.by_movie is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        project_config.vocabulary.num_words = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        (None, "trainig", {"epochs": 3}, r"unknown key\(s\) \['trainig'\]"),
        ("cleaning", "remove_emoji", True, r"cleaning: unknown key\(s\) \['remove_emoji'\]"),
        ("vocabulary", "num_word", 100, r"vocabulary: unknown key\(s\) \['num_word'\]"),
        # moved to `splits`: an old params.yaml is told, not half-read
        ("sequences", "validation_fraction", 0.1, r"sequences: unknown key\(s\) \['validation_fraction'\]"),
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


def test_a_missing_training_epochs_is_an_error_not_a_default(params_data: dict[str, Any]) -> None:
    del params_data["training"]["epochs"]
    with pytest.raises(ConfigError, match=r"^params.yaml: training: missing key 'epochs'$"):
        params_from_mapping(params_data)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("vocabulary", "oov_token"), "vocabulary: missing key 'oov_token'"),
        (("splits", "validation_fraction"), "splits: missing key 'validation_fraction'"),
        (("splits", "by_movie"), "splits: missing key 'by_movie'"),
        (("cleaning", "stopwords"), "cleaning: missing key 'stopwords'"),
        (("validation", "examples"), "validation: missing key 'examples'"),
        (("source", "synthetic_unlabeled"), "source: missing key 'synthetic_unlabeled'"),
        (("validation", "leakage", "policy"), "validation.leakage: missing key 'policy'"),
        (("registry", "margin"), "registry: missing key 'margin'"),
        (("registry", "alpha"), "registry: missing key 'alpha'"),
        (("baseline", "max_features"), "baseline: missing key 'max_features'"),
        (("models", "gru", "dropout"), "models.gru: missing key 'dropout'"),
        (("models", "gru", "pooling"), "models.gru: missing key 'pooling'"),
        (("models", "gru", "cell"), "models.gru: missing key 'cell'"),
    ],
)
def test_a_key_with_a_default_in_code_is_still_required(
    params_data: dict[str, Any], path: tuple[str, ...], expected: str
) -> None:
    test_a_missing_key_is_named(params_data, path, expected)


def test_each_model_is_named_by_its_family(project_config: Params) -> None:
    families = {
        name: model_family(name, project_config.models) for name in [*project_config.models, BASELINE]
    }
    assert families == {
        "rnn": "recurrent",
        "gru": "recurrent",
        "lstm": "recurrent",
        "bilstm": "recurrent",
        "deep": "recurrent",
        "bag": "bag-of-words",
        BASELINE: "count-based",
    }


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_a_variant_without_recurrence_is_cell_none_with_no_units(
    params_data: dict[str, Any], pooling: str
) -> None:
    params_data["models"]["bag"].update(pooling=pooling, dropout=0.2, bigram_buckets=0)
    bag = params_from_mapping(params_data).models["bag"]
    assert (bag.cell, bag.units, bag.pooling, bag.recurrent) == ("none", (), pooling, False)
    assert all(
        variant.recurrent
        for name, variant in params_from_mapping(params_data).models.items()
        if name != "bag"
    )


def test_only_the_documented_variant_options_may_be_left_out(params_data: dict[str, Any]) -> None:
    extras = ("reset_after", "bigram_buckets", "embedding_learning_rate", "average_weights", "pretrained")
    for name in extras:
        params_data["models"]["bilstm"].pop(name, None)
        params_data["models"]["gru"].pop(name, None)
    models = params_from_mapping(params_data).models
    assert [getattr(models["bilstm"], name) for name in extras] == [True, 0, 0.0, False, "none"]
    assert models["gru"].reset_after is True


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("sequences", "max_len", 0, "sequences.max_len: expected >= 1, got 0"),
        ("vocabulary", "num_words", 0, "vocabulary.num_words: expected >= 3, got 0 .index 0 is padding"),
        ("vocabulary", "num_words", 1, "vocabulary.num_words: expected >= 3, got 1"),
        ("vocabulary", "num_words", 2, "vocabulary.num_words: expected >= 3, got 2"),
        ("vocabulary", "oov_token", "", "vocabulary.oov_token: expected one word"),
        (None, "seed", -1, r"seed: expected in \[0, 4294967295\], got -1"),
        (None, "seed", 2**32, r"seed: expected in \[0, 4294967295\]"),
        ("splits", "validation_fraction", 0, r"splits.validation_fraction: expected in \(0, 1\), got 0"),
        ("splits", "validation_fraction", 1.0, r"splits.validation_fraction: expected in \(0, 1\)"),
        ("source", "synthetic_reviews", 7, "source.synthetic_reviews: expected >= 8, got 7"),
        ("source", "synthetic_test_fraction", 0.0, r"source.synthetic_test_fraction: expected in \(0, 1\)"),
        ("source", "synthetic_unlabeled", -1, "source.synthetic_unlabeled: expected >= 0, got -1"),
        ("source", "sha256", "C40F", "source.sha256: expected 64 lowercase hexadecimal digits"),
        ("source", "url", "ftp.example.org", r"source.url: expected an http\(s\) URL"),
        ("paths", "raw_dir", "/data/raw", "paths.raw_dir: expected a relative path inside the project"),
        ("paths", "models_dir", "../models", "paths.models_dir: expected a relative path inside the project"),
        ("cleaning", "stopwords", ["the", "of the"], r"cleaning.stopwords\[1\]: expected one word"),
        ("training", "epochs", 0, "training.epochs: expected >= 1, got 0"),
        ("training", "learning_rate", 0.0, "training.learning_rate: expected > 0, got 0.0"),
        ("training", "clipnorm", float("inf"), "training.clipnorm: expected a finite number, got inf"),
        ("training", "batch_size", 0, "training.batch_size: expected >= 1"),
        ("training", "early_stopping_patience", -1, "training.early_stopping_patience: expected >= 0"),
        ("training", "embedding_storage", "int4", r"training.embedding_storage: 'int4' is not one of"),
        ("training", "embedding_storage", "float16", r"training.embedding_storage: 'float16' is not one of"),
        ("baseline", "max_features", 0, "baseline.max_features: expected >= 1, got 0"),
        ("baseline", "regularization", -1, "baseline.regularization: expected > 0"),
        ("baseline", "ngram_max", 0, "baseline.ngram_max: expected >= 1"),
        ("diagnostics", "neighbours", 0, "diagnostics.neighbours: expected >= 1"),
        ("pretraining", "vector_size", 0, "pretraining.vector_size: expected >= 1, got 0"),
        ("pretraining", "threads", 0, "pretraining.threads: expected >= 1, got 0"),
        ("pretraining", "architecture", "glove", r"pretraining.architecture: 'glove' is not one of"),
        ("diagnostics", "projector_words", -1, "diagnostics.projector_words: expected >= 0"),
        ("registry", "margin", -0.01, "registry.margin: expected >= 0, got -0.01"),
        ("registry", "threshold", 1.0, r"registry.threshold: expected in \(0, 1\), got 1.0"),
        ("registry", "unreliable_oov_share", 0, r"registry.unreliable_oov_share: expected in \(0, 1\]"),
        ("registry", "selection_metric", "", "registry.selection_metric: expected a metric name"),
        ("registry", "alpha", 0, r"registry.alpha: expected in \(0, 1\), got 0"),
        ("registry", "alpha", 1.0, r"registry.alpha: expected in \(0, 1\), got 1.0"),
        ("registry", "comparison_metric", "roc_auc", r"registry.comparison_metric: 'roc_auc' is not one of"),
        (
            "registry",
            "challenger_alias",
            "champion",
            "registry.champion_alias and challenger_alias must differ",
        ),
    ],
)
def test_a_value_out_of_its_range_is_refused_by_key(
    params_data: dict[str, Any], section: str | None, key: str, value: object, expected: str
) -> None:
    (params_data[section] if section else params_data)[key] = value
    with pytest.raises(ConfigError, match=f"^params.yaml: {expected}"):
        params_from_mapping(params_data)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("validation", "raw", "max_characters"),
            5,
            r"validation.raw.min_characters: expected <= max_characters",
        ),
        (("validation", "raw", "min_words"), -1, "validation.raw.min_words: expected >= 0"),
        (("validation", "raw", "max_positive_share"), 0.3, "validation.raw.min_positive_share: expected <="),
        (
            ("validation", "raw", "min_positive_share"),
            1.5,
            r"validation.raw.min_positive_share: expected in \[0, 1\]",
        ),
        (
            ("validation", "raw", "positive_ratings"),
            [7, 11],
            r"validation.raw.positive_ratings\[1\]: expected in \[1, 10\]",
        ),
        (
            ("validation", "raw", "negative_ratings"),
            [],
            "validation.raw.negative_ratings: expected at least one",
        ),
        (
            ("validation", "raw", "negative_ratings"),
            [1, 7],
            "validation.raw.negative_ratings and positive_ratings share",
        ),
        (("validation", "sequences", "max_oov_rate"), 1.1, "validation.sequences.max_oov_rate: expected in"),
        (("validation", "examples"), -1, "validation.examples: expected >= 0"),
        (("source", "synthetic_test_fraction"), 0.9999, "source.synthetic_test_fraction: .* 1 train reviews"),
        (("models", "rnn", "units"), [], "models.rnn.units: expected at least one layer for cell 'rnn'"),
        (("models", "bag", "cell"), "gru", r"models.bag.units: expected at least one layer for cell 'gru'"),
        (
            ("models", "bag", "cell"),
            "transformer",
            r"models.bag.cell: 'transformer' is not one of \['none', ",
        ),
        (
            ("models", "rnn", "cell"),
            "none",
            r"models.rnn.units: expected \[\] .* when cell is 'none', got \[64\]",
        ),
        (
            ("models", "bag", "units"),
            [64],
            r"models.bag.units: expected \[\] \(no recurrent layer\) when cell",
        ),
        (
            ("models", "bag", "bidirectional"),
            True,
            "models.bag.bidirectional: expected false .no recurrent layer to run backwards. when cell is "
            "'none', got True",
        ),
        (("models", "bag", "pooling"), "last", "models.bag.pooling: expected 'mean' or 'max' .*, got 'last'"),
        (("models", "bag", "recurrent_dropout"), 0.2, "models.bag.recurrent_dropout: expected 0 .*, got 0.2"),
        (("models", "deep", "units"), [64, 0], r"models.deep.units\[1\]: expected >= 1, got 0"),
        (("models", "rnn", "dropout"), 1.0, r"models.rnn.dropout: expected in \[0, 1\), got 1.0"),
        (("models", "rnn", "embedding_dim"), 0, "models.rnn.embedding_dim: expected >= 1"),
        (("models", "bilstm", "bigram_buckets"), -1, "models.bilstm.bigram_buckets: expected >= 0"),
        (("models",), {}, "models: expected at least one variant"),
        (("models", "baseline"), {}, "models.baseline: expected a variant name"),
        (("models", "Big RNN"), {}, "models.Big RNN: expected a variant name"),
    ],
)
def test_a_nested_value_out_of_its_range_is_refused_by_key(
    params_data: dict[str, Any], path: tuple[str, ...], value: object, expected: str
) -> None:
    *parents, last = path
    mapping = params_data
    for parent in parents:
        mapping = mapping[parent]
    mapping[last] = value
    with pytest.raises(ConfigError, match=f"^params.yaml: {expected}"):
        params_from_mapping(params_data)


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("vocabulary", "num_words", "20000", "vocabulary.num_words: expected int, got '20000'"),
        ("vocabulary", "num_words", 200.5, "vocabulary.num_words: expected int"),
        ("vocabulary", "num_words", True, "vocabulary.num_words: expected int, got True"),
        ("sequences", "padding", "middle", r"sequences.padding: 'middle' is not one of \['pre', 'post'\]"),
        ("splits", "validation_fraction", "10%", "splits.validation_fraction: expected a number"),
        ("splits", "by_movie", "yes", "splits.by_movie: expected bool, got 'yes'"),
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
    params_data["training"]["clipnorm"] = 2
    clipnorm = params_from_mapping(params_data).training.clipnorm
    assert clipnorm == 2.0 and isinstance(clipnorm, float)


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


def test_pretrained_vectors_must_have_the_size_of_the_word_table(params_data: dict[str, Any]) -> None:
    params_data["models"]["gru"]["pretrained"] = "word2vec"
    params_data["models"]["gru"]["embedding_dim"] = 64
    params_data["pretraining"]["vector_size"] = 128
    expected = (
        r"models.gru.embedding_dim: expected 128 \(pretraining.vector_size\) "
        r"for pretrained 'word2vec', got 64"
    )
    with pytest.raises(ConfigError, match=f"^params.yaml: {expected}"):
        params_from_mapping(params_data)
    params_data["pretraining"]["vector_size"] = 64
    assert params_from_mapping(params_data).models["gru"].pretrained == "word2vec"
    params_data["models"]["gru"]["pretrained"] = "glove"
    with pytest.raises(ConfigError, match=r"^params.yaml: models.gru.pretrained: 'glove' is not one of"):
        params_from_mapping(params_data)
