"""A pulse round of a relationship spanning two workspaces: each side prompted and
reminded through its own company's installation, answers from both, joint results."""

from __future__ import annotations

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
    # never a DM with one company's token to the other company's person
    for call in app.fake.calls_to("chat.postMessage"):
        person = app.fake.users.get(call.args["channel"])
        assert person is None or person["team_id"] == token_of(call), call.args["channel"]

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
