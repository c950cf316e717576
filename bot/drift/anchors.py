"""Anchors: the literal strings a cue pattern's every match must contain.

A message missing every string of one anchor set can't match the pattern, so the
pattern needn't run on it; the cue set checks for anchors in one scan of the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants, _parser  # to find a pattern's anchors
from typing import Any

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
