"""Intros in a relationship spanning two workspaces: each person invited, introduced and
asked *Did you meet?* through their own company's installation; no group DM can span the
two workspaces, so each gets their own DM naming the others."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.intros.blocks import ANSWERED, MET_YES
from bot.intros.models import Route
from tests.support.fake_slack import TEAM_ID
from tests.support.intro_helpers import (
    button_value,
    follow_ups,
    group_rows,
    groups,
    intros,
    intros_command,
    invitations,
    tick,
)
from tests.support.joint_helpers import STELLAR, token_of


def test_intros_across_two_workspaces_reach_each_person_through_their_own(joined):
    app = joined
    assert "Tuesday 10 March" in intros_command(app, "on")
    tick(app.services)
    invited = {call.args["channel"]: token_of(call) for call in invitations(app.fake)}
    assert invited == {"UALICE": TEAM_ID, "UCARL": TEAM_ID, "UPAT": STELLAR, "UPRIYA": STELLAR}
    priya = next(c for c in invitations(app.fake) if c.args["channel"] == "UPRIYA")
    app.slack.block_action(
        "intro_count_me_in",
        value=button_value(priya, "intro_count_me_in"),
        user="UPRIYA",
        team=STELLAR,
    )
    app.fake.wait_for("response_url", lambda c: f"/{STELLAR}/" in c.path)

    app.clock.current = datetime(2026, 3, 9, 12, tzinfo=UTC)
    tick(app.services)
    acme, stellar = {"UALICE", "UCARL"}, {"UPAT", "UPRIYA"}
    made = groups(app.db)
    assert len(made) == 2 and all(len(g & acme) == 1 and len(g & stellar) == 1 for g in made)
    app.clock.current = datetime(2026, 3, 10, 9, tzinfo=UTC)  # 09:00 in London for all
    tick(app.services)
    assert app.fake.done("conversations.open") == []  # no group DM across workspaces
    sent = {call.args["channel"]: token_of(call) for call in intros(app.fake)}
    assert sent == {"UALICE": TEAM_ID, "UCARL": TEAM_ID, "UPAT": STELLAR, "UPRIYA": STELLAR}
    assert {row.route for row in group_rows(app.db)} == {Route.SEPARATE_DMS}

    app.clock.current = datetime(2026, 3, 23, 10, tzinfo=UTC)  # the round is over
    tick(app.services)
    asked = {call.args["channel"]: token_of(call) for call in follow_ups(app.fake)}
    assert asked == sent
    pat = next(c for c in follow_ups(app.fake) if c.args["channel"] == "UPAT")
    app.slack.block_action(
        "intro_met_yes", value=button_value(pat, "intro_met_yes"), user="UPAT", team=STELLAR
    )
    thanks = app.fake.wait_for("response_url", lambda c: f"/{STELLAR}/" in c.path, count=2)
    assert thanks[-1].args["text"] == ANSWERED[MET_YES]
    assert app.fake.cross_workspace_dms() == []
