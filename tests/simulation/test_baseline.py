"""The microtask baseline: k answers per cell, majority vote, pay per answer."""

from __future__ import annotations

import random

import pytest

from crowdfill.simulation.baseline import run_microtask_baseline
from crowdfill.simulation.crowd import CrowdSettings, WorkerProfile, make_crowd
from crowdfill.simulation.quality import measure
from crowdfill.simulation.truth import build_template, generate_soccer_truth

TRUTH = generate_soccer_truth(40, random.Random(0))


def _crowd(accuracy: float, workers: int = 20) -> tuple[WorkerProfile, ...]:
    return make_crowd(TRUTH, CrowdSettings(workers=workers, accuracy=(accuracy, accuracy)), random.Random(1))


def test_perfect_workers_give_the_truth_with_k_answers_per_cell() -> None:
    template = build_template("keys:6", TRUTH, random.Random(2))
    result = run_microtask_baseline(TRUTH, template, _crowd(1.0), 3, random.Random(3))
    assert set(result.rows) == set(TRUTH.restricted_to(template))
    assert result.answers == 6 * 3 * 3  # six rows, three non-key cells, three answers each
    assert sum(result.answers_by_worker.values()) == result.answers


def test_open_template_rows_ask_one_worker_to_name_a_key_and_k_minus_one_to_check_it() -> None:
    template = build_template("paper", TRUTH, random.Random(2))
    result = run_microtask_baseline(TRUTH, template, _crowd(1.0), 3, random.Random(3))
    quality = measure(result.rows, TRUTH, template)
    assert quality.precision == 1.0
    assert quality.recall == 1.0
    # Per row one naming answer and three answers per other cell (a template value spares one);
    # each named key cell is checked by two more workers: FW names two, Brazil and Spain one each.
    assert result.answers == 3 * (1 + 3 * 3) - 3 + 2 * (2 + 1 + 1)


def test_a_majority_of_three_corrects_single_mistakes() -> None:
    template = build_template("keys:20", TRUTH, random.Random(2))
    one = measure(
        run_microtask_baseline(TRUTH, template, _crowd(0.8), 1, random.Random(4)).rows, TRUTH, template
    )
    three = measure(
        run_microtask_baseline(TRUTH, template, _crowd(0.8), 3, random.Random(4)).rows, TRUTH, template
    )
    assert three.cell_accuracy is not None
    assert one.cell_accuracy is not None
    assert three.cell_accuracy > one.cell_accuracy


def test_the_baseline_needs_at_least_one_answer_per_cell() -> None:
    with pytest.raises(ValueError, match="at least one"):
        run_microtask_baseline(
            TRUTH, build_template("keys:1", TRUTH, random.Random(0)), _crowd(1.0), 0, random.Random(0)
        )
