"""Fit the learned drift model from labelled messages (``rapport train-drift``).

Needs scikit-learn (``pip install '.[train]'``); run time doesn't. Only rows of the ``tune``
split are read, so the held-out batches stay unseen. Reproducible: the same data and seed
give the same weights.

1. Features for every message (``bot.drift.tone.feature_matrix``), standardised.
2. For each candidate network size and regularisation, 5-fold cross-validated predictions;
   the candidate with the best ROC AUC wins. The look-alike negatives (jokes, quoted speech,
   technical senses: formal words that aren't drift) count more (``LOOKALIKE_WEIGHTS``).
3. The threshold is the lowest at which the cross-validated precision reaches
   ``TARGET_PRECISION`` and each look-alike kind is flagged at most ``LOOKALIKE_FLAGGED``
   of the time; the model's logit is shifted so that it falls at 0.5.
4. ``MEMBERS`` networks with different seeds are fitted on all rows and averaged.
5. A linear head learns which kind of drift a message sounds like, from the drift rows
   that name their kind.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.drift.domain import default_cues, lexicon_signals
from bot.drift.tone import TONES, feature_matrix

TARGET_PRECISION = 0.92  # 0.90 wanted on new text, with a margin
LOOKALIKE_WEIGHTS = {"joke": 2.0, "quoted_speech": 1.5, "technical_sense": 1.5}
# 10% wanted on new writers; cross-validation, whose folds share writers, sees about half
LOOKALIKE_FLAGGED = 0.06
MEMBERS = 3
CANDIDATES = ((32, 1.0), (64, 1.0), (64, 3.0))  # (hidden units, L2 penalty)
FOLDS = 5


@dataclass(frozen=True)
class TrainingReport:
    rows: int
    hidden: int
    alpha: float
    cross_validated_auc: float
    threshold: float


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _network(hidden: int, alpha: float, seed: int):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=600, random_state=seed)


def _threshold(labels: np.ndarray, probabilities: np.ndarray, kinds: np.ndarray) -> float:
    """The lowest threshold whose precision reaches the target and that flags few enough of
    each look-alike kind (0.5 if none does)."""
    lookalikes = [(kinds == kind) & (labels == 0) for kind in LOOKALIKE_WEIGHTS]
    for threshold in np.arange(0.20, 0.90, 0.01):
        flagged = probabilities >= threshold
        if not flagged.any() or labels[flagged].mean() < TARGET_PRECISION:
            continue
        if all(flagged[rows].mean() <= LOOKALIKE_FLAGGED for rows in lookalikes if rows.any()):
            return round(float(threshold), 2)
    return 0.5


def _cross_validated(
    network, features: np.ndarray, labels: np.ndarray, weights: np.ndarray, seed: int
) -> np.ndarray:
    """Each message's probability from the network fitted on the other folds."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    predicted = np.zeros(len(labels))
    for fit, held in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(
        features, labels
    ):
        fitted = clone(network).fit(features[fit], labels[fit], sample_weight=weights[fit])
        predicted[held] = fitted.predict_proba(features[held])[:, 1]
    return predicted


def train(
    rows: Iterable[dict],
    out: Path,
    seed: int = 0,
    candidates: Sequence[tuple[int, float]] = CANDIDATES,
    members: int = MEMBERS,
) -> TrainingReport:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    tune = [row for row in rows if row.get("split", "tune") == "tune"]
    tone_rows = [i for i, row in enumerate(tune) if row.get("kind") in TONES and row["label"]]
    if len({tune[i]["kind"] for i in tone_rows}) < 2:
        raise ValueError("Training needs drift messages tagged with at least two kinds.")
    texts = [row["text"] for row in tune]
    labels = np.array([int(row["label"]) for row in tune])
    message_kinds = np.array([row.get("kind") or "" for row in tune])
    weights = np.array(
        [
            1.0 if label else LOOKALIKE_WEIGHTS.get(kind, 1.0)
            for kind, label in zip(message_kinds, labels, strict=True)
        ]
    )
    kinds = tuple(sorted(default_cues().labels))
    features = feature_matrix(texts, [lexicon_signals(text) for text in texts], kinds)
    scaler = StandardScaler().fit(features)
    standard = scaler.transform(features)

    best: tuple[float, int, float, np.ndarray] | None = None
    for hidden, alpha in candidates:
        predicted = _cross_validated(_network(hidden, alpha, seed), standard, labels, weights, seed)
        auc = float(roc_auc_score(labels, predicted))
        if best is None or auc > best[0]:
            best = (auc, hidden, alpha, predicted)
    assert best is not None
    auc, hidden, alpha, predicted = best
    threshold = _threshold(labels, predicted, message_kinds)

    networks = [
        _network(hidden, alpha, seed + member).fit(standard, labels, sample_weight=weights)
        for member in range(members)
    ]
    tone_head = LogisticRegression(C=0.3, max_iter=3000).fit(
        standard[tone_rows], [tune[i]["kind"] for i in tone_rows]
    )

    version = f"mlp{hidden}-a{alpha}-n{len(tune)}-s{seed}"
    _save(out, version, kinds, scaler, networks, tone_head, threshold)
    return TrainingReport(len(tune), hidden, alpha, auc, threshold)


def _save(out: Path, version: str, kinds, scaler, networks, tone_head, threshold: float) -> None:
    """Write the weights as ``bot.drift.tone`` reads them, the standardisation folded into
    the first layer and the tone head: x' = (x - mean) / scale."""
    inverse = 1.0 / scaler.scale_
    shift = scaler.mean_ * inverse
    first = np.stack([net.coefs_[0] * inverse[:, None] for net in networks])
    np.savez_compressed(
        out,
        version=np.array(version),
        kinds=np.array(kinds),
        hidden_weights=first.astype(np.float32),
        hidden_bias=np.stack(
            [net.intercepts_[0] - shift @ net.coefs_[0] for net in networks]
        ).astype(np.float32),
        output_weights=np.stack([net.coefs_[1][:, 0] for net in networks]).astype(np.float32),
        output_bias=np.array([net.intercepts_[1][0] for net in networks], dtype=np.float32),
        offset=np.array(math.log(threshold / (1 - threshold))),
        tones=np.array(tone_head.classes_),
        tone_weights=(tone_head.coef_.T * inverse[:, None]).astype(np.float32),
        tone_bias=(tone_head.intercept_ - shift @ tone_head.coef_.T).astype(np.float32),
    )
