"""Precision, recall, F1 and ROC AUC of drift scoring over the labelled evaluation set: the
learned model (which drives alerts) beside the cue lexicon alone.

Run from the repository root:
    python bench/drift_evaluation.py [--threshold 0.5] [--errors]

Rows with ``"split": "holdout"`` belong to whole batches written blind, by writers who never
saw the cues, the model or other data, and are never trained or tuned on: their figures are
the honest estimate for new text. ``--errors`` lists misclassified messages of the tuning
split only, so that tuning never peeks at the held-out text.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.drift.domain import DEFAULT_THRESHOLD, assess, assess_learned

EVAL_SET = ROOT / "tests" / "data" / "drift_eval.jsonl"


def roc_auc(scores: list[float], labels: list[int]) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):  # average ranks over ties
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    if not positives or not negatives:
        return float("nan")
    rank_sum = sum(r for r, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def metrics(scores: list[float], labels: list[int], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(labels),
        "positives": sum(labels),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auc": roc_auc(scores, labels),
    }


def load(path: Path = EVAL_SET) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _line(name: str, m: dict[str, float]) -> str:
    return (
        f"{name:<30} n={m['n']:<5} pos={m['positives']:<5} "
        f"precision={m['precision']:.3f} recall={m['recall']:.3f} "
        f"F1={m['f1']:.3f} ROC_AUC={m['auc']:.3f}"
    )


def _flag_rate(scores: list[float], threshold: float) -> float:
    return sum(score >= threshold for score in scores) / len(scores) if scores else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--errors", action="store_true", help="list misclassified tune rows")
    args = parser.parse_args()

    rows = load()
    scorers = {"learned": assess_learned, "lexicon": assess}
    scores = {name: [score(row["text"]).score for row in rows] for name, score in scorers.items()}
    labels = [int(row["label"]) for row in rows]

    def subset(name: str, keep) -> tuple[list[float], list[int]]:
        picked = [i for i, row in enumerate(rows) if keep(row)]
        return [scores[name][i] for i in picked], [labels[i] for i in picked]

    print(f"Drift evaluation: {EVAL_SET.relative_to(ROOT)}, threshold {args.threshold:.2f}")
    held_out = sorted({row["batch"] for row in rows if row["split"] == "holdout"})
    groups = {
        "tuning split": lambda r: r["split"] == "tune",
        "held-out split": lambda r: r["split"] == "holdout",
        **{
            f"  held-out {batch}": lambda r, b=batch: r["batch"] == b and r["split"] == "holdout"
            for batch in held_out
        },
    }
    for name in scorers:
        print(f"\n{name}")
        for group, keep in groups.items():
            print(_line(group, metrics(*subset(name, keep), args.threshold)))

    kinds = sorted({row["kind"] for row in rows if row.get("kind")})
    print("\nheld-out, by kind: share flagged (recall for drift kinds, false positives otherwise)")
    print(f"{'kind':<20} {'n':>4} {'learned':>8} {'lexicon':>8}")
    for kind in kinds:
        rates = [
            _flag_rate(
                subset(name, lambda r, k=kind: r["split"] == "holdout" and r.get("kind") == k)[0],
                args.threshold,
            )
            for name in scorers
        ]
        n = sum(1 for r in rows if r["split"] == "holdout" and r.get("kind") == kind)
        print(f"{kind:<20} {n:>4} {rates[0]:>8.2f} {rates[1]:>8.2f}")

    if args.errors:
        print("\nMisclassified (tuning split, learned):")
        for row, score in zip(rows, scores["learned"], strict=True):
            if row["split"] == "tune" and (score >= args.threshold) != bool(row["label"]):
                kind = "false positive" if score >= args.threshold else "missed"
                print(f"  {kind:<14} {score:.2f}  {row['text'][:100]!r}")


if __name__ == "__main__":
    main()
