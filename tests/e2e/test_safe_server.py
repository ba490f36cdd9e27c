"""What the project shows the outside, run as a user runs it, against an MLflow tracking server reached
with a user name and password in MLFLOW_TRACKING_URI (issue 13):

- case 5: training, registration and `sentiment predict` / `sentiment serve` put the password in no
  file, tag, parameter, artifact, console line or log (the run record, the Prefect artifacts' links,
  MLflow's store and artifacts, the servers' logs are all searched for it);
- case 7: `sentiment serve` answers garbage CSV, a 5 MB body, a 100,000-deep JSON, a wrong content
  type and a failing model with a short JSON error (no traceback, no path, no copy of the body), and
  good requests in every format with predictions, concurrently.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sentiment.config.workspace import Workspace
from sentiment.orchestration import run_report
from sentiment.serving import server as model_server
from sentiment.tracking import runs as tracking
from support import rest_server
from support.orchestration import BIN, free_port, spawn, wait_for_http
from support.serving import easy_workspace

pytestmark = pytest.mark.slow

PASSWORD = "pw-Tr4ck1ng-S3cret"
CHAMPION = "models:/imdb-sentiment@champion"
MARKER = "ECHO-MARKER-5c1e"  # in the bodies: an answer that copies the body shows it
LEAKS = ("Traceback", 'File "', "site-packages", ".venv", str(Path(sys.executable).parent))


@dataclass(frozen=True)
class Trained:
    workspace: Workspace
    store: Path  # the tracking server's directory: its database, artifacts and log
    server_uri: str  # without credentials
    credentialed_uri: str
    console: str  # everything the commands printed


def _environment(tracking_uri: str) -> dict[str, str]:
    cleaned = {
        key: value
        for key, value in os.environ.items()
        if key not in (tracking.USERNAME_VARIABLE, tracking.PASSWORD_VARIABLE, tracking.TRACKING_URI_VARIABLE)
    }
    return {**cleaned, tracking.TRACKING_URI_VARIABLE: tracking_uri, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2"}


# `sentiment ...` in a process of its own. (MLflow 3.17's tracking server refuses a model version whose
# source is a logged model, "models:/m-...", unless `model_id` names it: registry.champion passes it.)
CLI = """
import sys
from sentiment import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def _sentiment(root: Path, tracking_uri: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-c", CLI, "--root", str(root), *arguments],
        env=_environment(tracking_uri),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert completed.returncode == 0, f"{arguments}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return completed


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """A tiny champion trained and registered by the CLI's stages on a tracking server, reached with a
    password in MLFLOW_TRACKING_URI."""
    store = tmp_path_factory.mktemp("tracking-server")
    port = free_port()
    arguments: list[str | Path] = [
        BIN / "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
        "--artifacts-destination", str(store / "artifacts"),
    ]  # fmt: skip
    server_uri = f"http://127.0.0.1:{port}"
    credentialed = f"http://alice:{PASSWORD}@127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch, spawn(arguments, store / "server.log") as process:
        for name in (tracking.TRACKING_URI_VARIABLE, tracking.USERNAME_VARIABLE, tracking.PASSWORD_VARIABLE):
            patch.delenv(name, raising=False)
        workspace = easy_workspace(tmp_path_factory.mktemp("credentials") / "project")
        wait_for_http(f"{server_uri}/health", process, timeout=240, log=store / "server.log")
        console = []
        stages = (("stage", "train", "--variant", "tiny"), ("stage", "baseline"), ("stage", "register"))
        for command in stages:
            completed = _sentiment(workspace.root, credentialed, *command)
            console += [completed.stdout, completed.stderr]
        yield Trained(workspace, store, server_uri, credentialed, "\n".join(console))


def _files_holding(directory: Path, secret: bytes) -> list[str]:
    return [
        str(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.is_symlink() and secret in path.read_bytes()
    ]


@pytest.fixture(scope="module")
def served(trained: Trained, tmp_path_factory: pytest.TempPathFactory) -> Iterator[rest_server.Server]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with rest_server.serve(CHAMPION, trained.credentialed_uri, log, root=trained.workspace.root) as server:
        yield server


# --- case 5: no credentials anywhere ---------------------------------------------------------------


def test_no_file_tag_artifact_or_console_line_holds_the_tracking_password(trained: Trained) -> None:
    secret = PASSWORD.encode()
    assert PASSWORD not in trained.console
    assert "View run" not in trained.console  # MLflow's link line is replaced by the project's own
    assert f"MLflow run tiny: {trained.server_uri}/#/experiments/" in trained.console
    # The run record (git-tracked), the metrics and plots, the registry report: every workspace file.
    assert _files_holding(trained.workspace.root, secret) == []
    record = json.loads(trained.workspace.run_record("tiny").read_text(encoding="utf-8"))
    assert record["tracking_uri"] == trained.server_uri
    # MLflow's store (runs, params, tags, registered versions) and every artifact, and the server log.
    assert (trained.store / "mlflow.db").is_file() and any((trained.store / "artifacts").rglob("*"))
    assert _files_holding(trained.store, secret) == []
    # The Prefect artifacts' table links to the run on the server, without the password.
    rows, _ = run_report.model_comparison(trained.workspace)
    links = [row["MLflow run"] for row in rows if row.get("MLflow run")]
    assert links and all(f"({trained.server_uri}/#/experiments/" in link for link in links)
    assert PASSWORD not in str(rows)


def test_predict_and_serve_show_no_credentials(trained: Trained, served: rest_server.Server) -> None:
    completed = _sentiment(
        trained.workspace.root, trained.credentialed_uri, "predict", "a great and moving film"
    )
    assert completed.stdout.startswith("positive") and PASSWORD not in completed.stdout + completed.stderr
    status, answer = served.post({"inputs": ["a great and moving film"]})
    assert status == 200 and answer["predictions"][0]["label"] == "positive"
    assert f"serving {CHAMPION} at {served.url}" in served.log.read_text(errors="replace")
    assert PASSWORD not in served.log.read_text(errors="replace")
    missing = subprocess.run(
        [sys.executable, "-m", "sentiment.cli", "--root", str(trained.workspace.root), "serve", "--model",
         "models:/no-such-model@champion"],
        env=_environment(trained.credentialed_uri), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "cannot load models:/no-such-model@champion" in missing.stderr
    assert PASSWORD not in missing.stdout + missing.stderr


# --- case 7: `sentiment serve` answers every request safely ------------------------------------------


def _safe_error(status: int, raw: bytes, expected_status: int) -> dict[str, Any]:
    assert status == expected_status, raw[:500]
    assert len(raw) < 400, raw[:500]  # a short message, never the body back
    answer = json.loads(raw)
    assert set(answer) == {"error_code", "message"} and answer["message"]
    text = raw.decode()
    assert MARKER not in text and not any(leak in text for leak in LEAKS), text
    return dict(answer)


def test_garbage_csv_is_a_short_400(served: rest_server.Server) -> None:
    for body in (
        b"\x00\xff\xfe garbage \x1b[31m" + MARKER.encode(),
        f"{MARKER},other\n1,2,3\n".encode(),
        f'review\n"{MARKER} never closed'.encode() + b"\xc3",
    ):
        _safe_error(*served.post_raw(body, content_type="text/csv"), 400)


def test_a_5_mb_body_is_never_echoed(served: rest_server.Server) -> None:
    five_mb = ("{" + MARKER * (5_000_000 // len(MARKER))).encode()
    answer = _safe_error(*served.post_raw(five_mb), 413)
    assert answer["error_code"] == "PAYLOAD_TOO_LARGE"
    three_mb_malformed = ('{"inputs": ["' + MARKER * (3_000_000 // len(MARKER)) + '"').encode()
    _safe_error(*served.post_raw(three_mb_malformed), 400)


def test_deep_json_is_a_400_not_a_500(served: rest_server.Server) -> None:
    for body in ("[" * 100_000 + "]" * 100_000, '{"inputs": ' + "[" * 100_000):
        answer = _safe_error(*served.post_raw(body.encode()), 400)
        assert "nested too deeply" in answer["message"]


def test_wrong_content_type_method_and_path_are_named(served: rest_server.Server) -> None:
    _safe_error(*served.post_raw(b'{"inputs": ["fine"]}', content_type="text/plain"), 415)
    _safe_error(*served.post_raw(b'{"inputs": ["fine"]}', content_type=None), 415)
    host, port = served.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/invocations")
    response = connection.getresponse()
    _safe_error(response.status, response.read(), 405)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", f"/{MARKER}", body=b"{}", headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    _safe_error(response.status, response.read(), 404)
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(f"BROKEN {MARKER} \xff\r\n\r\n".encode("latin-1"))
        answer = raw.recv(4096)
    assert MARKER.encode() not in answer and b"Traceback" not in answer and b"error_code" in answer


def test_good_requests_in_every_format_get_predictions_concurrently(served: rest_server.Server) -> None:
    reviews = ["a great and moving film", "an awful boring plot", None, "   "]
    expected = ["positive", "negative", None, None]
    records = [{"review": review} for review in reviews]
    split = {"columns": ["review"], "data": [[review] for review in reviews]}
    bodies: list[tuple[bytes | Any, str]] = [
        ({"inputs": reviews}, "application/json"),
        ({"instances": records}, "application/json"),
        ({"dataframe_records": records}, "application/json; charset=utf-8"),
        ({"dataframe_split": split}, "application/json"),
        (pd.DataFrame({"id": [1, 2, 3, 4], "review": reviews}).to_csv(index=False).encode(), "text/csv"),
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda item: served.post(item[0], content_type=item[1]), bodies * 4))
    for status, answer in answers:
        assert status == 200, answer
        rows = answer["predictions"]
        assert [row["label"] for row in rows] == expected
        assert [row["error"] for row in rows][2:] == ["review is missing (null)", "review is empty"]
    assert served.alive()
    assert "Traceback" not in served.log.read_text(errors="replace")


class _FailingModel:
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise RuntimeError(f"{Path(sys.executable).parent}/site-packages/secret/module.py broke")


def test_a_failing_model_is_a_generic_500_with_the_details_only_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    httpd = model_server.make_server(_FailingModel(), "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", httpd.server_address[1], timeout=30)
        connection.request(
            "POST", "/invocations", body=b'{"inputs": ["x"]}', headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        answer = _safe_error(response.status, response.read(), 500)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert answer == {"error_code": "INTERNAL_ERROR", "message": model_server.MODEL_FAILED}
    assert "secret/module.py broke" in caplog.text  # the details: in the server's log


def test_the_servers_log_holds_no_password_after_every_request(served: rest_server.Server) -> None:
    assert PASSWORD not in served.log.read_text(errors="replace")
