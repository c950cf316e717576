"""The learned model's parts, each against a slower reference: Rapport's one-text embedding
against WordLlama's own batch embedding, the folded ensemble against its members, the
register features against what they are meant to notice, and the training threshold rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wordllama
from wordllama import WordLlama

from bot.drift.domain import lexicon_signals
from bot.drift.embedding import embedder
from bot.drift.tone import MODEL_PATH, feature_matrix, register_features, tone_model
from bot.drift.training import LOOKALIKE_FLAGGED, _threshold, read_rows

EVAL_SET = Path(__file__).parents[1] / "data" / "drift_eval.jsonl"
REGISTER = [
    "log length", "log words", "3 words or fewer", "8 words or fewer", "greeting or thanks",
    "hedge", "your side", "emoji", "exclamation", "question", "ends with a full stop",
    "all lower case", "shouting", "mention", "quote mark", "praise", "failure",
    "praise and failure", "ironic mark", "laughing",
]  # fmt: skip


def sample_texts() -> list[str]:
    rows = read_rows(EVAL_SET)
    return [row["text"] for row in rows[::40]] + ["", " ", "🙂", "x" * 5000, "ok\n\n\tthen"]


def test_one_text_at_a_time_gives_wordllama_s_own_embeddings():
    texts = sample_texts()
    ours = embedder().embed(texts)
    clipped = [text[:4000] or " " for text in texts]
    reference = WordLlama.load(
        cache_dir=Path(wordllama.__file__).parent, disable_download=True, dim=256
    )
    theirs = reference.embed(clipped, norm=True)
    assert ours.shape == (len(texts), 256) and ours.dtype == np.float32
    assert np.allclose(ours, theirs, atol=1e-6)


def test_the_folded_ensemble_gives_the_members_mean_logit():
    texts = sample_texts()[:60]
    model = tone_model()
    features = feature_matrix(texts, [lexicon_signals(text) for text in texts], model.kinds)
    with np.load(MODEL_PATH) as raw:
        hidden = np.maximum(
            np.einsum("nf,mfh->mnh", features, raw["hidden_weights"]) + raw["hidden_bias"][:, None],
            0.0,
        )
        members = np.einsum("mnh,mh->mn", hidden, raw["output_weights"])
        expected = (members + raw["output_bias"][:, None]).mean(axis=0) - raw["offset"]
    assert np.allclose(model.logits(features), expected, atol=1e-4)


def features_of(text: str) -> set[str]:
    return {
        name for name, value in zip(REGISTER[2:], register_features(text)[2:], strict=True) if value
    }


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("hiiii team, thank you so much!", {"greeting or thanks", "exclamation"}, {"praise"}),
        ("Can't wait for the next 'quick fix' that took three weeks 🙄",
         {"praise", "failure", "praise and failure", "ironic mark", "quote mark"}, {"laughing"}),
        ("hahaha ok you win :joy:", {"laughing", "emoji", "all lower case"}, {"praise"}),
        ("could we maybe look at it when you get a chance?", {"hedge", "question"}, {"your side"}),
        ("Your people missed it AGAIN.", {"your side", "failure", "shouting"}, {"hedge"}),
        ("Fine.", {"3 words or fewer", "ends with a full stop"}, {"greeting or thanks"}),
        ("<@U123> the world-class team", {"mention", "praise"}, {"failure"}),
    ],
)  # fmt: skip
def test_register_features_notice_what_they_are_named_for(text, present, absent):
    found = features_of(text)
    assert present <= found and not (absent & found), found
    assert len(register_features(text)) == len(REGISTER)


def test_the_threshold_keeps_look_alikes_rarely_flagged_as_well_as_precision():
    labels = np.array([1] * 50 + [0] * 50)
    kinds = np.array(["sarcasm"] * 50 + ["joke"] * 50)
    probabilities = np.concatenate([np.linspace(0.45, 0.95, 50), np.linspace(0.0, 0.62, 50)])
    threshold = _threshold(labels, probabilities, kinds)
    flagged = probabilities >= threshold
    assert flagged[50:].mean() <= LOOKALIKE_FLAGGED
    assert (probabilities[50:] >= threshold - 0.01).mean() > LOOKALIKE_FLAGGED  # the lowest
    assert labels[flagged].mean() >= 0.92
