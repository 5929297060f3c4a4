"""Rungs: a search spends its budget in steps of training length, as successive halving does.

With ``count`` rungs, reduction factor ``eta`` and the top rung's share ``top_share`` of
the preset, rung ``r`` (0 = cheapest) trains

    steps(r) = round(train_steps * top_share * eta ** (r - (count - 1)))

of the preset's ``train_steps``: the top rung is ``top_share`` of the preset (1: the
preset itself), each rung below is ``eta`` times shorter. Validation passes
(``eval_every``) and the learning-rate warm-up shrink with it, so every rung sees the
same number of validation passes and the same share of warm-up.

Every candidate starts at rung 0. Of the cells that have completed rung ``r`` on every
task, the best ``floor(n_r / eta)`` by score are promoted to rung ``r + 1`` as results
arrive (asynchronous successive halving, Li et al. 2020), as Optuna's
``HyperbandPruner`` (eta 3) and Ray Tune's ASHA (eta 4) do with epochs. Being
asynchronous, a cell promoted early stays promoted when later cells outrank it.

A rung is nothing but knob overrides of the task (``knobs``): a promoted evaluation is an
ordinary evaluation, stored, resumed and reused like any other, with its rung recorded.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

# Knobs that scale with a rung's training length.
SCALED_KNOBS = ("train_steps", "eval_every", "warmup_steps")


@dataclass(frozen=True)
class Rungs:
    """``count`` rungs, each ``eta`` times longer than the one below; the top trains
    ``top_share`` of the preset's steps."""

    count: int = 1
    eta: int = 3
    top_share: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"rungs must be an integer >= 1, not {self.count!r}")
        if isinstance(self.eta, bool) or not isinstance(self.eta, int) or self.eta < 2:
            raise ValueError(f"eta must be an integer >= 2, not {self.eta!r}")
        share = self.top_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise ValueError(f"top_share must be a number in (0, 1], not {share!r}")

    @property
    def top(self) -> int:
        return self.count - 1

    def fraction(self, rung: int) -> float:
        """The share of the preset's training steps that rung ``rung`` trains."""
        if not 0 <= rung < self.count:
            raise ValueError(f"rung {rung} is not one of 0..{self.top}")
        return self.top_share * float(self.eta) ** (rung - self.top)

    def knobs(self, task: str, preset: str, overrides: dict[str, Any], rung: int) -> dict[str, Any]:
        """The task knob overrides that train ``task`` at ``rung`` (``overrides`` at the top)."""
        if self.fraction(rung) == 1:
            return dict(overrides)
        base = _resolved(task, preset, json.dumps(overrides, sort_keys=True))
        share = self.fraction(rung)
        scaled = {
            "train_steps": max(1, round(base["train_steps"] * share)),
            "eval_every": max(1, round(base["eval_every"] * share)),
            "warmup_steps": round(base["warmup_steps"] * share),
        }
        return {**overrides, **scaled}

    def quota(self, ranked: int) -> int:
        """How many of the ``ranked`` cells complete at a rung belong to its promoted best."""
        return ranked // self.eta

    def promotable(self, ranked: list[str], promoted: set[str]) -> list[str]:
        """Of ``ranked`` (the cells complete at one rung, best first), those to promote now:
        the best ``quota(len(ranked))`` not yet promoted."""
        return [cell for cell in ranked[: self.quota(len(ranked))] if cell not in promoted]

    def describe(self) -> str:
        if self.count == 1 and self.top_share == 1:
            return "one rung (the preset)"
        shares = ", ".join(_share(self.fraction(r)) for r in range(self.count))
        promoted = f", the best 1/{self.eta} promoted" if self.count > 1 else ""
        return f"{self.count} rung(s) of the preset's steps ({shares}){promoted}"


@functools.cache
def _resolved(task: str, preset: str, overrides: str) -> dict[str, Any]:
    import tasks

    config = tasks.task_config(task, preset=preset, **json.loads(overrides))
    return {name: getattr(config, name) for name in SCALED_KNOBS}


def _share(fraction: float) -> str:
    return "1" if fraction == 1 else f"1/{round(1 / fraction)}"
