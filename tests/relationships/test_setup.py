"""Setting up a relationship from Slack: the /rapport setup modal, end to end."""

from __future__ import annotations

from sqlalchemy import select

from bot.relationships.models import Member, Relationship, Role, Side, WatchedChannel


def setup_values(
    name: str = "Acme ⇄ Stellar service desk",
    client_org: str = "Acme",
    provider_org: str = "Stellar",
    creator_side: str = "client",
    client_owners: list[str] | None = None,
    client_members: list[str] | None = None,
    provider_owners: list[str] | None = None,
    provider_members: list[str] | None = None,
    channels: list[str] | None = None,
    alerts: str | None = None,
) -> dict:
    def text(value: str) -> dict:
        return {"value": {"type": "plain_text_input", "value": value}}

    def people(users: list[str] | None) -> dict:
        return {"value": {"type": "multi_users_select", "selected_users": users or []}}

    return {
        "name": text(name),
        "client_org": text(client_org),
        "provider_org": text(provider_org),
        "creator_side": {
            "value": {"type": "radio_buttons", "selected_option": {"value": creator_side}}
        },
        "client_owners": people(client_owners),
        "client_members": people(client_members),
        "provider_owners": people(provider_owners if provider_owners is not None else ["UPAT"]),
        "provider_members": people(provider_members),
        "watched_channels": {
            "value": {
                "type": "multi_conversations_select",
                "selected_conversations": channels or [],
            }
        },
        "alerts_channel": {
            "value": {"type": "conversations_select", "selected_conversation": alerts}
        },
    }


def test_setup_command_opens_the_modal(rapport):
    response = rapport.slack.command("setup")
    assert response.status == 200
    (call,) = rapport.fake.wait_for("views.open")
    assert call.args["view"]["callback_id"] == "relationship_setup"
    block_ids = [block["block_id"] for block in call.args["view"]["blocks"]]
    assert {"name", "client_owners", "provider_owners", "watched_channels"} <= set(block_ids)


def test_submitting_setup_creates_relationship_with_creator_as_owner(rapport):
    rapport.fake.add_channel("CSHARED", "acme-stellar", members=("UALICE",))
    rapport.fake.add_channel("CALERTS", "acme-owners", members=("UALICE",))
    values = setup_values(
        client_members=["UCARL"],
        provider_members=["UPRIYA"],
        channels=["CSHARED"],
        alerts="CALERTS",
    )
    response = rapport.slack.view_submission("relationship_setup", values, user="UALICE")
    assert response.status == 200
    assert response.body == ""  # the modal closes

    rapport.fake.wait_for("chat.postMessage")  # channels are added once Slack says she's in them
    with rapport.db.transaction() as session:
        relationship = session.scalars(select(Relationship)).one()
        members = {
            m.user_id: (m.side, m.role)
            for m in session.scalars(
                select(Member).where(Member.relationship_id == relationship.id)
            )
        }
        channels = session.scalars(select(WatchedChannel.channel_id)).all()
    assert relationship.name == "Acme ⇄ Stellar service desk"
    assert relationship.team_id == "T0ACME"
    assert relationship.alerts_channel_id == "CALERTS"
    assert members == {
        "UALICE": (Side.CLIENT, Role.OWNER),
        "UCARL": (Side.CLIENT, Role.FRONTLINE),
        "UPAT": (Side.PROVIDER, Role.OWNER),
        "UPRIYA": (Side.PROVIDER, Role.FRONTLINE),
    }
    assert channels == ["CSHARED"]
    (dm,) = rapport.fake.wait_for("chat.postMessage")
    assert dm.args["channel"] == "UALICE"
    assert "is set up" in dm.args["text"]


def test_setup_without_an_owner_on_the_other_side_shows_inline_error(rapport):
    values = setup_values(provider_owners=[])
    response = rapport.slack.view_submission("relationship_setup", values)
    body = response.json()
    assert response.status == 200
    assert body["response_action"] == "errors"
    assert "provider owner" in body["errors"]["provider_owners"]
    with rapport.db.transaction() as session:
        assert session.scalars(select(Relationship)).all() == []


def test_setup_rejects_empty_name_and_person_on_both_sides(rapport):
    values = setup_values(name="   ", client_members=["UCARL"], provider_members=["UCARL"])
    body = rapport.slack.view_submission("relationship_setup", values).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"name", "provider_members"}
    # modal errors are plain text: a mention would show as a raw id
    assert body["errors"]["provider_members"] == (
        "Someone is on both the client and the provider side — pick each person once."
    )


def test_setup_rejects_a_duplicate_name_case_insensitively(rapport):
    rapport.slack.view_submission("relationship_setup", setup_values(name="Acme desk"))
    body = rapport.slack.view_submission(
        "relationship_setup", setup_values(name="  ACME   desk ")
    ).json()
    assert body["response_action"] == "errors"
    assert "already exists" in body["errors"]["name"]


def test_setup_rejects_a_channel_watched_by_another_relationship(rapport):
    rapport.fake.add_channel("CSHARED", "acme-stellar", members=("UALICE",))
    rapport.slack.view_submission(
        "relationship_setup", setup_values(name="First", channels=["CSHARED"])
    )
    rapport.fake.wait_for("chat.postMessage")  # watched once Slack says she's in it
    body = rapport.slack.view_submission(
        "relationship_setup", setup_values(name="Second", channels=["CSHARED"])
    ).json()
    assert body["errors"]["watched_channels"].startswith("One of these channels is already")
    assert "<#" not in body["errors"]["watched_channels"]
    with rapport.db.transaction() as session:
        assert len(session.scalars(select(Relationship)).all()) == 1


def test_provider_creator_needs_a_client_owner(rapport):
    values = setup_values(creator_side="provider", provider_owners=[], client_owners=[])
    body = rapport.slack.view_submission("relationship_setup", values, user="UPAT").json()
    assert set(body["errors"]) == {"client_owners"}
