"""Reading panels: NAS-Bench-NLP logs (deduplicated by hash, reference = final perplexity)."""

import json
import math
from pathlib import Path

import pytest

from archsearch.fidelity import (
    cell_panel,
    nasbench_panel,
    sample_across,
    sample_held_out,
    with_mutants,
)

LOGS = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "nasbench-nlp-wt2"
    / "logs.jsonl"
)
TANH = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}
# The same architecture with its linear's inputs swapped and its node renamed.
TANH_AGAIN = {
    "g": {"op": "linear", "input": ["h_prev_0", "x"]},
    "h_new_0": {"op": "activation_tanh", "input": ["g"]},
}
SIGMOID = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_sigm", "input": ["f"]},
}


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_log_file_gives_one_cell_per_architecture_with_its_final_perplexity(tmp_path):
    logs = _write(
        tmp_path / "logs.jsonl",
        [
            {"recepie_id": 1, "status": "OK", "recipe": TANH, "val_losses": [6.0, 5.0]},
            {"recepie_id": 2, "status": "OK", "recipe": TANH_AGAIN, "val_losses": [6.0, 4.9]},
            {"recepie_id": 3, "status": "OK", "recipe": SIGMOID, "val_losses": [7.0, 6.5]},
            {"recepie_id": 4, "status": "FAILED", "recipe": SIGMOID, "val_losses": [7.0]},
            {"recepie_id": 5, "status": "OK", "recipe": SIGMOID, "val_losses": [7.0, math.nan]},
        ],
    )
    panel = nasbench_panel(logs)
    assert [c.name for c in panel] == ["nb2", "nb3"]  # the better of the twins, best first
    assert panel[0].reference == pytest.approx(math.exp(4.9))
    assert nasbench_panel(logs, epoch=0)[0].reference == pytest.approx(math.exp(6.0))


def test_a_bad_line_names_the_file_and_line(tmp_path):
    logs = tmp_path / "logs.jsonl"
    logs.write_text(json.dumps({"recepie_id": 1, "status": "OK", "val_losses": [5.0]}) + "\n")
    with pytest.raises(ValueError, match=r"logs.jsonl:1"):
        nasbench_panel(logs)


def test_sampling_across_keeps_both_ends_and_spreads_evenly():
    panel = cell_panel(["tanh", "lstm", "gru", "lstm_f", "lstm_i", "lstm_o", "lstm_b"])
    picked = sample_across(panel, 3)
    assert [c.name for c in picked] == ["tanh", "lstm_f", "lstm_b"]
    assert sample_across(panel, 10) == panel
    with pytest.raises(ValueError):
        sample_across(panel, 1)


def test_a_held_out_panel_is_disjoint_and_spans_what_is_left():
    panel = cell_panel(["tanh", "lstm", "gru", "lstm_f", "lstm_i", "lstm_o", "lstm_b"])
    held_out = sample_held_out(panel, 3)
    assert [c.name for c in held_out] == ["lstm", "lstm_i", "lstm_o"]
    with pytest.raises(ValueError, match="needs 8 cells"):
        sample_held_out(panel, 4)


@pytest.mark.skipif(not LOGS.exists(), reason="the shared NAS-Bench-NLP logs are not here")
def test_the_shared_logs_give_a_panel_spanning_their_whole_range():
    panel = nasbench_panel(LOGS)
    assert 200 < len(panel) < 341  # 341 finished logs, duplicates merged by hash
    picked = sample_across(panel, 24)
    assert len({c.name for c in picked}) == 24
    assert picked[0].reference < 100 and picked[-1].reference > 1000


def test_mutants_join_a_panel_new_valid_distinct_and_reproducible():
    panel = cell_panel(["lstm", "gru"])
    grown = with_mutants(panel, 4, seed=1)
    assert grown[:2] == panel and len(grown) == 6
    assert len({c.cell.canonical_hash() for c in grown}) == 6
    assert [c.name.split("-m1-")[0] for c in grown[2:]] == ["lstm", "gru", "lstm", "gru"]
    assert all(c.reference is None for c in grown[2:])
    assert with_mutants(panel, 4, seed=1) == grown


def test_the_zoo_panel_spelled_for_the_shell_scripts_reads_back_the_same():
    from archsearch.assignments import parse_assignments, typed
    from archsearch.fidelity.panel import (
        ZOO_PANEL,
        ZOO_PANEL_FIXED,
        ZOO_PANEL_MUTANTS,
        zoo_panel_words,
    )

    words = zoo_panel_words("fixed").split()
    assert words[::2] == ["--set"] * len(ZOO_PANEL_FIXED)
    assert typed(parse_assignments(words[1::2], "--set")) == ZOO_PANEL_FIXED
    assert tuple(zoo_panel_words("cells").split()) == ZOO_PANEL
    assert int(zoo_panel_words("mutants")) == ZOO_PANEL_MUTANTS
    with pytest.raises(ValueError, match="cells, mutants or fixed"):
        zoo_panel_words("zoo")
