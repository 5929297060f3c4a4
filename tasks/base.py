"""The task contract: configuration, batches and the ``Task`` base class.

A task owns its data (generated or loaded), hands out batches, and scores a
model's logits. Every task shares the knobs of ``TaskConfig``; a family adds
its own by subclassing it. Presets are named sets of knob values
(``smoke``, ``quick``, ``paper``) that each task declares in ``PRESETS``.

Shapes are time-major throughout: ``inputs`` is ``[T, B]`` (token ids) or
``[T, B, 88]`` (piano rolls), ``logits`` is ``[T, B, n_outputs]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from archsearch.direction import Direction

SPLITS = ("train", "valid", "test")
LR_SCHEDULES = ("plateau", "linear", "cosine")
INITS = ("scaled", "nasbench")


class TaskError(ValueError):
    """A bad preset, knob, knob value or split; the message lists the valid ones."""


@dataclass(frozen=True)
class TaskConfig:
    """Knobs every task has. Each preset sets them all; see the task files for values.

    seq_len: characters per example (arith, xml: the padded maximum) or steps per
        window (ptb, music: truncated-BPTT / chunk length).
    batch_size: sequences per batch (train and eval).
    hidden_size: the model's cell size.
    train_steps: training budget in optimiser steps.
    eval_every: optimiser steps between validation passes.
    patience: validation passes without improvement before early stopping.
    dropout: dropout rate the model should apply (non-recurrent connections).
    weight_drop: DropConnect rate on each cell's recurrent weights in training
        (``archsearch.compile.layer``), NAS-Bench-NLP's ``wdrop`` (0.5 there).
    n_train, n_valid, n_test: examples per split for generated tasks; a cap for
        corpora (tokens for ptb, pieces for music), None = the whole split.
    eval_batches: cap on batches per evaluation pass, None = a full pass.
    time_budget: wall-clock seconds for a training run, None = no limit.
    lr_schedule: how the learning rate moves during a run. "plateau" (the
        study's): multiplied by the harness's decay factor after a validation
        pass without improvement. "linear" / "cosine": from the sampled rate
        down to zero at ``train_steps`` (no plateau decay): with a fixed budget
        every cell ends annealed, so a cheap run orders cells more as a long
        one does (see results/fidelity/).
    activation_reg, temporal_reg: AWD-LSTM's activation (alpha * mean f^2) and
        temporal (beta * mean (f_t - f_{t-1})^2) penalties on the top layer's
        outputs f, as NAS-Bench-NLP trained with (alpha 2, beta 1); 0 = off.
        They penalise cells whose state grows without bound.
    warmup_steps: steps over which the learning rate rises linearly from 0
        (any schedule); Adam's first steps are its largest, and they blow up
        cells with unbounded state before they learn anything.
    init: "scaled" (the compiler's rule with the sampled ``init_scale``) or
        "nasbench": NAS-Bench-NLP's (every cell parameter ~ U(-1/sqrt(H),
        1/sqrt(H)), embedding and head weights ~ U(-0.1, 0.1)), for comparing
        with their numbers.
    eval_carry: for a stateful task (ptb), whether an evaluation pass carries the
        state from window to window (the usual way) or starts each window afresh.
        A cheap run can leave a cell whose state is only held in check by the
        training updates (no squashing on its recurrent path); carried over a
        whole split its state then overflows, and a cell that full training
        makes stable scores as diverged. Training always carries the state.
    diverged_retry: a trial whose training diverges is trained once more from
        scratch at its learning rate divided by this factor (None = no retry). A
        cell that only trains below the sampled rate is then ranked by what it
        learns, not dropped as the worst: at a fixed cheap budget one such cell
        decided much of PTB's rank correlation (results/fidelity/). Only diverged
        trials pay for it; the trial keeps its sampled settings (so it still pairs
        with other cells') and records the rate it used (metrics "retry_lr").
    """

    seq_len: int = 64
    batch_size: int = 32
    hidden_size: int = 128
    train_steps: int = 1000
    eval_every: int = 100
    patience: int = 5
    dropout: float = 0.0
    weight_drop: float = 0.0
    n_train: int | None = None
    n_valid: int | None = None
    n_test: int | None = None
    eval_batches: int | None = None
    time_budget: float | None = None
    lr_schedule: str = "plateau"
    activation_reg: float = 0.0
    temporal_reg: float = 0.0
    warmup_steps: int = 0
    init: str = "scaled"
    eval_carry: bool = True
    diverged_retry: float | None = None

    def __post_init__(self) -> None:
        for name in ("seq_len", "batch_size", "hidden_size", "train_steps", "eval_every"):
            _check(self, name, getattr(self, name) >= 1, "an integer >= 1")
        _check(self, "patience", self.patience >= 0, "an integer >= 0")
        for name in ("dropout", "weight_drop"):
            _check(self, name, 0.0 <= getattr(self, name) < 1.0, "in [0, 1)")
        for name in ("n_train", "n_valid", "n_test", "eval_batches"):
            value = getattr(self, name)
            _check(self, name, value is None or value >= 1, "None or an integer >= 1")
        _check(self, "time_budget", self.time_budget is None or self.time_budget > 0, "None or > 0")
        _check(self, "lr_schedule", self.lr_schedule in LR_SCHEDULES, f"one of {LR_SCHEDULES}")
        _check(self, "warmup_steps", self.warmup_steps >= 0, "an integer >= 0")
        _check(self, "init", self.init in INITS, f"one of {INITS}")
        _check(self, "eval_carry", isinstance(self.eval_carry, bool), "True or False")
        retry = self.diverged_retry
        _check(self, "diverged_retry", retry is None or retry > 1, "None or a number > 1")
        for name in ("activation_reg", "temporal_reg"):
            _check(self, name, getattr(self, name) >= 0, "a number >= 0")


def _check(config: Any, name: str, ok: bool, what: str) -> None:
    if not ok:
        raise TaskError(
            f"{type(config).__name__}.{name} must be {what}, got {getattr(config, name)!r}"
        )


def make_config(cls: type[TaskConfig], presets: dict[str, dict], preset: str, overrides: dict):
    """The preset's knob values with ``overrides`` applied, validated."""
    if preset not in presets:
        raise TaskError(f"unknown preset {preset!r}; valid presets: {', '.join(presets)}")
    knobs = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(overrides) - set(knobs))
    if unknown:
        raise TaskError(f"unknown knob(s) {', '.join(unknown)}; valid knobs: {', '.join(knobs)}")
    try:
        return cls(**{**presets[preset], **overrides})
    except TypeError as exc:  # a comparison with a value of the wrong type
        raise TaskError(f"bad knob value in {overrides!r}: {exc}") from exc


@dataclass
class Batch:
    """One batch, time-major.

    inputs: [T, B] int64 token ids, or [T, B, 88] float32 rolls.
    targets: [T, B] int64, or [T, B, 88] float32.
    mask: [T, B] bool, the positions that are scored.
    loss_mask: [T, B] bool, the positions the training loss covers (often ``mask``).
    reset: True when the streams start afresh (a stateful model drops its state).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    loss_mask: torch.Tensor
    reset: bool = True


class Task:
    """Base class: one configured task with its data. Subclasses fill in the data parts."""

    name: str
    family: ClassVar[str]
    metric: ClassVar[str]
    direction: ClassVar[Direction]  # which way the metric improves (archsearch.direction)
    input_kind: ClassVar[str]
    stateful: ClassVar[bool] = False
    config_class: ClassVar[type[TaskConfig]] = TaskConfig
    PRESETS: ClassVar[dict[str, dict]]
    n_inputs: int
    n_outputs: int

    def __init__(self, name: str, config: TaskConfig, *, seed: int = 0) -> None:
        self.name = name
        self.config = config
        self.seed = seed

    @classmethod
    def presets_for(cls, **fixed: Any) -> dict[str, dict]:
        """Preset knob values for this class (``fixed``: registered arguments, e.g. a dataset)."""
        return cls.PRESETS

    # --- data: subclasses implement -------------------------------------------
    def train_batches(self, seed: int) -> Iterator[Batch]:
        """Endless training batches, reshuffled each epoch with ``seed``."""
        raise NotImplementedError

    def eval_batches(self, split: str) -> Iterator[Batch]:
        """One deterministic pass over ``split`` ("valid" or "test"), capped by
        ``config.eval_batches``."""
        raise NotImplementedError

    def split_sizes(self) -> dict[str, dict[str, int]]:
        """{split: {"sequences": n, "tokens": n}} for the loaded data."""
        raise NotImplementedError

    def example_keys(self, split: str) -> set | None:
        """Identities of the examples of ``split`` (to check splits are disjoint), or None
        where the corpus fixes its own split (ptb)."""
        return None

    # --- scoring: shared by token tasks; music overrides ----------------------
    def make_head(self, in_features: int) -> torch.nn.Module:
        """The output head the model ends in (``tasks.heads``): a linear map by default."""
        from tasks.heads import LinearHead

        return LinearHead(self, in_features)

    def loss(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Mean cross-entropy over ``batch.loss_mask`` positions (a scalar)."""
        logits = logits[batch.loss_mask]  # (N, V)
        return torch.nn.functional.cross_entropy(logits, batch.targets[batch.loss_mask])

    def stats(self, logits: torch.Tensor, batch: Batch) -> dict[str, float]:
        """Sums over the scored positions: correct (argmax hits), count, nll_sum (nats)."""
        with torch.no_grad():
            scored = logits[batch.mask].float()  # (N, V)
            targets = batch.targets[batch.mask]
            nll = torch.nn.functional.cross_entropy(scored, targets, reduction="sum")
            correct = (scored.argmax(-1) == targets).sum()
        return {"correct": float(correct), "count": float(targets.numel()), "nll_sum": float(nll)}

    def summarize(self, stats: dict[str, float]) -> dict[str, float]:
        """Accuracy and mean NLL from summed ``stats`` (the primary key is ``self.metric``)."""
        count = max(stats["count"], 1.0)
        return {"accuracy": stats["correct"] / count, "nll": stats["nll_sum"] / count}

    # --- description -----------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """A JSON-able summary: identity, metric, split sizes and the config's knobs."""
        out: dict[str, Any] = {
            "name": self.name,
            "family": self.family,
            "metric": self.metric,
            "higher_is_better": self.direction.maximize,
            "input_kind": self.input_kind,
            "stateful": self.stateful,
            "n_inputs": self.n_inputs,
            "n_outputs": self.n_outputs,
            "splits": self.split_sizes(),
        }
        out["keys" if self.input_kind == "rolls" else "vocab"] = self.n_inputs
        out.update(dataclasses.asdict(self.config))
        return out

    def _check_split(self, split: str) -> None:
        if split not in ("valid", "test"):
            raise TaskError(f"unknown eval split {split!r}; valid splits: valid, test")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.config}>"
