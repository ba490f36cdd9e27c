"""Cleaning: HTML tags and entities, lowercase, special characters, stopwords that keep negations."""

from __future__ import annotations

import dataclasses

import pytest

from sentiment.config import CleaningConfig, Params
from sentiment.data.cleaning import clean_text, clean_texts, remove_html

DEFAULT = CleaningConfig()


@pytest.fixture()
def removing_stopwords(project_config: Params) -> CleaningConfig:
    """The project's stopword and negation lists, with stopword removal switched on."""
    return dataclasses.replace(project_config.cleaning, remove_stopwords=True)


def test_the_project_default_keeps_every_word(project_config: Params) -> None:
    text = "This is NOT the film I expected."
    assert clean_text(text, project_config.cleaning) == "this is not the film i expected"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("A fine film.<br /><br />The <i>cast</i> is superb.", "a fine film the cast is superb"),
        ("<p class='review'>Gripping</p><!-- a comment -->", "gripping"),
        ("Tom &amp; Jerry &quot;classic&quot;", "tom jerry classic"),
        ("doubly escaped &amp;quot;quote&amp;quot;", "doubly escaped quote"),
        ("it&#39;s fun", "it's fun"),
    ],
)
def test_html_tags_go_and_entities_are_unescaped(raw: str, cleaned: str) -> None:
    assert clean_text(raw, DEFAULT) == cleaned


def test_a_comparison_is_not_mistaken_for_a_tag() -> None:
    assert clean_text("rated 5 < 6 but 7 > 3", DEFAULT) == "rated 5 6 but 7 3"
    assert remove_html("a < b and c > d") == "a < b and c > d"


def test_html_is_kept_when_switched_off() -> None:
    config = CleaningConfig(remove_html=False)
    assert clean_text("great<br />film &amp; cast", config) == "great br film amp cast"


def test_lowercasing_can_be_switched_off() -> None:
    assert clean_text("A GREAT Film", DEFAULT) == "a great film"
    assert clean_text("A GREAT Film", CleaningConfig(lowercase=False)) == "A GREAT Film"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Wow!!! 10/10... best-film_ever :-)", "wow 10 10 best film ever"),
        ("  spaced\tout\n\nlines  ", "spaced out lines"),
        ("$$$ ### @@@", ""),
        ("", ""),
        ("café naïve Ünïcode", "café naïve ünïcode"),
    ],
)
def test_special_characters_become_single_spaces(raw: str, cleaned: str) -> None:
    assert clean_text(raw, DEFAULT) == cleaned


def test_apostrophes_inside_words_stay_and_quotes_go() -> None:
    text = "I didn’t like the director's 'masterpiece' `at all'"
    assert clean_text(text, DEFAULT) == "i didn't like the director's masterpiece at all"


def test_stopword_removal_keeps_negations(removing_stopwords: CleaningConfig) -> None:
    text = "This is not a good film, and I didn't like it: no plot, never funny, nor clever."
    assert clean_text(text, removing_stopwords) == "not good film didn't like no plot never funny nor clever"


def test_every_nt_form_is_kept_as_a_negation(removing_stopwords: CleaningConfig) -> None:
    # "isn't", "wasn't", "don't" are in the project's stopword list; "wouldn't" is not.
    text = "It isn't bad, wasn't dull, don't skip it, wouldn't miss it"
    assert clean_text(text, removing_stopwords) == "isn't bad wasn't dull don't skip wouldn't miss"


def test_negations_go_too_when_not_kept(removing_stopwords: CleaningConfig) -> None:
    config = dataclasses.replace(removing_stopwords, keep_negations=False)
    assert clean_text("This is not a good film and I didn't like it", config) == "good film like"


def test_the_stopword_list_is_configurable() -> None:
    config = CleaningConfig(remove_stopwords=True, stopwords=("film", "movie"), negations=("not",))
    assert clean_text("Not a film but a MOVIE, really", config) == "not a but a really"


def test_stopwords_go_whatever_their_case() -> None:
    config = CleaningConfig(lowercase=False, remove_stopwords=True, stopwords=("the", "not"), negations=())
    assert clean_text("The plot is NOT The point", dataclasses.replace(config, keep_negations=False)) == (
        "plot is point"
    )


def test_clean_texts_cleans_each_text_in_order(removing_stopwords: CleaningConfig) -> None:
    texts = ["The END.", "<b>Not</b> bad", ""]
    assert list(clean_texts(iter(texts), removing_stopwords)) == ["end", "not bad", ""]
