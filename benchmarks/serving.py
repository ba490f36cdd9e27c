"""Registry and serving speed: batch scoring of the shared test reviews through the registered
model, and single-review latency through `mlflow models serve`.

    python benchmarks/serving.py [--workspace DIR] [--variant gru] [--epochs 1] [--requests 1000]

With no trained workspace at --workspace (default $TMPDIR/sentiment-serving-benchmark), it builds one from the
shared archive with the real stages and params.yaml, except that only --variant is trained, for
--epochs: fetch, clean, validate_text, vocabulary, sequences, validate_sequences, train, register. Then:
- batch scoring: `models:/<name>@champion` loaded with mlflow.pyfunc, the raw test reviews scored in
  batches of 1,000 (cleaning, vocabulary, padding and the network), best of --repeats runs;
- REST latency: the same model served by `mlflow models serve --env-manager local` on 127.0.0.1; after
  20 warm-up requests, --requests POSTs of one review each (`{"inputs": [review]}`), one at a time,
  timed from send to parsed answer; bounded by --deadline seconds.
Figures are printed and written to the "Registry and serving" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from report_support import DEFAULT_ARCHIVE, load_average, machine, publish

# The REST-server helper lives with its other users, the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.serving import scoring
from sentiment.stages import data_validation, model_registry, model_training, readers
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from support import rest_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Outside the project: it holds the shared reviews, which never go into the project tree.
DEFAULT_WORKSPACE = Path(tempfile.gettempdir()) / "sentiment-serving-benchmark"
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Registry and serving"
WARM_UP_REQUESTS = 20


def build_workspace(root: Path, archive: Path, variant: str, epochs: int) -> Workspace:
    """A workspace on the shared reviews with `variant` and the baseline trained, the better on
    validation registered, by the real stages."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["models"] = {variant: params["models"][variant]}
    params["training"]["epochs"] = epochs
    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    workspace = Workspace.load(root)
    if (workspace.registry_report).exists():
        print(f"reusing the registered model of {root}")
        return workspace
    raw_stages.fetch_raw(workspace, archive=archive)
    for stage in (
        preprocessing_stages.clean,
        data_validation.validate_text,
        preprocessing_stages.vocabulary,
        preprocessing_stages.sequences,
    ):
        stage(workspace)
    data_validation.validate_sequences(workspace)
    model_training.train(workspace, variant)
    model_training.baseline(workspace)  # every trained model is a candidate of the register stage
    model_registry.register(workspace)
    return workspace


def batch_scoring(workspace: Workspace, repeats: int) -> dict[str, Any]:
    model = scoring.load_model(model_registry.champion_uri(workspace), model_registry.mlflow_uri(workspace))
    raw = readers.read_raw(workspace)
    test = raw[raw["split"] == "test"]
    reviews, labels = test["text"].tolist(), test["label"].to_numpy()
    seconds, table = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        table = scoring.predict_reviews(model, reviews, batch_size=scoring.SCORING_BATCH)
        seconds.append(time.perf_counter() - start)
    assert table is not None
    predicted = table["label"].eq("positive").to_numpy()
    return {
        "reviews": len(reviews),
        "best_seconds": min(seconds),
        "seconds": seconds,
        "reviews_per_second": len(reviews) / min(seconds),
        "accuracy": float((predicted == (labels == 1)).mean()),
        "errors": int(table["error"].notna().sum()),
        "megabytes": sum(len(review.encode("utf-8")) for review in reviews) / 1e6,
    }


def rest_latency(workspace: Workspace, requests: int, deadline_seconds: float) -> dict[str, Any]:
    raw = readers.read_raw(workspace)
    reviews = (
        raw.loc[raw["split"] == "test", "text"].sample(n=requests, random_state=0, replace=True).tolist()
    )
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "server.log"
        start = time.perf_counter()
        champion, store = model_registry.champion_uri(workspace), model_registry.mlflow_uri(workspace)
        with rest_server.serve(champion, store, log) as server:
            startup = time.perf_counter() - start
            for review in reviews[:WARM_UP_REQUESTS]:
                server.post({"inputs": [review]})
            finish_by = time.monotonic() + deadline_seconds
            for review in reviews:
                if time.monotonic() > finish_by:
                    break
                sent = time.perf_counter()
                status, answer = server.post({"inputs": [review]}, timeout=30)
                latencies.append(time.perf_counter() - sent)
                if status != 200 or answer["predictions"][0]["error"]:
                    raise RuntimeError(f"request failed ({status}): {json.dumps(answer)[:300]}")
    milliseconds = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "startup_seconds": startup,
        "p50_ms": float(np.percentile(milliseconds, 50)),
        "p95_ms": float(np.percentile(milliseconds, 95)),
        "p99_ms": float(np.percentile(milliseconds, 99)),
        "mean_ms": float(statistics.fmean(milliseconds)),
        "requests_per_second": len(latencies) / float(np.sum(latencies)),
    }


def report(workspace: Workspace, batch: dict[str, Any], rest: dict[str, Any], command: str, load: str) -> str:
    decision = json.loads((workspace.registry_report).read_text())
    variant = decision["candidate"]["variant"]
    recorded = decision["candidates"][variant]["test_accuracy"]  # as its training stage measured it
    trained_on = len(readers.read_sequences(workspace)["y_train"])
    if variant in workspace.params.models:
        config = workspace.params.models[variant]
        model = (
            f"variant `{variant}` ({config.cell.upper()} {list(config.units)}, embedding "
            f"{config.embedding_dim}) trained by the train stage for {workspace.params.training.epochs} "
            "epoch(s)"
        )
    else:
        model = "the TF-IDF baseline (the better on validation) trained by the baseline stage"
    today = datetime.date.today().isoformat()
    runs = ", ".join(f"{seconds:.1f}" for seconds in batch["seconds"])
    scored = f"batch scoring, {batch['reviews']:,} raw test reviews ({batch['megabytes']:.1f} MB)"
    speed = f"**{batch['reviews_per_second']:,.0f} reviews/s**"
    timing = f"({batch['best_seconds']:.1f} s, best of {len(batch['seconds'])}: {runs})"
    return f"""## {SECTION_TITLE}

Measured {today} on {machine()}, shared with other work (load average {load}).

    {command}

Model: `{model_registry.champion_uri(workspace)}`, version {decision["candidate"]["version"]}:
{model} on the {trained_on:,} shared training reviews (a quick
benchmark model, not the pipeline's full training), registered by the register stage; max_len
{workspace.params.sequences.max_len}, vocabulary {workspace.params.vocabulary.num_words} words.

| measure | result |
|---|---|
| {scored} | {speed} {timing} |
| REST single-review latency, p50 | **{rest["p50_ms"]:.1f} ms** |
| REST single-review latency, p95 | **{rest["p95_ms"]:.1f} ms** |
| REST p99 / mean | {rest["p99_ms"]:.1f} ms / {rest["mean_ms"]:.1f} ms over {rest["requests"]:,} requests |
| REST server start (`mlflow models serve` until /ping answers) | {rest["startup_seconds"]:.1f} s |

- Batch scoring goes through `mlflow.pyfunc.load_model(...).predict` in batches of {scoring.SCORING_BATCH:,}
  reviews (`sentiment score` does the same): cleaning, vocabulary, padding and the network, all included.
  Their test accuracy, {batch["accuracy"]:.4f} ({batch["errors"]} reviews without a prediction), is the
  train stage's test accuracy on the pipeline's own sequences, {recorded:.4f}: no training/serving skew
  (a check that serving reproduces the stage; the register stage chose the model on validation).
- Latency is one review per request, sequential, over HTTP on 127.0.0.1 to MLflow's uvicorn server
  (1 worker), measured by the client from send to parsed JSON answer, after {WARM_UP_REQUESTS} warm-up
  requests.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="aclImdb archive or directory")
    parser.add_argument("--workspace", type=Path, default=DEFAULT_WORKSPACE, help="benchmark workspace")
    parser.add_argument("--variant", default="gru", help="the params.yaml variant to train and register")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of the benchmark model")
    parser.add_argument("--requests", type=int, default=1000, help="timed REST requests")
    parser.add_argument("--repeats", type=int, default=2, help="batch scoring runs (the best is kept)")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds allowed for the requests")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to update")
    arguments = parser.parse_args(argv)
    load_before = load_average()
    try:
        workspace = build_workspace(
            arguments.workspace.resolve(), arguments.archive, arguments.variant, arguments.epochs
        )
        batch = batch_scoring(workspace, arguments.repeats)
        print(json.dumps(batch, indent=2))
        rest = rest_latency(workspace, arguments.requests, arguments.deadline)
        print(json.dumps(rest, indent=2))
    except SentimentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = "python benchmarks/serving.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = report(workspace, batch, rest, command.strip(), f"{load_before} before, {load_average()} after")
    publish(arguments.output, SECTION_TITLE, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
