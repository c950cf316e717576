"""App Home as the dashboard, end to end: signed ``app_home_opened`` events, and the view the
fake Slack was given with ``views.publish`` for an owner, a member and someone in no
relationship, with the index chart uploaded (or left out when the upload fails)."""

from __future__ import annotations

from tests.support.health_helpers import health_relationship, pulse_round
from tests.support.home_helpers import add_alert, buttons, checkin, images, open_home, text_of
from tests.support.pulse_helpers import answer_value, click, job_context, prompts, pulse, tick

EVERYONE_ANSWERS = {"UALICE": 4, "UC1": 3, "UC2": 4, "UC3": 3, "UPAT": 5, "UP1": 4, "UP2": 4}
OPS = '"Ops catch-up" weekly tue 10:00 <@UALICE> <@UPAT> <@UC1> tz Europe/London'


def open_round(rapport) -> None:
    """``/pulse send``, the prompts out, and UC1 answering."""
    assert "is open" in pulse(rapport, "send").text
    with job_context(rapport) as services:
        tick(services)
    prompt = prompts(rapport.fake, "UC1")[-1]  # the new round's
    assert click(rapport, "UC1", 4, answer_value(prompt)).status == 200


def busy_relationship(rapport) -> int:
    """An index from a closed round, a check-in, an open drift alert and an open round."""
    relationship_id = health_relationship(rapport, channels=())
    pulse_round(rapport, EVERYONE_ANSWERS)
    checkin(rapport, f"add {OPS}")
    add_alert(rapport, relationship_id)
    open_round(rapport)
    return relationship_id


def test_owner_sees_index_chart_pillars_alerts_checkins_and_pulse(rapport):
    relationship_id = busy_relationship(rapport)
    view = open_home(rapport, "UALICE")
    shown = text_of(view)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "*Acme ⇄ Stellar* · you're client owner" in shown
    assert "Health *81*/100 · *thriving*" in shown
    (chart,) = images(view)
    assert chart["alt_text"].startswith("Health index, last 12 weeks: 81")
    file = rapport.fake.files[chart["slack_file"]["id"]]
    assert file["mimetype"] == "image/png" and file["channel"] is None
    assert view["blocks"][2] == chart  # under the headline
    assert "*Pulse*:" in shown and "*Check-ins*:" in shown and "*Tone*:" in shown
    assert "Formal tone in <#CSHARED>" in shown
    alert_id = next(value for action, value in buttons(view) if action == "drift_acknowledge")
    assert ("drift_not_drift", alert_id) in buttons(view)
    assert ("schedule_catch_up", str(relationship_id)) in buttons(view)
    assert "*Ops catch-up*" in shown
    occurrence = next(value for action, value in buttons(view) if action == "checkin_rsvp_yes")
    assert ("checkin_rsvp_no", occurrence) in buttons(view)
    assert "1 of 8 answered so far (totals only while it's open)" in shown
    assert ("pulse_give_feedback", str(relationship_id)) in buttons(view)
    assert buttons(view)[-2:] == [("open_setup", ""), ("show_help", "")]


def test_member_sees_their_checkins_and_give_feedback_but_no_alerts_or_counts(rapport):
    relationship_id = busy_relationship(rapport)
    view = open_home(rapport, "UC1")
    shown = text_of(view)
    assert "*Acme ⇄ Stellar* · you're client frontline" in shown
    assert "Health *81*/100 · *thriving*" in shown
    assert not images(view)
    assert "Formal tone" not in shown
    assert not [action for action, _ in buttons(view) if action.startswith("drift_")]
    assert "*Ops catch-up*" in shown
    assert [action for action, _ in buttons(view) if action.startswith("checkin_rsvp_")] == [
        "checkin_rsvp_yes",
        "checkin_rsvp_no",
    ]
    assert "A pulse round is open until" in shown and "answered so far" not in shown
    assert ("pulse_give_feedback", str(relationship_id)) in buttons(view)


def test_member_outside_every_checkin_sees_none_and_may_add_one(rapport):
    relationship_id = busy_relationship(rapport)
    view = open_home(rapport, "UC2")
    assert "*Ops catch-up*" not in text_of(view)
    assert "No check-ins coming up for you." in text_of(view)
    assert ("checkin_new", str(relationship_id)) in buttons(view)


def test_no_round_open_says_so(rapport):
    relationship_id = health_relationship(rapport, channels=())
    member = text_of(open_home(rapport, "UC1"))
    assert "No pulse round is open: feedback you give now counts in the next one." in member
    owner = open_home(rapport, "UALICE")
    assert "No pulse round is open." in text_of(owner)
    assert ("pulse_send_now", str(relationship_id)) in buttons(owner)
    assert "No health index yet" in text_of(owner) and not images(owner)


def test_someone_in_no_relationship_gets_the_start_view(rapport):
    health_relationship(rapport, channels=())
    view = open_home(rapport, "UNOBODY")
    assert "You're not part of a relationship yet" in text_of(view)
    assert buttons(view) == [("open_setup", ""), ("show_help", "")]
    assert not rapport.fake.calls_to("files.getUploadURLExternal")


def test_a_failed_upload_leaves_the_chart_out_and_the_rest_in(rapport):
    busy_relationship(rapport)
    rapport.fake.fail("files.getUploadURLExternal", "not_allowed_token_type")
    view = open_home(rapport, "UALICE")
    assert not images(view)
    shown = text_of(view)
    assert "Health *81*/100 · *thriving*" in shown and "*Pulse*:" in shown
    assert "Formal tone in <#CSHARED>" in shown


def test_the_chart_is_reused_while_its_figures_stay(rapport):
    busy_relationship(rapport)
    (first,) = images(open_home(rapport, "UALICE"))
    (again,) = images(open_home(rapport, "UALICE"))
    assert again == first
    assert len(rapport.fake.calls_to("files.getUploadURLExternal")) == 1


def test_messages_tab_publishes_nothing(rapport):
    health_relationship(rapport, channels=())
    rapport.slack.event(
        {"type": "app_home_opened", "user": "UALICE", "channel": "D1", "tab": "messages"}
    )
    open_home(rapport, "UALICE")
    assert len(rapport.fake.calls_to("views.publish")) == 1


def test_home_buttons_open_setup_and_help(rapport):
    rapport.slack.block_action("open_setup", container={"type": "view", "view_id": "VHOME"})
    rapport.slack.block_action("show_help", container={"type": "view", "view_id": "VHOME"})
    calls = rapport.fake.wait_for("views.open", count=2)
    titles = sorted(call.args["view"]["title"]["text"] for call in calls)
    assert titles == ["New relationship", "Rapport help"]


def test_a_chart_deleted_from_slack_is_uploaded_again(rapport):
    busy_relationship(rapport)
    (first,) = images(open_home(rapport, "UALICE"))
    rapport.fake.files[first["slack_file"]["id"]]["deleted"] = True  # someone deleted it
    refused = open_home(rapport, "UALICE")  # Slack refuses the view naming the lost file
    assert images(refused) == [first]
    publishes = rapport.fake.wait_for("views.publish", count=3)  # then it goes again
    (again,) = images(publishes[-1].args["view"])
    assert again["slack_file"]["id"] != first["slack_file"]["id"]
    assert again["alt_text"] == first["alt_text"]


def test_give_feedback_now_in_home_opens_the_feedback_form(rapport):
    relationship_id = health_relationship(rapport, channels=())
    view = open_home(rapport, "UC1")
    assert ("pulse_give_feedback", str(relationship_id)) in buttons(view)
    rapport.slack.block_action(
        "pulse_give_feedback",
        value=str(relationship_id),
        user="UC1",
        container={"type": "view", "view_id": "VHOME"},
    )
    (opened,) = rapport.fake.wait_for("views.open")
    assert "Acme ⇄ Stellar" in str(opened.args["view"])
