"""Owners pick alerts and watched channels only among channels they are in, as Slack's
``conversations.members`` reports it, and never another relationship's: signed commands and
modal submissions against the fake Slack."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select

from bot.relationships.models import Relationship, WatchedChannel
from tests.relationships.test_setup import setup_values
from tests.support.helpers import make_relationship


def _reply(rapport) -> str:
    """The answer sent once Slack has said who is in the channel."""
    (reply,) = rapport.fake.wait_for("response_url")
    return reply.args["text"]


def _alerts_channel(rapport, name: str = "Acme ⇄ Stellar") -> str | None:
    with rapport.db.transaction() as session:
        return session.scalar(
            select(Relationship.alerts_channel_id).where(Relationship.name == name)
        )


def _watched(rapport) -> dict[str, int]:
    with rapport.db.transaction() as session:
        rows = session.execute(select(WatchedChannel.channel_id, WatchedChannel.relationship_id))
        return {channel_id: relationship_id for channel_id, relationship_id in rows}


def test_alerts_in_a_channel_the_owner_is_not_in_are_refused(rapport):
    make_relationship(rapport.db, rapport.clock, "Globex", creator="UBOB", alerts="CGLOBEX")
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CGLOBEX", "globex-owners", members=("UBOB",), is_member=True)
    ack = rapport.slack.command("alerts <#CGLOBEX|globex-owners> Acme", user="UALICE")
    assert ack.status == 200 and "Checking" in ack.text
    assert "You're not in <#CGLOBEX>" in _reply(rapport)
    assert _alerts_channel(rapport) is None
    (asked,) = rapport.fake.calls_to("conversations.members")
    assert asked.args["channel"] == "CGLOBEX"


def test_watching_a_channel_the_owner_is_not_in_is_refused_and_nothing_is_joined(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CPAYROLL", "payroll", members=("UBOB",))
    rapport.slack.command("watch <#CPAYROLL|payroll>", user="UALICE")
    assert "You're not in <#CPAYROLL>" in _reply(rapport)
    assert _watched(rapport) == {}
    assert rapport.fake.calls_to("conversations.join") == []


def test_membership_is_read_page_by_page_in_a_large_channel(rapport):
    make_relationship(rapport.db, rapport.clock)
    crowd = tuple(f"UPEOPLE{n:05d}" for n in range(2_500))
    rapport.fake.add_channel("CALERTS", "alerts", members=(*crowd, "UALICE"), is_member=True)
    rapport.slack.command("alerts <#CALERTS|alerts>", user="UALICE")
    assert "will go to <#CALERTS>" in _reply(rapport)
    assert _alerts_channel(rapport) == "CALERTS"
    pages = rapport.fake.calls_to("conversations.members")
    assert len(pages) == 3
    assert "cursor" not in pages[0].args
    assert all(page.args["cursor"] for page in pages[1:])


def test_a_private_channel_rapport_is_not_in_asks_for_an_invite_first(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("GOWNERS", "owners", members=("UALICE",), is_private=True)
    rapport.slack.command("alerts <#GOWNERS|owners>", user="UALICE")
    reply = _reply(rapport)
    assert "I can't see <#GOWNERS>" in reply and "`/invite @Rapport`" in reply
    assert _alerts_channel(rapport) is None


def test_a_slack_error_while_checking_membership_changes_nothing_and_says_try_again(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CSHARED", "shared", members=("UALICE",))
    rapport.fake.fail("conversations.members", "fetch_members_failed")
    rapport.slack.command("watch <#CSHARED|shared>", user="UALICE")
    reply = _reply(rapport)
    assert "try again" in reply and "Traceback" not in reply
    assert _watched(rapport) == {}


def test_the_membership_check_never_holds_up_the_acknowledgement(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CALERTS", "alerts", members=("UALICE",), is_member=True)
    acked = threading.Event()

    def hold_until_acked(method: str) -> None:
        if method == "conversations.members":
            assert acked.wait(10), "the command waited for Slack before acknowledging"

    rapport.fake.before_answer = hold_until_acked
    ack = rapport.slack.command("alerts <#CALERTS|alerts>", user="UALICE")
    acked.set()
    assert "Checking with Slack that you're in <#CALERTS>" in ack.text
    assert "will go to <#CALERTS>" in _reply(rapport)


def test_another_relationships_alerts_channel_is_never_watched(rapport):
    make_relationship(rapport.db, rapport.clock, "Globex", creator="UBOB", alerts="CGLOBALERTS")
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CGLOBALERTS", "globex-alerts", members=("UALICE", "UBOB"))
    text = rapport.slack.command("watch <#CGLOBALERTS|x> Acme", user="UALICE").text
    assert "another relationship's owners get their alerts" in text
    assert _watched(rapport) == {}
    assert rapport.fake.calls_to("conversations.join") == []


def test_another_relationships_watched_channel_never_gets_alerts(rapport):
    make_relationship(rapport.db, rapport.clock, "Globex", creator="UBOB", channels=("CGLOBEX",))
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CGLOBEX", "globex-shared", members=("UALICE", "UBOB"))
    text = rapport.slack.command("alerts <#CGLOBEX|x> Acme", user="UALICE").text
    assert "another relationship watches" in text
    assert _alerts_channel(rapport) is None


def test_setup_refuses_another_relationships_alerts_and_watched_channels(rapport):
    make_relationship(
        rapport.db, rapport.clock, "Globex", creator="UBOB", channels=("CGLOBEX",), alerts="CGA"
    )
    values = setup_values(name="Acme", channels=["CGA"], alerts="CGLOBEX")
    body = rapport.slack.view_submission("relationship_setup", values, user="UALICE").json()
    assert body["response_action"] == "errors"
    assert "get their alerts" in body["errors"]["watched_channels"]
    assert "Another relationship watches this channel" in body["errors"]["alerts_channel"]
    with rapport.db.transaction() as session:
        assert session.scalars(select(Relationship.name)).all() == ["Globex"]


def test_setup_leaves_out_channels_the_creator_is_not_in_and_says_why(rapport):
    rapport.fake.add_channel("CSHARED", "acme-stellar", members=("UALICE",))
    rapport.fake.add_channel("CPAYROLL", "payroll", members=("UBOB",))
    rapport.fake.add_channel("CBOARD", "board", members=("UBOB",), is_member=True)
    values = setup_values(name="Acme", channels=["CSHARED", "CPAYROLL"], alerts="CBOARD")
    response = rapport.slack.view_submission("relationship_setup", values, user="UALICE")
    assert response.body == ""  # the modal closes at once; Slack is asked afterwards
    (dm,) = rapport.fake.wait_for("chat.postMessage")
    assert dm.args["channel"] == "UALICE" and "is set up" in dm.args["text"]
    told = json.dumps(dm.args["blocks"])
    assert "You're not in <#CPAYROLL>" in told and "You're not in <#CBOARD>" in told
    assert list(_watched(rapport)) == ["CSHARED"]
    assert _alerts_channel(rapport, "Acme") is None
