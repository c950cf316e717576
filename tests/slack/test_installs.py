"""Installing Rapport in several workspaces through Slack's OAuth flow, token rotation, and
what happens when a workspace uninstalls it."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import func, select, update

from bot.pulse.models import PulseRound
from bot.relationships.models import Member, Relationship
from bot.slack import workspaces
from bot.slack.installation_models import BOTS
from bot.slack.models import SentMessage, Workspace
from bot.slack.token_cipher import TokenCipher
from scheduler.workspace_jobs import delete_departed_workspaces
from tests.app.test_cli import free_port, wait_for_health
from tests.app.test_manifest import MANIFEST
from tests.app.test_process_roles import Process
from tests.conftest import CLIENT_ID, CLIENT_SECRET, KEY, RunningApp
from tests.privacy.test_data_rights import forget, rows_mentioning
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship, run_as_scheduler
from tests.support.pulse_helpers import prompts, pulse, tick
from tests.support.slack_requests import SIGNING_SECRET

BETA = "T0BETA"


def get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def install(running: RunningApp, team_id: str, name: str, code: str, as_user: bool = False) -> str:
    """Click "Add to Slack", allow, come back: the way a workspace admin installs Rapport."""
    status, page, headers = get(f"{running.url}/slack/install")
    assert status == 200
    state = re.search(r"state=([\w-]+)", page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    running.fake.approve_install(code, team_id, name, as_user)
    status, page, _ = get(f"{running.url}/slack/oauth_redirect?code={code}&state={state}", cookie)
    assert status == 200, page
    return page


def bot_token(running: RunningApp, team_id: str) -> str:
    with running.db.transaction() as session:
        stored = session.scalars(
            select(BOTS.c.bot_token)
            .where(BOTS.c.team_id == team_id)
            .order_by(BOTS.c.installed_at.desc())
        ).first()
    return TokenCipher([KEY]).decrypt(stored)


def people_of(team: str) -> tuple[str, str, str, str]:
    """Four people of ``team``: user ids are Slack-wide, so each workspace has its own."""
    people = ("UALICE", "UCARL", "UPAT", "UPRIYA")
    return people if team == TEAM_ID else tuple(f"{user}{team[1:]}" for user in people)


def one_round_of_prompts(running: RunningApp, team: str) -> None:
    alice, carl, pat, priya = people = people_of(team)
    for user in people:
        running.fake.add_user(user, team=team)
    make_relationship(
        running.db,
        running.clock,
        f"Rel {team}",
        creator=alice,
        client_members=(carl,),
        provider_owners=(pat,),
        provider_members=(priya,),
        team=team,
    )
    assert "open" in pulse(running, "send", user=alice, team=team).text


def test_the_install_page_asks_for_the_manifest_scopes_and_is_not_served_single_workspace(
    multi, rapport
):
    status, page, headers = get(f"{multi.url}/slack/install")
    link = html.unescape(re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page).group(1))
    query = parse_qs(urlparse(link).query)
    assert status == 200 and query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == MANIFEST["oauth_config"]["scopes"]["bot"]
    assert "slack-app-oauth-state=" in headers["Set-Cookie"]
    assert get(f"{rapport.url}/slack/install")[0] == 404  # one workspace: nothing to install


def test_two_workspaces_install_and_each_is_served_with_its_own_token(multi):
    install(multi, TEAM_ID, "Acme", "code-acme")
    install(multi, BETA, "Beta", "code-beta")
    exchanges = multi.fake.calls_to("oauth.v2.access")
    assert [call.args["code"] for call in exchanges] == ["code-acme", "code-beta"]
    acme, beta = bot_token(multi, TEAM_ID), bot_token(multi, BETA)
    assert acme.startswith(f"xoxb-{TEAM_ID}-") and beta.startswith(f"xoxb-{BETA}-")

    assert multi.slack.command("setup", team=BETA).status == 200  # a request: Bolt's token
    assert multi.fake.wait_for("views.open")[0].token == beta

    one_round_of_prompts(multi, TEAM_ID)  # scheduled work: SlackClients' token
    one_round_of_prompts(multi, BETA)
    tick(multi.services)
    tokens = {call.args["channel"]: call.token for call in multi.fake.done("chat.postMessage")}
    assert tokens == {user: acme for user in people_of(TEAM_ID)} | {
        user: beta for user in people_of(BETA)
    }
    assert len(prompts(multi.fake)) == 8 and multi.fake.cross_workspace_dms() == []


def test_a_failed_or_forged_install_stores_nothing(multi):
    _, page, headers = get(f"{multi.url}/slack/install")
    cookie = headers["Set-Cookie"].split(";")[0]
    state = re.search(r"state=([\w-]+)", page).group(1)
    # Slack never issued this code
    assert get(f"{multi.url}/slack/oauth_redirect?code=made-up&state={state}", cookie)[0] != 200
    # a state Rapport never issued
    multi.fake.approve_install("code-x", BETA, "Beta")
    assert get(f"{multi.url}/slack/oauth_redirect?code=code-x&state=forged", cookie)[0] != 200
    assert bot_token(multi, BETA) is None


def test_a_bot_token_near_expiry_is_rotated_before_scheduled_work_uses_it(multi):
    install(multi, BETA, "Beta", "code-beta")
    first = bot_token(multi, BETA)
    with multi.db.transaction() as session:  # twelve hours on: ten minutes left to live
        session.execute(
            update(BOTS)
            .where(BOTS.c.team_id == BETA)
            .values(
                bot_token_expires_at=datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=10)
            )
        )
    one_round_of_prompts(multi, BETA)
    tick(multi.services)
    refreshed = bot_token(multi, BETA)
    assert refreshed != first and refreshed.startswith(f"xoxb-{BETA}-")
    rotations = [c for c in multi.fake.calls_to("oauth.v2.access") if "refresh_token" in c.args]
    assert rotations and rotations[0].args["grant_type"] == "refresh_token"
    assert {call.token for call in prompts(multi.fake)} == {refreshed}


def test_uninstalling_stops_every_send_at_once_and_a_reinstall_resumes(multi):
    install(multi, BETA, "Beta", "code-beta")
    one_round_of_prompts(multi, BETA)
    event = {"type": "app_uninstalled"}
    assert multi.slack.event(event, team=BETA).status == 200
    assert bot_token(multi, BETA) is None  # tokens dropped at once
    tick(multi.services)
    assert prompts(multi.fake) == []
    with multi.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SentMessage)) == 0

    install(multi, BETA, "Beta", "code-again")
    tick(multi.services)
    assert len(prompts(multi.fake)) == 4


def test_a_revoked_bot_token_stops_sends_but_a_revoked_user_token_does_not(rapport):
    one_round_of_prompts(rapport, TEAM_ID)
    revoked_user = {"type": "tokens_revoked", "tokens": {"oauth": ["UALICE"], "bot": []}}
    assert rapport.slack.event(revoked_user).status == 200
    with rapport.db.transaction() as session:
        assert workspaces.is_active(session, TEAM_ID)
    revoked_bot = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOTRAPPORT"]}}
    assert rapport.slack.event(revoked_bot).status == 200
    run_as_scheduler(rapport, tick)
    assert prompts(rapport.fake) == []


def test_a_departed_workspace_is_deleted_after_the_grace_period_and_no_other(multi):
    install(multi, TEAM_ID, "Acme", "code-acme")
    install(multi, BETA, "Beta", "code-beta")
    one_round_of_prompts(multi, TEAM_ID)
    one_round_of_prompts(multi, BETA)
    tick(multi.services)
    assert multi.slack.event({"type": "app_uninstalled"}, team=BETA).status == 200

    multi.clock.advance(days=workspaces.DELETE_AFTER.days - 1)
    assert delete_departed_workspaces(multi.services) == []
    multi.clock.advance(days=1, seconds=1)
    assert delete_departed_workspaces(multi.services) == [BETA]

    with multi.db.transaction() as session:
        for model in (Relationship, Member, PulseRound, SentMessage, Workspace):
            teams = set(session.scalars(select(model.team_id)))
            assert BETA not in teams, model.__name__
        assert set(session.scalars(select(Relationship.team_id))) == {TEAM_ID}
        assert session.scalar(select(func.count()).select_from(SentMessage)) == 4
    assert bot_token(multi, TEAM_ID) is not None


def test_a_reinstall_within_the_grace_period_keeps_the_data(multi):
    install(multi, BETA, "Beta", "code-beta")
    one_round_of_prompts(multi, BETA)
    multi.slack.event({"type": "app_uninstalled"}, team=BETA)
    multi.clock.advance(days=10)
    install(multi, BETA, "Beta", "code-again")
    multi.clock.advance(days=workspaces.DELETE_AFTER.days + 1)
    assert delete_departed_workspaces(multi.services) == []
    with multi.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Relationship)) == 1


def test_rapport_run_with_client_credentials_serves_the_install_page(tmp_path, fake_slack):
    port = free_port()
    server = Process(
        "run",
        tmp_path,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        RAPPORT_ENCRYPTION_KEY=KEY,
        DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
        PORT=str(port),
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}/healthz", server.popen)
        status, page, _ = get(f"http://127.0.0.1:{port}/slack/install")
        assert status == 200 and f"client_id={CLIENT_ID}" in page
        assert fake_slack.calls_to("auth.test") == []  # no token of its own to check
    finally:
        assert server.stop() == 0


def test_forget_me_forgets_who_installed_rapport_but_keeps_the_installation(multi):
    install(multi, TEAM_ID, "Acme", "code-acme")  # the fake's installer is UINSTALLER
    make_relationship(multi.db, multi.clock, creator="UINSTALLER")
    assert rows_mentioning(multi, "UINSTALLER")
    forget(multi, "UINSTALLER")
    assert rows_mentioning(multi, "UINSTALLER") == []
    assert bot_token(multi, TEAM_ID) is not None
