"""The layer's contract: parameters, initialisation, errors, backends, saving, cost."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.compile import BACKENDS, CompileError, compile_cell

from .conftest import EVERY, run


def test_lstm_parameters_in_source_order():
    layer = compile_cell(zoo.get("lstm"), 5, 7)
    assert len(layer.linears) == 4 and len(layer.scales) == 0
    for lin in layer.linears:
        assert [tuple(w.shape) for w in lin.weights] == [(7, 5), (7, 7)]
        assert tuple(lin.bias.shape) == (7,)
    expected = [p for lin in layer.linears for p in (*lin.weights, lin.bias)]
    assert {id(p) for p in layer.parameters()} == {id(p) for p in expected}


def test_every_cell_parameters():
    layer = compile_cell(parse_cell(EVERY), 4, 4)
    shapes = [[tuple(w.shape) for w in lin.weights] for lin in layer.linears]
    # statement order, then pre-order left to right: k's relu(linear(x)) before its linear(h, m)
    assert shapes == [
        [(4, 4)] * 2,
        [(4, 4)] * 3,
        [(4, 4)],
        [(4, 4)] * 2,
        [(4, 4)] * 2,
        [(4, 4)] * 2,
    ]
    assert [tuple(s.weight.shape) for s in layer.scales] == [(4,), (4,)]


def test_parameters_are_real():
    """Copying into layer.linears changes the output, for both backends."""
    for backend in BACKENDS:
        layer = compile_cell(zoo.get("gru"), 3, 4, backend=backend)
        x = torch.randn(2, 2, 3)
        before = layer(x)[0]
        with torch.no_grad():
            layer.linears[2].weights[0].add_(1.0)
        assert not torch.allclose(before, layer(x)[0])


def test_init_rule():
    s = 0.5
    layer = compile_cell(zoo.get("lstm_b"), 6, 10, init_scale=s)
    for i, lin in enumerate(layer.linears):
        bound = s / math.sqrt(6 + 10)  # fan_in: the linear call's total input size
        for w in lin.weights:
            assert w.abs().max() <= bound and w.abs().max() > 0.5 * bound
        assert torch.all(
            lin.bias == (1.0 if i == 1 else 0.0)
        )  # f = sigmoid(linear(x, h, bias=1.0))
    peep = compile_cell(zoo.get("greff_vanilla"), 6, 10, init_scale=s)
    for sc in peep.scales:
        assert sc.weight.abs().max() <= s / math.sqrt(10)
    layer.reset_parameters(2.0)
    assert layer.linears[0].weights[0].abs().max() > s / math.sqrt(16)


def test_input_outside_linear_needs_x_equal_h():
    with pytest.raises(CompileError, match=r"mut1.*input_size == hidden_size.*5.*7"):
        compile_cell(zoo.get("mut1"), 5, 7)
    assert issubclass(CompileError, ValueError)
    compile_cell(zoo.get("mut1"), 7, 7)
    compile_cell(zoo.get("lstm"), 5, 7)  # input only inside linear: any sizes


def test_unknown_backend_lists_backends():
    with pytest.raises(CompileError, match="torchscript.*eager|eager.*torchscript"):
        compile_cell(zoo.get("lstm"), 3, 3, backend="cuda-magic")


@pytest.mark.parametrize("name", ["lstm", "gru", "mut2", "greff_vanilla", "every"])
def test_backends_agree_float32(name):
    cell = parse_cell(EVERY) if name == "every" else zoo.get(name)
    torch.manual_seed(0)
    a = compile_cell(cell, 8, 8)
    b = compile_cell(cell, 8, 8, backend="eager")
    b.load_state_dict(a.state_dict())
    x = torch.randn(7, 4, 8, requires_grad=True)
    ra, rb = run(a, x), run(b, x)
    torch.testing.assert_close(ra[0], rb[0], rtol=0, atol=1e-5)
    for ga, gb in zip(ra[2], rb[2], strict=True):
        torch.testing.assert_close(ga, gb, rtol=0, atol=1e-5)


def test_shapes_dtype_and_no_grad():
    layer = compile_cell(zoo.get("lstm"), 3, 5).double()
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        out, (h, c) = layer(x)
    assert out.shape == (4, 2, 5) and out.dtype == torch.float64
    assert h.shape == c.shape == (2, 5)
    torch.testing.assert_close(out[-1], h)
    out2, _ = layer(x[2:], (out[1], layer(x[:2])[1][1]))  # continuing from a state
    torch.testing.assert_close(out2, out[2:])


def test_compile_is_cheap_when_cached():
    cell = zoo.get("mut3")
    compile_cell(cell, 4, 4)(torch.randn(2, 1, 4))[0].sum().backward()  # scripts it once
    start = time.perf_counter()
    for _ in range(5):
        layer = compile_cell(cell, 4, 4)
    layer(torch.randn(2, 1, 4))[0].sum().backward()
    assert (time.perf_counter() - start) / 5 < 0.1


def test_save_runs_without_the_package(tmp_path):
    torch.manual_seed(0)
    layer = compile_cell(zoo.get("greff_vanilla"), 3, 4)
    path = tmp_path / "layer.pt"
    layer.save(path)
    x = torch.randn(5, 2, 3)
    state = (torch.randn(2, 4), torch.randn(2, 4))
    torch.save({"x": x, "state": state}, tmp_path / "inputs.pt")
    with torch.no_grad():
        expected = {"plain": layer(x), "state": layer(x, state)}
    torch.save(expected, tmp_path / "expected.pt")
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["archsearch"] = None  # importing the package now fails
        import torch
        m = torch.jit.load({str(path)!r})
        inp = torch.load({str(tmp_path / "inputs.pt")!r})
        exp = torch.load({str(tmp_path / "expected.pt")!r})
        for key, args in (("plain", (inp["x"],)), ("state", (inp["x"], inp["state"]))):
            out, fin = m(*args)
            torch.testing.assert_close(out, exp[key][0])
            for a, b in zip(fin, exp[key][1]):
                torch.testing.assert_close(a, b)
        print("ok")
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"
