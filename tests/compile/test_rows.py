"""A layer on an embedding's rows (``forward_rows``) equals the layer on the gathered input."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.compile import backends, compile_cell
from archsearch.compile import layer as layer_module
from archsearch.compile.samples import search_cells
from archsearch.model import TaskModel
from tasks.heads import LinearHead

from .conftest import EVERY

T, B, V, H = 7, 3, 5, 8  # V < T * B: the rows path


def cells():
    named = [zoo.get(name) for name in ("lstm", "gru", "mut1", "mut3")]
    return [*named, parse_cell(EVERY), *search_cells(3)]


def both(layer, ids, table, state):
    """(outputs, finals, gradients) of forward_rows and of forward on the gathered rows."""
    results = []
    for rows in (True, False):
        out, fin = (
            layer.forward_rows(ids, table, state) if rows else layer(F.embedding(ids, table), state)
        )
        loss = (out * torch.linspace(-1, 1, H, dtype=out.dtype)).sum() + sum(
            (f * f).sum() for f in fin
        )
        grads = torch.autograd.grad(
            loss, [table, *state, *layer.parameters()], allow_unused=True, materialize_grads=True
        )
        results.append((out, fin, grads))
    return results


@pytest.mark.parametrize("backend", ["torchscript", "eager"])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
@pytest.mark.parametrize("cell", cells(), ids=lambda c: c.name)
def test_rows_equal_the_gathered_input(cell, backend, dtype, tol):
    torch.manual_seed(0)
    layer = compile_cell(cell, H, H, backend=backend, init_scale=1.5).to(dtype)
    table = torch.randn(V, H, dtype=dtype, requires_grad=True)
    ids = torch.randint(0, V, (T, B))
    state = tuple(torch.randn(B, H, dtype=dtype, requires_grad=True) for _ in cell.states)
    (out, fin, grads), (ref_out, ref_fin, ref_grads) = both(layer, ids, table, state)
    # (a search cell may overflow in float32: both paths then give the same NaNs)
    torch.testing.assert_close(out, ref_out, rtol=tol, atol=tol, equal_nan=True)
    for a, b in zip([*fin, *grads], [*ref_fin, *ref_grads], strict=True):
        torch.testing.assert_close(
            a, b, rtol=tol, atol=tol * max(1.0, b.abs().max().item()), equal_nan=True
        )


@pytest.mark.parametrize("vocab, rows", [(V, True), (T * B, False)])
def test_rows_are_used_only_when_fewer_than_the_inputs(vocab, rows, monkeypatch):
    made = []
    monkeypatch.setattr(layer_module, "Rows", lambda *a: made.append(a) or backends.Rows(*a))
    layer = compile_cell(zoo.get("gru"), H, H)
    layer.forward_rows(torch.randint(0, vocab, (T, B)), torch.randn(vocab, H))
    assert bool(made) == rows


def test_rows_refuse_bad_shapes():
    layer = compile_cell(zoo.get("gru"), H, H)
    with pytest.raises(ValueError, match=r"ids \[T, B\]"):
        layer.forward_rows(torch.zeros(T, dtype=torch.long), torch.randn(V, H))
    with pytest.raises(ValueError, match=r"a table \[V, 8\]"):
        layer.forward_rows(torch.zeros(T, B, dtype=torch.long), torch.randn(V, H + 1))


def test_a_token_model_reads_its_embedding_as_rows(monkeypatch):
    """The task model's first layer takes the embedding's rows: the same features and
    gradients as the gathered input, layer after layer."""
    torch.manual_seed(0)
    model = TaskModel(
        zoo.get("mut1"),
        input_kind="tokens",
        n_inputs=V,
        head=LinearHead(SimpleNamespace(n_outputs=V), H),
        hidden_size=H,
        layers=2,
    ).double()
    ids = torch.randint(0, V, (T, B))
    calls = []
    rows = type(model.cells[0]).forward_rows
    monkeypatch.setattr(
        type(model.cells[0]), "forward_rows", lambda *a: calls.append(1) or rows(*a)
    )
    features, state = model(ids)
    assert len(calls) == 1  # the first layer only
    grads = torch.autograd.grad(
        features.sum(), list(model.cells.parameters()) + [model.encoder.weight]
    )
    monkeypatch.setattr(
        type(model.cells[0]), "forward_rows", lambda self, i, t, s: self(F.embedding(i, t), s)
    )
    ref, ref_state = model(ids)
    ref_grads = torch.autograd.grad(
        ref.sum(), list(model.cells.parameters()) + [model.encoder.weight]
    )
    torch.testing.assert_close(features, ref, rtol=1e-10, atol=1e-10)
    for a, b in zip(
        [*grads, *(s for layer in state for s in layer)],
        [*ref_grads, *(s for layer in ref_state for s in layer)],
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
