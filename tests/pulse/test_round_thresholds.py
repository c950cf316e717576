"""A closed round keeps the anonymity threshold it was answered under: lowering ``min-group``
afterwards reveals nothing it hid, in results, trends, exports or alerts (signed commands and
clicks, the pulse job, the uploaded CSV); existing rounds take the setting at migration."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import insert, select

from bot.core.db import alembic_config, migrate
from bot.pulse.models import PulseRound
from bot.pulse.settings import settings_for
from bot.relationships.models import Relationship
from tests.privacy.test_data_rights import export
from tests.pulse.test_results import PROVIDER, _close, _relationship, _results, _round
from tests.pulse.test_results import pulse as pulse_command
from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import alerts, job_context, tick

HIDDEN = "_not enough answers yet_"


def test_lowering_min_group_after_a_round_closed_reveals_nothing_it_hid(rapport):
    _relationship(rapport, provider_owners=("UPAT", "UPO2"), provider_members=PROVIDER[:3])
    # client: 2 answers (hidden at 3); provider: 3 front-line and 2 owners, whose split is
    # hidden at 3: shown at 2, UPAT could subtract their own 1 to learn UPO2's score
    _round(rapport, {"UC1": 5, "UC2": 5, "UPAT": 1, "UPO2": 3, "UP1": 4, "UP2": 4, "UP3": 4})
    _close(rapport)
    before = _results(rapport, "UPAT")
    assert f"*Client*: {HIDDEN}" in before and "front-line / managers: " + HIDDEN in before

    assert "now 2 answers" in pulse_command(rapport, "settings min-group 2", user="UPAT").text

    after = _results(rapport, "UPAT")
    assert f"*Client*: {HIDDEN}" in after and "front-line / managers: " + HIDDEN in after
    assert "managers *2.0*" not in after
    assert "groups of 3 or more answers" in after
    client, provider = export(rapport, user="UPAT")["pulse"]
    assert client["average"] == "" and client["respondents"] == "2"
    assert provider["average"] == "3.2" and provider["managers_average"] == ""

    # a round answered under the lower setting is shown at it, next to the hidden one
    _round(rapport, {"UC1": 1, "UC2": 1})
    _close(rapport)
    latest = _results(rapport, "UC1")
    assert "*Client*: *1.0*  `·▁`" in latest and "groups of 2 or more answers" in latest


def test_an_alert_never_compares_with_a_figure_its_round_hid(rapport):
    _relationship(rapport, alerts="CALERTS")
    _round(rapport, {"UC1": 5, "UC2": 5})  # hidden at min-group 3
    _close(rapport)
    pulse_command(rapport, "settings min-group 2")
    _round(rapport, {"UC1": 1, "UC2": 1})
    _close(rapport)
    with job_context(rapport) as context:
        tick(context)
        tick(context)
    assert not any("dropped" in c.args["text"] for c in alerts(rapport.fake))


def test_raising_min_group_binds_an_open_round_and_lowering_it_later_does_not_undo_that(rapport):
    _relationship(rapport)
    pulse_command(rapport, "settings min-group 2")
    _round(rapport, {"UC1": 4, "UC2": 4, "UP1": 3, "UP2": 3})
    pulse_command(rapport, "settings min-group 4")  # while the round is open
    _close(rapport)
    pulse_command(rapport, "settings min-group 2")
    shown = _results(rapport, "UALICE")
    assert f"*Client*: {HIDDEN}" in shown and f"*Provider*: {HIDDEN}" in shown


def test_migration_gives_existing_rounds_the_min_group_in_force(db, clock):
    strict = make_relationship(db, clock)  # made with today's models, then taken back
    default = make_relationship(db, clock, "Other", creator="UBOB")
    now = clock.now()
    with db.transaction() as session:
        settings = settings_for(session, session.get(Relationship, strict))
        settings.min_group = 5
        session.add(settings)
    config = alembic_config(db.engine)
    command.downgrade(
        config, ScriptDirectory.from_config(config).get_revision("0009").down_revision
    )
    with db.transaction() as session:
        for relationship_id in (strict, default):
            session.execute(
                insert(PulseRound.__table__).values(
                    team_id="T1",
                    relationship_id=relationship_id,
                    day=None,
                    prompt_at=now.time(),
                    opens_at=now,
                    closes_at=now + timedelta(days=3),
                    questions="[]",
                    secret="",
                    reminder_before_hours=24,
                    alerts_done=False,
                    created_at=now,
                )
            )
    migrate(db.engine)
    with db.transaction() as session:
        kept = dict(session.execute(select(PulseRound.relationship_id, PulseRound.min_group)).all())
    assert kept == {strict: 5, default: 3}
