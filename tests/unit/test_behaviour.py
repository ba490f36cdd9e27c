"""The behavioural suite, pure: the project's templates expanded into cases, and models judged on them.

The models are rules over words, real callables with the `predict(reviews) -> probability of positive`
interface the served pyfuncs give: a keyword model that counts sentiment words (and so ignores
"not" and "but"), and a sound one that flips a sentiment word after a negation and reads the clause
after "but".
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import PROJECT_ROOT
from sentiment.config import ConfigError, params_from_mapping
from sentiment.config.workspace import BEHAVIOUR_SUITE_FILE
from sentiment.evaluation.behaviour import run_suite
from sentiment.evaluation.behaviour_suite import PLACEHOLDER, expand, parse_suite
from sentiment.registry.behaviour_gate import eligible, version_tags

SUITE_DATA = yaml.safe_load(BEHAVIOUR_SUITE_FILE.read_text(encoding="utf-8"))
SUITE = parse_suite(SUITE_DATA)
POSITIVE = {*SUITE.lexicons["positive_adjective"], "brilliantly", "well", "masterpiece", "loved"}
NEGATIVE = {*SUITE.lexicons["negative_adjective"], "slow", "terribly", "waste", "hated", "avoid"}
NEGATIONS = {"not", "never"}


def words(review: str) -> list[str]:
    return re.findall(r"[a-z]+", review.lower())


def polarity(word: str) -> int:
    return (word in POSITIVE) - (word in NEGATIVE)


def sigmoid(scores: list[float]) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(scores, dtype=np.float64)))


def keyword_model(reviews: list[str]) -> np.ndarray:
    """Sentiment words counted, whatever precedes them: "not good" is as positive as "good"."""
    return sigmoid([sum(polarity(word) for word in words(review)) for review in reviews])


def sound_model(reviews: list[str]) -> np.ndarray:
    """A sentiment word after "not"/"never" counts the other way; after "but", only that clause counts."""
    scores = []
    for review in reviews:
        text = review.lower().split(" but ")[-1]
        score, negated = 0, False
        for word in words(text):
            if word in NEGATIONS:
                negated = True
            elif polarity(word):
                score += -polarity(word) if negated else polarity(word)
                negated = False
        scores.append(score)
    return sigmoid(scores)


@pytest.fixture()
def behaviour_config(params_data: dict[str, Any]) -> Any:
    return params_from_mapping(params_data).behaviour


def test_the_suite_file_is_the_workspace_path_shipped_with_the_package() -> None:
    assert BEHAVIOUR_SUITE_FILE == PROJECT_ROOT / "src" / "sentiment" / "config" / "behaviour_suite.yaml"
    types = {test.type for test in SUITE.tests}
    assert types == {"mft", "inv", "dir"}
    names = {test.name for test in SUITE.tests}
    assert {"negated_negative", "negated_positive", "contrast_ends_positive", "typos"} <= names


def test_expansion_is_deterministic_bounded_and_fills_every_placeholder(behaviour_config: Any) -> None:
    cases = expand(SUITE, behaviour_config)
    assert cases == expand(SUITE, behaviour_config)
    per_test = {test.name: sum(case.test == test.name for case in cases) for test in SUITE.tests}
    assert set(per_test.values()) <= set(range(1, behaviour_config.cases_per_test + 1))
    assert 100 <= len(cases) <= 600  # a few hundred cases: seconds through a served model
    for case in cases:
        assert not PLACEHOLDER.search(case.original) and "{" not in case.original
        assert (case.perturbed is None) == (case.type == "mft")
        if case.perturbed is not None:
            assert case.perturbed != case.original
    reviews = {case.original for case in cases if case.test == "negated_negative"}
    assert "Not bad at all." in reviews  # the review: fixed templates are always kept

    other_seed = expand(SUITE, type(behaviour_config)(**{**vars(behaviour_config), "seed": 1}))
    assert [case.original for case in other_seed] != [case.original for case in cases]


def test_a_typo_never_touches_a_filled_in_word(behaviour_config: Any) -> None:
    lexicon_words = {
        word for entries in SUITE.lexicons.values() for entry in entries for word in words(entry)
    }
    for case in expand(SUITE, behaviour_config):
        if case.test == "typos":
            assert case.perturbed is not None
            changed = set(words(case.perturbed)) - set(words(case.original))
            assert len(changed) == 1 and not changed & lexicon_words, case


def test_the_suite_is_checked_key_by_key() -> None:
    def broken(change: Any) -> dict[str, Any]:
        data = yaml.safe_load(BEHAVIOUR_SUITE_FILE.read_text(encoding="utf-8"))
        change(data)
        return data

    with pytest.raises(ConfigError, match=r"tests\[0\]: unknown key\(s\) \['lable'\]"):
        parse_suite(broken(lambda data: data["tests"][0].update(lable="positive")))
    with pytest.raises(ConfigError, match=r"tests\[0\] \(clear_positive\): a mft test needs 'label'"):
        parse_suite(broken(lambda data: data["tests"][0].pop("label")))
    with pytest.raises(ConfigError, match=r"names no lexicon \{villain\}"):
        parse_suite(broken(lambda data: data["tests"][0]["templates"].append("{villain} was great.")))
    with pytest.raises(ConfigError, match=r"tests\[8\] \(person_names\).templates: .* no \{person\} to swap"):
        parse_suite(broken(lambda data: data["tests"][8]["templates"].append("A great film.")))
    with pytest.raises(ConfigError, match="names used more than once: \\['clear_positive'\\]"):
        parse_suite(broken(lambda data: data["tests"].append(dict(data["tests"][0]))))


def test_a_model_that_ignores_negation_fails_the_negation_tests_and_the_gate(behaviour_config: Any) -> None:
    result = run_suite(expand(SUITE, behaviour_config), keyword_model, behaviour_config)
    assert not result.passed
    assert {"negated_negative", "negated_positive"} <= set(result.failed_tests)
    assert result.pass_rates["negated_positive"] == 0.0  # "not good" read as "good", every time
    assert result.pass_rates["clear_positive"] == result.pass_rates["clear_negative"] == 1.0
    assert result.type_rates["inv"] == 1.0  # names, typos and case do not move a word count
    assert "negated_positive 0.00 < 0.8 (mft)" in result.reason()
    shown = [failure for failure in result.failures if failure.review == "Not bad at all."]
    assert shown and shown[0].expected == "positive" and shown[0].got.startswith("negative (p = ")
    examples = result.to_dict(examples=2)["failing_examples"]
    assert len(examples["negated_positive"]) == 2 and "clear_positive" not in examples
    assert version_tags(result)["behaviour.passed"] == "false"
    assert version_tags(result)["behaviour.negated_positive"] == "0.0"


def test_a_sound_model_passes(behaviour_config: Any) -> None:
    result = run_suite(expand(SUITE, behaviour_config), sound_model, behaviour_config)
    assert result.passed and result.failed_tests == [] and result.reason() == ""
    assert set(result.type_rates) == {"mft", "inv", "dir"}
    assert min(result.pass_rates.values()) >= 0.9
    assert version_tags(result)["behaviour.passed"] == "true"


def test_the_thresholds_come_from_params(params_data: dict[str, Any]) -> None:
    # The keyword model fails only minimum-functionality tests: with no mft threshold it passes; with
    # invariance required to be perfect and a typo read as a sentiment word, it fails that test too.
    params_data["behaviour"]["thresholds"]["mft"] = 0.0
    lenient = params_from_mapping(params_data).behaviour
    cases = expand(SUITE, lenient)
    assert run_suite(cases, keyword_model, lenient).passed

    typos = {case.perturbed for case in cases if case.test == "typos"}

    def reads_typos(reviews: list[str]) -> np.ndarray:  # a typo'd review is negative to it
        return np.where([review in typos for review in reviews], 0.0, keyword_model(reviews))

    params_data["behaviour"]["thresholds"]["inv"] = 1.0
    strict = params_from_mapping(params_data).behaviour
    result = run_suite(cases, reads_typos, strict)
    assert result.failed_tests == ["typos"] and result.pass_rates["typos"] < 1.0

    params_data["behaviour"]["thresholds"]["mtf"] = 0.5
    with pytest.raises(ConfigError, match=r"behaviour.thresholds: unknown key\(s\) \['mtf'\]"):
        params_from_mapping(params_data)
    params_data["behaviour"]["thresholds"].pop("mtf")
    params_data["behaviour"]["thresholds"]["dir"] = 1.5
    with pytest.raises(ConfigError, match=r"behaviour.thresholds.dir: expected in \[0, 1\], got 1.5"):
        params_from_mapping(params_data)


def test_a_direction_case_fails_only_when_the_probability_moves_the_wrong_way(behaviour_config: Any) -> None:
    cases = [case for case in expand(SUITE, behaviour_config) if case.type == "dir"]

    def backwards(reviews: list[str]) -> np.ndarray:  # every sentiment word read the other way
        return 1 - sound_model(reviews)

    def deaf(reviews: list[str]) -> np.ndarray:  # appended sentences change nothing
        return np.full(len(reviews), 0.7)

    assert run_suite(cases, backwards, behaviour_config).type_rates["dir"] < 0.5
    assert run_suite(cases, deaf, behaviour_config).type_rates["dir"] == 1.0  # CheckList: no move passes


def test_only_models_that_pass_compete_unless_none_does(behaviour_config: Any) -> None:
    cases = expand(SUITE, behaviour_config)
    results = {
        "keyword": run_suite(cases, keyword_model, behaviour_config),
        "sound": run_suite(cases, sound_model, behaviour_config),
    }
    assert eligible({"keyword": 0.95, "sound": 0.80}, results) == {"sound": 0.80}
    failing = {"keyword": results["keyword"], "other": results["keyword"]}
    assert eligible({"keyword": 0.95, "other": 0.9}, failing) == {"keyword": 0.95, "other": 0.9}
