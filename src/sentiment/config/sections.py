"""Frozen configuration of the models, their training and their registration.

These are the params.yaml sections `models.<name>`, `training`, `baseline`, `diagnostics` and
`registry`. Each field's range or format is declared with its type (`Annotated[int, Range(ge=1)]`)
and checked by the strict loader (`sentiment.config.schema`) when params.yaml loads, with the dotted
key named; a check across fields is in `__post_init__`. `sentiment.config` re-exports every name here.
The defaults serve code that builds a config itself (tests); params.yaml must name every key, except
the variant options marked `OPTIONAL`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from sentiment.config.schema import OPTIONAL, Pattern, Range, Word, shown
from sentiment.core.errors import ConfigError

# The `cell` of a variant without recurrent layer (`units` []): a bag of words.
NO_RECURRENCE = "none"
# The count-based baseline's model name, beside the recurrent variants' names (never a variant's name).
BASELINE = "baseline"
# A variant's name is a DVC stage name (train@<name>) and a file name (models/<name>.keras).
VariantName = Annotated[
    str,
    Pattern(
        rf"(?!{re.escape(BASELINE)}\Z)[a-z0-9][a-z0-9_-]*",
        f"a variant name of lowercase letters, digits, '-' or '_', not {BASELINE!r}",
    ),
]

Positive = Annotated[int, Range(ge=1)]
Count = Annotated[int, Range(ge=0)]
PositiveNumber = Annotated[float, Range(gt=0)]
Share = Annotated[float, Range(ge=0, le=1)]
Rate = Annotated[float, Range(ge=0, lt=1)]
# MLflow registered model names and aliases; metric names as the training records them.
RegistryName = Annotated[
    str, Pattern(r"[A-Za-z][A-Za-z0-9_.-]*", "letters, digits, '_', '.' or '-', a letter first")
]
MetricName = Annotated[str, Pattern(r"[a-z][a-z0-9_]*", "a metric name such as accuracy or log_loss")]
# How the saved (served) network stores its embedding tables (`modeling.storage`).
EmbeddingStorage = Literal["float32", "int8"]


@dataclass(frozen=True)
class VariantConfig:
    """One model (params.yaml `models.<name>`), read by the one builder in `modeling.builder`.

    `units` has one entry per stacked recurrent layer (two or more make a deep RNN). `cell` "none"
    with `units` [] has no recurrent layer: a bag of words, the embedded review pooled over its words
    (`pooling` "mean" or "max", `bidirectional` false, `recurrent_dropout` 0; `dropout` then drops
    features of the pooled vector, as a recurrent layer drops the same features of every step).
    `pooling` reduces the last recurrent layer's output (or the embedding) over time, ignoring padding:
    its final state ("last"), or the "max" or "mean" of its sequence. `reset_after` only matters for
    GRUs (True: the cuDNN form, False: the course's equation). `bigram_buckets` > 0 adds to each word's
    vector the vector of the pair (previous word, word), hashed into that many rows (0: words only).
    `embedding_learning_rate` > 0 trains the embedding with plain SGD at that rate instead of Adam (0:
    Adam, like the rest). `average_weights` keeps the mean of the weights at the end of the last epochs
    run, as many as give the lowest validation loss (stochastic weight averaging), instead of the best
    epoch's weights. `pretrained` "word2vec" starts the word table of the embedding from the vectors
    the pretrain stage learned (`PretrainingConfig`; `embedding_dim` must be their `vector_size`), "none"
    from Keras' random initialisation; either way the embedding is trained with the rest.

    In params.yaml every key from `cell` to `dense_units` is required; the last five are `OPTIONAL`
    (left out: `reset_after` true, Keras' default, and the extras off): a variant names the extras it
    uses.
    """

    cell: Literal["none", "rnn", "gru", "lstm"]
    units: tuple[Positive, ...]
    bidirectional: bool = False
    dropout: Rate = 0.0
    recurrent_dropout: Rate = 0.0
    embedding_dim: Positive = 64
    pooling: Literal["last", "max", "mean"] = "last"
    dense_units: Count = 0
    reset_after: bool = field(default=True, metadata=OPTIONAL)
    bigram_buckets: Count = field(default=0, metadata=OPTIONAL)
    embedding_learning_rate: Annotated[float, Range(ge=0)] = field(default=0.0, metadata=OPTIONAL)
    average_weights: bool = field(default=False, metadata=OPTIONAL)
    pretrained: Literal["none", "word2vec"] = field(default="none", metadata=OPTIONAL)

    @property
    def recurrent(self) -> bool:
        """Whether the variant has a recurrent layer (false: a bag of words, `cell` "none")."""
        return self.cell != NO_RECURRENCE

    def __post_init__(self) -> None:
        # A message starts with the key whose value cannot be, and names the key it conflicts with.
        if self.recurrent:
            if not self.units:
                raise ConfigError(
                    f"units: expected at least one layer for cell {self.cell!r} "
                    f"(cell {NO_RECURRENCE!r}: no recurrent layer), got []"
                )
            return
        conflicts = (
            ("units", bool(self.units), "[] (no recurrent layer)"),
            ("bidirectional", self.bidirectional, "false (no recurrent layer to run backwards)"),
            ("pooling", self.pooling == "last", "'mean' or 'max' (no recurrent state to take the last of)"),
            ("recurrent_dropout", self.recurrent_dropout > 0, "0 (no recurrent layer)"),
        )
        for key, wrong, expected in conflicts:
            if wrong:
                value = getattr(self, key)
                value = list(value) if isinstance(value, tuple) else value
                raise ConfigError(
                    f"{key}: expected {expected} when cell is {NO_RECURRENCE!r}, got {shown(value)}"
                )


@dataclass(frozen=True)
class PretrainingConfig:
    """Word vectors learned from the training and unlabeled reviews (params.yaml `pretraining`, stage
    pretrain), with gensim's word2vec: `architecture` skipgram or cbow, `vector_size` dimensions, a
    `window` of words on each side, words seen fewer than `min_count` times left out, `negative`
    noise words per word, `epochs` passes. `threads` above 1 trains faster but not reproducibly
    (gensim's threads race on shared vectors); 1 gives the same vectors for the same params and seed."""

    architecture: Literal["skipgram", "cbow"] = "skipgram"
    vector_size: Positive = 128
    window: Positive = 5
    min_count: Positive = 5
    negative: Positive = 5
    epochs: Positive = 5
    threads: Positive = 1


@dataclass(frozen=True)
class SyntheticTrainingConfig:
    """The demo's training profile (params.yaml `training.synthetic`): on the synthetic reviews (whose
    sequences carry verdict distances) these replace `training`'s epochs, learning rate, patience and
    batch size, so that the gated cells learn the long-range verdicts in a few minutes, and
    `bigram_buckets` replaces that of every variant with word pairs; real reviews never use it."""

    epochs: Positive = 4
    learning_rate: PositiveNumber = 3e-3
    early_stopping_patience: Count = 2
    batch_size: Positive = 64
    bigram_buckets: Positive = 16384


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings (params.yaml `training`). `clipnorm` clips each gradient's norm.

    `embedding_storage` is how the training stage saves the network it serves: "int8" (each embedding
    row int8 with a float32 scale) or "float32" (as trained); its metrics are those of that network.
    """

    learning_rate: PositiveNumber = 1e-3
    clipnorm: PositiveNumber = 1.0
    batch_size: Positive = 64
    epochs: Positive = 4
    early_stopping_patience: Count = 1
    embedding_storage: EmbeddingStorage = "int8"
    synthetic: SyntheticTrainingConfig = field(default_factory=SyntheticTrainingConfig)


@dataclass(frozen=True)
class SyntheticConfig:
    """How the synthetic generator places each review's verdict (params.yaml `source.synthetic`).

    Distances are in words from the end of the review (1: the verdict is its last word), as [low, high]
    with both bounds included: `long_share` of the reviews have theirs in `long_distance`, the rest in
    `short_distance`. `turn_share` of them are turn pairs (a first opinion, `gap` filler words, then the
    opposite verdict: the two reviews of a pair hold the same words), the rest plain (the verdict alone).
    After the verdict, `quote_share` of the filler sentences are someone else's opinion ("my friend said
    it was dull"): the same adjectives, which do not count.
    """

    short_distance: tuple[Positive, ...] = (3, 10)
    long_distance: tuple[Positive, ...] = (20, 100)
    long_share: Share = 0.6
    turn_share: Share = 0.7
    gap: tuple[Positive, ...] = (3, 12)
    quote_share: Share = 0.5

    def __post_init__(self) -> None:
        for name in ("short_distance", "long_distance", "gap"):
            bounds = list(getattr(self, name))
            if len(bounds) != 2 or bounds[0] > bounds[1]:
                raise ConfigError(
                    f"source.synthetic.{name}: expected [low, high] with low <= high, got {bounds}"
                )


@dataclass(frozen=True)
class BaselineConfig:
    """The course's count-based baseline (params.yaml `baseline`): TF-IDF of word n-grams, then a
    logistic regression. `ngram_max` 1 uses unigrams, 2 unigrams and bigrams; `regularization` is C;
    `max_features` null keeps every n-gram that `min_df` keeps."""

    ngram_max: Positive
    min_df: Positive
    max_features: Positive | None
    sublinear_tf: bool
    regularization: PositiveNumber
    max_iter: Positive


@dataclass(frozen=True)
class DiagnosticsConfig:
    """What the training stages measure besides accuracy (params.yaml `diagnostics`).

    `gradient_reviews` validation reviews (the longest) give the loss gradient's norm per distance from
    the end of the review; `gradient_distance` is the far distance whose norm is compared to distance 1.
    `probe_words` get their `neighbours` nearest words by cosine in the learned embedding, and the
    projector export holds the `projector_words` most frequent words (0: the whole vocabulary).
    `length_buckets` are the upper bounds, in tokens, of the review lengths whose test accuracy is
    reported apart (`evaluation.buckets`; [100, 200] gives 1-100, 101-200 and 201 or more);
    `distance_buckets` the same for the distance of the verdict from the end of the review, where the
    reviews record it (the synthetic ones: `test.accuracy_by_distance`).
    """

    gradient_reviews: Positive
    gradient_distance: Positive
    probe_words: tuple[Word, ...]
    neighbours: Positive
    projector_words: Count
    length_buckets: tuple[Positive, ...] = ()
    distance_buckets: tuple[Positive, ...] = ()

    def __post_init__(self) -> None:
        for name in ("length_buckets", "distance_buckets"):
            bounds = list(getattr(self, name))
            if bounds != sorted(set(bounds)):
                raise ConfigError(f"{name}: expected strictly increasing numbers of tokens, got {bounds}")


@dataclass(frozen=True)
class RegistryConfig:
    """The model registry (params.yaml `registry`): which model is registered, and when it is promoted.

    The candidate is the trained model (every variant and the baseline) with the best
    `selection_metric` on the validation split (never the test split). It replaces the
    `champion_alias` holder only if, on the same test reviews, it is right on at least
    ceil(`margin` x reviews) more of them than the champion AND McNemar's exact test of the reviews
    only one of the two gets right gives p < `alpha`; otherwise it gets the `challenger_alias`.
    A network candidate must also beat the run's count baseline that way, by `baseline_margin`
    (null: no such test).
    `comparison_metric` can only be accuracy: McNemar's test compares per-review correctness.
    `threshold` and `unreliable_oov_share` travel with the served model (`serving.inputs`).
    """

    model_name: RegistryName
    selection_metric: MetricName
    comparison_metric: Literal["accuracy"]
    margin: Annotated[float, Range(ge=0)]
    baseline_margin: Annotated[float, Range(ge=0, lt=1)] | None
    alpha: Annotated[float, Range(gt=0, lt=1)]
    champion_alias: RegistryName
    challenger_alias: RegistryName
    threshold: Annotated[float, Range(gt=0, lt=1)]
    unreliable_oov_share: Annotated[float, Range(gt=0, le=1)]
    batch_size: Positive

    def __post_init__(self) -> None:
        if self.champion_alias == self.challenger_alias:
            raise ConfigError(
                f"champion_alias and challenger_alias must differ, both are {self.champion_alias!r}"
            )


def model_family(name: str, models: Mapping[str, VariantConfig]) -> str:
    """What kind of model `name` is, as runs, registry tags and reports name it: "count-based" (the
    baseline), "bag-of-words" (a variant without recurrent layer) or "recurrent"."""
    if name == BASELINE:
        return "count-based"
    return "recurrent" if models[name].recurrent else "bag-of-words"
