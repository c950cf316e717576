"""manifest.json stays in step with what the app handles."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.core.settings import DEFAULT_SCOPES
from tests.support.fake_slack_scopes import manifest_scopes

MANIFEST = json.loads((Path(__file__).resolve().parents[2] / "manifest.json").read_text())


def test_every_manifest_command_escapes_mentions_and_is_answered(rapport):
    commands = MANIFEST["features"]["slash_commands"]
    assert {c["command"] for c in commands} == {"/rapport", "/pulse", "/checkin"}
    for command in commands:
        assert command["should_escape"] is True
        assert command["url"].endswith("/slack/events")
        response = rapport.slack.command("help", command=command["command"])
        assert response.status == 200, command["command"]
        assert response.text


def test_every_subscribed_event_is_handled(rapport):
    """Slack answers 404 for an event no listener takes; message.channels arrives as message."""
    for subscription in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        event = {"type": subscription.split(".")[0], "user": "UALICE", "tab": "home"}
        event |= {"channel": "C1", "text": "hi", "ts": "1700000000.000100"}
        response = rapport.slack.event(event)
        assert response.status == 200, subscription
    rapport.fake.wait_for("views.publish")


def test_the_install_flow_asks_for_the_manifests_scopes():
    """The fake Slack grants exactly the manifest's scopes and refuses a call without the
    one it needs (``tests/support/fake_slack_scopes``), so every test that makes a call
    checks that the manifest covers it; installs through /slack/install must ask for the
    same ones, and .env.example shows them."""
    assert set(DEFAULT_SCOPES) == manifest_scopes()
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    (shown,) = re.findall(r"^# SLACK_SCOPES=(.*)$", example, re.MULTILINE)
    assert set(shown.split(",")) == manifest_scopes()


def test_the_operators_guide_gives_a_reason_for_every_scope():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    table = guide.split("## Slack scopes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    listed = {scope for row in rows for scope in re.findall(r"`([a-z:_]+)`", row.split("|")[1])}
    assert listed == set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert all(row.split("|")[2].strip() for row in rows)  # each with its reason


def test_the_socket_mode_manifest_is_the_manifest_without_public_urls():
    socket_mode = json.loads(
        (Path(__file__).resolve().parents[2] / "manifest.socket-mode.json").read_text()
    )
    expected = json.loads(json.dumps(MANIFEST))
    for command in expected["features"]["slash_commands"]:
        del command["url"]
    del expected["oauth_config"]["redirect_urls"]  # installs through OAuth need HTTP
    del expected["settings"]["event_subscriptions"]["request_url"]
    del expected["settings"]["interactivity"]["request_url"]
    expected["settings"]["socket_mode_enabled"] = True
    assert socket_mode == expected
