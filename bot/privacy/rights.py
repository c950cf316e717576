"""``/rapport forget-me``: remove a person from one workspace, keeping anonymous aggregates.

Every column that holds a Slack user id, and what forgetting does to it (rows of this
workspace only):

- ``members.user_id``: deleted, in every relationship; ``current_relationships`` (the
  ``/rapport use`` choice), ``person_profiles`` (the cached time zone) and ``home_views``
  (that they opened App Home): deleted.
- ``checkin_participants.user_id`` and ``checkin_rsvps.user_id``: deleted.
- ``checkins.created_by``: handed to an owner of the check-in's relationship (their own side
  first), who then gets its follow-ups; ``FORGOTTEN`` when it has no owner left.
- ``relationships.created_by``, ``checkin_occurrences.answered_by``,
  ``drift_alerts.acknowledged_by`` / ``not_drift_by``: ``FORGOTTEN``. That someone created,
  answered or acknowledged stays true (an alert stays acknowledged); who did it goes.
- ``drift_signals.author_id``: ``FORGOTTEN``; side, score and counts stay, and any kept
  excerpt of their words is cleared.
- ``pulse_recipients.user_id``: a prompt not sent yet, or of a round not closed yet, is
  deleted; sent (or failed) ones of closed rounds are re-keyed ``forgotten-<row id>`` and
  marked reminded, so past response rates stay right.
- ``pulse_answers`` / ``pulse_comments`` ``respondent``: an HMAC token, not an id, but one
  that the id and the round's secret recompute. In a closed round it is replaced by a random
  token, so the answers stay in the anonymous results and can no longer be linked to anyone.
  From a round not closed yet they are deleted, with the prompt: someone re-added before it
  closes is prompted again and counts once, never as two people (kept under a random token,
  their old answers would count beside their new ones, and a group could look big enough
  to show while it held fewer people).
- ``sent_messages``: the ledger rows of messages sent to them (``channel`` is their id, and
  so is part of the key) are deleted.
- ``intro_preferences``, ``intro_group_members`` and ``intro_sit_outs`` (their intro
  choice, who they were paired with and their *Did you meet?* answers, rounds they sat out):
  deleted. The others in their groups keep their own rows.
- ``slack_installations.user_id`` (who installed Rapport through OAuth): ``FORGOTTEN``; the
  installation and its bot token stay.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.checkins.models import CheckIn, CheckInParticipant, Occurrence, Rsvp
from bot.drift.models import DriftAlert, DriftSignal
from bot.home.models import HomeView
from bot.intros.models import IntroGroupMember, IntroPreference, IntroSitOut
from bot.pulse.anonymity import respondent_token
from bot.pulse.models import PulseAnswer, PulseComment, PulseRecipient, PulseRound, RecipientStatus
from bot.relationships.models import CurrentRelationship, Member, Relationship, Role, Side
from bot.slack.installation_models import INSTALLATIONS
from bot.slack.models import PersonProfile, SentMessage

FORGOTTEN = "forgotten"  # stands in for a forgotten person's id where the fact must stay
TOKEN_BATCH = 500  # respondent tokens looked up per query


@dataclass(frozen=True)
class OwnerlessSide:
    """A side left without an owner; ``membership_id`` keys the notice, never the person."""

    relationship_id: int
    relationship_name: str
    side: Side
    membership_id: int
    remaining_owners: tuple[str, ...]  # the other side's owners, who are told


@dataclass(frozen=True)
class ForgetReport:
    """What ``forget_person`` removed or anonymised, counted for the person's reply."""

    memberships: int = 0
    checkins_left: int = 0
    rsvps: int = 0
    checkins_handed_over: int = 0
    pulse_prompts: int = 0
    pulse_rounds_unlinked: int = 0
    pulse_rounds_withdrawn: int = 0  # rounds not closed yet that their answers left
    messages_anonymised: int = 0
    ledger_rows: int = 0
    profile: int = 0  # time zone and /rapport use choice
    intros: int = 0  # intro choices, groups and answers, sit-outs
    ownerless: list[OwnerlessSide] = field(default_factory=list)


def ownerless_sides(session: Session, team_id: str, user_id: str) -> list[OwnerlessSide]:
    """The sides where ``user_id`` is the only owner: forgetting them leaves those ownerless."""
    mine = session.execute(
        select(Member, Relationship.name)
        .join(Relationship, Relationship.id == Member.relationship_id)
        .where(Member.team_id == team_id, Member.user_id == user_id, Member.role == Role.OWNER)
        .order_by(Relationship.name_key)
    ).all()
    found = []
    for membership, name in mine:
        owners = session.execute(
            select(Member.user_id, Member.side)
            .where(
                Member.relationship_id == membership.relationship_id,
                Member.role == Role.OWNER,
                Member.user_id != user_id,
            )
            .order_by(Member.added_at, Member.id)
        ).all()
        if all(side is not membership.side for _, side in owners):
            found.append(
                OwnerlessSide(
                    membership.relationship_id,
                    name,
                    membership.side,
                    membership.id,
                    tuple(owner for owner, _ in owners),
                )
            )
    return found


def forget_person(session: Session, team_id: str, user_id: str, now: datetime) -> ForgetReport:
    """Forget ``user_id`` in ``team_id`` as the module docstring lays out; say what went.
    In a joint relationship the person is forgotten in the other company's workspace too,
    where the relationship's rounds, signals and check-ins are kept."""
    ownerless = ownerless_sides(session, team_id, user_id)
    counts: Counter[str] = Counter()
    for team in _their_workspaces(session, team_id, user_id):
        report = _forget_in(session, team, user_id, now)
        counts.update({f.name: getattr(report, f.name) for f in fields(report) if f.type == "int"})
    return ForgetReport(**counts, ownerless=ownerless)


def _their_workspaces(session: Session, team_id: str, user_id: str) -> list[str]:
    """``team_id``, then the workspaces that created the joint relationships the person is
    in from ``team_id``."""
    hosts = session.scalars(
        select(Relationship.team_id)
        .join(Member, Member.relationship_id == Relationship.id)
        .where(
            Member.team_id == team_id,
            Member.user_id == user_id,
            Relationship.partner_team_id == team_id,
        )
        .distinct()
    )
    return [team_id, *sorted(set(hosts) - {team_id})]


def _forget_in(session: Session, team_id: str, user_id: str, now: datetime) -> ForgetReport:
    handed_over = _hand_over_checkins(session, team_id, user_id)
    unlinked, withdrawn = _unlink_pulse_answers(session, team_id, user_id, now)
    prompts = _forget_pulse_recipients(session, team_id, user_id, now)
    anonymised = session.execute(
        update(DriftSignal)
        .where(DriftSignal.team_id == team_id, DriftSignal.author_id == user_id)
        .values(author_id=FORGOTTEN, excerpt=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    for column in (DriftAlert.acknowledged_by, DriftAlert.not_drift_by):
        _replace(session, DriftAlert, column, team_id, user_id)
    _replace(session, Occurrence, Occurrence.answered_by, team_id, user_id)
    _replace(session, Relationship, Relationship.created_by, team_id, user_id)
    session.execute(
        update(INSTALLATIONS)
        .where(INSTALLATIONS.c.team_id == team_id, INSTALLATIONS.c.user_id == user_id)
        .values(user_id=FORGOTTEN)
    )

    def remove(model: Any, column: InstrumentedAttribute[Any]) -> int:
        return session.execute(
            delete(model).where(model.team_id == team_id, column == user_id),
            execution_options={"synchronize_session": False},
        ).rowcount

    return ForgetReport(
        memberships=remove(Member, Member.user_id),
        checkins_left=remove(CheckInParticipant, CheckInParticipant.user_id),
        rsvps=remove(Rsvp, Rsvp.user_id),
        checkins_handed_over=handed_over,
        pulse_prompts=prompts,
        pulse_rounds_unlinked=unlinked,
        pulse_rounds_withdrawn=withdrawn,
        messages_anonymised=anonymised,
        ledger_rows=remove(SentMessage, SentMessage.channel),
        profile=remove(PersonProfile, PersonProfile.user_id)
        + remove(CurrentRelationship, CurrentRelationship.user_id)
        + remove(HomeView, HomeView.user_id),
        intros=remove(IntroPreference, IntroPreference.user_id)
        + remove(IntroGroupMember, IntroGroupMember.user_id)
        + remove(IntroSitOut, IntroSitOut.user_id),
    )


def _replace(
    session: Session, model: Any, column: InstrumentedAttribute[Any], team_id: str, user_id: str
) -> None:
    session.execute(
        update(model)
        .where(model.team_id == team_id, column == user_id)
        .values({column.key: FORGOTTEN}),
        execution_options={"synchronize_session": False},
    )


def _hand_over_checkins(session: Session, team_id: str, user_id: str) -> int:
    """Check-ins they created go to an owner of the relationship, their own side first."""
    created = session.scalars(
        select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.created_by == user_id)
    ).all()
    for checkin in created:
        people = session.execute(
            select(Member.user_id, Member.side, Member.role)
            .where(Member.relationship_id == checkin.relationship_id)
            .order_by(Member.added_at, Member.id)
        ).all()
        own_side = next((side for person, side, _ in people if person == user_id), None)
        owners = [
            (person, side)
            for person, side, role in people
            if role is Role.OWNER and person != user_id
        ]
        owners.sort(key=lambda owner: owner[1] is not own_side)  # stable: then by joining order
        checkin.created_by = owners[0][0] if owners else FORGOTTEN
    return len(created)


def _unlink_pulse_answers(
    session: Session, team_id: str, user_id: str, now: datetime
) -> tuple[int, int]:
    """Their answers and comment: under a fresh random token in each closed round, deleted
    from rounds not closed yet; returns (rounds unlinked, rounds withdrawn from)."""
    rounds = session.execute(
        select(PulseRound.id, PulseRound.secret, PulseRound.closes_at).where(
            PulseRound.team_id == team_id
        )
    ).all()
    round_of = {
        respondent_token(secret, team_id, user_id): round_id for round_id, secret, _ in rounds
    }
    not_closed = {round_id for round_id, _, closes_at in rounds if closes_at > now}
    tokens = list(round_of)
    found: set[tuple[int, str]] = set()
    for start in range(0, len(tokens), TOKEN_BATCH):
        batch = tokens[start : start + TOKEN_BATCH]
        for model in (PulseAnswer, PulseComment):
            found.update(
                (round_id, token)
                for round_id, token in session.execute(
                    select(model.round_id, model.respondent).where(
                        model.team_id == team_id, model.respondent.in_(batch)
                    )
                )
            )
    theirs = {(round_id, token) for round_id, token in found if round_of[token] == round_id}
    for round_id, token in theirs:
        fresh = secrets.token_hex(32)
        for model in (PulseAnswer, PulseComment):
            mine = (model.round_id == round_id, model.respondent == token)
            session.execute(
                delete(model).where(*mine)
                if round_id in not_closed
                else update(model).where(*mine).values(respondent=fresh),
                execution_options={"synchronize_session": False},
            )
    withdrawn = sum(1 for round_id, _ in theirs if round_id in not_closed)
    return len(theirs) - withdrawn, withdrawn


def _forget_pulse_recipients(session: Session, team_id: str, user_id: str, now: datetime) -> int:
    """Unsent prompts and those of rounds not closed yet go (re-added, they are prompted
    again, once); sent ones of closed rounds stay counted under an id that names nobody."""
    not_closed = select(PulseRound.id).where(
        PulseRound.team_id == team_id, PulseRound.closes_at > now
    )
    pending = session.execute(
        delete(PulseRecipient).where(
            PulseRecipient.team_id == team_id,
            PulseRecipient.user_id == user_id,
            or_(
                PulseRecipient.status == RecipientStatus.PENDING,
                PulseRecipient.round_id.in_(not_closed),
            ),
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    counted = session.execute(
        update(PulseRecipient)
        .where(PulseRecipient.team_id == team_id, PulseRecipient.user_id == user_id)
        .values(
            user_id=literal(f"{FORGOTTEN}-", String) + cast(PulseRecipient.id, String),
            reminded=True,
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    return pending + counted
