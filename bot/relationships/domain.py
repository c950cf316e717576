"""Relationships between a client and a provider: members, sides, roles and channels.

Functions take plain values and a SQLAlchemy ``Session`` and return plain values or ORM
rows. Problems a person can fix raise ``RapportError`` whose message is safe mrkdwn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, delete, func, or_, select, true
from sqlalchemy.orm import Session

from bot.relationships.models import (
    CurrentRelationship,
    Member,
    OrganisationSide,
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
class RelationshipDraft:
    """What the set-up modal collects."""

    name: str
    client_org: str
    provider_org: str
    creator_side: Side
    client_owners: tuple[str, ...] = ()
    client_members: tuple[str, ...] = ()
    provider_owners: tuple[str, ...] = ()
    provider_members: tuple[str, ...] = ()
    watched_channels: tuple[str, ...] = ()
    alerts_channel: str | None = None

    def people(self, creator: str) -> dict[str, tuple[Side, Role]]:
        """Everyone named, with side and role; owners win over plain membership."""
        people: dict[str, tuple[Side, Role]] = {}
        for side, members, owners in (
            (Side.CLIENT, self.client_members, self.client_owners),
            (Side.PROVIDER, self.provider_members, self.provider_owners),
        ):
            for user_id in members:
                people[user_id] = (side, Role.FRONTLINE)
            for user_id in owners:
                people[user_id] = (side, Role.OWNER)
        people[creator] = (self.creator_side, Role.OWNER)
        return people


@dataclass(frozen=True)
class Membership:
    relationship_id: int
    name: str
    client_org: str
    provider_org: str
    side: Side
    role: Role


@dataclass(frozen=True)
class RelationshipSummary:
    id: int
    name: str
    client_org: str
    provider_org: str
    people: dict[Side, dict[Role, list[str]]]
    watched_channels: list[str]
    alerts_channel: str | None
    organisations: list[tuple[str, Side]] = field(default_factory=list)


@dataclass(frozen=True)
class MemberChange:
    user_id: str
    outcome: str  # "added", "updated", "unchanged", "removed", "not a member"


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


def _named(session: Session, team_id: str, name: str) -> Relationship | None:
    return session.scalar(
        select(Relationship).where(
            Relationship.team_id == team_id, Relationship.name_key == name_key(name)
        )
    )


def validate_draft(
    session: Session, team_id: str, creator: str, draft: RelationshipDraft
) -> dict[str, str]:
    """Problems with a draft, keyed by field name; empty when it can be created.

    The messages are plain text without mentions: Slack shows modal field errors literally.
    """
    errors: dict[str, str] = {}
    for field_name, value in (
        ("name", draft.name),
        ("client_org", draft.client_org),
        ("provider_org", draft.provider_org),
    ):
        if not value.strip():
            errors[field_name] = "This can't be empty."
        elif problem := length_problem(value):
            errors[field_name] = problem
    if "name" not in errors and _named(session, team_id, draft.name) is not None:
        errors["name"] = "A relationship with this name already exists here. Pick another name."

    fields = {
        Side.CLIENT: {"client_members": draft.client_members, "client_owners": draft.client_owners},
        Side.PROVIDER: {
            "provider_members": draft.provider_members,
            "provider_owners": draft.provider_owners,
        },
    }
    on_side = {side: set().union(*lists.values()) for side, lists in fields.items()}
    on_side[draft.creator_side].add(creator)
    both = on_side[Side.CLIENT] & on_side[Side.PROVIDER]
    if both:  # shown under the first list of the side the creator isn't on that holds them
        other = Side.PROVIDER if draft.creator_side is Side.CLIENT else Side.CLIENT
        field_name = next(name for name, users in fields[other].items() if both & set(users))
        who = "Someone is" if len(both) == 1 else f"{len(both)} people are"
        message = f"{who} on both the client and the provider side — pick each person once."
        if creator in both:
            message += f" You're on the {draft.creator_side.value} side, as you chose above."
        errors[field_name] = message
    for side, owners, field_name in (
        (Side.CLIENT, draft.client_owners, "client_owners"),
        (Side.PROVIDER, draft.provider_owners, "provider_owners"),
    ):
        if not owners and draft.creator_side is not side:
            errors.setdefault(
                field_name,
                f"Add at least one {side.value} owner: owners on both sides get alerts.",
            )

    taken = _watched_elsewhere(session, team_id, list(draft.watched_channels))
    if taken:
        which, it = (
            ("One of these channels is", "it")
            if len(taken) == 1
            else (f"{len(taken)} of these channels are", "them")
        )
        errors["watched_channels"] = (
            f"{which} already watched for another relationship: leave {it} out, or "
            f"unwatch {it} there first."
        )
    elif _alerts_elsewhere(session, team_id, list(draft.watched_channels)):
        errors["watched_channels"] = (
            "Another relationship's owners get their alerts in one of these channels: "
            "leave it out, and pick the channel where both sides talk."
        )
    alerts = [draft.alerts_channel] if draft.alerts_channel else []
    if _watched_elsewhere(session, team_id, alerts):
        errors["alerts_channel"] = (
            "Another relationship watches this channel, so alerts can't go there. "
            "Pick another channel, or leave it empty to send alerts by DM."
        )
    return errors


def create_relationship(
    session: Session, team_id: str, creator: str, draft: RelationshipDraft, now: datetime
) -> Relationship:
    """Create a validated draft; the creator becomes an owner on their side."""
    errors = validate_draft(session, team_id, creator, draft)
    if errors:
        raise RapportError(" ".join(errors.values()))
    name = " ".join(draft.name.split())
    relationship = Relationship(
        team_id=team_id,
        name=name,
        name_key=name_key(name),
        client_org=draft.client_org.strip(),
        provider_org=draft.provider_org.strip(),
        alerts_channel_id=draft.alerts_channel,
        created_by=creator,
        created_at=now,
    )
    for user_id, (side, role) in draft.people(creator).items():
        relationship.members.append(
            Member(team_id=team_id, user_id=user_id, side=side, role=role, added_at=now)
        )
    for channel_id in dict.fromkeys(draft.watched_channels):
        relationship.channels.append(
            WatchedChannel(team_id=team_id, channel_id=channel_id, added_at=now)
        )
    session.add(relationship)
    session.flush()
    return relationship


def memberships(session: Session, team_id: str, user_id: str) -> list[Membership]:
    rows = session.execute(
        select(Relationship, Member)
        .join(Member, Member.relationship_id == Relationship.id)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .order_by(Relationship.name_key)
    ).all()
    return [
        Membership(rel.id, rel.name, rel.client_org, rel.provider_org, member.side, member.role)
        for rel, member in rows
    ]


# What a button or command naming a relationship by id hears when it isn't theirs: the same
# as for one that doesn't exist, so ids tried one by one reveal no name.
NOT_YOURS = "That relationship no longer exists, or you're not part of it."


def get_relationship(session: Session, team_id: str, relationship_id: int) -> Relationship:
    """Load by id *within this workspace*; ids from button values are never trusted alone."""
    relationship = session.scalar(
        select(Relationship).where(
            Relationship.id == relationship_id, Relationship.team_id == team_id
        )
    )
    if relationship is None:
        raise RapportError(NOT_YOURS)
    return relationship


def _theirs(team_id: str, user_id: str) -> Select[tuple[Relationship]]:
    """The relationships ``user_id`` is a member of: the only ones a command may name or
    reach, so that for anyone else a relationship is indistinguishable from none."""
    return (
        select(Relationship)
        .join(Member, Member.relationship_id == Relationship.id)
        .where(Relationship.team_id == team_id, Member.user_id == user_id)
    )


def _find_by_name(session: Session, team_id: str, user_id: str, name: str) -> Relationship:
    mine = _theirs(team_id, user_id)
    exact = session.scalar(mine.where(Relationship.name_key == name_key(name)))
    if exact is not None:
        return exact
    key = name_key(name)
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    candidates = session.scalars(
        mine.where(Relationship.name_key.like(pattern, escape="\\")).order_by(Relationship.name_key)
    ).all()
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(f"*{mrkdwn.escape(c.name)}*" for c in candidates)
        raise RapportError(f"“{mrkdwn.escape(name)}” matches several relationships: {names}.")
    raise RapportError(
        f"I can't find a relationship called “{mrkdwn.escape(name)}”, or you're not part of "
        "it. `/rapport list` shows yours."
    )


def resolve(
    session: Session, team_id: str, user_id: str, channel_id: str | None, name: str | None
) -> Relationship:
    """Which relationship a command means: named > this channel's > the person's only one >
    the one they chose with ``/rapport use``; otherwise ask (``ChoiceNeeded``). Only
    relationships the person is a member of are ever found: this is every command's
    membership check, and a non-member's answer is the same as for a name nobody uses."""
    if name:
        return _find_by_name(session, team_id, user_id, name)
    if channel_id:
        by_channel = session.scalars(
            _theirs(team_id, user_id)
            .outerjoin(WatchedChannel, WatchedChannel.relationship_id == Relationship.id)
            .where(
                or_(
                    WatchedChannel.channel_id == channel_id,
                    Relationship.alerts_channel_id == channel_id,
                ),
            )
            .distinct()
        ).all()
        if len(by_channel) == 1:
            return by_channel[0]
    mine = memberships(session, team_id, user_id)
    if len(mine) == 1:
        return get_relationship(session, team_id, mine[0].relationship_id)
    if not mine:
        raise RapportError(
            "You're not part of a relationship yet. `/rapport setup` creates one, "
            "or ask an owner to add you."
        )
    chosen = session.get(CurrentRelationship, (team_id, user_id))
    if chosen is not None and any(m.relationship_id == chosen.relationship_id for m in mine):
        return get_relationship(session, team_id, chosen.relationship_id)
    raise ChoiceNeeded(
        "You're in several relationships. Which one do you mean? "
        "Pick one, or add its name to the command.",
        [(m.relationship_id, m.name) for m in mine],
    )


def use_relationship(
    session: Session, team_id: str, user_id: str, relationship_id: int
) -> Relationship:
    """Remember the relationship a person's commands act on when they're in several."""
    relationship = get_relationship(session, team_id, relationship_id)
    require_member(session, relationship, user_id)
    current = session.get(CurrentRelationship, (team_id, user_id))
    if current is None:
        session.add(
            CurrentRelationship(team_id=team_id, user_id=user_id, relationship_id=relationship.id)
        )
    else:
        current.relationship_id = relationship.id
    return relationship


def _member(session: Session, relationship: Relationship, user_id: str) -> Member | None:
    return session.scalar(
        select(Member).where(Member.relationship_id == relationship.id, Member.user_id == user_id)
    )


def is_owner(session: Session, relationship: Relationship, user_id: str) -> bool:
    member = _member(session, relationship, user_id)
    return member is not None and member.role is Role.OWNER


def require_member(session: Session, relationship: Relationship, user_id: str) -> Member:
    member = _member(session, relationship, user_id)
    if member is None:
        raise NotAllowed(NOT_YOURS)
    return member


def require_owner(session: Session, relationship: Relationship, user_id: str) -> None:
    if require_member(session, relationship, user_id).role is not Role.OWNER:
        raise NotAllowed(
            f"Only owners of *{mrkdwn.escape(relationship.name)}* can change it. "
            "`/rapport show` lists them if you'd like to ask one."
        )


def _owner_count(session: Session, relationship: Relationship, side: Side) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Member)
            .where(
                Member.relationship_id == relationship.id,
                Member.side == side,
                Member.role == Role.OWNER,
            )
        )
        or 0
    )


def _guard_last_owner(session: Session, relationship: Relationship, member: Member) -> None:
    if member.role is Role.OWNER and _owner_count(session, relationship, member.side) == 1:
        raise RapportError(
            f"<@{member.user_id}> is the last {member.side.value} owner of "
            f"*{mrkdwn.escape(relationship.name)}*. Make someone else a {member.side.value} "
            "owner first: both sides need an owner to receive alerts."
        )


def add_members(
    session: Session,
    relationship: Relationship,
    actor: str,
    user_ids: Iterable[str],
    side: Side,
    role: Role,
    now: datetime,
) -> list[MemberChange]:
    """Add people (or change their side/role); owners only."""
    require_owner(session, relationship, actor)
    changes = []
    for user_id in dict.fromkeys(user_ids):
        member = _member(session, relationship, user_id)
        if member is None:
            session.add(
                Member(
                    team_id=relationship.team_id,
                    relationship_id=relationship.id,
                    user_id=user_id,
                    side=side,
                    role=role,
                    added_at=now,
                )
            )
            changes.append(MemberChange(user_id, "added"))
        elif (member.side, member.role) == (side, role):
            changes.append(MemberChange(user_id, "unchanged"))
        else:
            if member.side is not side or role is not Role.OWNER:
                _guard_last_owner(session, relationship, member)
            member.side, member.role = side, role
            changes.append(MemberChange(user_id, "updated"))
        session.flush()
    return changes


def remove_members(
    session: Session, relationship: Relationship, actor: str, user_ids: Iterable[str]
) -> list[MemberChange]:
    require_owner(session, relationship, actor)
    changes = []
    for user_id in dict.fromkeys(user_ids):
        member = _member(session, relationship, user_id)
        if member is None:
            changes.append(MemberChange(user_id, "not a member"))
            continue
        _guard_last_owner(session, relationship, member)
        session.delete(member)
        session.flush()
        changes.append(MemberChange(user_id, "removed"))
    return changes


def watch_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str, now: datetime
) -> bool:
    """Start watching; returns False when this relationship already watches it."""
    if not may_watch(session, relationship, actor, channel_id):
        return False
    relationship.channels.append(
        WatchedChannel(team_id=relationship.team_id, channel_id=channel_id, added_at=now)
    )
    session.flush()
    return True


def may_watch(session: Session, relationship: Relationship, actor: str, channel_id: str) -> bool:
    """Whether ``actor`` may have ``relationship`` watch the channel: False when it already
    does; ``RapportError`` when it is another relationship's watched or alerts channel.
    Membership of the channel is Slack's to say (``bot.slack.channels``)."""
    require_owner(session, relationship, actor)
    existing = session.scalar(
        select(WatchedChannel).where(
            WatchedChannel.team_id == relationship.team_id,
            WatchedChannel.channel_id == channel_id,
        )
    )
    if existing is not None:
        if existing.relationship_id == relationship.id:
            return False
        raise RapportError(
            f"<#{channel_id}> is already watched for "
            f"*{mrkdwn.escape(existing.relationship.name)}*. A channel can belong to one "
            "relationship; unwatch it there first."
        )
    if _alerts_elsewhere(session, relationship.team_id, [channel_id], relationship.id):
        raise RapportError(
            f"<#{channel_id}> is where another relationship's owners get their alerts, so I "
            "won't watch it. Pick the channel where both sides talk."
        )
    return True


def _alerts_elsewhere(
    session: Session, team_id: str, channel_ids: list[str], relationship_id: int | None = None
) -> list[str]:
    """Those of ``channel_ids`` that are the alerts channel of another relationship."""
    others = Relationship.id != relationship_id if relationship_id is not None else true()
    found = select(Relationship.alerts_channel_id).where(
        Relationship.team_id == team_id, Relationship.alerts_channel_id.in_(channel_ids), others
    )
    return list(dict.fromkeys(session.scalars(found)))


def _watched_elsewhere(
    session: Session, team_id: str, channel_ids: list[str], relationship_id: int | None = None
) -> list[str]:
    """Those of ``channel_ids`` that another relationship watches."""
    others = (
        WatchedChannel.relationship_id != relationship_id if relationship_id is not None else true()
    )
    found = select(WatchedChannel.channel_id).where(
        WatchedChannel.team_id == team_id, WatchedChannel.channel_id.in_(channel_ids), others
    )
    return list(session.scalars(found))


def unwatch_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str
) -> bool:
    """Stop watching; returns False when the channel wasn't watched."""
    require_owner(session, relationship, actor)
    result = session.execute(
        delete(WatchedChannel).where(
            WatchedChannel.relationship_id == relationship.id,
            WatchedChannel.channel_id == channel_id,
        )
    )
    return bool(result.rowcount)


def set_alerts_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str
) -> None:
    check_alerts_channel(session, relationship, actor, channel_id)
    relationship.alerts_channel_id = channel_id


def check_alerts_channel(
    session: Session, relationship: Relationship, actor: str, channel_id: str
) -> None:
    """``RapportError`` unless ``actor`` may send ``relationship``'s alerts to the channel:
    never one another relationship watches, where that relationship's people would read
    them. Membership of the channel is Slack's to say (``bot.slack.channels``)."""
    require_owner(session, relationship, actor)
    if _watched_elsewhere(session, relationship.team_id, [channel_id], relationship.id):
        raise RapportError(
            f"<#{channel_id}> is a channel another relationship watches, so your alerts "
            "can't go there. Pick another channel."
        )


def map_organisation(
    session: Session,
    relationship: Relationship,
    actor: str,
    org_team_id: str,
    org_name: str,
    side: Side,
) -> None:
    """Slack Connect: count everyone from ``org_team_id`` on ``side``."""
    require_owner(session, relationship, actor)
    mapping = session.scalar(
        select(OrganisationSide).where(
            OrganisationSide.relationship_id == relationship.id,
            OrganisationSide.org_team_id == org_team_id,
        )
    )
    if mapping is None:
        relationship.organisations.append(
            OrganisationSide(
                team_id=relationship.team_id,
                org_team_id=org_team_id,
                org_name=org_name[:120],
                side=side,
            )
        )
    else:
        mapping.side, mapping.org_name = side, org_name[:120]
    session.flush()


def people(session: Session, relationship: Relationship) -> list[tuple[str, Side, Role]]:
    """Every member as (user id, side, role), in the order they joined."""
    rows = session.execute(
        select(Member.user_id, Member.side, Member.role)
        .where(Member.relationship_id == relationship.id)
        .order_by(Member.added_at, Member.id)
    )
    return [(user_id, side, role) for user_id, side, role in rows]


def owners(session: Session, relationship: Relationship) -> list[str]:
    """The owners of both sides, in the order they joined."""
    return [user_id for user_id, _, role in people(session, relationship) if role is Role.OWNER]


def alert_recipients(session: Session, relationship: Relationship) -> list[str]:
    """Where alerts for owners go: the alerts channel, else each owner (both sides) by DM."""
    if relationship.alerts_channel_id:
        return [relationship.alerts_channel_id]
    return owners(session, relationship)


def summarise(session: Session, relationship: Relationship) -> RelationshipSummary:
    people_by_side: dict[Side, dict[Role, list[str]]] = {
        side: {role: [] for role in (Role.OWNER, Role.MANAGER, Role.FRONTLINE)} for side in Side
    }
    for user_id, side, role in people(session, relationship):
        people_by_side[side][role].append(user_id)
    channels = session.scalars(
        select(WatchedChannel.channel_id)
        .where(WatchedChannel.relationship_id == relationship.id)
        .order_by(WatchedChannel.added_at, WatchedChannel.id)
    ).all()
    organisations = [(org.org_name, org.side) for org in relationship.organisations]
    return RelationshipSummary(
        id=relationship.id,
        name=relationship.name,
        client_org=relationship.client_org,
        provider_org=relationship.provider_org,
        people=people_by_side,
        watched_channels=list(channels),
        alerts_channel=relationship.alerts_channel_id,
        organisations=organisations,
    )
