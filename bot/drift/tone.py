"""The learned drift score: a small neural network over a message's embedding, the cue
lexicon's findings and a few register signals (length, greetings, emoji, "your side"), so
that curt, sarcastic or indirect messages score even where no cue word is used.

Numpy only at run time; ``bot.drift.training`` fits the weights (with scikit-learn) and
writes them to ``tone_model.npz`` beside this module. The score is calibrated so that
``DEFAULT_THRESHOLD`` (0.5) is the threshold chosen in training.
"""

from __future__ import annotations

import functools
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.drift.embedding import DIMENSIONS, embedder

MODEL_PATH = Path(__file__).with_name("tone_model.npz")
# Longer than 99% of training messages (p99 240 characters): a longer message is scored in
# pieces, so one formal sentence among routine lines still reads as formal.
PIECE_CHARS = 300
_SENTENCE_END = re.compile(r"(?<=[.!?\n])(?=\s)")

# What each kind of drift sounds like, for a message the model flags without any cue word.
TONES = {
    "contract_citation": "quoting the contract",
    "sla_penalty": "SLA or penalty talk",
    "change_request": "pushing formal change requests",
    "formal_register": "stiff, formal tone",
    "scope_dispute": "disputing scope or ownership",
    "put_in_writing": "asking for it in writing",
    "escalation": "escalating over heads",
    "us_and_them": "us-and-them blame",
    "indirect": "veiled warning or distrust",
    "sarcasm": "sarcastic about the work",
    "curt_cold": "curt, cold reply",
}

# A tone whose cue kind has another name: a cue of that kind already explains the tone.
CUE_KIND_OF_TONE = {"contract_citation": "contract_reference"}


@dataclass(frozen=True)
class _Vocabulary:
    """Single words to look up, and phrases and word beginnings as the substrings that
    find them in ``_Words``' space-joined text (" thank you ", " haha")."""

    words: frozenset[str]
    needles: tuple[str, ...]


def _vocabulary(entries: str, prefixes: tuple[str, ...] = ()) -> _Vocabulary:
    """A vocabulary from comma-separated lower-case words and phrases."""
    listed = [entry.strip() for entry in entries.split(",")]
    return _Vocabulary(
        frozenset(entry for entry in listed if " " not in entry),
        tuple(f" {entry} " for entry in listed if " " in entry)
        + tuple(f" {prefix}" for prefix in prefixes),
    )


_WORD = re.compile(r"[a-z0-9]+")


class _Words:
    """A message's lower-case words, apostrophes dropped ("can't" is "cant"): every word
    list is looked up in one pass over the text instead of one regular expression each."""

    def __init__(self, text: str) -> None:
        words = _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))
        self._set = frozenset(words)
        self._joined = f" {' '.join(words)} "

    def has(self, vocabulary: _Vocabulary) -> bool:
        return not self._set.isdisjoint(vocabulary.words) or any(
            needle in self._joined for needle in vocabulary.needles
        )


_GREETING = _vocabulary(
    "hi, hii, hiii, hey, heyy, heyyy, hello, morning, afternoon, thanks, thank you, thx, ty, "
    "cheers, please, pls, great, awesome, lovely, brilliant, no worries, np",
    prefixes=("appreciat",),
)
_HEDGE = _vocabulary(
    "maybe, perhaps, i think, might, could we, would you, happy to, let me know, shout, "
    "no rush, when you get a chance"
)
_YOUR_SIDE = _vocabulary(
    "your side, your team, your people, your lot, your guys, your end, your company, "
    "your staff, your folks, you guys, you people"
)
# Sarcasm praises what went wrong: a praise word beside a failure or a repeat, an eye-roll
# emoji, a word in scare quotes ("another 'quick fix'").
_PRAISE = _vocabulary(
    "great, love, loving, fantastic, brilliant, awesome, wonderful, amazing, perfect, superb, "
    "thrilled, excellent, impressive, efficient, honored, honoured, shocking, who knew, "
    "who could have, cant wait, oh good, oh great, wow, bravo, congrats, what a surprise, "
    "surprise, nice one, so glad, fabulous, stellar, incredible, genius, top notch, world class"
)
_FAILURE = _vocabulary(
    "another, again, yet, still, once more, only took, took, weeks, months, as usual, "
    "as always, every time, never, finally, third time, fourth time, fifth time, sixth time, "
    "nth time, umpteenth time, late, missed, broke, broken, outage, down, delay, delayed, "
    "redo, rework, wrong, forgot, nobody, no one"
)
# ... and banter laughs at itself, which sarcasm doesn't.
_LAUGHING = _vocabulary("lol, lmao, rofl, jk, kidding, joking", prefixes=("haha", "hehe"))
_LAUGHING_EMOJI = re.compile(
    r"[\U0001F602\U0001F923\U0001F606\U0001F605\U0001F61C\U0001F609\U0001F604]|:(joy|laughing|"
    r"sweat_smile|wink|rofl|stuck_out_tongue_winking_eye|smile):"
)
_IRONIC_MARK = re.compile(
    r"[\U0001F643\U0001F644\U0001F44F\U0001F612]|:(upside_down_face|roll_eyes|face_with_rolling_eyes|"
    r"clap|slow_clap|unamused):|(^|\s)['\"\u2018\u201c][\w -]{2,25}['\"\u2019\u201d](\W|$)",
)
_EMOJI = re.compile(r":[a-z0-9_+'-]+:|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
_QUOTES = "\"'\u201c\u2018"


def register_features(text: str) -> list[float]:
    """Cheap signals of register that the embedding's average blurs: how short, how warm,
    how ironic."""
    words = _Words(text)
    count = len(text.split())
    stripped = text.strip()
    praise = words.has(_PRAISE)
    failure = words.has(_FAILURE)
    symbols = ":" in text or not text.isascii()  # emoji, as codes or characters
    quoted = any(mark in text for mark in _QUOTES)
    return [
        math.log1p(len(text)),
        math.log1p(count),
        float(count <= 3),
        float(count <= 8),
        float(words.has(_GREETING)),
        float(words.has(_HEDGE)),
        float(words.has(_YOUR_SIDE)),
        min(3, len(_EMOJI.findall(text))) / 3 if symbols else 0.0,
        min(3, text.count("!")) / 3,
        float("?" in text),
        float(stripped.endswith(".")),
        float(text == text.lower()),
        float(_SHOUT.search(text) is not None),
        float("<@" in text),
        float(quoted),
        float(praise),
        float(failure),
        float(praise and failure),
        float((symbols or quoted) and _IRONIC_MARK.search(text) is not None),
        float(words.has(_LAUGHING) or (symbols and _LAUGHING_EMOJI.search(text) is not None)),
    ]


@dataclass(frozen=True)
class LexiconSignals:
    """What the cue lexicon found in a message, as the model reads it."""

    clean: str  # the message without Slack markup: what the embedding reads
    score: float
    negated: bool
    dampened: bool
    weights: dict[str, float]  # strongest cue weight per kind


def feature_row(signals: LexiconSignals, text: str, kinds: Sequence[str]) -> list[float]:
    lexicon = [signals.score, float(signals.negated), float(signals.dampened)]
    return lexicon + [signals.weights.get(kind, 0.0) for kind in kinds] + register_features(text)


def feature_matrix(
    texts: Sequence[str], signals: Sequence[LexiconSignals], kinds: Sequence[str]
) -> np.ndarray:
    """One float32 row per message: embedding, then lexicon and register features."""
    embed = embedder().embed_one
    rows = [feature_row(s, t, kinds) for s, t in zip(signals, texts, strict=True)]
    matrix = np.empty((len(rows), DIMENSIONS + len(rows[0]) if rows else 0), dtype=np.float32)
    for i, (row, signal) in enumerate(zip(rows, signals, strict=True)):
        matrix[i, :DIMENSIONS] = embed(signal.clean)
        matrix[i, DIMENSIONS:] = row
    return matrix


class ModelUnavailable(RuntimeError):
    """The drift model's weights are missing or unreadable."""


@dataclass(frozen=True)
class ToneModel:
    """An ensemble of one-hidden-layer networks (inputs already standardised into the first
    layer), folded into one wider network whose output is the members' mean logit, and a
    linear head saying which kind of drift a message sounds like."""

    version: str
    kinds: tuple[str, ...]  # lexicon kinds, in the order the features list them
    hidden_weights: np.ndarray  # (features, members x hidden)
    hidden_bias: np.ndarray  # (members x hidden,)
    output_weights: np.ndarray  # (members x hidden,), divided by the number of members
    output_bias: float  # the members' mean output bias, less the calibration offset
    tones: tuple[str, ...]
    tone_weights: np.ndarray  # (features, tones)
    tone_bias: np.ndarray  # (tones,)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Calibrated logits for a ``(n, features)`` matrix: mean of the members' logits."""
        hidden = np.maximum(features @ self.hidden_weights + self.hidden_bias, 0.0)
        return hidden @ self.output_weights + self.output_bias

    def tone_of(self, features: np.ndarray) -> str:
        """The kind of drift one message's features sound most like."""
        return self.tones[int(np.argmax(features @ self.tone_weights + self.tone_bias))]

    def score(
        self, pieces: Sequence[str], signals: Sequence[LexiconSignals], shift: float = 0.0
    ) -> tuple[float, str]:
        """(probability of drift, the tone it sounds like) of a message, from its pieces
        (``message_pieces``): a message drifts as much as its most drifting piece.
        ``shift`` lowers the logit, the way owners' "Not drift" feedback calms one
        relationship."""
        rows = feature_matrix(pieces, signals, self.kinds)
        logits = self.logits(rows) - shift
        best = int(np.argmax(logits))
        return 1.0 / (1.0 + math.exp(-float(logits[best]))), self.tone_of(rows[best])


def message_pieces(text: str) -> list[str]:
    """A long message cut into pieces of at most ``PIECE_CHARS`` at line and sentence ends
    (at a space, in a run-on text), so that a formal paragraph isn't averaged away by pages
    of routine text and the cost stays linear in the length. Short messages stay whole."""
    if len(text) <= PIECE_CHARS:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > PIECE_CHARS:
            cut = sentence.rfind(" ", 0, PIECE_CHARS) + 1 or PIECE_CHARS
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if current and len(current) + len(sentence) > PIECE_CHARS:
            pieces.append(current)
            current = ""
        current += sentence
    pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


@functools.cache
def tone_model(path: Path | None = None) -> ToneModel:
    """The model at ``path`` (default: the shipped one), loaded once per process."""
    path = path or MODEL_PATH
    try:
        with np.load(path, allow_pickle=False) as data:
            members, features, hidden = data["hidden_weights"].shape
            return ToneModel(
                version=str(data["version"]),
                kinds=tuple(str(kind) for kind in data["kinds"]),
                hidden_weights=np.ascontiguousarray(
                    data["hidden_weights"].transpose(1, 0, 2).reshape(features, members * hidden)
                ),
                hidden_bias=data["hidden_bias"].reshape(members * hidden),
                output_weights=data["output_weights"].reshape(members * hidden) / members,
                output_bias=float(data["output_bias"].mean()) - float(data["offset"]),
                tones=tuple(str(tone) for tone in data["tones"]),
                tone_weights=data["tone_weights"],
                tone_bias=data["tone_bias"],
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ModelUnavailable(
            f"The drift model {path} is missing or damaged ({error}). Reinstall Rapport, "
            "or retrain it with `rapport train-drift`."
        ) from error
