"""Cue data for drift alerts: loading, validation, owner overrides and compilation.

A :class:`CueSet` is immutable. Building one compiles every literal word and regex
pattern of every kind into a single regular expression (literal words are folded
into a prefix tree so that matching stays fast and linear in the message length).
Owners' per-relationship changes go through :meth:`CueSet.with_words`, which returns
a new (cached) set and never mutates the shared default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

MAX_WORD_LENGTH = 80

_START = r"(?<![^\W_])"  # not preceded by a letter or digit
_END = r"(?![^\W_])"  # not followed by a letter or digit
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_SEPARATORS = re.compile(r"[\s\-]+")
_HAS_ALNUM = re.compile(r"[^\W_]")


def word_key(text: str) -> str:
    """Normal form used to compare a phrase with matched text."""
    text = text.translate(_APOSTROPHES).lower().replace("'", "")
    return _SEPARATORS.sub(" ", text).strip()


@dataclass(frozen=True)
class Phrase:
    text: str
    weight: float


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: str
    weight: float


@dataclass(frozen=True)
class CueKind:
    name: str
    label: str
    weight: float
    negatable: bool
    phrases: tuple[Phrase, ...]
    patterns: tuple[Pattern, ...]

    def words(self) -> list[str]:
        return [p.text for p in self.phrases] + [p.name for p in self.patterns]


@dataclass(frozen=True)
class Dampener:
    """Context that makes some kinds of cue less likely to mean drift."""

    name: str
    factor: float
    kinds: frozenset[str] | None  # None means every kind
    words: tuple[str, ...]
    emoji: str
    emoji_codes: frozenset[str]

    def applies_to(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True)
class Negation:
    near: frozenset[str]
    release: tuple[str, ...]
    requirement_before_without: frozenset[str]
    clause_breaks: tuple[str, ...]
    # "not going to apply (service credits)": a negator, helpers, a verb of doing, a particle
    verb_negators: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    particles: tuple[str, ...] = ()

    @property
    def self_negative(self) -> frozenset[str]:
        """Words that make a cue negative in itself ("not in scope"): no further negation."""
        return self.near | self.requirement_before_without | frozenset(self.verb_negators)


@dataclass(frozen=True)
class _Spec:
    kinds: tuple[CueKind, ...]
    ignore_words: tuple[str, ...]
    ignore_patterns: tuple[str, ...]
    negation: Negation
    dampeners: tuple[Dampener, ...]


# --------------------------------------------------------------------------- regex building


def _char_regex(ch: str) -> str:
    if ch == " ":
        return r"[\s\-]"
    if ch == "'":
        return "'?"
    return re.escape(ch)


def _phrase_form(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces (hyphens count as spaces)."""
    return _SEPARATORS.sub(" ", text.translate(_APOSTROPHES).lower()).strip()


def literal_regex(phrases: Iterable[str]) -> str:
    """One regex matching any of the phrases, built as a prefix tree (no backtracking blow-up)."""
    root: dict[str, Any] = {}
    for phrase in phrases:
        node = root
        for ch in _phrase_form(phrase):
            node = node.setdefault(ch, {})
        node[""] = True
    return _tree_regex(root) or "(?!)"


def _tree_regex(node: dict[str, Any]) -> str:
    branches = [_char_regex(ch) + _tree_regex(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a phrase may end here: the rest is optional
        return ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
    return body


def _dampener_regex(dampener: Dampener) -> re.Pattern[str]:
    parts = [_START + "(?:" + literal_regex(dampener.words) + ")" + _END]
    if dampener.emoji:
        parts.append("[" + "".join(re.escape(ch) for ch in sorted(set(dampener.emoji))) + "]")
    return re.compile("|".join(parts))


def _verb_negation_regex(negation: Negation) -> re.Pattern[str]:
    """Matches words ending in a negated verb of doing: "not going to apply", "nobody is
    talking about", "we won't be raising a". Never matches when a list is empty."""
    if not (negation.verb_negators and negation.verbs):
        return re.compile("(?!)")

    def words(phrases: Iterable[str]) -> str:
        return "(?:" + literal_regex(phrases) + ")"

    helper = f"(?: {words(negation.helpers)}){{0,3}}" if negation.helpers else ""
    particle = f"(?: {words(negation.particles)}){{0,2}}" if negation.particles else ""
    return re.compile(
        f"(?:^| ){words(negation.verb_negators)}{helper} {words(negation.verbs)}{particle}$"
    )


def _check_pattern(regex: str, where: str) -> None:
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ValueError(f"Invalid regex in {where}: {regex!r} ({exc})") from exc
    if compiled.groups:
        raise ValueError(f"Regex in {where} must not use capturing groups: {regex!r}")
    if compiled.match(""):
        raise ValueError(f"Regex in {where} must not match empty text: {regex!r}")


# --------------------------------------------------------------------------- the cue set


class CueSet:
    """Immutable, compiled set of drift cues.

    ``kinds`` maps each kind's machine name to its :class:`CueKind` (label, weight,
    phrases and patterns). Use :func:`load_cues` or ``bot.drift.default_cues()``.
    """

    __slots__ = (
        "_literals",
        "_pattern_groups",
        "_spec",
        "clause_break_regex",
        "dampeners",
        "kinds",
        "negation",
        "regex",
        "release_regex",
        "verb_negation_regex",
    )

    def __init__(self, spec: _Spec) -> None:
        self._spec = spec
        self.kinds: Mapping[str, CueKind] = MappingProxyType({k.name: k for k in spec.kinds})
        self.negation = spec.negation
        # (dampener, regex for its words and emoji) pairs
        self.dampeners: tuple[tuple[Dampener, re.Pattern[str]], ...] = tuple(
            (d, _dampener_regex(d)) for d in spec.dampeners
        )
        self.release_regex = re.compile(
            _START + "(?:" + literal_regex(spec.negation.release) + ")" + _END
        )
        self.verb_negation_regex = _verb_negation_regex(spec.negation)
        breaks = literal_regex(spec.negation.clause_breaks)
        self.clause_break_regex = re.compile(
            r"[.,;:!?()\[\]\"\n]|" + _START + "(?:" + breaks + ")" + _END
        )

        literals: dict[str, tuple[str, float]] = {}
        patterns: list[tuple[str, Pattern]] = []
        for kind in spec.kinds:
            for phrase in kind.phrases:
                literals[word_key(phrase.text)] = (kind.name, phrase.weight)
            patterns.extend((kind.name, p) for p in kind.patterns)
        self._literals = literals
        self._pattern_groups = {f"p{i}": item for i, item in enumerate(patterns)}

        ignore = [literal_regex(spec.ignore_words), *spec.ignore_patterns]
        alternatives = ["(?P<ignore>" + "|".join(ignore) + ")"]
        alternatives += [f"(?P<p{i}>{p.regex})" for i, (_, p) in enumerate(patterns)]
        all_phrases = [p.text for kind in spec.kinds for p in kind.phrases]
        alternatives.append("(?P<lit>" + literal_regex(all_phrases) + ")(?:e?s)?")
        self.regex = re.compile(_START + "(?:" + "|".join(alternatives) + ")" + _END)

    # -- lookups used by the scorer ---------------------------------------------------
    def identify(self, match: re.Match[str]) -> tuple[str, float] | None:
        """(kind, weight) for a match of :attr:`regex`, or None for an ignored span."""
        group = match.lastgroup
        if group == "lit":
            key = word_key(match.group("lit"))
            return self._literals.get(key)
        if group is None or group == "ignore":
            return None
        kind, pattern = self._pattern_groups[group]
        return kind, pattern.weight

    # -- owner overrides ----------------------------------------------------------------
    def with_words(
        self,
        added: Mapping[str, Iterable[str]] = MappingProxyType({}),
        removed: Mapping[str, Iterable[str]] = MappingProxyType({}),
    ) -> CueSet:
        """A new set with owners' words added to / removed from kinds.

        Added words get the kind's default weight. Removing works for words and for
        pattern names as shown by :meth:`words`. Unknown kinds raise ValueError.
        """
        add = {self.resolve_kind(k): _clean_words(v) for k, v in added.items()}
        rem = {
            self.resolve_kind(k): {word_key(w) for w in _clean_words(v)} for k, v in removed.items()
        }
        if not any(add.values()) and not any(rem.values()):
            return self
        key = (
            tuple(sorted((k, v) for k, v in add.items() if v)),
            tuple(sorted((k, tuple(sorted(v))) for k, v in rem.items() if v)),
        )
        return _overridden(self, key)

    def resolve_kind(self, kind: str) -> str:
        """Machine name for a kind typed by a person ("Change request", "change-request")."""
        wanted = _SEPARATORS.sub("_", str(kind).strip().lower())
        for name, cue_kind in self.kinds.items():
            if wanted in (name, _SEPARATORS.sub("_", cue_kind.label.lower())):
                return name
        known = ", ".join(self.kinds)
        raise ValueError(f"There is no drift cue kind called {kind!r}. Choose one of: {known}.")

    def words(self) -> dict[str, list[str]]:
        """Words and pattern names per kind, as owners see them."""
        return {name: kind.words() for name, kind in self.kinds.items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v.phrases) + len(v.patterns)}" for k, v in self.kinds.items())
        return f"CueSet({counts})"


def _clean_words(words: Iterable[str]) -> tuple[str, ...]:
    if isinstance(words, str):
        words = [words]
    cleaned = []
    for word in words:
        text = " ".join(str(word).split())
        if not _HAS_ALNUM.search(text):
            raise ValueError("A drift word needs at least one letter or digit.")
        if len(text) > MAX_WORD_LENGTH:
            raise ValueError(f"A drift word can be at most {MAX_WORD_LENGTH} characters long.")
        cleaned.append(text)
    return tuple(dict.fromkeys(cleaned))


@lru_cache(maxsize=256)
def _overridden(base: CueSet, key: tuple[tuple[Any, ...], tuple[Any, ...]]) -> CueSet:
    added: dict[str, tuple[str, ...]] = dict(key[0])
    removed: dict[str, tuple[str, ...]] = dict(key[1])
    # A word an owner adds belongs to that kind only, with the kind's default weight.
    taken = {word_key(w) for words in added.values() for w in words}
    kinds = []
    for kind in base.kinds.values():
        gone = taken | set(removed.get(kind.name, ()))
        phrases = [p for p in kind.phrases if word_key(p.text) not in gone]
        phrases += [Phrase(w, kind.weight) for w in added.get(kind.name, ())]
        patterns = tuple(p for p in kind.patterns if word_key(p.name) not in gone)
        kinds.append(
            CueKind(kind.name, kind.label, kind.weight, kind.negatable, tuple(phrases), patterns)
        )
    spec = base._spec
    return CueSet(
        _Spec(tuple(kinds), spec.ignore_words, spec.ignore_patterns, spec.negation, spec.dampeners)
    )


# --------------------------------------------------------------------------- loading


def _weight(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{where}: weight must be a number between 0 and 1, got {value!r}")
    return float(value)


def load_cues(data: Mapping[str, Any]) -> CueSet:
    """Build a CueSet from data shaped like ``bot/drift_cues.json``."""
    kinds = []
    for name, raw in data["kinds"].items():
        where = f"kind {name!r}"
        default = _weight(raw["weight"], where)
        phrases = [
            Phrase(text, _weight(tier["weight"], where))
            for tier in raw.get("words", ())
            for text in tier["words"]
        ]
        patterns = []
        for item in raw.get("patterns", ()):
            _check_pattern(item["regex"], where)
            patterns.append(
                Pattern(item["name"], item["regex"], _weight(item.get("weight", default), where))
            )
        kinds.append(
            CueKind(
                name=name,
                label=raw["label"],
                weight=default,
                negatable=bool(raw.get("negatable", True)),
                phrases=tuple(phrases),
                patterns=tuple(patterns),
            )
        )
    ignore = data.get("ignore", {})
    for regex in ignore.get("patterns", ()):
        _check_pattern(regex, "ignore")
    neg = data.get("negation", {})
    negation = Negation(
        near=frozenset(word_key(w) for w in neg.get("near", ())),
        release=tuple(word_key(w) for w in neg.get("release", ())),
        requirement_before_without=frozenset(
            word_key(w) for w in neg.get("requirement_before_without", ())
        ),
        clause_breaks=tuple(word_key(w) for w in neg.get("clause_breaks", ())),
        **{
            name: tuple(word_key(w) for w in neg.get(name, ()))
            for name in ("verb_negators", "helpers", "verbs", "particles")
        },
    )
    dampeners = tuple(
        Dampener(
            name=d["name"],
            factor=_weight(d["factor"], f"dampener {d['name']!r}"),
            kinds=None if d.get("kinds", "*") == "*" else frozenset(d["kinds"]),
            words=tuple(d.get("words", ())),
            emoji=d.get("emoji", "").replace("\ufe0f", ""),
            emoji_codes=frozenset(d.get("emoji_codes", ())),
        )
        for d in data.get("dampeners", ())
    )
    spec = _Spec(
        kinds=tuple(kinds),
        ignore_words=tuple(ignore.get("words", ())),
        ignore_patterns=tuple(ignore.get("patterns", ())),
        negation=negation,
        dampeners=dampeners,
    )
    return CueSet(spec)


@cache
def default_cues() -> CueSet:
    """The cues shipped with the package (``bot/drift_cues.json``), loaded once."""
    text = resources.files("bot").joinpath("drift_cues.json").read_text(encoding="utf-8")
    return load_cues(json.loads(text))
