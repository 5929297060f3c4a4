"""A repeat of an evaluation: the same settings and data, other initialisation seeds."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from archsearch.cli import app
from archsearch.evaluation import evaluate
from archsearch.records import trial_seed


def test_a_repeat_keeps_the_settings_and_changes_the_seeds():
    first, again = (
        evaluate("tanh", "arith", preset="smoke", trials=2, seed=3, repeat=r) for r in (0, 1)
    )
    assert [t.params for t in first.trials] == [t.params for t in again.trials]
    assert [t.seed for t in first.trials] == [trial_seed(3, i) for i in range(2)]
    assert [t.seed for t in again.trials] == [trial_seed(3, i, 1) for i in range(2)]
    assert not {t.seed for t in first.trials} & {t.seed for t in again.trials}


def test_eval_repeats_reports_each_repeat_and_their_mean():
    args = ["eval", "tanh", "--task", "arith", "--preset", "smoke", "--trials", "1"]
    result = CliRunner().invoke(app, [*args, "--repeats", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    best = data["summary"]["best_valid"]
    assert len(data["repeats"]) == 3 and len(best) == 3
    assert data["summary"]["mean"] == pytest.approx(sum(best) / 3)
    seeds = [r["trials"][0]["seed"] for r in data["repeats"]]
    assert seeds == [trial_seed(0, 0, r) for r in range(3)]
