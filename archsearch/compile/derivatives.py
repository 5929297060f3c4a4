"""Derivatives of the cell language's element-wise functions, for the generated BPTT loop.

One row per function of ``archsearch.cell.functions.FUNCTIONS`` that has a
template. An activation gives its Jacobian from its **output** ``{y}`` (so the
backward pass needs only saved outputs, and computes the Jacobians of all time
steps in one call before its loop). Other functions give one factor per
argument (see ``ARGUMENT_FACTORS``). A function without a row here still compiles: the
compiler falls back to plain autograd through the scripted loop.
``linear`` and ``scale`` are laid out by the code generator itself.
"""

from __future__ import annotations

# d output / d input as a function of the output y.
ACTIVATION_JACOBIANS: dict[str, str] = {
    "tanh": "1.0 - {y} * {y}",
    "sigmoid": "{y} * (1.0 - {y})",
    "relu": "({y} > 0.0).to({y}.dtype)",
    # leaky_relu keeps the sign, so the output tells which slope applied.
    "leaky_relu": "({y} > 0.0).to({y}.dtype) * 0.99 + 0.01",
    "identity": "",  # pass-through: no Jacobian to apply
}

# Every function here is element-wise, so the gradient of each argument is the
# output's gradient times a factor: "" for 1, "-1" for -1, else a template over
# the arguments' values ({0}, {1} ...). Factors read saved values only, so the
# backward pass multiplies them out for all steps at once, before its loop.
ARGUMENT_FACTORS: dict[str, tuple[str, ...]] = {
    "add": ("", ""),
    "sub": ("", "-1"),
    "neg": ("-1",),
    "mul": ("{1}", "{0}"),
    # blend(a, b, c) = a * b + (1 - a) * c
    "blend": ("({1} - {2})", "{0}", "(1.0 - {0})"),
}


def has_derivative(fn: str) -> bool:
    """True when the generated backward pass knows how to differentiate ``fn``."""
    return fn in ACTIVATION_JACOBIANS or fn in ARGUMENT_FACTORS or fn in ("linear", "scale")
