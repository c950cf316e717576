"""A relationship's drift configuration (cue words, calming, feedback, thresholds), cached.

Read on every message in a watched channel but changed rarely, by owners. Each app holds its
own cache: changes made through it are forgotten at once; changes made by another process
show up within ``TTL_SECONDS``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, null, or_, select, true, union_all
from sqlalchemy.orm import Session

from bot.core.db import columns, one_row_joined
from bot.drift.cues import clean_word
from bot.drift.domain import CueSet, default_cues
from bot.drift.models import (
    DriftAlert,
    DriftCalming,
    DriftSettings,
    DriftWord,
    Thresholds,
    thresholds_from,
)
from bot.relationships.models import Relationship, WatchedChannel

logger = logging.getLogger(__name__)

TTL_SECONDS = 30.0
CALMING_STEP = 0.6  # each "Not drift" press multiplies that cue kind's weight by this
SHIFT_STEP = 0.25  # ... and lowers the learned score's logit by this
MAX_SHIFT = 1.0  # at most: a message the model is 73% sure of still counts as formal
FEEDBACK_ALERTS = ("formal_tone", "unanswered")  # alerts about the score (not one-way traffic)


@dataclass(frozen=True)
class DriftConfig:
    cues: CueSet
    calmed: dict[str, float]
    thresholds: Thresholds
    feedback: int = 0  # alerts owners marked "Not drift"
    # owners' words as stored, (kind, phrase, added), by kind and phrase: what they changed
    changes: tuple[tuple[str, str, bool], ...] = ()

    @property
    def shift(self) -> float:
        """How far owners' feedback lowers the learned score's logit (``assess_learned``)."""
        return feedback_shift(self.feedback)


def feedback_shift(presses: int) -> float:
    """Each "Not drift" lowers the learned score a step, up to a bound, so that a few
    presses make a relationship's detection less eager but can't switch it off."""
    return min(MAX_SHIFT, SHIFT_STEP * presses)


def formal_bar(presses: int) -> float:
    """The model's own score a message needs to count as formal after ``presses``."""
    return _sigmoid(feedback_shift(presses))


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit))


HIGHEST_BAR = _sigmoid(MAX_SHIFT)  # however many presses


# The statement ``load_config`` runs, built once: ``/rapport drift`` loads the configuration
# afresh each time (see bot.relationships.domain). Feedback: the alerts about the score that
# the relationship's owners marked "Not drift".
_FEEDBACK = select(func.count()).where(
    DriftAlert.relationship_id == bindparam("relationship_id"),
    DriftAlert.not_drift_by.is_not(None),
    DriftAlert.kind.in_(FEEDBACK_ALERTS),
)
_THRESHOLDS = select(DriftSettings).where(
    DriftSettings.relationship_id == bindparam("relationship_id")
)
# the owners' words (id, kind, phrase, added) and their calmings (kind, presses; never NULL,
# which tells the two apart)
_ADJUSTMENTS = union_all(
    select(
        DriftWord.id, DriftWord.kind, DriftWord.phrase, DriftWord.added, null().label("presses")
    ).where(DriftWord.relationship_id == bindparam("relationship_id")),
    select(null(), DriftCalming.kind, null(), null(), DriftCalming.presses).where(
        DriftCalming.relationship_id == bindparam("relationship_id")
    ),
).subquery("adjustments")
# the whole configuration in one round trip: the feedback count and the stored thresholds
# (NULL when the relationship has none: its defaults), from a one-row table joined to its
# settings, on every one of the words and calmings (words by kind and phrase), or on one row
# of NULLs when there are none
_CONFIG = (
    select(
        _FEEDBACK.scalar_subquery().label("feedback"),
        DriftSettings.relationship_id,
        *(getattr(DriftSettings, name) for name in Thresholds.__dataclass_fields__),
        *_ADJUSTMENTS.c,
    )
    .select_from(
        one_row_joined(DriftSettings, DriftSettings.relationship_id == bindparam("relationship_id"))
    )
    .outerjoin(_ADJUSTMENTS, true())
    .order_by(_ADJUSTMENTS.c.kind, _ADJUSTMENTS.c.phrase)
)


def load_config(session: Session, relationship_id: int) -> DriftConfig:
    """The relationship's configuration, its cue set compiled (about 0.2 s unless a set with
    the same words was compiled lately): call it outside write transactions."""
    rows = columns(session, _CONFIG, {"relationship_id": relationship_id}).all()
    words, calmed = [], {}
    for row in rows:
        if row.presses is not None:
            calmed[row.kind] = CALMING_STEP**row.presses
        elif row.kind is not None:
            words.append((row.id, row.kind, row.phrase, row.added))
    added, removed = _owners_words(relationship_id, words)
    cues = default_cues().with_words(added, removed) if added or removed else default_cues()
    return DriftConfig(
        cues,
        calmed,
        thresholds_from(rows[0]),
        rows[0].feedback,
        tuple((kind, phrase, is_added) for _, kind, phrase, is_added in words),
    )


def load_thresholds(session: Session, relationship_id: int) -> Thresholds:
    return thresholds_from(session.scalar(_THRESHOLDS, {"relationship_id": relationship_id}))


def _owners_words(
    relationship_id: int, words: Sequence[tuple[int, str, str, bool]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Owners' stored ``words`` per kind: (added, switched off). A stored word today's rule
    refuses (saved by an older version, or edited in the database) or of an unknown kind is
    skipped and logged, so that it can't stop the relationship's messages being assessed."""
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for word_id, stored_kind, stored_phrase, is_added in words:
        try:
            kind, phrase = default_cues().resolve_kind(stored_kind), clean_word(stored_phrase)
        except ValueError as problem:
            logger.warning(
                "drift word %s of relationship %s skipped: %s", word_id, relationship_id, problem
            )
            continue
        (added if is_added else removed).setdefault(kind, []).append(phrase)
    return added, removed


class DriftConfigCache:
    def __init__(self, ttl_seconds: float = TTL_SECONDS):
        self._ttl = ttl_seconds
        self._entries: dict[int, tuple[float, DriftConfig]] = {}
        self._watching: dict[tuple[str, str], int] = {}  # (team, channel): as last prepared
        self._homes: dict[tuple[str, str], str] = {}  # (team, channel): where it's watched
        self._lock = threading.Lock()

    def get(self, session: Session, relationship_id: int) -> DriftConfig:
        with self._lock:
            entry = self._entries.get(relationship_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        config = load_config(session, relationship_id)
        with self._lock:
            self._entries[relationship_id] = (time.monotonic() + self._ttl, config)
        return config

    def prepare(self, session: Session, team_id: str, channel_id: str) -> None:
        """Load the configuration of the relationship watching this channel, if it isn't
        loaded, in a read-only session before a message event's write transaction: there,
        compiling its cue set would hold the database's write lock, and every other
        relationship's events with it. A channel a joint relationship watches is found
        from either home workspace: Slack delivers a shared channel's message under the
        installation it picks (``home_team`` says which workspace it is watched in)."""
        row = session.execute(
            select(WatchedChannel.relationship_id, WatchedChannel.team_id)
            .join(Relationship, Relationship.id == WatchedChannel.relationship_id)
            .where(
                WatchedChannel.channel_id == channel_id,
                or_(WatchedChannel.team_id == team_id, Relationship.partner_team_id == team_id),
            )
            .order_by(WatchedChannel.team_id != team_id)  # its own workspace's watch first
            .limit(1)
        ).first()
        if row is None:
            with self._lock:  # no longer watched from here (a relationship left, say)
                self._watching.pop((team_id, channel_id), None)
                self._homes.pop((team_id, channel_id), None)
            return
        relationship_id, home = row
        self.get(session, relationship_id)
        with self._lock:
            self._watching[team_id, channel_id] = relationship_id
            self._watching[home, channel_id] = relationship_id
            self._homes[team_id, channel_id] = home

    def home_team(self, team_id: str, channel_id: str) -> str:
        """The workspace the channel is watched in, as last prepared: ``team_id`` itself,
        or, for a joint relationship's channel delivered under the partner's installation,
        the workspace that created the relationship."""
        with self._lock:
            return self._homes.get((team_id, channel_id), team_id)

    def prepared(self, team_id: str, channel_id: str) -> tuple[int, DriftConfig] | None:
        """The relationship last seen watching this channel and its configuration, when that
        is loaded and fresh (else ``prepare`` has work to do). Checked before each message
        event, it spares the event a read transaction and lets it be scored before its write
        transaction. (Should another relationship watch the channel now, ``record_message``
        still loads the right configuration.)"""
        with self._lock:
            relationship_id = self._watching.get((team_id, channel_id))
            entry = self._entries.get(relationship_id) if relationship_id is not None else None
        if relationship_id is None or entry is None or entry[0] <= time.monotonic():
            return None
        return relationship_id, entry[1]

    def warm(self, session: Session) -> None:
        """Load the configuration of every relationship that watches a channel, so that no
        Slack event waits while its cue set is compiled (about 0.2 s for each set of words)."""
        default_cues()
        for relationship_id in session.scalars(select(WatchedChannel.relationship_id).distinct()):
            try:
                self.get(session, relationship_id)
            except ValueError as problem:  # loaded (and logged) on first use: the others are ready
                logger.warning(
                    "couldn't preload drift settings of relationship %s: %s",
                    relationship_id,
                    problem,
                )

    def forget(self, relationship_id: int) -> None:
        with self._lock:
            self._entries.pop(relationship_id, None)
