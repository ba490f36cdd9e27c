"""Review text cleaning: HTML removal, entity unescaping, lowercasing, special characters, stopwords.

Pure functions: text and a CleaningConfig in, text out. The output is a single-space separated
string of tokens, so that tokenization is a plain `str.split()`.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Iterator

from sentiment.config import CleaningConfig

# A tag is "<" followed by a letter, "/" or "!" and running to the next ">": this removes <br />,
# <i>, </p> and comments, but leaves "a < b" comparisons alone.
_HTML_TAG = re.compile(r"<[A-Za-z/!][^<>]*>")
# A token is a run of letters and digits ("_" is a word character for the regex engine but not for
# us), or several such runs joined by single apostrophes: "don't" and "director's" stay whole ("n't"
# carries a negation) while quotes such as 'great' lose theirs. Everything else is a separator.
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
NEGATION_SUFFIX = "n't"


def _ascii_table(lowercase: bool) -> bytes:
    """A `bytes.translate` table that keeps letters, digits and apostrophes and makes the rest spaces."""
    table = bytearray(b" " * 256)
    for character in string.ascii_letters + string.digits + "'":
        table[ord(character)] = ord(character.lower() if lowercase else character)
    table[ord("`")] = ord("'")
    return bytes(table)


_ASCII_TABLES = {lowercase: _ascii_table(lowercase) for lowercase in (False, True)}


def remove_html(text: str) -> str:
    """Replace HTML tags by spaces and unescape entities (&amp; -> &, &#39; -> ')."""
    # Unescape twice: IMDB holds a few doubly escaped entities such as "&amp;quot;".
    return html.unescape(html.unescape(_HTML_TAG.sub(" ", text)))


def stopword_set(config: CleaningConfig) -> frozenset[str]:
    """The words to drop: the configured stopwords, minus negations when they are kept."""
    words = {word.lower() for word in config.stopwords}
    if config.keep_negations:
        words -= {word.lower() for word in config.negations}
        words = {word for word in words if not word.endswith(NEGATION_SUFFIX)}
    return frozenset(words)


def _ascii_tokens(text: str, lowercase: bool) -> list[str]:
    """The tokens `_TOKEN` finds, for ASCII text, by byte operations: about five times faster."""
    data = text.encode("ascii").translate(_ASCII_TABLES[lowercase])
    if b"'" in data:
        # Only letters, digits, apostrophes and spaces are left, and an apostrophe stays only between
        # two letters or digits: pairs of apostrophes go (a third one is then next to a space), then
        # those next to a space, then those at either end.
        data = data.replace(b"''", b"  ").replace(b" '", b"  ").replace(b"' ", b"  ").strip(b" '")
    return data.decode("ascii").split()


def clean_text(text: str, config: CleaningConfig, stopwords: frozenset[str] | None = None) -> str:
    """Clean one review into space-separated tokens."""
    if config.remove_html:
        text = remove_html(text)
    if text.isascii():
        tokens = _ascii_tokens(text, config.lowercase)
    else:
        if config.lowercase:
            text = text.lower()
        tokens = _TOKEN.findall(text.replace("\u2019", "'").replace("`", "'"))
    if config.remove_stopwords:
        dropped = stopword_set(config) if stopwords is None else stopwords
        # Compared in lower case, so that stopwords go even when lowercase is off.
        tokens = [token for token in tokens if token.lower() not in dropped]
    return " ".join(tokens)


def clean_texts(texts: Iterable[str], config: CleaningConfig) -> Iterator[str]:
    """Clean many reviews lazily (so a caller can wrap the iterator in a progress bar)."""
    stopwords = stopword_set(config)
    for text in texts:
        yield clean_text(text, config, stopwords)
