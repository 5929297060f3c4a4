"""Family tests of the music tasks: rolls, grids, windows, and (slow) the full sets."""

from __future__ import annotations

import numpy as np
import pytest

import tasks
from tasks import music


@pytest.mark.parametrize("name", ["music-jsb", "music-muse", "music-folk"])
def test_rolls_are_88_binary_keys_and_windows_score_every_transition(name):
    task = tasks.get(name, preset="smoke")
    assert task.n_inputs == task.n_outputs == 88 and task.metric == "nll"
    for split in ("train", "valid", "test"):
        rolls = task.rolls[split]
        assert all(r.shape[1] == 88 and set(np.unique(r)) <= {0, 1} for r in rolls)
        scored = task.sets[split].score.sum()
        assert scored == sum(len(r) - 1 for r in rolls)


def test_music_alias_and_grids():
    assert tasks.TASKS.canonical("music") == "music-jsb"
    assert tasks.get("music", preset="smoke").config.grid == 1.0
    assert tasks.get("music-folk", preset="smoke").config.grid == 0.5


@pytest.mark.parametrize(
    ("name", "low", "high"), [("music-jsb", 3.0, 4.5), ("music-folk", 0.7, 1.5)]
)
def test_notes_per_step_on_a_subset(name, low, high):
    task = tasks.get(name, preset="smoke")
    assert low <= np.concatenate(task.rolls["train"]).sum(1).mean() <= high


def test_split_is_by_piece_hash():
    split, key = music.split_of("bach/bwv1.6.mxl")
    assert (split, key) == music.split_of("bach/bwv1.6.mxl") and 0 <= key < 1
    splits = [music.split_of(f"piece{i}")[0] for i in range(2000)]
    assert 0.75 < splits.count("train") / 2000 < 0.85


def test_a_window_continues_where_the_last_ended():
    roll = np.eye(88, dtype=np.uint8)[np.arange(10) % 88]  # (10, 88): one key a step
    padded = music.windows([roll], seq_len=4)
    assert padded.lengths.tolist() == [5, 5, 2]
    assert np.array_equal(padded.seqs[1, 0], roll[4])


def test_grid_knob_changes_the_roll():
    quarter = music.parse_roll("bach/bwv1.6.mxl", 1.0)
    eighth = music.parse_roll("bach/bwv1.6.mxl", 0.5)
    assert len(eighth) == 2 * len(quarter) and np.array_equal(eighth[::2], quarter)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "pieces", "low", "high"),
    [("music-jsb", 300, 3.0, 4.5), ("music-folk", 3000, 0.7, 1.5), ("music-muse", 1000, 2.5, 6.0)],
)
def test_full_sets(name, pieces, low, high):
    task = tasks.get(name, preset="quick")
    assert sum(len(p) for p in task.pieces.values()) >= pieces
    assert low <= np.concatenate(task.rolls["train"]).sum(1).mean() <= high
    sizes = task.describe()["splits"]
    assert sizes["valid"]["sequences"] > 0.05 * sizes["train"]["sequences"]
