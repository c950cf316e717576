"""Each person's own say: in, out or paused (``/rapport intros me …`` and the *Count me in* /
*Not for me* buttons), and who is in for a round."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.intros.models import Choice, IntroPreference
from bot.relationships.models import Member, Relationship, Role, Side

MAX_PAUSE_WEEKS = 26


@dataclass(frozen=True)
class Participant:
    user_id: str
    side: Side
    role: Role
    team_id: str  # their home workspace, whose installation reaches them


def _preference(session: Session, relationship: Relationship, user_id: str) -> IntroPreference:
    """The person's row, made on first use; two clicks racing are settled by the database."""
    query = select(IntroPreference).where(
        IntroPreference.relationship_id == relationship.id, IntroPreference.user_id == user_id
    )
    found = session.scalar(query)
    if found is not None:
        return found
    home = session.scalar(  # their own workspace (the partner's, on a joint one's other side)
        select(Member.team_id).where(
            Member.relationship_id == relationship.id, Member.user_id == user_id
        )
    )
    try:
        with session.begin_nested():
            found = IntroPreference(
                team_id=home or relationship.team_id,
                relationship_id=relationship.id,
                user_id=user_id,
                left_slack=False,
            )
            session.add(found)
        return found
    except IntegrityError:
        return session.scalars(query).one()


def set_choice(session: Session, relationship: Relationship, user_id: str, choice: Choice) -> None:
    preference = _preference(session, relationship, user_id)
    preference.choice, preference.paused_until, preference.left_slack = choice, None, False


def pause(
    session: Session, relationship: Relationship, user_id: str, weeks: int, today: date
) -> date:
    """Leave the person out of rounds before the returned day."""
    preference = _preference(session, relationship, user_id)
    preference.choice, preference.left_slack = Choice.IN, False
    preference.paused_until = today + timedelta(weeks=weeks)
    return preference.paused_until


def preference_of(
    session: Session, relationship: Relationship, user_id: str
) -> IntroPreference | None:
    return session.scalar(
        select(IntroPreference).where(
            IntroPreference.relationship_id == relationship.id, IntroPreference.user_id == user_id
        )
    )


def participants(
    session: Session, relationship_id: int, day: date, default_in: bool
) -> list[Participant]:
    """Members who are in for the round on ``day``: said yes (or never answered, when owners
    count those in), not paused past it, and still in Slack."""
    rows = session.execute(
        select(Member.user_id, Member.side, Member.role, Member.team_id, IntroPreference)
        .outerjoin(
            IntroPreference,
            and_(
                IntroPreference.relationship_id == Member.relationship_id,
                IntroPreference.user_id == Member.user_id,
            ),
        )
        .where(Member.relationship_id == relationship_id)
        .order_by(Member.id)
    ).all()
    found = []
    for user_id, side, role, team_id, preference in rows:
        choice = preference.choice if preference is not None else None
        if choice is Choice.OUT or (choice is None and not default_in):
            continue
        if preference is not None and (
            preference.left_slack
            or (preference.paused_until is not None and preference.paused_until > day)
        ):
            continue
        found.append(Participant(user_id, side, role, team_id))
    return found


def mark_left_slack(session: Session, relationship_id: int, team_id: str, user_id: str) -> None:
    """Slack says the person is gone (``user_not_found``, ``account_inactive``): never paired
    again until they answer themselves."""
    relationship = session.get(Relationship, relationship_id)
    if relationship is None:
        return
    _preference(session, relationship, user_id).left_slack = True
