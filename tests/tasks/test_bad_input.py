"""Bad data: one line on stderr and exit status 2, before anything runs or is stored."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from archsearch.cli import app
from tests.tasks.conftest import features, sentences, write_lines

runner = CliRunner()


def missing_path(tmp_path) -> str:
    return f"text:{tmp_path / 'nowhere'}"


def empty_split(tmp_path) -> str:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_lines(folder / "train.txt", sentences(30))
    write_lines(folder / "valid.txt", ["", "  "])  # blank lines only
    write_lines(folder / "test.txt", sentences(5))
    return f"text:{folder}"


def not_utf8(tmp_path) -> str:
    path = tmp_path / "latin1.txt"
    path.write_bytes("\n".join(sentences(30)).encode() + "\ncaf\xe9 au lait\n".encode("latin-1"))
    return f"text:{path}"


def npz_without_x(tmp_path) -> str:
    np.savez(tmp_path / "nox.npz", inputs=features(20, 3, 2), y=np.arange(20) % 2)
    return f"seq:{tmp_path / 'nox.npz'}"


def npz_without_y(tmp_path) -> str:
    np.savez(tmp_path / "noy.npz", x=features(20, 3, 2))
    return f"seq:{tmp_path / 'noy.npz'}"


def labels_too_short(tmp_path) -> str:
    np.savez(tmp_path / "short.npz", x=features(20, 3, 2), y=np.arange(19) % 2)
    return f"seq:{tmp_path / 'short.npz'}"


def nan_in_x(tmp_path) -> str:
    x = features(20, 3, 2)
    x[7, 1, 0] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.arange(20) % 2)
    return f"seq:{tmp_path / 'nan.npz'}"


def inf_in_x(tmp_path) -> str:
    x = features(20, 3, 2)
    x[3, 2, 1] = np.inf
    np.savez(tmp_path / "inf.npz", x=x, y=np.arange(20) % 2)
    return f"seq:{tmp_path / 'inf.npz'}"


def one_token(tmp_path) -> str:
    return f"text:{write_lines(tmp_path / 'same.txt', ['ha ha ha'] * 40)}"


BAD = {
    missing_path: "no such file or folder",
    empty_split: "the valid split is empty",
    not_utf8: "line 31 is not UTF-8",
    npz_without_x: "the archive has no x (it holds inputs, y)",
    npz_without_y: "the archive has no y (it holds x)",
    labels_too_short: "y has 19 rows but x has 20 sequences",
    nan_in_x: "x holds NaN or inf (first at index [7, 1, 0])",
    inf_in_x: "x holds NaN or inf (first at index [3, 2, 1])",
    one_token: "vocabulary of one token ('ha')",
}


def one_line_error(result, says: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("make", BAD, ids=[f.__name__ for f in BAD])
def test_a_search_on_bad_data_stops_before_storing_anything(tmp_path, fresh_cache, make):
    store = tmp_path / "s.db"
    result = runner.invoke(
        app,
        ["search", "--tasks", f"arith,{make(tmp_path)}", "--preset", "smoke",
         "--storage", f"sqlite:///{store}", "--in-process"],
    )  # fmt: skip
    one_line_error(result, BAD[make])
    assert not store.exists()
    assert not list(fresh_cache.glob("text-*")) and not list(fresh_cache.glob("seq-*"))


@pytest.mark.parametrize("command", ["eval", "tasks", "fidelity"])
def test_every_command_refuses_bad_data_in_one_line(tmp_path, fresh_cache, command):
    name = nan_in_x(tmp_path)
    args = {
        "eval": ["eval", "lstm", "--task", name, "--preset", "smoke"],
        "tasks": ["tasks", name],
        "fidelity": ["fidelity", "lstm", "gru", "--task", name, "--reference-preset", "quick",
                     "--storage", f"sqlite:///{tmp_path / 'f.db'}", "--in-process",
                     "--out", str(tmp_path / "f")],
    }[command]  # fmt: skip
    one_line_error(runner.invoke(app, args), BAD[nan_in_x])
    assert not (tmp_path / "f").exists() and not (tmp_path / "f.db").exists()
