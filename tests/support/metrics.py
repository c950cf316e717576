"""Reading ``GET /metrics`` the way Prometheus does."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

METRICS = (
    "rapport_http_request_seconds",
    "rapport_slack_ack_seconds",
    "rapport_slack_calls",
    "rapport_scheduled_sends",
    "rapport_scheduler_leading",
    "rapport_drift_scoring_seconds",
    "rapport_ledger_backlog",
)


def scrape(app_url: str) -> tuple[str, dict[tuple[str, frozenset], float]]:
    """The content type, and every sample by name and labels (a metric not recorded yet is
    there by name alone, with the labels ``{"": ""}``)."""
    with urllib.request.urlopen(f"{app_url}/metrics", timeout=10) as answer:
        content_type = answer.headers["Content-Type"]
        text = answer.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        samples[(family.name, frozenset({("", "")}))] = 0.0
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return content_type, samples


def value(samples: dict, name: str, **labels: str) -> float:
    """A sample's value; 0 when it was never recorded."""
    return samples.get((name, frozenset(labels.items())), 0.0)
