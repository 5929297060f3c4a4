"""The vocabulary of the cell language: one table, one row per function.

Adding an activation is one row here. ``template`` is the element-wise torch
expression a compiler emits for the function, with ``{0}``, ``{1}`` ... standing
for the arguments (already bound to names); functions that own parameters
(``linear``, ``scale``) have no template because the compiler lays out their
parameters itself. This module is pure data: it never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    """One function of the cell language.

    Attributes:
        name: the name written in cell text (operators have internal names:
            ``add``, ``sub``, ``mul``, ``neg``).
        arity: the number of arguments, or ``None`` for "one or more".
        commutative: argument order does not change the value (used by the
            canonical hash: ``a + b`` is ``b + a``; ``linear(x, h)`` is ``linear(h, x)``).
        parametric: each call owns learned parameters (two calls never share).
        template: the torch expression a compiler emits, or ``None``.
        operator: the infix symbol when the function is written as an operator.
        recipe_op: the NAS-Bench-NLP recipe op, or ``None`` when the recipe
            format has no such op.
    """

    name: str
    arity: int | None
    commutative: bool = False
    parametric: bool = False
    template: str | None = None
    operator: str | None = None
    recipe_op: str | None = None


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        # activations
        Function("tanh", 1, template="torch.tanh({0})", recipe_op="activation_tanh"),
        Function("sigmoid", 1, template="torch.sigmoid({0})", recipe_op="activation_sigm"),
        Function("relu", 1, template="torch.relu({0})"),
        Function(
            "leaky_relu",
            1,
            template="torch.nn.functional.leaky_relu({0}, 0.01)",
            recipe_op="activation_leaky_relu",
        ),
        Function("identity", 1, template="{0}"),
        # parametric: W1 a1 + ... + Wn an + b, and a learned diagonal weight w * a (peepholes)
        Function("linear", None, commutative=True, parametric=True, recipe_op="linear"),
        Function("scale", 1, parametric=True),
        # blend(a, b, c) = a * b + (1 - a) * c
        Function("blend", 3, template="({0} * {1} + (1.0 - {0}) * {2})", recipe_op="blend"),
        # operators
        Function(
            "add",
            2,
            commutative=True,
            template="({0} + {1})",
            operator="+",
            recipe_op="elementwise_sum",
        ),
        Function("sub", 2, template="({0} - {1})", operator="-"),
        Function(
            "mul",
            2,
            commutative=True,
            template="({0} * {1})",
            operator="*",
            recipe_op="elementwise_prod",
        ),
        Function("neg", 1, template="(-{0})", operator="-"),
    ]
}

ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu", "identity")
ELEMENTWISE = ("add", "sub", "mul")
# Functions that a user writes by name (the operators are written as symbols).
CALLABLE = tuple(name for name, f in FUNCTIONS.items() if f.operator is None)
