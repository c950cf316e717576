"""Precision, recall, F1 and ROC AUC of drift scoring over the labelled evaluation set.

Run from the repository root:
    python bench/drift_evaluation.py [--threshold 0.5] [--errors] [--split tune|holdout|all]

Rows with ``"split": "holdout"`` were written blind, by someone who had not seen the cues,
and were never used to tune them; their figures are the honest estimate for new text. Once
a held-out batch has been used for tuning it moves to the tuning split and a new blind
batch takes its place. ``--errors`` lists
misclassified messages of the tuning split only, unless you ask for another split, so that
tuning never peeks at the held-out text.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.drift.domain import DEFAULT_THRESHOLD, assess

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


def _batch(row: dict) -> str:
    return row.get("note", "").split(" ")[0]


def _line(name: str, m: dict[str, float]) -> str:
    return (
        f"{name:<26} n={m['n']:<4} pos={m['positives']:<4} "
        f"precision={m['precision']:.3f} recall={m['recall']:.3f} "
        f"F1={m['f1']:.3f} ROC_AUC={m['auc']:.3f}  (tp={m['tp']} fp={m['fp']} fn={m['fn']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--errors", action="store_true", help="list misclassified messages")
    parser.add_argument(
        "--split", choices=("tune", "holdout", "all"), default="tune", help="whose errors to list"
    )
    args = parser.parse_args()

    rows = load()
    scores = [assess(row["text"]).score for row in rows]
    labels = [int(row["label"]) for row in rows]

    def subset(keep) -> tuple[list[float], list[int]]:
        picked = [i for i, row in enumerate(rows) if keep(row)]
        return [scores[i] for i in picked], [labels[i] for i in picked]

    print(f"Drift evaluation: {EVAL_SET.relative_to(ROOT)}, threshold {args.threshold:.2f}")
    print(_line("all messages", metrics(scores, labels, args.threshold)))
    groups = {
        "  tuning split": lambda r: r["split"] == "tune",
        "  held-out split": lambda r: r["split"] == "holdout",
        **{
            f"    held-out {batch}": lambda r, b=batch: r["split"] == "holdout" and _batch(r) == b
            for batch in sorted({_batch(row) for row in rows if row["split"] == "holdout"})
        },
        "  client side": lambda r: r["side"] == "client",
        "  provider side": lambda r: r["side"] == "provider",
    }
    for name, keep in groups.items():
        print(_line(name, metrics(*subset(keep), args.threshold)))
    for industry in sorted({row["industry"] for row in rows}):
        m = metrics(*subset(lambda r, ind=industry: r["industry"] == ind), args.threshold)
        print(_line(f"  {industry}", m))

    if args.errors:
        print(f"\nMisclassified ({args.split} split):")
        for row, score in zip(rows, scores, strict=True):
            if args.split not in ("all", row["split"]):
                continue
            if (score >= args.threshold) != bool(row["label"]):
                kind = "false positive" if score >= args.threshold else "missed"
                print(f"  {kind:<14} {score:.2f}  {row['text'][:100]!r}")


if __name__ == "__main__":
    main()
