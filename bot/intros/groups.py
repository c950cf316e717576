"""The groups a round made, from the intro to *Did you meet?*: which are due for what, how
each was introduced, and what people clicked. Plain values in and out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from bot.intros.models import Answer, IntroGroup, IntroGroupMember, IntroSettings, Route
from bot.relationships.domain import RapportError
from bot.relationships.models import Relationship
from bot.slack.blocks import STALE_BUTTON


@dataclass(frozen=True)
class IntroPerson:
    user_id: str
    side: str
    role: str
    organisation: str
    tz: str
    team_id: str  # their home workspace, whose installation reaches them


@dataclass(frozen=True)
class GroupToIntroduce:
    group_id: int
    team_id: str
    relationship_id: int
    people: list[IntroPerson]
    route: Route | None
    conversation_id: str | None

    def user_ids(self) -> list[str]:
        return [person.user_id for person in self.people]

    def one_workspace(self) -> bool:
        """Whether one installation reaches everyone: a group DM can't span two
        companies' workspaces."""
        return len({person.team_id for person in self.people}) == 1


def _load(session: Session, groups: list[IntroGroup]) -> list[GroupToIntroduce]:
    if not groups:
        return []
    ids = [group.id for group in groups]
    members: dict[int, list[IntroPerson]] = {group_id: [] for group_id in ids}
    relationships = {
        r.id: r
        for r in session.scalars(
            select(Relationship).where(Relationship.id.in_({g.relationship_id for g in groups}))
        )
    }
    by_group = {group.id: group for group in groups}
    for member in session.scalars(
        select(IntroGroupMember)
        .where(IntroGroupMember.group_id.in_(ids))
        .order_by(IntroGroupMember.id)
    ):
        relationship = relationships[by_group[member.group_id].relationship_id]
        members[member.group_id].append(
            IntroPerson(
                member.user_id,
                member.side.value,
                member.role.value,
                relationship.org_name(member.side),
                member.tz,
                member.team_id,
            )
        )
    return [
        GroupToIntroduce(
            g.id, g.team_id, g.relationship_id, members[g.id], g.route, g.conversation_id
        )
        for g in groups
    ]


def _enabled() -> Select[tuple[int]]:
    return select(IntroSettings.relationship_id).where(IntroSettings.enabled.is_(True))


def _due(session: Session, *conditions: ColumnElement[bool]) -> list[GroupToIntroduce]:
    groups = session.scalars(
        select(IntroGroup).where(*conditions).order_by(IntroGroup.intro_at, IntroGroup.id)
    ).all()
    return _load(session, list(groups))


def due_for_intro(session: Session, now: datetime) -> list[GroupToIntroduce]:
    """Groups whose intro time has come and who weren't introduced yet, of relationships
    whose intros are still on."""
    return _due(
        session,
        IntroGroup.route.is_(None),
        IntroGroup.intro_at <= now,
        IntroGroup.ends_at > now,
        IntroGroup.relationship_id.in_(_enabled()),
    )


def due_for_nudge(session: Session, now: datetime) -> list[GroupToIntroduce]:
    """Introduced groups half-way through the round where nobody clicked anything."""
    return _due(
        session,
        IntroGroup.route.is_not(None),
        IntroGroup.nudged.is_(False),
        IntroGroup.clicked.is_(False),
        IntroGroup.nudge_at <= now,
        IntroGroup.ends_at > now,
    )


def due_for_follow_up(session: Session, now: datetime) -> list[GroupToIntroduce]:
    """Introduced groups whose round is over and who weren't all asked yet."""
    return _due(
        session,
        IntroGroup.route.is_not(None),
        IntroGroup.done.is_(False),
        IntroGroup.ends_at <= now,
    )


def record_route(
    session: Session, group_id: int, route: Route, conversation_id: str | None
) -> None:
    session.execute(
        update(IntroGroup)
        .where(IntroGroup.id == group_id)
        .values(route=route, conversation_id=conversation_id)
    )


def mark(session: Session, group_id: int, **flags: bool) -> None:
    """Set ``nudged``, ``done`` or ``clicked`` on a group."""
    session.execute(update(IntroGroup).where(IntroGroup.id == group_id).values(**flags))


def group_for(session: Session, team_id: str, group_id: int, user_id: str) -> GroupToIntroduce:
    """The group a button names, for someone in it; anyone else gets the stale answer, as if
    it didn't exist (buttons can be replayed or forged)."""
    group = session.scalar(
        select(IntroGroup)
        .join(IntroGroupMember, IntroGroupMember.group_id == IntroGroup.id)
        .where(
            IntroGroup.id == group_id,
            IntroGroupMember.team_id == team_id,  # clicked in their own workspace
            IntroGroupMember.user_id == user_id,
        )
    )
    if group is None:
        raise RapportError(STALE_BUTTON)
    return _load(session, [group])[0]


def answer(session: Session, group_id: int, user_id: str, given: Answer) -> None:
    session.execute(
        update(IntroGroupMember)
        .where(IntroGroupMember.group_id == group_id, IntroGroupMember.user_id == user_id)
        .values(answer=given)
    )
    mark(session, group_id, clicked=True)
