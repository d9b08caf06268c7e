"""Report arithmetic and rendering."""

from __future__ import annotations

import json

import pytest

from crowdfill.simulation.report import correlation, render
from crowdfill.simulation.simulate import SimulationConfig, simulate


def test_correlation_is_pearsons_r_and_none_without_variation() -> None:
    assert correlation([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(1.0)
    assert correlation([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert correlation([0.8, 0.8], [1.0, 5.0]) is None
    assert correlation([1.0], [1.0]) is None


def test_the_rendered_report_shows_every_figure_the_issue_asks_for() -> None:
    report = simulate(SimulationConfig(seed=2)).report
    text = render(report)
    for label in (
        "precision",
        "recall",
        "operations:",
        "duplicated rows",
        "rows inserted by the central client",
        "wasted work",
        "total paid",
        "cost per correct row",
        "time (simulated)",
        "wall time",
        "CrowdFill pay",
        "microtask pay",
    ):
        assert label in text
    assert report.log_digest in text


def test_the_report_is_json_serialisable() -> None:
    data = simulate(SimulationConfig(seed=2)).report.to_dict()
    assert json.loads(json.dumps(data)) == data
