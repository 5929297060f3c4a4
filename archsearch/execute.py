"""Run evaluations: in this process, or on Ray workers (a local instance or a cluster).

This is the only module that knows Ray. An executor takes ``Proposal``s and
gives back ``Finished`` results; the driver keeps as many in flight as
``capacity`` allows. Cells travel as text and compile in the worker (scripted
modules do not pickle). Whatever goes wrong in a worker (an exception, a
killed process after its retries, a time limit) comes back as a result with a
``failed`` or ``timeout`` trial, never as an exception in the driver.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archsearch.records import failed_trial
from archsearch.rungs import Rungs
from archsearch.search.base import Proposal
from archsearch.setting import EvalSetting, TaskSetting

if TYPE_CHECKING:
    from archsearch.spec import RunSpec


@dataclass(frozen=True)
class EvalOptions:
    """How every evaluation of a run goes (the same for all workers): its spec's evaluation
    setting and rungs, with what the machine adds (threads, a time limit)."""

    setting: EvalSetting  # RunSpec.evaluation: checked, with the run's data seed
    rungs: Rungs  # how a proposal's rung changes its task's knobs
    threads: int = 1  # torch threads per evaluation
    # Seconds an evaluation may train (Resources.time_limit), kept by the training loop
    # itself; None where the executor enforces the limit (Ray cancels the task).
    time_limit: float | None = None

    @classmethod
    def of(cls, spec: RunSpec, *, threads: int = 1, time_limit: float | None = None) -> EvalOptions:
        """The evaluation options of ``spec``, with ``threads`` torch threads per evaluation."""
        return cls(spec.evaluation, spec.rung_plan, threads, time_limit)

    def resolve(self, task: str, rung: int = 0) -> TaskSetting:
        """The setting of an evaluation of ``task`` at ``rung``."""
        return self.setting.resolve(task, self.rungs, rung)


@dataclass
class Finished:
    """A finished evaluation as the driver records it."""

    proposal: Proposal
    trials: list[dict[str, Any]]
    metric: float | None  # best validation metric, None if no trial finished
    worker: str
    seconds: float
    reused_from: str | None = None  # the run whose committed evaluation this copies
    setting: str | None = None  # the digest of the setting the worker trained under


def evaluate_proposal(proposal: dict[str, Any], options: EvalOptions) -> dict[str, Any]:
    """Worker side: evaluate one proposal; returns plain data (JSON-able)."""
    import torch

    from archsearch.evaluation import evaluate
    from archsearch.train import TrainSettings

    device = "cuda" if torch.cuda.is_available() and _gpu_assigned() else "cpu"
    start = time.monotonic()
    deadline = None if options.time_limit is None else start + options.time_limit
    resolved = options.resolve(proposal["task"], proposal.get("rung", 0))
    trials = resolved.setting.replace(trials=proposal["trials"])
    evaluation = evaluate(
        proposal["cell_text"],
        dataclasses.replace(resolved, setting=trials),
        seed=proposal["seed"],
        repeat=proposal.get("repeat", 0),
        threads=options.threads,
        settings=TrainSettings(backend=trials.backend, device=device, deadline=deadline),
    )
    best = evaluation.best
    return {
        "trials": [t.to_dict() for t in evaluation.trials],
        "metric": None if best is None else best.metric_valid,
        "worker": worker_name(),
        "seconds": time.monotonic() - start,
        "setting": evaluation.setting,  # the digest of what it trained under
    }


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gpu_assigned() -> bool:
    try:
        import ray

        return ray.is_initialized() and bool(ray.get_gpu_ids())
    except Exception:  # outside Ray, a visible GPU is ours
        return True


def failure(proposal: Proposal, status: str, error: str) -> Finished:
    """A result standing for an evaluation that could not finish (one trial row)."""
    trial = failed_trial(status=status, error=error, seed=proposal.seed)
    return Finished(proposal, [trial], None, "", 0.0)


def to_finished(proposal: Proposal, data: dict[str, Any]) -> Finished:
    trials = [{**t, "trial": i, "worker": data["worker"]} for i, t in enumerate(data["trials"])]
    return Finished(
        proposal, trials, data["metric"], data["worker"], data["seconds"], None, data.get("setting")
    )


class Executor(ABC):
    """Runs evaluations; ``capacity`` is how many may be in flight at once."""

    capacity: int = 1

    def __init__(self, options: EvalOptions) -> None:
        self.options = options

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

    def __init__(
        self,
        options: EvalOptions,
        *,
        evaluate: Callable[[dict, EvalOptions], dict] = evaluate_proposal,
    ) -> None:
        super().__init__(options)
        self._evaluate = evaluate
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
            return [to_finished(proposal, self._evaluate(proposal.to_dict(), self.options))]
        except Exception as error:  # evaluate itself failed (e.g. a task's data is missing)
            return [failure(proposal, "failed", f"{type(error).__name__}: {error}")]
