"""Owners tune drift alerts per relationship: cue words, thresholds, the gentle nudge."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.drift.config import HIGHEST_BAR, DriftConfig, formal_bar, load_config
from bot.drift.cues import clean_word, word_key
from bot.drift.domain import Assessment, assess_learned, default_cues
from bot.drift.models import DriftSettings, DriftSignal, DriftWord
from bot.drift.retention import Excerpt, recent_excerpts
from bot.relationships import domain as rel
from bot.relationships.models import Relationship
from bot.slack import mrkdwn

MAX_WORDS = 200  # words owners can add to one relationship


@dataclass(frozen=True)
class Threshold:
    field: str
    low: float
    high: float
    percent: bool = False
    meaning: str = ""


THRESHOLDS = {
    "formal-share": Threshold(
        "formal_share", 5, 100, percent=True, meaning="share of formal messages that alerts"
    ),
    "min-formal": Threshold("min_formal", 1, 100, meaning="formal messages needed before alerting"),
    "unanswered-hours": Threshold(
        "unanswered_hours", 1, 168, meaning="hours before a formal request counts as unanswered"
    ),
    "min-unanswered": Threshold(
        "min_unanswered", 1, 50, meaning="unanswered formal requests that alert"
    ),
    "one-way": Threshold(
        "one_way_messages", 3, 500, meaning="messages from one side, none from the other"
    ),
    "window-days": Threshold("window_days", 1, 31, meaning="days in the rolling window"),
    "excerpt-days": Threshold(
        "excerpt_days",
        0,
        30,
        meaning="days the first 140 characters of formal messages are kept for owners (0: never)",
    ),
}


@dataclass(frozen=True)
class WordsOverview:
    counts: dict[str, int]  # kind -> words in force
    added: list[tuple[str, str]]  # (kind, phrase) owners added
    removed: list[tuple[str, str]]  # (kind, phrase) owners took out of the defaults
    kind: str | None = None  # the kind asked for, if any
    kind_words: tuple[str, ...] = ()  # ... and every word of it
    labels: dict[str, str] = field(default_factory=dict)  # kind -> how people call it


def _kind(kind: str) -> str:
    try:
        return default_cues().resolve_kind(kind.replace("-", "_").lower())
    except ValueError as error:
        raise rel.RapportError(mrkdwn.echo(str(error))) from error


def _phrase(phrase: str) -> str:
    if not phrase.strip():
        raise rel.RapportError(
            "Which words? e.g. `/rapport drift words add scope_dispute not in the SOW`"
        )
    try:
        return clean_word(phrase)  # the rule the cue loader applies to stored words
    except ValueError as error:
        raise rel.RapportError(f"“{mrkdwn.escape(phrase)}” can't be a cue word. {error}") from error


def _persisted_settings(session: Session, relationship: Relationship) -> DriftSettings:
    settings = session.get(DriftSettings, relationship.id)
    if settings is None:
        settings = DriftSettings(relationship_id=relationship.id, team_id=relationship.team_id)
        session.add(settings)
    return settings


def add_word(
    session: Session, relationship: Relationship, actor: str, kind: str, phrase: str
) -> tuple[str, int]:
    """Count ``phrase`` as ``kind`` in this relationship; returns the kind and how many more
    words it can add (``MAX_WORDS`` in all keep its cue set quick to build and list)."""
    rel.require_owner(session, relationship, actor)
    kind, phrase = _kind(kind), _phrase(phrase)
    session.execute(
        delete(DriftWord).where(
            DriftWord.relationship_id == relationship.id,
            DriftWord.kind == kind,
            DriftWord.phrase == phrase,
        )
    )
    added = session.scalar(
        select(func.count()).where(
            DriftWord.relationship_id == relationship.id, DriftWord.added.is_(True)
        )
    )
    if added >= MAX_WORDS:
        raise rel.RapportError(
            f"*{mrkdwn.escape(relationship.name)}* already has {added} words of its own, and "
            f"{MAX_WORDS} is the most a relationship can add, so none are left. "
            "`/rapport drift words remove <kind> <words>` frees a place."
        )
    session.add(
        DriftWord(
            team_id=relationship.team_id,
            relationship_id=relationship.id,
            kind=kind,
            phrase=phrase,
            added=True,
        )
    )
    return kind, MAX_WORDS - added - 1


def remove_word(
    session: Session, relationship: Relationship, actor: str, kind: str, phrase: str
) -> str:
    """Take out an owner's word, or switch off a default word for this relationship. A stored
    word is found as typed before the typing rule applies, so one that an older version let in
    (and the loader now skips) can still be removed and stop counting towards the limit."""
    rel.require_owner(session, relationship, actor)
    kind = _kind(kind)
    owned = session.scalar(
        select(DriftWord).where(
            DriftWord.relationship_id == relationship.id,
            DriftWord.kind == kind,
            DriftWord.phrase == " ".join(phrase.split()),
            DriftWord.added.is_(True),
        )
    )
    if owned is not None:
        session.delete(owned)
        return kind
    phrase = _phrase(phrase)
    defaults = {word_key(word): word for word in default_cues().words().get(kind, [])}
    key = word_key(phrase)
    # a word matches its plural too, so switching off either form switches off both
    forms = [defaults[form] for form in {key, key + "s", key.removesuffix("s")} if form in defaults]
    if not forms:
        raise rel.RapportError(
            f"“{mrkdwn.escape(phrase)}” isn't a {kind} cue here. "
            f"`/rapport drift words list {kind}` shows them."
        )
    already_off = set(
        session.scalars(
            select(DriftWord.phrase).where(
                DriftWord.relationship_id == relationship.id,
                DriftWord.kind == kind,
                DriftWord.phrase.in_(forms),
            )
        )
    )
    for form in sorted(set(forms) - already_off):
        session.add(
            DriftWord(
                team_id=relationship.team_id,
                relationship_id=relationship.id,
                kind=kind,
                phrase=form,
                added=False,
            )
        )
    return kind


def words_overview(
    session: Session,
    relationship: Relationship,
    kind: str | None,
    config: DriftConfig | None = None,
) -> WordsOverview:
    """The cue words of each kind, with the owners' changes; ``config`` when it is loaded."""
    config = config or load_config(session, relationship.id)
    cues = config.cues
    words = cues.words()
    kind = _kind(kind) if kind else None
    return WordsOverview(
        counts={name: len(phrases) for name, phrases in words.items()},
        added=[(word_kind, phrase) for word_kind, phrase, added in config.changes if added],
        removed=[(word_kind, phrase) for word_kind, phrase, added in config.changes if not added],
        kind=kind,
        kind_words=tuple(words.get(kind, [])) if kind else (),
        labels=dict(cues.labels),
    )


def try_message(session: Session, relationship: Relationship, actor: str, text: str) -> Assessment:
    """How this relationship's cues, calming and feedback score ``text``, for a member trying
    wording out. Nothing is stored."""
    rel.require_member(session, relationship, actor)
    config = load_config(session, relationship.id)
    return assess_learned(text, config.cues, config.calmed, config.shift)


def set_nudge(session: Session, relationship: Relationship, actor: str, on: bool) -> None:
    rel.require_owner(session, relationship, actor)
    _persisted_settings(session, relationship).nudge = on


def set_include_bots(session: Session, relationship: Relationship, actor: str, on: bool) -> None:
    """Whether other bots' messages (integrations posting tickets, say) count as talk."""
    rel.require_owner(session, relationship, actor)
    _persisted_settings(session, relationship).include_bots = on


def excerpts(session: Session, relationship: Relationship, actor: str) -> list[Excerpt]:
    """Kept excerpts of formal messages, for owners only (and only if they opted in)."""
    rel.require_owner(session, relationship, actor)
    return recent_excerpts(session, relationship.id)


def set_threshold(
    session: Session, relationship: Relationship, actor: str, name: str, value: str
) -> str:
    """Change one threshold; returns how it now reads, e.g. "formal-share 30%"."""
    rel.require_owner(session, relationship, actor)
    threshold = THRESHOLDS.get(name.lower())
    if threshold is None:
        raise rel.RapportError(
            f"I don't know the setting “{mrkdwn.echo(name)}”. Settings: "
            + ", ".join(f"`{key}`" for key in THRESHOLDS)
        )
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        number = float("nan")
    if not threshold.low <= number <= threshold.high:
        unit = "%" if threshold.percent else ""
        raise rel.RapportError(
            f"`{name}` takes a number from {threshold.low:g}{unit} to {threshold.high:g}{unit}."
        )
    stored = number / 100 if threshold.percent else int(number)
    setattr(_persisted_settings(session, relationship), threshold.field, stored)
    if threshold.field == "excerpt_days" and stored == 0:  # switched off: forget them now
        session.execute(
            update(DriftSignal)
            .where(DriftSignal.relationship_id == relationship.id)
            .values(excerpt=None),
            execution_options={"synchronize_session": False},
        )
    return f"{name} {number:g}{'%' if threshold.percent else ''}"


def settings_overview(
    session: Session, relationship: Relationship
) -> tuple[dict[str, str], WordsOverview]:
    """What ``/rapport drift`` shows, from one load of the configuration."""
    config = load_config(session, relationship.id)
    return current_settings(config), words_overview(session, relationship, None, config)


def current_settings(config: DriftConfig) -> dict[str, str]:
    """The thresholds and feedback of a loaded configuration, as ``/rapport drift`` shows them."""
    settings = config.thresholds
    shown = {
        "nudge": "on" if settings.nudge else "off",
        "bots": "counted" if settings.include_bots else "ignored",
    }
    for name, threshold in THRESHOLDS.items():
        value = getattr(settings, threshold.field)
        shown[name] = f"{value * 100:g}%" if threshold.percent else f"{value:g}"
    presses = config.feedback
    shown["feedback"] = str(presses)
    shown["formal_bar"] = f"{formal_bar(presses):.2f}"
    shown["highest_bar"] = f"{HIGHEST_BAR:.2f}"
    return shown
