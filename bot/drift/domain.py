"""Drift assessment: does a Slack message read like formal, over-the-wall talk?

Pure and Slack-free. A message is cleaned of Slack markup (code, links, mentions,
emoji codes, HTML entities), then cue words and patterns are found (contract
references, change requests, scope disputes, SLA / penalty talk, formal register,
escalation, us-and-them). Each cue has a weight in [0, 1]; the score is the chance
that at least one cue "means it":

    score = 1 - product(1 - weight)   (further cues of the same kind count half)

Before combining, a cue is dropped when it is negated ("no need for a change
request"), and weights are lowered by context (the "dampeners" in the cue data):
joking or celebrating ("haha", :joy:, 🎉) and working things out together lower
every kind, thanks lowers every kind a little and us-and-them / escalation a lot,
IT change-management words (CAB, rollback) lower change requests, and owners'
"Not drift" feedback lowers a kind for one relationship (``calmed``).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.metrics import instruments, timed
from bot.drift.cues import CueSet, default_cues, load_cues, word_key
from bot.drift.tone import CUE_KIND_OF_TONE, TONES, LexiconSignals, message_pieces, tone_model

__all__ = [
    "DEFAULT_THRESHOLD",
    "HIGH_SCORE",
    "Assessment",
    "Cue",
    "CueSet",
    "assess",
    "assess_learned",
    "clean_text",
    "default_cues",
    "load_cues",
    "load_model",
]

DEFAULT_THRESHOLD: float = 0.5
HIGH_SCORE: float = 0.8
SAME_KIND_FACTOR = 0.5  # second and later cues of one kind count this much
MAX_CUES = 20  # stop collecting once this many distinct cues are found
MAX_MATCH_CHARS = 60
NEAR_WORDS = 2  # a near negator ("no", "not", "without") must be this close
RELEASE_WORDS = 7  # a release phrase ("no need", "don't worry") may be this far
_NEGATION_WINDOW = 160  # characters looked at before a cue

_CODE_SPAN = re.compile(r"`[^`\n]*`")
_SLACK_ENTITY = re.compile(r"<([^<>\n]*)>")
_EMOJI_CODE = re.compile(r":([a-z0-9_+'\-]{1,60}):")
_HAS_LETTER = re.compile(r"[a-z]")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r" ?\n\s*")
_WORD = re.compile(r"[^\W_][\w']*")
_PUNCTUATION = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "*": " ", "~": " "}
)
_QUOTES = ("'", '"')  # curly ones are straightened first
_TO_STRAIGHTEN = re.compile("[\u2019\u2018\u201c\u201d*~]")


@dataclass(frozen=True)
class Cue:
    """One reason a message reads as drift, in words a person understands."""

    kind: str
    label: str
    match: str  # the message's own words: for the person who wrote them, never for Slack
    weight: float = field(default=0.0, compare=False)  # effective weight after context
    word: str = ""  # the listed word or the pattern's name that found it

    def describe(self) -> str:
        return f'{self.label} ("{self.match}")'


@dataclass(frozen=True)
class Assessment:
    score: float
    cues: tuple[Cue, ...] = ()
    negated: tuple[Cue, ...] = ()  # cues that were found but negated, so not counted
    dampeners: tuple[str, ...] = ()  # context that lowered weights, e.g. "joking or celebrating"
    lexicon_score: float = 0.0  # what the cues alone say; ``score`` is the learned model's
    tone: str | None = None  # the kind of drift a flagged message sounds like (a TONES key)

    @property
    def is_formal(self) -> bool:
        return self.score >= DEFAULT_THRESHOLD

    @property
    def is_high(self) -> bool:
        return self.score >= HIGH_SCORE

    def describe(self) -> list[str]:
        """Cues grouped by kind: ['formal register ("please be advised", "hereby")', ...]."""
        grouped: dict[str, list[str]] = {}
        labels: dict[str, str] = {}
        for cue in self.cues:
            grouped.setdefault(cue.kind, []).append(f'"{cue.match}"')
            labels[cue.kind] = cue.label
        return [f"{labels[k]} ({', '.join(v)})" for k, v in grouped.items()]

    def describe_words(self) -> list[str]:
        """Like ``describe`` with the cue words (listed words, pattern names) in place of the
        message's text, which a pattern may have matched across names or figures: what
        Slack is shown. ['formal register ("please be advised", "notify you that")', ...]"""
        grouped: dict[str, dict[str, None]] = {}
        labels: dict[str, str] = {}
        for cue in self.cues:
            grouped.setdefault(cue.kind, {})[f'"{cue.word}"'] = None
            labels[cue.kind] = cue.label
        return [f"{labels[k]} ({', '.join(v)})" for k, v in grouped.items()]

    @property
    def sounds_like(self) -> str | None:
        """What a message the learned model flagged sounds like ("curt, cold reply")."""
        return TONES[self.tone] if self.tone else None

    @property
    def unexplained_tone(self) -> str | None:
        """``sounds_like`` when no cue found says it already: the explanation of a flag that
        the cues alone don't give."""
        if self.tone is None:
            return None
        kind = CUE_KIND_OF_TONE.get(self.tone, self.tone)
        return None if any(cue.kind == kind for cue in self.cues) else self.sounds_like

    @property
    def kinds(self) -> tuple[str, ...]:
        """Ids of the cue kinds found, then of the tone the model heard if no cue says it."""
        kinds = tuple(dict.fromkeys(cue.kind for cue in self.cues))
        return (*kinds, self.tone) if self.unexplained_tone else kinds


_NOTHING = Assessment(0.0)


def _slack_entity(match: re.Match[str]) -> str:
    inner = match.group(1)
    if inner[:1] in ("@", "!", "#"):  # mentions, <!here>, channel links
        return " "
    _, bar, label = inner.partition("|")
    return f" {label} " if bar else " "  # a link keeps its label, never its target


def clean_text(text: str) -> tuple[str, frozenset[str]]:
    """Slack mrkdwn to plain words: (text, emoji codes seen).

    Code blocks, inline code, link targets, mentions and emoji codes are removed,
    HTML entities decoded, curly quotes straightened and whitespace collapsed.
    """
    if "```" in text:
        text = " ".join(text.split("```")[::2])  # even parts are outside code blocks
    if "`" in text:
        text = _CODE_SPAN.sub(" ", text)
    if "<" in text:
        text = _SLACK_ENTITY.sub(_slack_entity, text)
    codes: frozenset[str] = frozenset()
    if ":" in text:
        found = [c for c in _EMOJI_CODE.findall(text) if _HAS_LETTER.search(c)]
        if found:
            codes = frozenset(found)
            text = _EMOJI_CODE.sub(lambda m: " " if m.group(1) in codes else m.group(0), text)
    if "&" in text:
        text = html.unescape(text)
    if _TO_STRAIGHTEN.search(text):
        text = text.translate(_PUNCTUATION)
    if "  " in text or not text.isascii() or not text.isprintable():
        text = _SPACES.sub(" ", text)  # (printable ASCII has no spaces but single " ")
    if "\n" in text:
        text = _NEWLINES.sub("\n", text)
    return text.strip(), codes


def _is_quoted(low: str, start: int, end: int) -> bool:
    """A cue that is exactly a quotation is mentioned, not used: "take the 'without
    prejudice' wording out of the templates"."""
    return start > 0 and end < len(low) and low[start - 1] in _QUOTES and low[end] in _QUOTES


def _is_negated(low: str, start: int, cues: CueSet) -> bool:
    negation = cues.negation
    window = low[max(0, start - _NEGATION_WINDOW) : start].replace("'", "")
    if cues.negation_hint.search(window) is None:
        return False
    first = _WORD.match(low, start)
    if first is not None:
        first_word = first.group().replace("'", "")
        if first_word in cues.self_negative:
            return False  # "not in scope" is negative already: "no, not in scope" still counts
        if first_word in negation.subjects:
            return False  # a new clause: "if it isn't fixed we'll escalate" still escalates
    cut = 0
    for brk in cues.clause_break_regex.finditer(window):
        cut = brk.end()
    words = _WORD.findall(window, cut)
    if not words:
        return False
    first_near = max(0, len(words) - NEAR_WORDS)
    for i in range(first_near, len(words)):
        word = words[i]
        if word not in negation.near:
            continue
        if word == "without" and any(w in negation.requirement_before_without for w in words[:i]):
            continue  # "we can't start without a CR": a requirement, not a release
        return True
    tail = " ".join(words[-RELEASE_WORDS:])
    return (
        cues.release_regex.search(tail) is not None
        or cues.verb_negation_regex.search(tail) is not None
    )


def assess_learned(
    text: str,
    cues: CueSet | None = None,
    calmed: Mapping[str, float] | None = None,
    shift: float = 0.0,
) -> Assessment:
    """Score one message with the learned model (``bot.drift.tone``), the cues found kept as
    the explanation, and the cues' own score as ``lexicon_score``. ``shift`` (a logit)
    lowers the score, for owners' "Not drift" feedback."""
    with timed(instruments().drift_scoring.observe):
        return _assess_learned(text, cues, calmed, shift)


def _assess_learned(
    text: str, cues: CueSet | None, calmed: Mapping[str, float] | None, shift: float
) -> Assessment:
    lexicon, signals = _read(text, cues, calmed)
    if not text.strip():
        return lexicon
    pieces = message_pieces(text)
    readings = [signals] if len(pieces) == 1 else [_read(p, cues, calmed)[1] for p in pieces]
    probability, tone = tone_model().score(pieces, readings, shift)
    score = round(probability, 4)
    return Assessment(
        score,
        lexicon.cues,
        lexicon.negated,
        lexicon.dampeners,
        lexicon_score=lexicon.score,
        tone=tone if score >= DEFAULT_THRESHOLD else None,
    )


def load_model() -> None:
    """Load the learned model and its embeddings and score one message, so that no Slack
    event waits for them (about 0.3 s); a missing or damaged model raises
    ``ModelUnavailable``, whose message says what to do."""
    assess_learned("Loading the drift model.")


def lexicon_signals(text: str) -> LexiconSignals:
    """What the default cues find in ``text``, as the learned model reads it (for training)."""
    return _read(text, None, None)[1]


def _read(
    text: str, cues: CueSet | None, calmed: Mapping[str, float] | None
) -> tuple[Assessment, LexiconSignals]:
    """The cues' assessment of ``text``, and what the learned model reads of it, cleaning
    the text once for both."""
    clean, codes = clean_text(text)
    lexicon = _assess_clean(clean, codes, cues or default_cues(), calmed)
    weights: dict[str, float] = {}
    for cue in lexicon.cues:
        weights[cue.kind] = max(weights.get(cue.kind, 0.0), cue.weight)
    signals = LexiconSignals(
        clean, lexicon.score, bool(lexicon.negated), bool(lexicon.dampeners), weights
    )
    return lexicon, signals


def _find_cues(
    low: str, shown: str, cues: CueSet
) -> tuple[list[tuple[str, str, float, str]], list[tuple[int, int]], list[Cue]]:
    """Cues in ``low`` (each kind and word once): those that count as (kind, shown match,
    base weight, word) with their spans, and those negated or quoted."""
    found: list[tuple[str, str, float, str]] = []
    spans: list[tuple[int, int]] = []
    negated: list[Cue] = []
    seen: set[tuple[str, str]] = set()
    for start, end, kind, weight, word in cues.find(low):
        key = (kind, word_key(low[start:end]))
        if key in seen:
            continue
        seen.add(key)
        shown_match = shown[start:end][:MAX_MATCH_CHARS]
        if _is_quoted(low, start, end) or (
            kind in cues.negatable and _is_negated(low, start, cues)
        ):
            negated.append(Cue(kind, cues.labels[kind], shown_match, 0.0, word))
            continue
        found.append((kind, shown_match, weight, word))
        spans.append((start, end))
        if len(found) >= MAX_CUES:
            break
    return found, spans, negated


def assess(
    text: str, cues: CueSet | None = None, calmed: Mapping[str, float] | None = None
) -> Assessment:
    """Score one Slack message for drift (0 = informal, 1 = formal / over the wall)."""
    if not text:
        return _NOTHING
    return _assess_clean(*clean_text(text), cues or default_cues(), calmed)


def _assess_clean(
    clean: str, codes: frozenset[str], cues: CueSet, calmed: Mapping[str, float] | None
) -> Assessment:
    low = clean.lower()
    shown = clean if len(clean) == len(low) else low  # keep people's own casing when we can
    found, spans, negated = _find_cues(low, shown, cues)
    if not found:
        return Assessment(0.0, (), tuple(negated)) if negated else _NOTHING

    kinds_found = {kind for kind, _, _, _ in found}
    factors = dict.fromkeys(kinds_found, 1.0)
    applied = []
    outside = cues.dampeners_found(low, spans)  # context words that aren't part of a cue
    for index, dampener in enumerate(cues.dampeners):
        relevant = kinds_found if dampener.kinds is None else kinds_found & dampener.kinds
        if not relevant:
            continue
        if index in outside or (codes & dampener.emoji_codes):
            applied.append(dampener.name)
            for kind in relevant:
                factors[kind] *= dampener.factor
    if calmed:
        for kind, multiplier in calmed.items():
            if kind in factors:
                factors[kind] *= min(1.0, max(0.0, float(multiplier)))

    result: list[Cue] = []
    by_kind: dict[str, list[float]] = {}
    for kind, shown_match, weight, word in found:
        effective = weight * factors[kind]
        result.append(Cue(kind, cues.labels[kind], shown_match, round(effective, 4), word))
        by_kind.setdefault(kind, []).append(effective)
    keep = 1.0
    for weights in by_kind.values():
        weights.sort(reverse=True)
        keep *= 1.0 - weights[0]
        keep *= math.prod(1.0 - w * SAME_KIND_FACTOR for w in weights[1:])
    score = round(min(1.0, max(0.0, 1.0 - keep)), 4)
    return Assessment(score, tuple(result), tuple(negated), tuple(applied))
