"""Home kept up to date: once someone has opened Home, the refresh job publishes it again
when something it shows changes (an alert, a check-in added or answered, a pulse round
opening or closing, a new snapshot), once per person for a burst of changes, and never for
someone who hasn't opened Home."""

from __future__ import annotations

from sqlalchemy import select

from bot.checkins.models import Rsvp
from bot.home.models import HomeView
from tests.support.fake_slack import TEAM_ID
from tests.support.health_helpers import health_relationship, store_snapshots
from tests.support.home_helpers import (
    add_alert,
    buttons,
    checkin,
    open_home,
    published_to,
    refresh,
    text_of,
)
from tests.support.pulse_helpers import pulse
from tests.support.slack_requests import APP_ID

OPS = '"Ops catch-up" weekly tue 10:00 <@UALICE> <@UC1> tz Europe/London'


def test_nothing_changed_nothing_published(rapport):
    health_relationship(rapport, channels=())
    open_home(rapport, "UALICE")
    assert refresh(rapport) == 0
    assert len(published_to(rapport, "UALICE")) == 1


def test_a_burst_of_changes_publishes_once_to_each_person_who_opened_home(rapport):
    relationship_id = health_relationship(rapport, channels=())
    open_home(rapport, "UALICE")
    open_home(rapport, "UC1")
    add_alert(rapport, relationship_id)
    checkin(rapport, f"add {OPS}")
    assert "is open" in pulse(rapport, "send").text
    assert refresh(rapport) == 2
    owner, member = published_to(rapport, "UALICE")[-1], published_to(rapport, "UC1")[-1]
    assert "Formal tone in <#CSHARED>" in text_of(owner)
    assert "*Ops catch-up*" in text_of(owner) and "*Ops catch-up*" in text_of(member)
    assert "A pulse round is open until" in text_of(member)
    assert len(published_to(rapport, "UALICE")) == 2 and len(published_to(rapport, "UC1")) == 2
    assert not published_to(rapport, "UC2")  # never opened Home
    assert refresh(rapport) == 0  # a second run finds nothing new


def test_an_answered_alert_and_a_closing_round_refresh_home(rapport):
    relationship_id = health_relationship(rapport, channels=())
    alert_id = add_alert(rapport, relationship_id)
    assert "is open" in pulse(rapport, "send").text
    view = open_home(rapport, "UALICE")
    assert ("drift_acknowledge", str(alert_id)) in buttons(view)
    rapport.slack.block_action(
        "drift_acknowledge",
        value=str(alert_id),
        container={"type": "view", "view_id": "VHOME"},
    )
    rapport.fake.wait_for("response_url")
    assert refresh(rapport) == 1
    view = published_to(rapport, "UALICE")[-1]
    assert "Formal tone" not in text_of(view)
    assert "A pulse round is open" in text_of(view)
    rapport.clock.advance(days=8)  # the round closes
    assert refresh(rapport) == 1
    assert "No pulse round is open." in text_of(published_to(rapport, "UALICE")[-1])


def test_rsvp_from_home_is_recorded_and_shown(rapport):
    health_relationship(rapport, channels=())
    checkin(rapport, f"add {OPS}")
    view = open_home(rapport, "UC1")
    occurrence = next(value for action, value in buttons(view) if action == "checkin_rsvp_yes")
    response = rapport.slack.interactive(  # as Slack sends a click in Home: no response URL
        {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "acme"},
            "user": {"id": "UC1", "username": "uc1", "team_id": TEAM_ID},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home", "blocks": view["blocks"]},
            "trigger_id": "1.1234.abcdef",
            "actions": [
                {
                    "action_id": "checkin_rsvp_yes",
                    "block_id": "b1",
                    "type": "button",
                    "value": occurrence,
                    "action_ts": "1700000000.000200",
                }
            ],
        }
    )
    assert response.status == 200
    with rapport.db.read() as session:
        assert session.scalars(select(Rsvp.attending).where(Rsvp.user_id == "UC1")).all() == [True]
    assert refresh(rapport) == 1
    assert "You said: you'll be there" in text_of(published_to(rapport, "UC1")[-1])


def test_a_new_snapshot_refreshes_home(rapport):
    health_relationship(rapport, channels=())
    open_home(rapport, "UALICE")
    assert store_snapshots(rapport) == 1
    assert refresh(rapport) == 1


def test_a_failed_publish_is_tried_again_on_the_next_run(rapport):
    relationship_id = health_relationship(rapport, channels=())
    open_home(rapport, "UALICE")
    add_alert(rapport, relationship_id)
    rapport.fake.fail("views.publish", "internal_error")
    assert refresh(rapport) == 0
    assert refresh(rapport) == 1
    assert "Formal tone" in text_of(published_to(rapport, "UALICE")[-1])


def test_forget_me_forgets_that_someone_opened_home(rapport):
    relationship_id = health_relationship(rapport, channels=())
    open_home(rapport, "UC1")
    rapport.slack.command("forget-me", user="UC1")
    rapport.slack.block_action("forget_me_confirm", value="UC1", user="UC1")
    rapport.fake.wait_for("response_url", lambda call: "Done." in call.args.get("text", ""))
    with rapport.db.read() as session:
        assert session.scalars(select(HomeView.user_id)).all() == []
    add_alert(rapport, relationship_id)
    assert refresh(rapport) == 0


def test_someone_added_to_a_relationship_sees_it_appear(rapport):
    health_relationship(rapport, channels=())
    assert "You're not part of a relationship yet" in text_of(open_home(rapport, "UNEW"))
    assert rapport.slack.command("add <@UNEW> provider", user="UALICE").status == 200
    assert refresh(rapport) == 1
    assert "*Acme ⇄ Stellar* · you're provider frontline" in text_of(
        published_to(rapport, "UNEW")[-1]
    )
