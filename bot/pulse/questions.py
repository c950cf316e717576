"""The questions a pulse asks: the default one, or up to ``MAX_QUESTIONS`` owners set."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.pulse.models import PulseQuestion
from bot.relationships.domain import RapportError, require_owner
from bot.relationships.models import Relationship

DEFAULT_QUESTION = "How well is the partnership working for you this week?"
DEFAULT_QUESTION_KEY = 0
MAX_QUESTIONS = 5
QUESTION_MAX = 200


def questions(session: Session, relationship: Relationship) -> list[tuple[int, str]]:
    """(key, text) of the questions a new round asks; the default one when none is set."""
    rows = session.execute(
        select(PulseQuestion.id, PulseQuestion.text)
        .where(PulseQuestion.relationship_id == relationship.id)
        .order_by(PulseQuestion.id)
    ).all()
    return [(key, text) for key, text in rows] or [(DEFAULT_QUESTION_KEY, DEFAULT_QUESTION)]


def add_question(
    session: Session, relationship: Relationship, actor: str, text: str, now: datetime
) -> list[tuple[int, str]]:
    require_owner(session, relationship, actor)
    text = " ".join(text.split())
    if not text:
        raise RapportError("What should I ask? e.g. `/pulse questions add How is communication?`")
    if len(text) > QUESTION_MAX:
        raise RapportError(f"Keep a question under {QUESTION_MAX} characters.")
    configured = session.scalar(
        select(func.count())
        .select_from(PulseQuestion)
        .where(PulseQuestion.relationship_id == relationship.id)
    )
    if configured == 0:  # the default question becomes the first of the set
        session.add(_question(relationship, DEFAULT_QUESTION, now))
        configured = 1
    if configured >= MAX_QUESTIONS:
        raise RapportError(
            f"A pulse asks at most {MAX_QUESTIONS} questions, so it stays quick. "
            "Remove one first with `/pulse questions remove <number>`."
        )
    session.add(_question(relationship, text, now))
    session.flush()
    return questions(session, relationship)


def _question(relationship: Relationship, text: str, now: datetime) -> PulseQuestion:
    return PulseQuestion(
        team_id=relationship.team_id, relationship_id=relationship.id, text=text, created_at=now
    )


def remove_question(
    session: Session, relationship: Relationship, actor: str, number: int
) -> tuple[str, list[tuple[int, str]]]:
    """Remove the ``number``-th question (1-based); rounds already open keep asking it."""
    require_owner(session, relationship, actor)
    current = questions(session, relationship)
    if not 1 <= number <= len(current):
        raise RapportError(
            f"There's no question {number}. `/pulse questions` lists them with their numbers."
        )
    key, text = current[number - 1]
    if key == DEFAULT_QUESTION_KEY or len(current) == 1:
        raise RapportError("A pulse needs at least one question. Add another before removing it.")
    session.delete(session.get(PulseQuestion, key))
    session.flush()
    return text, questions(session, relationship)
