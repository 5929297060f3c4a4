import math

import pytest

from archsearch import zoo
from archsearch.analysis import best_trials, gate_importance, importance_order, ranking
from archsearch.analysis.importance import hyperparameter_importance
from archsearch.space import ablations


def h(name):
    return zoo.get(name).canonical_hash()


def test_best_trial_follows_each_metric_direction(frame):
    best = best_trials(frame).set_index(["cell_name", "task"])
    assert best.loc[("gru", "xml"), "metric_valid"] == 0.80
    assert best.loc[("gru", "ptb"), "metric_valid"] == 150.0  # perplexity: lower wins
    assert best.loc[("lstm", "ptb"), "metric_test"] == 121.0  # the test of that same trial


def test_ranking_values_by_hand(frame):
    table = ranking(frame, reference="gru", tasks=["xml", "ptb"]).set_index("cell_name")
    # lstm: xml 0.60 / 0.80 = 0.75; ptb 150 / 120 = 1.25; score = min = 0.75
    assert table.loc["lstm", "rel_xml"] == pytest.approx(0.75)
    assert table.loc["lstm", "rel_ptb"] == pytest.approx(1.25)
    assert table.loc["lstm", "score"] == pytest.approx(0.75)
    assert table.loc["gru", "score"] == pytest.approx(1.0)
    # lstm_b: 0.66 / 0.8 = 0.825, 150 / 118 = 1.271 -> 0.825
    assert table.loc["lstm_b", "score"] == pytest.approx(0.825)
    assert table.loc["lstm", "trials"] == 6  # 2 + 2 finished, and one diverged per task
    assert list(table.index[:2]) == ["gru", "lstm_b"]  # sorted by score
    assert table.loc["lstm", "depth"] == 0


def test_gate_importance_table_and_order(frame):
    lstm = zoo.get("lstm")
    variants = {label: cell.canonical_hash() for label, cell in ablations(lstm).items()}
    table = gate_importance(frame, h("lstm"), variants, ["xml", "ptb"])
    # no f on xml: 0.40 / 0.60; on ptb: 120 / 130
    assert table.loc["no f", "xml"] == pytest.approx(0.40 / 0.60)
    assert table.loc["no f", "ptb"] == pytest.approx(120 / 130)
    assert table.loc["f bias 1", "xml"] == pytest.approx(0.66 / 0.60)
    order = importance_order(table)
    assert order["xml"] == ["f", "i", "o"]  # 0.667 < 0.8 < 0.983
    assert order["ptb"] == ["f", "i", "o"]  # 120/130 < 120/125 < 120/121


def test_unknown_reference_is_a_clear_error(frame):
    with pytest.raises(ValueError, match="neither a zoo cell"):
        ranking(frame, reference="nope")


@pytest.mark.parametrize("evaluator", ["fanova", "ped-anova", "mdi"])
def test_hyperparameter_importance_names_its_evaluator(frame, evaluator):
    table = hyperparameter_importance(frame, evaluator=evaluator)
    assert evaluator in table.attrs["evaluator"]
    for task in table.columns:
        assert math.isclose(table[task].sum(), 1.0, abs_tol=1e-6) or table[task].sum() == 0
    assert set(table.index) <= {"lr", "layers"}
