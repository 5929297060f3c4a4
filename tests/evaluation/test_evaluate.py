import math

import pytest
import torch

import tasks
from archsearch import zoo
from archsearch.evaluation import evaluate
from archsearch.hparams import Choice, Space
from archsearch.model import TaskModel
from archsearch.train import measure
from archsearch.zoo import load_cell

# The paper's SGD at one setting that trains at smoke scale.
FIXED = {"lr": 1.0, "layers": 1, "init_scale": 1.0, "max_grad_norm": 5.0}


@pytest.mark.parametrize("task", ["xml", "arith"])
def test_learning_is_real_trained_lstm_beats_untrained(task):
    torch.manual_seed(0)
    the_task = tasks.get(task, preset="smoke", seed=0)
    untrained = TaskModel(
        zoo.get("lstm"),
        input_kind=the_task.input_kind,
        n_inputs=the_task.n_inputs,
        head=the_task.make_head(the_task.config.hidden_size),
        hidden_size=the_task.config.hidden_size,
    )
    before = measure(untrained, the_task, "test", torch.device("cpu"))["accuracy"]
    result = evaluate("lstm", task, preset="smoke", trials=1, space="jozefowicz", fixed=FIXED).best
    assert result is not None and result.status == "ok"
    assert result.metric_test > before + 0.15, (before, result.metric_test)


def test_a_forced_divergence_is_recorded_as_diverged():
    huge = Space(
        name="huge",
        optimizer="sgd",
        params={
            "lr": Choice((1e12,)),
            "max_grad_norm": Choice((1e12,)),
            "init_scale": Choice((2.8,)),
        },
    )
    evaluation = evaluate("tanh", "arith", preset="smoke", trials=2, space=huge)
    assert [t.status for t in evaluation.trials] == ["diverged", "diverged"]
    assert evaluation.best is None


def test_an_error_inside_a_run_is_recorded_as_failed(monkeypatch):
    def broken(self, inputs, state=None):
        raise RuntimeError("injected")

    monkeypatch.setattr(TaskModel, "forward", broken)
    evaluation = evaluate("gru", "xml", preset="smoke", trials=2)
    assert [t.status for t in evaluation.trials] == ["failed", "failed"]
    assert "RuntimeError: injected" in evaluation.trials[0].error


def test_same_seed_same_result():
    first = evaluate("gru", "arith", preset="smoke", trials=2, seed=3)
    again = evaluate("gru", "arith", preset="smoke", trials=2, seed=3)
    other = evaluate("gru", "arith", preset="smoke", trials=2, seed=4)
    metrics = lambda e: [(t.params, t.metric_valid, t.metric_test, t.steps) for t in e.trials]  # noqa: E731
    assert metrics(first) == metrics(again)
    assert metrics(first) != metrics(other)


def test_evaluation_reports_every_trial_and_the_best():
    evaluation = evaluate("lstm", "xml", preset="smoke", trials=3, seed=1)
    record = evaluation.to_dict()
    assert len(record["trials"]) == 3 and record["metric"] == "accuracy"
    for trial in record["trials"]:
        assert set(trial) >= {
            "params",
            "status",
            "metric_valid",
            "metric_test",
            "steps",
            "seconds",
            "n_params",
        }
    finished = [t for t in evaluation.trials if t.status == "ok"]
    assert record["best"]["metric_valid"] == max(t.metric_valid for t in finished)


def test_cells_load_from_zoo_text_and_file(tmp_path):
    text = zoo.get("gru").to_text()
    path = tmp_path / "mine.cell"
    path.write_text(text)
    assert load_cell("gru") == load_cell(text) == load_cell(str(path))
    with pytest.raises(ValueError, match="unknown cell 'grue'"):
        load_cell("grue")


FAST = [("lstm", "arith"), ("gru", "xml"), ("mut1", "arith"), ("greff_vanilla", "xml")]


@pytest.mark.parametrize(("cell", "task"), FAST)
def test_smoke_evaluations_give_finite_metrics(cell, task):
    best = evaluate(cell, task, preset="smoke", trials=1, space="jozefowicz", fixed=FIXED).best
    assert best is not None and math.isfinite(best.metric_valid) and math.isfinite(best.metric_test)


@pytest.mark.slow
@pytest.mark.parametrize("task", tasks.names())
@pytest.mark.parametrize("cell", zoo.names())
def test_every_zoo_cell_on_every_task_at_smoke(cell, task):
    best = evaluate(cell, task, preset="smoke", trials=1, space="jozefowicz", fixed=FIXED).best
    assert best is not None and math.isfinite(best.metric_valid) and math.isfinite(best.metric_test)
