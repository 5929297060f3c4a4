"""``text:PATH``: a folder or one file, word or character level, a capped vocabulary, cached."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import tasks
from tasks import text
from tests.tasks.conftest import WORDS, sentences, write_lines


def words_of(task, split: str) -> list[str]:
    return [task.vocab[i] for i in task.ids[split]]


def test_a_folder_gives_its_three_splits_and_the_vocabulary_of_train(tmp_path, fresh_cache):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_lines(folder / "train.txt", ["a b a", "", "b c a"])  # the blank line is skipped
    write_lines(folder / "valid.txt", ["a zebra"])
    write_lines(folder / "test.txt", ["c b", "a"])
    task = tasks.get(f"text:{folder}", preset="smoke")
    assert task.name == f"text:{folder.resolve()}"
    assert task.metric == "perplexity" and not task.direction.maximize and task.stateful
    assert words_of(task, "train") == ["a", "b", "a", "<eos>", "b", "c", "a", "<eos>"]
    assert words_of(task, "valid") == ["a", "<unk>", "<eos>"]  # zebra is not in train
    assert words_of(task, "test") == ["c", "b", "<eos>", "a", "<eos>"]
    assert task.vocab[:2] == ["a", "<eos>"]  # by descending training frequency (3, 2)
    assert set(task.vocab) == {"a", "b", "c", "<eos>", "<unk>"}
    sizes = task.split_sizes()
    assert sizes["train"] == {"sequences": 2, "tokens": 8} and sizes["test"]["sequences"] == 2


def test_one_file_is_split_by_lines_90_5_5_in_order(tmp_path, fresh_cache):
    lines = [f"line{i % 7} w{i % 3}" for i in range(100)]
    path = write_lines(tmp_path / "one.txt", lines)
    task = tasks.get(f"text:{path}", preset="smoke")
    assert {s: task.split_sizes()[s]["sequences"] for s in ("train", "valid", "test")} == {
        "train": 90,
        "valid": 5,
        "test": 5,
    }
    expected = [w for line in lines[90:95] for w in (*line.split(), "<eos>")]
    assert words_of(task, "valid") == expected
    again = tasks.get(f"text:{path}", preset="smoke")
    assert all(np.array_equal(task.ids[s], again.ids[s]) for s in ("train", "valid", "test"))


def test_char_level_reads_characters_spaces_included(tmp_path, fresh_cache):
    path = write_lines(tmp_path / "chars.txt", ["ab ba"] * 18 + ["abc", "ba"])
    task = tasks.get(f"text:{path}", preset="smoke", level="char")
    assert set(task.vocab) == {"a", "b", " ", "<eos>", "<unk>"}
    assert words_of(task, "train")[:6] == ["a", "b", " ", "b", "a", "<eos>"]
    assert words_of(task, "valid") == ["a", "b", "<unk>", "<eos>"]  # c is not in train
    word = tasks.get(f"text:{path}", preset="smoke")
    assert task.n_inputs != word.n_inputs  # the two levels are cached apart


def test_the_vocabulary_is_capped_and_the_rest_is_unknown(tmp_path, fresh_cache):
    path = write_lines(tmp_path / "many.txt", sentences(200))
    full = tasks.get(f"text:{path}", preset="smoke")
    capped = tasks.get(f"text:{path}", preset="smoke", vocab_size=5)
    assert set(full.vocab) == {*WORDS, "<eos>", "<unk>"}
    assert len(capped.vocab) == 5 and {"<eos>", "<unk>"} <= set(capped.vocab)
    frequent = [w for w in full.vocab if w not in ("<eos>", "<unk>")][:3]
    assert set(capped.vocab) == {*frequent, "<eos>", "<unk>"}  # the 3 most frequent words
    unk = capped.vocab.index("<unk>")
    assert (capped.ids["train"] == unk).sum() > 0  # the dropped words became <unk>


def test_an_edited_file_is_converted_again(tmp_path, fresh_cache):
    path = tmp_path / "notes.txt"
    write_lines(path, sentences(60))
    first = tasks.get(f"text:{path}", preset="smoke")
    write_lines(path, ["brand new words here"] * 3 + sentences(60, seed=1))
    second = tasks.get(f"text:{path}", preset="smoke")
    assert "brand" in second.vocab and "brand" not in first.vocab
    assert len(list(fresh_cache.glob("text-*.npz"))) == 2  # one per content
    copy = write_lines(tmp_path / "copy.txt", path.read_text().splitlines())
    tasks.get(f"text:{copy}", preset="smoke")
    assert len(list(fresh_cache.glob("text-*.npz"))) == 2  # same content, same cache file


def test_presets_scale_with_the_corpus(tmp_path, fresh_cache):
    small = write_lines(tmp_path / "small.txt", sentences(400))
    large = write_lines(tmp_path / "large.txt", sentences(40_000))
    quick = {p: tasks.task_config(f"text:{p}", preset="quick") for p in (small, large)}
    assert quick[small].train_steps < quick[large].train_steps
    assert quick[small].hidden_size <= quick[large].hidden_size
    assert quick[large].batch_size == 20 and quick[small].batch_size < 20  # small valid split
    tasks.get(f"text:{small}", preset="quick")  # the small corpus fills its batches


def test_a_large_file_is_read_as_a_stream(tmp_path, fresh_cache):
    path = tmp_path / "large.txt"
    line = " ".join(["word"] * 200 + ["other"]) + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(8_000):  # about 8 MB
            handle.write(line)
    tracemalloc.start()
    try:
        facts = text.scan(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert facts.words["train"] == 7_200 * 202
    assert peak < path.stat().st_size / 10  # a few numbers a line, never the whole text


def test_text_tasks_resolve_in_a_run_spec(tmp_path, fresh_cache):
    from archsearch.spec import RunSpec
    from archsearch.spec_check import check

    path = write_lines(tmp_path / "spec.txt", sentences(100))
    spec = RunSpec(name="own", tasks=(f"text:{path}", "arith"), preset="smoke", budget="2")
    assert check(spec)["tasks"] == (f"text:{(tmp_path / 'spec.txt').resolve()}", "arith")


@pytest.mark.parametrize("level", ["word", "char"])
def test_a_text_task_trains(tmp_path, fresh_cache, level):
    from archsearch.evaluation import evaluate

    path = write_lines(tmp_path / "train.txt", sentences(300))
    knobs = {"train_steps": 4, "eval_every": 2, "hidden_size": 8, "level": level}
    result = evaluate("lstm", f"text:{path}", preset="smoke", trials=1, overrides=knobs)
    assert result.best is not None and result.metric == "perplexity"
    assert 1.0 < result.best.metric_valid < 1000
