"""Pulse surveys: schedules, rounds, anonymous answers and what the scheduler must send.

Functions take plain values and a SQLAlchemy ``Session`` and return plain values or ORM
rows; Slack is someone else's job. Problems a person can fix raise ``RapportError`` whose
message is safe mrkdwn.

A round's prompt reaches each member at the schedule's local time *in their own time zone*:
a scheduled round is keyed by its date and opens (becomes answerable) at that time in the
earliest time zone on Earth; it closes ``window_days`` after that time in the latest one, so
everyone gets at least the whole window.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.cadence import Cadence, CadenceError, parse_cadence
from bot.core.occurrences import local_instant, occurrence_day
from bot.pulse.models import (
    PulseAnswer,
    PulseComment,
    PulseQuestion,
    PulseRecipient,
    PulseRound,
    PulseSettings,
    RecipientStatus,
)
from bot.relationships.domain import NotAllowed, RapportError, require_owner
from bot.relationships.models import Member, Relationship, Role, Side
from bot.slack import mrkdwn

DEFAULT_CADENCE = "every 2 weeks tue 10:00"
DEFAULT_QUESTION = "How well is the partnership working for you this week?"
DEFAULT_QUESTION_KEY = 0
MAX_QUESTIONS = 5
QUESTION_MAX = 200
COMMENT_MAX = 2000
SCORES = range(1, 6)
EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")  # UTC+14, where a local time comes first
LATEST_ZONE = ZoneInfo("Etc/GMT+12")  # UTC-12, where it comes last
WIPED_SECRET = ""  # a closed round's secret (see forget_closed_round_secrets)


class RoundClosed(RapportError):
    """The round behind a button has closed; answers are no longer taken."""


@dataclass(frozen=True)
class Schedule:
    cadence: Cadence
    paused: bool
    window_days: int
    min_group: int
    drop_alert: float
    gap_alert: float
    response_alert: float
    reminder_hours: int
    next_round_day: date | None  # None while paused


# ----------------------------------------------------------------------------- settings


def _defaults(relationship: Relationship) -> PulseSettings:
    return PulseSettings(
        relationship_id=relationship.id,
        team_id=relationship.team_id,
        cadence=DEFAULT_CADENCE,
        anchor=relationship.created_at.date(),
        not_before=relationship.created_at,
        paused=False,
        window_days=3,
        min_group=3,
        drop_alert=0.5,
        gap_alert=1.0,
        response_alert=0.4,
        reminder_hours=24,
    )


def settings_for(session: Session, relationship: Relationship) -> PulseSettings:
    """The relationship's settings; unsaved defaults when owners never changed any."""
    return session.get(PulseSettings, relationship.id) or _defaults(relationship)


def _editable_settings(session: Session, relationship: Relationship) -> PulseSettings:
    settings = session.get(PulseSettings, relationship.id)
    if settings is None:
        settings = _defaults(relationship)
        session.add(settings)
    return settings


def schedule(session: Session, relationship: Relationship) -> Schedule:
    settings = settings_for(session, relationship)
    next_day = None if settings.paused else _next_day(session, settings)
    return Schedule(
        cadence=parse_cadence(settings.cadence),
        paused=settings.paused,
        window_days=settings.window_days,
        min_group=settings.min_group,
        drop_alert=settings.drop_alert,
        gap_alert=settings.gap_alert,
        response_alert=settings.response_alert,
        reminder_hours=settings.reminder_hours,
        next_round_day=next_day,
    )


def set_schedule(
    session: Session, relationship: Relationship, actor: str, text: str, now: datetime
) -> Schedule:
    """Replace the cadence, e.g. "every 2 weeks on Tuesday at 10:00"; counts from today."""
    require_owner(session, relationship, actor)
    cadence = parse_cadence(text)  # CadenceError is a RapportError-like message
    if cadence.kind == "cron":
        raise CadenceError(
            "Pulse schedules are weekly, every few weeks or monthly, e.g. "
            "`every 2 weeks on Tuesday at 10:00` or `monthly on the first Monday at 9:30`."
        )
    _start_cadence(_editable_settings(session, relationship), cadence, now)
    session.flush()
    return schedule(session, relationship)


def _start_cadence(settings: PulseSettings, cadence: Cadence, now: datetime) -> None:
    """A new cadence counts from today: no round before now, fortnights from this week."""
    settings.cadence = cadence.to_spec()
    settings.anchor = now.date()
    settings.not_before = now


@dataclass(frozen=True)
class ScheduleForm:
    """What the schedule modal sets, already checked field by field."""

    every_weeks: int | None  # 1 or 2; None for monthly
    weekday: int  # 0 = Monday
    at: time  # local wall-clock time
    window_days: int


def edit_schedule(
    session: Session, relationship: Relationship, actor: str, form: ScheduleForm, now: datetime
) -> Schedule:
    """Save the schedule modal. The cadence restarts from today only if it changed, so
    editing just the window keeps which fortnight rounds fall in; a monthly schedule keeps
    its week of the month (the first, for one that wasn't monthly)."""
    require_owner(session, relationship, actor)
    settings = _editable_settings(session, relationship)
    current = parse_cadence(settings.cadence)
    if form.every_weeks is None:
        nth = current.nth if current.kind == "monthly" else 1
        cadence = Cadence("monthly", form.at, form.weekday, nth=nth)
    else:
        cadence = Cadence("weekly", form.at, form.weekday, interval_weeks=form.every_weeks)
    if cadence.to_spec() != settings.cadence:
        _start_cadence(settings, cadence, now)
    settings.window_days = form.window_days
    session.flush()
    return schedule(session, relationship)


def set_paused(
    session: Session, relationship: Relationship, actor: str, paused: bool, now: datetime
) -> bool:
    """Pause or resume; returns False when it already was. Resuming never catches up on
    rounds missed while paused."""
    require_owner(session, relationship, actor)
    settings = _editable_settings(session, relationship)
    if settings.paused == paused:
        return False
    settings.paused = paused
    if not paused:
        settings.not_before = now
    session.flush()
    return True


@dataclass(frozen=True)
class SettingRule:
    column: str
    low: float
    high: float
    unit: str
    integer: bool = True
    scale: float = 1.0  # stored = typed / scale

    @property
    def example(self) -> float:
        middle = (self.low + self.high) / 4
        return round(middle) if self.integer else round(middle, 1)


SETTING_RULES = {
    "min-group": SettingRule("min_group", 2, 50, "answers"),
    "window": SettingRule("window_days", 1, 14, "days"),
    "reminder": SettingRule("reminder_hours", 1, 72, "hours before the close"),
    "drop": SettingRule("drop_alert", 0.1, 4, "points", integer=False),
    "gap": SettingRule("gap_alert", 0.1, 4, "points", integer=False),
    "response": SettingRule("response_alert", 1, 100, "%", scale=100),
}


def change_setting(
    session: Session, relationship: Relationship, actor: str, name: str, value: str, now: datetime
) -> str:
    """Set one of ``SETTING_RULES`` from typed text; returns what is now in force.
    ``min-group`` also applies to rounds not closed yet; a closed round keeps its own."""
    require_owner(session, relationship, actor)
    rule = SETTING_RULES.get(name.lower())
    if rule is None:
        raise RapportError(
            f"I don't know the setting `{mrkdwn.echo(name)}`. "
            f"Settings: {', '.join(f'`{n}`' for n in SETTING_RULES)}."
        )
    try:
        number = float(value.strip().rstrip("%"))
    except ValueError:
        number = float("nan")
    if not (rule.low <= number <= rule.high) or (rule.integer and number != int(number)):
        kind = "a whole number" if rule.integer else "a number"
        raise RapportError(
            f"`{name}` takes {kind} from {rule.low:g} to {rule.high:g} ({rule.unit}), "
            f"e.g. `/pulse settings {name} {rule.example:g}`."
        )
    settings = _editable_settings(session, relationship)
    stored = number / rule.scale
    setattr(settings, rule.column, int(stored) if rule.integer and rule.scale == 1 else stored)
    if rule.column == "min_group":
        session.execute(
            update(PulseRound)
            .where(
                PulseRound.relationship_id == relationship.id,
                PulseRound.closes_at > now,
            )
            .values(min_group=settings.min_group)
        )
    session.flush()
    return f"{number:g}{'' if rule.unit == '%' else ' '}{rule.unit}"


# ---------------------------------------------------------------------------- questions


def questions(session: Session, relationship: Relationship) -> list[tuple[int, str]]:
    """(key, text) of the questions a new round asks; the default one when none is set."""
    rows = session.execute(
        select(PulseQuestion.id, PulseQuestion.text)
        .where(PulseQuestion.relationship_id == relationship.id)
        .order_by(PulseQuestion.id)
    ).all()
    return [(key, text) for key, text in rows] or [(DEFAULT_QUESTION_KEY, DEFAULT_QUESTION)]


def add_question(
    session: Session, relationship: Relationship, actor: str, text: str, now: datetime
) -> list[tuple[int, str]]:
    require_owner(session, relationship, actor)
    text = " ".join(text.split())
    if not text:
        raise RapportError("What should I ask? e.g. `/pulse questions add How is communication?`")
    if len(text) > QUESTION_MAX:
        raise RapportError(f"Keep a question under {QUESTION_MAX} characters.")
    configured = session.scalar(
        select(func.count())
        .select_from(PulseQuestion)
        .where(PulseQuestion.relationship_id == relationship.id)
    )
    if configured == 0:  # the default question becomes the first of the set
        session.add(_question(relationship, DEFAULT_QUESTION, now))
        configured = 1
    if configured >= MAX_QUESTIONS:
        raise RapportError(
            f"A pulse asks at most {MAX_QUESTIONS} questions, so it stays quick. "
            "Remove one first with `/pulse questions remove <number>`."
        )
    session.add(_question(relationship, text, now))
    session.flush()
    return questions(session, relationship)


def _question(relationship: Relationship, text: str, now: datetime) -> PulseQuestion:
    return PulseQuestion(
        team_id=relationship.team_id, relationship_id=relationship.id, text=text, created_at=now
    )


def remove_question(
    session: Session, relationship: Relationship, actor: str, number: int
) -> tuple[str, list[tuple[int, str]]]:
    """Remove the ``number``-th question (1-based); rounds already open keep asking it."""
    require_owner(session, relationship, actor)
    current = questions(session, relationship)
    if not 1 <= number <= len(current):
        raise RapportError(
            f"There's no question {number}. `/pulse questions` lists them with their numbers."
        )
    key, text = current[number - 1]
    if key == DEFAULT_QUESTION_KEY or len(current) == 1:
        raise RapportError("A pulse needs at least one question. Add another before removing it.")
    session.delete(session.get(PulseQuestion, key))
    session.flush()
    return text, questions(session, relationship)


# ------------------------------------------------------------------------------- rounds


def respondent_token(secret: str, team_id: str, user_id: str) -> str:
    """Stands in for the person in answers: stable within a round, unlinkable across rounds
    without the round's secret, and never stored next to the user id."""
    return hmac.new(secret.encode(), f"{team_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def forget_closed_round_secrets(session: Session, now: datetime) -> int:
    """Wipe the secret of every round that has closed; returns how many were wiped.

    While a round is open its secret lets Rapport find a person's own answers (to change
    them, or to remind only those who haven't answered). Once it closes nothing may link a
    person to what they said: with the secret gone, HMAC(secret, team:user) can't be
    recomputed from ``pulse_recipients.user_id``, by Rapport or by anyone holding the
    database. Closed rounds take no answers, so the secret is never needed again.
    """
    return session.execute(
        update(PulseRound)
        .where(PulseRound.closes_at <= now, PulseRound.secret != WIPED_SECRET)
        .values(secret=WIPED_SECRET)
    ).rowcount


def round_questions(pulse_round: PulseRound) -> list[tuple[int, str]]:
    return [(int(key), str(text)) for key, text in json.loads(pulse_round.questions)]


def is_closed(pulse_round: PulseRound, now: datetime) -> bool:
    return now >= pulse_round.closes_at


def _last_scheduled_opening(session: Session, relationship_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(PulseRound.opens_at)).where(
            PulseRound.relationship_id == relationship_id, PulseRound.day.is_not(None)
        )
    )


def _occurrences(session: Session, settings: PulseSettings):
    """Scheduled (day, opens_at, closes_at) after the last scheduled round, endless."""
    cadence = parse_cadence(settings.cadence)
    after = max(
        filter(
            None, (settings.not_before, _last_scheduled_opening(session, settings.relationship_id))
        )
    )
    while True:
        day = occurrence_day(cadence, EARLIEST_ZONE, after, settings.anchor)
        opens = local_instant(day, cadence.at, EARLIEST_ZONE)
        closes = local_instant(day, cadence.at, LATEST_ZONE) + timedelta(days=settings.window_days)
        yield day, cadence.at, opens, closes
        after = opens


def _next_day(session: Session, settings: PulseSettings) -> date:
    return next(_occurrences(session, settings))[0]


def _create_round(
    session: Session,
    relationship: Relationship,
    settings: PulseSettings,
    day: date | None,
    prompt_at: time,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
) -> PulseRound:
    pulse_round = PulseRound(
        team_id=relationship.team_id,
        relationship_id=relationship.id,
        day=day,
        prompt_at=prompt_at,
        opens_at=opens_at,
        closes_at=closes_at,
        questions=json.dumps(questions(session, relationship)),
        secret=secrets.token_hex(32),
        reminder_before_hours=settings.reminder_hours,
        min_group=settings.min_group,
        alerts_done=False,
        created_at=now,
    )
    session.add(pulse_round)
    session.flush()
    return pulse_round


def open_due_rounds(session: Session, now: datetime) -> list[int]:
    """Create the scheduled rounds whose time has come somewhere on Earth; returns their ids.

    Occurrences that closed while Rapport was down are skipped, not sent late, and so are
    those that fall while another round is still open.
    """
    opened = []
    for relationship in session.scalars(select(Relationship).order_by(Relationship.id)):
        settings = settings_for(session, relationship)
        if settings.paused:
            continue
        for day, at, opens, closes in _occurrences(session, settings):
            if opens > now:
                break
            if closes <= now or _overlaps_open_round(session, relationship.id, opens):
                continue
            try:
                with session.begin_nested():
                    opened.append(
                        _create_round(
                            session, relationship, settings, day, at, opens, closes, now
                        ).id
                    )
            except IntegrityError:  # another process opened it
                pass
    return opened


def _overlaps_open_round(session: Session, relationship_id: int, at: datetime) -> bool:
    """A scheduled occurrence is skipped when another round (e.g. ``/pulse send``) is open."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    PulseRound.relationship_id == relationship_id,
                    PulseRound.opens_at <= at,
                    PulseRound.closes_at > at,
                )
            )
        )
    )


def current_round(session: Session, relationship_id: int, now: datetime) -> PulseRound | None:
    """The newest round taking answers now."""
    return session.scalar(
        select(PulseRound)
        .where(
            PulseRound.relationship_id == relationship_id,
            PulseRound.opens_at <= now,
            PulseRound.closes_at > now,
        )
        .order_by(PulseRound.opens_at.desc(), PulseRound.id.desc())
        .limit(1)
    )


def open_round_now(
    session: Session, relationship: Relationship, actor: str, now: datetime
) -> PulseRound:
    """``/pulse send``: a round for everyone right away, unless one is already open."""
    require_owner(session, relationship, actor)
    if settings_for(session, relationship).paused:
        raise RapportError(
            f"Pulse for *{mrkdwn.escape(relationship.name)}* is paused, so nobody would be "
            "asked. `/pulse resume` first, then `/pulse send`."
        )
    existing = current_round(session, relationship.id, now)
    if existing is not None:
        raise RapportError(
            f"A round of *{mrkdwn.escape(relationship.name)}* is already open until "
            f"<!date^{int(existing.closes_at.timestamp())}^{{date_short_pretty}} {{time}}|"
            f"{existing.closes_at:%Y-%m-%d %H:%M} UTC>."
        )
    settings = settings_for(session, relationship)
    closes = now + timedelta(days=settings.window_days)
    return _create_round(session, relationship, settings, None, time(0), now, closes, now)


def round_for_feedback(session: Session, relationship: Relationship, now: datetime) -> PulseRound:
    """Where ad-hoc feedback counts: the open round, else the next scheduled one."""
    found = current_round(session, relationship.id, now)
    if found is not None:
        return found
    upcoming = session.scalar(
        select(PulseRound)
        .where(PulseRound.relationship_id == relationship.id, PulseRound.opens_at > now)
        .order_by(PulseRound.opens_at)
        .limit(1)
    )
    if upcoming is not None:
        return upcoming
    settings = settings_for(session, relationship)
    if settings.paused:
        raise RapportError(
            f"Pulse surveys for *{mrkdwn.escape(relationship.name)}* are paused, so there's no "
            "round for your feedback to count in. Ask an owner to `/pulse resume`."
        )
    day, at, opens, closes = next(_occurrences(session, settings))
    return _create_round(session, relationship, settings, day, at, opens, closes, now)


# ---------------------------------------------------------------------- what to send


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

    def due_at(self, tz: ZoneInfo) -> datetime:
        if self.day is None:
            return self.opens_at
        return max(self.opens_at, local_instant(self.day, self.prompt_at, tz))


@dataclass(frozen=True)
class Person:
    user_id: str
    side: Side
    role: Role


def _round_to_send(pulse_round: PulseRound, name: str) -> RoundToSend:
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
    )


def rounds_taking_answers(session: Session, now: datetime) -> list[RoundToSend]:
    """Open rounds whose members are prompted and reminded: none of a paused relationship,
    even a round ad-hoc feedback opened ahead (that feedback still counts)."""
    rows = session.execute(
        select(PulseRound, Relationship.name)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .outerjoin(PulseSettings, PulseSettings.relationship_id == PulseRound.relationship_id)
        .where(
            PulseRound.opens_at <= now,
            PulseRound.closes_at > now,
            or_(PulseSettings.paused.is_(None), PulseSettings.paused.is_(False)),
        )
        .order_by(PulseRound.id)
    ).all()
    return [_round_to_send(pulse_round, name) for pulse_round, name in rows]


def get_round_by_id(session: Session, round_id: int) -> RoundToSend:
    """For the scheduler, which found the id itself (no workspace check needed)."""
    row = session.execute(
        select(PulseRound, Relationship.name)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .where(PulseRound.id == round_id)
    ).one()
    return _round_to_send(*row)


def unprompted_members(session: Session, round_id: int, relationship_id: int) -> list[Person]:
    """Current members with no prompt recorded yet, or whose prompt is still pending."""
    rows = session.execute(
        select(Member.user_id, Member.side, Member.role)
        .outerjoin(
            PulseRecipient,
            and_(PulseRecipient.round_id == round_id, PulseRecipient.user_id == Member.user_id),
        )
        .where(
            Member.relationship_id == relationship_id,
            or_(PulseRecipient.id.is_(None), PulseRecipient.status == RecipientStatus.PENDING),
        )
        .order_by(Member.id)
    ).all()
    return [Person(*row) for row in rows]


def mark_prompt(
    session: Session, team_id: str, round_id: int, person: Person, status: str, error: str | None
) -> None:
    """Record that ``person`` is a recipient of the round, and how their prompt went.

    Two schedulers may record the same person at once (one sent the prompt, the other found
    it claimed): the insert race is settled by the unique constraint, and a settled outcome
    (sent, failed) is never put back to pending.
    """
    query = select(PulseRecipient).where(
        PulseRecipient.round_id == round_id, PulseRecipient.user_id == person.user_id
    )
    recipient = session.scalar(query)
    if recipient is None:
        try:
            with session.begin_nested():
                session.add(
                    PulseRecipient(
                        team_id=team_id,
                        round_id=round_id,
                        user_id=person.user_id,
                        side=person.side,
                        role=person.role,
                        status=status,
                        error=error,
                    )
                )
            return
        except IntegrityError:  # the other scheduler recorded them a moment ago
            recipient = session.scalars(query).one()
    if status != RecipientStatus.PENDING or recipient.status == RecipientStatus.PENDING:
        recipient.status, recipient.error = status, error


def members_to_remind(session: Session, round_id: int) -> list[str]:
    """Recipients who were prompted, not yet reminded, and haven't answered anything."""
    pulse_round = session.get(PulseRound, round_id)
    assert pulse_round is not None
    answered = set(
        session.scalars(
            select(PulseAnswer.respondent).where(PulseAnswer.round_id == round_id).distinct()
        )
    )
    recipients = session.scalars(
        select(PulseRecipient.user_id)
        .where(
            PulseRecipient.round_id == round_id,
            PulseRecipient.status == RecipientStatus.SENT,
            PulseRecipient.reminded.is_(False),
        )
        .order_by(PulseRecipient.id)
    ).all()
    return [
        user_id
        for user_id in recipients
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


def rounds_due_for_reminders(session: Session, now: datetime) -> list[RoundToSend]:
    """Open rounds within their reminder period (e.g. the last 24 hours)."""
    return [
        r
        for r in rounds_taking_answers(session, now)
        if now >= r.closes_at - timedelta(hours=_reminder_hours(session, r.round_id))
    ]


def _reminder_hours(session: Session, round_id: int) -> int:
    return (
        session.scalar(select(PulseRound.reminder_before_hours).where(PulseRound.id == round_id))
        or 24
    )


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


# ------------------------------------------------------------------------------ answers


def _membership(session: Session, relationship_id: int, user_id: str) -> Member:
    member = session.scalar(
        select(Member).where(Member.relationship_id == relationship_id, Member.user_id == user_id)
    )
    if member is None:
        raise NotAllowed(
            "This survey is for members of a relationship you're not part of, so I didn't "
            "record anything."
        )
    return member


def _answerable(session: Session, team_id: str, user_id: str, round_id: int, now: datetime):
    pulse_round = session.scalar(
        select(PulseRound).where(PulseRound.id == round_id, PulseRound.team_id == team_id)
    )
    if pulse_round is None:
        raise RapportError("That survey no longer exists.")
    member = _membership(session, pulse_round.relationship_id, user_id)
    if is_closed(pulse_round, now):
        raise RoundClosed(
            "Thanks for wanting to answer! This round has closed, so answers aren't counted "
            "any more. The next one will come to you as usual."
        )
    return pulse_round, member, respondent_token(pulse_round.secret, team_id, user_id)


@dataclass(frozen=True)
class MyAnswers:
    """What one person sees about their own answers, right after giving one."""

    round: RoundToSend
    scores: dict[int, int]  # question key -> score
    commented: bool


def record_answer(
    session: Session,
    team_id: str,
    user_id: str,
    round_id: int,
    question_key: int,
    score: int,
    now: datetime,
) -> MyAnswers:
    """Store (or replace) a score; checks membership in that workspace and that it's open."""
    pulse_round, member, token = _answerable(session, team_id, user_id, round_id, now)
    if question_key not in {key for key, _ in round_questions(pulse_round)}:
        raise RapportError("That question isn't part of this round any more.")
    if score not in SCORES:
        raise RapportError("Pick a score from 1 to 5.")
    _store_score(session, pulse_round, member, token, question_key, score)
    return my_answers(session, team_id, user_id, round_id)


def _store_score(
    session: Session,
    pulse_round: PulseRound,
    member: Member,
    token: str,
    question_key: int,
    score: int,
) -> None:
    def existing() -> PulseAnswer | None:
        return session.scalar(
            select(PulseAnswer).where(
                PulseAnswer.round_id == pulse_round.id,
                PulseAnswer.question_key == question_key,
                PulseAnswer.respondent == token,
            )
        )

    answer = existing()
    if answer is None:
        side, role = _round_group(session, pulse_round.id, token, member)
        try:
            with session.begin_nested():
                session.add(
                    PulseAnswer(
                        team_id=pulse_round.team_id,
                        round_id=pulse_round.id,
                        question_key=question_key,
                        respondent=token,
                        side=side,
                        role=role,
                        score=score,
                    )
                )
            return
        except IntegrityError:  # a double click raced us: replace instead
            answer = existing()
            assert answer is not None
    answer.score = score
    session.flush()


def _round_group(session: Session, round_id: int, token: str, member: Member) -> tuple[Side, Role]:
    """The side and role a respondent counts under for the whole round, fixed by their first
    answer (the side by a comment, if that came first). Someone moved to another side or
    role mid-round stays one person in one group, so no group looks bigger than it is."""
    answered = session.execute(
        select(PulseAnswer.side, PulseAnswer.role)
        .where(PulseAnswer.round_id == round_id, PulseAnswer.respondent == token)
        .limit(1)
    ).first()
    if answered is not None:
        return answered.side, answered.role
    commented = session.scalar(
        select(PulseComment.side).where(
            PulseComment.round_id == round_id, PulseComment.respondent == token
        )
    )
    return commented or member.side, member.role


def record_comment(
    session: Session, team_id: str, user_id: str, round_id: int, text: str, now: datetime
) -> MyAnswers:
    pulse_round, member, token = _answerable(session, team_id, user_id, round_id, now)
    _store_comment(session, pulse_round, member, token, text)
    return my_answers(session, team_id, user_id, round_id)


def _store_comment(
    session: Session, pulse_round: PulseRound, member: Member, token: str, text: str
) -> None:
    text = text.strip()
    if not text:
        return
    if len(text) > COMMENT_MAX:
        raise RapportError(f"Keep your comment under {COMMENT_MAX} characters.")
    comment = session.scalar(
        select(PulseComment).where(
            PulseComment.round_id == pulse_round.id, PulseComment.respondent == token
        )
    )
    if comment is None:
        session.add(
            PulseComment(
                team_id=pulse_round.team_id,
                round_id=pulse_round.id,
                respondent=token,
                side=_round_group(session, pulse_round.id, token, member)[0],
                text=text,
            )
        )
    else:
        comment.text = text
    session.flush()


def give_feedback(
    session: Session,
    team_id: str,
    user_id: str,
    relationship: Relationship,
    score: int,
    comment: str,
    now: datetime,
) -> RoundToSend:
    """``/pulse`` without arguments: a score for the first question (and maybe a comment),
    counted in the open round or the next one."""
    _membership(session, relationship.id, user_id)
    if score not in SCORES:
        raise RapportError("Pick a score from 1 to 5.")
    pulse_round = round_for_feedback(session, relationship, now)
    pulse_round, member, token = _answerable(session, team_id, user_id, pulse_round.id, now)
    first_key = round_questions(pulse_round)[0][0]
    _store_score(session, pulse_round, member, token, first_key, score)
    _store_comment(session, pulse_round, member, token, comment)
    return _round_to_send(pulse_round, relationship.name)


def my_answers_if_open(
    session: Session, team_id: str, user_id: str, round_id: int, now: datetime
) -> MyAnswers:
    """The person's own answers, after checking they may still answer this round."""
    _answerable(session, team_id, user_id, round_id, now)
    return my_answers(session, team_id, user_id, round_id)


def my_answers(session: Session, team_id: str, user_id: str, round_id: int) -> MyAnswers:
    row = session.execute(
        select(PulseRound, Relationship.name)
        .join(Relationship, Relationship.id == PulseRound.relationship_id)
        .where(PulseRound.id == round_id, PulseRound.team_id == team_id)
    ).one()
    pulse_round, name = row
    token = respondent_token(pulse_round.secret, team_id, user_id)
    scores = dict(
        session.execute(
            select(PulseAnswer.question_key, PulseAnswer.score).where(
                PulseAnswer.round_id == round_id, PulseAnswer.respondent == token
            )
        ).all()
    )
    commented = session.scalar(
        select(exists().where(PulseComment.round_id == round_id, PulseComment.respondent == token))
    )
    return MyAnswers(_round_to_send(pulse_round, name), scores, bool(commented))
