"""/rapport drift: owners tune cue words, thresholds and the nudge for their relationship."""

from __future__ import annotations

from sqlalchemy import select

from bot.drift_models import DriftSettings, DriftSignal
from tests.helpers import make_relationship
from tests.test_drift_events import say


def test_settings_show_defaults_and_word_counts(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    text = rapport.slack.command("drift", user="UCARL").text  # anyone may look
    assert "nudge: off" in text and "`formal-share` 25%" in text
    assert "`unanswered-hours` 24" in text and "contract_reference" in text


def test_owner_adds_a_cue_word_and_it_counts_in_that_relationship_only(rapport):
    make_relationship(rapport.db, rapport.clock, "Acme", channels=("CSHARED",))
    make_relationship(rapport.db, rapport.clock, "Other", channels=("COTHER",), creator="UBOB")
    text = rapport.slack.command(
        "drift words add scope_dispute beyond the statement of work", user="UALICE"
    ).text
    assert "“beyond the statement of work” now counts as scope_dispute in *Acme*" in text
    say(rapport, "UALICE", "That is beyond the statement of work.")
    say(rapport, "UBOB", "That is beyond the statement of work.", channel="COTHER")
    with rapport.db.transaction() as session:
        scored = {s.channel_id: s for s in session.scalars(select(DriftSignal))}
    assert "scope_dispute" in scored["CSHARED"].cue_kinds
    assert "scope_dispute" not in scored["COTHER"].cue_kinds
    listed = rapport.slack.command("drift words list", user="UALICE").text
    assert "scope_dispute: “beyond the statement of work”" in listed
    removed = rapport.slack.command(
        "drift words remove scope_dispute beyond the statement of work", user="UALICE"
    )
    assert "no longer counts" in removed.text
    assert (
        "beyond the statement" not in rapport.slack.command("drift words list", user="UALICE").text
    )


def test_owner_switches_off_a_default_word(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    kind_words = rapport.slack.command("drift words list sla_penalty", user="UALICE").text
    assert "“service credits”" in kind_words
    text = rapport.slack.command(
        "drift words remove sla_penalty service credits", user="UALICE"
    ).text
    assert "no longer counts" in text
    again = rapport.slack.command("drift words remove sla_penalty service credit", user="UALICE")
    assert "no longer counts" in again.text
    say(rapport, "UALICE", "Service credits are being discussed.")
    with rapport.db.transaction() as session:
        assert "sla_penalty" not in session.scalars(select(DriftSignal.cue_kinds)).one()


def test_unknown_kind_or_word_and_non_owners_are_explained(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    text = rapport.slack.command("drift words add vibes <!channel>", user="UALICE").text
    assert "no drift cue kind called 'vibes'" in text
    text = rapport.slack.command("drift words remove sla_penalty bananas", user="UALICE").text
    assert "isn't a sla_penalty cue" in text
    assert "Only owners" in rapport.slack.command("drift nudge on", user="UCARL").text
    assert "Usage" in rapport.slack.command("drift words add scope_dispute", user="UALICE").text
    assert "Usage" in rapport.slack.command("drift dance", user="UALICE").text


def test_owner_turns_the_nudge_on_and_changes_a_threshold(rapport):
    rel_id = make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    assert "nudges are on" in rapport.slack.command("drift nudge on", user="UPAT").text
    text = rapport.slack.command("drift set formal-share 40%", user="UPAT").text
    assert "formal-share 40%" in text
    bad = rapport.slack.command("drift set window-days 90", user="UPAT").text
    assert "from 1 to 31" in bad
    unknown = rapport.slack.command("drift set loudness 11", user="UPAT").text
    assert "don't know the setting" in unknown
    with rapport.db.transaction() as session:
        settings = session.get(DriftSettings, rel_id)
    assert settings.nudge is True and settings.formal_share == 0.4 and settings.window_days == 7
