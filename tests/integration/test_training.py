"""Training: early stopping on the validation loss restores the best epoch's weights, or leaves the mean
of every epoch's weights (weight averaging); each epoch's logs reach the tracker. (Determinism, across
processes, is tested with the training stage.)"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from sentiment.config import TrainingConfig, VariantConfig
from sentiment.modeling import training
from sentiment.modeling.inference import predict_probabilities

VARIANT = VariantConfig(cell="gru", units=(4,), embedding_dim=4, pooling="max")


def contradicting_arrays() -> dict[str, np.ndarray]:
    """Validation = the training reviews with opposite labels: the better the fit, the worse val_loss."""
    generator = np.random.default_rng(0)
    tokens = generator.integers(1, 30, size=(64, 8)).astype(np.int32)
    labels = generator.integers(0, 2, size=64).astype(np.int32)
    return {"x_train": tokens, "y_train": labels, "x_validation": tokens, "y_validation": 1 - labels}


def test_early_stopping_restores_the_best_epoch_and_every_epoch_is_logged() -> None:
    config = TrainingConfig(learning_rate=0.05, batch_size=16, epochs=6, early_stopping_patience=1)
    arrays = contradicting_arrays()
    received: list[tuple[int, dict[str, float]]] = []
    callback = training.EpochLogCallback(lambda epoch, logs: received.append((epoch, dict(logs))))
    trained = training.train(
        VARIANT, config, arrays, vocabulary_size=30, seed=3, callbacks=[callback], verbose=0
    )

    val_losses = trained.history["val_loss"]
    assert trained.epochs_run < config.epochs, "val_loss rose, so training stopped early"
    assert trained.best_epoch == int(np.argmin(val_losses)) + 1 < trained.epochs_run
    restored = trained.model.evaluate(
        arrays["x_validation"], arrays["y_validation"], verbose=0, return_dict=True
    )
    assert restored["loss"] == pytest.approx(min(val_losses), rel=1e-4)
    assert restored["loss"] != pytest.approx(val_losses[-1], rel=1e-4)
    assert trained.samples_per_second > 0 and trained.parameters == trained.model.count_params()

    assert [epoch for epoch, _ in received] == list(range(1, trained.epochs_run + 1))
    assert [logs["val_loss"] for _, logs in received] == pytest.approx(val_losses)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(received[0][1])


class EpochWeights(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch: int, logs: object = None) -> None:
        self.weights.append([np.array(weight) for weight in self.model.get_weights()])


def mean_of_last(epochs: list[list[np.ndarray]], count: int) -> list[np.ndarray]:
    return [np.mean([epoch[index] for epoch in epochs[-count:]], axis=0) for index in range(len(epochs[0]))]


def test_weight_averaging_keeps_the_mean_of_the_last_epochs_with_the_lowest_validation_loss() -> None:
    config = TrainingConfig(learning_rate=0.05, batch_size=16, epochs=6, early_stopping_patience=1)
    variant = dataclasses.replace(
        VARIANT, bigram_buckets=16, embedding_learning_rate=1.0, average_weights=True
    )
    arrays = contradicting_arrays()
    epoch_weights = EpochWeights()
    trained = training.train(
        variant, config, arrays, vocabulary_size=30, seed=3, callbacks=[epoch_weights], verbose=0
    )

    assert trained.epochs_run < config.epochs, "val_loss rose, so training stopped early"
    epochs = epoch_weights.weights
    assert len(epochs) == trained.epochs_run >= 3
    kept = trained.model.get_weights()
    # word and pair tables, the GRU's kernels and bias, the output layer's kernel and bias
    assert len(kept) == len(epochs[0]) == 7
    losses = []
    for count in range(1, len(epochs) + 1):
        trained.model.set_weights(mean_of_last(epochs, count))
        scores = trained.model.evaluate(
            arrays["x_validation"], arrays["y_validation"], verbose=0, return_dict=True
        )
        losses.append(scores["loss"])
    assert trained.averaged_epochs == int(np.argmin(losses)) + 1 > 1
    for weight, expected in zip(kept, mean_of_last(epochs, trained.averaged_epochs), strict=True):
        np.testing.assert_allclose(weight, expected, atol=1e-6)
    for epoch in epochs:  # neither the best epoch's weights nor the last epoch's
        assert not np.allclose(epoch[0], kept[0])


def test_weight_averaging_leaves_out_the_epochs_before_the_model_learned() -> None:
    """A model that learns only in its last epoch keeps that epoch's weights alone."""
    generator = np.random.default_rng(5)
    tokens = generator.integers(2, 30, size=(200, 8)).astype(np.int32)
    labels = generator.integers(0, 2, size=200).astype(np.int32)
    tokens[labels == 1, generator.integers(0, 8)] = 1  # positive reviews hold word 1
    arrays = {"x_train": tokens, "y_train": labels, "x_validation": tokens, "y_validation": labels}
    config = TrainingConfig(learning_rate=0.05, batch_size=16, epochs=8, early_stopping_patience=8)
    learned = training.train(VARIANT, config, arrays, vocabulary_size=30, seed=2, verbose=0).model
    model = training.build_model(VARIANT, 30)
    training.compile_model(model, config)
    at_chance, learned_weights = model.get_weights(), learned.get_weights()

    averaging = training.WeightAveraging(training.evaluation_batches(tokens, labels))
    averaging.set_model(model)
    for epoch, weights in enumerate([at_chance, at_chance, learned_weights]):
        model.set_weights(weights)
        averaging.on_epoch_end(epoch)
    averaging.on_train_end()

    assert averaging.epochs == 1
    assert averaging.validation_losses[0] < min(averaging.validation_losses[1:])
    for weight, expected in zip(model.get_weights(), learned_weights, strict=True):
        np.testing.assert_array_equal(weight, expected)
    accuracy = model.evaluate(tokens, labels, verbose=0, return_dict=True)["accuracy"]
    assert accuracy > 0.9


def test_without_averaging_no_epochs_are_averaged() -> None:
    config = TrainingConfig(batch_size=16, epochs=1)
    trained = training.train(VARIANT, config, contradicting_arrays(), vocabulary_size=30, seed=3, verbose=0)
    assert trained.averaged_epochs == 0 and trained.best_epoch == 1


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_length_grouped_predictions_equal_those_on_the_padded_rows_in_order(padding: str) -> None:
    from keras import utils

    generator = np.random.default_rng(4)
    lengths = generator.integers(0, 90, size=300)
    rows = [generator.integers(1, 30, size=length) for length in lengths]
    tokens = utils.pad_sequences(rows, maxlen=96, padding=padding, dtype="int32")
    config = TrainingConfig(batch_size=32, epochs=1)
    labels = generator.integers(0, 2, size=300)
    arrays = {"x_train": tokens, "y_train": labels, "x_validation": tokens[:50], "y_validation": labels[:50]}
    model = training.train(VARIANT, config, arrays, vocabulary_size=30, seed=1, verbose=0).model

    expected = model.predict(tokens, verbose=0).reshape(-1)
    assert np.allclose(predict_probabilities(model, tokens), expected, atol=1e-5)
    assert predict_probabilities(model, tokens[:0]).shape == (0,)
