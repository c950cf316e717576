"""A pulse round of a relationship spanning two workspaces: each side prompted and
reminded through its own company's installation, answers from both, joint results."""

from __future__ import annotations

from sqlalchemy import select

from bot.relationships.models import Member, Relationship
from scheduler.workspace_jobs import delete_departed_workspaces
from tests.pulse.test_results import _results
from tests.support.fake_slack import TEAM_ID
from tests.support.joint_helpers import STELLAR, token_of
from tests.support.pulse_helpers import answer_value, prompts, pulse, reminders, tick


def answer(app, call, score: int):
    """The person a prompt went to clicks a score, from their own workspace."""
    user = call.args["channel"]
    return app.slack.block_action(
        f"pulse_answer_{score}",
        value=answer_value(call),
        user=user,
        team=token_of(call),
        container={"type": "message", "message_ts": "1700000001.000001", "channel_id": "D1"},
    )


def test_each_side_is_prompted_through_its_own_workspace_and_results_are_joint(joined):
    app = joined
    app.slack.command("add <@USAM> provider", user="UPAT", team=STELLAR)
    app.fake.add_user("UDAN", team=TEAM_ID)
    app.slack.command("add <@UDAN> client")
    assert "open" in pulse(app, "send").text
    tick(app.services)

    sent = {call.args["channel"]: token_of(call) for call in prompts(app.fake)}
    assert sent == {
        "UALICE": TEAM_ID,
        "UCARL": TEAM_ID,
        "UDAN": TEAM_ID,
        "UPAT": STELLAR,
        "UPRIYA": STELLAR,
        "USAM": STELLAR,
    }
    assert app.fake.cross_workspace_dms() == []  # never one company's token to the other's

    scores = {"UALICE": 4, "UCARL": 4, "UDAN": 5, "UPAT": 2, "UPRIYA": 2, "USAM": 3}
    for call in prompts(app.fake):
        if call.args["channel"] != "UDAN":  # Dan forgets
            assert answer(app, call, scores[call.args["channel"]]).status == 200

    app.clock.advance(days=2, hours=1)  # into the reminder period
    tick(app.services)
    assert [(c.args["channel"], token_of(c)) for c in reminders(app.fake)] == [("DDAN", TEAM_ID)]

    (dan,) = prompts(app.fake, "UDAN")
    assert answer(app, dan, scores["UDAN"]).status == 200  # reminded, he answers
    app.clock.advance(days=2)  # closed
    tick(app.services)
    acme, stellar = _results(app, "UALICE"), _results(app, "UPAT", team=STELLAR)
    assert "*Client*: *4.3* · 3 of 3 answered" in acme
    assert "*Provider*: *2.3* · 3 of 3 answered" in acme
    assert "*Client–provider gap*: *2.0* (client side happier)" in acme
    assert acme == stellar  # one round, the same figures for both companies' owners
    assert app.fake.cross_workspace_dms() == []


def test_one_company_uninstalling_mid_round_stops_its_side_and_the_other_side_is_told(joined):
    app = joined
    app.fake.add_user("UDAN", team=TEAM_ID)
    app.slack.command("add <@UDAN> client")
    assert "open" in pulse(app, "send").text
    before = len(app.fake.calls)
    assert [r.status for r in app.slack.uninstall(STELLAR)] == [200, 200]
    again = {"type": "app_uninstalled"}  # Slack delivers it again
    assert app.slack.event(again, team=STELLAR, retry_num=1).status == 200
    told = app.fake.wait_for("chat.postMessage", lambda c: "has left" in c.args.get("text", ""))
    assert [(c.args["channel"], token_of(c)) for c in told] == [("UALICE", TEAM_ID)]
    assert "*The provider side has left:* Stellar uninstalled Rapport" in told[0].args["text"]

    tick(app.services)  # the round goes on for Acme's side only
    assert {c.args["channel"] for c in prompts(app.fake)} == {"UALICE", "UCARL", "UDAN"}
    after = [call for call in app.fake.calls[before:] if (call.token or "").startswith("xoxb")]
    assert after and all(token_of(call) == TEAM_ID for call in after)
    for call in prompts(app.fake):
        answer(app, call, 4)
    app.clock.advance(days=4, hours=1)
    tick(app.services)
    shown = _results(app, "UALICE")
    assert "*Client*: *4.0* · 3 of 3 answered" in shown
    assert "*Provider*: _not enough answers yet_" in shown
    assert "The provider side has left" in shown
    assert "The provider side has left" in str(app.slack.command("show").json())
    assert len(app.fake.wait_for("chat.postMessage", lambda c: "has left" in c.args["text"])) == 1


def test_thirty_days_after_the_joining_company_left_its_people_go_and_the_rest_stays(joined):
    app = joined
    app.slack.uninstall(STELLAR)
    app.clock.advance(days=31)
    assert delete_departed_workspaces(app.services) == [STELLAR]
    with app.db.transaction() as session:
        relationship = session.get(Relationship, app.relationship_id)
        assert (relationship.team_id, relationship.partner_team_id) == (TEAM_ID, None)
        left = session.scalars(select(Member.user_id).order_by(Member.id)).all()
    assert sorted(left) == ["UALICE", "UCARL"]  # Stellar's people went with Stellar's data
    shown = str(app.slack.command("show").json())
    assert "Acme ⇄ Stellar" in shown and "has left" not in shown


def test_when_the_creating_company_uninstalls_the_other_is_told_and_can_go_on_alone(joined):
    app = joined
    app.slack.uninstall(TEAM_ID)
    told = app.fake.wait_for("chat.postMessage", lambda c: "has left" in c.args.get("text", ""))
    assert [(c.args["channel"], token_of(c)) for c in told] == [("UPAT", STELLAR)]
    assert "*The client side has left:* Acme uninstalled" in told[0].args["text"]

    assert "You've left" in app.slack.command("leave", user="UPAT", team=STELLAR).text
    app.clock.advance(days=31)
    assert delete_departed_workspaces(app.services) == [TEAM_ID]
    shown = app.slack.command("show", user="UPAT", team=STELLAR).json()
    assert "<@UPRIYA>" in str(shown)  # Stellar's side carries on in its own workspace
