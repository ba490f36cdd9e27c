"""Review text cleaning: HTML removal, entity unescaping, lowercasing, special characters, stopwords.

Pure functions: text and a CleaningConfig in, text out. The output is a single-space separated
string of tokens, so that tokenization is a plain `str.split()`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

from sentiment.config import CleaningConfig

# A tag is "<" followed by a letter, "/" or "!" and running to the next ">": this removes <br />,
# <i>, </p> and comments, but leaves "a < b" comparisons alone.
_HTML_TAG = re.compile(r"<[A-Za-z/!][^<>]*>")
# Everything but word characters and apostrophes is a separator. "_" is a word character for the
# regex engine but not for us.
_SPECIAL = re.compile(r"[^\w']+|_+")
# Apostrophes that do not join two word characters (quotes such as 'great') are separators too,
# while "don't" and "director's" stay whole: "n't" carries a negation.
_STRAY_APOSTROPHE = re.compile(r"(?<!\w)'+|'+(?!\w)")
NEGATION_SUFFIX = "n't"


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


def clean_text(text: str, config: CleaningConfig, stopwords: frozenset[str] | None = None) -> str:
    """Clean one review into space-separated tokens."""
    if config.remove_html:
        text = remove_html(text)
    if config.lowercase:
        text = text.lower()
    text = text.replace("\u2019", "'").replace("`", "'")
    text = _STRAY_APOSTROPHE.sub(" ", _SPECIAL.sub(" ", text))
    tokens = text.split()
    if config.remove_stopwords:
        dropped = stopword_set(config) if stopwords is None else stopwords
        tokens = [token for token in tokens if token not in dropped]
    return " ".join(tokens)


def clean_texts(texts: Iterable[str], config: CleaningConfig) -> Iterator[str]:
    """Clean many reviews lazily (so a caller can wrap the iterator in a progress bar)."""
    stopwords = stopword_set(config)
    for text in texts:
        yield clean_text(text, config, stopwords)
