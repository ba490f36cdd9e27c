"""The course's claims about how the models work, decided on this run's diagnostics (`evaluation.claims`):
the gradient reaching far tokens, word order, the embedding's neighbours, gradient clipping.
"""

from __future__ import annotations

from sentiment.config import ClaimsConfig
from sentiment.evaluation.claim_rows import (
    FAILS,
    HOLDS,
    UNMEASURED,
    Claim,
    Evidence,
    Numbers,
    absent,
    claim_maker,
    metric,
    number,
    points,
)

# A clipped gradient's norm read back from the weights' change: float32 rounding, not a breach.
APPLIED_NORM_TOLERANCE = 1e-3


def vanishing_gradient(evidence: Evidence, config: ClaimsConfig) -> Claim:
    simple, gated = config.variants.simple_rnn, config.variants.gated
    make = claim_maker(
        "simple_rnn_gradient_vanishes",
        '"RNNs are susceptible to vanishing gradients"; GRU and LSTM "help to mitigate ... vanishing '
        "gradient\": the simple RNN's gradient dies with distance, the gated cells' far less",
        "norm of the loss gradient reaching the token at diagnostics.gradient_distance from the end, over "
        "its norm at the last token (gradients.ratio_far_to_1, on the longest validation reviews)",
    )
    missing = absent(evidence, [simple, *gated], "gradients", "ratio_far_to_1")
    if missing:
        return make({}, UNMEASURED, missing)
    ratio = {name: float(metric(evidence, name, "gradients", "ratio_far_to_1") or 0.0)
             for name in (simple, *gated)}  # fmt: skip
    distance = metric(evidence, simple, "gradients", "far_distance")
    numbers: Numbers = {f"{name}_ratio_far_to_1": value for name, value in ratio.items()}
    numbers["far_distance"] = distance
    vanishes = ratio[simple] <= 1.0 / config.gradient_decay
    # a gated cell whose gradient is 0 there keeps nothing, whatever the simple RNN's
    kept = all(ratio[name] > 0 and ratio[name] >= config.gradient_advantage * ratio[simple] for name in gated)
    shown = ", ".join(f"{name} {ratio[name]:.3g}" for name in gated)
    at = f" at distance {distance:.0f}" if distance is not None else ""
    reason = (
        f"{simple} keeps {ratio[simple]:.3g} of its gradient{at} (vanishes: 1/{config.gradient_decay:g} or "
        f"less); {shown} (far less: {config.gradient_advantage:g} x {simple}'s or more)"
    )
    weaker = [name for name in gated if ratio[name] < ratio[simple]]
    if weaker:
        reason += (
            f"; {', '.join(weaker)} {'keeps' if len(weaker) == 1 else 'keep'} less of it than {simple}: "
            "benchmarks/gradient_flow.py measures the profile before training and after every epoch"
        )
    return make(numbers, HOLDS if vanishes and kept else FAILS, reason)


def word_order(evidence: Evidence, config: ClaimsConfig) -> Claim:
    sequence, bag = config.variants.sequence, config.variants.bag
    make = claim_maker(
        "sequence_models_read_order",
        '"One of the important information in sequence data ... is positional information. RNNs attempt '
        'to integrate positional information"; a bag of words "represents each document as a vector of '
        'word frequencies": shuffling the words hurts a sequence model, not a bag of words',
        f"test accuracy lost when each review's words are shuffled: {sequence} against {bag}",
    )
    missing = absent(evidence, [sequence, bag], "test", "shuffled_accuracy") or absent(
        evidence, [sequence, bag]
    )
    if missing:
        return make({}, UNMEASURED, missing)
    accuracy = {name: float(metric(evidence, name, "test") or 0.0) for name in (sequence, bag)}
    shuffled = {
        name: float(metric(evidence, name, "test", "shuffled_accuracy") or 0.0) for name in (sequence, bag)
    }
    drop = {name: accuracy[name] - shuffled[name] for name in (sequence, bag)}
    numbers: Numbers = {f"{name}_shuffled_drop": value for name, value in drop.items()}
    reads = drop[sequence] >= config.order_drop
    blind = drop[bag] < config.order_drop
    pairs = evidence.models[bag].bigram_buckets if bag in evidence.models else 0
    caveat = f"; {bag} reads word pairs (bigram_buckets {pairs}), which shuffling breaks" if pairs else ""
    reason = (
        f"{sequence} {points(-drop[sequence])}, {bag} {points(-drop[bag])} with the words shuffled (reads "
        f"order: {points(-config.order_drop)} or worse; the bag must lose less){caveat}"
    )
    return make(numbers, HOLDS if reads and blind else FAILS, reason)


def _agreement(evidence: Evidence, variant: str) -> tuple[int, int]:
    """(neighbours of the probe words that share the probe word's polarity, neighbours counted)."""
    same = total = 0
    for probe, words in evidence.neighbours[variant].items():
        side = number(evidence.polarity.get(probe))
        if not side:  # unknown or without a lean: nothing to agree with
            continue
        total += len(words)
        same += sum((number(evidence.polarity.get(word)) or 0.0) * side > 0 for word in words)
    return same, total


def embedding_neighbours(evidence: Evidence, config: ClaimsConfig) -> Claim:
    make = claim_maker(
        "embedding_groups_similar_words",
        '"These models learn to represent words in a way that similar words have similar vector '
        'representations"',
        "share of the probe words' nearest neighbours (cosine) in the embedding of the variant best on "
        "validation that lean to the probe word's side in the training reviews (log odds of a positive "
        "review holding the word); every variant's share beside it",
    )
    counts = {variant: _agreement(evidence, variant) for variant in sorted(evidence.neighbours)}
    counts = {variant: found for variant, found in counts.items() if found[1]}
    numbers: Numbers = {
        f"{variant}_same_polarity_share": same / total for variant, (same, total) in counts.items()
    }
    # an embedding that learned nothing (a model at chance) says little about embeddings: the best one decides
    ranked = [variant for variant in counts if metric(evidence, variant, "validation") is not None]
    if not ranked:
        reason = (
            "no variant with validation metrics has neighbours of a probe word with a polarity in the "
            "training reviews (diagnostics.probe_words, reports/embeddings/)"
        )
        return make(numbers, UNMEASURED, reason)
    best = max(ranked, key=lambda variant: (metric(evidence, variant, "validation") or 0.0, variant))
    same, total = counts[best]
    numbers.update({"same_polarity_share": same / total, "neighbours_counted": total})
    reason = (
        f"{best} (best on validation): {same} of {total} neighbours ({same / total:.1%}) share the probe "
        f"word's polarity (similar words together: {config.same_polarity:.0%} or more)"
    )
    return make(numbers, HOLDS if same / total >= config.same_polarity else FAILS, reason)


def clipping(evidence: Evidence, config: ClaimsConfig) -> Claim:
    settings, figures = config.clipping, evidence.clipping
    tokens = (figures or {}).get("tokens") or settings.tokens
    make = claim_maker(
        "clipping_stops_explosion",
        '"Exploding gradient can occur because of ... large values of the weights ... To mitigate exploding '
        'gradient, gradient clipping is used"',
        f"a SimpleRNN ({settings.activation}, recurrent weights {settings.recurrent_gain:g} x identity) "
        f"trained {settings.steps} SGD steps at {settings.learning_rate:g} on the last {tokens} "
        "tokens of the longest training reviews, with training.clipnorm and without: loss and gradient "
        "norm per step (reports/clipping/)",
    )
    if not figures:
        return make({}, UNMEASURED, "the clipping experiment did not run")
    clipnorm = float(number(figures.get("clipnorm")) or 0.0)
    first = {label: number(figures.get(f"{label}_first_loss")) for label in ("clipped", "unclipped")}
    if first["clipped"] is None or first["unclipped"] is None:
        return make(
            dict(figures), UNMEASURED, "the experiment's first loss is not finite: lower recurrent_gain"
        )
    bound = settings.loss_growth * max(first["clipped"], first["unclipped"])
    unclipped_norm = float(number(figures.get("unclipped_max_gradient_norm")) or 0.0)
    overflow = figures.get("unclipped_first_non_finite_gradient_step")
    explodes = unclipped_norm >= settings.explosion * clipnorm or overflow is not None
    unclipped_worst = number(figures.get("unclipped_max_finite_loss"))
    diverges = figures.get("unclipped_first_non_finite_step") is not None or (unclipped_worst or 0.0) > bound
    clipped_worst = number(figures.get("clipped_max_finite_loss"))
    applied = number(figures.get("clipped_max_applied_norm"))
    bounded = (
        figures.get("clipped_first_non_finite_step") is None
        and clipped_worst is not None
        and clipped_worst <= bound
        and applied is not None
        and applied <= clipnorm * (1 + APPLIED_NORM_TOLERANCE)
    )
    step = figures.get("unclipped_first_non_finite_step")
    unclipped = f"not finite from step {step}" if step is not None else f"up to {unclipped_worst:.3g}"
    norm = f"{unclipped_norm:.3g}" + (f", then overflows at step {overflow}" if overflow is not None else "")
    reason = (
        f"without clipping the gradient norm reaches {norm} ({settings.explosion:g} x clipnorm "
        f"{clipnorm:g} is an explosion) and the loss goes {unclipped}; with clipping the largest gradient "
        f"applied per weight is {applied if applied is not None else float('nan'):.4g} and the loss at most "
        f"{clipped_worst if clipped_worst is not None else float('nan'):.3g} (bounded: finite and "
        f"{settings.loss_growth:g} x the first loss, {bound:.3g}, or less)"
    )
    return make(dict(figures), HOLDS if explodes and diverges and bounded else FAILS, reason)
