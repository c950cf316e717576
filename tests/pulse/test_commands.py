"""``/pulse`` subcommands: help, usage on bad input, questions and settings."""

from __future__ import annotations

from tests.support.helpers import make_relationship
from tests.support.pulse_helpers import answer_value, job_context, prompts, pulse, tick


def test_pulse_help_lists_every_subcommand(rapport):
    text = pulse(rapport, "help").text
    for sub in ("/pulse results", "/pulse schedule", "/pulse pause", "/pulse send", "questions"):
        assert sub in text


def test_pulse_unknown_subcommand_answers_with_usage_and_escapes_it(rapport):
    reply = pulse(rapport, "frobnicate <!channel>")
    assert reply.status == 200
    assert "I don't know `/pulse frobnicate`" in reply.text
    assert "/pulse results" in reply.text


def test_pulse_bad_schedule_says_what_is_wrong_with_an_example(rapport):
    make_relationship(rapport.db, rapport.clock)
    reply = pulse(rapport, "schedule every 2 weeks at 10:00")
    assert "day of the week" in reply.text
    cron = pulse(rapport, "schedule cron 0 9 * * 1")
    assert "weekly, every few weeks or monthly" in cron.text


def test_pulse_without_a_relationship_says_how_to_get_one(rapport):
    assert "not part of a relationship" in pulse(rapport, "results", user="UNOBODY").text
    assert "not part of a relationship" in pulse(rapport, "", user="UNOBODY").text


def test_pulse_questions_add_list_remove_and_limits(rapport):
    make_relationship(rapport.db, rapport.clock)
    listed = pulse(rapport, "questions", user="UCARL").text
    assert "1. How well is the partnership working for you this week?" in listed
    assert "Only owners" in pulse(rapport, "questions add Trust?", user="UCARL").text
    added = pulse(rapport, "questions add How is <b>communication</b>?").text
    assert "2. How is &lt;b&gt;communication&lt;/b&gt;?" in added
    for n in range(3):
        pulse(rapport, f"questions add Question {n}?")
    assert "at most 5" in pulse(rapport, "questions add One too many?").text
    assert "no question 9" in pulse(rapport, "questions remove 9").text
    assert "Which one?" in pulse(rapport, "questions remove").text
    removed = pulse(rapport, "questions remove 2").text
    assert "Removed" in removed and "communication" not in removed.split("Removed")[1][30:]


def test_pulse_round_asks_every_configured_question(rapport):
    rapport.fake.add_user("UCARL")
    make_relationship(rapport.db, rapport.clock)
    pulse(rapport, "questions add How is communication?")
    pulse(rapport, "send")
    with job_context(rapport) as context:
        tick(context)
    (prompt,) = prompts(rapport.fake, "UCARL")
    assert answer_value(prompt, 0) != answer_value(prompt, 1)
    assert "How is communication?" in str(prompt.args["blocks"])


def test_pulse_settings_show_and_change(rapport):
    make_relationship(rapport.db, rapport.clock)
    shown = pulse(rapport, "settings").text
    assert "`min-group` 3" in shown and "`window` 3 days" in shown
    assert "now 40 %" not in pulse(rapport, "settings response 30").text
    assert "under 30%" in pulse(rapport, "settings").text
    assert "I don't know the setting" in pulse(rapport, "settings colour 3").text
    assert "Give a value" in pulse(rapport, "settings window").text
    assert "from 1 to 14" in pulse(rapport, "settings window 99").text


def test_pulse_results_are_for_members_only(rapport):
    make_relationship(rapport.db, rapport.clock)
    refused = pulse(rapport, "results Acme ⇄ Stellar", user="UEVE")
    assert "not part of" in refused.text


def test_pulse_monthly_schedule_is_accepted(rapport):
    make_relationship(rapport.db, rapport.clock)
    reply = pulse(rapport, "schedule monthly on the first Monday at 9:30")
    assert "monthly on the first Monday at 09:30" in reply.text
    assert "Next round: Mon 06 Apr 2026" in reply.text


def test_pulse_job_runs_every_minute_in_the_scheduler():
    from scheduler.runner import ALL_JOBS

    (job,) = [job for job in ALL_JOBS if job.name == "pulse"]
    assert job.every_seconds == 60
