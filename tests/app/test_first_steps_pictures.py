"""The README's first-steps pictures (``docs/first_steps_pictures.py``) are drawn from what
the app sends today: each step captures the Block Kit it expects, every block it met is drawn
(no "unsupported" placeholder, no raw ``<@U…>``), and each committed PNG is in the README and
still shows the words of today's replies. Turning the HTML into PNGs needs Chromium and is not
run here."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterator
from types import ModuleType

import pytest
from PIL import Image

from tests.app.test_docs import REPO

DOCS = REPO / "docs"
STEPS = [
    "first-steps-1-setup",
    "first-steps-2-both-sides",
    "first-steps-3-watch",
    "first-steps-4-pulse",
    "first-steps-5-checkin",
    "first-steps-6-home",
]


def docs_module(name: str) -> ModuleType:
    """A module of ``docs/``, which isn't a package: imported with ``docs/`` on the path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(DOCS))
        return importlib.import_module(name)


pictures = docs_module("first_steps_pictures")
drawing = docs_module("block_kit_html")


@pytest.fixture
def captured(rapport) -> Iterator[tuple[dict, dict[str, str]]]:
    steps = pictures.capture_first_steps(rapport)
    pages = pictures.pictures_html(steps, pictures.directory(rapport.fake))
    yield {step.name: step.panes for step in steps}, pages


def blocks_of(panes) -> list[dict]:
    found = []
    for pane in panes:
        if isinstance(pane, drawing.Conversation):
            found += [block for message in pane.messages for block in message.blocks]
        else:
            found += pane.view["blocks"]
    return found


def actions_of(panes) -> list[tuple[str, str]]:
    """(action_id, style) of every button in ``panes``."""
    return [
        (element["action_id"], element.get("style", ""))
        for block in blocks_of(panes)
        for element in block.get("elements", [])
        if block["type"] == "actions"
    ]


def texts_of(panes) -> str:
    texts = []
    for pane in panes:
        if isinstance(pane, drawing.Conversation):
            texts += [message.text for message in pane.messages]
    for block in blocks_of(panes):
        texts.append(str(block.get("text", {}).get("text", "")))
    return "\n".join(texts)


def test_each_first_step_shows_what_the_app_sent_for_it(captured):
    steps, _ = captured
    assert list(steps) == STEPS

    (setup,) = steps["first-steps-1-setup"]
    assert setup.view["callback_id"] == "relationship_setup"
    inputs = {block["block_id"] for block in setup.view["blocks"] if block["type"] == "input"}
    assert {"name", "client_owners", "provider_members", "watched_channels"} <= inputs

    (general,) = steps["first-steps-2-both-sides"]
    added, shown = general.messages
    assert added.only_you and "<@UMIRA> added as provider manager" in added.text
    assert shown.only_you and shown.command == "/rapport show"
    assert "managers: <@UMIRA>; frontlines: <@UPRIYA>, <@USAM>" in texts_of([general])

    watch = steps["first-steps-3-watch"]
    assert "Watching <#CSHARED> for *Acme ⇄ Stellar*" in watch[0].messages[1].text
    assert watch[1].name == "#acme-owners"
    assert "Formal tone rising in <#CSHARED>" in texts_of(watch[1:])
    assert ("schedule_catch_up", "primary") in actions_of(watch[1:])

    sent, prompt, results = steps["first-steps-4-pulse"]
    assert "is open: I'm sending it to 7 people" in sent.messages[0].text
    assert [action for action, _ in actions_of([prompt])][:5] == [
        f"pulse_answer_{score}" for score in range(1, 6)
    ]
    assert "*Client*: *3.7* · 3 of 3 answered" in texts_of([results])
    assert "*Provider*: *3.0* · 4 of 4 answered" in texts_of([results])

    saved, reminder = steps["first-steps-5-checkin"]
    assert "Check-in *Ops catch-up* saved" in saved.messages[0].text
    assert [action for action, _ in actions_of([reminder])] == [
        "checkin_rsvp_yes",
        "checkin_rsvp_no",
    ]

    (home,) = steps["first-steps-6-home"]
    assert home.view["type"] == "home"
    assert [block["type"] for block in home.view["blocks"]].count("image") == 1


def test_every_block_met_is_drawn_with_names_not_ids(captured):
    steps, pages = captured
    for name, panes in steps.items():
        page = pages[name]
        assert drawing.UNSUPPORTED not in page, name
        for kind, count in Counter(block["type"] for block in blocks_of(panes)).items():
            assert page.count(f'class="block {kind}') >= count, (name, kind)
        for raw in ("&lt;@U", "&lt;#C", "&lt;!date", "&lt;http"):
            assert raw not in page, (name, raw)
    assert '<span class="mention">@Mira Novak</span> added' in pages["first-steps-2-both-sides"]
    assert '<span class="button primary">Create</span>' in pages["first-steps-1-setup"]
    assert "⚠️ <b>Formal tone rising in" in pages["first-steps-3-watch"]
    assert "closes Thu 05 Mar 09:00 UTC" in pages["first-steps-4-pulse"]
    assert '<img src="data:image/png;base64,' in pages["first-steps-6-home"]


def test_every_picture_is_committed_small_up_to_date_and_shown_in_the_readme(captured):
    _, pages = captured
    readme = (REPO / "README.md").read_text()
    sizes = 0
    for name in STEPS:
        picture = DOCS / "images" / f"{name}.png"
        with Image.open(picture) as drawn:
            assert drawn.format == "PNG"
            assert drawn.text.get(pictures.DIGEST_KEY) == pictures.shown_text_digest(pages[name]), (
                f"{picture.name} shows older replies: run python docs/first_steps_pictures.py"
            )
        assert f"](docs/images/{name}.png)" in readme, name
        sizes += picture.stat().st_size
    assert sizes < 400_000


def test_the_digest_is_of_the_words_shown_only():
    digest = pictures.shown_text_digest
    page = "<html><head><style>b { x: 1 }</style></head><body>"
    assert digest(page + '<b class="a">Hi</b>\n <img src="data:1">&amp; you') == digest(
        page + '<i>Hi</i> <img src="data:2">&amp;  you'
    )
    assert digest(page + "<b>Hi</b> you") != digest(page + "<b>Hi</b> them")


def test_mrkdwn_is_drawn_as_slack_draws_it():
    names = drawing.Directory(users={"UALICE": "Alice Moreau"}, channels={"CSHARED": "acme"})
    text = (
        "*Bold <#CSHARED>* _it_ ~gone~ `a *b* &lt;c&gt;` <https://x.example/?a=1&amp;b=2|See it>"
        " <@UALICE> <@UNKNOWN|zed> <!here> <!date^1772701200^{date}|Thu 05 Mar>\n"
        "&gt; quoted &amp; :warning: :no_such_emoji: snake_case_name 2*3*4\n"
        "```x = *y*```"
    )
    assert drawing.mrkdwn(text, names) == (
        '<b>Bold <span class="mention">#acme</span></b> <i>it</i> <s>gone</s> '
        "<code>a *b* &lt;c&gt;</code> "
        '<a href="https://x.example/?a=1&amp;b=2">See it</a> '
        '<span class="mention">@Alice Moreau</span> <span class="mention">@zed</span> '
        '<span class="mention">@here</span> Thu 05 Mar<br>'
        '<span class="quote">quoted &amp; ⚠️ :no_such_emoji: snake_case_name 2*3*4</span><br>'
        "<pre>x = *y*</pre>"
    )


def test_a_block_it_cannot_draw_is_shown_as_a_placeholder():
    page = drawing.picture_html(
        [
            drawing.Modal(
                {
                    "title": {"type": "plain_text", "text": "T"},
                    "blocks": [
                        {"type": "rich_text", "elements": []},
                        {"type": "actions", "elements": [{"type": "workflow_button"}]},
                    ],
                }
            )
        ],
        drawing.Directory(),
    )
    assert page.count(drawing.UNSUPPORTED) == 2
