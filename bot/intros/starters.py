"""Light conversation starters for an intro: nothing about work, nothing personal enough to
make anyone uneasy. One is picked per group, the same one however often it is drawn."""

from __future__ import annotations

import hashlib

STARTERS = (
    "What's the best thing you've eaten this month?",
    "If you could be anywhere this weekend, where would it be?",
    "What's a small thing that made you smile recently?",
    "Tea, coffee, or something else entirely?",
    "What's a film or series you'd happily watch again?",
    "What did you want to be when you were ten?",
    "What's the view from your window like today?",
    "Which song would be your walk-on music?",
    "What's a hobby you picked up, or keep meaning to?",
    "Best place you've ever travelled to, or want to?",
    "What's a book, podcast or game you'd recommend to a stranger?",
    "Early bird or night owl?",
    "What's the weather doing where you are, and do you mind?",
    "What's something your town or city is known for?",
    "Cats, dogs, or neither?",
    "What's the most useful thing you've learnt from a video online?",
)


def starter_for(group_key: str) -> str:
    """The starter for a group (by its id), stable across restarts and processes."""
    digest = hashlib.sha256(group_key.encode()).digest()
    return STARTERS[int.from_bytes(digest[:4], "big") % len(STARTERS)]
