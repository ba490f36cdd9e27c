"""Registry and serving: the model a pipeline workspace serves, measured as served: the size of its
artifact, batch scoring through its pyfunc, and single-review latency over REST.

    python benchmarks/serving.py --workspace DIR [--candidate NAME] [--servers sentiment mlflow]
    python benchmarks/serving.py [--build --workspace DIR] [--variant bilstm] [--epochs 1] [--synthetic N]

--workspace DIR is a pipeline workspace where `dvc repro` trained and registered the models (its
params.yaml, MLflow store, raw reviews); the benchmark writes nothing there. It measures
`models:/<name>@champion` (--model-uri for another version), or with --candidate NAME the pyfunc that
the register stage logs for the trained model NAME (say the `bilstm` when the baseline is champion),
logged into a scratch MLflow store. Without --workspace, or with --build, it first makes a quick
workspace (at --workspace, default $TMPDIR/sentiment-serving-benchmark; reused once registered) with
the real stages and params.yaml, only --variant and the baseline trained, --variant for --epochs, on
the shared archive or --synthetic reviews (a check that the script runs: its section is then printed,
not written, unless --output is given). Then:
- artifact: the served model's files as the registry holds them, in all and per pyfunc artifact;
- batch scoring: the model loaded with mlflow.pyfunc, the raw test reviews scored in batches of 1,000
  (cleaning, vocabulary, padding and the network), best of --repeats runs;
- REST latency, per --servers: `sentiment serve` and `mlflow models serve --env-manager local` on
  127.0.0.1; after 20 warm-up requests, --requests POSTs of one review each, one at a time, timed
  from send to parsed answer; bounded by --deadline seconds.
Figures are printed and written to the "Registry and serving" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
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
from served_model import ServedModel, artifact_sizes, candidate_model, registered_model
from support import rest_server

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Outside the project: it holds the shared reviews, which never go into the project tree.
DEFAULT_WORKSPACE = Path(tempfile.gettempdir()) / "sentiment-serving-benchmark"
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Registry and serving"
WARM_UP_REQUESTS = 20


def build_workspace(root: Path, archive: Path, variant: str, epochs: int, synthetic: int | None) -> Workspace:
    """A workspace with `variant` and the baseline trained, the better on validation registered, by the
    real stages (on the shared archive, or `synthetic` reviews)."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["models"] = {variant: params["models"][variant]}
    params["training"]["epochs"] = epochs
    if synthetic:
        params["source"]["synthetic_reviews"] = synthetic
    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    workspace = Workspace.load(root)
    if workspace.registry_report.exists():
        print(f"reusing the registered model of {root}")
        return workspace
    raw_stages.fetch_raw(workspace, archive=None if synthetic else archive, use_synthetic=bool(synthetic))
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


def test_reviews(workspace: Workspace) -> tuple[list[str], np.ndarray]:
    raw = readers.read_raw(workspace)
    test = raw[raw["split"] == "test"]
    return test["text"].tolist(), test["label"].to_numpy()


def batch_scoring(
    served: ServedModel, reviews: list[str], labels: np.ndarray, repeats: int
) -> dict[str, Any]:
    model = scoring.load_model(served.uri, served.tracking_uri)
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


def rest_latency(
    served: ServedModel, server: str, reviews: list[str], requests: int, deadline_seconds: float
) -> dict[str, Any]:
    generator = np.random.default_rng(0)
    sample = [reviews[index] for index in generator.integers(0, len(reviews), size=requests)]
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "server.log"
        start = time.perf_counter()
        with rest_server.serve(served.uri, served.tracking_uri, log, server=server) as running:
            startup = time.perf_counter() - start
            for review in sample[:WARM_UP_REQUESTS]:
                running.post({"inputs": [review]})
            finish_by = time.monotonic() + deadline_seconds
            for review in sample:
                if time.monotonic() > finish_by:
                    break
                sent = time.perf_counter()
                status, answer = running.post({"inputs": [review]}, timeout=30)
                latencies.append(time.perf_counter() - sent)
                if status != 200 or answer["predictions"][0]["error"]:
                    raise RuntimeError(f"{server}: request failed ({status}): {json.dumps(answer)[:300]}")
    milliseconds = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "startup_seconds": startup,
        "p50_ms": float(np.percentile(milliseconds, 50)),
        "p95_ms": float(np.percentile(milliseconds, 95)),
        "p99_ms": float(np.percentile(milliseconds, 99)),
        "mean_ms": float(statistics.fmean(milliseconds)),
    }


def shown_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


SERVER_COMMANDS = {"sentiment": "`sentiment serve`", "mlflow": "`mlflow models serve --env-manager local`"}


def describe(workspace: Workspace, served: ServedModel, built: bool) -> str:
    """Which model was measured, and how it was trained."""
    params = workspace.params
    if served.variant in params.models:
        config = params.models[served.variant]
        layers = f"{config.cell.upper()} {list(config.units)}" if config.recurrent else "no recurrent layer"
        pairs = f", word pairs {config.bigram_buckets:,}" if config.bigram_buckets else ""
        model = (
            f"variant `{served.variant}` ({layers}, embedding {config.embedding_dim}{pairs}; embedding "
            f"stored {params.training.embedding_storage})"
        )
    else:
        model = f"`{served.variant}` (the TF-IDF baseline)"
    trained_on = len(readers.read_sequences(workspace)["y_train"])
    how = (
        f"trained by this benchmark's quick workspace ({params.training.epochs} epoch(s), only this "
        "variant and the baseline: not the pipeline's full training)"
        if built
        else f"trained by the workspace's pipeline ({params.training.epochs} epoch(s) at most)"
    )
    return f"`{served.uri}` ({served.how}): {model}, {how}, on {trained_on:,} training reviews"


def report(
    workspace: Workspace, served: ServedModel, sizes: dict[str, int], batch: dict[str, Any],
    rest: dict[str, dict[str, Any]], facts: dict[str, Any],
) -> str:  # fmt: skip
    runs = ", ".join(f"{seconds:.1f}" for seconds in batch["seconds"])
    scored = f"batch scoring, {batch['reviews']:,} raw test reviews ({batch['megabytes']:.1f} MB)"
    speed = f"**{batch['reviews_per_second']:,.0f} reviews/s**"
    timing = f"({batch['best_seconds']:.1f} s, best of {len(batch['seconds'])}: {runs})"
    rows = [f"| served model, all its files | **{shown_size(sizes.pop('total'))}** |"]
    rows += [f"| artifact `{name}` | {shown_size(size)} |" for name, size in sizes.items()]
    rows.append(f"| {scored} | {speed} {timing} |")
    for server, figures in rest.items():
        name = SERVER_COMMANDS[server]
        rows += [
            f"| REST single-review latency, {name}, p50 | **{figures['p50_ms']:.1f} ms** |",
            f"| REST single-review latency, {name}, p95 | **{figures['p95_ms']:.1f} ms** |",
            f"| {name}: p99 / mean over {figures['requests']:,} requests; start until /ping answers | "
            f"{figures['p99_ms']:.1f} ms / {figures['mean_ms']:.1f} ms; {figures['startup_seconds']:.1f} s |",
        ]
    recorded = "(no recorded accuracy to compare)"
    if served.test_accuracy is not None:
        recorded = f"against {served.test_accuracy:.4f} measured by {served.recorded_by}"
    table = "\n".join(rows)
    return f"""## {SECTION_TITLE}

Measured {facts["date"]} on {machine()}, shared with other work (load average {facts["load"]}).

    {facts["command"]}

Model: {describe(workspace, served, facts["built"])}; max_len {workspace.params.sequences.max_len},
vocabulary {workspace.params.vocabulary.num_words} words.

| measure | result |
|---|---|
{table}

- Sizes are of the served model's files as the registry holds them (MLmodel, environment files, input
  example and the pyfunc's artifacts: network or pipeline, vocabulary, settings), in MB of 10^6 bytes.
- Batch scoring goes through `mlflow.pyfunc.load_model(...).predict` in batches of {scoring.SCORING_BATCH:,}
  reviews (`sentiment score` does the same): cleaning, vocabulary, padding and the network, all included.
  Their test accuracy, {batch["accuracy"]:.4f} ({batch["errors"]} reviews without a prediction), {recorded},
  checks that serving reproduces the pipeline (a check, not a result: the model was chosen on validation).
- Latency is one review per request, sequential, over HTTP on 127.0.0.1 (one server process), measured
  by the client from send to parsed JSON answer, after {WARM_UP_REQUESTS} warm-up requests.
"""


@contextlib.contextmanager
def measured_model(workspace: Workspace, arguments: argparse.Namespace) -> Iterator[ServedModel]:
    if arguments.candidate:
        with candidate_model(workspace, arguments.candidate) as served:
            yield served
    else:
        yield registered_model(workspace, arguments.model_uri or model_registry.champion_uri(workspace))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="a pipeline workspace (with --build: to build)")
    parser.add_argument("--model-uri", help="the registered model to measure (default: the champion)")
    parser.add_argument("--candidate", help="measure the pyfunc the register stage logs for this model")
    parser.add_argument("--build", action="store_true", help="build a quick workspace at --workspace")
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="--build: aclImdb archive")
    parser.add_argument("--synthetic", type=int, help="--build: this many synthetic reviews instead")
    parser.add_argument("--variant", default="bilstm", help="--build: the params.yaml variant to train")
    parser.add_argument("--epochs", type=int, default=1, help="--build: training epochs")
    parser.add_argument(
        "--servers", nargs="+", choices=sorted(SERVER_COMMANDS), default=list(SERVER_COMMANDS)
    )
    parser.add_argument("--requests", type=int, default=1000, help="timed REST requests per server")
    parser.add_argument("--repeats", type=int, default=2, help="batch scoring runs (the best is kept)")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds allowed per server")
    parser.add_argument("--output", type=Path, help="Markdown file to update (default: BENCHMARKS.md)")
    arguments = parser.parse_args(argv)
    build = arguments.build or arguments.workspace is None
    output = arguments.output or (None if arguments.synthetic else DEFAULT_OUTPUT)
    load_before = load_average()
    try:
        root = (arguments.workspace or DEFAULT_WORKSPACE).resolve()
        if build:
            workspace = build_workspace(
                root, arguments.archive, arguments.variant, arguments.epochs, arguments.synthetic
            )
        else:
            workspace = Workspace.load(root)
        reviews, labels = test_reviews(workspace)
        with measured_model(workspace, arguments) as served:
            sizes = artifact_sizes(served)
            print(json.dumps(sizes, indent=2))
            batch = batch_scoring(served, reviews, labels, arguments.repeats)
            print(json.dumps(batch, indent=2))
            rest = {}
            for server in arguments.servers:
                rest[server] = rest_latency(served, server, reviews, arguments.requests, arguments.deadline)
                print(server, json.dumps(rest[server], indent=2))
    except SentimentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    facts = {
        "date": datetime.date.today().isoformat(),
        "load": f"{load_before} before, {load_average()} after",
        "command": " ".join(["python benchmarks/serving.py", *(argv if argv is not None else sys.argv[1:])]),
        "built": build,
    }
    section = report(workspace, served, sizes, batch, rest, facts)
    if output is None:
        print(section)
    else:
        publish(output, SECTION_TITLE, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
