"""The cue set for drift alerts: compiled from the cue data, with owners' overrides.

A :class:`CueSet` is immutable. Building one compiles every literal word and regex
pattern of every kind into a single regular expression (``bot.drift.cue_regex``), and
finds each pattern's anchors (``bot.drift.anchors``) so that a pattern runs only on the
messages that could match it. Owners' per-relationship changes go through
:meth:`CueSet.with_words`, which returns a new (cached) set and never mutates the shared
default. The data's shape and its validation are in ``bot.drift.cue_spec``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from bot.drift.anchors import anchors
from bot.drift.cue_regex import (
    APOSTROPHES,
    END,
    SEPARATORS,
    START,
    dampener_scans,
    ends_word_regex,
    every_start,
    literal_regex,
    phrase_form,
    prefix_tree_regex,
    verb_negation_regex,
    word_regex,
)
from bot.drift.cue_spec import (
    CueKind,
    CueSpec,
    Negation,
    Phrase,
    read_dampeners,
    read_ignore,
    read_kinds,
)

MAX_WORD_LENGTH = 80

_HAS_ALNUM = re.compile(r"[^\W_]")
_NOT_LISTED = (None, 0.0, "")


@lru_cache(maxsize=4096)
@lru_cache(maxsize=4096)
def word_key(text: str) -> str:
    """Normal form used to compare a phrase with matched text."""
    text = text.translate(APOSTROPHES).lower().replace("'", "")
    return SEPARATORS.sub(" ", text).strip()


def clean_word(word: str) -> str:
    """An owner's cue word with its spaces tidied, or ValueError saying (to the owner) why it
    can't be one. The one rule for words typed in Slack and for words loaded from storage.

    >>> clean_word("  not   in the SOW ")
    'not in the SOW'
    """
    text = " ".join(str(word).split())
    if not _HAS_ALNUM.search(text):
        raise ValueError("A cue word needs at least one letter or digit.")
    if len(text) > MAX_WORD_LENGTH:
        raise ValueError(f"A cue word can be at most {MAX_WORD_LENGTH} characters long.")
    return text


def _clean_words(words: Iterable[str]) -> tuple[str, ...]:
    if isinstance(words, str):
        words = [words]
    return tuple(dict.fromkeys(clean_word(word) for word in words))


class CueSet:
    """Immutable, compiled set of drift cues.

    ``kinds`` maps each kind's machine name to its :class:`CueKind` (label, weight,
    phrases and patterns). Use :func:`load_cues` or ``bot.drift.domain.default_cues()``.
    """

    __slots__ = (
        "_always",
        "_anchor_scan",
        "_candidates",
        "_dampener_emoji",
        "_dampener_words",
        "_dampeners_of",
        "_ignores",
        "_literal",
        "_literals",
        "_patterns",
        "_satisfies",
        "_scan",
        "_spec",
        "clause_break_regex",
        "dampeners",
        "kinds",
        "labels",
        "negatable",
        "negation",
        "negation_hint",
        "release_regex",
        "self_negative",
        "verb_negation_regex",
    )

    def __init__(self, spec: CueSpec) -> None:
        self._spec = spec
        self.kinds: Mapping[str, CueKind] = MappingProxyType({k.name: k for k in spec.kinds})
        self.labels = {kind.name: kind.label for kind in spec.kinds}
        self.negatable = frozenset(kind.name for kind in spec.kinds if kind.negatable)
        self.negation = spec.negation
        self.dampeners = spec.dampeners
        self._dampener_words, self._dampener_emoji, self._dampeners_of = dampener_scans(
            spec.dampeners
        )
        self._compile_negation(spec.negation)
        self._literals = {
            word_key(phrase.text): (kind.name, phrase.weight, phrase.text)
            for kind in spec.kinds
            for phrase in kind.phrases
        }
        all_phrases = [p.text for kind in spec.kinds for p in kind.phrases]
        self._literal = word_regex("(?P<lit>" + literal_regex(all_phrases) + ")(?:e?s)?")
        conditions, pattern_needs = self._compile_patterns(spec)
        self._compile_scans(all_phrases, conditions, pattern_needs)

    def _compile_negation(self, negation: Negation) -> None:
        # Words that make a cue negative in itself ("not in scope"): no further negation.
        self.self_negative = (
            negation.near | negation.requirement_before_without | frozenset(negation.verb_negators)
        )
        # Without one of these words before a cue, it can't be negated: a quick first check.
        hints = {
            *negation.near,
            *negation.verb_negators,
            *(phrase.split()[0] for phrase in negation.release if phrase),
        }
        self.negation_hint = re.compile(START + "(?:" + literal_regex(hints) + ")" + END)
        self.release_regex = re.compile(START + "(?:" + literal_regex(negation.release) + ")" + END)
        self.verb_negation_regex = verb_negation_regex(negation)
        breaks = literal_regex(negation.clause_breaks)
        self.clause_break_regex = re.compile(
            r"[.,;:!?()\[\]\"\n]|" + START + "(?:" + breaks + ")" + END
        )

    def _compile_patterns(
        self, spec: CueSpec
    ) -> tuple[list[frozenset[str]], list[tuple[frozenset[str], ...]]]:
        """Each pattern runs on its own, and only on messages containing its anchors: one
        string of each of its anchor sets ("conditions"). Ignored senses likewise. Returns
        the conditions (their index is their number) and each pattern's anchor sets."""
        ignore = [literal_regex(spec.ignore_words), *spec.ignore_patterns]
        patterns = [p for kind in spec.kinds for p in kind.patterns]
        kinds = [kind.name for kind in spec.kinds for _ in kind.patterns]
        pattern_needs = [anchors(p.regex) for p in patterns]
        ignore_needs = [anchors(regex) for regex in ignore]
        needs = pattern_needs + ignore_needs
        conditions = list(dict.fromkeys(need for each in needs for need in each))
        number = {condition: n for n, condition in enumerate(conditions)}
        self._patterns = tuple(
            (ends_word_regex(p.regex), kind, p.weight, frozenset(number[c] for c in need), p.name)
            for p, kind, need in zip(patterns, kinds, pattern_needs, strict=True)
        )
        self._ignores = tuple(
            (ends_word_regex(regex), frozenset(number[c] for c in need))
            for regex, need in zip(ignore, ignore_needs, strict=True)
        )
        self._always = frozenset(i for i, p in enumerate(self._patterns) if not p[3])
        return conditions, pattern_needs

    def _compile_scans(
        self,
        all_phrases: list[str],
        conditions: list[frozenset[str]],
        pattern_needs: list[tuple[frozenset[str], ...]],
    ) -> None:
        every = {anchor for condition in conditions for anchor in condition}
        # The scan finds the longest anchor starting at a word: the anchors that are its
        # prefixes are there too. Each anchor found satisfies some conditions, and makes the
        # patterns whose first (rarest) condition it satisfies worth checking.
        self._satisfies = {
            found: frozenset(
                n for n, condition in enumerate(conditions) if any(map(found.startswith, condition))
            )
            for found in every
        }
        self._candidates = {
            found: frozenset(
                i
                for i, need in enumerate(pattern_needs)
                if need and any(map(found.startswith, need[0]))
            )
            for found in every
        }
        anchor_tree = prefix_tree_regex(every, re.escape) if every else "(?!)"
        self._anchor_scan = re.compile(START + "(?:" + anchor_tree + ")")
        # One pass over a message finds listed words and anchors alike.
        self._scan = re.compile(
            START
            + "(?:(?P<lit>"
            + literal_regex(all_phrases)
            + ")(?:e?s)?"
            + END
            + "|"
            + anchor_tree
            + ")"
        )

    # -- what the scorer asks ------------------------------------------------------------
    def dampeners_found(self, low: str, spans: list[tuple[int, int]]) -> frozenset[int]:
        """Indexes of the dampeners whose words or emoji appear outside the cues' spans."""
        found: set[int] = set()
        scans = [(self._dampener_words, phrase_form)]
        if not low.isascii():
            scans.append((self._dampener_emoji, str))
        for scan, key in scans:
            for match in scan.finditer(low):
                start = match.start()
                if not any(begin <= start < end for begin, end in spans):
                    found |= self._dampeners_of.get(key(match.group()), frozenset())
        return frozenset(found)

    def find(self, low: str) -> Iterator[tuple[int, int, str, float, str]]:
        """Cues in lower-cased clean text, left to right, as (start, end, kind, weight, word):
        ``word`` is the listed word or the pattern's name, never text from the message.

        Where several cues start at the same word, an ignored technical sense wins, then
        patterns in data order, then listed words. A cue inside an earlier one isn't
        found again, but overlapping cues are ("entitled under the contract").
        """
        found: dict[int, tuple[int, int, str | None, float, str]] = {}  # start: (rank, end, …)
        literals, last = self._literals, len(self._patterns)
        satisfies, makes_candidates = self._satisfies, self._candidates
        satisfied: set[int] = set()
        candidates = set(self._always)
        for match in self._scan.finditer(low):
            if match.group("lit") is None:  # an anchor: one word, so none inside another
                satisfied |= satisfies[match.group()]
                candidates |= makes_candidates[match.group()]
                continue
            start, end = match.span()
            found[start] = (last, end, *literals.get(word_key(match["lit"]), _NOT_LISTED))
            for anchor in self._anchor_scan.findall(low, start, end):
                satisfied |= satisfies[anchor]
                candidates |= makes_candidates[anchor]
            gap = low.find(" ", start, end)
            while gap != -1:  # listed words starting inside this one: "under the contract"
                inner = self._literal.match(low, gap + 1)
                if inner is not None:
                    listed = literals.get(word_key(inner["lit"]), _NOT_LISTED)
                    found[inner.start()] = (last, inner.end(), *listed)
                gap = low.find(" ", gap + 1, end)
        for rank in sorted(candidates):
            regex, kind, weight, needs, name = self._patterns[rank]
            if not needs <= satisfied:
                continue
            for match in every_start(regex, low):
                start = match.start()
                if start not in found or found[start][0] > rank:
                    found[start] = (rank, match.end(), kind, weight, name)
        if not found:
            return
        for regex, needs in self._ignores:
            if needs <= satisfied:
                for match in every_start(regex, low):
                    start, end = match.span()
                    if start not in found or found[start][0] != -1 or found[start][1] < end:
                        found[start] = (-1, end, None, 0.0, "")
        next_start = covered = 0
        for start in sorted(found):
            if start < next_start:
                continue  # inside the first word of the cue before
            _, end, kind, weight, word = found[start]
            gap = low.find(" ", start, end)
            next_start = gap + 1 if gap != -1 else end
            if end > covered and kind is not None:
                yield start, end, kind, weight, word
            covered = max(covered, end)

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
        wanted = SEPARATORS.sub("_", str(kind).strip().lower())
        for name, cue_kind in self.kinds.items():
            if wanted in (name, SEPARATORS.sub("_", cue_kind.label.lower())):
                return name
        known = ", ".join(self.kinds)
        raise ValueError(f"There is no drift cue kind called {kind!r}. Choose one of: {known}.")

    def words(self) -> dict[str, list[str]]:
        """Words and pattern names per kind, as owners see them."""
        return {name: kind.words() for name, kind in self.kinds.items()}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v.phrases) + len(v.patterns)}" for k, v in self.kinds.items())
        return f"CueSet({counts})"


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
        CueSpec(
            tuple(kinds), spec.ignore_words, spec.ignore_patterns, spec.negation, spec.dampeners
        )
    )


def _read_negation(neg: Mapping[str, Any]) -> Negation:
    return Negation(
        near=frozenset(word_key(w) for w in neg.get("near", ())),
        release=tuple(word_key(w) for w in neg.get("release", ())),
        requirement_before_without=frozenset(
            word_key(w) for w in neg.get("requirement_before_without", ())
        ),
        clause_breaks=tuple(word_key(w) for w in neg.get("clause_breaks", ())),
        subjects=frozenset(word_key(w) for w in neg.get("subjects", ())),
        **{
            name: tuple(word_key(w) for w in neg.get(name, ()))
            for name in ("verb_negators", "helpers", "verbs", "particles")
        },
    )


def load_cues(data: Mapping[str, Any]) -> CueSet:
    """Build a CueSet from data shaped like ``bot/drift/cues.json``."""
    kinds = read_kinds(data)
    ignore_words, ignore_patterns = read_ignore(data)
    negation = _read_negation(data.get("negation", {}))
    spec = CueSpec(
        kinds=kinds,
        ignore_words=ignore_words,
        ignore_patterns=ignore_patterns,
        negation=negation,
        dampeners=read_dampeners(data),
    )
    return CueSet(spec)


@cache
def default_cues() -> CueSet:
    """The cues shipped with the package (``bot/drift/cues.json``), loaded once."""
    text = resources.files("bot.drift").joinpath("cues.json").read_text(encoding="utf-8")
    return load_cues(json.loads(text))
