"""Figures read as a person rounds them, half up (2.25 → 2.3, 62.5% → 63%), in pulse results,
alerts and exports alike: signed clicks and commands in, what Rapport said and uploaded out."""

from __future__ import annotations

import csv
import io

from bot.core.figures import decimal_text, half_up, percent_text
from bot.privacy.export import to_csv
from tests.privacy.test_data_rights import export
from tests.pulse.test_results import _close, _relationship, _results, _round
from tests.support.pulse_helpers import alerts, job_context, tick

QUARTER_CLIENT = {"UC1": 1, "UC2": 2, "UC3": 3, "UC4": 3}  # averages 2.25


def test_half_up_rounds_halves_away_from_zero_and_ignores_float_noise():
    assert [decimal_text(v) for v in (2.25, 3.25, 2.35, 0.05, 4.0)] == [
        "2.3",
        "3.3",
        "2.4",
        "0.1",
        "4.0",
    ]
    assert decimal_text(-2.25, signed=True) == "-2.3" and decimal_text(3, signed=True) == "+3.0"
    assert decimal_text(4.6 - 2.35) == "2.3"  # 2.2499999999999996 stands for 2.25
    assert decimal_text(0.125, 2) == "0.13"
    assert [percent_text(v) for v in (0.125, 0.625, 0.375, 1.0)] == ["13%", "63%", "38%", "100%"]
    assert str(half_up(62.5, 0)) == "63"
    rows = list(csv.reader(io.StringIO(to_csv([[2.125, -0.125, 4.0]]).lstrip("\ufeff"))))
    assert rows == [["2.13", "-0.13", "4.0"]]


def test_pulse_results_and_alerts_round_averages_and_gaps_half_up(rapport):
    _relationship(rapport, alerts="CALERTS")
    _round(rapport, QUARTER_CLIENT | {"UP1": 5, "UP2": 4, "UP3": 5, "UP4": 4})  # 4.5
    _close(rapport)
    shown = _results(rapport, "UALICE")
    assert "*Client*: *2.3*" in shown and "*Provider*: *4.5*" in shown
    assert "*Client–provider gap*: *2.3* (provider side happier)" in shown
    with job_context(rapport) as context:
        tick(context)
    (gap,) = [c.args["text"] for c in alerts(rapport.fake)]
    assert "the provider side scores *2.3* points higher" in gap


def test_response_rates_round_half_up_in_results_and_exports(rapport):
    _relationship(rapport)
    _round(rapport, QUARTER_CLIENT | {"UP1": 4, "UP2": 5, "UP3": 4, "UP4": 5, "UP5": 4})
    _close(rapport)
    assert "5 of 8 answered (63%)" in _results(rapport, "UC1")  # 62.5%
    client, provider = export(rapport)["pulse"]
    assert (client["average"], provider["response_rate_percent"]) == ("2.25", "63")
