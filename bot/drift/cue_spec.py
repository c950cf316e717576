"""The shape of the cue data (``bot/drift/cues.json``), read and validated.

Reading fails with a ValueError that says where the data is wrong: a weight outside 0..1,
an unknown ``{term}``, or a regex that is invalid, captures, matches empty text or could
take exponential time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from re import _constants, _parser  # to find repeats inside repeats
from typing import Any


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
class CueSpec:
    kinds: tuple[CueKind, ...]
    ignore_words: tuple[str, ...]
    ignore_patterns: tuple[str, ...]
    negation: Negation
    dampeners: tuple[Dampener, ...]


def read_kinds(data: Mapping[str, Any]) -> tuple[CueKind, ...]:
    terms: dict[str, str] = dict(data.get("terms", {}))
    terms.pop("about", None)
    return tuple(_read_kind(name, raw, terms) for name, raw in data["kinds"].items())


def _read_kind(name: str, raw: Mapping[str, Any], terms: Mapping[str, str]) -> CueKind:
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
        check_pattern(regex, where)
        patterns.append(Pattern(item["name"], regex, _weight(item.get("weight", default), where)))
    return CueKind(
        name=name,
        label=raw["label"],
        weight=default,
        negatable=bool(raw.get("negatable", True)),
        phrases=tuple(phrases),
        patterns=tuple(patterns),
    )


def read_ignore(data: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words and patterns of technical senses that aren't cues ("service level")."""
    ignore = data.get("ignore", {})
    for regex in ignore.get("patterns", ()):
        check_pattern(regex, "ignore")
    return tuple(ignore.get("words", ())), tuple(ignore.get("patterns", ()))


def read_dampeners(data: Mapping[str, Any]) -> tuple[Dampener, ...]:
    return tuple(
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


def check_pattern(regex: str, where: str) -> None:
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
