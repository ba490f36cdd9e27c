"""Tracking URIs as MLflow is given them and as the project writes or shows them: never with credentials.

- `redacted(text)` is the one redaction. Every URI in `text` loses its userinfo (`user:password@`) and
  the values of its credential-like query parameters (`token`, `key`, `signature`, `password`, ...,
  shown as `***`). Every URI the project writes (run records, the Prefect artifacts' links) or shows
  (error messages, log lines, the CLI's output) goes through it; `RedactingFilter` applies it to log
  records.
- `without_credentials(uri)` takes an http(s) URI's user name and password off it, so that MLflow can be
  given the URI without them and read them from its own variables (MLFLOW_TRACKING_USERNAME and
  MLFLOW_TRACKING_PASSWORD, see `tracking.runs.tracking_uri`): MLflow's own output, its "View run"
  links and the URLs in its error messages ("API request to http://... failed"), then holds none.
- `run_url(tracking_uri, experiment_id, run_id)`: a run's page in the MLflow UI, from the redacted URI.

Pure and light (no MLflow): the CLI imports it at start.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

MASK = "***"
# A URI inside a text: a scheme, "://", then everything up to white space or a quote.
URI_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]*")
# A query parameter, in a URI or anywhere in a text: "?name=value" or "&name=value".
QUERY_PAIR = re.compile(r"([?&][^=&?#\s\"'<>`]+=)[^&#\s\"'<>`]*")
# Query parameters whose values are credentials (access_token, X-Amz-Signature, api_key, sig, ...).
SECRET_PARAMETER = re.compile(r"token|secret|pass|pwd|key|sig|auth|cred|session|jwt|bearer|code|ticket", re.I)
LOCAL_MLFLOW_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves a local store by default


def _split(uri: str) -> tuple[str, str, str] | None:
    """(scheme + "://", authority, the rest) of a URI with an authority, else None."""
    scheme, separator, rest = uri.partition("://")
    if not separator or not scheme:
        return None
    ends = [position for position in (rest.find(mark) for mark in "/?#") if position >= 0]
    end = min(ends, default=len(rest))
    return scheme + separator, rest[:end], rest[end:]


def _without_userinfo(uri: str) -> str:
    parts = _split(uri)
    if parts is None:
        return uri
    prefix, authority, tail = parts
    return prefix + authority.rpartition("@")[2] + tail


def _masked_pair(match: re.Match[str]) -> str:
    key = match.group(1)
    return f"{key}{MASK}" if SECRET_PARAMETER.search(unquote(key)) else match.group(0)


def redacted(text: str) -> str:
    """`text` (a URI, or a message holding URIs) safe to write or show: no URI in it keeps its userinfo
    (user and password), and no query parameter in it (also of a URL without its host, as urllib3
    quotes them: "url: /api?token=...") the value of a credential-like one."""
    without_userinfo = URI_IN_TEXT.sub(lambda match: _without_userinfo(match.group(0)), text)
    return QUERY_PAIR.sub(_masked_pair, without_userinfo)


def without_credentials(uri: str) -> tuple[str, str, str] | None:
    """(the URI without its userinfo, the user name, the password), both decoded, of an http(s) URI that
    holds a user name and a password; None for any other URI."""
    parts = _split(uri)
    if parts is None or parts[0].lower() not in ("http://", "https://"):
        return None
    prefix, authority, tail = parts
    userinfo, at, host = authority.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not (at and colon and user and password):
        return None
    return prefix + host + tail, unquote(user), unquote(password)


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI: on the tracking server (its redacted URI without a query), or in
    `mlflow ui` for a local store."""
    if tracking_uri.lower().startswith(("http://", "https://")):
        base = redacted(tracking_uri).partition("?")[0].partition("#")[0].rstrip("/")
    else:
        base = LOCAL_MLFLOW_UI
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


class RedactingFilter(logging.Filter):
    """Redacts every URI in a log record's message (on a handler: whatever logger the record comes from)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = redacted(message)
        if shown != message:
            record.msg, record.args = shown, None
        return True
