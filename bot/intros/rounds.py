"""Opening a round: who is in, their zones, the pairing, and the groups stored, or the
round recorded as skipped when a side has nobody. One round per relationship and day,
whoever opens it: the database settles a race between two schedulers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.intros import preferences, settings
from bot.intros.models import (
    IntroGroup,
    IntroGroupMember,
    IntroPreference,
    IntroRound,
    IntroSettings,
    IntroSitOut,
)
from bot.intros.pairing import Candidate, history_from_groups, make_groups
from bot.intros.preferences import Participant
from bot.intros.slots import intro_at
from bot.relationships.models import Member, Relationship, Role, Side

MONTH = timedelta(days=30)


@dataclass(frozen=True)
class DueRound:
    team_id: str
    relationship_id: int
    name: str
    day: date
    default_in: bool
    participants: list[Participant]


@dataclass(frozen=True)
class Invitation:
    team_id: str
    relationship_id: int
    name: str
    default_in: bool
    user_id: str


@dataclass(frozen=True)
class OpenedRound:
    round_id: int
    skipped: str | None  # "no_client" / "no_provider"
    groups: int
    sitting_out: int
    skipped_before: bool  # the round before was skipped too: owners were told then


def due_rounds(session: Session, now: datetime) -> list[DueRound]:
    """Relationships with intros on whose round for today (or soon) isn't open yet."""
    due = []
    for intro_settings, relationship in session.execute(
        select(IntroSettings, Relationship)
        .join(Relationship, Relationship.id == IntroSettings.relationship_id)
        .where(IntroSettings.enabled.is_(True))
        .order_by(Relationship.id)
    ):
        day = settings.due_day(intro_settings, now)
        if day is None or session.scalar(
            select(IntroRound.id).where(
                IntroRound.relationship_id == relationship.id, IntroRound.day == day
            )
        ):
            continue
        due.append(
            DueRound(
                relationship.team_id,
                relationship.id,
                relationship.name,
                day,
                intro_settings.default_in,
                preferences.participants(session, relationship.id, day, intro_settings.default_in),
            )
        )
    return due


def uninvited(session: Session) -> list[Invitation]:
    """Members of relationships with intros on who were never asked (a newcomer too)."""
    rows = session.execute(
        select(
            Member.team_id,  # each asked through their own workspace
            Relationship.id,
            Relationship.name,
            IntroSettings.default_in,
            Member.user_id,
        )
        .join(IntroSettings, IntroSettings.relationship_id == Relationship.id)
        .join(Member, Member.relationship_id == Relationship.id)
        .outerjoin(
            IntroPreference,
            (IntroPreference.relationship_id == Member.relationship_id)
            & (IntroPreference.user_id == Member.user_id),
        )
        .where(IntroSettings.enabled.is_(True), IntroPreference.id.is_(None))
        .order_by(Relationship.id, Member.id)
    ).all()
    return [Invitation(*row) for row in rows]


def mark_invited(session: Session, relationship_id: int, team_id: str, user_id: str) -> None:
    """Asked once: a row with no choice yet, so the next rounds don't ask again."""
    try:
        with session.begin_nested():
            session.add(
                IntroPreference(
                    team_id=team_id,
                    relationship_id=relationship_id,
                    user_id=user_id,
                    left_slack=False,
                )
            )
    except IntegrityError:
        pass  # they answered, or another scheduler marked them, a moment ago


def seed_for(relationship_id: int, day: date) -> int:
    digest = hashlib.sha256(f"{relationship_id}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def open_round(
    session: Session, due: DueRound, zones: dict[str, ZoneInfo], now: datetime
) -> OpenedRound | None:
    """Pair ``due.participants`` (``zones``: each one's time zone) and store the round;
    None when another scheduler opened it first."""
    intro_settings = session.get(IntroSettings, due.relationship_id)
    assert intro_settings is not None
    length = timedelta(weeks=intro_settings.every_weeks) - timedelta(days=1)
    seed = seed_for(due.relationship_id, due.day)
    previous = session.scalar(
        select(IntroRound.skipped)
        .where(IntroRound.relationship_id == due.relationship_id, IntroRound.day < due.day)
        .order_by(IntroRound.day.desc())
        .limit(1)
    )
    sides = {person.side for person in due.participants}
    skipped = next((f"no_{side.value}" for side in Side if side not in sides), None)
    try:
        with session.begin_nested():
            intro_round = IntroRound(
                team_id=due.team_id,
                relationship_id=due.relationship_id,
                day=due.day,
                opened_at=now,
                ends_at=datetime.combine(due.day, time(0), UTC) + length,
                seed=seed,
                skipped=skipped,
            )
            session.add(intro_round)
    except IntegrityError:
        return None
    if skipped:
        return OpenedRound(intro_round.id, skipped, 0, 0, previous is not None)
    midnight = datetime.combine(due.day, time(0), UTC)
    candidates = [
        Candidate(
            person.user_id,
            person.side.value,
            person.role is not Role.FRONTLINE,
            int(
                zones[person.user_id].utcoffset(midnight.replace(tzinfo=None)).total_seconds() // 60
            ),
            count,
        )
        for person, count in zip(due.participants, _sat_out_counts(session, due), strict=True)
    ]
    pairing = make_groups(
        candidates, _history(session, due.relationship_id), intro_settings.size, seed
    )
    by_id = {person.user_id: person for person in due.participants}
    for members in pairing.groups:
        member_zones = [zones[user_id] for user_id in members]
        starts = intro_at(due.day, member_zones)
        group = IntroGroup(
            team_id=due.team_id,
            relationship_id=due.relationship_id,
            round_id=intro_round.id,
            intro_at=starts,
            nudge_at=starts + length / 2,
            ends_at=starts + length,
            clicked=False,
            nudged=False,
            done=False,
        )
        session.add(group)
        session.flush()
        session.add_all(
            IntroGroupMember(
                team_id=by_id[user_id].team_id,
                group_id=group.id,
                user_id=user_id,
                side=by_id[user_id].side,
                role=by_id[user_id].role,
                tz=zones[user_id].key,
            )
            for user_id in members
        )
    session.add_all(
        IntroSitOut(
            team_id=by_id[user_id].team_id,
            relationship_id=due.relationship_id,
            round_id=intro_round.id,
            user_id=user_id,
        )
        for user_id in pairing.sitting_out
    )
    return OpenedRound(intro_round.id, None, len(pairing.groups), len(pairing.sitting_out), False)


def _sat_out_counts(session: Session, due: DueRound) -> list[int]:
    counts = dict(
        session.execute(
            select(IntroSitOut.user_id, func.count())
            .where(IntroSitOut.relationship_id == due.relationship_id)
            .group_by(IntroSitOut.user_id)
        ).all()
    )
    return [counts.get(person.user_id, 0) for person in due.participants]


def _history(session: Session, relationship_id: int) -> dict[str, dict[str, int]]:
    """Who met whom in the rounds still kept, each pair's latest round by day."""
    rows = session.execute(
        select(IntroGroupMember.group_id, IntroGroupMember.user_id, IntroRound.day)
        .join(IntroGroup, IntroGroup.id == IntroGroupMember.group_id)
        .join(IntroRound, IntroRound.id == IntroGroup.round_id)
        .where(IntroGroup.relationship_id == relationship_id)
        .order_by(IntroGroupMember.group_id)
    ).all()
    groups: dict[int, tuple[int, list[str]]] = {}
    for group_id, user_id, day in rows:
        groups.setdefault(group_id, (day.toordinal(), []))[1].append(user_id)
    return history_from_groups(groups.values())


def forget_old_groups(session: Session, now: datetime) -> int:
    """Delete rounds older than each relationship's retention period (with their groups,
    answers and sit-outs); returns how many rounds went."""
    removed = 0
    for relationship_id, months in session.execute(
        select(IntroSettings.relationship_id, IntroSettings.history_months)
    ).all():
        cutoff = (now - MONTH * months).date()
        removed += session.execute(
            delete(IntroRound).where(
                IntroRound.relationship_id == relationship_id, IntroRound.day < cutoff
            ),
            execution_options={"synchronize_session": False},
        ).rowcount
    return removed
