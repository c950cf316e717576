"""Personal data of a relationship spanning two workspaces: exports name nobody and are the
same for both companies' owners; forget-me in one workspace forgets the person everywhere
in the relationship, including the rows kept under the other company's workspace."""

from __future__ import annotations

from tests.privacy.test_data_rights import export, forget, rows_mentioning
from tests.pulse.test_joint_rounds import answer
from tests.relationships.test_joint import shared_message
from tests.support.fake_slack import TEAM_ID
from tests.support.joint_helpers import (
    ACME_PEOPLE,
    STELLAR,
    STELLAR_PEOPLE,
    token_of,
    watch_shared,
)
from tests.support.pulse_helpers import prompts, pulse, tick


def a_round_everyone_answered(app, close: bool = True) -> None:
    app.slack.command("add <@USAM> provider", user="UPAT", team=STELLAR)
    app.fake.add_user("UDAN", team=TEAM_ID)
    app.slack.command("add <@UDAN> client")
    watch_shared(app)
    pulse(app, "send")
    tick(app.services)
    for call in prompts(app.fake):
        answer(app, call, 4)
    app.slack.command(
        'add "Steering" weekly tue 10:00 <@UALICE> <@UPRIYA> tz UTC', command="/checkin"
    )
    if close:
        app.clock.advance(days=4, hours=1)
        tick(app.services)


def test_each_companys_export_holds_the_same_figures_and_names_nobody(joined):
    app = joined
    a_round_everyone_answered(app)
    acme, stellar = export(app, "UALICE"), export(app, "UPAT", team=STELLAR)
    assert acme == stellar and acme["pulse"]
    (upload,) = [
        c
        for c in app.fake.calls_to("files.completeUploadExternal")
        if c.args.get("channel_id") == "DPAT" or token_of(c) == STELLAR
    ]
    assert token_of(upload) == STELLAR  # sent to Pat through Stellar's own installation
    everyone = (*ACME_PEOPLE, *STELLAR_PEOPLE, "UDAN")
    for section in stellar.values():
        assert not any(user in str(section) for user in everyone)


def test_forget_me_in_one_workspace_forgets_the_person_in_the_whole_relationship(joined):
    app = joined
    a_round_everyone_answered(app, close=False)  # answers of a closed round are unlinked
    now = app.clock.now().timestamp()
    shared_message(app, "UPRIYA", "thanks all!", f"{now:.6f}", via=TEAM_ID)
    assert rows_mentioning(app, "UPRIYA")

    reply = forget(app, "UPRIYA", team=STELLAR)

    assert "removed you from 1 relationship" in reply
    assert "withdrew your answers from 1 pulse round" in reply  # still open
    assert "took you out of 1 check-in" in reply
    assert rows_mentioning(app, "UPRIYA") == []
