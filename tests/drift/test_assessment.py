"""Behaviour of the pure drift scorer (bot.drift.domain): no Slack, no database."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from bot.drift import cues as drift_cues
from bot.drift.anchors import anchors
from bot.drift.cue_spec import check_pattern
from bot.drift.domain import (
    DEFAULT_THRESHOLD,
    HIGH_SCORE,
    Assessment,
    Cue,
    CueSet,
    assess,
    clean_text,
    default_cues,
    load_cues,
)


def kinds_of(text: str, **kwargs) -> set[str]:
    return {cue.kind for cue in assess(text, **kwargs).cues}


# --------------------------------------------------------------------------- contract


def test_thresholds_are_ordered_fractions():
    assert 0 < DEFAULT_THRESHOLD < HIGH_SCORE <= 1


def test_cue_describes_itself_in_plain_words():
    cue = Cue("contract_reference", "contract reference", "clause 7.2")
    assert cue.describe() == 'contract reference ("clause 7.2")'


def test_empty_message_scores_zero():
    result = assess("")
    assert result == Assessment(0.0)
    assert not result.is_formal


def test_default_cues_are_loaded_once():
    assert default_cues() is default_cues()
    assert isinstance(default_cues(), CueSet)


def test_is_formal_and_is_high_follow_the_thresholds():
    assert Assessment(DEFAULT_THRESHOLD).is_formal
    assert not Assessment(DEFAULT_THRESHOLD - 0.01).is_formal
    assert Assessment(HIGH_SCORE).is_high
    assert not Assessment(HIGH_SCORE - 0.01).is_high


# --------------------------------------------------------------------------- each kind fires


@pytest.mark.parametrize(
    ("text", "kind", "match"),
    [
        ("Clause 7.2 says the pack is due on day 5.", "contract_reference", "Clause 7.2"),
        ("CR-1042 is waiting for your approval.", "change_request", "CR-1042"),
        ("I'm afraid that's out of scope.", "scope_dispute", "out of scope"),
        ("We will be applying service credits.", "sla_penalty", "service credits"),
        ("Please be advised that the office is closed.", "formal_register", "Please be advised"),
        (
            "I'm escalating this to your director.",
            "escalation",
            "escalating this to your director",
        ),
        ("Frankly, your people are the problem.", "us_and_them", "your people"),
    ],
)
def test_each_kind_of_cue_is_found_with_the_words_that_matched(text, kind, match):
    cues = assess(text).cues
    assert (kind, match) in {(c.kind, c.match) for c in cues}


@pytest.mark.parametrize(
    "text",
    [
        "Per clause 7.2 of the MSA, the reporting pack is due on working day 5.",
        "Please raise a formal change request. We can't start until there's a CR number.",
        "That's out of scope, I'm afraid.",
        "You missed the SLA three times this month. We'll be applying service credits.",
        "Please be advised that all requests must now be submitted in writing.",
        "This has now been escalated to our Head of Procurement.",
        "Again, this is your problem, not ours.",
    ],
)
def test_clear_formal_drift_is_flagged(text):
    assert assess(text).is_formal


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "I'm escalating the late payroll files. Expect a call from our HR director.",
            "escalation",
        ),
        ("This is now with our COO and she wants a written response.", "escalation"),
        ("We're taking the missed collections to your managing director.", "escalation"),
        ("Our Chief Procurement Officer will be contacting your account director.", "escalation"),
        (
            "Please treat this message as formal notification of the missed deadline.",
            "formal_register",
        ),
        ("We are putting you on notice about the door entry faults.", "formal_register"),
        (
            "This letter constitutes notice of breach under the services agreement.",
            "contract_reference",
        ),
        ("We reserve our rights regarding the late go-live.", "contract_reference"),
        ("We'll be recovering the overtime costs from your next invoice.", "sla_penalty"),
        ("Translation into Welsh was never part of the managed service.", "scope_dispute"),
        ("The delay sits squarely with your planning team.", "us_and_them"),
        ("If the backlog isn't cleared, we will be considering our options.", "escalation"),
        ("Any extra cleaning needs to be formalised before we book it in.", "change_request"),
        ("We will be suspending deliveries until the overdue invoices are paid.", "sla_penalty"),
        ("I'm formally raising the repeated late rosters.", "formal_register"),
        ("Third complaint this week; it'll be discussed at the service review.", "escalation"),
    ],
)
def test_drift_is_found_by_meaning_not_only_by_listed_phrases(text, kind):
    result = assess(text)
    assert result.is_formal
    assert kind in {c.kind for c in result.cues}


@pytest.mark.parametrize(
    "text",
    [
        "Our director is joining Thursday's call, she's keen to say hello",
        "I'll ask our CFO for the budget figure, she has it to hand",
        "We're escalating the lost pallets with the carrier, fingers crossed",
        "We'll escalate the ticket to tier 2 if it's still down at 5",
        "He's on his notice period, so his last day is the 30th",
        "Can you send the NDA to our legal team? thanks",
        "We're reviewing the contract draft with your team tomorrow, looking forward to it",
    ],
)
def test_senior_people_and_process_words_in_ordinary_talk_do_not_fire(text):
    assert not assess(text).is_formal


def test_several_kinds_together_score_very_high():
    text = (
        "Please be advised that under clause 9 you owe us service credits. "
        "This is out of scope and has been escalated to our director."
    )
    result = assess(text)
    assert result.is_high
    assert len({c.kind for c in result.cues}) >= 4


def test_people_keep_their_own_casing_in_cues():
    assert [c.match for c in assess("Raising CR-2291 today").cues] == ["CR-2291"]


def test_plural_forms_match():
    assert "change_request" in kinds_of("Both change requests are attached.")


def test_cues_come_in_order_of_appearance():
    result = assess("Your lot ignored clause 4, so service credits apply. Please be advised.")
    assert [c.kind for c in result.cues] == [
        "us_and_them",
        "contract_reference",
        "sla_penalty",
        "formal_register",
    ]


def test_repeated_cues_are_listed_once_and_score_stays_in_range():
    result = assess("Please raise a change request. " * 200)
    assert len(result.cues) == 1
    assert 0.0 <= result.score <= 1.0


def test_many_different_cues_keep_the_score_at_most_one():
    text = " ".join(f"clause {i}.1 and CR-{i} and service credits" for i in range(100))
    result = assess(text)
    assert result.score <= 1.0
    assert len(result.cues) <= 20


def test_describe_groups_cues_by_kind():
    result = assess("Please be advised, kindly note: we hereby give notice.")
    assert result.describe()[0] == (
        'formal register ("Please be advised", "kindly note", "hereby")'
    )


# --------------------------------------------------------------------------- friendly talk


@pytest.mark.parametrize(
    "text",
    [
        "no need for a formal change request, just ping me",
        "the contract renewal party is Friday 🎉",
        "can you change the request body in the API?",
        "haha we'll escalate this to the coffee machine :joy:",
        "don't worry about the SLA, we're all good",
    ],
)
def test_friendly_talk_with_trigger_words_does_not_fire(text):
    assert not assess(text).is_formal


def test_negated_change_request_does_not_fire():
    result = assess("We don't need a CR for this, it's a two minute fix.")
    assert result.score == 0
    assert [c.kind for c in result.negated] == ["change_request"]


@pytest.mark.parametrize(
    "text",
    [
        "No need to escalate formally, I'll call Priya now.",
        "We can do it without a change request this time.",
        "Not a breach of contract, just a misunderstanding.",
        "No penalties this month, obviously.",
        "No need to put it in writing, a message here is fine.",
        "Never mind the SLA for a sec, what do users need?",
    ],
)
def test_negation_switches_a_cue_off(text):
    assert assess(text).score < DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "This is not out of scope, happy to help",
        "It's definitely not outside the agreed scope, we'll do it",
        "It was never out of scope",
        "Honestly it's not scope creep, it's a bug fix",
    ],
)
def test_a_negated_scope_dispute_does_not_fire(text):
    result = assess(text)
    assert result.score == 0
    assert {c.kind for c in result.negated} == {"scope_dispute"}


@pytest.mark.parametrize(
    "text",
    [
        "That's not our responsibility.",
        "No, this isn't in scope.",
        "We won't accept out of scope work.",
    ],
)
def test_a_scope_dispute_worded_as_a_negative_still_fires(text):
    assert "scope_dispute" in kinds_of(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("We're not raising a change request for this", "change_request"),
        ("Nobody is talking about service credits", "sla_penalty"),
        ("We won't be applying service credits this month", "sla_penalty"),
        ("No one's asking for a formal complaint", "escalation"),
    ],
)
def test_a_negated_verb_before_a_cue_switches_it_off(text, kind):
    result = assess(text)
    assert result.score == 0
    assert kind in {c.kind for c in result.negated}


def test_negation_stops_at_the_end_of_a_clause():
    assert assess("No, that's a change request.").cues
    assert assess("Nothing to add. Please raise a change request.").is_formal


def test_a_cue_that_opens_its_own_clause_is_not_negated_by_the_condition_before_it():
    result = assess("If the backlog isn't cleared we will be considering our options.")
    assert result.is_formal and not result.negated


def test_without_after_a_refusal_is_a_requirement_not_a_release():
    result = assess("We can't start without a signed change request.")
    assert "change_request" in {c.kind for c in result.cues}


def test_disputing_a_penalty_is_not_a_negation():
    assert "sla_penalty" in kinds_of("We don't accept the service credit for January.")


@pytest.mark.parametrize(
    "joke",
    ["haha", "lol", "😂", ":joy:", ":laughing:", "🎉", ":tada:", "just kidding"],
)
def test_joking_or_celebrating_softens_cues(joke):
    plain = assess("Breach of contract: someone ate my sandwich")
    joking = assess(f"Breach of contract: someone ate my sandwich {joke}")
    assert joking.score < plain.score
    assert not joking.is_formal
    assert "joking or celebrating" in joking.dampeners


@pytest.mark.parametrize(
    "text",
    [
        "The HTTP request times out after 30s",
        "Pull request #482 is ready for review",
        "We need to escalate privileges for the service account",
        "That variable is out of scope inside the lambda",
        "The OAuth token scope is missing payroll:read",
        "The contract test for the invoice API is flaky",
        "Privilege escalation alert was a false positive",
        "Penalty shootout at five-a-side tonight",
        "Merged the change request in Gerrit, deploying to staging now",
        "Agreed, it's out of scope for this sprint, let's backlog it",
        "Pallet 12 is in breach of the height limit, we'll restack it",
        "Can you email the vendor about the remittance date?",
    ],
)
def test_technical_and_other_senses_do_not_fire(text):
    assert assess(text).score < DEFAULT_THRESHOLD


def test_a_cue_in_quotes_is_mentioned_not_used():
    mentioned = assess("Could you take the 'without prejudice' wording out of the templates?")
    assert not mentioned.is_formal
    assert [cue.match for cue in mentioned.negated] == ["without prejudice"]
    assert assess("This message is without prejudice to our position.").is_formal


def test_it_change_management_softens_change_requests():
    result = assess("The change request for tonight's firewall update got approved by CAB")
    assert not result.is_formal
    assert "IT change management" in result.dampeners


@pytest.mark.parametrize(
    "text",
    [
        "Great news, contract renewed for another three years!",
        "We hit every SLA this quarter, proud of this team.",
        "Your team were brilliant during the outage, thank you all",
        "Your side of the migration went really smoothly, thank you!",
        "The new starter's employment contract is in the shared folder",
    ],
)
def test_neutral_or_happy_mentions_do_not_fire(text):
    assert not assess(text).is_formal


# --------------------------------------------------------------------------- Slack markup


def test_code_blocks_and_inline_code_are_ignored():
    text = "```\nif sla_breached:\n    raise Breach('clause 7.2 out of scope')\n```\nany ideas?"
    assert assess(text).score == 0
    assert assess("`POST /v1/change-requests` returns 400, `clause 7.2` is a test id").score == 0


def test_code_does_not_hide_the_rest_of_the_message():
    assert assess("`Invoice 4471` was paid late. This is now a formal complaint.").is_formal


def test_link_targets_are_ignored_but_labels_count():
    assert assess("see <https://example.com/out-of-scope/clause-7.2|the notes>").score == 0
    result = assess("Please read <https://example.com/msa.pdf|clause 9.4 of the MSA>")
    assert "clause 9.4" in {c.match for c in result.cues}


def test_mentions_channels_and_broadcasts_are_not_words():
    result = assess("<@U123ABC> <#C123|out-of-scope> <!here> thanks!")
    assert result.score == 0


def test_html_entities_are_decoded():
    result = assess("&gt; can you add a column?\nThat's out of scope &amp; needs a CR.")
    assert {"scope_dispute", "change_request"} <= {c.kind for c in result.cues}


def test_emoji_codes_are_not_words():
    assert assess("lunch? :clause: :sla:").score == 0


def test_curly_apostrophes_are_understood():
    assert assess("Don’t worry about the SLA, we’re all good.").score == 0


# --------------------------------------------------------------------------- owner controls


def test_calmed_kind_counts_for_less():
    text = "Please raise a change request for the new report."
    assert assess(text, calmed={"change_request": 0.3}).score < assess(text).score
    assert assess(text, calmed={"change_request": 0.0}).score == 0


def test_calmed_values_are_clamped_and_unknown_kinds_ignored():
    text = "Please raise a change request for the new report."
    assert assess(text, calmed={"change_request": 5.0}).score == assess(text).score
    assert assess(text, calmed={"not_a_kind": 0.0}).score == assess(text).score


def test_owner_can_add_a_phrase_to_a_kind():
    cues = default_cues().with_words(added={"change_request": ["ticket of doom"]})
    result = assess("I've opened a ticket of doom for this", cues)
    assert [(c.kind, c.match) for c in result.cues] == [("change_request", "ticket of doom")]
    assert result.is_formal


def test_owner_can_remove_a_phrase_or_a_pattern():
    text = "Please be advised: clause 7.2"
    cues = default_cues().with_words(
        removed={
            "formal_register": ["please be advised", "be advised"],
            "contract_reference": ["clause <number>", "clause"],
        }
    )
    assert assess(text, cues).score == 0
    assert "please be advised" not in cues.words()["formal_register"]


def test_overrides_leave_the_default_cues_untouched():
    before = default_cues().words()
    default_cues().with_words(added={"scope_dispute": ["not my circus"]})
    assert default_cues().words() == before
    assert assess("not my circus").score == 0


def test_same_overrides_reuse_the_compiled_set():
    a = default_cues().with_words(added={"escalation": ["red phone"]})
    b = default_cues().with_words(added={"escalation": ("red phone",)})
    assert a is b
    assert default_cues().with_words() is default_cues()


def test_kind_can_be_typed_as_its_label():
    cues = default_cues().with_words(added={"Change request": ["blue form"]})
    assert "blue form" in cues.words()["change_request"]


def test_unknown_kind_gives_a_friendly_error_listing_kinds():
    with pytest.raises(ValueError) as error:
        default_cues().with_words(added={"grumbling": ["meh"]})
    message = str(error.value)
    assert "grumbling" in message
    for kind in default_cues().kinds:
        assert kind in message


@pytest.mark.parametrize("word", ["", "   ", "!!!", "x" * 200])
def test_unusable_words_are_refused(word):
    with pytest.raises(ValueError):
        default_cues().with_words(added={"escalation": [word]})


def test_words_lists_every_kind_with_its_words():
    words = default_cues().words()
    assert set(words) == {
        "contract_reference",
        "change_request",
        "scope_dispute",
        "sla_penalty",
        "formal_register",
        "escalation",
        "us_and_them",
    }
    assert "out of scope" in words["scope_dispute"]
    assert "clause <number>" in words["contract_reference"]


def test_kind_labels_are_human_words():
    labels = {name: kind.label for name, kind in default_cues().kinds.items()}
    assert labels["sla_penalty"] == "SLA / penalty"
    assert labels["us_and_them"] == "us-and-them"


def test_cue_data_with_a_capturing_group_is_rejected():
    data = {
        "kinds": {
            "x": {"label": "x", "weight": 0.5, "patterns": [{"name": "bad", "regex": "(a|b)c"}]}
        }
    }
    with pytest.raises(ValueError, match="capturing"):
        load_cues(data)


def test_cue_patterns_share_named_terms_and_unknown_terms_are_rejected():
    def data(regex: str) -> dict:
        kind = {"label": "x", "weight": 0.5, "patterns": [{"name": "p", "regex": regex}]}
        return {"terms": {"boss": "ceo|cfo"}, "kinds": {"x": kind}}

    cues = load_cues(data("call from our {boss}"))
    assert [c.match for c in assess("Expect a call from our CFO", cues).cues] == [
        "call from our CFO"
    ]
    assert assess("call from our team", cues).score == 0
    with pytest.raises(ValueError, match="Unknown term"):
        load_cues(data("call from our {manager}"))


def test_cue_data_with_an_out_of_range_weight_is_rejected():
    data = {"kinds": {"x": {"label": "x", "weight": 1.5}}}
    with pytest.raises(ValueError, match="weight"):
        load_cues(data)


def test_shipped_cue_data_is_valid_json_with_every_kind_labelled():
    from importlib import resources

    raw = json.loads(resources.files("bot.drift").joinpath("cues.json").read_text("utf-8"))
    assert all(kind["label"] for kind in raw["kinds"].values())


# --------------------------------------------------------------------------- the pre-filter


def test_anchors_are_word_starts_every_match_contains():
    assert anchors(r"clauses? \d{1,3}") == (frozenset({"clause"}),)
    # every match has "copied" or "director" or "ceo": rare words before common ones
    assert anchors("(?:copied|cc'd) in (?:your|our) (?:director|ceo)")[0] == {
        "copied",
        "direct",  # (anchors are cut to a few letters)
        "ceo",
    }
    assert anchors("[a-z]+ing") == ()  # no word start is certain: the pattern always runs
    # words after a number still start words: "5 this week", "12 in a month"
    assert frozenset({"week", "month"}) in anchors(r"\d{1,2} (?:this|in a) (?:week|month)")


def test_skipping_patterns_by_their_anchors_never_loses_a_cue(monkeypatch):
    """The same cues as running every pattern on every message, over the evaluation set."""
    texts = [
        json.loads(line)["text"]
        for line in (Path(__file__).parents[1] / "data" / "drift_eval.jsonl").open(encoding="utf-8")
    ]
    raw = json.loads(resources.files("bot.drift").joinpath("cues.json").read_text("utf-8"))
    shipped = load_cues(raw)
    monkeypatch.setattr(drift_cues, "anchors", lambda regex: ())
    unfiltered = load_cues(raw)
    assert unfiltered._always and not shipped._always  # (the filter is really off / on)
    for text in texts:
        low = clean_text(text)[0].lower()
        assert list(shipped.find(low)) == list(unfiltered.find(low)), text


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "unit",
    ["<", "`", ":a", "per the ", "no ", "escalate ", "your team ", "clause 1.", "a" * 50 + " "],
)
def test_long_hostile_messages_are_assessed(unit):
    """Speed is bench/drift_throughput.py's to measure; no pattern can backtrack
    catastrophically (see the next test), so these finish and score sensibly."""
    result = assess(unit * (40_000 // len(unit)))
    assert 0.0 <= result.score <= 1.0


@pytest.mark.parametrize("regex", [r"(?:a+)+b", r"(?:\w+\s?)*x", r"(?:(?:ab)*c)+", r"(?=(?:a*)*)b"])
def test_a_pattern_that_repeats_a_repetition_is_refused(regex):
    with pytest.raises(ValueError, match="exponential time"):
        check_pattern(regex, "test")


def test_bounded_repetitions_inside_a_repetition_are_allowed():
    check_pattern(r"(?:\w{1,20}\s){0,3}clause", "test")
    check_pattern(r"(?:per|as per)+ clause", "test")
