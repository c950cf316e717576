"""Owners hear once about messages Slack refused for good (deactivated members, archived
channels), end to end: the pulse and check-in ticks and the report job run by hand against
the fake Slack, with the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.delivery.blocks import failure_message, refusals_text
from bot.delivery.failures import QUIET, FailureNotice, Refusal, batch_failures, pending_notices
from bot.services import Services
from bot.slack.models import SendStatus, SentMessage
from scheduler.checkin_jobs import run_checkin_tick
from scheduler.delivery_jobs import report_delivery_failures
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import job_context, prompts, pulse, reminders, tick

CLIENT = ("UCARL", "UDAN", "UEVE")
PROVIDER = ("UPRIYA", "UQUIN")
OWNERS = {"UALICE", "UPAT"}


def _relationship(rapport, alerts: str | None = None) -> None:
    for user in ("UALICE", "UPAT", *CLIENT, *PROVIDER):
        rapport.fake.add_user(user)
    make_relationship(
        rapport.db,
        rapport.clock,
        client_members=CLIENT,
        provider_members=PROVIDER,
        alerts=alerts,
    )


def _notices(rapport) -> list:
    return [
        call
        for call in rapport.fake.calls_to("chat.postMessage")
        if call.args.get("text", "").startswith("Rapport couldn't")
    ]


def _report(context: Services, rapport) -> int:
    """The report job, once the refusals have settled."""
    rapport.clock.advance(seconds=QUIET.total_seconds())
    return report_delivery_failures(context)


def test_three_unreachable_members_of_a_pulse_round_are_reported_to_owners_once(rapport):
    _relationship(rapport)
    rapport.fake.users["UCARL"]["deleted"] = True  # deactivated: Slack says account_inactive
    rapport.fake.users["UEVE"]["deleted"] = True
    rapport.fake.refuse("UDAN", "user_not_found")
    pulse(rapport, "send")
    with job_context(rapport) as context:
        pulse_tick = tick(context)
        assert pulse_tick.prompts == {"sent": 4, "failed": 3}
        assert report_delivery_failures(context) == 0  # the fan-out may not be over yet
        assert _notices(rapport) == []

        assert _report(context, rapport) == 1
        notices = _notices(rapport)
        assert {call.args["channel"] for call in notices} == OWNERS  # no alerts channel: DMs
        text = notices[0].args["text"]
        assert text.startswith("Rapport couldn't reach 3 members of *Acme ⇄ Stellar*: ")
        assert "<@UCARL>, <@UEVE> (deactivated); <@UDAN> (not found)" in text
        assert "`/rapport remove @person`" in text
        assert "answer" not in text.lower()  # delivery only: nothing about the pulse itself

        tick(context)  # refused prompts are not retried...
        assert _report(context, rapport) == 0  # ...and nothing is reported twice
        rapport.clock.advance(days=1)
        assert report_delivery_failures(context) == 0
    assert len(prompts(rapport.fake)) == 7
    assert len(_notices(rapport)) == 2


def test_owners_see_how_many_members_a_round_could_not_reach_in_pulse_results(rapport):
    _relationship(rapport)
    rapport.fake.refuse("UDAN", "user_not_found")
    rapport.fake.refuse("UQUIN", "account_inactive")
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)

    def results(user: str) -> str:
        return str(pulse(rapport, "results", user=user).json()["blocks"])

    owner = results("UALICE")
    assert "0 of 5 people answered so far" in owner
    assert "2 members couldn't be reached (deactivated or not found)" in owner
    rapport.clock.advance(days=3, minutes=1)  # the round closes
    assert "2 members couldn't be reached" in results("UPAT")
    assert "couldn't be reached" not in results("UCARL")  # members don't see it


def test_an_archived_alerts_channel_is_reported_to_the_owners_by_dm(rapport):
    _relationship(rapport, alerts="CALERTS")
    rapport.fake.add_channel("CALERTS", "acme-alerts", is_archived=True)
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
        rapport.clock.advance(days=3, minutes=1)
        tick(context)  # nobody answered: low-response alerts, refused by the archived channel
        refused = [
            call
            for call in rapport.fake.calls_to("chat.postMessage")
            if call.args["channel"] == "CALERTS"
        ]
        assert len(refused) == 2

        assert _report(context, rapport) == 1
        assert _report(context, rapport) == 0
    notices = _notices(rapport)
    assert {call.args["channel"] for call in notices} == OWNERS
    text = notices[0].args["text"]
    assert "couldn't post owners' alerts for *Acme ⇄ Stellar* in <#CALERTS> (archived)" in text
    assert "`/rapport alerts #channel`" in text
    assert len(rapport.fake.calls_to("chat.postMessage")) == len(prompts(rapport.fake)) + 4


def test_a_notice_the_alerts_channel_refuses_goes_to_owners_and_is_never_reported(rapport):
    _relationship(rapport, alerts="CALERTS")
    rapport.fake.refuse("UDAN", "user_not_found")
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
        rapport.fake.add_channel("CALERTS", "acme-alerts", is_archived=True)  # archived since
        rapport.fake.refuse("UPAT", "account_inactive")  # and one owner has left
        assert _report(context, rapport) == 1
        assert _report(context, rapport) == 0
        rapport.clock.advance(hours=2)
        assert report_delivery_failures(context) == 0
    tried = [call.args["channel"] for call in _notices(rapport)]
    assert tried[0] == "CALERTS" and sorted(tried[1:]) == ["UALICE", "UPAT"]
    with rapport.db.transaction() as session:
        refused = session.scalars(
            select(SentMessage.key).where(SentMessage.status == SendStatus.FAILED)
        ).all()
    assert sorted(key.rsplit(":", 1)[1] for key in refused if "notice" in key) == [
        "CALERTS",
        "UPAT",
    ]


def test_transient_slack_errors_are_retried_and_never_reported(rapport):
    _relationship(rapport)
    rapport.fake.rate_limit("chat.postMessage", retry_after=1)
    rapport.fake.server_error("chat.postMessage", status=503, times=10)  # beyond the retries
    pulse(rapport, "send")
    with job_context(rapport) as context:
        first = tick(context)
        assert first.prompts.get("retry", 0) >= 1 and "failed" not in first.prompts
        rapport.fake.clear_faults()
        rapport.clock.advance(minutes=1)
        second = tick(context)
        assert first.prompts.get("sent", 0) + second.prompts["sent"] == 7
        assert _report(context, rapport) == 0
    assert _notices(rapport) == []


def test_a_check_in_channel_rapport_is_not_in_is_reported_with_the_fix(rapport):
    _relationship(rapport)
    rapport.fake.refuse("CSTEER", "not_in_channel")
    reply = rapport.slack.command(
        'add "Steering" weekly tue 10:00 <@UPAT> tz Europe/London in <#CSTEER|steering>',
        command="/checkin",
        user="UALICE",
    )
    assert "saved" in reply.text
    rapport.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the day before
    with job_context(rapport) as context:
        run_checkin_tick(context)
        assert _report(context, rapport) == 1
    (notice, *others) = _notices(rapport)
    assert "couldn't post check-in reminders for *Acme ⇄ Stellar* in <#CSTEER>" in str(
        notice.args["text"]
    )
    assert "(Rapport isn't in it). Invite Rapport there" in notice.args["text"]
    assert "`/checkin edit`" in notice.args["text"]
    assert {notice.args["channel"], *(o.args["channel"] for o in others)} == OWNERS


def test_pulse_reminders_that_fail_are_never_reported(rapport):
    """A failed reminder would tell owners who hadn't answered."""
    _relationship(rapport)
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
        rapport.fake.refuse("UCARL", "account_inactive")  # deactivated after the prompt
        rapport.clock.advance(days=2, minutes=1)  # a day before the round closes
        tick(context)
        assert len(reminders(rapport.fake)) == 7
        assert _report(context, rapport) == 0
    assert _notices(rapport) == []


def test_notice_text_groups_refusals_by_reason_and_escapes_the_name():
    notice = FailureNotice(
        notice_id=1,
        team_id="T0ACME",
        relationship_name="<!channel> Acme",
        members=(Refusal("UONE", "user_not_found"),),
        alerts_channels=(),
        checkin_channels=(
            Refusal("CONE", "is_archived"),
            Refusal("CTWO", "channel_not_found"),
            Refusal("CTRI", "is_archived"),
        ),
        recipients=("UALICE",),
        owners=("UALICE",),
    )
    text, blocks = failure_message(notice)
    assert text.startswith("Rapport couldn't reach 1 member of *&lt;!channel&gt; Acme*: ")
    assert "<#CONE>, <#CTRI> (archived); <#CTWO> (not found, or private without Rapport)" in text
    assert len(blocks) == 3 and blocks[-1]["type"] == "context"


def test_refusals_wait_for_a_quiet_spell_or_an_hour_then_go_in_one_notice(db, clock):
    relationship_id = make_relationship(db, clock)

    def refused(target: str, error: str = "account_inactive") -> None:
        """A refusal recorded now, as bot.slack.outbox records one."""
        with db.transaction() as session:
            session.add(
                SentMessage(
                    team_id=TEAM_ID,
                    key=f"test:{target}:{error}",
                    channel=target,
                    status=SendStatus.FAILED,
                    error=error,
                    attempts=1,
                    claimed_at=clock.now(),
                    relationship_id=relationship_id,
                )
            )

    def batch() -> list[int]:
        with db.transaction() as session:
            return batch_failures(session, clock.now())

    refused("UBOTCHED", error="invalid_blocks")  # Rapport's own bug: logged, not reported
    with db.transaction() as session:  # a notice that couldn't reach the owners
        session.add(
            SentMessage(
                team_id=TEAM_ID,
                key="delivery-notice:9:UALICE",
                channel="UALICE",
                status=SendStatus.FAILED,
                error="account_inactive",
                attempts=1,
                claimed_at=clock.now(),
            )
        )
    for minute in range(0, 60, 4):  # a refusal every 4 minutes: never quiet for 5
        refused(f"U{minute:02d}")
        assert batch() == []
        clock.advance(minutes=4)
    refused("U60")
    (first,) = batch()  # the oldest has waited an hour
    refused("ULATE")
    assert batch() == []
    clock.advance(seconds=QUIET.total_seconds())
    (second,) = batch()
    assert batch() == []
    with db.transaction() as session:
        notices = {notice.notice_id: notice for notice in pending_notices(session)}
    assert len(notices[first].members) == 16
    assert [m.target for m in notices[second].members] == ["ULATE"]
    assert set(notices[first].recipients) == set(notices[first].owners) == {"UALICE", "UPAT"}


def test_the_refused_read_the_same_whatever_order_the_sends_ended_in():
    refusals = (
        Refusal("UEVE", "account_inactive"),
        Refusal("UDAN", "user_not_found"),
        Refusal("UCARL", "user_disabled"),
    )
    expected = "<@UCARL>, <@UEVE> (deactivated); <@UDAN> (not found)"
    assert refusals_text(refusals) == expected
    assert refusals_text(refusals[::-1]) == expected
