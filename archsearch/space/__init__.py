"""The search space: mutation, random cells and automatic gate ablations.

Every operation takes an explicit ``random.Random`` and returns valid cells
(nevergrad's ``Parameter.mutate``: the space owns its variation).
"""

from archsearch.space.gates import Gate, ablations, find_gates, forget_bias, remove_gate
from archsearch.space.mutate import Mutant, MutationFailed, mutate
from archsearch.space.random_cell import random_cell

__all__ = [
    "Gate",
    "Mutant",
    "MutationFailed",
    "ablations",
    "find_gates",
    "forget_bias",
    "mutate",
    "random_cell",
    "remove_gate",
]
