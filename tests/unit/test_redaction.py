"""Credentials in a tracking URI never reach what the project writes or shows (issue 13, case 5): the one
redaction (`tracking.uris.redacted`), the credentials MLflow gets from its own variables instead of
the URI, the run links of the Prefect artifacts, and the error messages of an unreachable store.

The end-to-end check, a real training and registration against a tracking server reached with a
password, is tests/e2e/test_safe_server.py."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import write_params
from sentiment import cli
from sentiment.config import Params
from sentiment.config.workspace import Workspace
from sentiment.orchestration import run_report
from sentiment.serving import scoring
from sentiment.tracking import lineage as lineages
from sentiment.tracking import runs as tracking
from sentiment.tracking import uris

PASSWORD = "pw-Secr3t%2Fwith-slash"  # as written in the URI (percent-encoded "/")
SECRET = "pw-Secr3t"  # what must never appear
CREDENTIALED = f"http://alice:{PASSWORD}@127.0.0.1:9"  # the discard port: nothing listens
FAST_FAILURE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


@pytest.fixture(autouse=True)
def clean_environment() -> Iterator[None]:
    """No tracking variables from outside; whatever a test (or the code: the credentials it moves into
    MLflow's variables) sets is undone after it. monkeypatch.delenv of an absent variable records
    nothing, so a variable the code sets later would outlive the test: patch.dict restores it all."""
    with mock.patch.dict(os.environ):
        for name in (
            tracking.TRACKING_URI_VARIABLE,
            tracking.USERNAME_VARIABLE,
            tracking.PASSWORD_VARIABLE,
            tracking.SUPPRESS_URL_PRINTING_VARIABLE,
            lineages.PIPELINE_RUN_VARIABLE,
        ):
            os.environ.pop(name, None)
        os.environ.update(FAST_FAILURE)
        yield


# --- the redaction ----------------------------------------------------------------------------------

secrets = st.text(min_size=1, max_size=30).map(lambda text: "pw-" + text)
schemes = st.sampled_from(["http", "https", "postgresql", "mysql+pymysql", "databricks", "s3"])


@given(scheme=schemes, user=st.text(max_size=20), password=secrets, token=secrets)
def test_no_uri_keeps_its_password_or_token(scheme: str, user: str, password: str, token: str) -> None:
    uri = (
        f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@tracking.example:5000/mlflow"
        f"?sslmode=require&access_token={quote(token, safe='')}#/experiments"
    )
    for text in (uri, f"error: API request to {uri}/api/2.0 failed ('{uri}')"):
        shown = uris.redacted(text)
        assert quote(password, safe="") not in shown and quote(token, safe="") not in shown
        assert "tracking.example:5000/mlflow?sslmode=require&access_token=***" in shown


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("http://alice:pw@host:5000", "http://host:5000"),
        ("https://token@host/path", "https://host/path"),
        (
            "https://host/x?X-Amz-Signature=abc&X-Amz-Date=1",
            "https://host/x?X-Amz-Signature=***&X-Amz-Date=1",
        ),
        ("https://host/x?sig=abc&api_key=d&page=2", "https://host/x?sig=***&api_key=***&page=2"),
        ("sqlite:////tmp/project/mlflow.db", "sqlite:////tmp/project/mlflow.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("models:/imdb-sentiment@champion", "models:/imdb-sentiment@champion"),
        ("no uri here: alice@example.org", "no uri here: alice@example.org"),
    ],
)
def test_redacted_keeps_everything_but_the_credentials(uri: str, shown: str) -> None:
    assert uris.redacted(uri) == shown


@given(user=st.text(min_size=1, max_size=20), password=secrets)
def test_credentials_come_off_an_http_uri_decoded(user: str, password: str) -> None:
    uri = f"https://{quote(user, safe='')}:{quote(password, safe='')}@host:8443/prefix?x=1"
    assert uris.without_credentials(uri) == ("https://host:8443/prefix?x=1", user, password)


def test_only_http_uris_with_a_user_and_a_password_lose_them() -> None:
    for uri in ("http://host:5000", "http://alice@host", "postgresql://a:b@db/x", "sqlite:///m.db"):
        assert uris.without_credentials(uri) is None


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    handler_filter = uris.RedactingFilter()
    record = logging.LogRecord("mlflow", logging.INFO, __file__, 1, "retrying %s", (CREDENTIALED,), None)
    assert handler_filter.filter(record)
    assert record.getMessage() == "retrying http://127.0.0.1:9"


# --- where the project writes or shows a URI -----------------------------------------------------------


def test_the_run_links_of_the_prefect_artifacts_hold_no_credentials() -> None:
    url = run_report.mlflow_run_url(CREDENTIALED + "/?token=abc", "3", "abcdef0123")
    assert url == "http://127.0.0.1:9/#/experiments/3/runs/abcdef0123"
    rows = run_report.variant_rows(
        {"gru": {"test": {"accuracy": 0.9}}},
        {"gru": {"mlflow_run_id": "abcdef0123", "experiment_id": "3", "tracking_uri": CREDENTIALED}},
    )
    assert SECRET not in str(rows) and "http://127.0.0.1:9/#/experiments/3/runs/abcdef0123" in str(rows)


def test_mlflow_gets_the_uri_without_credentials_and_them_from_its_own_variables(
    tmp_path: Path, project_config: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tracking.TRACKING_URI_VARIABLE, CREDENTIALED)
    uri = tracking.tracking_uri(Workspace(tmp_path, project_config))
    assert uri == "http://127.0.0.1:9"
    import os

    assert os.environ[tracking.TRACKING_URI_VARIABLE] == "http://127.0.0.1:9"  # and the processes it starts
    assert os.environ[tracking.USERNAME_VARIABLE] == "alice"
    assert os.environ[tracking.PASSWORD_VARIABLE] == "pw-Secr3t/with-slash"


def test_credentials_already_in_mlflows_variables_are_kept(
    tmp_path: Path, project_config: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tracking.USERNAME_VARIABLE, "bob")
    monkeypatch.setenv(tracking.PASSWORD_VARIABLE, "bobs")
    monkeypatch.setenv(tracking.TRACKING_URI_VARIABLE, CREDENTIALED)
    assert tracking.tracking_uri(Workspace(tmp_path, project_config)) == "http://127.0.0.1:9"
    import os

    assert (os.environ[tracking.USERNAME_VARIABLE], os.environ[tracking.PASSWORD_VARIABLE]) == ("bob", "bobs")


def test_an_unreachable_credentialed_store_is_named_without_its_password(
    tmp_path: Path, project_config: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tracking.TRACKING_URI_VARIABLE, CREDENTIALED + "/?token=pw-Secr3t-token")
    workspace = Workspace(tmp_path, project_config)
    sequences = tmp_path / "sequences.npz"
    sequences.write_bytes(b"x")
    lineage = lineages.lineage(workspace, {"sequences": sequences})
    with (
        pytest.raises(tracking.TrackingError) as raised,
        tracking.tracked_run(workspace, "rnn", lineage, {}, {}),
    ):
        pass
    message = str(raised.value)
    assert "127.0.0.1:9" in message and SECRET not in message, message


def test_a_model_that_cannot_be_loaded_is_named_without_the_stores_password() -> None:
    with pytest.raises(scoring.ModelNotFound) as raised:
        scoring.load_model("models:/imdb-sentiment@champion", CREDENTIALED + "/?token=pw-Secr3t-token")
    assert "127.0.0.1:9" in str(raised.value) and SECRET not in str(raised.value), str(raised.value)


def test_the_cli_prints_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_params(tmp_path)
    monkeypatch.setenv(tracking.TRACKING_URI_VARIABLE, CREDENTIALED)
    code = cli.main(["--root", str(tmp_path), "predict", "a fine film"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_USER_ERROR and "127.0.0.1:9" in captured.err
    assert SECRET not in captured.out + captured.err
