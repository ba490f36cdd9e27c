"""The REST request of `sentiment serve`: a body and its content type in, the raw reviews out, or a
`RequestRejected` with the HTTP status and a short message (never the body, never a traceback).

Pure (no MLflow, no TensorFlow, no pandas), so it is tested alone on arbitrary bodies. The JSON formats
are MLflow's scoring-server formats; the reviews come out as the JSON values they were (a null stays
None, a number stays a number), and the model answers each bad one in its own row (`serving.inputs`):

| body | reviews |
| --- | --- |
| `{"inputs": ["text", ...]}`, `{"instances": [...]}` | the items (an object item: its `review` field) |
| `{"inputs": {"review": [...]}}` (columns) | the `review` column |
| `{"dataframe_records": [{"review": "text"}, ...]}` | each record's `review` (or only) field |
| `{"dataframe_split": {"columns": ["review"], "data": [["text"]]}}` | the `review` (or only) column |
| `text/csv` with a header row | the `review` column; an empty cell is a missing review |
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from sentiment.core.errors import SentimentError

REVIEW_FIELD = "review"
JSON_TYPE, CSV_TYPE = "application/json", "text/csv"
FORMAT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
MAX_BODY_BYTES = 4 * 1024 * 1024  # a 1 MB review fits, with room
MAX_REVIEWS = 10_000
MAX_DEPTH = 16  # the deepest format nests 4 levels; a review that is itself a list may add a few

BAD_REQUEST, TOO_LARGE, UNSUPPORTED_TYPE = 400, 413, 415
# A CSV field may hold a whole (long) review: the csv module's default limit is 128 KiB.
csv.field_size_limit(max(csv.field_size_limit(), MAX_BODY_BYTES))


class RequestRejected(SentimentError):
    """A request the server answers without running the model: `status` and a short message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _bad(message: str) -> RequestRejected:
    return RequestRejected(BAD_REQUEST, message)


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """The media type of a Content-Type header, lowercased, and its parameters (charset, ...)."""
    kind, *parameters = (content_type or "").split(";")
    options = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        options[name.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), options


def _text(body: bytes, options: Mapping[str, str]) -> str:
    charset = options.get("charset", "utf-8")
    if charset not in ("utf-8", "utf8"):
        raise RequestRejected(UNSUPPORTED_TYPE, "unsupported charset: send UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("the body is not valid UTF-8") from None


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (iteratively: any depth is measured safely)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            pending.extend(
                (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def _reject_constant(name: str) -> Any:
    raise _bad(f"the body is not valid JSON ({name} is not a JSON number)")


def parse_json(text: str) -> Any:
    """The JSON document, or a 400: malformed, nested more than MAX_DEPTH levels, NaN/Infinity."""
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _bad(f"the JSON body is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError as error:
        raise _bad(
            f"the body is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise _bad("the body is not valid JSON (a number is too long)") from None
    if _depth(document) > MAX_DEPTH:
        raise _bad(f"the JSON body is nested too deeply (at most {MAX_DEPTH} levels)")
    return document


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(f"{what} must be a JSON list, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _column(columns: list[Any], what: str) -> int:
    """Where the review column is: `review`, or the only column there is."""
    if REVIEW_FIELD in columns:
        return columns.index(REVIEW_FIELD)
    if len(columns) == 1:
        return 0
    raise _bad(f"{what}: expected a '{REVIEW_FIELD}' column (or a single column), got {len(columns)} columns")


def _item(value: Any) -> Any:
    """One review of `inputs`/`instances`: the value itself, or an object's `review` field."""
    return value.get(REVIEW_FIELD) if isinstance(value, dict) else value


def _records(records: list[Any]) -> list[Any]:
    if not all(isinstance(record, dict) for record in records):
        raise _bad("dataframe_records must be a list of objects")
    fields = {key for record in records for key in record}
    if REVIEW_FIELD in fields or not fields:
        field = REVIEW_FIELD
    elif len(fields) == 1:
        field = next(iter(fields))
    else:
        raise _bad(f"dataframe_records: expected a '{REVIEW_FIELD}' field in the records")
    return [record.get(field) for record in records]


def _split(split: Any) -> list[Any]:
    if not isinstance(split, dict):
        raise _bad(f"dataframe_split must be an object with 'columns' and 'data', got {_kind(split)}")
    unknown = set(split) - {"columns", "data", "index"}
    if unknown or "data" not in split:
        raise _bad("dataframe_split must be an object with 'columns' and 'data' (and optionally 'index')")
    rows = _list(split["data"], "dataframe_split 'data'")
    columns = _list(split.get("columns", [REVIEW_FIELD]), "dataframe_split 'columns'")
    position = _column(columns, "dataframe_split")
    reviews = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(columns):
            raise _bad(f"dataframe_split 'data' must hold lists of {len(columns)} values, one per column")
        reviews.append(row[position])
    return reviews


def reviews_from_document(document: Any) -> list[Any]:
    """The reviews of a parsed JSON body in one of MLflow's formats (see the module's table)."""
    if not isinstance(document, dict):
        raise _bad(
            f"expected a JSON object with one of the keys {', '.join(FORMAT_KEYS)}, got {_kind(document)}"
        )
    keys = [key for key in FORMAT_KEYS if key in document]
    if document.get("params"):
        raise _bad("the model takes no params: leave 'params' out")
    others = [key for key in document if key not in (*FORMAT_KEYS, "params")]
    if len(keys) != 1 or others:
        raise _bad(
            f"expected a JSON object with exactly one of the keys {', '.join(FORMAT_KEYS)} "
            f"(got {len(keys)} of them and {len(others)} other keys)"
        )
    key = keys[0]
    value = document[key]
    if key == "dataframe_split":
        return _split(value)
    if key == "dataframe_records":
        return _records(_list(value, key))
    if isinstance(value, dict):  # columns: {"review": [...]}
        position = _column(list(value), key)
        return _list(list(value.values())[position], f"{key} column")
    return [_item(item) for item in _list(value, key)]


def reviews_from_csv(text: str) -> list[Any]:
    """The review column of a CSV body with a header row; an empty cell is a missing review (None)."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise _bad(f"the body is not valid CSV ({str(error)[:80]})") from None
    if not rows:
        raise _bad(f"the CSV body is empty: expected a header row naming a '{REVIEW_FIELD}' column")
    header, data = rows[0], rows[1:]
    if REVIEW_FIELD not in header:  # unlike JSON, a CSV's header cannot be told from a review
        raise _bad(f"CSV: expected a header row naming a '{REVIEW_FIELD}' column")
    position = header.index(REVIEW_FIELD)
    reviews: list[Any] = []
    for number, row in enumerate(data, start=2):
        if not row:  # a blank line
            continue
        if len(row) != len(header):
            raise _bad(f"CSV line {number} has {len(row)} fields, the header {len(header)}")
        reviews.append(row[position] or None)
    return reviews


def parse_request(body: bytes, content_type: str | None) -> list[Any]:
    """The raw reviews of a POST /invocations body, or RequestRejected (400, 413 or 415)."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(
            TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes: send fewer reviews per request"
        )
    kind, options = media_type(content_type)
    if kind == JSON_TYPE:
        reviews = reviews_from_document(parse_json(_text(body, options)))
    elif kind == CSV_TYPE:
        reviews = reviews_from_csv(_text(body, options))
    else:
        raise RequestRejected(UNSUPPORTED_TYPE, f"unsupported Content-Type: send {JSON_TYPE} or {CSV_TYPE}")
    if len(reviews) > MAX_REVIEWS:
        raise RequestRejected(TOO_LARGE, f"{len(reviews)} reviews in one request: send at most {MAX_REVIEWS}")
    return reviews
