"""Run `mlflow models serve` for a registered model on 127.0.0.1, and talk to it (tests, benchmarks).

The server is MLflow's own scoring server, started exactly as a user would:
`mlflow models serve -m models:/imdb-sentiment@champion --env-manager local -h 127.0.0.1 -p PORT`,
in its own process group so that stopping it also stops the uvicorn worker it spawns.
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, body: bytes | Any, timeout: float = 60.0) -> tuple[int, Any]:
        """POST to /invocations (a JSON-able body, or raw bytes); the status and the decoded answer."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(
            f"{self.url}/invocations", data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

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


@contextlib.contextmanager
def serve(model_uri: str, tracking_uri: str, log: Path, startup_timeout: float = 180.0) -> Iterator[Server]:
    """The model served on a free port of 127.0.0.1 until the block ends; waits (bounded) for /ping."""
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    command = [str(mlflow), "models", "serve", "-m", model_uri, "--env-manager", "local"]
    command += ["-h", HOST, "-p", str(port)]
    # `mlflow models serve` execs `uvicorn` by name: this environment's scripts must come first on PATH.
    search_path = os.pathsep.join([str(mlflow.parent), os.environ.get("PATH", "")])
    environment = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": search_path}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    server = Server(f"http://{HOST}:{port}", process, log)
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.alive():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"mlflow models serve did not start (exit {process.poll()}):\n{tail}")
            time.sleep(0.5)
        yield server
    finally:
        stop_process_group(process)
