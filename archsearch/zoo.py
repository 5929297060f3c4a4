"""The reference cells, written in the cell language.

Each entry is the cell's text with its equations and reference in comments.
``get(name)`` parses a cell once and caches it; an unknown name raises
``UnknownNameError`` listing the zoo. Notation: ``σ`` is the sigmoid, ``⊙``
the elementwise product, ``linear(a, b)`` is ``W a + U b + bias`` with its own
parameters at each call, ``scale(c)`` is ``p ⊙ c`` with a learned vector ``p``
(a peephole).
"""

from __future__ import annotations

from pathlib import Path

from archsearch.cell import Cell, parse_cell
from archsearch.registry import Registry

_TEXTS: Registry[str] = Registry("cell")
_CACHE: dict[str, Cell] = {}


def _add(text: str) -> None:
    header = next(line for line in text.splitlines() if line.startswith("cell "))
    _TEXTS.register(header.split()[1].split("(")[0], text)


def names() -> list[str]:
    """Every cell of the zoo, in the order defined here."""
    return _TEXTS.names()


def text(name: str) -> str:
    """The source text of a zoo cell (with its comments)."""
    return _TEXTS.get(name)


def get(name: str) -> Cell:
    """The zoo cell ``name``, parsed once."""
    key = _TEXTS.canonical(name)
    if key not in _CACHE:
        _CACHE[key] = parse_cell(_TEXTS.get(key))
    return _CACHE[key]


# --- Jozefowicz, Zaremba & Sutskever (ICML 2015), "An Empirical Exploration of
# --- Recurrent Network Architectures": the baselines, the gate ablations, the best mutants.

_add("""
# Elman-style tanh RNN: h' = tanh(W x + U h + b)
cell tanh(x; h):
    h = tanh(linear(x, h))
""")

_add("""
# LSTM (Hochreiter & Schmidhuber 1997, forget gate of Gers et al. 2000), gates in
# torch.nn.LSTM's weight order i, f, g, o:
#   i = σ(W_i x + U_i h + b_i)      f = σ(W_f x + U_f h + b_f)
#   g = tanh(W_g x + U_g h + b_g)   o = σ(W_o x + U_o h + b_o)
#   c' = f ⊙ c + i ⊙ g              h' = o ⊙ tanh(c')
cell lstm(x; h, c):
    i = sigmoid(linear(x, h))
    f = sigmoid(linear(x, h))
    g = tanh(linear(x, h))
    o = sigmoid(linear(x, h))
    c = f * c + i * g
    h = o * tanh(c)
""")

_add("""
# Jozefowicz et al. 2015 LSTM-f: the LSTM without a forget gate (f = 1): c' = c + i ⊙ g
cell lstm_f(x; h, c):
    i = sigmoid(linear(x, h))
    g = tanh(linear(x, h))
    o = sigmoid(linear(x, h))
    c = c + i * g
    h = o * tanh(c)
""")

_add("""
# Jozefowicz et al. 2015 LSTM-i: the LSTM without an input gate (i = 1): c' = f ⊙ c + g
cell lstm_i(x; h, c):
    f = sigmoid(linear(x, h))
    g = tanh(linear(x, h))
    o = sigmoid(linear(x, h))
    c = f * c + g
    h = o * tanh(c)
""")

_add("""
# Jozefowicz et al. 2015 LSTM-o: the LSTM without an output gate (o = 1): h' = tanh(c')
cell lstm_o(x; h, c):
    i = sigmoid(linear(x, h))
    f = sigmoid(linear(x, h))
    g = tanh(linear(x, h))
    c = f * c + i * g
    h = tanh(c)
""")

_add("""
# Jozefowicz et al. 2015 LSTM-b: the LSTM with the forget gate's bias initialised to 1:
#   f = σ(W_f x + U_f h + b_f), b_f = 1 at the start of training
cell lstm_b(x; h, c):
    i = sigmoid(linear(x, h))
    f = sigmoid(linear(x, h, bias=1.0))
    g = tanh(linear(x, h))
    o = sigmoid(linear(x, h))
    c = f * c + i * g
    h = o * tanh(c)
""")

_add("""
# GRU (Cho et al. 2014) in the form torch.nn.GRU computes it, gates in its weight order r, z, n:
#   r = σ(W_r x + U_r h + b_r)      z = σ(W_z x + U_z h + b_z)
#   n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn))
#   h' = (1 - z) ⊙ n + z ⊙ h
cell gru(x; h):
    r = sigmoid(linear(x, h))
    z = sigmoid(linear(x, h))
    n = tanh(linear(x) + r * linear(h))
    h = (1 - z) * n + z * h
""")

_add("""
# MUT1 (Jozefowicz et al. 2015), needs input size == hidden size (tanh(x)):
#   z = σ(W_xz x + b_z)
#   r = σ(W_xr x + W_hr h + b_r)
#   h' = tanh(W_hh (r ⊙ h) + tanh(x) + b_h) ⊙ z + h ⊙ (1 - z)
cell mut1(x; h):
    z = sigmoid(linear(x))
    r = sigmoid(linear(x, h))
    h = tanh(linear(r * h) + tanh(x)) * z + h * (1 - z)
""")

_add("""
# MUT2 (Jozefowicz et al. 2015), needs input size == hidden size (x + ...):
#   z = σ(W_xz x + W_hz h + b_z)
#   r = σ(x + W_hr h + b_r)
#   h' = tanh(W_hh (r ⊙ h) + W_xh x + b_h) ⊙ z + h ⊙ (1 - z)
cell mut2(x; h):
    z = sigmoid(linear(x, h))
    r = sigmoid(x + linear(h))
    h = tanh(linear(r * h, x)) * z + h * (1 - z)
""")

_add("""
# MUT3 (Jozefowicz et al. 2015):
#   z = σ(W_xz x + W_hz tanh(h) + b_z)
#   r = σ(W_xr x + W_hr h + b_r)
#   h' = tanh(W_hh (r ⊙ h) + W_xh x + b_h) ⊙ z + h ⊙ (1 - z)
cell mut3(x; h):
    z = sigmoid(linear(x, tanh(h)))
    r = sigmoid(linear(x, h))
    h = tanh(linear(r * h, x)) * z + h * (1 - z)
""")

# --- Greff, Srivastava, Koutník, Steunebrink & Schmidhuber (2017), "LSTM: A Search
# --- Space Odyssey" (IEEE TNNLS): the vanilla LSTM with peepholes and its eight variants.
# --- Vanilla (V), with peepholes p_i, p_f on the previous cell state, p_o on the new one:
# ---   i = σ(W_i x + R_i h + p_i ⊙ c + b_i)     f = σ(W_f x + R_f h + p_f ⊙ c + b_f)
# ---   g = tanh(W_z x + R_z h + b_z)            c' = f ⊙ c + i ⊙ g
# ---   o = σ(W_o x + R_o h + p_o ⊙ c' + b_o)    h' = o ⊙ tanh(c')

_add("""
# Greff et al. 2017 V: the vanilla LSTM (equations above)
cell greff_vanilla(x; h, c):
    i = sigmoid(linear(x, h) + scale(c))
    f = sigmoid(linear(x, h) + scale(c))
    g = tanh(linear(x, h))
    c = f * c + i * g
    o = sigmoid(linear(x, h) + scale(c))
    h = o * tanh(c)
""")

_add("""
# Greff et al. 2017 NIG: no input gate (i = 1): c' = f ⊙ c + g
cell greff_nig(x; h, c):
    f = sigmoid(linear(x, h) + scale(c))
    g = tanh(linear(x, h))
    c = f * c + g
    o = sigmoid(linear(x, h) + scale(c))
    h = o * tanh(c)
""")

_add("""
# Greff et al. 2017 NFG: no forget gate (f = 1): c' = c + i ⊙ g
cell greff_nfg(x; h, c):
    i = sigmoid(linear(x, h) + scale(c))
    g = tanh(linear(x, h))
    c = c + i * g
    o = sigmoid(linear(x, h) + scale(c))
    h = o * tanh(c)
""")

_add("""
# Greff et al. 2017 NOG: no output gate (o = 1): h' = tanh(c')
cell greff_nog(x; h, c):
    i = sigmoid(linear(x, h) + scale(c))
    f = sigmoid(linear(x, h) + scale(c))
    g = tanh(linear(x, h))
    c = f * c + i * g
    h = tanh(c)
""")

_add("""
# Greff et al. 2017 NIAF: no input activation function: g = W_z x + R_z h + b_z
cell greff_niaf(x; h, c):
    i = sigmoid(linear(x, h) + scale(c))
    f = sigmoid(linear(x, h) + scale(c))
    g = linear(x, h)
    c = f * c + i * g
    o = sigmoid(linear(x, h) + scale(c))
    h = o * tanh(c)
""")

_add("""
# Greff et al. 2017 NOAF: no output activation function: h' = o ⊙ c'
cell greff_noaf(x; h, c):
    i = sigmoid(linear(x, h) + scale(c))
    f = sigmoid(linear(x, h) + scale(c))
    g = tanh(linear(x, h))
    c = f * c + i * g
    o = sigmoid(linear(x, h) + scale(c))
    h = o * c
""")

_add("""
# Greff et al. 2017 NP: no peepholes (the same architecture as lstm)
cell greff_np(x; h, c):
    i = sigmoid(linear(x, h))
    f = sigmoid(linear(x, h))
    g = tanh(linear(x, h))
    c = f * c + i * g
    o = sigmoid(linear(x, h))
    h = o * tanh(c)
""")

_add("""
# Greff et al. 2017 CIFG: coupled input and forget gate (f = 1 - i):
#   c' = (1 - i) ⊙ c + i ⊙ g
cell greff_cifg(x; h, c):
    i = sigmoid(linear(x, h) + scale(c))
    g = tanh(linear(x, h))
    c = (1 - i) * c + i * g
    o = sigmoid(linear(x, h) + scale(c))
    h = o * tanh(c)
""")

_add("""
# Greff et al. 2017 FGR: full gate recurrence. The gates also read the previous step's
# gate activations i, f, o, so those are extra states; their recurrent pre-activations
# are computed before the gates are reassigned:
#   i' = σ(W_i x + R_i h + R_ii i + R_fi f + R_oi o + p_i ⊙ c + b_i)      (f', o' alike)
#   g = tanh(W_z x + R_z h + b_z)   c' = f' ⊙ c + i' ⊙ g
#   o' = σ(W_o x + R_o h + R_io i + R_fo f + R_oo o + p_o ⊙ c' + b_o)   h' = o' ⊙ tanh(c')
cell greff_fgr(x; h, c, i, f, o):
    ai = linear(x, h, i, f, o) + scale(c)
    af = linear(x, h, i, f, o) + scale(c)
    g = tanh(linear(x, h))
    ao = linear(x, h, i, f, o)
    i = sigmoid(ai)
    f = sigmoid(af)
    c = f * c + i * g
    o = sigmoid(ao + scale(c))
    h = o * tanh(c)
""")


def load_cell(spec: str | Cell) -> Cell:
    """A cell from a zoo name, a path to a cell file, or cell text; ``ValueError`` (a
    ``CellError`` for bad text) when it is none of these or its file can't be read."""
    if isinstance(spec, Cell):
        return spec
    if "\n" in spec or spec.lstrip().startswith("cell "):
        return parse_cell(spec)
    path = Path(spec)
    if path.is_dir() and spec not in names():
        raise ValueError(f"{spec!r} is a folder; give a zoo name, a cell file or cell text")
    if spec.endswith(".cell") or (path.suffix and path.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ValueError(f"cannot read the cell file {spec!r}: {why}") from None
        return parse_cell(text)
    return get(spec)
