"""The official download, against a local HTTP server: atomic, SHA-256 verified, clear when it fails.

Users have internet; these machines do not. So a server on 127.0.0.1 serves a small archive in the
aclImdb layout, and `source.url` in params.yaml points at it.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from conftest import ArchiveFactory, write_params
from sentiment import cli
from sentiment.core.errors import DataError
from sentiment.data.download import DownloadError, download

ARCHIVE_NAME = "aclImdb_v1.tar.gz"


class Server:
    """Serves `files` by URL path; `lying_paths` announce more bytes than they send."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.lying_paths: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "not found")
                    return
                self.send_response(200)
                length = len(body) * 2 if self.path in server.lying_paths else len(body)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *arguments: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("IMDB_ARCHIVE", raising=False)
    serving = Server()
    serving.thread.start()
    yield serving
    serving.httpd.shutdown()
    serving.httpd.server_close()


@pytest.fixture()
def archive_bytes(make_archive: ArchiveFactory) -> bytes:
    return make_archive().read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


def test_a_download_is_verified_and_kept(server: Server, archive_bytes: bytes, tmp_path: Path) -> None:
    server.files["/" + ARCHIVE_NAME] = archive_bytes
    destination = tmp_path / "downloads" / ARCHIVE_NAME
    assert download(server.url("/" + ARCHIVE_NAME), destination, sha256(archive_bytes)) == destination
    assert destination.read_bytes() == archive_bytes
    assert leftovers(destination.parent) == [ARCHIVE_NAME]
    # A verified copy is reused, not fetched again.
    download(server.url("/" + ARCHIVE_NAME), destination, sha256(archive_bytes))
    assert server.requests == ["/" + ARCHIVE_NAME]


def test_a_checksum_mismatch_keeps_nothing(server: Server, archive_bytes: bytes, tmp_path: Path) -> None:
    server.files["/" + ARCHIVE_NAME] = archive_bytes
    destination = tmp_path / "downloads" / ARCHIVE_NAME
    with pytest.raises(DataError, match="checksum mismatch") as raised:
        download(server.url("/" + ARCHIVE_NAME), destination, "0" * 64)
    assert f"expected sha256 {'0' * 64}, got {sha256(archive_bytes)}" in str(raised.value)
    assert str(destination) in str(raised.value)
    assert leftovers(destination.parent) == []


def test_a_truncated_transfer_keeps_nothing(server: Server, archive_bytes: bytes, tmp_path: Path) -> None:
    server.files["/" + ARCHIVE_NAME] = archive_bytes
    server.lying_paths.add("/" + ARCHIVE_NAME)
    destination = tmp_path / "downloads" / ARCHIVE_NAME
    expected = (
        rf"download truncated: {len(archive_bytes)} of {2 * len(archive_bytes)} bytes from http://127.0.0.1"
    )
    with pytest.raises(DownloadError, match=expected):
        download(server.url("/" + ARCHIVE_NAME), destination, sha256(archive_bytes))
    assert leftovers(destination.parent) == []


def test_a_missing_file_on_the_server_is_a_download_error(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"cannot download http://127.0.0.1:\d+/absent.tar.gz: HTTP 404"):
        download(server.url("/absent.tar.gz"), tmp_path / ARCHIVE_NAME, "0" * 64)


def fetch(root: Path, *arguments: str) -> int:
    return cli.main(["--root", str(root), "fetch", "--no-record", *arguments])


def test_sentiment_fetch_downloads_verifies_and_ingests(
    server: Server, archive_bytes: bytes, tmp_path: Path
) -> None:
    server.files["/" + ARCHIVE_NAME] = archive_bytes
    url = server.url("/" + ARCHIVE_NAME)
    write_params(tmp_path, {"source": {"url": url, "sha256": sha256(archive_bytes)}})
    assert fetch(tmp_path) == 0
    table = pd.read_parquet(tmp_path / "data" / "raw" / "reviews.parquet")
    assert table["split"].value_counts().to_dict() == {"test": 4, "train": 4, "unsup": 1}
    source = (tmp_path / "data" / "raw" / "source.json").read_text(encoding="utf-8")
    assert sha256(archive_bytes) in source


def test_offline_without_an_archive_names_both_ways_out(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A port where nothing listens stands for "no internet".
    closed = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    write_params(tmp_path, {"source": {"url": f"http://127.0.0.1:{port}/{ARCHIVE_NAME}"}})
    assert fetch(tmp_path) == cli.EXIT_USER_ERROR
    message = capsys.readouterr().err
    assert "cannot download" in message
    assert "IMDB_ARCHIVE" in message
    assert "make demo" in message
    assert not (tmp_path / "data").exists()


def test_sentiment_fetch_refuses_a_download_with_the_wrong_checksum(
    server: Server, archive_bytes: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.files["/" + ARCHIVE_NAME] = archive_bytes
    write_params(tmp_path, {"source": {"url": server.url("/" + ARCHIVE_NAME), "sha256": "f" * 64}})
    assert fetch(tmp_path) == cli.EXIT_USER_ERROR
    message = capsys.readouterr().err
    assert "checksum mismatch" in message
    assert ARCHIVE_NAME in message
    assert not (tmp_path / "data").exists()
    assert leftovers(tmp_path / ".cache" / "downloads") == []
