"""Recurring check-ins: create, list, change, skip; RSVPs, outcomes and notes; history.

Plain values and a SQLAlchemy ``Session`` in, plain values out. Problems a person can fix
raise ``RapportError`` (or ``CadenceError``) whose message is safe to show them.

Each check-in has exactly one *planned* occurrence ahead of it; when that occurrence
starts, its ``advance`` task plans the next one with ``bot.core.cadence.next_occurrence`` in the
check-in's own time zone (so 10:00 Europe/London stays 10:00 local across DST). The work
around an occurrence (reminders, follow-up, lapse check) is queued as ``CheckInTask`` rows
with an indexed ``next_due_at``; ``bot.checkins.schedule`` turns due rows into messages.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from bot.checkins.models import (
    CheckIn,
    CheckInParticipant,
    CheckInTask,
    Occurrence,
    Outcome,
    Rsvp,
    TaskKind,
)
from bot.core.cadence import Cadence, CadenceError, parse_cadence
from bot.core.occurrences import next_occurrence, typical_interval
from bot.core.time_input import parse_duration, parse_timezone
from bot.relationships import domain as rel
from bot.relationships.domain import NotAllowed, RapportError, get_relationship, name_key
from bot.relationships.models import Member, Relationship, Role
from bot.slack import mrkdwn

DEFAULT_REMINDERS = (24 * 60, 15)  # minutes before the start
DEFAULT_DURATION = timedelta(minutes=30)
FOLLOW_UP_STALE = timedelta(days=2)  # a follow-up is still asked this long after the end
# time to answer the follow-up before "unconfirmed" counts: at least as long as it can be
# asked, so a "Held" on the second day never arrives after a lapse alert
LAPSE_GRACE = FOLLOW_UP_STALE
TITLE_MAX = 80
NOTE_MAX = 500
REASON_MAX = 200
STRETCH_FACTOR = 1.5  # a new typical interval this much longer is a "stretched" cadence
MIN_INTERVAL = timedelta(days=1)  # a check-in happens at most once a day
MAX_START_AHEAD = timedelta(days=2 * 365)  # `from` a date at most about two years ahead

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")

USAGE = {
    "help": "`/checkin help`",
    "add": '`/checkin add "Ops catch-up" weekly tue 10:00 @alice @bob '
    "[tz Europe/London] [for 30m] [in #channel] [remind 1d,15m] [from 2026-04-07]`",
    "new": "`/checkin new`",
    "list": "`/checkin list`",
    "edit": "`/checkin edit <number|title>`",
    "remove": "`/checkin remove <number|title>`",
    "skip": "`/checkin skip <number|title> <reason>`",
    "history": "`/checkin history`",
}
ADD_EXAMPLES = (
    '`/checkin add "Ops catch-up" weekly tue 10:00 @alice @bob`',
    '`/checkin add "Steering committee" monthly first monday 09:30 @carl @pat '
    "tz Europe/London for 1h in #acme-stellar`",
    '`/checkin add "Coffee" every 2 weeks thu 15:00 @priya`',
)


class UsageError(RapportError):
    """A command that can't be understood; the message says how to fix it."""


def usage(action: str, problem: str) -> UsageError:
    return UsageError(f"{problem}\nUsage: {USAGE[action]}")


# ----------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class CheckInDraft:
    """What ``/checkin add`` or the modal collects; ``tz`` None = the creator's own."""

    title: str
    cadence: Cadence
    participants: tuple[str, ...]
    tz: str | None = None
    duration: timedelta = DEFAULT_DURATION
    channel_id: str | None = None
    reminders: tuple[int, ...] = DEFAULT_REMINDERS  # minutes before
    starts_on: date | None = None  # no occurrence before this local date


@dataclass(frozen=True)
class CheckInCommand:
    action: str
    ref: str | None = None  # "2" or a title
    reason: str | None = None
    draft: CheckInDraft | None = None


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def parse_command(text: str) -> CheckInCommand:
    """``/checkin …`` text → command; raises UsageError or CadenceError with examples."""
    tokens = _tokens(text.strip())
    if not tokens:
        return CheckInCommand("help")
    action, rest = tokens[0].lower(), tokens[1:]
    if action in ("help", "new", "list", "history"):
        return CheckInCommand(action)
    if action == "add":
        return CheckInCommand("add", draft=parse_add(rest))
    if action in ("edit", "remove"):
        if not rest:
            raise usage(action, "Which check-in? Give its number from `/checkin list` or title.")
        return CheckInCommand(action, ref=mrkdwn.unescape(" ".join(rest)))
    if action == "skip":
        if len(rest) < 2:
            raise usage("skip", "Say which check-in and why, e.g. `/checkin skip 1 Bank holiday`.")
        reason = mrkdwn.unescape(" ".join(rest[1:]))[:REASON_MAX]
        return CheckInCommand("skip", ref=mrkdwn.unescape(rest[0]), reason=reason)
    raise UsageError(
        f"I don't know `/checkin {mrkdwn.echo(tokens[0])}`. Try:\n"
        + "\n".join(f"• {line}" for line in USAGE.values())
    )


def parse_add(tokens: list[str]) -> CheckInDraft:
    if not tokens or _USER.match(tokens[0]):
        raise UsageError(
            "Give the check-in a title in quotes, then when and who. For example:\n"
            + "\n".join(f"• {example}" for example in ADD_EXAMPLES)
        )
    title = " ".join(mrkdwn.unescape(tokens[0]).split())
    if len(title) > TITLE_MAX:
        raise UsageError(f"Keep the title under {TITLE_MAX} characters.")
    people: list[str] = []
    schedule: list[str] = []
    tz: str | None = None
    duration = DEFAULT_DURATION
    channel_id: str | None = None
    reminders = DEFAULT_REMINDERS
    starts_on: date | None = None
    words = iter(tokens[1:])
    for token in words:
        lowered = token.lower()
        if match := _USER.match(token):
            people.append(match[1])
        elif lowered == "tz":
            name = next(words, "")
            tz = parse_timezone(name).key if name else None
            if tz is None:
                raise usage("add", "Say which time zone after `tz`, e.g. `tz Europe/London`.")
        elif lowered == "for":
            duration = parse_duration(next(words, ""))
        elif lowered == "remind":
            reminders = parse_reminders(next(words, ""))
        elif lowered in ("from", "starting"):
            starts_on = parse_start_date(next(words, ""))
        elif lowered == "in":
            target = next(words, "")
            if not (match := _CHANNEL.match(target)):
                raise usage("add", "Pick the channel after `in` from Slack's list, e.g. `in #ops`.")
            channel_id = match[1]
        elif token.startswith("@"):
            raise usage(
                "add",
                f"I can't tell who {mrkdwn.escape(token)} is. Pick people from Slack's list "
                "as you type @.",
            )
        else:
            schedule.append(token)
    if not schedule:
        raise CadenceError(
            "When should it happen? For example `weekly tue 10:00`, "
            "`every 2 weeks thu 14:30` or `monthly first monday 09:30`."
        )
    cadence = parse_cadence(" ".join(schedule))
    if duration <= timedelta(0) or duration > timedelta(hours=12):
        raise UsageError("A check-in lasts between a minute and 12 hours, e.g. `for 30m`.")
    return CheckInDraft(
        title,
        cadence,
        tuple(dict.fromkeys(people)),
        tz,
        duration,
        channel_id,
        reminders,
        starts_on,
    )


MAX_REMINDER = timedelta(days=14)


def parse_reminders(text: str) -> tuple[int, ...]:
    """ "1d,15m" → (1440, 15): minutes before the start, largest first."""
    try:
        offsets = [parse_duration(part) for part in text.split(",") if part.strip()]
    except CadenceError as error:
        raise UsageError(f"{error}\nReminders look like `remind 1d,15m` or `remind 2h`.") from error
    if not offsets or not 1 <= len(offsets) <= 3:
        raise UsageError("Give one to three reminder times, e.g. `remind 1d,15m`.")
    if any(o < timedelta(minutes=1) or o > MAX_REMINDER for o in offsets):
        raise UsageError("Reminders go from a minute to 14 days before, e.g. `remind 1d,15m`.")
    return tuple(sorted({int(o.total_seconds() // 60) for o in offsets}, reverse=True))


def reminders_text(minutes: tuple[int, ...]) -> str:
    """(1440, 15) → "1d, 15m" (what ``parse_reminders`` reads back)."""
    parts = []
    for value in minutes:
        if value % 1440 == 0:
            parts.append(f"{value // 1440}d")
        elif value % 60 == 0:
            parts.append(f"{value // 60}h")
        else:
            parts.append(f"{value}m")
    return ", ".join(parts)


def parse_start_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"I can't read “{mrkdwn.echo(text)}” as a date. Write it as YYYY-MM-DD, "
            "e.g. `from 2026-04-07`."
        ) from None


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class CheckInView:
    number: int
    id: int
    title: str
    schedule: str  # "weekly on Tuesday at 10:00 (Europe/London)"
    tz: str
    participants: tuple[str, ...]
    channel_id: str | None
    next_start: datetime | None
    next_skipped_reason: str | None
    created_by: str
    reminders: tuple[int, ...] = DEFAULT_REMINDERS
    lifted_skip: datetime | None = None  # a skipped start the edit moved: no longer skipped


@dataclass(frozen=True)
class PastOccurrence:
    title: str
    starts_at: datetime
    tz: str
    outcome: str  # held, skipped, rescheduled, unknown
    note: str | None
    reason: str | None


@dataclass(frozen=True)
class Adherence:
    title: str
    scheduled: int
    held: int
    streak: int


@dataclass(frozen=True)
class History:
    relationship: str
    recent: list[PastOccurrence]
    adherence: list[Adherence]
    scheduled: int
    held: int


# ----------------------------------------------------------------------------- helpers


def _member(session: Session, relationship_id: int, user_id: str) -> Member | None:
    return session.scalar(
        select(Member).where(Member.relationship_id == relationship_id, Member.user_id == user_id)
    )


def _require_editor(session: Session, checkin: CheckIn, user_id: str) -> None:
    member = _member(session, checkin.relationship_id, user_id)
    if member is not None and (member.role is Role.OWNER or checkin.created_by == user_id):
        return
    raise NotAllowed(
        f"Only owners and whoever created *{mrkdwn.escape(checkin.title)}* can change it."
    )


def _participants(session: Session, checkin_id: int) -> tuple[str, ...]:
    """The participants who are still members: someone taken out of the relationship gets
    no more reminders, and an edit of the check-in drops them for good."""
    return tuple(
        session.scalars(
            select(CheckInParticipant.user_id)
            .join(CheckIn, CheckIn.id == CheckInParticipant.checkin_id)
            .join(
                Member,
                (Member.relationship_id == CheckIn.relationship_id)
                & (Member.user_id == CheckInParticipant.user_id),
            )
            .where(CheckInParticipant.checkin_id == checkin_id)
            .order_by(CheckInParticipant.position, CheckInParticipant.id)
        )
    )


def _validate(
    session: Session, relationship: Relationship, draft: CheckInDraft, checkin_id: int | None
) -> dict[str, str]:
    """Problems keyed by modal field (title, cadence, tz, participants)."""
    errors: dict[str, str] = {}
    title = " ".join(draft.title.split())
    if not title:
        errors["title"] = "Give the check-in a title."
    elif problem := rel.length_problem(title, TITLE_MAX):
        errors["title"] = problem
    else:
        clash = session.scalar(
            select(CheckIn.id).where(
                CheckIn.relationship_id == relationship.id, CheckIn.title_key == name_key(title)
            )
        )
        if clash is not None and clash != checkin_id:
            errors["title"] = (
                f"*{mrkdwn.escape(relationship.name)}* already has a check-in "
                f"“{mrkdwn.escape(title)}”."
            )
    if not draft.participants:
        errors["participants"] = "Who takes part? Name people from both sides."
    else:
        members = set(
            session.scalars(
                select(Member.user_id).where(
                    Member.relationship_id == relationship.id,
                    Member.user_id.in_(draft.participants),
                )
            )
        )
        outside = [user for user in draft.participants if user not in members]
        if outside:  # no mentions: the modal shows its errors as plain text
            who = "Someone you picked is" if len(outside) == 1 else f"{len(outside)} people are"
            errors["participants"] = (
                f"{who} not part of *{mrkdwn.escape(relationship.name)}*. An owner can add "
                "them with `/rapport add @person client|provider`."
            )
    interval = typical_interval(draft.cadence)
    if interval < MIN_INTERVAL:
        errors["cadence"] = (
            f"`{mrkdwn.escape(draft.cadence.describe())}` happens more than once a day; a "
            "check-in can happen at most daily. Give one minute and one hour, e.g. "
            "`cron 0 9 * * 1-5` (09:00 on weekdays)."
        )
    elif timedelta(minutes=max(draft.reminders)) > interval:
        longest = int(interval.total_seconds() // 60)
        errors["remind"] = (
            f"`remind {reminders_text((max(draft.reminders),))}` is longer than the gap "
            f"between check-ins ({mrkdwn.escape(draft.cadence.describe())}): remind at most "
            f"{reminders_text((longest,))} before, e.g. `remind 1d,15m`."
        )
    return errors


def _schedule_text(checkin: CheckIn) -> str:
    return f"{parse_cadence(checkin.cadence).describe()} ({checkin.tz})"


def plan_next(session: Session, checkin: CheckIn, after: datetime) -> Occurrence:
    """Plan the occurrence after ``after`` and queue its work."""
    starts = next_occurrence(
        parse_cadence(checkin.cadence), ZoneInfo(checkin.tz), after, checkin.anchor
    )
    ends = starts + timedelta(minutes=checkin.duration_minutes)
    occurrence = session.scalar(
        select(Occurrence).where(
            Occurrence.checkin_id == checkin.id, Occurrence.starts_at == starts
        )
    )
    if occurrence is not None:  # already planned (e.g. an edit back to the same schedule)
        return occurrence
    occurrence = Occurrence(
        team_id=checkin.team_id,
        relationship_id=checkin.relationship_id,
        checkin_id=checkin.id,
        starts_at=starts,
        ends_at=ends,
    )
    session.add(occurrence)
    session.flush()

    def task(kind: TaskKind, due: datetime, offset: int = 0) -> CheckInTask:
        return CheckInTask(
            team_id=checkin.team_id,
            checkin_id=checkin.id,
            occurrence_id=occurrence.id,
            kind=kind,
            offset_minutes=offset,
            next_due_at=due,
        )

    session.add(task(TaskKind.ADVANCE, starts))
    for offset in _offsets(checkin):
        session.add(task(TaskKind.REMINDER, starts - timedelta(minutes=offset), offset))
    session.add(task(TaskKind.FOLLOW_UP, ends))
    session.add(task(TaskKind.LAPSE_CHECK, ends + LAPSE_GRACE))
    session.flush()
    return occurrence


def _offsets(checkin: CheckIn) -> list[int]:
    return [int(value) for value in checkin.reminder_offsets.split(",") if value.strip()]


def _set_participants(session: Session, checkin: CheckIn, people: tuple[str, ...]) -> None:
    session.execute(delete(CheckInParticipant).where(CheckInParticipant.checkin_id == checkin.id))
    for position, user_id in enumerate(people):
        session.add(
            CheckInParticipant(
                team_id=checkin.team_id, checkin_id=checkin.id, user_id=user_id, position=position
            )
        )


# ----------------------------------------------------------------------------- commands


def create_checkin(
    session: Session,
    relationship: Relationship,
    creator: str,
    draft: CheckInDraft,
    tz_name: str,
    now: datetime,
) -> CheckInView:
    """Create a check-in (any member may) and plan its first occurrence."""
    rel.require_member(session, relationship, creator)
    errors = _validate(session, relationship, draft, None)
    if errors:
        raise RapportError(" ".join(errors.values()))
    tz = ZoneInfo(draft.tz or tz_name)
    today = now.astimezone(tz).date()
    if problem := start_date_problem(draft.starts_on, tz, now):
        example = today + timedelta(days=1 if draft.starts_on < today else 7)
        raise RapportError(f"{problem} For example `from {example}`.")
    title = " ".join(draft.title.split())
    checkin = CheckIn(
        team_id=relationship.team_id,
        relationship_id=relationship.id,
        title=title,
        title_key=name_key(title),
        cadence=draft.cadence.to_spec(),
        tz=tz.key,
        duration_minutes=int(draft.duration.total_seconds() // 60),
        reminder_offsets=",".join(str(minutes) for minutes in draft.reminders),
        channel_id=draft.channel_id,
        anchor=draft.starts_on or today,
        created_by=creator,
        created_at=now,
    )
    session.add(checkin)
    session.flush()
    _set_participants(session, checkin, draft.participants)
    plan_next(session, checkin, now)
    return _view(session, checkin, 0, now)


def _upcoming(session: Session, checkin_id: int, now: datetime) -> Occurrence | None:
    """The planned occurrence (the one after ``now``), if any."""
    return session.scalar(
        select(Occurrence)
        .where(Occurrence.checkin_id == checkin_id, Occurrence.starts_at > now)
        .order_by(Occurrence.starts_at)
        .limit(1)
    )


def _view(session: Session, checkin: CheckIn, number: int, now: datetime) -> CheckInView:
    upcoming = _upcoming(session, checkin.id, now)
    return CheckInView(
        number=number,
        id=checkin.id,
        title=checkin.title,
        schedule=_schedule_text(checkin),
        tz=checkin.tz,
        participants=_participants(session, checkin.id),
        channel_id=checkin.channel_id,
        next_start=upcoming.starts_at if upcoming else None,
        next_skipped_reason=(
            (upcoming.reason or "no reason given")
            if upcoming is not None and upcoming.outcome is Outcome.SKIPPED
            else None
        ),
        created_by=checkin.created_by,
        reminders=tuple(_offsets(checkin)),
    )


def _checkins(session: Session, relationship_id: int) -> list[CheckIn]:
    return list(
        session.scalars(
            select(CheckIn).where(CheckIn.relationship_id == relationship_id).order_by(CheckIn.id)
        )
    )


def list_checkins(
    session: Session, relationship: Relationship, user_id: str, now: datetime
) -> list[CheckInView]:
    rel.require_member(session, relationship, user_id)
    return [
        _view(session, checkin, number, now)
        for number, checkin in enumerate(_checkins(session, relationship.id), start=1)
    ]


def find_checkin(session: Session, relationship: Relationship, ref: str) -> CheckIn:
    """By its number in ``/checkin list`` or by title (exact, then unique partial match)."""
    checkins = _checkins(session, relationship.id)
    if ref.strip().isdigit():
        number = int(ref)
        if 1 <= number <= len(checkins):
            return checkins[number - 1]
        raise RapportError(
            f"There's no check-in number {number}. `/checkin list` shows the numbers."
        )
    key = name_key(ref)
    exact = [c for c in checkins if c.title_key == key]
    partial = exact or [c for c in checkins if key and key in c.title_key]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise RapportError(
            f"“{mrkdwn.escape(ref)}” matches several check-ins. Use its number from "
            "`/checkin list`."
        )
    raise RapportError(
        f"I can't find a check-in called “{mrkdwn.escape(ref)}”. `/checkin list` shows them."
    )


def get_checkin(session: Session, team_id: str, checkin_id: int) -> CheckIn:
    checkin = session.scalar(
        select(CheckIn).where(CheckIn.id == checkin_id, CheckIn.team_id == team_id)
    )
    if checkin is None:
        raise RapportError("That check-in no longer exists.")
    return checkin


@dataclass(frozen=True)
class EditForm:
    """What the modal needs to show a check-in for editing."""

    relationship_id: int
    checkin_id: int | None
    title: str
    cadence: str
    tz: str
    duration_minutes: int
    participants: tuple[str, ...]
    channel_id: str | None
    reminders: tuple[int, ...] = DEFAULT_REMINDERS


def edit_form(session: Session, checkin: CheckIn, user_id: str) -> EditForm:
    _require_editor(session, checkin, user_id)
    return EditForm(
        relationship_id=checkin.relationship_id,
        checkin_id=checkin.id,
        title=checkin.title,
        cadence=parse_cadence(checkin.cadence).describe(),
        tz=checkin.tz,
        duration_minutes=checkin.duration_minutes,
        participants=_participants(session, checkin.id),
        channel_id=checkin.channel_id,
        reminders=tuple(_offsets(checkin)),
    )


def catch_up_form(
    session: Session, team_id: str, relationship_id: int, user_id: str, tz: str
) -> EditForm:
    """The modal prefilled for an informal catch-up between both sides' owners."""
    relationship = get_relationship(session, team_id, relationship_id)
    member = rel.require_member(session, relationship, user_id)
    if member.role is not Role.OWNER:
        raise NotAllowed(
            f"Only owners of *{mrkdwn.escape(relationship.name)}* can schedule catch-ups for it."
        )
    owners = session.scalars(
        select(Member.user_id)
        .where(Member.relationship_id == relationship.id, Member.role == Role.OWNER)
        .order_by(Member.added_at, Member.id)
    )
    return EditForm(relationship.id, None, "Informal catch-up", "", tz, 30, tuple(owners), None)


def start_date_problem(starts_on: date | None, tz: ZoneInfo, now: datetime) -> str | None:
    """Why a check-in can't start on ``starts_on`` (a local date in ``tz``), if it can't."""
    if starts_on is None:
        return None
    today = now.astimezone(tz).date()
    if starts_on < today:
        return f"{starts_on:%-d %b %Y} has already passed in {tz.key}. Pick today or a later date."
    if starts_on > today + MAX_START_AHEAD:
        return f"{starts_on:%-d %b %Y} is too far ahead: start within two years."
    return None


def validate_draft(
    session: Session,
    team_id: str,
    relationship_id: int,
    checkin_id: int | None,
    draft: CheckInDraft,
    now: datetime,
) -> dict[str, str]:
    """Problems with the modal's draft, keyed by its fields (a first date: new ones only)."""
    relationship = get_relationship(session, team_id, relationship_id)
    errors = _validate(session, relationship, draft, checkin_id)
    problem = None
    if checkin_id is None and draft.tz is not None:
        problem = start_date_problem(draft.starts_on, ZoneInfo(draft.tz), now)
    if problem:
        errors["starts"] = problem
    return errors


def save_from_form(
    session: Session,
    team_id: str,
    relationship_id: int,
    checkin_id: int | None,
    user_id: str,
    draft: CheckInDraft,
    now: datetime,
) -> CheckInView:
    """Create (``checkin_id`` None) or update from the modal."""
    relationship = get_relationship(session, team_id, relationship_id)
    if checkin_id is None:
        assert draft.tz is not None
        return create_checkin(session, relationship, user_id, draft, draft.tz, now)
    return update_checkin(session, get_checkin(session, team_id, checkin_id), user_id, draft, now)


def update_checkin(
    session: Session, checkin: CheckIn, user_id: str, draft: CheckInDraft, now: datetime
) -> CheckInView:
    """Change a check-in; the planned occurrence is re-planned. A skip of it holds while the
    new schedule keeps its start (else the view's ``lifted_skip`` says it no longer
    applies). A cadence stretched to a much longer interval queues a lapse alert."""
    _require_editor(session, checkin, user_id)
    relationship = get_relationship(session, checkin.team_id, checkin.relationship_id)
    errors = _validate(session, relationship, draft, checkin.id)
    if errors:
        raise RapportError(" ".join(errors.values()))
    before = parse_cadence(checkin.cadence)
    title = " ".join(draft.title.split())
    checkin.title, checkin.title_key = title, name_key(title)
    checkin.cadence = draft.cadence.to_spec()
    if draft.tz:
        checkin.tz = draft.tz
    checkin.duration_minutes = int(draft.duration.total_seconds() // 60)
    checkin.channel_id = draft.channel_id
    checkin.reminder_offsets = ",".join(str(minutes) for minutes in draft.reminders)
    _set_participants(session, checkin, draft.participants)
    planned = _upcoming(session, checkin.id, now)
    skip = (
        (planned.starts_at, planned.reason, planned.answered_by, planned.answered_at)
        if planned is not None and planned.outcome is Outcome.SKIPPED
        else None
    )
    session.execute(
        delete(Occurrence).where(Occurrence.checkin_id == checkin.id, Occurrence.starts_at > now)
    )
    session.flush()
    upcoming = plan_next(session, checkin, now)
    lifted_skip = None
    if skip is not None:
        skipped_start, reason, skipped_by, skipped_at = skip
        if skipped_start == upcoming.starts_at:
            upcoming.outcome, upcoming.reason = Outcome.SKIPPED, reason
            upcoming.answered_by, upcoming.answered_at = skipped_by, skipped_at
        else:
            lifted_skip = skipped_start
    if typical_interval(draft.cadence) >= typical_interval(before) * STRETCH_FACTOR:
        checkin.stretched_from = before.to_spec()
        session.add(
            CheckInTask(
                team_id=checkin.team_id,
                checkin_id=checkin.id,
                occurrence_id=upcoming.id,
                kind=TaskKind.STRETCHED,
                offset_minutes=0,
                next_due_at=now,
            )
        )
    session.flush()
    return replace(_view(session, checkin, 0, now), lifted_skip=lifted_skip)


def remove_checkin(session: Session, relationship: Relationship, ref: str, user_id: str) -> str:
    checkin = find_checkin(session, relationship, ref)
    _require_editor(session, checkin, user_id)
    title = checkin.title
    session.delete(checkin)
    session.flush()
    return title


def skip_next(
    session: Session, relationship: Relationship, ref: str, user_id: str, reason: str, now: datetime
) -> tuple[str, datetime, str]:
    """Mark the planned occurrence skipped: no reminders, no follow-up. Owners, the creator
    and participants may. Returns (title, start, tz)."""
    checkin = find_checkin(session, relationship, ref)
    if user_id not in _participants(session, checkin.id):
        _require_editor(session, checkin, user_id)
    upcoming = _upcoming(session, checkin.id, now)
    if upcoming is None:
        raise RapportError("There's no upcoming occurrence to skip.")
    if upcoming.outcome is Outcome.SKIPPED:
        raise RapportError(f"The next *{mrkdwn.escape(checkin.title)}* is already skipped.")
    upcoming.outcome, upcoming.reason = Outcome.SKIPPED, reason[:REASON_MAX]
    upcoming.answered_by, upcoming.answered_at = user_id, now
    return checkin.title, upcoming.starts_at, checkin.tz


# ----------------------------------------------------------------------------- buttons


@dataclass(frozen=True)
class OccurrenceFacts:
    occurrence_id: int
    checkin_id: int
    relationship_id: int
    team_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    tz: str
    participants: tuple[str, ...]
    channel_id: str | None
    creator: str
    outcome: str | None
    note: str | None
    reason: str | None


def occurrence_facts(session: Session, team_id: str, occurrence_id: int) -> OccurrenceFacts:
    row = session.execute(
        select(Occurrence, CheckIn)
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .where(Occurrence.id == occurrence_id, Occurrence.team_id == team_id)
    ).first()
    if row is None:
        raise RapportError("That check-in no longer exists.")
    occurrence, checkin = row
    return OccurrenceFacts(
        occurrence_id=occurrence.id,
        checkin_id=checkin.id,
        relationship_id=checkin.relationship_id,
        team_id=checkin.team_id,
        title=checkin.title,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        tz=checkin.tz,
        participants=_participants(session, checkin.id),
        channel_id=checkin.channel_id,
        creator=checkin.created_by,
        outcome=occurrence.outcome.value if occurrence.outcome else None,
        note=occurrence.note,
        reason=occurrence.reason,
    )


def _occurrence_for_member(
    session: Session, team_id: str, occurrence_id: int, user_id: str
) -> Occurrence:
    occurrence = session.scalar(
        select(Occurrence).where(Occurrence.id == occurrence_id, Occurrence.team_id == team_id)
    )
    if occurrence is None:
        raise RapportError("That check-in no longer exists.")
    if _member(session, occurrence.relationship_id, user_id) is None:
        raise NotAllowed("That button is for people in this relationship.")
    return occurrence


def record_rsvp(
    session: Session, team_id: str, occurrence_id: int, user_id: str, attending: bool, now: datetime
) -> OccurrenceFacts:
    """Save "I'll be there" / "Can't make it" (the last answer counts)."""
    occurrence = _occurrence_for_member(session, team_id, occurrence_id, user_id)
    rsvp = session.scalar(
        select(Rsvp).where(Rsvp.occurrence_id == occurrence.id, Rsvp.user_id == user_id)
    )
    if rsvp is None:
        session.add(
            Rsvp(
                team_id=team_id,
                occurrence_id=occurrence.id,
                user_id=user_id,
                attending=attending,
                answered_at=now,
            )
        )
    else:
        rsvp.attending, rsvp.answered_at = attending, now
    session.flush()
    return occurrence_facts(session, team_id, occurrence.id)


def record_outcome(
    session: Session,
    team_id: str,
    occurrence_id: int,
    user_id: str,
    outcome: Outcome,
    now: datetime,
) -> OccurrenceFacts:
    """Held / skipped / rescheduled, from the follow-up; any member may answer."""
    occurrence = _occurrence_for_member(session, team_id, occurrence_id, user_id)
    occurrence.outcome, occurrence.answered_by, occurrence.answered_at = outcome, user_id, now
    session.flush()
    return occurrence_facts(session, team_id, occurrence.id)


def record_note(
    session: Session, team_id: str, occurrence_id: int, user_id: str, note: str
) -> OccurrenceFacts:
    occurrence = _occurrence_for_member(session, team_id, occurrence_id, user_id)
    occurrence.note = note.strip()[:NOTE_MAX] or None
    session.flush()
    return occurrence_facts(session, team_id, occurrence.id)


# ----------------------------------------------------------------------------- history

HISTORY_WINDOW = timedelta(weeks=8)
HISTORY_ITEMS = 10


def history(session: Session, relationship: Relationship, user_id: str, now: datetime) -> History:
    """Recent occurrences (unanswered = "unknown"), adherence over 8 weeks, streaks."""
    rel.require_member(session, relationship, user_id)
    rows = session.execute(
        select(Occurrence, CheckIn.title, CheckIn.tz)
        .join(CheckIn, CheckIn.id == Occurrence.checkin_id)
        .where(Occurrence.relationship_id == relationship.id, Occurrence.starts_at <= now)
        .order_by(Occurrence.starts_at.desc())
        .limit(HISTORY_ITEMS)
    ).all()
    recent = [
        PastOccurrence(
            title,
            occurrence.starts_at,
            tz,
            occurrence.outcome.value if occurrence.outcome else "unknown",
            occurrence.note,
            occurrence.reason,
        )
        for occurrence, title, tz in rows
    ]
    held = func.sum(case((Occurrence.outcome == Outcome.HELD, 1), else_=0))
    counts = {
        checkin_id: (scheduled, int(held_count or 0))
        for checkin_id, scheduled, held_count in session.execute(
            select(Occurrence.checkin_id, func.count(Occurrence.id), held)
            .where(
                Occurrence.relationship_id == relationship.id,
                Occurrence.starts_at <= now,
                Occurrence.starts_at > now - HISTORY_WINDOW,
            )
            .group_by(Occurrence.checkin_id)
        )
    }
    adherence = []
    for checkin in _checkins(session, relationship.id):
        scheduled, held_count = counts.get(checkin.id, (0, 0))
        adherence.append(
            Adherence(checkin.title, scheduled, held_count, _streak(session, checkin.id, now))
        )
    return History(
        relationship.name,
        recent,
        adherence,
        sum(scheduled for scheduled, _ in counts.values()),
        sum(held_count for _, held_count in counts.values()),
    )


def recent_outcomes(
    session: Session, checkin_id: int, until: datetime, limit: int = 52
) -> list[tuple[int, Outcome | None]]:
    return [
        (occurrence_id, outcome)
        for occurrence_id, outcome in session.execute(
            select(Occurrence.id, Occurrence.outcome)
            .where(Occurrence.checkin_id == checkin_id, Occurrence.starts_at <= until)
            .order_by(Occurrence.starts_at.desc())
            .limit(limit)
        )
    ]


def _streak(session: Session, checkin_id: int, now: datetime) -> int:
    """Occurrences held in a row, counting back from the latest answered one."""
    streak = 0
    for index, (_, outcome) in enumerate(recent_outcomes(session, checkin_id, now)):
        if outcome is Outcome.HELD:
            streak += 1
        elif outcome is None and index == 0:
            continue  # the latest may simply not be answered yet
        else:
            break
    return streak
