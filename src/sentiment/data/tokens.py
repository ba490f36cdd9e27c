"""Whitespace tokenization of many texts at once into Arrow arrays, with no Python object per token.

`word_keys(texts)` gives one key per token and the number of tokens of each text; `words_of(keys)`
turns keys into the tokens, which are exactly those of `str.split()`. A key is a slice of the texts'
own UTF-8 bytes: the token and the spaces after it. The slices are found with a few NumPy passes, so
no token is copied; hashing the keys and then stripping the few distinct ones is much cheaper than
splitting every token out. Whitespace other than the ASCII space (none in cleaned text) is first
replaced by spaces. (Arrow's own `utf8_split_whitespace` is avoided: it reads past the end of its
last string, and its result for trailing whitespace then depends on whatever bytes lie there.)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPACE = " "
# Text is scanned this many bytes at a time, so that NumPy's temporary arrays stay small, in cache and
# reused, instead of fresh memory as large as all the text at every step.
_CHUNK_BYTES = 1 << 20
# The characters other than the space that `str.split()` splits on (tests check this against Python).
ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
NON_ASCII_WHITESPACE = "".join(
    map(chr, [0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
)
_OTHER_WHITESPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in ASCII_WHITESPACE + NON_ASCII_WHITESPACE) + "]"
_ASCII_WHITESPACE_BYTES = np.frombuffer(ASCII_WHITESPACE.encode(), dtype=np.uint8)
# UTF-8 encodings of the non-ASCII whitespace as integers, by length in bytes (2 or 3).
_WHITESPACE_CODES = {
    length: np.array(
        [int.from_bytes(c.encode(), "big") for c in NON_ASCII_WHITESPACE if len(c.encode()) == length],
        dtype=np.uint32,
    )
    for length in (2, 3)
}


def word_keys(texts: Sequence[str]) -> tuple[pa.Array, np.ndarray]:
    """(One key per token of all texts, as an Arrow string array; int64 number of tokens per text)."""
    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise TypeError(f"texts must be strings: {error}") from None
    if array.null_count:
        raise TypeError("texts must be strings, got None")
    split = _space_separated_keys(array)
    if split is None:
        array = pc.replace_substring_regex(array, pattern=_OTHER_WHITESPACE, replacement=SPACE)
        split = _space_separated_keys(array)
    assert split is not None  # only spaces are left
    return split


def words_of(keys: pa.Array) -> pa.Array:
    """The tokens of keys: their trailing spaces stripped."""
    return pc.utf8_rtrim(keys, characters=SPACE)


def _offsets(array: pa.LargeStringArray) -> np.ndarray:
    return np.frombuffer(array.buffers()[1], dtype=np.int64, count=len(array) + 1, offset=8 * array.offset)


def _text_bytes(array: pa.LargeStringArray) -> np.ndarray:
    """The UTF-8 bytes of all texts, without copying them."""
    offsets = _offsets(array)
    begin, end = int(offsets[0]), int(offsets[-1])
    if begin == end:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(array.buffers()[2], dtype=np.uint8, count=end - begin, offset=begin)


def _has_other_whitespace(data: np.ndarray) -> bool:
    below_space = data < 0x20
    if np.count_nonzero(below_space) and np.isin(data[below_space], _ASCII_WHITESPACE_BYTES).any():
        return True
    # Bytes from 0xC2 up start the multi-byte characters that can be whitespace; UTF-8 being valid,
    # a 3-byte character never runs past the end, and a clipped 2-byte one cannot match a 3-byte code.
    leads = np.flatnonzero(data >= 0xC2)
    if not len(leads):
        return False
    last = len(data) - 1
    two = (data[leads].astype(np.uint32) << 8) | data[np.minimum(leads + 1, last)]
    three = (two << 8) | data[np.minimum(leads + 2, last)]
    return bool(np.isin(two, _WHITESPACE_CODES[2]).any() or np.isin(three, _WHITESPACE_CODES[3]).any())


def _space_separated_keys(array: pa.LargeStringArray) -> tuple[pa.Array, np.ndarray] | None:
    """Keys of texts whose only whitespace is the ASCII space, or None for other texts."""
    offsets = _offsets(array)
    data = _text_bytes(array)
    if not len(data):
        return pa.array([], type=pa.large_string()), np.zeros(len(array), dtype=np.int64)
    begin = int(offsets[0])
    relative = offsets - begin
    # Chunks of whole texts, about _CHUNK_BYTES each.
    bounds = np.unique(np.searchsorted(relative, np.arange(0, len(data), _CHUNK_BYTES)))
    parts = []
    for first, last in itertools.pairwise([*bounds.tolist(), len(array)]):
        chunk = data[relative[first] : relative[last]]
        if not len(chunk):
            continue
        if _has_other_whitespace(chunk):
            return None
        # A token starts at a non-space byte that follows a space or starts a text.
        space = chunk == 0x20
        starts_token = np.empty(len(chunk), dtype=bool)
        starts_token[0] = True
        starts_token[1:] = space[:-1]
        text_starts = relative[first:last] - relative[first]
        starts_token[text_starts[text_starts < len(chunk)]] = True
        starts_token &= ~space
        parts.append(np.flatnonzero(starts_token) + relative[first])
    # Key i runs to the start of token i + 1: every byte in between is a space (even across texts).
    key_offsets = np.concatenate([*parts, [len(data)]])
    lengths = np.diff(np.searchsorted(key_offsets[:-1], relative)).astype(np.int64)
    key_offsets += begin
    keys = pa.LargeStringArray.from_buffers(
        len(key_offsets) - 1, pa.py_buffer(key_offsets), array.buffers()[2]
    )
    return keys, lengths
