"""The exploding-gradient experiment of the claims stage, on the synthetic reviews: without clipping the
SimpleRNN's gradient explodes and its loss with it; with the training's clipnorm every applied gradient
stays within the clipnorm and the loss stays finite and bounded. Deterministic, a few seconds."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.config import Params
from sentiment.config.workspace import Workspace
from sentiment.modeling import clipping
from sentiment.stages.readers import read_sequences


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Params, dict[str, np.ndarray], object]:
    from conftest import SMALL_OVERRIDES, write_params
    from sentiment.stages import preprocessing, raw

    root = tmp_path_factory.mktemp("clipping")
    write_params(root, {**SMALL_OVERRIDES, "sequences": {"max_len": 60}})
    workspace = Workspace.load(root)
    raw.fetch_raw(workspace, use_synthetic=True, record=False)
    preprocessing.clean(workspace)
    preprocessing.vocabulary(workspace)
    preprocessing.sequences(workspace)
    arrays = read_sequences(workspace)
    params = workspace.params
    steps = clipping.clipping_experiment(
        arrays["x_train"], arrays["y_train"], params.claims.clipping, params.training.clipnorm, params.seed
    )
    return params, arrays, steps


def test_without_clipping_the_gradient_explodes_and_with_it_the_loss_stays_bounded(experiment: tuple) -> None:
    params, _, steps = experiment
    clipnorm, settings = params.training.clipnorm, params.claims.clipping
    assert list(steps.columns) == list(clipping.COLUMNS)
    clipped, unclipped = steps[steps["clipped"]], steps[~steps["clipped"]]
    assert len(clipped) == len(unclipped) == settings.steps
    # the same start: the first step's loss and gradient are the same either way
    assert clipped["loss"].iloc[0] == unclipped["loss"].iloc[0]
    assert clipped["gradient_norm"].iloc[0] == unclipped["gradient_norm"].iloc[0]
    # with clipping: every weight's applied gradient within clipnorm, the loss finite and bounded
    assert (clipped["applied_norm"] <= clipnorm * (1 + 1e-3)).all()
    assert np.isfinite(clipped["loss"]).all()
    assert clipped["loss"].max() <= settings.loss_growth * clipped["loss"].iloc[0]
    assert clipped["loss"].iloc[-1] < clipped["loss"].iloc[0]  # and it learns
    # without: a gradient far larger than clipnorm is applied whole, and the loss runs away
    norms = unclipped["gradient_norm"].to_numpy()
    assert not np.isfinite(norms).all() or norms.max() >= settings.explosion * clipnorm
    assert unclipped["applied_norm"].iloc[0] == pytest.approx(clipped["gradient_norm"].iloc[0], rel=0.3)
    losses = unclipped["loss"].to_numpy()
    assert not np.isfinite(losses).all() or losses.max() > settings.loss_growth * losses[0]

    figures = clipping.summary(steps, clipnorm)
    assert figures["clipped_first_non_finite_step"] is None
    assert figures["clipped_max_applied_norm"] == pytest.approx(clipnorm, rel=1e-3)
    assert figures["unclipped_max_applied_norm"] > 100 * clipnorm


def test_the_experiment_is_deterministic_and_takes_the_longest_reviews_of_each_label(
    experiment: tuple,
) -> None:
    params, arrays, steps = experiment
    again = clipping.clipping_experiment(
        arrays["x_train"], arrays["y_train"], params.claims.clipping, params.training.clipnorm, params.seed
    )
    assert again.equals(steps)
    batch, targets = clipping.experiment_batch(arrays["x_train"], arrays["y_train"], params.claims.clipping)
    assert batch.shape == (params.claims.clipping.reviews, min(params.claims.clipping.tokens, 60))
    assert targets.mean() == 0.5
