"""Word-order sensitivity, as an outcome: a bag of words loses nothing when the words of each review are
shuffled, a model that reads order loses what order told it; the training stages report the shuffled
accuracy beside the accuracy, in the metrics file, the MLflow run and the comparison table."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from conftest import SMALL_OVERRIDES, merged, write_params
from sentiment.config import BASELINE, TrainingConfig, VariantConfig
from sentiment.config.workspace import Workspace
from sentiment.evaluation import metrics as evaluation
from sentiment.evaluation import word_order
from sentiment.orchestration import run_report
from sentiment.stages import model_training
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.tracking.lineage import PIPELINE_RUN_VARIABLE
from sentiment.tracking.runs import TRACKING_URI_VARIABLE
from support.training import mlflow_client, read_json, tiny_training_overrides

pytestmark = pytest.mark.slow

WORDS_ONLY = VariantConfig(cell="none", units=(), embedding_dim=8, pooling="mean")
WORD_PAIRS = VariantConfig(cell="none", units=(), embedding_dim=8, pooling="mean", bigram_buckets=1024)


def order_reviews(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reviews whose label is the order of two words: "2 3" somewhere is positive, "3 2" negative.

    Both classes hold the same words, so a bag of words cannot tell them apart; a model that reads
    which word comes first can, until the words are shuffled.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=count)
    tokens = np.zeros((count, 16), dtype=np.int32)
    for row, label in enumerate(labels):
        filler = rng.integers(4, 20, size=rng.integers(4, 13)).tolist()
        position = rng.integers(0, len(filler) + 1)
        review = [*filler[:position], *([2, 3] if label else [3, 2]), *filler[position:]]
        tokens[row, 16 - len(review) :] = review  # 'pre' padding
    return tokens, labels


def accuracies(variant: VariantConfig) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Test accuracy and shuffled test accuracy of `variant` trained on the order reviews, and its
    probabilities on the test reviews as they are and shuffled."""
    from sentiment.modeling import training
    from sentiment.modeling.inference import predict_probabilities

    arrays: dict[str, np.ndarray] = {}
    for split, (count, seed) in {"train": (768, 1), "validation": (128, 2), "test": (256, 3)}.items():
        arrays[f"x_{split}"], arrays[f"y_{split}"] = order_reviews(count, seed)
    settings = TrainingConfig(learning_rate=0.02, batch_size=32, epochs=12, early_stopping_patience=12)
    model = training.train(variant, settings, arrays, 20, seed=0, verbose=0).model
    plain = predict_probabilities(model, arrays["x_test"])
    shuffled = predict_probabilities(model, word_order.shuffle_tokens(arrays["x_test"], seed=42))
    labels = arrays["y_test"]
    return (
        evaluation.binary_metrics(labels, plain)["accuracy"],
        evaluation.binary_metrics(labels, shuffled)["accuracy"],
        plain,
        shuffled,
    )


def test_a_bag_of_words_loses_nothing_to_shuffling_and_a_reader_of_word_pairs_loses_the_order() -> None:
    accuracy, shuffled_accuracy, plain, shuffled = accuracies(WORDS_ONLY)
    assert shuffled_accuracy == accuracy, "the mean of the word vectors knows no order"
    np.testing.assert_allclose(shuffled, plain, atol=1e-6)
    assert accuracy < 0.65, "nothing but order tells the classes apart"

    accuracy, shuffled_accuracy, _, _ = accuracies(WORD_PAIRS)
    assert accuracy > 0.9, "the word pair (2, 3) against (3, 2) gives the label away"
    assert shuffled_accuracy < accuracy - 0.2, "shuffled, the pair is mostly broken"


@pytest.fixture(scope="module")
def tiny_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Preprocessed tiny synthetic reviews; the bag on words alone, the baseline on single words."""
    overrides = tiny_training_overrides()
    overrides["models"] = {"bag": {**overrides["models"]["bag"], "bigram_buckets": 0}}
    overrides["baseline"] = {"ngram_max": 1, "min_df": 1}
    root = tmp_path_factory.mktemp("word-order")
    write_params(root, merged(SMALL_OVERRIDES, overrides))
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, use_synthetic=True)
    for stage in (
        preprocessing_stages.clean,
        preprocessing_stages.vocabulary,
        preprocessing_stages.sequences,
    ):
        stage(workspace)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(TRACKING_URI_VARIABLE, raising=False)
        patch.delenv(PIPELINE_RUN_VARIABLE, raising=False)
        yield workspace


def test_the_stages_report_the_shuffled_accuracy_and_orderless_models_lose_nothing(
    tiny_workspace: Workspace,
) -> None:
    workspace = tiny_workspace
    assert workspace.params.models["bag"].bigram_buckets == 0
    model_training.train(workspace, "bag")
    model_training.baseline(workspace)  # TF-IDF of single words: counts, no order

    rows = {row["model"]: row for row in run_report.model_comparison(workspace)[0]}
    for name in ("bag", BASELINE):
        test = read_json(workspace.evaluation_file(name))["test"]
        assert test[word_order.SHUFFLED_METRIC] == test["accuracy"], name
        run = mlflow_client(workspace.root).get_run(read_json(workspace.run_record(name))["mlflow_run_id"])
        assert run.data.metrics["test_shuffled_accuracy"] == pytest.approx(test["accuracy"])
        assert rows[name]["test shuffled_accuracy"] == rows[name]["test accuracy"] != ""
    run = mlflow_client(workspace.root).get_run(read_json(workspace.run_record("bag"))["mlflow_run_id"])
    assert run.data.tags["model_family"] == "bag-of-words" and run.data.params["model.cell"] == "none"
