"""The registered model: an MLflow pyfunc that takes raw review text.

It wraps the trained Keras network with the pipeline's own preprocessing (`serving.inputs`), and
carries as artifacts everything it was built with: the network (`.keras`), the vocabulary
(`vocabulary.json`) and the cleaning/sequence settings (`serving.json`). Anyone can then run
`mlflow.pyfunc.load_model("models:/imdb-sentiment@champion").predict(["What a film!"])`, or serve it
with `mlflow models serve`, without knowing how the text was prepared. When the TF-IDF baseline is
the registered model, it is the same interface (signature, input formats, output columns) around the
scikit-learn pipeline instead (`serving.baseline_pyfunc`).
"""

from __future__ import annotations

import json
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types import ColSpec, Schema

from sentiment.core.files import read_json
from sentiment.data.vocabulary import Vocabulary
from sentiment.serving.inputs import REVIEW_COLUMN, ServingConfig, prediction_table, prepare_reviews

NETWORK_ARTIFACT = "network"
VOCABULARY_ARTIFACT = "vocabulary"
CONFIG_ARTIFACT = "serving_config"
INPUT_EXAMPLE = [
    "A moving story, wonderfully acted: one of the best films I have seen this year.",
    "Dull, predictable and far too long. I would not watch it again.",
]
# The serving process needs these (and the `sentiment` package itself, so serve with --env-manager local).
REQUIREMENTS = ("mlflow", "tensorflow-cpu", "keras", "numpy", "pandas", "pyarrow")


class SentimentModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    """Raw reviews in (a `review` column or a list of strings), one prediction row per review out."""

    def load_context(self, context: Any) -> None:
        self.load(
            Path(context.artifacts[NETWORK_ARTIFACT]),
            Path(context.artifacts[VOCABULARY_ARTIFACT]),
            ServingConfig.from_dict(read_json(context.artifacts[CONFIG_ARTIFACT])),
        )

    def load(self, network_path: Path, vocabulary_path: Path, config: ServingConfig) -> SentimentModel:
        """Load the network and vocabulary: from the logged artifacts, or from the pipeline's own files
        (the register stage scores a candidate this way before logging it)."""
        from sentiment.modeling.storage import load_network  # float32 or int8 embedding (`storage`)

        self.network = load_network(network_path)
        self.vocabulary = Vocabulary.from_dict(read_json(vocabulary_path))
        self.config = config
        return self

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        from sentiment.serving.inputs import reviews_from_input

        prepared = prepare_reviews(reviews_from_input(model_input), self.vocabulary, self.config)
        return prediction_table(prepared, self.probabilities(prepared.sequences), self.config)

    def probabilities(self, sequences: np.ndarray) -> np.ndarray:
        """The network's probability of positive for padded sequences, in the rows' order.

        In batches of similar length, trimmed of all-padding columns: a short review costs its own
        length in recurrent steps, not `max_len` (the padding is masked anyway).
        """
        from sentiment.modeling.inference import predict_probabilities

        return predict_probabilities(self.network, sequences, self.config.batch_size)


class InProcessModel:
    """A served PythonModel used as a loaded pyfunc is (`predict(model_input)`), without logging it:
    the register stage scores its candidate this way, with the code that will serve it."""

    def __init__(self, python_model: Any) -> None:
        self.python_model = python_model

    def predict(self, model_input: Any) -> pd.DataFrame:
        table: pd.DataFrame = self.python_model.predict(None, model_input)
        return table


def signature() -> ModelSignature:
    """One string input column; the output columns of `serving_inputs.prediction_table`."""
    outputs = Schema(
        [
            ColSpec("double", "probability_positive", required=False),
            ColSpec("string", "label", required=False),
            ColSpec("string", "error", required=False),
            ColSpec("string", "warning", required=False),
            ColSpec("long", "words"),
            ColSpec("double", "oov_share", required=False),
            ColSpec("boolean", "truncated"),
        ]
    )
    return ModelSignature(inputs=Schema([ColSpec("string", REVIEW_COLUMN)]), outputs=outputs)


def pip_requirements(names: tuple[str, ...] = REQUIREMENTS) -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in names]


def preprocessing_params(config: ServingConfig) -> dict[str, Any]:
    """The preprocessing settings recorded on a logged model (with the model's own params)."""
    return {
        "max_len": config.sequences.max_len,
        "padding": config.sequences.padding,
        "truncating": config.sequences.truncating,
        "lowercase": config.cleaning.lowercase,
        "remove_html": config.cleaning.remove_html,
        "remove_stopwords": config.cleaning.remove_stopwords,
        "threshold": config.threshold,
    }


def write_config(config: ServingConfig, directory: Path) -> Path:
    path = directory / "serving.json"
    path.write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def log_serving_model(
    network_path: Path,
    vocabulary_path: Path,
    config: ServingConfig,
    name: str = "model",
    model_params: dict[str, Any] | None = None,
) -> ModelInfo:
    """Log the pyfunc model to the active MLflow run; returns its ModelInfo (model_uri, model_id).

    `model_params` (the variant, data hash, ...) are recorded on the logged model with the
    preprocessing settings, so the UI shows what the model was built with.
    """
    with tempfile.TemporaryDirectory() as staging:
        config_path = write_config(config, Path(staging))
        flat_params = {**preprocessing_params(config), **(model_params or {})}
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=SentimentModel(),
            artifacts={
                NETWORK_ARTIFACT: str(network_path),
                VOCABULARY_ARTIFACT: str(vocabulary_path),
                CONFIG_ARTIFACT: str(config_path),
            },
            signature=signature(),
            input_example=pd.DataFrame({REVIEW_COLUMN: INPUT_EXAMPLE}),
            pip_requirements=pip_requirements(),
            metadata={"serving_config": config.to_dict()},
            params={key: str(value) for key, value in flat_params.items()},
        )
