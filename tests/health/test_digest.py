"""The weekly health digest end to end: pulse answers clicked through signed requests, the
digest tick run as a scheduler process runs it against the fake Slack, time injected."""

from __future__ import annotations

import re
import threading

import pytest

from bot.slack import message_keys, outbox
from bot.slack.pacing import Pacer
from scheduler.digest_jobs import run_digests
from tests.support.digest_helpers import (
    at,
    digest_tick,
    digests,
    posted_keys,
    recipients,
    relationship_with_index,
    text_of,
)
from tests.support.health_helpers import health_relationship
from tests.support.helpers import make_relationship, scheduler_services


def test_each_owner_gets_the_digest_at_their_own_local_monday_nine_not_before(rapport):
    rapport.fake.add_user("UALICE", tz="Europe/London")
    rapport.fake.add_user("UPAT", tz="America/New_York")
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 9, 8, 59)  # Monday; London is on UTC until 29 March
    assert digest_tick(rapport).sent == {}
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    assert digest_tick(rapport).sent == {"sent": 1}
    assert recipients(rapport.fake) == ["UALICE"]
    rapport.clock.current = at(2026, 3, 9, 12, 59)  # 08:59 in New York (summer time since 8 March)
    digest_tick(rapport)
    assert recipients(rapport.fake) == ["UALICE"]
    rapport.clock.current = at(2026, 3, 9, 13, 0)
    digest_tick(rapport)
    rapport.clock.advance(hours=2)
    assert digest_tick(rapport).sent == {}
    assert recipients(rapport.fake) == ["UALICE", "UPAT"]


def test_the_digest_shows_the_index_changes_check_ins_and_next_step_without_names(rapport):
    relationship_with_index(rapport)
    rapport.slack.command('add "Ops catch-up" weekly tue 10:00 <@UC1>', command="/checkin")
    # no zone typed: saved after the ack, in the zone Slack gives for UALICE
    rapport.fake.wait_for("response_url", lambda c: "saved" in c.args.get("text", ""))
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    digest_tick(rapport)
    first = digests(rapport.fake, "UALICE")[0]
    shown = text_of(first)
    assert "*Weekly health digest* · Acme ⇄ Stellar" in shown
    assert "*Acme ⇄ Stellar*: *" in shown and "/100 · *" in shown
    assert "Client pulse: 3.5 of 5" in shown  # owners see every component
    assert "*Coming up in the next 7 days*\n• *Ops catch-up* Tue 10 Mar, 10:00" in shown
    assert "*Next step:*" in shown
    assert "Weekly health digest of Acme ⇄ Stellar: " in first.args["text"]
    for person in ("UC1", "UC2", "UC3", "UP1", "UP2", "<@"):
        assert person not in shown  # no respondent is named
    rapport.clock.current = at(2026, 3, 16, 9, 0)
    digest_tick(rapport)
    second = text_of(digests(rapport.fake, "UALICE")[1])
    assert re.search(r"last 12 weeks: (–, ){10}\d+, \d+\n", second)  # last week's is kept
    assert "*Since last week*" in second


def test_the_digest_next_step_button_opens_the_catch_up_form_for_owners_only(rapport):
    relationship_with_index(rapport)  # no check-ins yet: the next step is a catch-up
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    digest_tick(rapport)
    (digest,) = digests(rapport.fake, "UPAT")
    assert "There are no regular check-ins yet" in text_of(digest)
    (actions,) = [b for b in digest.args["blocks"] if b["type"] == "actions"]
    (button,) = actions["elements"]
    assert (button["text"]["text"], button["value"]) == ("Schedule an informal catch-up", "1")
    rapport.slack.block_action(button["action_id"], value=button["value"], user="UPAT")
    rapport.fake.wait_for("views.open", lambda c: "UALICE" in str(c.args["view"]))
    rapport.slack.block_action(button["action_id"], value=button["value"], user="UC1")
    rapport.fake.wait_for("response_url", lambda c: "owner" in c.args.get("text", ""))


def test_nothing_is_sent_for_a_relationship_without_data(rapport):
    health_relationship(rapport, channels=())
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    tick = digest_tick(rapport)
    assert tick.sent == {} and tick.without_index == [1]
    assert rapport.fake.calls_to("chat.postMessage") == []
    rapport.clock.advance(minutes=5)  # found without an index a moment ago: not recomputed
    assert digest_tick(rapport).without_index == []


def test_a_late_digest_goes_within_a_day_and_never_after(rapport):
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 10, 8, 59)  # Rapport was down since Monday morning
    digest_tick(rapport)
    assert sorted(recipients(rapport.fake)) == ["UALICE", "UPAT"]
    rapport.clock.current = at(2026, 3, 17, 9, 0)  # and down all the next Monday
    digest_tick(rapport)
    assert len(recipients(rapport.fake)) == 2


def test_an_owner_without_a_time_zone_gets_it_at_nine_utc(rapport):
    rapport.fake.add_user("UALICE", tz="Asia/Tokyo")
    rapport.fake.add_user("UPAT", tz="")  # Slack gives no zone
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 9, 0, 0)  # 09:00 in Tokyo
    digest_tick(rapport)
    assert recipients(rapport.fake) == ["UALICE"]
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    digest_tick(rapport)
    assert recipients(rapport.fake) == ["UALICE", "UPAT"]


def test_exactly_once_across_a_restart_mid_send(rapport, monkeypatch):
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    pat = message_keys.health_digest(1, "UPAT", at(2026, 3, 9).date())
    record = outbox._record

    class Died(BaseException):
        """The scheduler process dies here."""

    def dies_once_pat_is_posted(db, key, status, **values):
        if key == pat:
            raise Died  # Slack posted Pat's digest (the first); the ledger never heard
        record(db, key, status, **values)

    with monkeypatch.context() as dying:
        dying.setattr(outbox, "_record", dies_once_pat_is_posted)
        with pytest.raises(Died):
            digest_tick(rapport)
    assert recipients(rapport.fake) == ["UPAT"]
    rapport.clock.advance(minutes=1)  # restarted: Pat's claim is still fresh
    assert digest_tick(rapport).sent == {"duplicate": 1, "sent": 1}
    rapport.clock.advance(minutes=11)  # stale now: looked for in Slack, found, recorded
    assert digest_tick(rapport).sent == {"sent": 1}
    digest_tick(rapport)
    assert posted_keys(rapport.fake) == [
        "health-digest:1:UALICE:2026-03-09",
        "health-digest:1:UPAT:2026-03-09",
    ]


def test_two_schedulers_racing_send_each_digest_once(rapport):
    relationship_with_index(rapport)
    make_relationship(rapport.db, rapport.clock, "Beta ⇄ Stellar", provider_owners=("UPAT",))
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    schedulers = [scheduler_services(rapport) for _ in range(2)]
    start = threading.Barrier(2)

    def run(services):
        start.wait()
        run_digests(services, Pacer(0))

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for services in schedulers:
        services.close()
    assert posted_keys(rapport.fake) == [  # Beta has no data
        "health-digest:1:UALICE:2026-03-09",
        "health-digest:1:UPAT:2026-03-09",
    ]


def test_channel_mode_posts_once_in_the_alerts_channel(rapport):
    rapport.fake.add_user("UALICE", tz="Europe/London")
    rapport.fake.add_user("UPAT", tz="America/New_York")
    relationship_with_index(rapport, alerts="CALERTS")
    assert "in the alerts channel" in rapport.slack.command("digest channel").text
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    digest_tick(rapport)
    assert recipients(rapport.fake) == ["CALERTS"]
    rapport.clock.current = at(2026, 3, 9, 13, 0)  # New York's time comes too
    digest_tick(rapport)
    assert recipients(rapport.fake) == ["CALERTS"]
    assert "by DM" in rapport.slack.command("digest dm").text
    rapport.clock.current = at(2026, 3, 16, 9, 0)
    digest_tick(rapport)
    assert recipients(rapport.fake) == ["CALERTS", "UALICE"]


def test_turned_off_or_moved_the_digest_follows_the_owners_choice(rapport):
    relationship_with_index(rapport)
    assert "is off" in rapport.slack.command("digest off", user="UPAT").text
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    digest_tick(rapport)
    assert recipients(rapport.fake) == []
    rapport.slack.command("digest on")
    rapport.slack.command("digest day tuesday 08:30")
    digest_tick(rapport)  # Monday 09:00 isn't the time any more
    assert recipients(rapport.fake) == []
    rapport.clock.current = at(2026, 3, 10, 8, 30)
    digest_tick(rapport)
    assert sorted(recipients(rapport.fake)) == ["UALICE", "UPAT"]


def images(call) -> list[dict]:
    return [block for block in call.args["blocks"] if block["type"] == "image"]


def test_the_digest_shows_the_index_chart_uploaded_once_for_both_owners(rapport):
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    assert digest_tick(rapport).charts == {"shown": 1}
    alice, pat = (digests(rapport.fake, owner)[0] for owner in ("UALICE", "UPAT"))
    (chart,) = images(alice)
    assert images(pat) == [chart]
    assert chart["alt_text"].startswith("Health index, last 12 weeks: 76 (first week with data)")
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 1
    file = rapport.fake.files[chart["slack_file"]["id"]]
    assert file["mimetype"] == "image/png" and file["channel"] is None  # shared nowhere


def test_a_failed_upload_still_sends_the_digest_with_the_figures_in_words(rapport):
    relationship_with_index(rapport)
    rapport.fake.fail("files.getUploadURLExternal", "not_allowed_token_type")
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    assert digest_tick(rapport).charts == {"in words": 1}
    assert sorted(recipients(rapport.fake)) == ["UALICE", "UPAT"]
    digest = digests(rapport.fake, "UALICE")[0]
    assert not images(digest)
    assert "Health index, last 12 weeks: 76 (first week with data), now Healthy." in text_of(digest)


def test_a_chart_deleted_from_slack_is_uploaded_again(rapport):
    rapport.fake.add_user("UALICE", tz="Europe/London")
    rapport.fake.add_user("UPAT", tz="America/New_York")
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 9, 9, 0)
    digest_tick(rapport)
    (first,) = images(digests(rapport.fake, "UALICE")[0])
    rapport.fake.files[first["slack_file"]["id"]]["deleted"] = True  # someone deleted it
    rapport.clock.current = at(2026, 3, 9, 13, 0)  # Pat's time: the same figures
    digest_tick(rapport)
    (again,) = images(digests(rapport.fake, "UPAT")[0])
    assert again["slack_file"]["id"] != first["slack_file"]["id"]
    assert again["alt_text"] == first["alt_text"]
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 2


def test_a_chart_deleted_just_before_the_post_sends_the_digest_without_it_once(rapport):
    relationship_with_index(rapport)
    rapport.clock.current = at(2026, 3, 9, 9, 0)

    def delete_charts(method: str) -> None:
        if method == "chat.postMessage":
            for file in rapport.fake.files.values():
                file["deleted"] = True

    rapport.fake.before_answer = delete_charts
    assert digest_tick(rapport).sent == {"sent": 2}
    rapport.fake.before_answer = None
    assert posted_keys(rapport.fake) == [
        "health-digest:1:UALICE:2026-03-09:text",
        "health-digest:1:UPAT:2026-03-09:text",
    ]
    resent = [digest for digest in digests(rapport.fake) if not images(digest)]
    assert len(resent) == 2
    assert "Health index, last 12 weeks: 76" in text_of(resent[0])
    rapport.clock.advance(minutes=30)
    assert digest_tick(rapport).sent == {}
    assert len(posted_keys(rapport.fake)) == 2
