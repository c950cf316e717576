"""One relationship across two companies' workspaces: invite, join and leave, through
signed slash commands from both workspaces (each installed through OAuth)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from bot.core.db import alembic_config, migrate
from bot.drift.models import DriftSignal
from bot.health.models import HealthSnapshot
from bot.relationships.models import Member, Relationship, RelationshipInvite
from bot.slack.models import SentMessage
from tests.support.drift_helpers import FORMAL
from tests.support.due_work import wait_until
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship
from tests.support.joint_helpers import (
    CODE,
    SHARED,
    STELLAR,
    invite,
    join,
    token_of,
    watch_shared,
)
from tests.support.slack_requests import Delivery


def members(app) -> dict[str, tuple[str, str, str]]:
    with app.db.transaction() as session:
        rows = session.scalars(select(Member).order_by(Member.id))
        return {m.user_id: (m.team_id, m.side.value, m.role.value) for m in rows}


def told_in_ledger(app, news: str) -> dict[str, str]:
    """Owners told ``news`` (e.g. "provider-joined") through the send ledger, by status."""
    with app.db.transaction() as session:
        rows = session.execute(select(SentMessage.channel, SentMessage.status, SentMessage.key))
        return {channel: status.value for channel, status, key in rows if f":{news}:" in key}


def test_an_invite_code_lets_the_other_owner_join_from_their_own_workspace(two):
    code = invite(two)
    answer = two.slack.command("invite <@UPAT>")  # a new code replaces the first
    second = CODE.search(answer.text).group(0)
    assert second != code and "only for <@UPAT>" in answer.text
    assert "works once" in answer.text and "<!date^" in answer.text

    assert "I don't know that code" in join(two, code).text  # replaced: gone
    joined = join(two, second.lower().replace("-", " "))  # typed loosely, still the code
    assert "You've joined *Acme ⇄ Stellar* as an owner on the provider side" in joined.text

    with two.db.transaction() as session:
        relationship = session.get(Relationship, two.relationship_id)
        assert (relationship.team_id, relationship.partner_team_id) == (TEAM_ID, STELLAR)
        stored = session.scalars(select(RelationshipInvite.code_hash)).all()
    assert second not in stored and all(len(h) == 64 for h in stored)  # only hashes kept
    # Stellar's people are reached through Stellar's installation from now on
    assert members(two) == {
        "UALICE": (TEAM_ID, "client", "owner"),
        "UCARL": (TEAM_ID, "client", "frontline"),
        "UPAT": (STELLAR, "provider", "owner"),
        "UPRIYA": (STELLAR, "provider", "frontline"),
    }
    # Acme's owner hears it through Acme's installation
    told = two.fake.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "UALICE")
    assert "<@UPAT> joined *Acme ⇄ Stellar* from Stellar's own workspace" in told[0].args["text"]
    assert told[0].token.startswith(f"xoxb-{TEAM_ID}-")
    # through the send ledger, by a key naming the event: once
    wait_until(lambda: told_in_ledger(two, "provider-joined") == {"UALICE": "sent"}, "the ledger")
    # and both sides now find the relationship from their own workspace
    assert "Acme ⇄ Stellar" in two.slack.command("show", user="UPAT", team=STELLAR).text
    assert "Acme ⇄ Stellar" in two.slack.command("show", user="UALICE").text


def test_codes_work_once_for_a_day_for_the_person_named_and_never_in_the_same_workspace(two):
    code = invite(two)
    assert "made for someone else" in join(two, code, user="USAM").text
    assert "already lives in this workspace" in join(two, code, user="UPAT", team=TEAM_ID).text
    assert "doesn't look like an invite code" in join(two, "<!channel>").text
    assert "<!channel>" not in join(two, "<!channel>").text
    assert "I don't know that code" in join(two, "RAP-AAAA-BBBB-CCCC").text  # forged

    two.clock.advance(hours=24, seconds=1)
    assert "has expired" in join(two, code).text
    fresh = invite(two)
    assert "You've joined" in join(two, fresh).text
    assert "used already" in join(two, fresh).text  # a second time
    # nothing changed for anyone along the way but the one join
    assert members(two)["UPAT"] == (STELLAR, "provider", "owner")


def test_only_owners_of_the_creating_workspace_invite_and_nobody_invites_their_own_side(two):
    assert "Only owners" in two.slack.command("invite <@UPAT>", user="UCARL").text
    assert "on your side (client)" in two.slack.command("invite <@UCARL>").text
    assert "not yourself" in two.slack.command("invite <@UALICE>").text
    assert "Invite one person" in two.slack.command("invite <@UPAT> <@UPRIYA>").text
    code = invite(two)
    join(two, code)
    assert "already spans two workspaces" in two.slack.command("invite <@USAM>").text


def test_a_workspace_without_rapport_installed_cannot_join(two):
    code = invite(two)
    assert join(two, code, team="T0NOWHERE").text == ""  # answered at its response URL:
    said = two.fake.wait_for("response_url", lambda c: "/T0NOWHERE/" in c.path)
    assert "isn't installed in this workspace" in said[0].args["text"]
    assert members(two)["UPAT"][0] == TEAM_ID  # nothing changed


def test_after_joining_each_company_adds_and_removes_only_its_own_people(two):
    join(two, invite(two))
    refused = two.slack.command("add <@USAM> client", user="UPAT", team=STELLAR)
    assert "each company looks after its own people" in refused.text
    assert "each company" in two.slack.command("remove <@UPRIYA>").text  # Acme's owner
    assert "each company" in two.slack.command("add <@UCARL> provider").text  # switch sides

    added = two.slack.command("add <@USAM> provider", user="UPAT", team=STELLAR)
    assert "USAM" in added.text
    assert members(two)["USAM"] == (STELLAR, "provider", "frontline")
    two.slack.command("remove <@UPRIYA>", user="UPAT", team=STELLAR)
    assert "UPRIYA" not in members(two)


def test_leaving_turns_it_back_into_two_one_sided_relationships_keeping_history(two):
    join(two, invite(two))
    with two.db.transaction() as session:
        relationship = session.get(Relationship, two.relationship_id)
        session.add(
            HealthSnapshot(
                team_id=TEAM_ID,
                relationship_id=relationship.id,
                week_start=two.clock.now().date(),
                index_value=71.0,
                band="healthy",
                components={},
                computed_at=two.clock.now(),
            )
        )
    assert "Only owners" in two.slack.command("leave", user="UPRIYA", team=STELLAR).text
    left = two.slack.command("leave", user="UPAT", team=STELLAR)
    assert "You've left the joint *Acme ⇄ Stellar*" in left.text

    with two.db.transaction() as session:
        relationships = session.scalars(select(Relationship).order_by(Relationship.id)).all()
        assert [(r.team_id, r.partner_team_id) for r in relationships] == [
            (TEAM_ID, None),
            (STELLAR, None),
        ]
        parted = relationships[1]
        snapshots = session.execute(
            select(HealthSnapshot.relationship_id, HealthSnapshot.team_id, HealthSnapshot.band)
        ).all()
    assert sorted(snapshots) == [
        (two.relationship_id, TEAM_ID, "healthy"),
        (parted.id, STELLAR, "healthy"),
    ]
    people = members(two)
    assert people["UPAT"] == (STELLAR, "provider", "owner")
    with two.db.transaction() as session:
        by_relationship = dict(
            session.execute(select(Member.user_id, Member.relationship_id)).all()
        )
    assert by_relationship["UPAT"] == by_relationship["UPRIYA"] == parted.id
    assert by_relationship["UALICE"] == by_relationship["UCARL"] == two.relationship_id
    # Acme's owners hear it through Acme's installation
    told = two.fake.wait_for(
        "chat.postMessage", lambda c: "ended the joint set-up" in c.args.get("text", "")
    )
    assert told[0].args["channel"] == "UALICE" and told[0].token.startswith(f"xoxb-{TEAM_ID}-")
    wait_until(lambda: told_in_ledger(two, "provider-left") == {"UALICE": "sent"}, "the ledger")
    assert "nothing to leave" in two.slack.command("leave").text


def shared_message(app, user: str, text: str, ts: str, via: str | None = None) -> Delivery:
    """``user`` posts in the shared channel; Slack delivers it once, under ``via``'s
    installation (or one it picks), naming the author's own organisation."""
    delivery = app.slack.shared_channel_message(SHARED, user, text, via=via, ts=ts)
    assert delivery.response.status == 200
    return delivery


def test_a_shared_channel_message_counts_once_whichever_installation_slack_names(joined):
    two = joined
    watch_shared(two)
    now = two.clock.now().timestamp()
    formal = "Please be advised that as per clause 7.2 of the MSA this is out of scope."
    shared_message(two, "UCARL", "morning all!", f"{now + 1:.6f}", via=STELLAR).retry()
    priya = shared_message(two, "UPRIYA", formal, f"{now + 2:.6f}", via=STELLAR)
    shared_message(two, "USAM", "thanks!", f"{now + 3:.6f}", via=TEAM_ID).retry(num=2)
    assert priya.retry().status == 200  # Slack retries the delivery
    # and, were it ever delivered again under the other installation, it still counts once
    other = dict(priya.envelope, team_id=TEAM_ID, event_id="Ev-other")
    other["authorizations"] = two.fake.event_authorizations(SHARED)[:1]
    assert other["authorizations"][0]["team_id"] == TEAM_ID
    assert two.slack.deliver(other).status == 200
    with two.db.transaction() as session:
        stored = session.execute(
            select(DriftSignal.team_id, DriftSignal.author_id, DriftSignal.side)
            .where(DriftSignal.relationship_id == two.relationship_id)
            .order_by(DriftSignal.posted_at)
        ).all()
    # stored under the relationship's own workspace, on the author's organisation's side
    # (Sam isn't a member: Stellar's people count on the provider side since the join)
    assert stored == [
        (TEAM_ID, "UCARL", "client"),
        (TEAM_ID, "UPRIYA", "provider"),
        (TEAM_ID, "USAM", "provider"),
    ]


def test_the_joint_migration_keeps_every_relationship_its_people_and_settings(db, clock):
    """0017 adds columns in place: copying the table on SQLite would have cascade-deleted
    the members of every relationship, in either direction."""
    relationship_id = make_relationship(db, clock, channels=("CSHARED",))
    config = alembic_config(db.engine)
    for step in (lambda: command.downgrade(config, "0016"), lambda: migrate(db.engine)):
        step()
        with db.engine.connect() as connection:
            people = connection.execute(
                text("SELECT count(*) FROM members WHERE relationship_id = :id"),
                {"id": relationship_id},
            ).scalar()
            channels = connection.execute(text("SELECT count(*) FROM watched_channels")).scalar()
        assert (people, channels) == (4, 1)


def test_drift_alerts_reach_each_companys_owners_through_their_own_workspace(joined):
    app = joined
    watch_shared(app)
    now = app.clock.now().timestamp()
    for n, formal in enumerate(FORMAL[:4]):
        shared_message(app, "UPRIYA", formal, f"{now + n:.6f}")  # under Slack's pick
    alerts = app.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in str(c.args.get("blocks")), count=2
    )
    assert sorted((c.args["channel"], token_of(c)) for c in alerts) == [
        ("UALICE", TEAM_ID),
        ("UPAT", STELLAR),
    ]
    # Stellar's owner answers the alert from Stellar's workspace
    alert_id = next(
        element["value"]
        for block in alerts[0].args["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == "drift_acknowledge"
    )
    app.slack.block_action("drift_acknowledge", value=alert_id, user="UPAT", team=STELLAR)
    done = app.fake.wait_for("response_url", lambda c: f"/{STELLAR}/" in c.path)
    assert "Acknowledged by <@UPAT>" in str(done[0].args)


def test_the_alerts_channel_of_a_joint_relationship_is_set_from_the_creating_workspace(joined):
    refused = joined.slack.command(f"alerts <#{SHARED}>", user="UPAT", team=STELLAR)
    assert "its alerts channel is set from the workspace that created it" in refused.text
    with joined.db.transaction() as session:
        assert session.get(Relationship, joined.relationship_id).alerts_channel_id is None
