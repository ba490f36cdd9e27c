"""Training one recurrent variant: seeded and deterministic, Adam with gradient clipping, early stopping,
optionally weight averaging.

The model comes from the one builder (`builder`); this module only fits it and times it. It
feeds the network batches of reviews of similar length, cut to their longest review (`batching`),
for training and prediction alike. The same params and seed give the same weights, hence the same
metrics: every random source, the batch plans included, is seeded and TensorFlow is asked for
deterministic kernels.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from sentiment.config import TrainingConfig, VariantConfig
from sentiment.modeling import batching
from sentiment.modeling.builder import EMBEDDING_LAYER, build_model, compile_model
from sentiment.modeling.inference import PREDICT_BATCH_SIZE

EpochLogger = Callable[[int, Mapping[str, float]], None]


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's kernels deterministic."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def progress_verbosity() -> int:
    """Keras progress bars on a terminal; one line per epoch in logs (a bar redrawn into a file floods it)."""
    return 1 if sys.stdout.isatty() else 2


class EpochLogCallback(keras.callbacks.Callback):
    """Hands each epoch's logs (loss, accuracy, val_loss, val_accuracy) to `log`, epochs numbered from 1."""

    def __init__(self, log: EpochLogger) -> None:
        super().__init__()
        self.log = log

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.log(epoch + 1, {name: float(value) for name, value in (logs or {}).items()})


class TrainingClock(keras.callbacks.Callback):
    """Seconds spent on training batches only: from each epoch's start to its validation pass."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self._started: float | None = None

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def _stop(self) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None

    def on_test_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._stop()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._stop()


class WeightAveraging(keras.callbacks.Callback):
    """Stochastic weight averaging (Izmailov et al. 2018) over the last epochs run: when training ends,
    the model takes the mean of its weights at the end of its last k epochs, k being the count whose
    mean has the lowest loss on `validation`.

    A model that memorizes its training reviews within a few epochs (the word-pair variants) is at its
    best validation loss for one epoch at most; the mean of the points along its path lies in a wider
    valley than any of them, and classifies unseen reviews better than the best single epoch. Only a
    tail of the path is averaged, and the validation split picks how long a tail: a model that learns
    late (a few thousand reviews) must not be averaged with its epochs at chance.
    """

    def __init__(self, validation: tf.data.Dataset) -> None:
        super().__init__()
        self.validation = validation
        self.epochs = 0  # epochs averaged into the kept weights
        self.validation_losses: list[float] = []  # of the mean of the last 1, 2, ... epochs
        self._snapshots: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._snapshots.append(self.model.get_weights())

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        sums: list[np.ndarray] = []
        best_weights: list[np.ndarray] = []
        for count, snapshot in enumerate(reversed(self._snapshots), start=1):
            if sums:
                for total, weight in zip(sums, snapshot, strict=True):
                    total += weight
            else:
                sums = [np.array(weight, dtype=np.float64) for weight in snapshot]
            mean = [
                (total / count).astype(weight.dtype) for total, weight in zip(sums, snapshot, strict=True)
            ]
            self.model.set_weights(mean)
            loss = float(self.model.evaluate(self.validation, verbose=0, return_dict=True)["loss"])
            if not self.validation_losses or loss < min(self.validation_losses):
                self.epochs, best_weights = count, mean
            self.validation_losses.append(loss)
        if best_weights:
            self.model.set_weights(best_weights)
        self._snapshots = []


def length_batched(
    tokens: np.ndarray, labels: np.ndarray, plan: Callable[[], list[np.ndarray]], batch_count: int
) -> tf.data.Dataset:
    """(tokens, labels) in the batches `plan()` lays out (called at each pass), trimmed of padding."""

    def batches() -> Iterator[Any]:
        yield from batching.iterate(tokens, labels, plan())

    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.float32))
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    # Keras needs the number of batches up front, or it warns that the input "ran out of data".
    return dataset.apply(tf.data.experimental.assert_cardinality(batch_count)).prefetch(1)


def training_batches(tokens: np.ndarray, labels: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Reviews of similar length batched together, regrouped and reshuffled at every epoch (seeded)."""
    plans = batching.LengthBatches(batching.review_lengths(tokens), batch_size)
    epochs = itertools.count()
    return length_batched(
        tokens, labels.astype(np.float32), lambda: plans.training_epoch(seed, next(epochs)), plans.count
    )


def evaluation_batches(tokens: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    plans = batching.LengthBatches(batching.review_lengths(tokens), PREDICT_BATCH_SIZE)
    return length_batched(tokens, labels.astype(np.float32), plans.prediction, plans.count)


@dataclass(frozen=True)
class TrainedModel:
    model: keras.Model
    history: dict[str, list[float]]
    best_epoch: int  # numbered from 1: the epoch of the lowest validation loss
    epochs_run: int
    averaged_epochs: int  # epochs whose weights were averaged into the model (0: best epoch restored)
    seconds: float  # on training batches, validation passes excluded
    samples_per_second: float

    @property
    def parameters(self) -> int:
        return int(self.model.count_params())


def train(
    variant: VariantConfig,
    training: TrainingConfig,
    arrays: Mapping[str, np.ndarray],
    vocabulary_size: int,
    seed: int,
    name: str = "sentiment",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | None = None,
    word_vectors: np.ndarray | None = None,
) -> TrainedModel:
    """Build, compile and fit one variant on `arrays` (x_train, y_train, x_validation, y_validation).

    Batches group reviews of similar length and skip the columns that are padding in all of them
    (`batching`). Early stopping watches the validation loss and restores the best epoch's weights,
    or, if the variant averages its weights, leaves the mean of the weights of its last epochs
    (`WeightAveraging`). `word_vectors` (vocabulary_size x embedding_dim), when given, is the word
    table's starting point (`modeling.word_vectors`) instead of Keras' random one.
    """
    make_deterministic(seed)
    model = build_model(variant, vocabulary_size, name=name)
    if word_vectors is not None:
        model.get_layer(EMBEDDING_LAYER).embeddings.assign(word_vectors)
    compile_model(model, training, variant.embedding_learning_rate)
    validation = evaluation_batches(arrays["x_validation"], arrays["y_validation"])
    averaging = WeightAveraging(validation) if variant.average_weights else None
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=training.early_stopping_patience, restore_best_weights=averaging is None
    )
    clock = TrainingClock()
    history = model.fit(
        training_batches(arrays["x_train"], arrays["y_train"], training.batch_size, seed),
        validation_data=validation,
        epochs=training.epochs,
        shuffle=False,  # training_batches shuffles, by length group
        # Averaging comes after early stopping, so that its weights are the ones the model keeps.
        callbacks=[early_stopping, *([averaging] if averaging else []), clock, *callbacks],
        verbose=progress_verbosity() if verbose is None else verbose,
    )
    logs = {key: [float(value) for value in values] for key, values in history.history.items()}
    epochs_run = len(logs.get("loss", []))
    samples = len(arrays["x_train"]) * epochs_run
    return TrainedModel(
        model=model,
        history=logs,
        best_epoch=int(early_stopping.best_epoch) + 1,
        epochs_run=epochs_run,
        averaged_epochs=averaging.epochs if averaging else 0,
        seconds=clock.seconds,
        samples_per_second=samples / clock.seconds if clock.seconds > 0 else float("nan"),
    )
