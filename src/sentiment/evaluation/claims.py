"""The course's claims, each decided on this run's numbers: "holds", "does not hold", or "not measured".

Pure: plain mappings in (each trained model's metrics file, the embeddings' neighbours, the words'
polarity in the training reviews, the clipping experiment's figures: an `Evidence`) with the typed
`ClaimsConfig` (params.yaml `claims`: which variants each claim compares, and the thresholds that
decide), one `Claim` per claim of the course notes out, in the order of the notes. A claim whose
models params.yaml does not have, or that have not been trained, is "not measured" and names them.
The claims themselves are in `claims_accuracy` and `claims_mechanisms`; `claims_report` writes the
rows as Markdown and JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from sentiment.config import ClaimsConfig
from sentiment.evaluation import claims_accuracy, claims_mechanisms
from sentiment.evaluation.claim_rows import FAILS, HOLDS, UNMEASURED, VERDICTS, Claim, Evidence

CLAIMS: tuple[Callable[[Evidence, ClaimsConfig], Claim], ...] = (
    claims_mechanisms.word_order,
    claims_mechanisms.vanishing_gradient,
    claims_mechanisms.clipping,
    claims_accuracy.gated_overall,
    claims_accuracy.gated_long,
    claims_accuracy.bidirectional,
    claims_accuracy.deep,
    claims_mechanisms.embedding_neighbours,
    claims_accuracy.tfidf,
)


def evaluate_claims(evidence: Evidence, config: ClaimsConfig) -> list[Claim]:
    """Every claim, decided on `evidence` with the thresholds of `config`."""
    return [claim(evidence, config) for claim in CLAIMS]


def verdict_counts(claims: list[Claim]) -> dict[str, int]:
    return {verdict: sum(claim.verdict == verdict for claim in claims) for verdict in VERDICTS}


__all__ = ["CLAIMS", "FAILS", "HOLDS", "UNMEASURED", "VERDICTS", "Claim", "Evidence", "evaluate_claims",
           "verdict_counts"]  # fmt: skip
