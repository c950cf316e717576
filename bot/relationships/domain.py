"""Finding a relationship and checking who is in it: what every feature asks first.

Which relationship a command means (``resolve``), loading one by id within a workspace,
membership and owner checks, and who gets alerts. Functions take plain values and a
SQLAlchemy ``Session``; problems a person can fix raise ``RapportError`` (the errors every
feature raises) whose message is safe mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, String, bindparam, exists, or_, select, type_coerce
from sqlalchemy.orm import Session

from bot.core.db import columns, entity_rows
from bot.relationships.models import (
    CurrentRelationship,
    Member,
    Relationship,
    Role,
    Side,
    WatchedChannel,
)
from bot.slack import mrkdwn

NAME_MAX = 80


class RapportError(Exception):
    """A problem the person can fix; ``str(error)`` is safe to show them."""


class NotAllowed(RapportError):
    pass


class ChoiceNeeded(RapportError):
    """The person belongs to several relationships and we can't tell which they mean."""

    def __init__(self, message: str, choices: list[tuple[int, str]]):
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class Membership:
    relationship_id: int
    name: str
    client_org: str
    provider_org: str
    side: Side
    role: Role


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def length_problem(name: str, limit: int = NAME_MAX) -> str | None:
    """Why ``name`` won't fit, or None. Its case-folded key is stored too, and folding can
    lengthen text ("ß" becomes "ss"), so the key must fit the column as well."""
    if len(" ".join(name.split())) > limit:
        return f"Keep it under {limit} characters."
    if len(name_key(name)) > limit:
        return f"Keep it under {limit} characters (letters such as ß count twice)."
    return None


# The statements every command runs are built once, with their values as bound parameters:
# building a statement and its cache key costs more than SQLite takes to run it.
_MEMBERSHIPS = (
    select(
        Relationship.id,
        Relationship.name,
        Relationship.client_org,
        Relationship.provider_org,
        Member.side,
        Member.role,
    )
    .join(Member, Member.relationship_id == Relationship.id)
    .where(Member.team_id == bindparam("team_id"), Member.user_id == bindparam("user_id"))
    .order_by(Relationship.name_key)
)


def memberships(session: Session, team_id: str, user_id: str) -> list[Membership]:
    rows = columns(session, _MEMBERSHIPS, {"team_id": team_id, "user_id": user_id})
    return [Membership(*row) for row in rows]


# What a button or command naming a relationship by id hears when it isn't theirs: the same
# as for one that doesn't exist, so ids tried one by one reveal no name.
NOT_YOURS = "That relationship no longer exists, or you're not part of it."


def homed_in(team_id: str | ColumnElement[str]) -> ColumnElement[bool]:
    """Relationships ``team_id`` is a home workspace of: the one that created it, or the
    partner that joined it. ``team_id`` may be a ``bindparam``, in statements built once."""
    return or_(Relationship.team_id == team_id, Relationship.partner_team_id == team_id)


def get_relationship(session: Session, team_id: str, relationship_id: int) -> Relationship:
    """Load by id *within this workspace* (either home workspace of a joint relationship);
    ids from button values are never trusted alone."""
    rows = entity_rows(session, _HOMED, {"relationship_id": relationship_id, "team_id": team_id})
    if not rows:
        raise RapportError(NOT_YOURS)
    return rows[0][0]


_HOMED = select(Relationship).where(
    Relationship.id == bindparam("relationship_id"), homed_in(bindparam("team_id"))
)


def member_of(
    session: Session, team_id: str, relationship_id: int, user_id: str
) -> tuple[Relationship, Role]:
    """``get_relationship`` then ``require_member`` in one statement: the relationship by id
    within this workspace, and the person's role in it. Every button valued with a
    relationship id checks this, and every answer that comes after its ack checks it again;
    one that isn't there, isn't this workspace's or isn't theirs is refused alike."""
    rows = entity_rows(
        session,
        _HOMED_MEMBER,
        {"relationship_id": relationship_id, "team_id": team_id, "user_id": user_id},
    )
    if not rows:
        raise NotAllowed(NOT_YOURS)
    return rows[0][0], rows[0][1]


def owner_of(session: Session, team_id: str, relationship_id: int, user_id: str) -> Relationship:
    """``member_of``, for owners only (``require_owner``'s refusal otherwise)."""
    relationship, role = member_of(session, team_id, relationship_id, user_id)
    if role is not Role.OWNER:
        raise _not_owner(relationship)
    return relationship


# as require_member checks it: a member whatever their workspace (a joint relationship's
# partner side is homed in the other)
_HOMED_MEMBER = (
    select(Relationship, Member.role)
    .join(Member, Member.relationship_id == Relationship.id)
    .where(
        Relationship.id == bindparam("relationship_id"),
        homed_in(bindparam("team_id")),
        Member.user_id == bindparam("user_id"),
    )
)


# The relationships a person (``user_id`` of workspace ``team_id``) is a member of: the only
# ones a command may name or reach, so that for anyone else a relationship is
# indistinguishable from none. (A member's workspace is their home: the partner's, for the
# partner side of a joint relationship.)
# Each row also carries the person's role in it, so a command needs no second look-up.
_THEIRS = (
    select(Relationship, Member.role)
    .join(Member, Member.relationship_id == Relationship.id)
    .where(Member.team_id == bindparam("team_id"), Member.user_id == bindparam("user_id"))
)
_THEIRS_NAMED = _THEIRS.where(Relationship.name_key == bindparam("key"))
_THEIRS_LIKE = _THEIRS.where(
    Relationship.name_key.like(bindparam("pattern"), escape="\\")
).order_by(Relationship.name_key)
# Theirs, every one, each with whether it is watched in (or alerts to) the channel the
# command was typed in, whether it is the one they chose with ``/rapport use``, and whether
# this workspace is one of its homes: every way ``resolve`` finds a relationship but by
# name, in one round trip, wherever the command was typed (a direct message too).
_THEIRS_HERE = _THEIRS.add_columns(
    or_(
        Relationship.alerts_channel_id == bindparam("channel_id"),
        exists().where(
            WatchedChannel.relationship_id == Relationship.id,
            WatchedChannel.channel_id == bindparam("channel_id"),
        ),
    ).label("here"),
    exists()
    .where(
        CurrentRelationship.team_id == bindparam("team_id"),
        CurrentRelationship.user_id == bindparam("user_id"),
        CurrentRelationship.relationship_id == Relationship.id,
    )
    .label("chosen"),
    homed_in(bindparam("team_id")).label("homed"),
).order_by(Relationship.name_key)


class _Theirs(NamedTuple):
    """A row of ``_THEIRS_HERE``."""

    relationship: Relationship
    role: Role
    here: bool | None  # None: no channel to be in (a NULL compared)
    chosen: bool
    homed: bool


def _find_by_name(
    session: Session, team_id: str, user_id: str, name: str
) -> tuple[Relationship, Role]:
    person = {"team_id": team_id, "user_id": user_id}
    key = name_key(name)
    exact = entity_rows(session, _THEIRS_NAMED, {**person, "key": key})
    if exact:
        return exact[0][0], exact[0][1]
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    candidates = entity_rows(session, _THEIRS_LIKE, {**person, "pattern": pattern})
    if len(candidates) == 1:
        return candidates[0][0], candidates[0][1]
    if candidates:
        names = ", ".join(f"*{mrkdwn.escape(c.name)}*" for c, _ in candidates)
        raise RapportError(f"“{mrkdwn.escape(name)}” matches several relationships: {names}.")
    raise RapportError(
        f"I can't find a relationship called “{mrkdwn.escape(name)}”, or you're not part of "
        "it. `/rapport list` shows yours."
    )


def resolve(
    session: Session, team_id: str, user_id: str, channel_id: str | None, name: str | None
) -> tuple[Relationship, Role]:
    """Which relationship a command means, and the person's role in it: named > this
    channel's > the person's only one > the one they chose with ``/rapport use``; otherwise
    ask (``ChoiceNeeded``). Only relationships the person is a member of are ever found:
    this is every command's membership check, and a non-member's answer is the same as for a
    name nobody uses."""
    if name:
        return _find_by_name(session, team_id, user_id, name)
    theirs = [
        _Theirs(*row)
        for row in entity_rows(
            session,
            _THEIRS_HERE,
            {"team_id": team_id, "user_id": user_id, "channel_id": channel_id},
        )
    ]
    here = [row for row in theirs if row.here]
    if len(here) == 1:
        return here[0].relationship, here[0].role
    if not theirs:
        raise RapportError(
            "You're not part of a relationship yet. `/rapport setup` creates one, "
            "or ask an owner to add you."
        )
    meant = theirs if len(theirs) == 1 else [row for row in theirs if row.chosen]
    if meant:
        if not meant[0].homed:  # as ``get_relationship`` tells one of another workspace
            raise RapportError(NOT_YOURS)
        return meant[0].relationship, meant[0].role
    raise ChoiceNeeded(
        "You're in several relationships. Which one do you mean? "
        "Pick one, or add its name to the command.",
        [(row.relationship.id, row.relationship.name) for row in theirs],
    )


def use_relationship(
    session: Session, team_id: str, user_id: str, relationship_id: int
) -> Relationship:
    """Remember the relationship a person's commands act on when they're in several."""
    relationship, _ = member_of(session, team_id, relationship_id, user_id)
    current = session.get(CurrentRelationship, (team_id, user_id))
    if current is None:
        session.add(
            CurrentRelationship(team_id=team_id, user_id=user_id, relationship_id=relationship.id)
        )
    else:
        current.relationship_id = relationship.id
    return relationship


_MEMBER = select(Member).where(
    Member.relationship_id == bindparam("relationship_id"), Member.user_id == bindparam("user_id")
)


def find_member(session: Session, relationship: Relationship, user_id: str) -> Member | None:
    """Their membership: in a read session read straight and detached (``entity_rows``).
    Given only a relationship's id, ``member_of`` reads both in one statement."""
    rows = entity_rows(session, _MEMBER, {"relationship_id": relationship.id, "user_id": user_id})
    return rows[0][0] if rows else None


def is_owner(session: Session, relationship: Relationship, user_id: str) -> bool:
    member = find_member(session, relationship, user_id)
    return member is not None and member.role is Role.OWNER


def require_member(session: Session, relationship: Relationship, user_id: str) -> Member:
    member = find_member(session, relationship, user_id)
    if member is None:
        raise NotAllowed(NOT_YOURS)
    return member


def require_owner(session: Session, relationship: Relationship, user_id: str) -> Member:
    member = require_member(session, relationship, user_id)
    if member.role is not Role.OWNER:
        raise _not_owner(relationship)
    return member


def _not_owner(relationship: Relationship) -> NotAllowed:
    return NotAllowed(
        f"Only owners of *{mrkdwn.escape(relationship.name)}* can change it. "
        "`/rapport show` lists them if you'd like to ask one."
    )


def people(session: Session, relationship: Relationship) -> list[tuple[str, Side, Role]]:
    """Every member as (user id, side, role), in the order they joined."""
    rows = columns(session, _PEOPLE, {"relationship_id": relationship.id}).all()
    return [(user_id, SIDES_STORED[side], ROLES_STORED[role]) for user_id, side, role in rows]


# side and role read as the strings stored, looked up here: the enum types' own conversion
# of each of a large relationship's rows cost more than reading them
_PEOPLE = (
    select(Member.user_id, type_coerce(Member.side, String), type_coerce(Member.role, String))
    .where(Member.relationship_id == bindparam("relationship_id"))
    .order_by(Member.added_at, Member.id)
)
SIDES_STORED = {side.value: side for side in Side}  # as read from the database
ROLES_STORED = {role.value: role for role in Role}


def owners(session: Session, relationship: Relationship) -> list[str]:
    """The owners of both sides, in the order they joined."""
    return [user_id for user_id, _, role in people(session, relationship) if role is Role.OWNER]


def owners_on(session: Session, relationship: Relationship, side: Side) -> list[str]:
    """The owners of one side, in the order they joined."""
    return [
        user_id
        for user_id, their_side, role in people(session, relationship)
        if role is Role.OWNER and their_side is side
    ]


@dataclass(frozen=True)
class Recipient:
    """Where a message for owners goes, and whose installation takes it there."""

    team_id: str
    channel: str  # a channel id, or a user id for a DM


def alert_recipients(session: Session, relationship: Relationship) -> list[Recipient]:
    """Where alerts for owners go: the alerts channel, else each owner (both sides) by DM,
    each through their own workspace (a joint relationship's sides have one each)."""
    if relationship.alerts_channel_id:
        return [Recipient(relationship.team_id, relationship.alerts_channel_id)]
    return owner_recipients(session, relationship)


def owner_recipients(session: Session, relationship: Relationship) -> list[Recipient]:
    """Each owner of both sides, by DM through their own workspace, in the order they
    joined."""
    rows = session.execute(
        select(Member.team_id, Member.user_id)
        .where(Member.relationship_id == relationship.id, Member.role == Role.OWNER)
        .order_by(Member.added_at, Member.id)
    )
    return [Recipient(team_id, user_id) for team_id, user_id in rows]
