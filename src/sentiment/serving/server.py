"""`sentiment serve`: the registered pyfunc over HTTP, answering every request with JSON, never with a
traceback, a path of the environment or a copy of the body.

A thin server of the standard library's (`http.server.ThreadingHTTPServer`, one thread per
connection) around the same pyfunc that `sentiment predict` loads (`serving.scoring.load_model`):

| request | answer |
| --- | --- |
| `POST /invocations`, a body in a `payloads` format | 200 `{"predictions": [row, ...]}`, a row per review |
| a malformed body (not JSON, not UTF-8, not CSV, no known format key, nested too deeply) | 400 |
| no Content-Length (e.g. chunked) | 411 |
| a body over `payloads.MAX_BODY_BYTES`, more than `payloads.MAX_REVIEWS` reviews | 413 |
| a Content-Type other than application/json or text/csv | 415 |
| the model fails | 500, a generic message; the details go to the server's log only |
| `GET /ping`, `GET /health` | 200 `{"status": "ok"}` |
| another path, another method, a malformed request line | 404, 405, 400 |

A bad review (null, not text, empty) gets its `error` in its own row, as in `sentiment predict`.
Every error answer is `{"error_code": "...", "message": "..."}`. The model predicts one request at a
time (a lock: Keras' predict is not meant for concurrent calls); requests are read and parsed
concurrently.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sentiment.core.errors import SentimentError
from sentiment.serving import payloads
from sentiment.serving.inputs import REVIEW_COLUMN
from sentiment.tracking.uris import redacted

logger = logging.getLogger(__name__)

PREDICT_PATH = "/invocations"
HEALTH_PATHS = ("/ping", "/health")
READ_TIMEOUT_SECONDS = 30.0  # a client that stops sending is dropped
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024  # a too-large body up to this size is read (and dropped) first,
# so that the client reads the 413 instead of a reset connection
CHUNK_BYTES = 1 << 16
MODEL_FAILED = "the model could not answer this request; the server's log has the details"
WARM_UP_REVIEW = "A warm-up review: the first request is then as fast as the others."


def error_code(status: int) -> str:
    """MLflow's style of error code: BAD_REQUEST, PAYLOAD_TOO_LARGE, INTERNAL_ERROR, ..."""
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return "INTERNAL_ERROR"
    try:
        return HTTPStatus(status).name.replace("REQUEST_ENTITY_TOO_LARGE", "PAYLOAD_TOO_LARGE")
    except ValueError:
        return "ERROR"


def _native(value: Any) -> Any:
    """numpy scalars as Python ones, for json.dumps."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def predict_rows(model: Any, reviews: list[Any]) -> list[dict[str, Any]]:
    """The model's prediction rows for the raw reviews (pandas imported here: the server needs it anyway)."""
    import pandas as pd

    if not reviews:
        return []
    frame = pd.DataFrame({REVIEW_COLUMN: pd.Series(reviews, dtype=object)})
    rows: list[dict[str, Any]] = model.predict(frame).to_dict(orient="records")
    return rows


class ModelServer(ThreadingHTTPServer):
    """The HTTP server holding the model; its handler threads die with it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], model: Any) -> None:
        self.model = model
        self.predict_lock = threading.Lock()
        super().__init__(address, Handler)

    def predict(self, reviews: list[Any]) -> list[dict[str, Any]]:
        with self.predict_lock:
            return predict_rows(self.model, reviews)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client gone mid-answer, say: one line in the log, not a traceback on stderr.
        logger.warning("the connection from %s ended with an error", client_address[0])


class Handler(BaseHTTPRequestHandler):
    server: ModelServer
    server_version = "sentiment-serve"
    timeout = READ_TIMEOUT_SECONDS

    def version_string(self) -> str:
        return self.server_version  # without the Python version

    # --- answers ---------------------------------------------------------------------------------

    def _send_json(self, status: int, answer: Any) -> None:
        body = json.dumps(answer, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_problem(self, status: int, message: str) -> None:
        self._send_json(status, {"error_code": error_code(status), "message": message})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line, headers too long, ...): JSON with the
        status' phrase only; its message could quote the request."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._send_problem(code, f"{phrase.lower()}: see the API in docs/serving.md")

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    # --- methods ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path in HEALTH_PATHS:
            self._send_json(HTTPStatus.OK, {"status": "ok"})
        elif path == PREDICT_PATH:
            self._send_problem(HTTPStatus.METHOD_NOT_ALLOWED, f"use POST for {PREDICT_PATH}")
        else:
            self._not_found()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        if self.path.partition("?")[0] != PREDICT_PATH:
            self.close_connection = True
            self._not_found()
            return
        body = self._body()
        if body is None:
            return
        try:
            reviews = payloads.parse_request(body, self.headers.get("Content-Type"))
        except payloads.RequestRejected as rejected:
            self._send_problem(rejected.status, str(rejected))
            return
        try:
            answer = json.dumps(
                {"predictions": self.server.predict(reviews)}, allow_nan=False, default=_native
            )
        except Exception:  # any failure of the model: a generic answer, the details in the log
            logger.exception("prediction failed for a request of %d reviews", len(reviews))
            self._send_problem(HTTPStatus.INTERNAL_SERVER_ERROR, MODEL_FAILED)
            return
        encoded = answer.encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._send_problem(
            HTTPStatus.METHOD_NOT_ALLOWED, f"use POST {PREDICT_PATH}, GET /ping or GET /health"
        )

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def _not_found(self) -> None:
        self._send_problem(
            HTTPStatus.NOT_FOUND, f"no such path: use POST {PREDICT_PATH}, GET /ping or GET /health"
        )

    def _body(self) -> bytes | None:
        """The request's body, or None once an error has been answered."""
        self.close_connection = True
        if self.headers.get("Transfer-Encoding"):
            self._send_problem(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length, not chunked")
            return None
        declared = self.headers.get("Content-Length")
        if declared is None:
            self._send_problem(HTTPStatus.LENGTH_REQUIRED, "a POST needs a Content-Length")
            return None
        try:
            length = int(declared)
            if length < 0:
                raise ValueError
        except ValueError:
            self._send_problem(HTTPStatus.BAD_REQUEST, "Content-Length must be a non-negative integer")
            return None
        if length > payloads.MAX_BODY_BYTES:
            if length <= DRAIN_LIMIT_BYTES:
                self._drain(length)
            self._send_problem(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the body is larger than {payloads.MAX_BODY_BYTES} bytes: send fewer reviews per request",
            )
            return None
        body = self.rfile.read(length)
        if len(body) < length:  # the client hung up
            return None
        return body

    def _drain(self, length: int) -> None:
        left = length
        while left > 0:
            chunk = self.rfile.read(min(CHUNK_BYTES, left))
            if not chunk:
                return
            left -= len(chunk)


def make_server(model: Any, host: str, port: int) -> ModelServer:
    """The server bound to host:port (0: a free port), not yet serving."""
    try:
        return ModelServer((host, port), model)
    except (OSError, OverflowError) as error:
        raise SentimentError(
            f"cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}"
        ) from None


def warm_up(model: Any, model_uri: str) -> None:
    """One prediction before serving: the first request is then fast, and a broken model fails here."""
    try:
        rows = predict_rows(model, [WARM_UP_REVIEW])
    except Exception:
        logger.exception("the warm-up prediction failed")
        raise SentimentError(
            f"{redacted(model_uri)} cannot predict: its warm-up prediction failed (the log has the details)"
        ) from None
    if len(rows) != 1:
        raise SentimentError(f"{redacted(model_uri)} answered one review with {len(rows)} rows")


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(model: Any, model_uri: str, host: str, port: int) -> None:
    """Serve `model` on host:port until Ctrl-C or SIGTERM."""
    warm_up(model, model_uri)
    server = make_server(model, host, port)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    bound_host, bound_port = server.server_address[:2]
    logger.info(
        "serving %s at http://%s:%d: POST %s, GET /ping, GET /health (Ctrl-C stops)",
        redacted(model_uri), bound_host, bound_port, PREDICT_PATH,
    )  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("stopped")
    finally:
        server.server_close()
