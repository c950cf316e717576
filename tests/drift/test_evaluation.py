"""Drift scoring against the labelled evaluation set, and the `rapport classify` CLI."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.drift.classify import main
from bot.drift.domain import DEFAULT_THRESHOLD, assess, assess_learned
from bot.drift.tone import TONES

EVAL_SET = Path(__file__).parents[1] / "data" / "drift_eval.jsonl"

# Floors a little under what the shipped scorers achieve, per split. "tune" rows are what the
# cues were tuned on and the learned model trained on; "holdout" rows belong to whole batches
# written blind, by writers who never saw the cues, the model or other data, and never used
# for tuning or training, so they are the honest estimate for new text (see
# bench/drift_evaluation.py). Measured at the time of writing on 7,225 rows, (precision,
# recall, ROC AUC): lexicon tune 0.883 / 0.539 / 0.753, holdout 0.780 / 0.343 / 0.625 (lower
# with each new blind batch, b32-b37 being mostly the tone the cues can't hear; the cues
# didn't change); learned holdout 0.936 / 0.837 / 0.969. Raise these when a scorer
# improves; never lower them to make a change of a scorer pass (new data may move them).
FLOORS = {  # (scorer, split): (precision, recall, ROC AUC)
    ("lexicon", "tune"): (0.86, 0.52, 0.73),
    ("lexicon", "holdout"): (0.76, 0.32, 0.60),
    ("learned", "holdout"): (0.91, 0.82, 0.95),
}
SCORERS = {"lexicon": assess, "learned": assess_learned}
BATCH_FIELDS = {"kind", "register", "seniority", "batch"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with EVAL_SET.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def scored_by_split(rows) -> dict[tuple[str, str], list[tuple[float, int]]]:
    scored: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for scorer in {scorer for scorer, _ in FLOORS}:
        for row in rows:
            score = SCORERS[scorer](row["text"]).score
            scored.setdefault((scorer, row["split"]), []).append((score, int(row["label"])))
    return scored


def _roc_auc(scored: list[tuple[float, int]]) -> float:
    positives = [s for s, y in scored if y]
    negatives = [s for s, y in scored if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


# --------------------------------------------------------------------------- the set itself


def test_evaluation_set_is_large_balanced_and_varied(rows):
    assert len(rows) >= 5000
    share = sum(row["label"] for row in rows) / len(rows)
    assert 0.3 <= share <= 0.5
    assert {row["side"] for row in rows} == {"client", "provider"}
    assert len({row["industry"] for row in rows}) >= 6
    for side in ("client", "provider"):
        assert Counter(row["label"] for row in rows if row["side"] == side)[1] >= 50
    held_out = Counter(row["label"] for row in rows if row["split"] == "holdout")
    assert held_out[0] >= 500 and held_out[1] >= 500


def test_every_batch_is_tagged_by_kind_and_held_out_whole(rows):
    """New batches name each message's kind; a batch is either trained on or held out."""
    splits: dict[str, set[str]] = {}
    for row in rows:
        splits.setdefault(row["batch"], set()).add(row["split"])
    assert all(len(found) == 1 for found in splits.values())
    held_out = [row for row in rows if row["split"] == "holdout" and "kind" in row]
    kinds = Counter(row["kind"] for row in held_out)
    negatives = {"joke", "quoted_speech", "technical_sense", "warm_formal", "ordinary"}
    assert set(kinds) == set(TONES) | negatives
    assert all(count >= 40 for count in kinds.values())
    for row in rows:
        if "kind" in row:
            assert set(row) >= BATCH_FIELDS
            assert row["label"] == (row["kind"] in TONES)


def test_evaluation_rows_are_well_formed_and_unique(rows):
    for row in rows:
        assert set(row) <= {"text", "label", "side", "industry", "note", "split"} | BATCH_FIELDS
        assert row["label"] in (0, 1)
        assert row["split"] in ("tune", "holdout")
        assert isinstance(row["text"], str) and row["text"].strip()
    texts = [" ".join(row["text"].lower().split()) for row in rows]
    assert len(texts) == len(set(texts))


def test_evaluation_set_covers_slack_markup_and_tricky_negatives(rows):
    texts = [row["text"] for row in rows]
    for marker in ("<@", "<#", "<https://", "<!", "&gt;", "&amp;", "```", "`", ":joy:", "😂"):
        assert any(marker in text for text in texts), marker
    notes = Counter(row.get("note", "").split(" ")[0] for row in rows if row["label"] == 0)
    for note in ("negation", "joke", "technical"):
        assert notes[note] >= 10, note


# --------------------------------------------------------------------------- quality floors


@pytest.mark.parametrize("scored", FLOORS)
def test_precision_stays_above_floor(scored_by_split, scored):
    flagged = [y for s, y in scored_by_split[scored] if s >= DEFAULT_THRESHOLD]
    precision = sum(flagged) / len(flagged)
    assert precision >= FLOORS[scored][0], f"{scored} precision {precision:.3f}"


@pytest.mark.parametrize("scored", FLOORS)
def test_recall_stays_above_floor(scored_by_split, scored):
    positives = [s for s, y in scored_by_split[scored] if y]
    recall = sum(s >= DEFAULT_THRESHOLD for s in positives) / len(positives)
    assert recall >= FLOORS[scored][1], f"{scored} recall {recall:.3f}"


@pytest.mark.parametrize("scored", FLOORS)
def test_ranking_quality_stays_above_floor(scored_by_split, scored):
    auc = _roc_auc(scored_by_split[scored])
    assert auc >= FLOORS[scored][2], f"{scored} ROC AUC {auc:.3f}"


def test_scores_are_fractions(scored_by_split):
    assert all(0.0 <= s <= 1.0 for scored in scored_by_split.values() for s, _ in scored)


# --------------------------------------------------------------------------- rapport classify


def run(argv: list[str], stdin_text: str = "") -> tuple[int, str]:
    stdout = io.StringIO()
    code = main(argv, io.StringIO(stdin_text), stdout)
    return code, stdout.getvalue()


def test_classify_reads_one_message_per_line_and_skips_empty_lines():
    code, out = run(["--json"], "Please raise a CR for this.\n\n   \nthanks, legend!\n")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in records] == ["Please raise a CR for this.", "thanks, legend!"]


def test_classify_json_has_text_score_and_readable_cues():
    code, out = run(["--json", "Per clause 7.2 of the MSA, raise CR-1042"])
    assert code == 0
    record = json.loads(out)
    assert {"text", "score", "cues"} <= set(record)
    assert record["score"] >= DEFAULT_THRESHOLD
    assert 'change request ("CR-1042")' in record["cues"]
    assert record["formal"] is True


def test_classify_takes_messages_as_arguments_instead_of_stdin():
    code, out = run(["--json", "hello there", "That's out of scope."], "ignored\n")
    assert code == 0
    assert [json.loads(line)["text"] for line in out.splitlines()] == [
        "hello there",
        "That's out of scope.",
    ]


def test_classify_text_output_shows_score_flag_and_cues():
    code, out = run([], "Please be advised that all requests must be in writing.\nthanks!\n")
    assert code == 0
    lines = out.splitlines()
    assert re.match(r"[01]\.\d\d  DRIFT  Please be advised", lines[0])
    assert 'formal register ("Please be advised"' in lines[1]
    assert any(re.match(r"0\.\d\d  ok     thanks!", line) for line in lines)
    assert lines[-1] == "2 messages, 1 at or above 0.50"


def test_classify_text_output_explains_negation_and_jokes():
    _, out = run(["No need for a formal change request", "breach of contract lol"])
    assert "negated, not counted" in out
    assert "softened: joking or celebrating" in out


def test_classify_does_not_count_a_negated_scope_dispute():
    message = "This is not out of scope, happy to help"
    cues_alone = json.loads(run(["--json", "--lexicon", message])[1])
    assert (cues_alone["score"], cues_alone["cues"], cues_alone["formal"]) == (0.0, [], False)
    learned = json.loads(run(["--json", message])[1])
    assert (learned["lexicon_score"], learned["cues"], learned["formal"]) == (0.0, [], False)
    assert "negated, not counted" in run([message])[1]


def test_classify_threshold_changes_what_counts_as_drift():
    message = "Can you put that in a CR please?"
    score = json.loads(run(["--json", message])[1])["score"]
    assert 0 < score < 1
    assert json.loads(run(["--json", "--threshold", "1", message])[1])["formal"] is False
    assert json.loads(run(["--json", "--threshold", "0.01", message])[1])["formal"] is True


def test_classify_rejects_a_threshold_outside_zero_to_one(capsys):
    code, _ = run(["--threshold", "2"])
    assert code == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_classify_with_no_input_prints_nothing():
    assert run([], "") == (0, "")
