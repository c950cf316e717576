"""Owners' cue words: one rule for typing and loading them, limits that keep every
relationship fast, and answers that stay within what Slack can show."""

from __future__ import annotations

import gc
import json
import logging
from contextlib import closing

import pytest
from sqlalchemy import select

from bot import drift_config
from bot.drift_models import DriftSignal, DriftWord
from scheduler.drift_jobs import alert_unanswered
from tests.fake_slack import TEAM_ID
from tests.helpers import make_relationship, scheduler_services
from tests.test_drift_events import FORMAL, alert_posts, say


def store_words(db, relationship_id: int, *words: tuple[str, str], added: bool = True) -> None:
    """Words written straight into the database, as an older version or an edit could."""
    with db.transaction() as session:
        for kind, phrase in words:
            session.add(
                DriftWord(
                    team_id=TEAM_ID,
                    relationship_id=relationship_id,
                    kind=kind,
                    phrase=phrase,
                    added=added,
                )
            )


def cue_kinds_by_channel(db) -> dict[str, list[str]]:
    with db.transaction() as session:
        found: dict[str, list[str]] = {}
        for signal in session.scalars(select(DriftSignal).order_by(DriftSignal.posted_at)):
            found.setdefault(signal.channel_id, []).append(signal.cue_kinds)
        return found


@pytest.mark.parametrize(
    ("word", "why"),
    [("!!!", "needs at least one letter or digit"), ("x" * 81, "at most 80 characters")],
)
def test_a_word_the_cue_loader_would_refuse_is_refused_when_typed(rapport, word, why):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    reply = rapport.slack.command(f"drift words add escalation {word}", user="UALICE")
    assert reply.status == 200
    assert "can't be a cue word" in reply.text and why in reply.text
    with rapport.db.transaction() as session:
        assert session.scalars(select(DriftWord)).all() == []
    say(rapport, "UALICE", "We will escalate this!!!")
    assert cue_kinds_by_channel(rapport.db)["CSHARED"] == ["escalation"]


def test_a_bad_stored_word_is_skipped_and_logged_and_stops_nothing(rapport, caplog):
    acme = make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    make_relationship(
        rapport.db,
        rapport.clock,
        "Other",
        creator="UBOB",
        client_members=(),
        provider_owners=("UOLGA",),
        provider_members=(),
        channels=("COTHER",),
        alerts="COTHERALERTS",
    )
    store_words(
        rapport.db,
        acme,
        ("escalation", "!!!"),
        ("escalation", "y" * 81),
        ("vibes", "bad vibes"),  # a kind this version doesn't know
        ("change_request", "ticket of doom"),
    )
    store_words(rapport.db, acme, ("sla_penalty", "???"), added=False)

    # start-up: every watched relationship is prepared, the bad words skipped and logged
    with caplog.at_level(logging.WARNING), closing(scheduler_services(rapport)) as services:
        try:
            services.prepare_to_serve()
        finally:
            gc.unfreeze()
        with rapport.db.read() as session:
            words = services.drift_configs.get(session, acme).cues.words()
    assert "ticket of doom" in words["change_request"] and "!!!" not in words["escalation"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 4 and all(f"relationship {acme}" in line for line in skipped)
    assert not any("!!!" in line or "???" in line for line in skipped)

    # message events of both relationships are scored, the good owner word included
    say(rapport, "UALICE", "Raising a ticket of doom for this.")
    for text in FORMAL[1:3]:
        say(rapport, "UBOB", text, channel="COTHER")
    kinds = cue_kinds_by_channel(rapport.db)
    assert kinds["CSHARED"] == ["change_request"]
    assert len(kinds["COTHER"]) == 2 and all(kinds["COTHER"])

    # the owner's settings still answer
    settings = rapport.slack.command("drift", user="UALICE").text
    assert "Drift alerts for Acme" in settings and "something went wrong" not in settings

    # the scheduled job still alerts the other relationship about its unanswered requests
    for text in FORMAL[1:3]:
        say(rapport, "UALICE", text)
    rapport.clock.advance(hours=25)
    with closing(scheduler_services(rapport)) as services:
        assert alert_unanswered(services) == 2
    posts = alert_posts(rapport)
    unanswered = [p for p in posts if "no reply from the other side" in json.dumps(p.args)]
    assert "COTHERALERTS" in {p.args["channel"] for p in unanswered}


def test_a_relationship_whose_cues_fail_to_load_doesnt_stop_start_up(rapport, monkeypatch, caplog):
    broken = make_relationship(rapport.db, rapport.clock, "Broken", channels=("CSHARED",))
    fine = make_relationship(rapport.db, rapport.clock, "Fine", creator="UBOB", channels=("COK",))
    real_load = drift_config.load_config

    def load(session, relationship_id):
        if relationship_id == broken:
            raise ValueError("cue data this version can't compile")
        return real_load(session, relationship_id)

    monkeypatch.setattr(drift_config, "load_config", load)
    with caplog.at_level(logging.WARNING), closing(scheduler_services(rapport)) as services:
        try:
            services.prepare_to_serve()
        finally:
            gc.unfreeze()
        assert fine in services.drift_configs._entries
    assert f"couldn't preload drift settings of relationship {broken}" in caplog.text


def test_an_alert_names_cue_words_never_the_words_a_pattern_matched(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",), alerts="CALERTS")
    for text in FORMAL[:2]:
        say(rapport, "UALICE", text)
    # "asked … twice" is a pattern with a stretch of any words: here a name and a figure
    say(rapport, "UALICE", "We asked about Bob Jones 90k severance payout twice.")
    (alert,) = rapport.fake.wait_for(
        "chat.postMessage", lambda c: "drift_acknowledge" in json.dumps(c.args.get("blocks"))
    )
    sent = json.dumps(alert.args, ensure_ascii=False)
    assert 'escalation (\\"asked three times\\")' in sent  # the pattern's name
    for private in ("Bob", "Jones", "90k", "severance", "payout"):
        assert private not in sent
