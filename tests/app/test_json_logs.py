"""``LOG_FORMAT=json``: one JSON object a line, each Slack request's lines under its own id."""

from __future__ import annotations

import json
import re

from tests.app.test_cli import free_port, migrated_sqlite, wait_for_health
from tests.app.test_process_roles import Process, slack_env
from tests.support.slack_requests import SIGNING_SECRET, SlackRequests

FAILED_AFTER_ACK = "Slack call after the acknowledgement failed"


def test_json_log_lines_carry_each_request_id_into_the_work_after_the_ack(tmp_path, fake_slack):
    url = migrated_sqlite(tmp_path)
    port = free_port()
    env = {**slack_env(fake_slack, url), "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    rapport = Process("web", tmp_path, PORT=str(port), LOG_FORMAT="json", **env)
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz", rapport.popen)
        fake_slack.fail("views.open", "expired_trigger_id", times=2)
        slack = SlackRequests(f"http://127.0.0.1:{port}", fake_slack)
        for _ in range(2):  # the modal's views.open runs after the ack, and fails
            assert slack.command("setup").status == 200
            rapport.wait_for(FAILED_AFTER_ACK)
    finally:
        assert rapport.stop() == 0
    lines = [json.loads(line) for line in rapport.seen]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    failures = [line for line in lines if FAILED_AFTER_ACK in line["message"]]
    ids = [line["request_id"] for line in failures]
    assert all(re.fullmatch("[0-9a-f]{12}", found) for found in ids) and len(set(ids)) == 2
    assert all(line["request_id"] is None for line in lines if line not in failures)
