"""Draw the README's first-steps pictures from what Rapport really sends:
``python docs/first_steps_pictures.py``. Needs the test extras and Chromium; Slack's look
also wants Lato and colour emoji: ``apt-get install chromium fonts-lato fonts-noto-color-emoji``.

It runs the real app against the tests' fake Slack (a throwaway SQLite database, a fake clock)
and goes through the README's first steps with signed slash commands, clicks and message
events, as the tests do. The Block Kit Rapport sends on the way (modals from ``views.open``,
replies in acknowledgements and to response URLs, DMs and channel posts from
``chat.postMessage``, App Home from ``views.publish``, with its uploaded chart) is drawn as
Slack-like HTML (``block_kit_html``), which headless Chromium turns into
``docs/images/first-steps-*.png``, cropped to the content.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from block_kit_html import (
    Conversation,
    Directory,
    Home,
    Message,
    Modal,
    Pane,
    picture_html,
)

from scheduler.checkin_jobs import run_checkin_tick
from tests.conftest import FakeClock, RunningApp, running_app
from tests.relationships.test_setup import setup_values
from tests.support.drift_helpers import FORMAL, FRIENDLY, say
from tests.support.fake_slack import Call, FakeSlack
from tests.support.fresh_db import fresh_database
from tests.support.helpers import run_as_scheduler
from tests.support.home_helpers import open_home
from tests.support.pulse_helpers import answer_value, click, job_context, prompts, tick
from tests.support.slack_requests import Response

IMAGES = ROOT / "docs" / "images"
WIDTH = 672  # the page: 640 px of panes and a 16 px margin each side
SCALE = 1.5  # device pixels per CSS pixel: sharp on high-density screens, still small files
DIGEST_KEY = "rapport:shown-text-sha256"  # the PNG text chunk holding shown_text_digest

# id -> (name, time zone); Acme is the client, Stellar the provider
PEOPLE = {
    "UALICE": ("Alice Moreau", "Europe/London"),
    "UCARL": ("Carl Jensen", "Europe/London"),
    "UDANA": ("Dana Whitfield", "America/New_York"),
    "UPAT": ("Pat Okafor", "Europe/London"),
    "UPRIYA": ("Priya Raman", "Asia/Kolkata"),
    "USAM": ("Sam Lee", "Europe/London"),
    "UMIRA": ("Mira Novak", "Europe/Berlin"),
}
CHANNELS = {"CGENERAL": "general", "CSHARED": "acme-stellar", "COWNERS": "acme-owners"}
GENERAL = "#general"
CLIENT_SCORES = {"UALICE": 4, "UCARL": 3, "UDANA": 4}
PROVIDER_SCORES = {"UPAT": 4, "UPRIYA": 2, "USAM": 3, "UMIRA": 3}
CHECKIN = (
    '"Ops catch-up" weekly tue 10:00 <@UALICE|alice> <@UPAT|pat> <@UCARL|carl> <@UPRIYA|priya>'
)


@dataclass(frozen=True)
class Step:
    """One picture: ``name`` is its file's stem, ``panes`` what it shows, top to bottom."""

    name: str
    panes: tuple[Pane, ...]


def capture_first_steps(rapport: RunningApp) -> list[Step]:
    """Go through the README's first steps against ``rapport`` (the tests' running app and
    fake Slack, its clock at a Monday morning) and keep what Slack would show at each."""
    for user, (name, tz) in PEOPLE.items():
        rapport.fake.add_user(user, tz=tz, real_name=name)
    for channel, name in CHANNELS.items():
        rapport.fake.add_channel(channel, name, members=("UALICE",))
    return [
        _setup(rapport),
        _both_sides(rapport),
        _watch(rapport),
        _pulse(rapport),
        _checkin(rapport),
        _home(rapport),
    ]


def directory(fake: FakeSlack) -> Directory:
    """The names Slack would show for the fake's people, channels and files."""
    return Directory(
        users={user: info["real_name"] for user, info in fake.users.items()},
        channels={channel: info["name"] for channel, info in fake.channels.items()},
        files={file_id: f["data"] for file_id, f in fake.files.items() if f["data"]},
    )


# -- the steps -------------------------------------------------------------------------------


def _setup(rapport: RunningApp) -> Step:
    rapport.slack.command("setup")
    (opened,) = rapport.fake.wait_for("views.open")
    values = setup_values(
        name="Acme ⇄ Stellar",
        client_members=["UCARL", "UDANA"],
        provider_members=["UPRIYA", "USAM"],
        alerts="COWNERS",
    )
    assert rapport.slack.view_submission("relationship_setup", values).body == ""
    rapport.fake.wait_for("chat.postMessage")  # the "is set up" DM
    return Step(
        "first-steps-1-setup",
        (Modal(opened.args["view"]),),
    )


def _both_sides(rapport: RunningApp) -> Step:
    add = "/rapport add @mira provider manager"
    added = _reply(rapport.slack.command("add <@UMIRA|mira> provider manager"), add)
    shown = _reply(rapport.slack.command("show"), "/rapport show")
    return Step(
        "first-steps-2-both-sides",
        (Conversation(GENERAL, (added, shown)),),
    )


def _watch(rapport: RunningApp) -> Step:
    command = "/rapport watch #acme-stellar"
    checking = _reply(rapport.slack.command("watch <#CSHARED|acme-stellar>"), command)
    (watching,) = rapport.fake.wait_for("response_url")
    for text in FRIENDLY[:2]:
        say(rapport, "UPRIYA", text)
    for text in FORMAL[:3]:
        say(rapport, "UCARL", text)
    (alert,) = rapport.fake.wait_for(
        "chat.postMessage", lambda call: call.args["channel"] == "COWNERS"
    )
    return Step(
        "first-steps-3-watch",
        (
            Conversation(GENERAL, (checking, _responded(watching, command))),
            Conversation("#acme-owners", (_posted(alert),)),
        ),
    )


def _pulse(rapport: RunningApp) -> Step:
    sent = _reply(rapport.slack.command("send", command="/pulse"), "/pulse send")
    with job_context(rapport) as services:
        tick(services)
    (prompt,) = prompts(rapport.fake, "UCARL")
    for user, score in {**CLIENT_SCORES, **PROVIDER_SCORES}.items():
        (asked,) = prompts(rapport.fake, user)
        assert click(rapport, user, score, answer_value(asked)).status == 200
    rapport.clock.advance(days=3, minutes=1)  # the round closes
    with job_context(rapport) as services:
        tick(services)
    results = _reply(rapport.slack.command("results", command="/pulse"), "/pulse results")
    return Step(
        "first-steps-4-pulse",
        (
            Conversation(GENERAL, (sent,)),
            Conversation("Carl's DM with Rapport", (_posted(prompt),)),
            Conversation(GENERAL, (results,)),
        ),
    )


def _checkin(rapport: RunningApp) -> Step:
    command = '/checkin add "Ops catch-up" weekly tue 10:00 @alice @pat @carl @priya'
    before = len(rapport.fake.calls_to("response_url"))
    rapport.slack.command(f"add {CHECKIN}", command="/checkin")
    saved = rapport.fake.wait_for("response_url", count=before + 1)[-1]
    now = rapport.clock.now()  # to the Monday after, 10:00: the day-before reminders
    monday = now + timedelta(days=7 - now.weekday())
    rapport.clock.current = monday.replace(hour=10, minute=0, second=0, microsecond=0)
    run_as_scheduler(rapport, run_checkin_tick)
    (reminder,) = rapport.fake.wait_for(
        "chat.postMessage",
        lambda call: call.args["channel"] == "UPAT" and "checkin_rsvp_yes" in str(call.args),
    )
    return Step(
        "first-steps-5-checkin",
        (
            Conversation(GENERAL, (_responded(saved, command),)),
            Conversation("Pat's DM with Rapport", (_posted(reminder),)),
        ),
    )


def _home(rapport: RunningApp) -> Step:
    view = open_home(rapport, "UALICE")
    return Step(
        "first-steps-6-home",
        (Home(view),),
    )


# -- what Slack shows ------------------------------------------------------------------------


def _reply(response: Response, command: str) -> Message:
    """A slash command's acknowledgement, shown only to whoever typed it."""
    assert response.status == 200, response.body
    body = response.json() if response.body.startswith("{") else {"text": response.body}
    return Message(tuple(body.get("blocks") or ()), body.get("text", ""), True, command)


def _responded(call: Call, command: str) -> Message:
    """A later reply to a command, posted to its response URL (ephemeral unless it says not)."""
    only_you = call.args.get("response_type", "ephemeral") == "ephemeral"
    return Message(
        tuple(call.args.get("blocks") or ()), call.args.get("text", ""), only_you, command
    )


def _posted(call: Call) -> Message:
    return Message(tuple(call.args.get("blocks") or ()), call.args.get("text", ""))


def pictures_html(steps: list[Step], names: Directory) -> dict[str, str]:
    """Each step's picture as a whole HTML page, by file stem."""
    return {step.name: picture_html(step.panes, names) for step in steps}


def shown_text_digest(page: str) -> str:
    """A digest of the words ``page`` shows (its markup, styles and images left out). Each
    PNG keeps the digest of the page it was drawn from, so a test without Chromium can tell
    when the app's replies have changed and the pictures need drawing again."""
    body = page.partition("<body>")[2]
    words = html.unescape(re.sub(r"<[^>]*>", " ", body)).split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


# -- rendering ---------------------------------------------------------------------------------


@contextmanager
def throwaway_rapport() -> Iterator[RunningApp]:
    """The tests' running app on a fresh SQLite database in a temporary directory."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'rapport.db'}"
        database = fresh_database(url)
        fake = FakeSlack().start()
        try:
            with running_app(fake, database, url, FakeClock()) as rapport:
                yield rapport
        finally:
            fake.stop()
            database.engine.dispose()


def screenshot(page: str, out: Path, browser: str) -> None:
    """``page`` drawn by headless Chromium, cropped to its panes, saved as a small PNG."""
    from PIL import Image, ImageChops
    from PIL.PngImagePlugin import PngInfo

    with tempfile.TemporaryDirectory() as folder:
        source, shot = Path(folder) / "page.html", Path(folder) / "shot.png"
        source.write_text(page)
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--force-device-scale-factor={SCALE}",
                f"--window-size={WIDTH},4000",
                f"--screenshot={shot}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        image = Image.open(shot).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((0, 0)))
    left, top, right, bottom = ImageChops.difference(image, background).getbbox()
    margin = round(8 * SCALE)
    box = (left - margin, top - margin, right + margin, bottom + margin)
    cropped = image.crop(box).quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    info = PngInfo()
    info.add_text(DIGEST_KEY, shown_text_digest(page))
    buffer = io.BytesIO()
    cropped.save(buffer, "PNG", optimize=True, pnginfo=info)
    out.write_bytes(buffer.getvalue())


def main() -> None:
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if browser is None:
        sys.exit("Needs Chromium: apt-get install chromium")
    with throwaway_rapport() as rapport:
        steps = capture_first_steps(rapport)
        names = directory(rapport.fake)
    for name, page in pictures_html(steps, names).items():
        out = IMAGES / f"{name}.png"
        screenshot(page, out, browser)
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
