"""Which movie each review is about, from the archive's URL lists (`aclImdb/<split>/urls_<label>.txt`).

Line <id> (0-based) of a labeled folder's list is the IMDB page of the movie that review <id> is
about, e.g. `http://www.imdb.com/title/tt0453418/usercomments`; the movie id is its `tt` number
("tt0453418"). IMDB's train and test hold disjoint movies (all but one), but one movie has up to 30
reviews in a split: a validation split drawn from train keeps each movie's reviews together
(`data.splits`).

Pure: `ingest` reads the files (with its one safe-reader policy) and hands their bytes here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from sentiment.core.errors import DataError

MAX_URL_LIST_BYTES = 4 * 1024 * 1024  # one list (IMDB: 612,500 bytes for 12,500 reviews)
# The page of a movie; IMDB's lists all end in /usercomments, other pages of the title are accepted.
_MOVIE_URL = re.compile(r"https?://(?:www\.)?imdb\.com/title/(tt[0-9]{1,12})(?:/[!-~]*)?")


class UrlList(NamedTuple):
    """A folder's URL list: the movie id of each line, and how errors name the file."""

    movies: list[str]
    where: str


class ReviewKey(NamedTuple):
    """What a review's movie is looked up by: its folder, its id (the line), how errors name it."""

    split: str
    sentiment: str
    number: int
    where: str


def _quoted(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:60] + "...")


def parse_url_list(data: bytes, where: str) -> UrlList:
    """The movie id of every line of a URL list, or a DataError naming the file and the line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"URL list is not valid UTF-8 ({error.reason} at byte {error.start})", where
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":  # the newline that ends the last line
        lines.pop()
    movies = []
    for number, line in enumerate(lines, start=1):
        match = _MOVIE_URL.fullmatch(line.removesuffix("\r"))
        if match is None:
            raise DataError(
                f"URL list line {number} is not an IMDB movie URL "
                f"(http://www.imdb.com/title/tt<digits>/...): {_quoted(line)}",
                where,
            )
        movies.append(match.group(1))
    return UrlList(movies, where)


def movie_ids(lists: Mapping[tuple[str, str], UrlList], reviews: Iterable[ReviewKey]) -> list[str | None]:
    """Each review's movie id: line <id> of its folder's URL list; None where the folder has no list."""
    found: list[str | None] = []
    for review in reviews:
        url_list = lists.get((review.split, review.sentiment))
        if url_list is None:
            found.append(None)
            continue
        if review.number >= len(url_list.movies):
            raise DataError(
                f"URL list has {len(url_list.movies)} lines: review {review.where} needs line "
                f"{review.number + 1}",
                url_list.where,
            )
        found.append(url_list.movies[review.number])
    return found
