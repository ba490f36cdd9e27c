"""Serve a registered model on 127.0.0.1, and talk to it (tests, benchmarks).

The server is the one users are told to run, started exactly as they would:
`sentiment serve --model models:/imdb-sentiment@champion --host 127.0.0.1 --port PORT` (the project's
own server, `sentiment.serving.server`), or with `server="mlflow"` MLflow's scoring server,
`mlflow models serve -m URI --env-manager local -h 127.0.0.1 -p PORT`. Each runs in its own process
group, so that stopping it also stops the workers it spawns (MLflow's uvicorn).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("sentiment", "mlflow")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def post(
        self, body: bytes | Any, timeout: float = 60.0, content_type: str | None = "application/json"
    ) -> tuple[int, Any]:
        """POST to /invocations (a JSON-able body, or raw bytes); the status and the decoded answer."""
        status, raw = self.post_raw(body, timeout, content_type)
        return status, json.loads(raw or b"null")

    def post_raw(
        self, body: bytes | Any, timeout: float = 60.0, content_type: str | None = "application/json"
    ) -> tuple[int, bytes]:
        """POST to /invocations; the status and the answer's bytes, undecoded."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": content_type} if content_type is not None else {}
        request = urllib.request.Request(f"{self.url}/invocations", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def alive(self) -> bool:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{self.url}/ping", timeout=2) as response:
            return bool(response.status == 200)
        return False


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started with start_new_session, and its children, by its process group."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def command(server: str, model_uri: str, port: int, root: Path) -> list[str]:
    """The command line a user types for `server` ("sentiment" or "mlflow")."""
    scripts = Path(sys.executable).parent
    if server == "sentiment":
        # --root: a project's params.yaml (any: the model and the store are given)
        return [str(scripts / "sentiment"), "--root", str(root), "serve", "--model", model_uri,
                "--host", HOST, "--port", str(port)]  # fmt: skip
    if server == "mlflow":
        return [str(scripts / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local",
                "-h", HOST, "-p", str(port)]  # fmt: skip
    raise ValueError(f"server must be one of {SERVERS}, got {server!r}")


@contextlib.contextmanager
def serve(
    model_uri: str,
    tracking_uri: str,
    log: Path,
    startup_timeout: float = 180.0,
    server: str = "sentiment",
    root: Path = PROJECT_ROOT,
) -> Iterator[Server]:
    """The model served on a free port of 127.0.0.1 until the block ends; waits (bounded) for /ping."""
    port = free_port()
    arguments = command(server, model_uri, port, root)
    # `mlflow models serve` execs `uvicorn` by name: this environment's scripts must come first on PATH.
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    environment = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": search_path}
    with log.open("wb") as output:
        process = subprocess.Popen(
            arguments, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    running = Server(f"http://{HOST}:{port}", process, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while not running.alive():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    f"{' '.join(arguments[:2])} did not start (exit {process.poll()}):\n{tail}"
                )
            time.sleep(0.5)
        yield running
    finally:
        stop_process_group(process)
