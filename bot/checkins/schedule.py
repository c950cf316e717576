"""What the check-in scheduler does with due work, and what it does after downtime.

``due_task_ids`` is the indexed "what is due now" step (``next_due_at <= now`` with a
LIMIT); ``take`` decides what one due task means, as plain values to send.

Missed-while-down policy (the bot was stopped, or a tick was late):

* A reminder is sent only while still useful: before its occurrence starts. When several
  reminders of one occurrence are overdue at once, only the latest (the closest to the
  start) is sent and the earlier ones are dropped, so a long outage never causes a burst.
* A follow-up ("did it happen?") is asked up to ``FOLLOW_UP_STALE`` after the end;
  older ones are dropped and the occurrence stays "unknown".
* Occurrences that fell entirely in the outage are still planned one after another (so
  history shows them, as unknown) but none of their reminders or follow-ups are sent.
* An occurrence whose follow-up was never asked (its ledger row is missing) was missed
  while Rapport was down: it counts neither towards "skipped or unconfirmed N times in a
  row" nor towards "nothing held for M weeks" (those weeks count from its start).
* A lapse check waits until the follow-up has been out for ``LAPSE_GRACE``, so a late
  "Held" still counts. Lapse checks that came due while Rapport was down give at most one
  "in a row" alert per relationship: once one fires, the relationship's other overdue
  checks are dropped and their check-ins' next lapse checks report a lapse that goes on.
* Every send goes through ``bot.slack.outbox.send_once`` with a unique key, so a restart, a
  repeated tick or a second process never sends the same message twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, func, literal, select, update
from sqlalchemy.orm import Session

from bot.checkins.models import CheckIn, CheckInTask, Occurrence, Outcome, Rsvp, TaskKind
from bot.checkins.occurrences import (
    FOLLOW_UP_STALE,
    LAPSE_GRACE,
    OccurrenceFacts,
    occurrence_facts,
    plan_next,
    recent_outcomes_of,
)
from bot.core.cadence import parse_cadence
from bot.relationships.domain import Recipient, alert_recipients, get_relationship
from bot.relationships.models import Member, Role
from bot.slack import message_keys
from bot.slack.models import SentMessage

DUE_BATCH = 200
RETRY_AFTER = timedelta(minutes=1)
OVERDUE = timedelta(minutes=10)  # work this late came due while Rapport was down
LAPSE_IN_A_ROW = 2  # skipped or unconfirmed occurrences in a row
QUIET_WEEKS = 3  # no check-in of any kind held for this long

Run = list[tuple[int, Outcome | None]]  # (occurrence id, skipped or None), newest first


@dataclass(frozen=True)
class Reminder:
    facts: OccurrenceFacts
    offset_minutes: int
    coming: tuple[str, ...]  # answered "I'll be there"
    not_coming: tuple[str, ...]
    now: datetime  # when it goes out: the wording counts the time left from here


@dataclass(frozen=True)
class FollowUp:
    facts: OccurrenceFacts
    recipient: Recipient


@dataclass(frozen=True)
class Lapse:
    kind: str  # "in-a-row", "quiet", "stretched"
    key: str  # ledger key: the same lapse never alerts twice
    team_id: str
    relationship_id: int
    relationship: str
    recipients: tuple[Recipient, ...]
    title: str | None = None
    count: int = 0
    since: datetime | None = None
    before: str | None = None  # cadence descriptions, for "stretched"
    after: str | None = None


@dataclass(frozen=True)
class DueWork:
    task_id: int
    messages: list[Reminder | FollowUp | Lapse]


def due_task_ids(session: Session, now: datetime, limit: int = DUE_BATCH) -> list[int]:
    """Ids of tasks due by ``now``, oldest first: an index range scan, never a rule scan."""
    return list(
        session.scalars(
            select(CheckInTask.id)
            .where(CheckInTask.next_due_at <= now)
            .order_by(CheckInTask.next_due_at, CheckInTask.id)
            .limit(limit)
        )
    )


def _drop(session: Session, task_id: int) -> int:
    return session.execute(delete(CheckInTask).where(CheckInTask.id == task_id)).rowcount


def finish(session: Session, task_id: int) -> None:
    _drop(session, task_id)


def retry_later(session: Session, task_id: int, now: datetime) -> None:
    session.execute(
        update(CheckInTask).where(CheckInTask.id == task_id).values(next_due_at=now + RETRY_AFTER)
    )


def take(session: Session, task_id: int, now: datetime) -> DueWork | None:
    """What a due task asks for; None when nothing is to be sent (the task is then done)."""
    task = session.get(CheckInTask, task_id)
    if task is None or task.next_due_at > now:
        return None
    occurrence = session.get(Occurrence, task.occurrence_id)
    checkin = session.get(CheckIn, task.checkin_id)
    if occurrence is None or checkin is None:  # removed meanwhile (cascades usually do it)
        _drop(session, task.id)
        return None
    if task.kind is TaskKind.ADVANCE:
        if _drop(session, task.id):  # whoever deletes the task plans the next occurrence
            plan_next(session, checkin, occurrence.starts_at)
        return None
    if task.kind is TaskKind.REMINDER:
        return _reminder(session, task, occurrence, now)
    if task.kind is TaskKind.FOLLOW_UP:
        if occurrence.outcome is not None or now > occurrence.ends_at + FOLLOW_UP_STALE:
            _drop(session, task.id)
            return None
        facts = occurrence_facts(session, task.team_id, occurrence.id)
        return DueWork(task.id, [FollowUp(facts, _follow_up_recipient(session, facts))])
    if task.kind is TaskKind.STRETCHED:
        lapses = _stretched(session, checkin, task)
    else:
        answer_by = _answer_by(session, occurrence)
        if answer_by is not None and answer_by > now:  # its follow-up went out late
            task.next_due_at = answer_by
            return None
        lapses = _lapses(session, checkin, occurrence, now)
        if now - task.next_due_at > OVERDUE and any(lapse.kind == "in-a-row" for lapse in lapses):
            _drop_overdue_lapse_checks(session, checkin.relationship_id, task.id, now)
    if not lapses:
        _drop(session, task.id)
        return None
    return DueWork(task.id, list(lapses))


def _asked(session: Session, occurrence_ids: list[int]) -> dict[int, datetime]:
    """When each occurrence's follow-up was asked (claimed in the send ledger); an
    unanswered occurrence missing here was missed while Rapport was down."""
    keys = {
        message_keys.checkin_follow_up(occurrence_id): occurrence_id
        for occurrence_id in occurrence_ids
    }
    if not keys:
        return {}
    return {
        keys[key]: claimed_at
        for key, claimed_at in session.execute(
            select(SentMessage.key, SentMessage.claimed_at).where(SentMessage.key.in_(keys))
        )
    }


def _answer_by(session: Session, occurrence: Occurrence) -> datetime | None:
    """Until when an unanswered follow-up may still be answered before it counts against
    the check-in; None when there is nothing to wait for."""
    if occurrence.outcome is not None:
        return None
    asked = _asked(session, [occurrence.id]).get(occurrence.id)
    return asked + LAPSE_GRACE if asked is not None else None


def _drop_overdue_lapse_checks(
    session: Session, relationship_id: int, keep: int, now: datetime
) -> None:
    """After an outage, one "in a row" alert per relationship: the other lapse checks that
    came due meanwhile go; each check-in's next lapse check still reports a lasting lapse."""
    session.execute(
        delete(CheckInTask).where(
            CheckInTask.kind == TaskKind.LAPSE_CHECK,
            CheckInTask.next_due_at < now - OVERDUE,
            CheckInTask.id != keep,
            CheckInTask.checkin_id.in_(
                select(CheckIn.id).where(CheckIn.relationship_id == relationship_id)
            ),
        )
    )


def _reminder(
    session: Session, task: CheckInTask, occurrence: Occurrence, now: datetime
) -> DueWork | None:
    superseded = session.scalar(
        select(CheckInTask.id)
        .where(
            CheckInTask.occurrence_id == occurrence.id,
            CheckInTask.kind == TaskKind.REMINDER,
            CheckInTask.offset_minutes < task.offset_minutes,
            CheckInTask.next_due_at <= now,
        )
        .limit(1)
    )
    stale = now >= occurrence.starts_at or occurrence.outcome is Outcome.SKIPPED
    if stale or superseded is not None:
        _drop(session, task.id)
        return None
    answers = session.execute(
        select(Rsvp.user_id, Rsvp.attending)
        .where(Rsvp.occurrence_id == occurrence.id)
        .order_by(Rsvp.id)
    ).all()
    facts = occurrence_facts(session, task.team_id, occurrence.id)
    return DueWork(
        task.id,
        [
            Reminder(
                facts,
                task.offset_minutes,
                tuple(user for user, attending in answers if attending),
                tuple(user for user, attending in answers if not attending),
                now,
            )
        ],
    )


def _follow_up_recipient(session: Session, facts: OccurrenceFacts) -> Recipient:
    """The creator while still a member; else the first owner among the participants;
    through their own workspace."""
    members = {
        user_id: (role, team_id)
        for user_id, role, team_id in session.execute(
            select(Member.user_id, Member.role, Member.team_id).where(
                Member.relationship_id == facts.relationship_id
            )
        )
    }
    owners = [u for u in facts.participants if members.get(u, (None,))[0] is Role.OWNER]
    if facts.creator in members:
        chosen = facts.creator
    else:
        chosen = (owners or list(facts.participants) or [facts.creator])[0]
    home = members.get(chosen)
    return Recipient(home[1] if home else facts.team_id, chosen)


def _lapse_base(session: Session, checkin: CheckIn) -> dict:
    relationship = get_relationship(session, checkin.team_id, checkin.relationship_id)
    return {
        "team_id": checkin.team_id,
        "relationship_id": relationship.id,
        "relationship": relationship.name,
        "recipients": tuple(alert_recipients(session, relationship)),
    }


def _lapses(
    session: Session, checkin: CheckIn, occurrence: Occurrence, now: datetime
) -> list[Lapse]:
    found: list[Lapse] = []
    run = unconfirmed_run(session, checkin.id, occurrence.starts_at)
    if len(run) >= LAPSE_IN_A_ROW:
        found.append(
            Lapse(
                kind="in-a-row",
                key=message_keys.checkin_lapse_in_a_row(checkin.id, run[-1][0]),
                title=checkin.title,
                count=len(run),
                **_lapse_base(session, checkin),
            )
        )
    since = quiet_since(session, checkin.relationship_id, now)
    if since is not None and now - since >= timedelta(weeks=QUIET_WEEKS):
        found.append(
            Lapse(
                kind="quiet",
                key=message_keys.checkin_lapse_quiet(checkin.relationship_id, since),
                count=QUIET_WEEKS,
                since=since,
                **_lapse_base(session, checkin),
            )
        )
    return found


def unconfirmed_run(session: Session, checkin_id: int, until: datetime) -> Run:
    """The latest occurrences up to ``until`` skipped (``SKIPPED``) or unconfirmed (None) in
    a row, newest first, as (occurrence id, outcome)."""
    return unconfirmed_runs(session, [checkin_id], until)[checkin_id]


def unconfirmed_runs(session: Session, checkin_ids: list[int], until: datetime) -> dict[int, Run]:
    """``unconfirmed_run`` of several check-ins, by check-in id, in two queries."""
    past = recent_outcomes_of(session, checkin_ids, until)
    unanswered = [found for run in past.values() for found, outcome in run if outcome is None]
    asked = _asked(session, unanswered)
    runs: dict[int, Run] = {}
    for checkin_id in checkin_ids:
        run = runs[checkin_id] = []
        for occurrence_id, outcome in past.get(checkin_id, []):
            if outcome is None and occurrence_id not in asked:
                continue  # missed while Rapport was down: neither held nor unconfirmed
            if outcome not in (None, Outcome.SKIPPED):
                break
            run.append((occurrence_id, outcome))
    return runs


def quiet_since(session: Session, relationship_id: int, now: datetime) -> datetime | None:
    """Since when the relationship has held no check-in: its last held one, its first
    check-in's creation or its last one missed while Rapport was down, whichever is latest."""
    last_held = select(func.max(Occurrence.starts_at)).where(
        Occurrence.relationship_id == relationship_id,
        Occurrence.outcome == Outcome.HELD,
    )
    first_created = select(func.min(CheckIn.created_at)).where(
        CheckIn.relationship_id == relationship_id
    )
    was_asked = (
        select(SentMessage.id)
        .where(
            SentMessage.key == literal(message_keys.CHECKIN_FOLLOW_UP) + cast(Occurrence.id, String)
        )
        .exists()
    )
    last_missed = select(func.max(Occurrence.starts_at)).where(
        Occurrence.relationship_id == relationship_id,
        Occurrence.outcome.is_(None),
        Occurrence.ends_at < now - FOLLOW_UP_STALE,
        ~was_asked,
    )
    moments = session.execute(  # one round trip for the three
        select(
            last_held.scalar_subquery(),
            first_created.scalar_subquery(),
            last_missed.scalar_subquery(),
        )
    ).one()
    return max((at for at in moments if at), default=None)


def _stretched(session: Session, checkin: CheckIn, task: CheckInTask) -> list[Lapse]:
    if checkin.stretched_from is None:
        return []
    return [
        Lapse(
            kind="stretched",
            key=message_keys.checkin_lapse_stretched(checkin.id, task.occurrence_id),
            title=checkin.title,
            before=parse_cadence(checkin.stretched_from).describe(),
            after=parse_cadence(checkin.cadence).describe(),
            **_lapse_base(session, checkin),
        )
    ]
