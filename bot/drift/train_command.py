"""``rapport train-drift``: refit the learned drift model from a labelled JSON Lines file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bot.drift.tone import MODEL_PATH

DEFAULT_DATA = Path("tests/data/drift_eval.jsonl")


def main(argv: list[str], stdout: TextIO) -> int:
    parser = argparse.ArgumentParser(
        prog="rapport train-drift",
        description="Fit the drift model on the rows of the tune split and write its weights.",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"default {DEFAULT_DATA}")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="default: the shipped model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        from bot.drift.training import read_rows, train
    except ImportError as error:
        parser.exit(
            2, f"rapport train-drift needs scikit-learn: pip install '.[train]' ({error})\n"
        )
    if not args.data.is_file():
        parser.exit(2, f"No labelled messages at {args.data}: pass --data PATH.\n")
    try:
        report = train(read_rows(args.data), args.out, seed=args.seed)
    except (ValueError, KeyError) as error:
        parser.exit(2, f"Can't train on {args.data}: {error}\n")
    stdout.write(
        f"trained on {report.rows} messages: {report.hidden} hidden units, penalty "
        f"{report.alpha}, cross-validated ROC AUC {report.cross_validated_auc:.3f}, "
        f"threshold {report.threshold:.2f} (now 0.5); weights in {args.out}\n"
    )
    return 0
