"""The registered champion, used as users use it: loaded in a fresh process (no training/serving skew),
served by `sentiment serve` on 127.0.0.1, and through `sentiment predict` / `sentiment score`.
(`sentiment serve`'s answers to hostile requests: tests/e2e/test_safe_server.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sentiment import cli
from sentiment.config.workspace import Workspace
from sentiment.stages import model_registry, model_training, readers
from support import rest_server
from support.serving import easy_workspace, losing_baseline

pytestmark = pytest.mark.slow

CHAMPION = "models:/imdb-sentiment@champion"
FRESH_PROCESS = """
import json, sys
import mlflow, numpy as np, pandas as pd
model = mlflow.pyfunc.load_model("models:/imdb-sentiment@champion")
reviews = pd.read_parquet(sys.argv[1])
table = model.predict(reviews)
np.save(sys.argv[2], table["probability_positive"].to_numpy(dtype=np.float64))
served = model.unwrap_python_model()
print(json.dumps({
    "inputs": model.metadata.get_input_schema().to_dict(),
    "has_input_example": model.metadata.saved_input_example_info is not None,
    "vocabulary": served.vocabulary.to_dict(),
    "config": served.config.to_dict(),
    "labels": table["label"].tolist(),
}))
"""


@pytest.fixture(autouse=True)
def no_tracking_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace whose trained variant is the registered champion (in its own SQLite store): every
    file the register stage reads comes from the real data, validation, train and baseline stages.
    (A baseline champion, served the same way: tests/integration/test_registry_candidates.py.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        workspace = easy_workspace(tmp_path_factory.mktemp("serving") / "project")
        model_training.train(workspace, "tiny")  # the real train stage
        losing_baseline(workspace)  # the real baseline stage; the network is the candidate here
        model_registry.register(workspace)
        yield workspace


def test_champion_in_a_fresh_process_predicts_what_the_network_predicts_on_pipeline_sequences(
    champion: Workspace, tmp_path: Path
) -> None:
    import keras

    import sentiment.modeling.builder  # noqa: F401  (the custom layer, for loading)

    arrays = readers.read_sequences(champion)
    raw = readers.read_raw(champion).set_index("review_id")
    reviews = pd.DataFrame({"review": raw.loc[arrays["ids_test"], "text"].to_numpy()})
    reviews.to_parquet(tmp_path / "reviews.parquet")
    completed = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(tmp_path / "reviews.parquet"), str(tmp_path / "p.npy")],
        capture_output=True,
        text=True,
        env={**_environment(), "MLFLOW_TRACKING_URI": model_registry.mlflow_uri(champion)},
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])

    network = keras.saving.load_model(champion.model_file("tiny"))
    expected = network.predict(arrays["x_test"], verbose=0).reshape(-1)
    served = np.load(tmp_path / "p.npy")
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)
    assert found["labels"] == ["positive" if value >= 0.5 else "negative" for value in expected]
    assert (np.array(found["labels"]) == np.where(arrays["y_test"] == 1, "positive", "negative")).mean() > 0.9

    # The model carries its signature, example, vocabulary and preprocessing settings.
    assert found["inputs"] == [{"type": "string", "name": "review", "required": True}]
    assert found["has_input_example"]
    assert found["vocabulary"] == json.loads(champion.path(champion.params.paths.vocabulary).read_text())
    params = champion.params
    assert found["config"]["sequences"]["max_len"] == params.sequences.max_len
    assert found["config"]["cleaning"]["remove_html"] == params.cleaning.remove_html


def test_rest_server_answers_every_review_and_survives_bad_input(champion: Workspace, tmp_path: Path) -> None:
    model_reviews = ["a great and moving film", "an awful boring plot"]
    bad = ["", "   ", "<p><br /></p>&nbsp;", "great " * 180_000, "Une histoire magnifique et émouvante"]
    with rest_server.serve(CHAMPION, model_registry.mlflow_uri(champion), tmp_path / "server.log") as server:
        status, answer = server.post({"inputs": model_reviews + bad})
        assert status == 200, answer
        rows = answer["predictions"]
        assert [row["label"] for row in rows[:2]] == ["positive", "negative"]
        assert [row["error"] for row in rows[2:5]] == [
            "review is empty",
            "review is empty",
            "review has no words after cleaning (only HTML, entities or punctuation)",
        ]
        assert rows[5]["truncated"] and rows[5]["words"] == 180_000 and rows[5]["label"] == "positive"
        assert rows[6]["label"] in ("positive", "negative") and "unreliable" in rows[6]["warning"]

        # Every format keeps JSON types: null and numbers get their own error, the others an answer.
        for body in (
            {"dataframe_records": [{"review": None}, {"review": 42}, {"review": "great"}]},
            {"inputs": [None, 42, "great"]},
            {"dataframe_split": {"columns": ["review"], "data": [[None], [42], ["great"]]}},
        ):
            status, answer = server.post(body)
            assert status == 200
            assert [row["error"] for row in answer["predictions"]] == [
                "review is missing (null)",
                "review must be a string, got int",
                None,
            ]

        # Malformed requests get a 400 with a message, and the server keeps serving.
        for body in (b"{not json", {"reviews": ["no such format key"]}, {"inputs": "one string, not a list"}):
            status, answer = server.post(body)
            assert status == 400 and answer["message"], answer
        assert server.alive()
        assert server.post({"inputs": ["great"]})[1]["predictions"][0]["label"] == "positive"


def test_cli_predicts_one_review_and_scores_files(
    champion: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ["--root", str(champion.root)]
    assert cli.main([*root, "predict", "a great and moving film"]) == 0
    label, probability = capsys.readouterr().out.strip().split("\t")
    assert label == "positive" and 0.5 <= float(probability) <= 1.0
    assert cli.main([*root, "predict", "   "]) == cli.EXIT_USER_ERROR
    captured = capsys.readouterr()
    assert "error\treview is empty" in captured.out and "1 of 1 reviews got no prediction" in captured.err

    source = tmp_path / "reviews.csv"
    pd.DataFrame(
        {"id": [1, 2, 3], "text": ["superb film", "", "dull and clumsy"], "label": [1, 0, 0]}
    ).to_csv(source, index=False)
    target = tmp_path / "scored.parquet"
    assert cli.main([*root, "score", str(source), str(target), "--column", "text"]) == 0
    scored = pd.read_parquet(target)
    assert list(scored["id"]) == [1, 2, 3] and list(scored["label"]) == [1, 0, 0]
    assert scored["predicted_label"].fillna("-").tolist() == ["positive", "-", "negative"]
    assert scored["error"].tolist()[1] == "review is missing (null)"  # an empty CSV cell is a missing value

    parquet = tmp_path / "reviews.parquet"
    pd.DataFrame({"review": pd.Series(["brilliant", None, "awful"], dtype=object)}).to_parquet(parquet)
    assert cli.main([*root, "score", str(parquet), str(tmp_path / "scored.csv")]) == 0
    assert pd.read_csv(tmp_path / "scored.csv")["label"].tolist()[::2] == ["positive", "negative"]

    # Bad files: a clear error naming the file, a non-zero exit, and no output.
    assert cli.main([*root, "score", str(source), str(tmp_path / "no.csv")]) == cli.EXIT_USER_ERROR
    assert "no 'review' column" in capsys.readouterr().err and not (tmp_path / "no.csv").exists()
    assert cli.main([*root, "score", str(source), str(tmp_path / "out.txt"), "--column", "text"]) == 2
    assert "unsupported file type '.txt'" in capsys.readouterr().err


def _environment() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
