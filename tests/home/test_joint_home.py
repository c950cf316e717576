"""App Home of a relationship spanning two workspaces: each company's people see it in
their own workspace, published through their own installation."""

from __future__ import annotations

from tests.support.fake_slack import TEAM_ID
from tests.support.home_helpers import text_of
from tests.support.joint_helpers import STELLAR, token_of


def test_each_company_sees_the_joint_relationship_in_its_own_app_home(joined):
    app = joined
    for user, team in (("UALICE", TEAM_ID), ("UPRIYA", STELLAR)):
        event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
        assert app.slack.event(event, team=team).status == 200
        (published,) = app.fake.wait_for("views.publish", lambda c, u=user: c.args["user_id"] == u)
        assert token_of(published) == team
        assert "Acme ⇄ Stellar" in text_of(published.args["view"])
