"""The learned drift model: loaded and run offline, a clear error when its weights are
damaged, reproducible training with `rapport train-drift`, and its place in `rapport
classify`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot.drift.classify import main as classify
from bot.drift.tone import MODEL_PATH, PIECE_CHARS, ModelUnavailable, message_pieces, tone_model
from bot.drift.training import read_rows, train

EVAL_SET = Path(__file__).parents[1] / "data" / "drift_eval.jsonl"
ROOT = Path(__file__).parents[2]


def small_training_set(tmp_path: Path, per_label: int = 60) -> Path:
    """The first kind-tagged tune rows of each label: enough to fit a tiny model quickly."""
    picked: dict[int, list[dict]] = {0: [], 1: []}
    for row in read_rows(EVAL_SET):
        if row["split"] == "tune" and "kind" in row and len(picked[row["label"]]) < per_label:
            picked[row["label"]].append(row)
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for rows in picked.values() for row in rows))
    return path


def test_the_model_loads_and_scores_with_the_network_blocked():
    script = textwrap.dedent(
        """
        import socket, sys

        def refuse(*args, **kwargs):
            raise OSError("the network is blocked in this test")

        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = socket.getaddrinfo = refuse
        from bot.drift.classify import main
        sys.exit(main(["--json", "Fine.", "thanks, legend!"], sys.stdin, sys.stdout))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    curt, warm = (json.loads(line) for line in done.stdout.splitlines())
    assert curt["model"] == warm["model"] == tone_model().version
    assert curt["formal"] and curt["sounds_like"] == "curt, cold reply"
    assert not warm["formal"] and warm["sounds_like"] is None


@pytest.mark.parametrize("content", [None, b"not a zip file", b"PK\x03\x04broken"])
def test_missing_or_damaged_weights_are_a_clear_error(tmp_path, content):
    path = tmp_path / "tone_model.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelUnavailable) as raised:
        tone_model(path)
    assert str(path) in str(raised.value) and "rapport train-drift" in str(raised.value)


def test_training_is_reproducible_and_writes_a_model_rapport_loads(tmp_path):
    data = read_rows(small_training_set(tmp_path))
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    report = train(data, first, seed=7, candidates=((8, 1.0),), members=1)
    train(data, second, seed=7, candidates=((8, 1.0),), members=1)
    with np.load(first) as one, np.load(second) as other:
        assert sorted(one.files) == sorted(other.files)
        for name in one.files:
            assert np.array_equal(one[name], other[name]), name
    assert report.rows == 120 and 0.2 <= report.threshold <= 0.9
    model = tone_model(first)
    assert model.version.startswith("mlp8-") and model.kinds == tone_model(MODEL_PATH).kinds


def test_train_drift_command_fits_from_a_file_and_says_what_it_did(tmp_path):
    data, out = small_training_set(tmp_path, per_label=40), tmp_path / "model.npz"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "train-drift", "--data", str(data), "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "trained on 80 messages" in done.stdout and "threshold" in done.stdout
    assert tone_model(out).kinds == tone_model(MODEL_PATH).kinds
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "train-drift", "--data", str(tmp_path / "nope.jsonl")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "No labelled messages" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_classify_scores_with_the_model_and_gives_the_lexicon_score_and_the_tone():
    out = io.StringIO()
    code = classify(["--json", "Per clause 7.2 of the MSA, raise CR-1042"], io.StringIO(), out)
    assert code == 0
    record = json.loads(out.getvalue())
    assert record["formal"] and record["model"] == tone_model().version
    assert {"contract_reference", "change_request"} <= set(record["kinds"])
    assert 0.5 <= record["lexicon_score"] <= 1 and record["sounds_like"]
    plain = io.StringIO()
    classify(
        ["--json", "--lexicon", "Per clause 7.2 of the MSA, raise CR-1042"], io.StringIO(), plain
    )
    lexicon = json.loads(plain.getvalue())
    assert lexicon["model"] == "lexicon" and lexicon["score"] == record["lexicon_score"]
    assert "sounds_like" not in lexicon


def test_a_long_message_is_scored_by_its_most_drifting_piece():
    routine = "Ticket 4411: reset the badge reader on floor 3 and note the time. " * 700
    formal = "Please be advised that as per clause 7.2 of the MSA the following applies.\n"
    text = (routine[:20_000] + "\n" + formal + routine)[:40_000]
    pieces = message_pieces(text)
    assert "".join(pieces) == text and max(map(len, pieces)) <= PIECE_CHARS
    assert any(formal.strip() in piece for piece in pieces)
    out = io.StringIO()
    classify(["--json", text, routine[:40_000]], io.StringIO(), out)
    with_formal, without = (json.loads(line) for line in out.getvalue().splitlines())
    assert with_formal["formal"] and not without["formal"]


def test_rapport_run_stops_at_start_up_when_the_model_is_damaged(tmp_path):
    damaged = tmp_path / "tone_model.npz"
    damaged.write_bytes(b"PK\x03\x04broken")
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import bot.drift.tone
        bot.drift.tone.MODEL_PATH = Path({str(damaged)!r})  # as a broken install would have it
        from bot.cli import main
        sys.exit(main(["run"]))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert str(damaged) in done.stderr and "rapport train-drift" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "rapport.db").exists()
