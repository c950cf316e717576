"""Two companies, each with Rapport installed in its own workspace, sharing a relationship:
Acme (the client, which creates it) and Stellar (the provider, which joins by code)."""

from __future__ import annotations

import re

import pytest

from tests.slack.test_installs import install
from tests.support.fake_slack import TEAM_ID
from tests.support.helpers import make_relationship

STELLAR = "T0STELLAR"
SHARED = "CSHARED"  # the Slack Connect channel both companies talk in
ACME_PEOPLE = ("UALICE", "UCARL")
STELLAR_PEOPLE = ("UPAT", "UPRIYA", "USAM")
CODE = re.compile(r"RAP-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


@pytest.fixture
def two(multi):
    """Both installed through OAuth and sharing the Slack Connect channel ``SHARED`` (both
    bots in it); the relationship made in Acme's workspace, with Pat and Priya (Stellar's)
    added as Slack Connect people; not joined yet."""
    install(multi, TEAM_ID, "Acme", "code-acme")
    install(multi, STELLAR, "Stellar", "code-stellar")
    for user in ACME_PEOPLE:
        multi.fake.add_user(user, team=TEAM_ID)
    for user in STELLAR_PEOPLE:
        multi.fake.add_user(user, team=STELLAR)
    multi.fake.share_channel(
        SHARED, "acme-stellar", teams=(TEAM_ID, STELLAR), members=ACME_PEOPLE + STELLAR_PEOPLE
    )
    multi.relationship_id = make_relationship(multi.db, multi.clock)
    return multi


@pytest.fixture
def joined(two):
    """``two``, after Stellar's owner Pat joined from Stellar's workspace."""
    answer = join(two, invite(two))
    assert "You've joined" in answer.text, answer.text
    return two


def invite(app, who: str = "<@UPAT>") -> str:
    answer = app.slack.command(f"invite {who}")
    found = CODE.search(answer.text)
    assert found, answer.text
    return found.group(0)


def join(app, code: str, user: str = "UPAT", team: str = STELLAR):
    return app.slack.command(f"join {code}", user=user, team=team)


def watch_shared(app) -> None:
    """Acme's owner watches the shared channel (Slack says she is in it)."""
    app.slack.command(f"watch <#{SHARED}>")
    app.fake.wait_for("response_url", lambda c: "Watching" in c.args.get("text", ""))


def token_of(call) -> str:
    """The workspace whose token made a fake Slack call (tokens name their workspace)."""
    return call.token.split("-")[1]
