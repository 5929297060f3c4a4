"""Run evaluations: in this process, or on Ray workers (a local instance or a cluster).

This is the only module that knows Ray. An executor takes ``Proposal``s and
gives back ``Finished`` results; the driver keeps as many in flight as
``capacity`` allows. Cells travel as text and compile in the worker (scripted
modules do not pickle). Whatever goes wrong in a worker (an exception, a
killed process after its retries, a time limit) comes back as a result with a
``failed`` or ``timeout`` trial, never as an exception in the driver.
"""

from __future__ import annotations

import os
import socket
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from archsearch.search.base import Proposal


@dataclass(frozen=True)
class EvalOptions:
    """How every evaluation of a search runs (the same for all workers)."""

    preset: str = "quick"
    space: str = "jozefowicz"
    sampler: str = "random"
    pruner: str | None = None
    data_seed: int = 0
    threads: int = 1
    backend: str = "torchscript"
    overrides: dict[str, Any] = field(default_factory=dict)  # task knobs
    fixed: dict[str, Any] = field(default_factory=dict)  # hyperparameters not sampled


@dataclass
class Finished:
    """A finished evaluation as the driver records it."""

    proposal: Proposal
    trials: list[dict[str, Any]]
    metric: float | None  # best validation metric, None if no trial finished
    higher_is_better: bool
    worker: str
    seconds: float


def evaluate_proposal(proposal: dict[str, Any], options: EvalOptions) -> dict[str, Any]:
    """Worker side: evaluate one proposal; returns plain data (JSON-able)."""
    import torch

    from archsearch.evaluate import evaluate
    from archsearch.train import TrainSettings

    device = "cuda" if torch.cuda.is_available() and _gpu_assigned() else "cpu"
    start = time.monotonic()
    evaluation = evaluate(
        proposal["cell_text"],
        proposal["task"],
        preset=options.preset,
        trials=proposal["trials"],
        space=options.space,
        sampler=options.sampler,
        pruner=options.pruner,
        seed=proposal["seed"],
        data_seed=options.data_seed,
        fixed=options.fixed,
        overrides=options.overrides,
        threads=options.threads,
        settings=TrainSettings(backend=options.backend, device=device),
    )
    best = evaluation.best
    return {
        "trials": [t.to_dict() for t in evaluation.trials],
        "metric": None if best is None else best.metric_valid,
        "higher_is_better": evaluation.higher_is_better,
        "worker": worker_name(),
        "seconds": time.monotonic() - start,
    }


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gpu_assigned() -> bool:
    try:
        import ray

        return ray.is_initialized() and bool(ray.get_gpu_ids())
    except Exception:  # outside Ray, a visible GPU is ours
        return True


def failure(proposal: Proposal, status: str, error: str, higher_is_better: bool) -> Finished:
    """A result standing for an evaluation that could not finish (one trial row)."""
    now = time.time()
    trial = {
        "trial": 0,
        "params": {},
        "status": status,
        "metric_valid": None,
        "metric_test": None,
        "metrics": {},
        "steps": 0,
        "seconds": 0.0,
        "n_params": 0,
        "seed": proposal.seed,
        "error": error,
        "started_at": now,
        "finished_at": now,
    }
    return Finished(proposal, [trial], None, higher_is_better, "", 0.0)


def to_finished(proposal: Proposal, data: dict[str, Any]) -> Finished:
    trials = [{**t, "trial": i, "worker": data["worker"]} for i, t in enumerate(data["trials"])]
    return Finished(
        proposal, trials, data["metric"], data["higher_is_better"], data["worker"], data["seconds"]
    )


class Executor(ABC):
    """Runs evaluations; ``capacity`` is how many may be in flight at once."""

    capacity: int = 1

    def __init__(self, options: EvalOptions, directions: dict[str, bool]) -> None:
        self.options = options
        self.directions = directions  # task -> higher is better, for failure results

    @abstractmethod
    def submit(self, proposal: Proposal) -> None: ...

    @abstractmethod
    def wait(self, timeout: float) -> list[Finished]:
        """Results finished since the last call (waits up to ``timeout`` for one)."""

    @property
    @abstractmethod
    def in_flight(self) -> int: ...

    def shutdown(self) -> None:
        pass


class InProcessExecutor(Executor):
    """One evaluation at a time, in this process: for tests and debugging."""

    capacity = 1

    def __init__(self, options: EvalOptions, directions: dict[str, bool]) -> None:
        super().__init__(options, directions)
        self._queue: list[Proposal] = []

    def submit(self, proposal: Proposal) -> None:
        self._queue.append(proposal)

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def wait(self, timeout: float) -> list[Finished]:
        if not self._queue:
            return []
        proposal = self._queue.pop(0)
        try:
            return [to_finished(proposal, evaluate_proposal(proposal.to_dict(), self.options))]
        except Exception as error:  # evaluate itself failed (e.g. a task's data is missing)
            higher = self.directions.get(proposal.task, True)
            return [failure(proposal, "failed", f"{type(error).__name__}: {error}", higher)]
