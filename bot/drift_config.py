"""A relationship's drift configuration (cue words, calming, thresholds), cached.

Read on every message in a watched channel but changed rarely, by owners. Each app holds its
own cache: changes made through it are forgotten at once; changes made by another process
show up within ``TTL_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.drift import CueSet, default_cues
from bot.drift_models import DEFAULTS, DriftCalming, DriftSettings, DriftWord, Thresholds
from bot.models import WatchedChannel

TTL_SECONDS = 30.0
CALMING_STEP = 0.6  # each "Not drift" press multiplies that cue kind's weight by this


@dataclass(frozen=True)
class DriftConfig:
    cues: CueSet
    calmed: dict[str, float]
    thresholds: Thresholds


def load_config(session: Session, relationship_id: int) -> DriftConfig:
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    words = session.scalars(select(DriftWord).where(DriftWord.relationship_id == relationship_id))
    for word in words:
        (added if word.added else removed).setdefault(word.kind, []).append(word.phrase)
    cues = default_cues().with_words(added, removed) if added or removed else default_cues()
    calmed = {
        calming.kind: CALMING_STEP**calming.presses
        for calming in session.scalars(
            select(DriftCalming).where(DriftCalming.relationship_id == relationship_id)
        )
    }
    row = session.get(DriftSettings, relationship_id)
    return DriftConfig(cues, calmed, row.thresholds() if row is not None else DEFAULTS)


class DriftConfigCache:
    def __init__(self, ttl_seconds: float = TTL_SECONDS):
        self._ttl = ttl_seconds
        self._entries: dict[int, tuple[float, DriftConfig]] = {}
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

    def warm(self, session: Session) -> None:
        """Load the configuration of every relationship that watches a channel, so that no
        Slack event waits while its cue set is compiled (about 0.2 s for each set of words)."""
        default_cues()
        for relationship_id in session.scalars(select(WatchedChannel.relationship_id).distinct()):
            self.get(session, relationship_id)

    def forget(self, relationship_id: int) -> None:
        with self._lock:
            self._entries.pop(relationship_id, None)
