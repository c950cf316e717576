"""The systemd units in ``deploy/``: valid, and the commands they start do their job."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.test_cli import free_port, rapport_env, wait_for_health
from tests.app.test_process_roles import Process, slack_env
from tests.support.metrics import scrape, value
from tests.support.slack_requests import SIGNING_SECRET

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("rapport-migrate", "rapport-web", "rapport-scheduler")
INSTALLED = "/opt/rapport/venv/bin/rapport"  # where the units expect the release


def unit(name: str) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.optionxform = str  # systemd keys are case-sensitive
    parsed.read(DEPLOY / f"{name}.service")
    return parsed


def command(name: str) -> list[str]:
    """The unit's ExecStart, with the rapport of this test's environment."""
    words = shlex.split(unit(name)["Service"]["ExecStart"])
    assert words[0] == INSTALLED
    return [str(Path(sys.executable).parent / "rapport"), *words[1:]]


def test_the_units_are_valid_systemd_units_that_start_after_the_migration(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze checks the units: install systemd"
    rapport = Path(sys.executable).parent / "rapport"
    for name in UNITS:
        text = (DEPLOY / f"{name}.service").read_text().replace(INSTALLED, str(rapport))
        (tmp_path / f"{name}.service").write_text(text)
    checked = subprocess.run(
        [analyze, "verify", *(str(tmp_path / f"{name}.service") for name in UNITS)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    for name in ("rapport-web", "rapport-scheduler"):
        assert unit(name)["Unit"]["Requires"] == "rapport-migrate.service"
        assert unit(name)["Unit"]["After"] == "rapport-migrate.service"
    assert unit("rapport-migrate")["Service"]["Type"] == "oneshot"


def test_the_commands_the_units_start_migrate_serve_slack_and_run_the_scheduler(
    tmp_path, fake_slack
):
    env = slack_env(fake_slack, f"sqlite:///{tmp_path / 'rapport.db'}")
    port, metrics_port = free_port(), free_port()
    env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(port), METRICS_PORT=str(metrics_port))
    migrated = subprocess.run(
        command("rapport-migrate"), cwd=tmp_path, env=rapport_env(**env), capture_output=True
    )
    assert migrated.returncode == 0, migrated.stderr
    web = Process(command("rapport-web"), tmp_path, **env)
    scheduler = Process(command("rapport-scheduler"), tmp_path, **env)
    try:
        assert wait_for_health(f"http://127.0.0.1:{port}/healthz", web.popen)["status"] == "ok"
        web.wait_for("serving with 2 web workers")
        scheduler.wait_for(f"scheduler metrics on port {metrics_port}")
        assert value(scrape(f"http://127.0.0.1:{metrics_port}")[1], "rapport_scheduler_leading")
        assert scrape(f"http://127.0.0.1:{port}")[0].startswith("text/plain")
    finally:
        stopped = (web.stop(), scheduler.stop())  # SIGTERM, as systemctl stop sends
    assert stopped == (0, 0)


@pytest.mark.parametrize("name", UNITS)
def test_every_unit_reads_its_settings_from_one_environment_file(name):
    service = unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/rapport/rapport.env"
    assert service["User"] == "rapport" and service["StateDirectory"] == "rapport"
