"""What acknowledging a slash command costs the web process, counted rather than timed: the
SQL statements its ack sends (on SQLite most of a read's CPU goes on them, on PostgreSQL
each is a round trip too), and how many of Bolt's listeners come before the command's
(Bolt passes over each one, at a cost, before it finds the one that matches)."""

from __future__ import annotations

import pytest

from tests.support.helpers import make_relationship
from tests.support.queries import queries_during


@pytest.mark.parametrize(
    ("command", "text", "selects"),
    [
        ("/rapport", "help", 0),
        ("/rapport", "list", 1),  # their memberships
        ("/rapport", "show", 2),  # the relationship; its people, channels, organisations in one
        # the relationship, then the drift settings, loaded afresh in one statement: the
        # thresholds, the feedback count, the owners' words and calmings (read once for
        # settings and overview)
        ("/rapport", "drift", 2),
        # the relationship (with their role in it), then the anonymity threshold on the
        # closed rounds and the open one
        ("/pulse", "results", 2),  # no round closed yet, so no figures to read
        # the relationship, then its check-ins with the zone Slack told for the person (none
        # to show, so no zone is needed: answered in the ack)
        ("/checkin", "list", 2),
    ],
)
# typed in the shared channel the relationship watches, or in a direct message to the bot,
# where the relationship is the person's only one: found in one statement either way
@pytest.mark.parametrize("channel", ["CSHARED", "DALICE"])
def test_a_command_acknowledges_with_few_statements(rapport, command, text, selects, channel):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    rapport.fake.add_user("UALICE")  # Slack knows their time zone

    def acknowledge() -> None:
        response = rapport.slack.command(text, command=command, channel=channel)
        assert response.status == 200 and "Sorry" not in response.text

    acknowledge()  # the first one also loads what every later one finds ready
    # a transaction's BEGIN goes straight to the driver on both databases, so isn't counted
    assert queries_during(rapport.db, acknowledge) == selects


def test_checkin_list_reads_as_many_statements_for_three_check_ins_as_for_one(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    rapport.fake.add_user("UALICE")
    statements = []
    for title in ("Ops", "Steering", "Retro"):
        added = rapport.slack.command(
            f'add "{title}" weekly tue 10:00 <@UALICE> <@UPAT> tz UTC', command="/checkin"
        )
        assert "saved" in added.text
        listed = rapport.slack.command("list", command="/checkin", channel="CSHARED")
        if not statements:  # the first one asks Slack for the person's time zone, after the ack
            rapport.fake.wait_for("response_url")
        statements.append(
            queries_during(
                rapport.db,
                lambda: rapport.slack.command("list", command="/checkin", channel="CSHARED"),
            )
        )
        assert listed.status == 200
    # the relationship, the check-ins with their zone, then every one's participants and
    # next start in one statement each
    assert statements == [4, 4, 4]


def test_slash_commands_are_matched_right_after_message_events(rapport):
    commands = [
        index
        for index, listener in enumerate(rapport.app._listeners)
        if getattr(listener.ack_function, "__name__", "") == "command"
    ]
    assert commands == [1, 2, 3]  # together, with only the message listener before them
    assert rapport.app._listeners[0].ack_function.__name__ == "on_message"


@pytest.mark.parametrize(
    ("action", "selects"),
    [
        # the relationship with their role in it (one statement where the relationship, then
        # the membership, took two), then its pulse settings and its last scheduled round
        ("pulse_edit_schedule", 3),
        ("checkin_new", 2),  # the relationship with their role, then the person's time zone
    ],
)
def test_a_button_valued_with_a_relationship_finds_it_and_their_role_in_one_statement(
    rapport, action, selects
):
    relationship_id = make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_user("UALICE")
    rapport.slack.block_action(action, value=str(relationship_id))  # loads what's loaded once
    rapport.fake.wait_for("views.open")

    def click() -> None:  # until its form is open, so what it does after the ack counts too
        rapport.slack.block_action(action, value=str(relationship_id))
        rapport.fake.wait_for("views.open", count=2)

    assert queries_during(rapport.db, click) == selects
