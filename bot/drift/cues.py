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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from re import _constants, _parser  # to find a pattern's anchors (see ``anchors``)
from types import MappingProxyType
from typing import Any

MAX_WORD_LENGTH = 80

_START = r"(?<![^\W_])"  # not preceded by a letter or digit
_END = r"(?![^\W_])"  # not followed by a letter or digit
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_SEPARATORS = re.compile(r"[\s\-]+")
_HAS_ALNUM = re.compile(r"[^\W_]")


@lru_cache(maxsize=4096)
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
    subjects: frozenset[str] = frozenset()  # a cue starting with one opens its own clause


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
    return _prefix_tree_regex((_phrase_form(phrase) for phrase in phrases), _char_regex)


def _prefix_tree_regex(strings: Iterable[str], char: Callable[[str], str]) -> str:
    root: dict[str, Any] = {}
    for string in strings:
        node = root
        for ch in string:
            node = node.setdefault(ch, {})
        node[""] = True
    return _tree_regex(root, char) or "(?!)"


def _tree_regex(node: dict[str, Any], char: Callable[[str], str]) -> str:
    branches = [char(ch) + _tree_regex(child, char) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a phrase may end here: the rest is optional
        return ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
    return body


def _verb_negation_regex(negation: Negation) -> re.Pattern[str]:
    """Matches words ending in a negated verb of doing: "not going to apply", "nobody is
    talking about", "we won't be raising a", or in the negator itself when the cue is the
    verb ("we won't | charge you for"). Never matches when a list is empty."""
    if not (negation.verb_negators and negation.verbs):
        return re.compile("(?!)")

    def words(phrases: Iterable[str]) -> str:
        return "(?:" + literal_regex(phrases) + ")"

    helper = f"(?: {words(negation.helpers)}){{0,3}}" if negation.helpers else ""
    particle = f"(?: {words(negation.particles)}){{0,2}}" if negation.particles else ""
    verb = f"(?: {words(negation.verbs)}{particle})?"  # or the cue is the verb: "won't charge"
    return re.compile(f"(?:^| ){words(negation.verb_negators)}{helper}{verb}$")


# Words too common to be worth checking for before running a pattern.
_COMMON = frozenset(
    (
        *("a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at"),
        *("back", "be", "been", "before", "being", "but", "by", "can", "could", "did", "do"),
        *("does", "for", "from", "get", "go", "got", "had", "has", "have", "he", "her", "here"),
        *("his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "know", "let"),
        *("me", "more", "my", "need", "new", "next", "no", "not", "now", "of", "on", "one"),
        *("only", "or", "other", "our", "out", "over", "people", "per", "please", "re", "she"),
        *("should", "so", "some", "still", "team", "than", "that", "the", "their", "them"),
        *("then", "there", "they", "this", "time", "to", "today", "up", "us", "very", "want"),
        *("was", "we", "were", "what", "when", "which", "who", "why", "will", "with", "would"),
        *("yet", "your", "ll", "ve", "s", "t", "d", "m"),
    )
)


MAX_ANCHOR_SETS = 2  # conditions checked per pattern, the rarest first
_MAX_EXACT = 64  # strings a part of a regex may spell before it counts as open-ended
_MAX_ANCHORS = 64  # strings in one anchor set
_ANCHOR_CHARS = 6  # anchors are cut to this length


def anchors(regex: str) -> tuple[frozenset[str], ...]:
    """Sets of literal strings such that every match of ``regex`` contains a string of each
    set: the rarest few (long, not common words). A message missing every string of one set
    can't match, so the pattern needn't run on it. Empty when nothing is worth checking.

    ``anchors("(?:copied|cc'd) (?:your|our) (?:director|ceo)")`` gives, rarest first,
    ``{"director", "ceo"}`` and ``{"copied", "cc'd"}`` (and skips the common "your", "our").
    """
    try:
        found = _required_sets(list(_parser.parse(regex)))
    except (re.error, AttributeError, TypeError, ValueError, IndexError):  # run it always
        return ()
    # a prefix of a required string is required too: short ones make fewer, quicker anchors
    found = [frozenset(map(_shortened, strings)) for strings in found]
    chosen: list[frozenset[str]] = []
    for strings in sorted(found, key=_rarity, reverse=True):
        if _rarity(strings) == (0, 0, 0) or len(chosen) == MAX_ANCHOR_SETS:
            break
        if not any(all(any(a in s for a in need) for s in strings) for need in chosen):
            chosen.append(strings)  # (a set implied by one already chosen adds nothing)
    return tuple(chosen)


def _required_sets(items: list[tuple[Any, Any]], at_word: bool = True) -> list[frozenset[str]]:
    """Required sets whose strings start a word (``at_word``: the items do), so that the
    scan for anchors can look at word starts only. Patterns always start a word."""
    sets: list[frozenset[str]] = []
    run: set[str] = {""}  # what the stretch read so far can spell
    run_at_word = at_word
    literal = ""  # the plain letters at its end, a short anchor on their own ("escalat")
    literal_at_word = at_word

    def close_run() -> None:
        if "" in run:
            return
        if run_at_word:
            sets.append(frozenset(run))
            return
        # not at a word: each string's last word that starts inside it still starts a word
        tails = [_WORD_INSIDE.findall(string) for string in run]
        if all(tails):
            sets.append(frozenset(words[-1] for words in tails))

    def close_literal() -> None:
        if literal_at_word:
            sets.append(frozenset([literal]))
        elif (words := _WORD_AFTER_GAP.search(literal)) is not None:
            sets.append(frozenset([words.group()]))  # " time": "time" starts a word

    for item in items:
        if item[0] is _constants.LITERAL:
            if not literal:
                literal_at_word = at_word
            literal += chr(item[1])
        elif literal:
            close_literal()
            literal = ""
        exact = _exact(item)
        if exact is not None and len(run) * len(exact) <= _MAX_EXACT:
            if run == {""}:
                run_at_word = at_word
            run = {a + b for a in run for b in exact}
        else:
            close_run()
            run, run_at_word = (set(exact), at_word) if exact is not None else ({""}, False)
            if exact is None:
                sets.extend(_inner_sets(item, at_word))
        at_word = _word_starts_after(item, exact, at_word)
    close_run()
    if literal:
        close_literal()
    return sets


def _word_starts_after(item: tuple[Any, Any], exact: set[str] | None, at_word: bool) -> bool:
    """Does a word start right after ``item`` (which spells ``exact``, if known)?"""
    if exact is not None:
        spelled = [string for string in exact if string]
        if not spelled:
            return at_word  # zero-width
        ends_word = all(not string[-1].isalnum() for string in spelled)
        return ends_word and (at_word or "" not in exact)
    op, arg = item
    if op is _constants.SUBPATTERN:
        return _sequence_ends_word(list(arg[-1]), at_word)
    if op is _constants.BRANCH:
        return all(_sequence_ends_word(list(branch), at_word) for branch in arg[1])
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
        ends_word = _sequence_ends_word(list(arg[2]), at_word)
        return ends_word and (at_word or arg[0] >= 1)
    return False


def _sequence_ends_word(items: list[tuple[Any, Any]], at_word: bool) -> bool:
    for item in items:
        at_word = _word_starts_after(item, _exact(item), at_word)
    return at_word


def _inner_sets(item: tuple[Any, Any], at_word: bool) -> list[frozenset[str]]:
    op, arg = item
    if op is _constants.SUBPATTERN:
        return _required_sets(list(arg[-1]), at_word)
    if op is _constants.BRANCH:
        rarest = [max(_required_sets(list(b), at_word), key=_rarity, default=None) for b in arg[1]]
        return [frozenset().union(*rarest)] if all(rarest) else []
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and arg[0] >= 1:
        return _required_sets(list(arg[2]), at_word)
    return []


_WORD_AFTER_GAP = re.compile(r"(?<=[^\w])[^\W_].*", re.DOTALL)
_WORD_INSIDE = re.compile(r"(?<=[^\w])[^\W_]\w*")
_INNER_WORD_START = re.compile(r"(?<=.)(?<![^\W_])[^\W_]", re.DOTALL)
_WORD_PART = re.compile(r"[^\W_]*")


def _exact(item: tuple[Any, Any]) -> set[str] | None:
    """Every string a regex item can match, when they are few; None otherwise."""
    op, arg = item
    if op is _constants.LITERAL:
        return {chr(arg)}
    if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
        return {""}  # zero-width
    if op is _constants.IN:
        chars = set()
        for kind, value in arg:
            if kind is _constants.LITERAL:
                chars.add(chr(value))
            elif kind is _constants.CATEGORY and value is _constants.CATEGORY_SPACE:
                chars |= {" ", "\n"}  # the only spaces left in clean text
            else:
                return None
        return chars
    if op is _constants.SUBPATTERN:
        return _exact_sequence(arg[-1])
    if op is _constants.BRANCH:
        spelled: set[str] = set()
        for branch in arg[1]:
            exact = _exact_sequence(branch)
            if exact is None:
                return None
            spelled |= exact
        return spelled if len(spelled) <= _MAX_EXACT else None
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and arg[1] <= 2:
        low, high, sub = arg
        one = _exact_sequence(sub)
        if one is None:
            return None
        spelled, current = set(), {""}
        for times in range(high + 1):
            if times >= low:
                spelled |= current
            current = {a + b for a in current for b in one}
        return spelled if len(spelled) <= _MAX_EXACT else None
    return None


def _exact_sequence(items: Iterable[tuple[Any, Any]]) -> set[str] | None:
    spelled = {""}
    for item in items:
        exact = _exact(item)
        if exact is None or len(spelled) * len(exact) > _MAX_EXACT:
            return None
        spelled = {a + b for a in spelled for b in exact}
    return spelled


def _shortened(string: str) -> str:
    """The rarest word of a required string, at most a few letters of it (a word of it is
    required too). No other word starts inside an anchor, so the scan for anchors never
    needs to look inside one it found."""
    starts = [0, *(m.start() for m in _INNER_WORD_START.finditer(string))]
    words = [
        _WORD_PART.match(string, a).group()[:_ANCHOR_CHARS] or string[a:b]
        for a, b in zip(starts, [*starts[1:], None], strict=True)
    ]
    return max(words, key=lambda word: (word not in _COMMON, len(word)))


def _rarity(strings: frozenset[str]) -> tuple[int, int, int]:
    """Sets without common words first, then longer strings (up to a few letters), then
    fewer of them. Too many strings, or one letter, isn't worth looking for: (0, 0, 0)."""
    words = [string.strip() for string in strings]
    if len(words) > _MAX_ANCHORS or any(len(word) < 2 for word in words):
        return (0, 0, 0)
    uncommon = not any(_COMMON.issuperset(word.split()) for word in words)
    return (1 + uncommon, min(4, *map(len, words)), -len(words))


def _check_pattern(regex: str, where: str) -> None:
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise ValueError(f"Invalid regex in {where}: {regex!r} ({exc})") from exc
    if compiled.groups:
        raise ValueError(f"Regex in {where} must not use capturing groups: {regex!r}")
    if compiled.match(""):
        raise ValueError(f"Regex in {where} must not match empty text: {regex!r}")
    if _nested_unbounded_repeat(_parser.parse(regex)):
        raise ValueError(
            f"Regex in {where} repeats a repetition, which can take exponential time on long "
            f"messages: {regex!r}"
        )


def _nested_unbounded_repeat(parsed: Any, inside_repeat: bool = False) -> bool:
    """True when an open-ended repeat (``*``, ``+``, ``{n,}``) sits inside another one, as in
    ``(a+)+``: the shape behind catastrophic backtracking. Bounded repeats are fine."""
    for op, value in parsed:
        repeat = op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
        unbounded = repeat and value[1] == _constants.MAXREPEAT
        if unbounded and inside_repeat:
            return True
        if repeat:
            bodies = [value[2]]
        elif op is _constants.SUBPATTERN:
            bodies = [value[-1]]
        elif op is _constants.BRANCH:
            bodies = list(value[1])
        elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
            bodies = [value[1]]
        elif op is _constants.ATOMIC_GROUP:
            bodies = [value]
        else:
            bodies = []
        if any(_nested_unbounded_repeat(body, inside_repeat or unbounded) for body in bodies):
            return True
    return False


# --------------------------------------------------------------------------- the cue set


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

    def __init__(self, spec: _Spec) -> None:
        self._spec = spec
        self.kinds: Mapping[str, CueKind] = MappingProxyType({k.name: k for k in spec.kinds})
        self.labels = {kind.name: kind.label for kind in spec.kinds}
        self.negatable = frozenset(kind.name for kind in spec.kinds if kind.negatable)
        self.negation = spec.negation
        self.dampeners = spec.dampeners
        # One scan finds every dampener's words, another their emoji. A word found means the
        # dampeners listing it or a whole word inside it ("appreciate" in "really appreciate").
        owners: dict[str, set[int]] = {}
        for index, dampener in enumerate(spec.dampeners):
            for item in (*map(_phrase_form, dampener.words), *dampener.emoji):
                owners.setdefault(item, set()).add(index)
        self._dampener_words = _word_regex(
            literal_regex(w for d in spec.dampeners for w in d.words)
        )
        emoji = sorted({e for d in spec.dampeners for e in d.emoji})
        self._dampener_emoji = re.compile(
            "[" + "".join(map(re.escape, emoji)) + "]" if emoji else "(?!)"
        )
        self._dampeners_of = {
            found: frozenset().union(
                *(
                    owner
                    for item, owner in owners.items()
                    if _word_regex(re.escape(item)).search(found) or item == found
                )
            )
            for found in owners
        }
        negation = spec.negation
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
        self.negation_hint = re.compile(_START + "(?:" + literal_regex(hints) + ")" + _END)
        self.release_regex = re.compile(
            _START + "(?:" + literal_regex(spec.negation.release) + ")" + _END
        )
        self.verb_negation_regex = _verb_negation_regex(spec.negation)
        breaks = literal_regex(spec.negation.clause_breaks)
        self.clause_break_regex = re.compile(
            r"[.,;:!?()\[\]\"\n]|" + _START + "(?:" + breaks + ")" + _END
        )

        self._literals = {
            word_key(phrase.text): (kind.name, phrase.weight, phrase.text)
            for kind in spec.kinds
            for phrase in kind.phrases
        }
        all_phrases = [p.text for kind in spec.kinds for p in kind.phrases]
        self._literal = _word_regex("(?P<lit>" + literal_regex(all_phrases) + ")(?:e?s)?")
        ignore = [literal_regex(spec.ignore_words), *spec.ignore_patterns]
        # Each pattern runs on its own, and only on messages containing its anchors: one
        # string of each of its anchor sets ("conditions"). Ignored senses likewise.
        patterns = [p for kind in spec.kinds for p in kind.patterns]
        kinds = [kind.name for kind in spec.kinds for _ in kind.patterns]
        pattern_needs = [anchors(p.regex) for p in patterns]
        ignore_needs = [anchors(regex) for regex in ignore]
        needs = pattern_needs + ignore_needs
        conditions = list(dict.fromkeys(need for each in needs for need in each))
        number = {condition: n for n, condition in enumerate(conditions)}
        self._patterns = tuple(
            (_ends_word_regex(p.regex), kind, p.weight, frozenset(number[c] for c in need), p.name)
            for p, kind, need in zip(patterns, kinds, pattern_needs, strict=True)
        )
        self._ignores = tuple(
            (_ends_word_regex(regex), frozenset(number[c] for c in need))
            for regex, need in zip(ignore, ignore_needs, strict=True)
        )

        self._always = frozenset(i for i, p in enumerate(self._patterns) if not p[3])
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
        anchor_tree = _prefix_tree_regex(every, re.escape) if every else "(?!)"
        self._anchor_scan = re.compile(_START + "(?:" + anchor_tree + ")")
        # One pass over a message finds listed words and anchors alike.
        self._scan = re.compile(
            _START
            + "(?:(?P<lit>"
            + literal_regex(all_phrases)
            + ")(?:e?s)?"
            + _END
            + "|"
            + anchor_tree
            + ")"
        )

    # -- what the scorer asks ------------------------------------------------------------
    def dampeners_found(self, low: str, spans: list[tuple[int, int]]) -> frozenset[int]:
        """Indexes of the dampeners whose words or emoji appear outside the cues' spans."""
        found: set[int] = set()
        scans = [(self._dampener_words, _phrase_form)]
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
            for match in _every_start(regex, low):
                start = match.start()
                if start not in found or found[start][0] > rank:
                    found[start] = (rank, match.end(), kind, weight, name)
        if not found:
            return
        for regex, needs in self._ignores:
            if needs <= satisfied:
                for match in _every_start(regex, low):
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


_NOT_LISTED = (None, 0.0, "")


def _word_regex(regex: str) -> re.Pattern[str]:
    return re.compile(_START + "(?:" + regex + ")" + _END)


def _ends_word_regex(regex: str) -> re.Pattern[str]:
    """Like ``_word_regex`` but the start of a word is checked by ``_every_start``: without a
    look-behind first, the regex engine skips quickly to places where a match can begin."""
    return re.compile("(?:" + regex + ")" + _END)


def _every_start(regex: re.Pattern[str], low: str) -> Iterator[re.Match[str]]:
    """Matches of an ``_ends_word_regex`` starting at every word where one starts, even
    inside an earlier match."""
    match = regex.search(low)
    while match is not None:
        start, end = match.span()
        if start and low[start - 1].isalnum():  # inside a word ("our" in "your"): not here
            match = regex.search(low, start + 1)
            continue
        yield match
        gap = low.find(" ", start, end)  # look again from the next word, never re-scan it all
        match = regex.search(low, gap + 1 if gap != -1 else end)


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


_TERM = re.compile(r"\{([a-z_]+)\}")


def _with_terms(regex: str, terms: Mapping[str, str], where: str) -> str:
    """Replace ``{name}`` by the shared fragment ``terms[name]`` (wrapped in a group), so a
    meaning such as "a senior person" is written once. Counted repeats like ``{0,4}`` stay."""

    def term(match: re.Match[str]) -> str:
        if match.group(1) not in terms:
            raise ValueError(f"Unknown term {{{match.group(1)}}} in {where}: {regex!r}")
        return "(?:" + terms[match.group(1)] + ")"

    return _TERM.sub(term, regex)


def load_cues(data: Mapping[str, Any]) -> CueSet:
    """Build a CueSet from data shaped like ``bot/drift/cues.json``."""
    terms: dict[str, str] = dict(data.get("terms", {}))
    terms.pop("about", None)
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
            regex = _with_terms(item["regex"], terms, where)
            _check_pattern(regex, where)
            patterns.append(
                Pattern(item["name"], regex, _weight(item.get("weight", default), where))
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
        subjects=frozenset(word_key(w) for w in neg.get("subjects", ())),
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
    """The cues shipped with the package (``bot/drift/cues.json``), loaded once."""
    text = resources.files("bot.drift").joinpath("cues.json").read_text(encoding="utf-8")
    return load_cues(json.loads(text))
