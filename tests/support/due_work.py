"""Scheduled messages all due at once, for the fault-tolerance tests and ``bench/soak.py``.

``seed_due_work`` gives one relationship everything the scheduler sends, due at ``now``: a
closed pulse round nobody answered (response-rate alerts to both owners), an open round in
its last day (a prompt, then a reminder in its thread, to every member) and a check-in
starting in ten minutes (its 15-minute reminder to each participant). ``scheduled_sends``
reads what reached the fake Slack, so a test can say "every one exactly once".
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.checkins.commands import create_checkin
from bot.checkins.parser import CheckInDraft
from bot.core.cadence import parse_cadence
from bot.core.clock import Clock
from bot.core.db import Database
from bot.pulse.models import RecipientStatus
from bot.pulse.prompts import mark_prompt, unprompted_members
from bot.pulse.rounds import open_round_now
from bot.pulse.schedule import set_schedule
from bot.relationships import domain as rel
from bot.slack.models import SendStatus, SentMessage
from tests.support.fake_slack import TEAM_ID, Call, FakeSlack
from tests.support.helpers import make_relationship


@dataclass(frozen=True)
class DueWork:
    members: tuple[str, ...]  # a prompt and a reminder each
    owners: tuple[str, ...]  # two alerts each (client and provider response rates)
    participants: tuple[str, ...]  # a check-in reminder each

    def expected(self) -> Counter[str]:
        """Each scheduled message once, named as ``scheduled_sends`` names them."""
        return Counter(
            [f"prompt:{user}" for user in self.members]
            + [f"reminder:D{user[1:]}" for user in self.members]
            + [f"alert:{side}:{user}" for user in self.owners for side in ("client", "provider")]
            + [f"check-in:{user}" for user in self.participants]
        )


class _FixedClock:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now


def seed_due_work(
    db: Database, clock: Clock, members: int, fake: FakeSlack | None = None, batch: int = 0
) -> DueWork:
    """One relationship of ``members`` people (owners included) with everything due; each
    ``batch`` has its own relationship and people."""
    now = clock.now()
    client_owner, provider_owner = f"UOWNC{batch:03d}", f"UOWNP{batch:03d}"
    others = [f"UM{batch:03d}{n:04d}" for n in range(members - 2)]
    relationship_id = make_relationship(
        db,
        _FixedClock(now - timedelta(days=11)),  # older than its rounds
        f"Due Work {batch}",
        creator=client_owner,
        client_members=tuple(others[::2]),
        provider_owners=(provider_owner,),
        provider_members=tuple(others[1::2]),
    )
    everyone = (client_owner, provider_owner, *others)
    participants = (client_owner, provider_owner, *others[:2])
    start = (now + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with db.transaction() as session:
        relationship = rel.get_relationship(session, TEAM_ID, relationship_id)
        quiet = f"weekly on {now - timedelta(days=2):%A} at 12:00"  # no scheduled round soon
        set_schedule(session, relationship, client_owner, quiet, now)
        closed = open_round_now(session, relationship, client_owner, now - timedelta(days=10))
        for person in unprompted_members(session, closed.id, relationship_id):
            mark_prompt(session.connection(), closed.id, person, RecipientStatus.SENT, None)
        open_round_now(session, relationship, client_owner, now - timedelta(days=2.5))
        draft = CheckInDraft(
            title="Steering",
            cadence=parse_cadence(f"weekly {start:%a} {start:%H:%M}".lower()),
            participants=participants,
            tz="UTC",
        )
        create_checkin(session, relationship, client_owner, draft, "UTC", now)
    if fake is not None:
        for user in everyone:
            fake.add_user(user, tz="UTC")
    return DueWork(everyone, (client_owner, provider_owner), participants)


def _action_ids(call: Call) -> set[str]:
    return {
        element.get("action_id", "")
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    }


def scheduled_sends(fake: FakeSlack) -> Counter[str]:
    """The scheduled messages Slack posted (faulted and abandoned calls don't count), by
    kind and recipient: ``prompt:U1``, ``reminder:D1`` (the prompt's DM thread),
    ``alert:client:U1``, ``check-in:U1``."""
    names: list[str] = []
    for call in fake.done("chat.postMessage"):
        channel, actions = call.args["channel"], _action_ids(call)
        if call.args.get("thread_ts"):
            names.append(f"reminder:{channel}")
        elif "pulse_answer_1" in actions:
            names.append(f"prompt:{channel}")
        elif "checkin_rsvp_yes" in actions:
            names.append(f"check-in:{channel}")
        elif "schedule_catch_up" in actions:
            side = "client" if "client side" in call.args["text"] else "provider"
            names.append(f"alert:{side}:{channel}")
        else:
            names.append(f"other:{channel}")
    return Counter(names)


def ledger(db: Database) -> Counter[str]:
    """Send-ledger rows by status: ``pending`` ones are still to be (re)tried."""
    with db.transaction() as session:
        rows = session.execute(
            select(SentMessage.status, func.count()).group_by(SentMessage.status)
        ).all()
    return Counter({str(status): count for status, count in rows})


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` (other processes are doing the work) until true, or fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def held_back(db: Database) -> Counter[str]:
    """The scheduled messages whose claims are still ``pending`` (a sender died holding them,
    or is sending them now), named as ``scheduled_sends`` names them; a prompt holds back its
    reminder too, which threads under it."""
    with db.transaction() as session:
        keys = session.scalars(
            select(SentMessage.key).where(SentMessage.status == SendStatus.PENDING)
        ).all()
    names: list[str] = []
    for key in keys:
        kind, *parts = key.split(":")
        if kind == "pulse-prompt":
            names += [f"prompt:{parts[1]}", f"reminder:D{parts[1][1:]}"]
        elif kind == "pulse-reminder":
            names.append(f"reminder:D{parts[1][1:]}")
        elif kind == "pulse-alert":
            names.append(f"alert:{parts[2]}:{parts[3]}")
        elif kind == "checkin-reminder":
            names.append(f"check-in:{parts[1]}")
    return Counter(names)
