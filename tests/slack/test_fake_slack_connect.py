"""The fake Slack models Slack Connect as Slack documents it: two workspaces, each with its
own installation of Rapport, sharing one channel; what each workspace's token may see and do
there; each event delivered once under one installation; and one side uninstalling."""

from __future__ import annotations

import random

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack.test_installs import BETA, install
from tests.support.drift_helpers import FORMAL, signals
from tests.support.fake_slack import BOT_USER_ID, TEAM_ID
from tests.support.helpers import make_relationship

GAMMA = "T0GAMMA"  # a third workspace, with Rapport, connected to neither
APP_TOKEN = "xapp-1-A0RAPPORT-1-apptoken"  # app-level, with authorizations:read


def installed(fake, team: str, name: str) -> WebClient:
    """A client holding the bot token ``team`` got by installing Rapport through OAuth."""
    fake.approve_install(f"code-{team}", team, name)
    answer = WebClient(base_url=fake.api_url).oauth_v2_access(
        client_id="1111.2222", client_secret="secret", code=f"code-{team}"
    )
    return WebClient(token=answer["access_token"], base_url=fake.api_url)


def refusal(call) -> str:
    with pytest.raises(SlackApiError) as refused:
        call()
    return refused.value.response["error"]


@pytest.fixture
def connect(fake_slack):
    """Acme and Beta share #acme-beta (Acme hosts it; Beta calls it #beta-acme): Acme's
    Alice and Beta's Bo are in it, Beta's Bea isn't; Gamma's Gus is connected to neither."""
    clients = {
        TEAM_ID: installed(fake_slack, TEAM_ID, "Acme"),
        BETA: installed(fake_slack, BETA, "Beta"),
        GAMMA: installed(fake_slack, GAMMA, "Gamma"),
    }
    fake_slack.add_user("UALICE", tz="Europe/London", team=TEAM_ID)
    fake_slack.add_user("UBO", tz="Asia/Tokyo", team=BETA, email="bo@beta.example")
    fake_slack.add_user("UBEA", tz="Asia/Tokyo", team=BETA)
    fake_slack.add_user("UGUS", team=GAMMA)
    fake_slack.share_channel(
        "CCONNECT",
        "acme-beta",
        teams=(TEAM_ID, BETA),
        members=("UALICE", "UBO"),
        names={BETA: "beta-acme"},
    )
    return clients


def test_the_shared_channel_has_one_id_and_says_so_to_either_workspace_only(connect):
    acme = connect[TEAM_ID].conversations_info(channel="CCONNECT")["channel"]
    beta = connect[BETA].conversations_info(channel="CCONNECT")["channel"]
    for seen in (acme, beta):
        assert seen["id"] == "CCONNECT" and seen["is_ext_shared"] and seen["is_member"]
        assert seen["connected_team_ids"] == [TEAM_ID, BETA]
        assert seen["conversation_host_id"] == TEAM_ID
    assert (acme["name"], beta["name"]) == ("acme-beta", "beta-acme")
    assert (acme["context_team_id"], beta["context_team_id"]) == (TEAM_ID, BETA)
    assert refusal(lambda: connect[GAMMA].conversations_info(channel="CCONNECT")) == (
        "channel_not_found"
    )


def test_members_of_both_organisations_and_both_bots_are_listed_page_by_page(connect):
    for client in (connect[TEAM_ID], connect[BETA]):
        members, cursor = [], None
        while True:
            page = client.conversations_members(channel="CCONNECT", limit=2, cursor=cursor)
            members += page["members"]
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                break
        assert members == ["UALICE", "UBO", BOT_USER_ID, "UBOT0BETA"]


def test_users_info_shows_own_people_fully_and_others_only_what_slack_shares(connect):
    acme, beta = connect[TEAM_ID], connect[BETA]
    assert beta.users_info(user="UBO")["user"]["tz"] == "Asia/Tokyo"  # Beta's own
    external = acme.users_info(user="UBO")["user"]  # in the shared channel with Acme's bot
    assert (external["team_id"], external["profile"]["team"]) == (BETA, BETA)
    assert external["is_stranger"] is False
    assert not {"tz", "tz_offset", "locale", "email"} & set(external)
    stranger = acme.users_info(user="UBEA")["user"]  # Beta's, but in no channel with Acme
    assert stranger["is_stranger"] is True and stranger["team_id"] == BETA
    assert refusal(lambda: acme.users_info(user="UGUS")) == "user_not_found"
    assert acme.users_info(user="UBOT0BETA")["user"]["is_bot"] is True


def test_a_dm_to_another_workspaces_person_is_done_as_slack_does_but_recorded(connect, fake_slack):
    acme, beta = connect[TEAM_ID], connect[BETA]
    assert beta.chat_postMessage(channel="UBO", text="Your pulse")["ok"]
    assert acme.conversations_open(users="UALICE")["ok"]
    assert fake_slack.cross_workspace_dms() == []  # each through their own installation

    # "Bot users can DM … external users with a common shared channel"
    assert acme.chat_postMessage(channel="UBO", text="Your pulse")["ok"]
    dm = acme.conversations_open(users="UBO")["channel"]["id"]
    assert acme.chat_postMessage(channel=dm, text="Your pulse")["ok"]
    # nobody in common: refused
    assert refusal(lambda: acme.conversations_open(users="UBEA")) == "user_not_visible"
    assert refusal(lambda: acme.conversations_open(users="UGUS")) == "user_not_found"
    assert refusal(lambda: acme.chat_postMessage(channel="UBEA", text="hi")) == (
        "channel_not_found"
    )
    offending = fake_slack.cross_workspace_dms()
    assert [(call.method, call.token) for call in offending] == [
        ("chat.postMessage", acme.token),
        ("conversations.open", acme.token),
        ("chat.postMessage", acme.token),
        ("conversations.open", acme.token),
        ("conversations.open", acme.token),
        ("chat.postMessage", acme.token),
    ]


def test_either_workspace_posts_in_the_shared_channel_as_its_own_bot(connect, fake_slack):
    for team in (TEAM_ID, BETA):
        posted = connect[team].chat_postMessage(channel="CCONNECT", text=f"from {team}")
        assert posted["message"]["user"] == fake_slack.bot_user_of(team)
    for team in (TEAM_ID, BETA):  # both see the whole history, newest first
        history = connect[team].conversations_history(channel="CCONNECT")["messages"]
        assert [m["team"] for m in history] == [BETA, TEAM_ID]
    gamma = connect[GAMMA]
    assert refusal(lambda: gamma.chat_postMessage(channel="CCONNECT", text="x")) == (
        "channel_not_found"
    )
    assert refusal(lambda: gamma.conversations_history(channel="CCONNECT")) == ("channel_not_found")


def test_a_bot_not_in_the_shared_channel_joins_it_before_posting(fake_slack, connect):
    fake_slack.share_channel("CJOIN", "joint", teams=(BETA, TEAM_ID), bots=(BETA,))
    acme = connect[TEAM_ID]
    assert acme.conversations_info(channel="CJOIN")["channel"]["is_member"] is False
    assert refusal(lambda: acme.chat_postMessage(channel="CJOIN", text="x")) == "not_in_channel"
    assert acme.conversations_join(channel="CJOIN")["channel"]["is_member"] is True
    assert acme.chat_postMessage(channel="CJOIN", text="x")["ok"]


def test_auth_test_answers_for_the_workspace_of_each_token(connect):
    for team, name in ((TEAM_ID, "Acme"), (BETA, "Beta")):
        answer = connect[team].auth_test()
        assert (answer["team_id"], answer["team"]) == (team, name)
    assert connect[BETA].auth_test()["user_id"] == "UBOT0BETA"
    assert connect[TEAM_ID].auth_test()["user_id"] == BOT_USER_ID


def test_an_event_names_one_installation_and_the_list_method_names_every_one(connect, fake_slack):
    envelope = fake_slack.shared_channel_delivery("CCONNECT", "UBO", "hello", via=TEAM_ID)
    assert envelope["team_id"] == TEAM_ID and envelope["is_ext_shared_channel"] is True
    assert [auth["team_id"] for auth in envelope["authorizations"]] == [TEAM_ID]
    event = envelope["event"]
    assert (event["user"], event["user_team"], event["source_team"], event["team"]) == (
        "UBO",
        BETA,
        BETA,
        BETA,
    )

    app = WebClient(token=APP_TOKEN, base_url=fake_slack.api_url)
    context = envelope["event_context"]
    listed = app.apps_event_authorizations_list(event_context=context)["authorizations"]
    assert [(a["team_id"], a["user_id"]) for a in listed] == [
        (TEAM_ID, BOT_USER_ID),
        (BETA, "UBOT0BETA"),
    ]
    first = app.apps_event_authorizations_list(event_context=context, limit=1)
    cursor = first["response_metadata"]["next_cursor"]
    second = app.apps_event_authorizations_list(event_context=context, limit=1, cursor=cursor)
    assert first["authorizations"] + second["authorizations"] == listed
    assert second["response_metadata"]["next_cursor"] == ""
    assert refusal(lambda: app.apps_event_authorizations_list(event_context="4-made-up")) == (
        "invalid_event_context"
    )
    bot = connect[TEAM_ID]
    assert refusal(lambda: bot.apps_event_authorizations_list(event_context=context)) == (
        "not_allowed_token_type"
    )


def test_slack_picks_the_installation_from_a_seed_and_never_one_that_cant_see_it(
    fake_slack, connect
):
    def picks(seed: int) -> list[str]:
        fake_slack.deliveries = random.Random(seed)
        return [
            fake_slack.shared_channel_delivery("CCONNECT", "UALICE", "hi")["team_id"]
            for _ in range(20)
        ]

    assert picks(7) == picks(7) and set(picks(7)) == {TEAM_ID, BETA}
    with pytest.raises(ValueError):
        fake_slack.shared_channel_delivery("CCONNECT", "UALICE", "hi", via=GAMMA)


def test_a_workspace_without_rapport_shares_the_channel_but_is_never_named(fake_slack, connect):
    fake_slack.add_team("T0DELTA", "Delta")
    fake_slack.add_user("UDEE", team="T0DELTA")
    fake_slack.share_channel("CTRIO", "trio", teams=("T0DELTA", TEAM_ID), members=("UDEE",))
    assert [a["team_id"] for a in fake_slack.event_authorizations("CTRIO")] == [TEAM_ID]
    envelope = fake_slack.shared_channel_delivery("CTRIO", "UDEE", "hello")
    assert envelope["team_id"] == TEAM_ID and envelope["event"]["user_team"] == "T0DELTA"
    assert connect[TEAM_ID].users_info(user="UDEE")["user"]["team_id"] == "T0DELTA"


def test_uninstalling_one_workspace_revokes_its_tokens_and_not_the_others(connect, fake_slack):
    envelope = fake_slack.shared_channel_delivery("CCONNECT", "UBO", "hello", via=BETA)
    events = fake_slack.uninstall(BETA)
    assert [event["type"] for event in events] == ["tokens_revoked", "app_uninstalled"]
    assert events[0]["tokens"]["bot"] == ["UBOT0BETA"]
    beta, acme = connect[BETA], connect[TEAM_ID]
    assert refusal(beta.auth_test) == "token_revoked"
    assert refusal(lambda: beta.chat_postMessage(channel="UBO", text="x")) == "token_revoked"
    assert acme.auth_test()["team_id"] == TEAM_ID
    assert acme.conversations_info(channel="CCONNECT")["channel"]["is_ext_shared"]
    app = WebClient(token=APP_TOKEN, base_url=fake_slack.api_url)
    listed = app.apps_event_authorizations_list(event_context=envelope["event_context"])
    assert [auth["team_id"] for auth in listed["authorizations"]] == [TEAM_ID]
    with pytest.raises(ValueError):  # Slack names only installations that can see it
        fake_slack.shared_channel_delivery("CCONNECT", "UBO", "again", via=BETA)

    again = installed(fake_slack, BETA, "Beta")  # a reinstall: a new token that works
    assert again.auth_test()["team_id"] == BETA


def test_the_running_app_acknowledges_a_shared_channel_message_under_either_installation(
    multi,
):
    install(multi, TEAM_ID, "Acme", "code-acme")
    install(multi, BETA, "Beta", "code-beta")
    multi.fake.add_user("UALICE", team=TEAM_ID)
    multi.fake.add_user("UBO", team=BETA)
    multi.fake.share_channel("CCONNECT", "acme-beta", teams=(TEAM_ID, BETA), members=("UBO",))
    make_relationship(multi.db, multi.clock, channels=("CCONNECT",))  # Acme's, watching it
    ts = f"{multi.clock.now().timestamp():.6f}"

    under_acme = multi.slack.shared_channel_message(
        "CCONNECT", "UBO", FORMAL[0], via=TEAM_ID, ts=ts
    )
    under_beta = multi.slack.shared_channel_message("CCONNECT", "UBO", FORMAL[1], via=BETA)
    assert (under_acme.team, under_beta.team) == (TEAM_ID, BETA)
    assert under_acme.response.status == under_beta.response.status == 200
    assert under_acme.retry().status == under_beta.retry(2).status == 200
    # signed and authorised as Acme's installation, it reached the drift listener, once
    assert [s.author_id for s in signals(multi) if s.message_ts == ts] == ["UBO"]

    assert [r.status for r in multi.slack.uninstall(BETA)] == [200, 200]
    with pytest.raises(ValueError):
        multi.slack.shared_channel_message("CCONNECT", "UBO", "hi", via=BETA)
    assert multi.slack.shared_channel_message("CCONNECT", "UBO", "hi").team == TEAM_ID
