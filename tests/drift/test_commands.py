"""/rapport drift: owners tune cue words, thresholds and the nudge for their relationship."""

from __future__ import annotations

from sqlalchemy import select

from bot.drift.models import DriftSettings, DriftSignal
from scheduler.drift_jobs import purge_old_signals
from tests.support.drift_helpers import job_context, say
from tests.support.helpers import make_relationship


def test_settings_show_defaults_and_word_counts(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    text = rapport.slack.command("drift", user="UCARL").text  # anyone may look
    assert "nudge: off" in text and "`formal-share` 35%" in text
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


def test_other_bots_count_only_when_owners_say_so(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    say(rapport, "UTICKETBOT", "Ticket 42 escalated", bot_id="B0JIRA", subtype="bot_message")
    assert "bots' messages count" in rapport.slack.command("drift bots on", user="UALICE").text
    say(rapport, "UTICKETBOT", "Ticket 43 escalated", bot_id="B0JIRA", subtype="bot_message")
    with rapport.db.transaction() as session:
        assert [s.side for s in session.scalars(select(DriftSignal))] == ["unknown"]
    assert "other bots' messages: counted" in rapport.slack.command("drift", user="UALICE").text


def test_excerpts_are_kept_only_when_owners_opt_in_and_are_purged(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    say(rapport, "UALICE", "Please be advised this is out of scope as per clause 7.2 <!here>")
    assert "No excerpts are kept" in rapport.slack.command("drift excerpts", user="UALICE").text
    rapport.slack.command("drift set excerpt-days 7", user="UALICE")
    say(rapport, "UALICE", "Kindly note CR-1042 is chargeable per the MSA <!channel>")
    say(rapport, "UPRIYA", "sure thing, lunch later?")  # informal: never kept
    with rapport.db.transaction() as session:
        kept = [s.excerpt for s in session.scalars(select(DriftSignal)) if s.excerpt]
    assert kept == ["Kindly note CR-1042 is chargeable per the MSA <!channel>"]
    shown = rapport.slack.command("drift excerpts", user="UPAT").text
    assert "Kindly note CR-1042" in shown and "&lt;!channel&gt;" in shown
    assert "<!channel>" not in shown
    assert "Only owners" in rapport.slack.command("drift excerpts", user="UCARL").text
    rapport.clock.advance(days=8)
    assert purge_old_signals(job_context(rapport)) == 1
    with rapport.db.transaction() as session:
        assert all(s.excerpt is None for s in session.scalars(select(DriftSignal)))


def test_switching_excerpts_off_deletes_them_at_once(rapport):
    make_relationship(rapport.db, rapport.clock, channels=("CSHARED",))
    rapport.slack.command("drift set excerpt-days 7", user="UALICE")
    say(rapport, "UALICE", "Kindly note CR-1042 is chargeable per the MSA")
    rapport.slack.command("drift set excerpt-days 0", user="UALICE")
    with rapport.db.transaction() as session:
        assert all(s.excerpt is None for s in session.scalars(select(DriftSignal)))
