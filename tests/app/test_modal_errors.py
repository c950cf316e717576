"""Modal field errors (``response_action: errors``) are shown by Slack as plain text: no
mentions (they'd show as raw ids), no mrkdwn, no entities. And a name that only grows too
long once case-folded ("ß" → "ss") is refused inline, not by the database."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.checkins.models import CheckIn
from bot.relationships.models import Relationship
from tests.checkins.test_flows import checkin, setup
from tests.relationships.test_setup import setup_values

SLACK_MARKUP = re.compile(r"<[@#!]|&(amp|lt|gt);|\*\S")


def assert_plain(errors: dict[str, str]) -> None:
    for field, message in errors.items():
        assert not SLACK_MARKUP.search(message), (field, message)


def test_setup_creator_picked_on_the_other_side_is_told_without_a_mention(rapport):
    values = setup_values(creator_side="provider", client_owners=["UCARL"], client_members=["UPAT"])
    body = rapport.slack.view_submission("relationship_setup", values, user="UPAT").json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"client_members"}  # where the creator was picked
    assert "You're on the provider side" in body["errors"]["client_members"]
    assert_plain(body["errors"])


def test_setup_several_people_on_both_sides_are_counted(rapport):
    values = setup_values(client_members=["UCARL", "UEVE"], provider_owners=["UCARL", "UEVE"])
    body = rapport.slack.view_submission("relationship_setup", values).json()
    assert body["errors"]["provider_owners"].startswith("2 people are on both")
    assert_plain(body["errors"])


def test_setup_name_too_long_once_case_folded_is_an_inline_error(rapport):
    body = rapport.slack.view_submission("relationship_setup", setup_values(name="ß" * 80)).json()
    assert body["response_action"] == "errors"
    assert "80 characters" in body["errors"]["name"]
    saved = rapport.slack.view_submission("relationship_setup", setup_values(name="ß" * 40))
    assert saved.status == 200 and saved.body == ""  # its key is exactly 80 characters
    with rapport.db.transaction() as session:
        assert session.scalars(select(Relationship.name_key)).all() == ["ss" * 40]


def checkin_form(rapport, title: str, participants: list[str]):
    """Open ``/checkin new`` and submit it with ``title`` and ``participants``."""
    checkin(rapport, "new")
    (opened,) = rapport.fake.wait_for("views.open")
    rapport.fake.calls.clear()

    def text(value: str) -> dict:
        return {"value": {"type": "plain_text_input", "value": value}}

    values = {
        "title": text(title),
        "cadence": text("weekly tue 10:00"),
        "tz": text("Europe/London"),
        "duration": text("30m"),
        "remind": text("1d"),
        "participants": {"value": {"type": "multi_users_select", "selected_users": participants}},
        "channel": {"value": {"type": "conversations_select", "selected_conversation": None}},
    }
    return rapport.slack.view_submission(
        "checkin_save", values, private_metadata=opened.args["view"]["private_metadata"]
    )


def test_checkin_modal_errors_name_nobody_and_show_names_unescaped(rapport):
    relationship_id = setup(rapport)
    with rapport.db.transaction() as session:
        session.get(Relationship, relationship_id).name = "R&D <desk>"
    checkin(rapport, 'add "Q&amp;A" weekly tue 10:00 <@UPAT> tz UTC')
    body = checkin_form(rapport, "q&a", ["UALICE", "UEVE", "UNOBODY"]).json()
    assert body["response_action"] == "errors"
    assert body["errors"]["title"] == "R&D <desk> already has a check-in “q&a”."
    assert body["errors"]["participants"].startswith("2 people are not part of R&D <desk>.")
    assert_plain(body["errors"])


def test_checkin_title_too_long_once_case_folded_is_refused_inline(rapport):
    setup(rapport)
    body = checkin_form(rapport, "ß" * 41, ["UALICE"]).json()
    assert "80 characters" in body["errors"]["title"]
    reply = checkin(rapport, f'add "{"ß" * 41}" weekly tue 10:00 <@UPAT> tz UTC').text
    assert "80 characters" in reply
    assert checkin_form(rapport, "ß" * 40, ["UALICE"]).body in ("", "null")
    with rapport.db.transaction() as session:
        assert session.scalars(select(CheckIn.title_key)).all() == ["ss" * 40]
