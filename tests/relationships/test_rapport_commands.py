"""/rapport subcommands through signed slash-command requests."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.relationships.members import count_organisation
from bot.relationships.models import (
    Member,
    OrganisationSide,
    Relationship,
    Role,
    Side,
    WatchedChannel,
)
from bot.services import DATABASE_DOWN
from tests.support.helpers import make_relationship


def members(rapport) -> dict[str, tuple[Side, Role]]:
    with rapport.db.transaction() as session:
        return {m.user_id: (m.side, m.role) for m in session.scalars(select(Member))}


def test_help_lists_every_subcommand(rapport):
    response = rapport.slack.command("help")
    assert response.status == 200
    text = response.text
    subcommands = ("setup", "list", "show", "use", "add", "remove", "watch", "unwatch", "alerts")
    for sub in (*subcommands, "export", "forget-me"):
        assert f"/rapport {sub}" in text
    assert response.json().get("response_type", "ephemeral") == "ephemeral"


def test_empty_command_shows_help(rapport):
    assert "/rapport setup" in rapport.slack.command("").text


def test_unknown_subcommand_gets_usage_not_a_trace(rapport):
    response = rapport.slack.command("frobnicate now")
    assert response.status == 200
    assert "I don't know the command `frobnicate`" in response.text
    assert "Traceback" not in response.body


def test_list_shows_only_my_relationships(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme ⇄ Stellar")
    make_relationship(
        rapport.db, rapport.clock, "Globex payroll", creator="UBOB", client_members=("UDAN",)
    )
    text = rapport.slack.command("list", user="UCARL").text
    reply = rapport.slack.command("list", user="UCARL").json()
    assert "Your relationships" in text
    block_text = reply["blocks"][0]["text"]["text"]
    assert "Acme ⇄ Stellar" in block_text and "client frontline" in block_text
    assert "Globex" not in block_text


def test_list_when_in_no_relationship_suggests_setup(rapport):
    reply = rapport.slack.command("list", user="UNOBODY").json()
    assert "/rapport setup" in reply["blocks"][0]["text"]["text"]


def test_show_lists_members_by_side_and_role_and_channels(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",), alerts="CALERTS")
    reply = rapport.slack.command("show", user="UCARL").json()
    text = reply["blocks"][0]["text"]["text"]
    assert "*Client* (Acme): owners: <@UALICE>; frontlines: <@UCARL>" in text
    assert "*Provider* (Stellar): owners: <@UPAT>; frontlines: <@UPRIYA>" in text
    assert "<#CSHARED>" in text and "*Alerts:* <#CALERTS>" in text


def test_show_lists_people_channels_and_organisations_in_the_order_they_came(rapport):
    relationship_id = make_relationship(
        rapport.db,
        rapport.clock,
        client_members=("UZED", "UCARL", "UAMY"),
        channels=("CZULU", "CALPHA"),
    )
    with rapport.db.transaction() as session:
        relationship = session.get(Relationship, relationship_id)
        count_organisation(session, relationship, "EZ", "Zeta & Co", Side.PROVIDER)
        count_organisation(session, relationship, "EA", "Alpha", Side.CLIENT)
    text = rapport.slack.command("show", user="UCARL").json()["blocks"][0]["text"]["text"]
    assert "*Client* (Acme): owners: <@UALICE>; frontlines: <@UZED>, <@UCARL>, <@UAMY>" in text
    assert "*Watched channels:* <#CZULU>, <#CALPHA>\n" in text
    assert "*Organisations in shared channels:* Zeta &amp; Co → provider, Alpha → client" in text


def test_show_of_hundreds_of_people_names_thirty_a_list_and_counts_the_rest(rapport):
    """Every ack is checked against Block Kit's limits as Slack checks it (a section holds
    3,000 characters): hundreds of mentions would have been refused."""
    crowd = tuple(f"UM{n:05d}" for n in range(300))
    make_relationship(
        rapport.db, rapport.clock, client_members=crowd[:150], provider_members=crowd[150:]
    )
    text = rapport.slack.command("show").json()["blocks"][0]["text"]["text"]
    client, provider = (", ".join(f"<@{user}>" for user in crowd[n : n + 30]) for n in (0, 150))
    assert f"*Client* (Acme): owners: <@UALICE>; frontlines: {client} and 120 more\n" in text
    assert f"*Provider* (Stellar): owners: <@UPAT>; frontlines: {provider} and 120 more" in text


def test_list_of_many_relationships_lists_each_within_slacks_limits(rapport):
    for n in range(60):
        make_relationship(rapport.db, rapport.clock, f"Relationship {n:02d} of a long-running deal")
    blocks = rapport.slack.command("list", user="UCARL").json()["blocks"]
    text = "\n".join(block["text"]["text"] for block in blocks)
    assert len(blocks) > 1 and all(len(block["text"]["text"]) <= 3000 for block in blocks)
    assert re.findall(r"Relationship (\d\d)", text) == [f"{n:02d}" for n in range(60)]


def test_owner_adds_a_manager_on_the_provider_side(rapport):
    make_relationship(rapport.db, rapport.clock)
    response = rapport.slack.command("add <@UMIRA|mira> provider manager", user="UALICE")
    assert "<@UMIRA> added as provider manager" in response.text
    assert members(rapport)["UMIRA"] == (Side.PROVIDER, Role.MANAGER)


def test_add_several_people_defaults_to_frontline(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.slack.command("add <@UX> <@UY> client", user="UALICE")
    assert members(rapport)["UX"] == (Side.CLIENT, Role.FRONTLINE)
    assert members(rapport)["UY"] == (Side.CLIENT, Role.FRONTLINE)


def test_non_owner_is_refused_politely_and_nothing_changes(rapport):
    make_relationship(rapport.db, rapport.clock)
    before = members(rapport)
    response = rapport.slack.command("add <@UMIRA> provider", user="UCARL")
    assert response.status == 200
    assert "Only owners" in response.text
    assert members(rapport) == before
    assert "Only owners" in rapport.slack.command("watch <#CNEW|new>", user="UCARL").text
    assert "Only owners" in rapport.slack.command("alerts <#CNEW|new>", user="UPRIYA").text


def test_add_with_missing_side_gives_usage(rapport):
    make_relationship(rapport.db, rapport.clock)
    text = rapport.slack.command("add <@UMIRA>", user="UALICE").text
    assert "`client` or `provider`" in text and "Usage: `/rapport add" in text


def test_add_with_plain_text_name_instead_of_mention_explains(rapport):
    text = rapport.slack.command("add @mira provider", user="UALICE").text
    assert "couldn't find a person called @mira" in text


def test_remove_member_and_last_owner_is_protected(rapport):
    make_relationship(rapport.db, rapport.clock)
    assert "<@UCARL> removed" in rapport.slack.command("remove <@UCARL>", user="UALICE").text
    text = rapport.slack.command("remove <@UPAT>", user="UALICE").text
    assert "last provider owner" in text
    assert "UPAT" in members(rapport)
    assert "wasn't a member" in rapport.slack.command("remove <@UZED>", user="UALICE").text


def test_demoting_the_last_owner_is_refused(rapport):
    make_relationship(rapport.db, rapport.clock)
    text = rapport.slack.command("add <@UALICE> client manager", user="UALICE").text
    assert "last client owner" in text
    assert members(rapport)["UALICE"] == (Side.CLIENT, Role.OWNER)


def test_watch_joins_a_public_channel(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("CSHARED", "acme-stellar", members=("UALICE",))
    rapport.slack.command("watch <#CSHARED|acme-stellar>", user="UALICE")
    (reply,) = rapport.fake.wait_for("response_url")  # once Slack says Alice is in it
    text = reply.args["text"]
    assert "Watching <#CSHARED>" in text
    (join,) = rapport.fake.wait_for("conversations.join")
    assert join.args["channel"] == "CSHARED"
    with rapport.db.transaction() as session:
        assert session.scalars(select(WatchedChannel.channel_id)).all() == ["CSHARED"]
    again = rapport.slack.command("watch <#CSHARED|acme-stellar>", user="UALICE").text
    assert "already watching" in again


def test_watch_private_channel_asks_for_an_invite(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.add_channel("GPRIV", "secret", is_private=True)
    rapport.slack.command("watch <#GPRIV|>", user="UALICE")
    (reply,) = rapport.fake.wait_for("response_url")
    assert "/invite @Rapport" in reply.args["text"]
    assert rapport.fake.calls_to("conversations.join") == []


def test_watch_slack_connect_channel_offers_to_map_organisations(rapport):
    make_relationship(rapport.db, rapport.clock)
    rapport.fake.teams["T0STELLAR"] = "Stellar Ltd"
    rapport.fake.add_channel(
        "CSHARED",
        "acme-stellar",
        members=("UALICE",),
        is_member=True,
        is_ext_shared=True,
        shared_team_ids=["T0ACME", "T0STELLAR"],
    )
    rapport.slack.command("watch <#CSHARED|acme-stellar>", user="UALICE")
    (offer,) = rapport.fake.wait_for("response_url")
    selects = [b["accessory"] for b in offer.args["blocks"] if "accessory" in b]
    assert [s["action_id"] for s in selects] == [
        "map_organisation_T0ACME",
        "map_organisation_T0STELLAR",
    ]
    provider = next(o for o in selects[1]["options"] if o["value"].split("|")[2] == "provider")
    rapport.slack.block_action(
        "map_organisation_T0STELLAR", selected_option=provider, user="UALICE"
    )
    confirm = rapport.fake.wait_for("response_url", count=2)[-1]
    assert "Stellar Ltd" in confirm.args["text"] and "provider" in confirm.args["text"]
    with rapport.db.transaction() as session:
        mapping = session.scalars(select(OrganisationSide)).one()
    assert (mapping.org_team_id, mapping.side) == ("T0STELLAR", Side.PROVIDER)


def test_map_organisation_button_replayed_by_non_owner_is_refused(rapport):
    rel_id = make_relationship(rapport.db, rapport.clock)
    option = {
        "text": {"type": "plain_text", "text": "Provider"},
        "value": f"{rel_id}|T9|provider|X",
    }
    rapport.slack.block_action("map_organisation_T9", selected_option=option, user="UCARL")
    (reply,) = rapport.fake.wait_for("response_url")
    assert "Only owners" in reply.args["text"]
    with rapport.db.transaction() as session:
        assert session.scalars(select(OrganisationSide)).all() == []


def test_unwatch_and_alerts_channel(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    assert "Stopped watching" in rapport.slack.command("unwatch <#CSHARED|x>", user="UALICE").text
    assert (
        "wasn't being watched" in rapport.slack.command("unwatch <#CSHARED|x>", user="UALICE").text
    )
    rapport.fake.add_channel("CALERTS", "alerts", members=("UALICE",))
    rapport.slack.command("alerts <#CALERTS|a>", user="UALICE")
    (reply,) = rapport.fake.wait_for("response_url")  # once Slack says Alice is in it
    assert "will go to <#CALERTS>" in reply.args["text"]
    with rapport.db.transaction() as session:
        assert session.scalars(select(Relationship.alerts_channel_id)).one() == "CALERTS"


def test_channel_already_watched_elsewhere_is_explained(rapport):
    make_relationship(rapport.db, rapport.clock, "First", channels=("CSHARED",))
    make_relationship(rapport.db, rapport.clock, "Second", creator="UBOB")
    text = rapport.slack.command("watch <#CSHARED|x> Second", user="UBOB").text
    assert "already watched for *First*" in text


def test_command_in_a_watched_channel_acts_on_that_relationship(rapport):
    make_relationship(rapport.db, rapport.clock, "First", channels=("CFIRST",))
    make_relationship(rapport.db, rapport.clock, "Second", channels=("CSECOND",))
    reply = rapport.slack.command("show", user="UALICE", channel="CSECOND").json()
    assert "*Second*" in reply["blocks"][0]["text"]["text"]


def test_several_relationships_ask_which_and_use_settles_it(rapport):
    make_relationship(rapport.db, rapport.clock, "First")
    second = make_relationship(rapport.db, rapport.clock, "Second")
    reply = rapport.slack.command("show", user="UALICE").json()
    assert "several relationships" in reply["text"]
    buttons = reply["blocks"][1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["First", "Second"]
    rapport.slack.block_action(f"use_relationship_{second}", value=str(second), user="UALICE")
    (answer,) = rapport.fake.wait_for("response_url")
    assert "*Second*" in answer.args["text"]
    shown = rapport.slack.command("show", user="UALICE").json()
    assert "*Second*" in shown["blocks"][0]["text"]["text"]
    assert "*First*" in rapport.slack.command("use first", user="UALICE").text
    shown = rapport.slack.command("show", user="UALICE").json()
    assert "*First*" in shown["blocks"][0]["text"]["text"]


def test_a_name_argument_picks_the_relationship(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme ⇄ Stellar")
    make_relationship(rapport.db, rapport.clock, "Acme payroll")
    text = rapport.slack.command("add <@UNEW> client payroll", user="UALICE").text
    assert text.startswith("*Acme payroll*")
    ambiguous = rapport.slack.command("show acme", user="UALICE").text
    assert "matches several relationships" in ambiguous


def test_use_button_for_a_relationship_i_am_not_in_is_refused(rapport):
    other = make_relationship(rapport.db, rapport.clock, "Other", creator="UBOB")
    rapport.slack.block_action(f"use_relationship_{other}", value=str(other), user="UZED")
    (answer,) = rapport.fake.wait_for("response_url")
    assert "not part of it" in answer.args["text"] and "Other" not in answer.args["text"]


def test_a_click_whose_work_fails_after_the_ack_is_told_privately(rapport, monkeypatch):
    first = make_relationship(rapport.db, rapport.clock, "First")
    make_relationship(rapport.db, rapport.clock, "Second")

    def database_gone():
        raise OperationalError("BEGIN", {}, ConnectionRefusedError("database restarting"))

    monkeypatch.setattr(rapport.db, "transaction", database_gone)
    clicked = rapport.slack.block_action(f"use_relationship_{first}", value=str(first))
    assert clicked.status == 200
    (answer,) = rapport.fake.wait_for("response_url")
    assert answer.args["text"] == DATABASE_DOWN
    assert answer.args["replace_original"] is False


def test_a_membership_recorded_under_a_workspace_the_relationship_has_left_reaches_nothing(
    rapport,
):
    """A member's workspace is always one of their relationship's homes (leaving a joint
    relationship takes the partner's people along); a row that said otherwise is refused as
    any relationship of another workspace is, not shown."""
    relationship_id = make_relationship(rapport.db, rapport.clock, "Acme ⇄ Stellar")
    with rapport.db.transaction() as session:
        session.add(
            Member(
                team_id="TGONE",
                relationship_id=relationship_id,
                user_id="UZED",
                side=Side.PROVIDER,
                role=Role.FRONTLINE,
                added_at=rapport.clock.now(),
            )
        )
    reply = rapport.slack.command("show", user="UZED", team="TGONE")
    assert reply.status == 200
    assert "no longer exists, or you're not part of it" in reply.text
    assert "Acme" not in reply.text
