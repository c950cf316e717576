"""The regular expressions cues compile to.

Literal words are folded into a prefix tree, so that one regex matches any of thousands
of them in time linear in the message's length. A cue starts and ends at a word boundary
(not next to a letter or digit); hyphens count as spaces and apostrophes are optional.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bot.drift.cue_spec import Dampener, Negation

START = r"(?<![^\W_])"  # not preceded by a letter or digit
END = r"(?![^\W_])"  # not followed by a letter or digit
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
SEPARATORS = re.compile(r"[\s\-]+")


def _char_regex(ch: str) -> str:
    if ch == " ":
        return r"[\s\-]"
    if ch == "'":
        return "'?"
    return re.escape(ch)


def phrase_form(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces (hyphens count as spaces)."""
    return SEPARATORS.sub(" ", text.translate(APOSTROPHES).lower()).strip()


def literal_regex(phrases: Iterable[str]) -> str:
    """One regex matching any of the phrases, built as a prefix tree (no backtracking blow-up)."""
    return prefix_tree_regex((phrase_form(phrase) for phrase in phrases), _char_regex)


def prefix_tree_regex(strings: Iterable[str], char: Callable[[str], str]) -> str:
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


def verb_negation_regex(negation: Negation) -> re.Pattern[str]:
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


def word_regex(regex: str) -> re.Pattern[str]:
    return re.compile(START + "(?:" + regex + ")" + END)


def ends_word_regex(regex: str) -> re.Pattern[str]:
    """Like ``word_regex`` but the start of a word is checked by ``every_start``: without a
    look-behind first, the regex engine skips quickly to places where a match can begin."""
    return re.compile("(?:" + regex + ")" + END)


def every_start(regex: re.Pattern[str], low: str) -> Iterator[re.Match[str]]:
    """Matches of an ``ends_word_regex`` starting at every word where one starts, even
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


def dampener_scans(
    dampeners: tuple[Dampener, ...],
) -> tuple[re.Pattern[str], re.Pattern[str], dict[str, frozenset[int]]]:
    """One scan finds every dampener's words, another their emoji, and which dampeners
    (by index) each found word or emoji belongs to. A word found means the dampeners
    listing it or a whole word inside it ("appreciate" in "really appreciate")."""
    owners: dict[str, set[int]] = {}
    for index, dampener in enumerate(dampeners):
        for item in (*map(phrase_form, dampener.words), *dampener.emoji):
            owners.setdefault(item, set()).add(index)
    words = word_regex(literal_regex(w for d in dampeners for w in d.words))
    emoji = sorted({e for d in dampeners for e in d.emoji})
    emoji_regex = re.compile("[" + "".join(map(re.escape, emoji)) + "]" if emoji else "(?!)")
    dampeners_of = {
        found: frozenset().union(
            *(
                owner
                for item, owner in owners.items()
                if word_regex(re.escape(item)).search(found) or item == found
            )
        )
        for found in owners
    }
    return words, emoji_regex, dampeners_of
