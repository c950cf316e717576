"""Setting up a relationship: the set-up modal's draft, what is wrong with it, creating it.

Problems a person can fix raise ``RapportError`` whose message is safe mrkdwn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.relationships.channels import alerts_elsewhere, watched_elsewhere
from bot.relationships.domain import RapportError, length_problem, name_key
from bot.relationships.models import Member, Relationship, Role, Side, WatchedChannel


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
    return {
        **_name_problems(session, team_id, draft),
        **_people_problems(creator, draft),
        **_channel_problems(session, team_id, draft),
    }


def _name_problems(session: Session, team_id: str, draft: RelationshipDraft) -> dict[str, str]:
    """Names given, short enough, and the relationship's name not taken in the workspace."""
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
    return errors


def _people_problems(creator: str, draft: RelationshipDraft) -> dict[str, str]:
    """Nobody on both sides, and an owner on each (the creator owns their own side)."""
    errors: dict[str, str] = {}
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
    return errors


def _channel_problems(session: Session, team_id: str, draft: RelationshipDraft) -> dict[str, str]:
    """No channel another relationship watches or gets its alerts in."""
    errors: dict[str, str] = {}
    taken = watched_elsewhere(session, team_id, list(draft.watched_channels))
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
    elif alerts_elsewhere(session, team_id, list(draft.watched_channels)):
        errors["watched_channels"] = (
            "Another relationship's owners get their alerts in one of these channels: "
            "leave it out, and pick the channel where both sides talk."
        )
    alerts = [draft.alerts_channel] if draft.alerts_channel else []
    if watched_elsewhere(session, team_id, alerts):
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
