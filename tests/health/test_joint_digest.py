"""The weekly digest of a relationship spanning two workspaces: each company's owners get
it through their own installation, with the chart uploaded to their own workspace."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.slack.pacing import Pacer
from scheduler.digest_jobs import run_digests
from tests.privacy.test_joint_privacy import a_round_everyone_answered
from tests.support.digest_helpers import digests
from tests.support.fake_slack import TEAM_ID
from tests.support.joint_helpers import STELLAR, token_of


def test_each_companys_owners_get_the_digest_through_their_own_workspace(joined):
    app = joined
    a_round_everyone_answered(app)
    app.clock.current = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 09:00 in London
    run_digests(app.services, Pacer(0))
    sent = {call.args["channel"]: token_of(call) for call in digests(app.fake)}
    assert sent == {"UALICE": TEAM_ID, "UPAT": STELLAR}
    uploads = app.fake.calls_to("files.getUploadURLExternal")
    assert sorted({token_of(call) for call in uploads}) == sorted({TEAM_ID, STELLAR})
    run_digests(app.services, Pacer(0))
    assert len(digests(app.fake)) == 2  # once each
    assert app.fake.cross_workspace_dms() == []
