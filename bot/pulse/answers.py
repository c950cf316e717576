"""Anonymous answers: scores and comments from the prompt's buttons, the comment modal and
``/pulse`` feedback, and what a person sees of their own.

Answers are stored under a respondent token (``bot.pulse.anonymity``), never a user id.
Problems a person can fix raise ``RapportError`` whose message is safe mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.pulse.anonymity import respondent_token
from bot.pulse.models import PulseAnswer, PulseComment, PulseRound
from bot.pulse.prompts import RoundToSend, round_to_send
from bot.pulse.rounds import is_closed, round_for_feedback, round_questions
from bot.relationships.domain import NotAllowed, RapportError, homed_in
from bot.relationships.models import Member, Relationship, Role, Side

COMMENT_MAX = 2000
SCORES = range(1, 6)


class RoundClosed(RapportError):
    """The round behind a button has closed; answers are no longer taken."""


def _membership(session: Session, relationship_id: int, user_id: str) -> Member:
    member = session.scalar(
        select(Member).where(Member.relationship_id == relationship_id, Member.user_id == user_id)
    )
    if member is None:
        raise NotAllowed(
            "This survey is for members of a relationship you're not part of, so I didn't "
            "record anything."
        )
    return member


def _answerable(session: Session, team_id: str, user_id: str, round_id: int, now: datetime):
    pulse_round = session.scalar(_round_in(team_id, round_id))
    if pulse_round is None:
        raise RapportError("That survey no longer exists.")
    member = _membership(session, pulse_round.relationship_id, user_id)
    if is_closed(pulse_round, now):
        raise RoundClosed(
            "Thanks for wanting to answer! This round has closed, so answers aren't counted "
            "any more. The next one will come to you as usual."
        )
    return pulse_round, member, respondent_token(pulse_round.secret, pulse_round.team_id, user_id)


def _round_in(team_id: str, round_id: int) -> Select[tuple[PulseRound]]:
    """The round, if it is a relationship's of this workspace: either home workspace of a
    joint relationship, whose people answer from their own."""
    return (
        select(PulseRound)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .where(PulseRound.id == round_id, homed_in(team_id))
    )


@dataclass(frozen=True)
class MyAnswers:
    """What one person sees about their own answers, right after giving one."""

    round: RoundToSend
    scores: dict[int, int]  # question key -> score
    commented: bool


def record_answer(
    session: Session,
    team_id: str,
    user_id: str,
    round_id: int,
    question_key: int,
    score: int,
    now: datetime,
) -> MyAnswers:
    """Store (or replace) a score; checks membership in that workspace and that it's open."""
    pulse_round, member, token = _answerable(session, team_id, user_id, round_id, now)
    if question_key not in {key for key, _ in round_questions(pulse_round)}:
        raise RapportError("That question isn't part of this round any more.")
    if score not in SCORES:
        raise RapportError("Pick a score from 1 to 5.")
    _store_score(session, pulse_round, member, token, question_key, score)
    return my_answers(session, team_id, user_id, round_id)


def _store_score(
    session: Session,
    pulse_round: PulseRound,
    member: Member,
    token: str,
    question_key: int,
    score: int,
) -> None:
    def existing() -> PulseAnswer | None:
        return session.scalar(
            select(PulseAnswer).where(
                PulseAnswer.round_id == pulse_round.id,
                PulseAnswer.question_key == question_key,
                PulseAnswer.respondent == token,
            )
        )

    answer = existing()
    if answer is None:
        side, role = _round_group(session, pulse_round.id, token, member)
        try:
            with session.begin_nested():
                session.add(
                    PulseAnswer(
                        team_id=pulse_round.team_id,
                        round_id=pulse_round.id,
                        question_key=question_key,
                        respondent=token,
                        side=side,
                        role=role,
                        score=score,
                    )
                )
            return
        except IntegrityError:  # a double click raced us: replace instead
            answer = existing()
            assert answer is not None
    answer.score = score
    session.flush()


def _round_group(session: Session, round_id: int, token: str, member: Member) -> tuple[Side, Role]:
    """The side and role a respondent counts under for the whole round, fixed by their first
    answer (the side by a comment, if that came first). Someone moved to another side or
    role mid-round stays one person in one group, so no group looks bigger than it is."""
    answered = session.execute(
        select(PulseAnswer.side, PulseAnswer.role)
        .where(PulseAnswer.round_id == round_id, PulseAnswer.respondent == token)
        .limit(1)
    ).first()
    if answered is not None:
        return answered.side, answered.role
    commented = session.scalar(
        select(PulseComment.side).where(
            PulseComment.round_id == round_id, PulseComment.respondent == token
        )
    )
    return commented or member.side, member.role


def record_comment(
    session: Session, team_id: str, user_id: str, round_id: int, text: str, now: datetime
) -> MyAnswers:
    pulse_round, member, token = _answerable(session, team_id, user_id, round_id, now)
    _store_comment(session, pulse_round, member, token, text)
    return my_answers(session, team_id, user_id, round_id)


def _store_comment(
    session: Session, pulse_round: PulseRound, member: Member, token: str, text: str
) -> None:
    text = text.strip()
    if not text:
        return
    if len(text) > COMMENT_MAX:
        raise RapportError(f"Keep your comment under {COMMENT_MAX} characters.")
    comment = session.scalar(
        select(PulseComment).where(
            PulseComment.round_id == pulse_round.id, PulseComment.respondent == token
        )
    )
    if comment is None:
        session.add(
            PulseComment(
                team_id=pulse_round.team_id,
                round_id=pulse_round.id,
                respondent=token,
                side=_round_group(session, pulse_round.id, token, member)[0],
                text=text,
            )
        )
    else:
        comment.text = text
    session.flush()


def give_feedback(
    session: Session,
    team_id: str,
    user_id: str,
    relationship: Relationship,
    score: int,
    comment: str,
    now: datetime,
) -> RoundToSend:
    """``/pulse`` without arguments: a score for the first question (and maybe a comment),
    counted in the open round or the next one."""
    _membership(session, relationship.id, user_id)
    if score not in SCORES:
        raise RapportError("Pick a score from 1 to 5.")
    pulse_round = round_for_feedback(session, relationship, now)
    pulse_round, member, token = _answerable(session, team_id, user_id, pulse_round.id, now)
    first_key = round_questions(pulse_round)[0][0]
    _store_score(session, pulse_round, member, token, first_key, score)
    _store_comment(session, pulse_round, member, token, comment)
    return round_to_send(pulse_round, relationship.name)


def my_answers_if_open(
    session: Session, team_id: str, user_id: str, round_id: int, now: datetime
) -> MyAnswers:
    """The person's own answers, after checking they may still answer this round."""
    _answerable(session, team_id, user_id, round_id, now)
    return my_answers(session, team_id, user_id, round_id)


def my_answers(session: Session, team_id: str, user_id: str, round_id: int) -> MyAnswers:
    row = session.execute(_round_in(team_id, round_id).add_columns(Relationship.name)).one()
    pulse_round, name = row
    token = respondent_token(pulse_round.secret, pulse_round.team_id, user_id)
    scores = dict(
        session.execute(
            select(PulseAnswer.question_key, PulseAnswer.score).where(
                PulseAnswer.round_id == round_id, PulseAnswer.respondent == token
            )
        ).all()
    )
    commented = session.scalar(
        select(exists().where(PulseComment.round_id == round_id, PulseComment.respondent == token))
    )
    return MyAnswers(round_to_send(pulse_round, name), scores, bool(commented))
