"""What the scheduler must send for a round: who still needs the prompt or a reminder,
and which closed rounds still await their alerts."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Exists, ScalarSelect, Select, and_, case, false, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bot.core.db import upsert_insert
from bot.core.occurrences import local_instant
from bot.pulse.anonymity import respondent_token
from bot.pulse.models import PulseAnswer, PulseRecipient, PulseRound, PulseSettings, RecipientStatus
from bot.pulse.rounds import round_questions
from bot.relationships.models import Member, Relationship, Role, Side


@dataclass(frozen=True)
class RoundToSend:
    round_id: int
    team_id: str
    relationship_id: int
    relationship_name: str
    questions: list[tuple[int, str]]
    day: date | None
    prompt_at: time
    opens_at: datetime
    closes_at: datetime
    reminds_from: datetime  # unanswered recipients are reminded once from then on

    def due_at(self, tz: ZoneInfo) -> datetime:
        if self.day is None:
            return self.opens_at
        return max(self.opens_at, local_instant(self.day, self.prompt_at, tz))


@dataclass(frozen=True)
class Person:
    user_id: str
    side: Side
    role: Role
    team_id: str  # their home workspace, whose installation prompts them


def round_to_send(pulse_round: PulseRound, name: str) -> RoundToSend:
    return RoundToSend(
        round_id=pulse_round.id,
        team_id=pulse_round.team_id,
        relationship_id=pulse_round.relationship_id,
        relationship_name=name,
        questions=round_questions(pulse_round),
        day=pulse_round.day,
        prompt_at=pulse_round.prompt_at,
        opens_at=pulse_round.opens_at,
        closes_at=pulse_round.closes_at,
        reminds_from=_reminds_from(pulse_round.closes_at, pulse_round.reminder_before_hours),
    )


def _reminds_from(closes_at: datetime, hours_before: int | None) -> datetime:
    return closes_at - timedelta(hours=hours_before or 24)


def _open_rounds(now: datetime, *columns: Any) -> Select:
    """Open rounds whose members are prompted and reminded: none of a paused relationship,
    even a round ad-hoc feedback opened ahead (that feedback still counts)."""
    return (
        select(*columns)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .outerjoin(PulseSettings, PulseSettings.relationship_id == PulseRound.relationship_id)
        .where(
            or_(PulseSettings.paused.is_(None), PulseSettings.paused.is_(False)),
            PulseRound.opens_at <= now,
            PulseRound.closes_at > now,
        )
        .order_by(PulseRound.id)
    )


def rounds_taking_answers(session: Session, now: datetime) -> list[RoundToSend]:
    rows = session.execute(_open_rounds(now, PulseRound, Relationship.name)).all()
    return [round_to_send(pulse_round, name) for pulse_round, name in rows]


def _unprompted(round_id: Any, relationship_id: Any, *columns: Any) -> Select:
    """The members of the relationship with no prompt of the round recorded yet, or whose
    prompt is still pending (the round's ids as values, or as a correlated query's columns)."""
    return (
        select(*columns)
        .outerjoin(
            PulseRecipient,
            and_(PulseRecipient.round_id == round_id, PulseRecipient.user_id == Member.user_id),
        )
        .where(
            Member.relationship_id == relationship_id,
            or_(PulseRecipient.id.is_(None), PulseRecipient.status == RecipientStatus.PENDING),
        )
    )


def _someone_unprompted() -> Exists:
    """Someone of the round's relationship still to prompt, for a query over rounds."""
    return _unprompted(PulseRound.id, PulseRound.relationship_id, Member.id).exists()


def _members_generation() -> ScalarSelect[int]:
    return (
        select(Relationship.member_generation)
        .where(Relationship.id == PulseRound.relationship_id)
        .scalar_subquery()
    )


def note_prompted_rounds(
    session: Session, now: datetime, round_ids: list[int] | None = None
) -> None:
    """Note on each open round (of ``round_ids``, or all) whose members all have their
    prompt (sent or failed) the relationship's member generation, in one statement, so that
    what it reads of the members and of the generation is one moment's: until someone is
    added (which counts a new generation), ``rounds_with_work`` needn't look through that
    round's members again."""
    chosen = () if round_ids is None else (PulseRound.id.in_(round_ids),)
    session.execute(
        update(PulseRound)
        .where(
            *chosen,
            PulseRound.opens_at <= now,
            PulseRound.closes_at > now,
            or_(
                PulseRound.prompted_generation.is_(None),
                PulseRound.prompted_generation != _members_generation(),
            ),
            ~_someone_unprompted(),
        )
        .values(prompted_generation=_members_generation())
        .execution_options(synchronize_session=False)
    )


def rounds_with_work(session: Session, now: datetime) -> list[RoundToSend]:
    """The scheduler's "what is due" for members, in one query: open rounds with a member
    not yet prompted (or whose prompt is pending), or, in their reminder period, a
    recipient not yet reminded. The members of a round noted as prompted
    (``note_prompted_rounds``) aren't looked through."""
    to_prompt = case(
        (PulseRound.prompted_generation == Relationship.member_generation, false()),
        else_=_someone_unprompted(),
    )
    unreminded = (
        select(PulseRecipient.id)
        .where(
            PulseRecipient.round_id == PulseRound.id,
            PulseRecipient.status == RecipientStatus.SENT,
            PulseRecipient.reminded.is_(False),
        )
        .exists()
    )
    rows = session.execute(
        _open_rounds(
            now,
            PulseRound.id,
            PulseRound.closes_at,
            PulseRound.reminder_before_hours,
            to_prompt,
            unreminded,
        )
    )
    due = [
        round_id
        for round_id, closes_at, hours_before, prompts_left, to_remind in rows
        if prompts_left or (to_remind and _reminds_from(closes_at, hours_before) <= now)
    ]
    if not due:  # the common case: the rounds with work are read whole, the others not
        return []
    found = session.execute(
        select(PulseRound, Relationship.name)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .where(PulseRound.id.in_(due))
        .order_by(PulseRound.id)
    )
    return [round_to_send(pulse_round, name) for pulse_round, name in found]


def member_workspaces(session: Session, relationship_ids: list[int]) -> dict[int, set[str]]:
    """The workspaces each relationship's members are in: its own, and for a joint one the
    other company's too."""
    found: dict[int, set[str]] = {}
    if relationship_ids:
        rows = session.execute(
            select(Member.relationship_id, Member.team_id)
            .where(Member.relationship_id.in_(relationship_ids))
            .distinct()
        )
        for relationship_id, team_id in rows:
            found.setdefault(relationship_id, set()).add(team_id)
    return found


def get_round_by_id(session: Session, round_id: int) -> RoundToSend:
    """For the scheduler, which found the id itself (no workspace check needed)."""
    row = session.execute(
        select(PulseRound, Relationship.name)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .where(PulseRound.id == round_id)
    ).one()
    return round_to_send(*row)


def unprompted_members(session: Session, round_id: int, relationship_id: int) -> list[Person]:
    """Current members with no prompt recorded yet, or whose prompt is still pending."""
    person = (Member.user_id, Member.side, Member.role, Member.team_id)
    rows = session.execute(
        _unprompted(round_id, relationship_id, *person).order_by(Member.id)
    ).all()
    return [Person(*row) for row in rows]


def mark_prompt(
    connection: Connection, round_id: int, person: Person, status: str, error: str | None
) -> None:
    """Record that ``person`` is a recipient of the round, and how their prompt went: one
    statement. Two schedulers may record the same person at once (one sent the prompt, the
    other found it claimed): a settled outcome (sent, failed) is never put back to pending.
    """
    connection.execute(
        _recipient_upsert(connection.dialect.name),
        {
            "team_id": person.team_id,
            "round_id": round_id,
            "user_id": person.user_id,
            "side": person.side,
            "role": person.role,
            "status": status,
            "error": error,
            "reminded": False,
        },
    )


@functools.cache
def _recipient_upsert(dialect: str) -> Insert:
    """Built once per dialect: the scheduler runs it for every prompt it sends."""
    statement = upsert_insert(dialect)(PulseRecipient)
    return statement.on_conflict_do_update(
        index_elements=["round_id", "user_id"],
        set_={"status": statement.excluded.status, "error": statement.excluded.error},
        where=or_(
            statement.excluded.status != RecipientStatus.PENDING,
            PulseRecipient.status == RecipientStatus.PENDING,
        ),
    )


def members_to_remind(session: Session, round_id: int) -> list[tuple[str, str]]:
    """Recipients who were prompted, not yet reminded, and haven't answered anything, as
    (user id, their workspace)."""
    pulse_round = session.get(PulseRound, round_id)
    assert pulse_round is not None
    answered = set(
        session.scalars(
            select(PulseAnswer.respondent).where(PulseAnswer.round_id == round_id).distinct()
        )
    )
    recipients = session.execute(
        select(PulseRecipient.user_id, PulseRecipient.team_id)
        .where(
            PulseRecipient.round_id == round_id,
            PulseRecipient.status == RecipientStatus.SENT,
            PulseRecipient.reminded.is_(False),
        )
        .order_by(PulseRecipient.id)
    ).all()
    return [
        (user_id, team_id)
        for user_id, team_id in recipients
        if respondent_token(pulse_round.secret, pulse_round.team_id, user_id) not in answered
    ]


def mark_reminded(session: Session, round_id: int, user_id: str) -> None:
    recipient = session.scalar(
        select(PulseRecipient).where(
            PulseRecipient.round_id == round_id, PulseRecipient.user_id == user_id
        )
    )
    if recipient is not None:
        recipient.reminded = True


def closed_rounds_awaiting_alerts(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(PulseRound.id)
            .where(PulseRound.closes_at <= now, PulseRound.alerts_done.is_(False))
            .order_by(PulseRound.closes_at, PulseRound.id)
        )
    )


def mark_alerts_done(session: Session, round_id: int) -> None:
    pulse_round = session.get(PulseRound, round_id)
    if pulse_round is not None:
        pulse_round.alerts_done = True
