"""Download the official IMDB archive atomically, with its SHA-256 verified before it is kept."""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from sentiment.core.errors import DataError
from sentiment.core.files import atomic_path

CHUNK_BYTES = 1 << 20
# What a failed transfer raises; ValueError is a malformed URL in params.yaml (source.url).
TRANSFER_ERRORS = (
    urllib.error.URLError,
    http.client.HTTPException,
    TimeoutError,
    ConnectionError,
    ValueError,
)


class DownloadError(DataError):
    """The archive could not be fetched (offline, server error)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, destination: Path, expected_sha256: str, timeout: float = 60.0) -> Path:
    """Fetch `url` into `destination`; a wrong checksum or a broken transfer leaves nothing behind."""
    destination = Path(destination)
    if destination.exists() and sha256_of(destination) == expected_sha256:
        return destination
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(destination) as temporary:
            total = int(response.headers.get("Content-Length") or 0) or None
            digest = hashlib.sha256()
            received = 0
            with (
                temporary.open("wb") as handle,
                tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {destination.name}") as bar,
            ):
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    handle.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if total is not None and received != total:
                raise DownloadError(f"download truncated: {received} of {total} bytes from {url}")
            actual = digest.hexdigest()
            if actual != expected_sha256:
                raise DataError(
                    f"checksum mismatch for {url}: expected sha256 {expected_sha256}, got {actual}",
                    destination,
                )
    except TRANSFER_ERRORS as error:
        reason = f"HTTP {error.code} {error.reason}" if isinstance(error, urllib.error.HTTPError) else None
        raise DownloadError(f"cannot download {url}: {reason or getattr(error, 'reason', error)}") from None
    return destination
