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

# d output / d input as a function of the output y, computed for all steps at once. One
# pass where a fused op has it (``ONE`` is a one-element tensor of 1 in the backward pass);
# ``{out}``, where a template has it, writes the result into a given tensor (``jacobian``).
ACTIVATION_JACOBIANS: dict[str, str] = {
    "tanh": "torch.addcmul(ONE, {y}, {y}, value=-1.0{out})",  # 1 - y^2
    # y (1 - y), not y - y^2: that one cancels where the gate saturates at 1
    "sigmoid": "torch.sub(ONE, {y}{out}).mul_({y})",
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


def jacobian(fn: str, y: str, out: str | None = None) -> str:
    """The expression of activation ``fn``'s Jacobian from its output ``y``, written into
    ``out`` when given (one statement)."""
    template = ACTIVATION_JACOBIANS[fn]
    if "{out}" in template:
        return template.format(y=y, out=f", out={out}" if out else "")
    expr = template.format(y=y)
    return f"{out}.copy_({expr})" if out else expr


def has_derivative(fn: str) -> bool:
    """True when the generated backward pass knows how to differentiate ``fn``."""
    return fn in ACTIVATION_JACOBIANS or fn in ARGUMENT_FACTORS or fn in ("linear", "scale")
