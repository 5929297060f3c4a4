"""The float32 CPU paths against the eager backend, each other and torch's layers.

The float64 tests elsewhere run the plain path (``torch.mm``); these run both
float32 paths of ``kernels.py`` (oneDNN, and ``torch.mm``, whichever this
machine prefers): every zoo cell and 20 random cells and mutants, float32,
against the eager backend in float64 with the same weights.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
import torch

from archsearch import zoo
from archsearch.cell import parse_cell
from archsearch.compile import compile_cell, kernels
from archsearch.compile.codegen import HEADER
from archsearch.compile.program import program_for
from archsearch.compile.samples import search_cells

from .conftest import EVERY, run
from .test_reference import CASES

T, B, H = 6, 3, 8


CELLS = [zoo.get(n) for n in zoo.names()] + [parse_cell(EVERY)] + search_cells()


def against_eager(cell, dtype=torch.float32, seed=0, sizes=(T, B, H)):
    """(fast layer's results, eager float64 results) with the same weights and inputs."""
    steps, batch, hidden = sizes
    torch.manual_seed(seed)
    layer = compile_cell(cell, hidden, hidden, init_scale=1.5, fused=False).to(dtype)
    ref = compile_cell(cell, hidden, hidden, backend="eager").double()
    ref.load_state_dict({k: v.double() for k, v in layer.state_dict().items()})
    x = torch.randn(steps, batch, hidden, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(batch, hidden, dtype=dtype, requires_grad=True) for _ in cell.states)
    xd = x.detach().double().requires_grad_()
    sd = tuple(s.detach().double().requires_grad_() for s in state)
    mine, theirs = run(layer, x, state), run(ref, xd, sd)
    with torch.no_grad():  # the plain loop (no saving), which inference and evaluation run
        out, fin = layer(x, state)
    for a, b in zip([out, *fin], [mine[0], *mine[1]], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    return mine, theirs


def assert_close(mine, ref, tol):
    torch.testing.assert_close(mine[0].double(), ref[0], rtol=tol, atol=tol)
    for a, b in zip(mine[1], ref[1], strict=True):
        torch.testing.assert_close(a.double(), b, rtol=tol, atol=tol)
    for a, b in zip(mine[2], ref[2], strict=True):
        scale = max(1.0, b.abs().max().item())  # gradients of a few cells grow large
        torch.testing.assert_close(a.double(), b, rtol=tol, atol=tol * scale)


# each float32 CPU path: oneDNN for every product, for the all-steps ones only, for none
PATHS = {"onednn-steps": (True, True), "onednn": (True, False), "torch": (False, False)}


@pytest.fixture(params=list(PATHS))
def products(request, monkeypatch):
    """Each float32 CPU path in turn, whichever this machine's CPU prefers."""
    onednn, steps = PATHS[request.param]
    if onednn and not kernels.AVAILABLE:
        pytest.skip("oneDNN's product is not available in this PyTorch")
    monkeypatch.setattr(kernels, "ONEDNN", onednn)
    monkeypatch.setattr(kernels, "STEP_ONEDNN", steps)
    assert kernels.fast(torch.zeros(1)) == onednn
    assert kernels.fast_steps(torch.zeros(1)) == steps
    assert not kernels.fast_steps(torch.zeros(1, dtype=torch.float64))
    return request.param


def test_probe_and_dispatch():
    """The probe ran; float64 and non-CPU tensors never take the oneDNN path."""
    f32 = torch.zeros(2, 2)
    assert kernels.fast(f32) == kernels.ONEDNN
    assert kernels.AVAILABLE or not kernels.ONEDNN
    assert not kernels.fast(f32.double())
    if kernels.AVAILABLE and torch.backends.mkldnn.is_available():
        w, a, b = torch.randn(5, 4), torch.randn(3, 4), torch.randn(5)
        torch.testing.assert_close(kernels.onednn_mm(a, w), a @ w.t())
        torch.testing.assert_close(kernels.onednn_linear(a, w, b), a @ w.t() + b)


def step_helpers() -> dict:
    """The generated module's helper functions (``codegen.HEADER``), as plain Python."""
    ns = {"onednn_mm": kernels.onednn_mm}
    exec(HEADER, ns)
    return ns


@pytest.mark.parametrize("fast", [True, False])
def test_step_tanh_equals_torch_tanh(fast):
    """The step's tanh, 2 sigmoid(2a) - 1 from tensor operands on the fast path, returned
    and written into a buffer: torch's tanh to within float32 rounding, saturated ends too."""
    ns = step_helpers()
    a = torch.cat([torch.linspace(-30, 30, 601), torch.tensor([0.0, 1e-8, -1e-8, 88.0, -88.0])])
    neg1 = torch.full([1], -1.0)
    out = torch.empty_like(a)
    want = torch.tanh(a.double()).float()
    torch.testing.assert_close(ns["_tanh"](a, neg1, fast), want, rtol=0, atol=2.5e-7)
    assert ns["_tanh_out"](a, out, neg1, fast) is out
    torch.testing.assert_close(out, want, rtol=0, atol=2.5e-7)


def test_fast_linear_equals_torch_linear():
    """``kernels.linear`` on the oneDNN path (the bias added by the product): forward and
    every gradient equal ``torch.nn.functional.linear`` in float64."""
    if not kernels.AVAILABLE:
        pytest.skip("oneDNN's product is not available in this PyTorch")
    torch.manual_seed(0)
    a, w, b = (torch.randn(*s, requires_grad=True) for s in ((40, 7), (12, 7), (12,)))
    assert kernels.fast(a) or not kernels.ONEDNN
    y = kernels.FastLinear.apply(a, w, b)
    ref = [t.detach().double().requires_grad_() for t in (a, w, b)]
    y_ref = torch.nn.functional.linear(*ref)
    torch.testing.assert_close(y.double(), y_ref, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(y)
    mine = torch.autograd.grad(y, (a, w, b), g)
    theirs = torch.autograd.grad(y_ref, ref, g.double())
    for u, v in zip(mine, theirs, strict=True):
        torch.testing.assert_close(u.double(), v, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "choice,vendor,want",
    [
        ("onednn", "GenuineIntel", True),
        ("torch", "AuthenticAMD", False),
        ("", "GenuineIntel", False),
    ]
    + [("", "AuthenticAMD", True), ("", "", True)],
)
def test_products_follow_the_vendor_unless_told(choice, vendor, want, monkeypatch):
    monkeypatch.setenv("ARCHSEARCH_PRODUCTS", choice)
    monkeypatch.setattr(kernels, "cpu_vendor", lambda: vendor)
    assert kernels.prefers_onednn() == want


@pytest.mark.parametrize(
    "choice,vendor,family,want",
    [
        ("", "AuthenticAMD", 26, True),  # Zen 5
        ("", "AuthenticAMD", 27, True),
        ("", "AuthenticAMD", 25, False),  # Zen 4
        ("", "GenuineIntel", 6, False),
        ("", "", 0, False),
        ("onednn", "GenuineIntel", 6, True),
        ("torch", "AuthenticAMD", 26, False),
    ],
)
def test_step_products_follow_the_cpu_generation_unless_told(
    choice, vendor, family, want, monkeypatch
):
    monkeypatch.setenv("ARCHSEARCH_STEP_PRODUCTS", choice)
    monkeypatch.setattr(kernels, "cpu_vendor", lambda: vendor)
    monkeypatch.setattr(kernels, "cpu_family", lambda: family)
    assert kernels.prefers_onednn_steps() == want


def test_cpu_fields_are_read_from_cpuinfo():
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo")
    with open("/proc/cpuinfo") as f:
        text = f.read()
    assert kernels.cpu_vendor() in text
    assert f"cpu family\t: {kernels.cpu_family()}" in text or kernels.cpu_family() == 0


@pytest.mark.parametrize("name", ["ARCHSEARCH_PRODUCTS", "ARCHSEARCH_STEP_PRODUCTS"])
def test_products_setting_refuses_a_bad_value(name, monkeypatch):
    monkeypatch.setenv(name, "mkl")
    prefers = {"ARCHSEARCH_PRODUCTS": kernels.prefers_onednn}.get(
        name, kernels.prefers_onednn_steps
    )
    with pytest.raises(ValueError, match=f"{name} must be"):
        prefers()


@pytest.mark.parametrize("cell", CELLS, ids=[c.name for c in CELLS])
def test_fast_path_matches_eager(cell, products):
    mine, ref = against_eager(cell)
    assert_close(mine, ref, 2e-4)


# a step product past kernels.ONEDNN_STEP_MACS (B * H * 4H: 2.1 million), where the
# step products take oneDNN on its path (at T, B, H above they stay torch.mm)
LARGE = (3, 32, 128)


@pytest.mark.parametrize("name", ["lstm", "gru", "mut3", "greff_vanilla", "lstm_f"])
def test_large_step_products_match_eager(name, products):
    assert LARGE[1] * LARGE[2] * 4 * LARGE[2] >= kernels.ONEDNN_STEP_MACS > B * H * 4 * H
    mine, ref = against_eager(zoo.get(name), sizes=LARGE)
    assert_close(mine, ref, 2e-4)


@pytest.mark.parametrize("cell", search_cells(), ids=[c.name for c in search_cells()])
def test_search_cells_exact_path_matches_eager(cell):
    """Random cells and mutants, float64 (the plain path): as close as the zoo's."""
    mine, ref = against_eager(cell, dtype=torch.float64)
    assert_close(mine, ref, 1e-9)


@pytest.mark.parametrize("name", ["lstm", "gru", "mut3", "greff_vanilla"])
def test_fallback_equals_fast_path(name, monkeypatch):
    """Through oneDNN (every product, or the all-steps ones) and through torch.mm (the probe
    failed, or an Intel CPU), same results."""
    if not kernels.AVAILABLE:
        pytest.skip("oneDNN's product is not available in this PyTorch")
    results = {}
    for path, (onednn, steps) in PATHS.items():
        monkeypatch.setattr(kernels, "ONEDNN", onednn)
        monkeypatch.setattr(kernels, "STEP_ONEDNN", steps)
        results[path] = against_eager(zoo.get(name))[0]
    assert not kernels.fast(torch.zeros(1))
    plain = results.pop("torch")
    for fast in results.values():
        mine, theirs = [fast[0], *fast[1], *fast[2]], [plain[0], *plain[1], *plain[2]]
        for a, b in zip(mine, theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_equals_torch(name, products):
    """The compiled lstm / gru on the fast path equal torch.nn.LSTM / GRU in float32."""
    torch.manual_seed(0)
    ref_cls, copy = CASES[name]
    ref = ref_cls(5, H)
    layer = compile_cell(zoo.get(name), 5, H, fused=False)  # the generated loop, not torch's
    copy(ref, layer)
    x = torch.randn(T, B, 5, requires_grad=True)
    out, fin = layer(x)
    ref_out, ref_fin = ref(x)
    torch.testing.assert_close(out, ref_out, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fin[0], ref_fin[0][0] if name == "lstm" else ref_fin[0])
    mine = torch.autograd.grad(out.sum(), [x, *layer.parameters()])
    theirs = torch.autograd.grad(ref_out.sum(), [x])
    torch.testing.assert_close(mine[0], theirs[0], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
@pytest.mark.parametrize("setting,tuned", [("keep", True), ("default", False)])
def test_malloc_keeps_freed_memory_unless_told(setting, tuned):
    env = {**os.environ, "ARCHSEARCH_MALLOC": setting}
    code = "from archsearch.compile import kernels; print(kernels.MALLOC_TUNED)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.stdout.strip() == str(tuned), res.stderr


# Linears reading different sets of static values (x; tanh(x); both), one of them static
# throughout (z): the input projection splits into one product per set (graph.py's groups).
SPLIT = """
cell split(x; h, c):
    f = sigmoid(linear(x, h))
    g = tanh(linear(tanh(x), h))
    o = sigmoid(linear(x, tanh(x), h))
    z = sigmoid(linear(tanh(x)))
    c = f * c + g * z
    h = o * tanh(c)
"""


# In the step too: linear(x, tanh(h)) beside linear(x, h) at one depth (mut3's shape), and
# linear(x, c, h) beside them, are three products, none with a zero block.
STEP_SPLIT = """
cell step_split(x; h, c):
    f = sigmoid(linear(x, tanh(h)))
    i = sigmoid(linear(x, h))
    o = sigmoid(linear(x, c, h))
    g = tanh(linear(x, h))
    c = f * c + i * g
    h = o * tanh(c)
"""


@pytest.mark.parametrize("source, static, step", [(SPLIT, 3, 1), (STEP_SPLIT, 1, 3)])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-9), (torch.float32, 2e-4)])
def test_products_split_by_the_values_they_read_match_eager(
    source, static, step, dtype, tol, products
):
    cell = parse_cell(source)
    graph, program = program_for(cell)
    assert (len(graph.static_groups), len(graph.groups)) == (static, step)
    for grp in graph.static_groups + graph.groups:  # each linear reads all its product's values
        for lin in grp.linears:
            assert set(grp.values) <= set(graph.nodes[lin].args)
    assert "new_zeros" not in program.source  # so no product has a zero block
    mine, ref = against_eager(cell, dtype=dtype)
    assert_close(mine, ref, tol)
