"""Hostile text fails fast with ``CellError``, never anything else; fuzzed text likewise."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsearch import zoo
from archsearch.cell import CellError, parse_cell

HEAD = "cell a(x; h):\n    h = "
HOSTILE = {
    "huge file": "cell a(x; h):\n    h = x\n" + "#" * 10_000_000,
    "deep parentheses": HEAD + "(" * 20_000 + "x" + ")" * 20_000,
    "deep calls": HEAD + "tanh(" * 10_000 + "x" + ")" * 10_000,
    "unary minus chain": HEAD + "-" * 60_000 + "x",
    "spaced unary chain": HEAD + "- " * 30_000 + "x",
    "not chain": HEAD + "not " * 15_000 + "x",
    "long sum": HEAD + "x + " * 15_000 + "x",
    "many statements": "cell a(x; h):\n" + "    h = x\n" * 6_000,
    "NUL byte": HEAD + "x\0",
    "garbage": bytes(range(256)).decode("latin-1") * 50,
    "lone surrogate in a comment": HEAD + "x  # \ud800",
    "code": "cell a(x; h):\n    h = __import__('os').system('echo pwned')",
    "exec": "cell a(x; h):\n    exec('import os')",
    "lambda": "cell a(x; h):\n    h = (lambda: x)()",
    "long name": "cell a(x; h):\n    " + "n" * 50_000 + " = x\n    h = x",
    "long header": "cell a(x; " + ", ".join(f"s{i}" for i in range(5000)) + "):\n    h = x",
    "bytes": b"cell a(x; h):\n    h = x",
    "big int": HEAD + "9" * 5000 + " * x",
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_text_fails_fast(text: str) -> None:
    # The parser's own CPU time, not wall time: on a loaded machine a wall clock flakes.
    start = time.thread_time()
    with pytest.raises(CellError):
        parse_cell(text)
    assert time.thread_time() - start < 1.0


TOKENS = [
    "x", "h", "c", "a", "b", "tanh", "sigmoid", "linear", "blend", "scale", "foo", "(", ")",
    ",", " + ", " - ", " * ", " / ", "-", "=", " = ", "bias=", "1.0", "2", "'s'", "\n    ",
    "\n", "    ", ":", ";", "#", "[", "]", ".", "cell ", "lambda", "import", "\t", "\0",
]  # fmt: skip


def _must_be_cell_or_cell_error(text: str) -> None:
    try:
        cell = parse_cell(text)
    except CellError as e:
        assert str(e).startswith("line ") or str(e).startswith("statement ")
        return
    assert parse_cell(cell.to_text()).canonical_hash() == cell.canonical_hash()


FAST = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_fuzz_grammar_ish_text(tokens: list[str]) -> None:
    _must_be_cell_or_cell_error("cell a(x; h, c):\n    " + "".join(tokens))


@FAST
@given(st.text(max_size=300))
def test_fuzz_raw_text(text: str) -> None:
    _must_be_cell_or_cell_error(text)
    _must_be_cell_or_cell_error("cell a(x; h):\n    " + text)


@FAST
@given(st.binary(max_size=300))
def test_fuzz_decoded_bytes(data: bytes) -> None:
    _must_be_cell_or_cell_error(data.decode("utf-8", errors="surrogateescape"))
    _must_be_cell_or_cell_error("cell a(x; h):\n    h = " + data.decode("latin-1"))


@FAST
@given(
    name=st.sampled_from(zoo.names()),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(TOKENS + [""])), max_size=4),
)
def test_fuzz_edited_zoo_cells(name: str, edits: list[tuple[int, str]]) -> None:
    text = zoo.text(name)
    for position, token in edits:
        position %= len(text)
        text = text[:position] + token + text[position + 1 :]
    _must_be_cell_or_cell_error(text)
