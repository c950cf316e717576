"""A check-in of a relationship spanning two workspaces: made once, each participant
reminded through their own company's installation, in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from scheduler.checkin_jobs import run_checkin_tick
from tests.checkins.test_flows import dms, occurrences
from tests.support.fake_slack import TEAM_ID
from tests.support.joint_helpers import STELLAR, token_of


def test_a_joint_check_in_reminds_each_side_through_its_own_workspace(joined):
    app = joined
    app.fake.users["UALICE"]["tz"] = "America/New_York"
    app.fake.users["UPAT"]["tz"] = "Europe/London"
    added = app.slack.command(
        'add "Steering" weekly tue 10:00 <@UALICE> <@UPAT> tz Europe/London', command="/checkin"
    )
    assert "saved" in added.text
    app.slack.command("list", command="/checkin", user="UPAT", team=STELLAR)
    (listed,) = app.fake.wait_for("response_url", lambda c: f"/{STELLAR}/" in c.path)
    assert "Steering" in str(listed.args)  # the other company sees the same check-in

    app.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert run_checkin_tick(app.services) == 2
    sent = {call.args["channel"]: call for call in dms(app, "Reminder")}
    assert {user: token_of(call) for user, call in sent.items()} == {
        "UALICE": TEAM_ID,
        "UPAT": STELLAR,
    }
    assert "tomorrow at 05:00 (Tue 3 Mar, America/New_York)" in sent["UALICE"].args["text"]
    assert "tomorrow at 10:00 (Tue 3 Mar, Europe/London)" in sent["UPAT"].args["text"]

    occurrence = occurrences(app)[0]
    app.slack.block_action("checkin_rsvp_yes", value=str(occurrence.id), user="UPAT", team=STELLAR)
    app.fake.wait_for("response_url", lambda c: "be there" in c.args.get("text", ""))

    app.clock.current = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    run_checkin_tick(app.services)
    (follow_up,) = dms(app, "Did ")
    assert (follow_up.args["channel"], token_of(follow_up)) == ("UALICE", TEAM_ID)
    app.slack.block_action(
        "checkin_outcome_held", value=str(occurrence.id), user="UPAT", team=STELLAR
    )
    history = app.slack.command("history", command="/checkin", user="UPAT", team=STELLAR)
    assert "100% (1 of 1)" in str(history.json())
    assert app.fake.cross_workspace_dms() == []
