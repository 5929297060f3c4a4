"""Weight drop: DropConnect on the recurrent weights in training, none in evaluation."""

from __future__ import annotations

import pytest
import torch

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.compile import BACKENDS, CompileError, compile_cell

from .conftest import EVERY


def test_the_weights_on_the_recurrent_path_are_the_dropped_ones():
    torch.manual_seed(0)
    layer = compile_cell(parse_cell(EVERY), 4, 4, weight_drop=0.5)
    names = [
        f"{i}.{k}" for i, lin in enumerate(layer.linears) for k in [*range(len(lin.weights)), "b"]
    ]
    names += [f"scale{i}" for i in range(len(layer.scales))]
    masked = layer.flat_parameters(weight_drop=0.5)
    whole = layer.flat_parameters()
    dropped = [n for n, a, b in zip(names, masked, whole, strict=True) if not torch.equal(a, b)]
    # linear(x, h); linear(tanh(h), c, x); linear(x); linear(h, m); linear(c, tanh(x));
    # linear(d, c): x, tanh(x) and every bias are kept whole
    assert dropped == ["0.1", "1.0", "1.1", "3.0", "3.1", "4.0", "5.0", "5.1"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["lstm", "gru", "mut1"])
def test_training_masks_the_recurrence_and_evaluation_does_not(backend, name):
    torch.manual_seed(0)
    layer = compile_cell(zoo.get(name), 8, 8, backend=backend, weight_drop=0.5)
    x = torch.randn(3, 2, 8)
    layer.eval()
    clean = layer(x)[0]
    assert torch.equal(layer(x)[0], clean)  # evaluation: the weights as they are
    layer.train()
    dropped = layer(x)[0]
    # From a zero state the first step reads no recurrent weight; later steps do.
    torch.testing.assert_close(dropped[0], clean[0])
    assert not torch.allclose(dropped[1:], clean[1:])
    dropped.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())


def test_no_weight_drop_trains_on_the_weights_as_they_are():
    layer = compile_cell(zoo.get("gru"), 5, 5)
    x = torch.randn(4, 3, 5)
    layer.train()
    first = layer(x)[0]
    assert torch.equal(layer(x)[0], first)


def test_a_rate_outside_zero_to_one_is_refused():
    with pytest.raises(CompileError, match=r"weight_drop must be in \[0, 1\)"):
        compile_cell(zoo.get("lstm"), 4, 4, weight_drop=1.0)
