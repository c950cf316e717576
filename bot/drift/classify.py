"""`rapport classify`: score messages for drift from the command line.

    rapport classify "Please raise a CR for this" "thanks, legend!"
    rapport classify --json < messages.txt

One message per stdin line (empty lines skipped) unless messages are given as arguments.
Messages are scored as drift alerts score them: by the learned model (``bot.drift.tone``),
the cues that fired kept as the explanation; ``--lexicon`` scores with the cues alone.
Text output shows the score, DRIFT when it reaches the threshold, the message and its cues;
``--json`` prints one object per line with ``text``, ``score``, ``cues`` (human-readable cue
strings), ``formal``, ``kinds`` (the cue kinds' ids, then the tone's when no cue says it),
``model`` (the learned model's version, or "lexicon"), and for the learned model
``lexicon_score`` (the cues alone) and ``sounds_like`` (the tone of a flagged message).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from typing import TextIO

from bot.core.figures import decimal_text
from bot.drift.domain import DEFAULT_THRESHOLD, assess, assess_learned, default_cues
from bot.drift.tone import tone_model

PREVIEW_CHARS = 100


def _threshold(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport classify",
        description="Score messages for drift into formal, over-the-wall talk.",
    )
    parser.add_argument(
        "messages", nargs="*", help="messages to score (default: one per line from stdin)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument(
        "--threshold",
        type=_threshold,
        default=DEFAULT_THRESHOLD,
        help=f"score at which a message counts as drift (default {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--lexicon",
        action="store_true",
        help="score with the cues alone instead of the learned model (cues, wording and tone)",
    )
    return parser


def _messages(args: argparse.Namespace, stdin: TextIO) -> Iterator[str]:
    source = args.messages if args.messages else stdin
    for raw in source:
        text = raw.rstrip("\r\n")
        if text.strip():
            yield text


def main(argv: list[str], stdin: TextIO, stdout: TextIO) -> int:
    parser = _parser()
    try:
        with contextlib.redirect_stdout(stdout):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error (already reported by argparse)
        return exc.code if isinstance(exc.code, int) else 2

    cues = default_cues()
    learned = not args.lexicon
    score_with = assess_learned if learned else assess
    model = tone_model().version if learned else "lexicon"
    total = flagged = 0
    for text in _messages(args, stdin):
        result = score_with(text, cues)
        is_drift = result.score >= args.threshold
        total += 1
        flagged += is_drift
        if args.json:
            record = {
                "text": text,
                "score": result.score,
                "cues": [cue.describe() for cue in result.cues],
                "formal": is_drift,
                "kinds": list(result.kinds),
                "model": model,
            }
            if learned:
                record |= {"lexicon_score": result.lexicon_score, "sounds_like": result.sounds_like}
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        preview = " ".join(text.split())
        if len(preview) > PREVIEW_CHARS:
            preview = preview[: PREVIEW_CHARS - 1] + "…"
        score = decimal_text(result.score, 2)
        stdout.write(f"{score}  {'DRIFT' if is_drift else 'ok   '}  {preview}\n")
        kinds = dict.fromkeys(cue.kind for cue in result.cues)  # in describe()'s order
        for kind, line in zip(kinds, result.describe(), strict=True):
            stdout.write(f"             {kind}: {line}\n")  # the id /rapport drift words takes
        if result.negated:
            ignored = ", ".join(cue.describe() for cue in result.negated)
            stdout.write(f"             (negated, not counted: {ignored})\n")
        if result.dampeners:
            stdout.write(f"             (softened: {', '.join(result.dampeners)})\n")
        if learned:
            tone = f", sounds like: {result.sounds_like}" if is_drift and result.sounds_like else ""
            stdout.write(
                f"             (cues alone: {decimal_text(result.lexicon_score, 2)}{tone})\n"
            )
    if not args.json and total > 1:
        stdout.write(f"{total} messages, {flagged} at or above {decimal_text(args.threshold, 2)}\n")
    return 0
