import math
import re

import pytest

from archsearch import zoo
from archsearch.analysis import best_trials, gate_importance, importance_order, ranking
from archsearch.analysis.importance import hyperparameter_importance
from archsearch.analysis.stats import holm
from archsearch.analysis.tables import gate_intervals, has_repeats, relative_intervals
from archsearch.space import ablations
from archsearch.store import load_results


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


def test_without_repeats_the_ranking_has_no_interval_columns(frame):
    table = ranking(frame, reference="gru", tasks=["xml", "ptb"])
    assert not any(c.startswith(("ci_", "mean_rel_")) for c in table.columns)


def test_with_repeats_rankings_show_intervals_and_mark_significant_differences(repeated):
    frame = load_results(repeated)
    assert has_repeats(frame) and not has_repeats(frame[frame["seed"] == 100])
    # One run per seed, each with its own settings (archsearch reproduce): repeats too.
    runs = frame[frame["params_lr"] == 0.001].assign(run=lambda f: f["seed"].astype(str))
    runs = runs.assign(params_lr=runs["seed"].astype(float), key="e1")
    assert has_repeats(runs) and not has_repeats(runs.assign(run="one"))
    table = ranking(frame, reference="gru", tasks=["xml", "ptb"]).set_index("cell_name")
    # lstm_f is far below the gru on both tasks; lstm_o is the gru plus noise.
    assert re.fullmatch(r"0\.7\d\d ± 0\.0\d\d\*", table.loc["lstm_f", "ci_xml"])
    assert table.loc["lstm_f", "p_xml"] < 0.05 and table.loc["lstm_f", "high_xml"] < 1
    assert not table.loc["lstm_o", "ci_xml"].endswith("*") and table.loc["lstm_o", "p_xml"] > 0.05
    # Perplexity: lstm_b's is lower than the gru's, so it is better: above 1.
    assert table.loc["lstm_b", "mean_rel_ptb"] > 1 and table.loc["lstm_b", "ci_ptb"].endswith("*")
    assert table.loc["gru", "ci_xml"] == "reference" and table.loc["gru", "mean_rel_xml"] == 1
    low, mean, high = (table.loc["lstm", f"{k}_xml"] for k in ("low", "mean_rel", "high"))
    assert low < mean < high


def test_relative_intervals_are_holm_adjusted_over_the_table(repeated):
    frame = load_results(repeated)
    cells = {name: h(name) for name in ("lstm", "lstm_f", "lstm_o")}
    long = relative_intervals(frame, h("gru"), cells, ["xml", "ptb"])
    assert len(long) == 6 and (long["n"] == 16).all()
    assert long["p_holm"].to_numpy() == pytest.approx(holm(long["p"].to_numpy()))


def test_gate_intervals_mark_which_removals_matter(repeated):
    frame = load_results(repeated)
    variants = {label: cell.canonical_hash() for label, cell in ablations(zoo.get("lstm")).items()}
    table = gate_intervals(frame, h("lstm"), variants, ["xml", "ptb"])
    assert list(table.index) == list(variants) and list(table.columns) == ["xml", "ptb"]
    assert table.loc["no f", "xml"].startswith("0.7") and table.loc["no f", "xml"].endswith("*")
    assert " ± " in table.loc["no i", "ptb"]
