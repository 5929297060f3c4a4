"""Corpora built on every core give the rolls the serial conversion gives, piece for piece."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("music21")

from tasks import build, music  # noqa: E402

FOLK_FILE = "oneills1850/0626-0635.abc"  # ten tunes: parsed once for all of them


def few_pieces(dataset: str) -> list[str]:
    ids = music.piece_ids(dataset)
    if dataset == "folk":
        return [p for p in ids if p.startswith(FOLK_FILE + "#")] + [
            p for p in ids if p.startswith("oneills1850/0001")
        ]
    return ids[: 3 * build.CHUNK if dataset == "muse" else 1]  # muse: three jobs


@pytest.fixture
def few(monkeypatch):
    """Each dataset cut to a few pieces (the pool's jobs are planned here, in this process)."""
    chosen = {d: few_pieces(d) for d in music.GRIDS}
    monkeypatch.setattr(music, "piece_ids", lambda dataset: chosen[dataset])
    return chosen


def rolls_of(dataset: str) -> dict:
    return music.RollCache(dataset, music.GRIDS[dataset]).rolls


@pytest.mark.slow  # 20-35 s on the shared two cores: two spawned pools import torch and music21
def test_the_pool_gives_the_serial_rolls(tmp_path, monkeypatch, few):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path / "serial"))
    for dataset, pieces in few.items():
        music.RollCache(dataset, music.GRIDS[dataset]).ensure(pieces)
    serial = {d: rolls_of(d) for d in few}
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path / "pool"))
    said = []
    build.build(["music-jsb", "music-muse", "music-folk"], say=said.append, workers=2)
    assert said[0].startswith("converting") and said[-1].startswith("converted")
    for dataset, pieces in few.items():
        pooled = rolls_of(dataset)
        assert set(pooled) == set(pieces) == set(serial[dataset])
        for piece in pieces:
            assert np.array_equal(pooled[piece], serial[dataset][piece]), piece
    assert sum(roll is not None for roll in rolls_of("folk").values()) >= 10


def test_parsing_from_source_gives_music21s_default_rolls(few):
    """music21's default parse pickles the score and reads it back; we skip that."""
    from music21 import converter, stream

    for dataset, pieces in few.items():
        for piece in pieces[:2]:
            path, _, number = piece.partition("#")
            kwargs = {"number": int(number)} if number else {}
            score = converter.parse(str(music._corpus_root() / path), **kwargs)
            score = score.scores[0] if isinstance(score, stream.Opus) else score
            grid = music.GRIDS[dataset]
            assert np.array_equal(music.roll_of(score, grid), music.parse_roll(piece, grid))


def test_jobs_go_longest_first_and_keep_a_files_tunes_together(tmp_path, monkeypatch, few):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))
    jobs, _ = build.plan(["folk", "jsb"], with_ptb=False)
    sizes = [len(job[2]) for job in jobs]
    assert sizes == sorted(sizes, reverse=True)
    whole = [job for job in jobs if job[2][0].startswith(FOLK_FILE)]
    assert len(whole) == 1 and len(whole[0][2]) == 10 and FOLK_FILE in whole[0][3]


def test_an_interrupted_build_keeps_what_it_converted(tmp_path, monkeypatch, few):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))

    def ctrl_c(self, count):
        raise KeyboardInterrupt  # as if pressed when the first job came back

    monkeypatch.setattr(build.Progress, "advance", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        build.build(["music-muse"], say=lambda line: None, workers=1)
    kept = rolls_of("muse")
    assert kept and set(kept) < set(few["muse"])  # the first job's pieces, not the others


def test_a_serial_parse_says_plain_lines_when_stderr_is_no_terminal(
    tmp_path, monkeypatch, few, capsys
):
    """A search's log file gets "parsed ..." lines, not a progress bar's carriage returns."""
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))
    pieces = few["jsb"]
    rolls = music.RollCache("jsb", music.GRIDS["jsb"])
    rolls.ensure(pieces)
    err = capsys.readouterr().err
    assert "\r" not in err
    said = [line for line in err.splitlines() if line.startswith("parsed")]
    assert len(said) == 1  # the end's line: a few pieces take less than LOG_EVERY
    assert said[0].startswith(f"parsed {rolls.path.stem} {len(pieces)}/{len(pieces)} (100%) in ")
