"""Train one (cell, task, hyperparameters) and measure it. Knows nothing of Ray or Optuna.

The loop, for a step budget ``train_steps`` (and an optional ``time_budget``):

1. take the next training batch; for a stateful task (PTB) carry the state
   from the previous window, detached (truncated back-propagation);
2. forward, the head's loss plus the task's activation penalties
   (``alpha * mean f^2 + beta * mean (f_t - f_{t-1})^2`` on the top layer's
   outputs ``f``, when the preset sets them), backward, clip the gradient norm
   to ``max_grad_norm``, one optimiser step (SGD or Adam, as the space names);
   the learning rate follows the preset's ``lr_schedule``: constant, or from
   the sampled rate down to zero at ``train_steps`` (``linear``:
   ``lr * (1 - t/T)``; ``cosine``: ``lr * (1 + cos(pi t/T)) / 2``);
3. every ``eval_every`` steps measure the validation metric; keep the best
   parameters; with the ``plateau`` schedule, when a pass does not improve,
   multiply the learning rate by ``lr_decay``; after ``patience`` passes
   without improvement stop early; ``report`` may ask to stop (pruning).

A loss that becomes NaN, infinite or larger than ``max_loss`` ends the run
as ``diverged``; an exception
ends it as ``failed`` with its message. Neither raises: both are results. The
test metric is measured with the best validation parameters.

Besides the test metrics, a trial's ``metrics`` keep what ranks cells other than
its best validation metric (``archsearch.fidelity.signals`` reads them):
``valid_curve``, the ``[step, value]`` of every validation pass;
``train_loss_tail``, the mean training loss over the last quarter of the steps
run; and ``state_growth``, how the trained model's state grows on a sequence
``STATE_GROWTH_WINDOWS`` training windows long (see ``state_growth``).
"""

from __future__ import annotations

import copy
import itertools
import math
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from archsearch.cell import Cell
from archsearch.defaults import DEFAULT_BACKEND
from archsearch.model import State, TaskModel, count_parameters, detach_state
from archsearch.records import STATUSES, TrialResult  # noqa: F401  (the one trial record)

# Called with (step, validation metric); returns True to stop the run (pruned).
Reporter = Callable[[int, float], bool]
# Called with (step, total steps, training loss) now and then, for progress bars.
StepCallback = Callable[[int, int, float], None]


@dataclass(frozen=True)
class TrainSettings:
    """Training choices that are the harness's, not the preset's or the space's."""

    lr_decay: float = 0.5  # learning rate factor after a validation pass without improvement
    # A loss above this counts as divergence, as NaN and infinity do: with saturating
    # activations a blown-up model can keep a finite loss (1e30 and growing) forever.
    max_loss: float = 1e6
    log_every: int = 10  # steps between progress callbacks
    backend: str = DEFAULT_BACKEND
    device: str = "cpu"
    # time.monotonic() past which the trial stops as "timeout": the evaluation's time
    # limit when it runs in process (on Ray the executor cancels it instead).
    deadline: float | None = None


# The stability probe's sequence, in training windows: long enough that a state held in
# check only by training's short windows shows its growth (NAS-Bench-NLP's unbounded cells).
STATE_GROWTH_WINDOWS = 10
# Recorded for a state that overflows (inf or NaN) on that sequence: JSON has no infinity.
STATE_OVERFLOW = 1e30
TAIL_SHARE = 0.25  # train_loss_tail: the last quarter of the steps run


class _Diverged(Exception):
    pass


class _TimedOut(Exception):
    pass


def train_trial(
    cell: Cell,
    task,
    params: dict[str, Any],
    *,
    optimizer: str,
    seed: int,
    settings: TrainSettings = TrainSettings(),
    report: Reporter | None = None,
    on_step: StepCallback | None = None,
) -> TrialResult:
    """Train ``cell`` on ``task`` with ``params`` (lr, init_scale, layers, max_grad_norm)."""
    result = TrialResult(params=dict(params), seed=seed, started_at=time.time())
    start, cpu_start = time.monotonic(), time.process_time()
    try:
        _run(cell, task, params, optimizer, seed, settings, report, on_step, result, start)
    except _Diverged:
        result.status = "diverged"
    except _TimedOut:
        result.status = "timeout"
        result.error = "stopped at the evaluation's time limit"
    except Exception as error:  # a failed run is a result, not a crash of the search
        result.status = "failed"
        result.error = _describe(error)
    result.seconds = time.monotonic() - start
    # CPU time of this process: what a budget costs, whatever else the machine runs.
    result.metrics["cpu_seconds"] = time.process_time() - cpu_start
    result.finished_at = time.time()
    return result


def _run(cell, task, params, optimizer_name, seed, settings, report, on_step, result, start):
    config = task.config
    device = torch.device(settings.device)
    torch.manual_seed(seed)
    model = TaskModel(
        cell,
        input_kind=task.input_kind,
        n_inputs=task.n_inputs,
        head=task.make_head(config.hidden_size),
        hidden_size=config.hidden_size,
        layers=int(params["layers"]),
        dropout=config.dropout,
        weight_drop=config.weight_drop,
        init_scale=float(params["init_scale"]),
        init=config.init,
        backend=settings.backend,
    ).to(device)
    result.n_params = count_parameters(model)
    optimizer = _optimizer(optimizer_name, model, float(params["lr"]))
    schedule = _schedule(optimizer, config.lr_schedule, config.train_steps, config.warmup_steps)
    max_norm = float(params["max_grad_norm"])

    best_valid: float | None = None
    best_state = None
    stale_passes = 0
    state: State | None = None
    batches = task.train_batches(seed)
    parameters = [p for p in model.parameters() if p.requires_grad]
    curve: list[list[float]] = []  # [step, validation metric] per pass
    losses: deque[float] = deque(maxlen=max(1, math.ceil(TAIL_SHARE * config.train_steps)))
    step = 0
    model.train()
    for step in range(1, config.train_steps + 1):
        batch = _to(next(batches), device)
        if task.stateful and not getattr(batch, "reset", False):
            state = detach_state(state)
        else:
            state = None
        features, state = model(batch.inputs, state)
        loss = model.head.loss(features, batch)
        value = loss.item()  # one read of the loss a step (a sync on GPU)
        loss = loss + _penalties(features, config)
        if not math.isfinite(value) or value > settings.max_loss:
            raise _Diverged
        losses.append(value)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        optimizer.step()
        if schedule is not None:
            schedule.step()
        result.steps = step
        if on_step is not None and (step % settings.log_every == 0 or step == config.train_steps):
            on_step(step, config.train_steps, value)

        out_of_time = (
            config.time_budget is not None and time.monotonic() - start > config.time_budget
        )
        if settings.deadline is not None and time.monotonic() > settings.deadline:
            raise _TimedOut
        if step % config.eval_every == 0 or step == config.train_steps or out_of_time:
            valid = measure(model, task, "valid", device)[task.metric]
            if not math.isfinite(valid):
                raise _Diverged
            curve.append([step, float(f"{valid:.6g}")])  # six digits: a compact record
            if task.direction.better(valid, best_valid):
                best_valid, best_state, stale_passes = valid, copy.deepcopy(model.state_dict()), 0
            else:
                stale_passes += 1
                if config.lr_schedule == "plateau":
                    for group in optimizer.param_groups:
                        group["lr"] *= settings.lr_decay
                    if schedule is not None:  # a warm-up's base rates decay with them
                        schedule.base_lrs = [lr * settings.lr_decay for lr in schedule.base_lrs]
            if report is not None and report(step, valid):
                result.status = "pruned"
                break
            if stale_passes >= config.patience:
                break
            model.train()  # measure() left it in evaluation mode
        if out_of_time:
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    result.metric_valid = best_valid
    growth = state_growth(model, task, device)
    test = measure(model, task, "test", device)
    result.metric_test = test[task.metric]
    tail = list(losses)[-max(1, math.ceil(TAIL_SHARE * step)) :]
    result.metrics = {
        **{f"test_{k}": v for k, v in test.items()},
        "valid_curve": curve,
        "train_loss_tail": sum(tail) / len(tail) if tail else None,
        "state_growth": growth,
    }
    if result.status != "pruned" and not math.isfinite(result.metric_test):
        raise _Diverged


@torch.no_grad()
def measure(model: TaskModel, task, split: str, device: torch.device) -> dict[str, float]:
    """The task's metrics on one pass over ``split`` ("valid" or "test")."""
    model.eval()
    totals: dict[str, float] = {}
    state: State | None = None
    for batch in task.eval_batches(split):
        batch = _to(batch, device)
        # The state carries across a pass unless the preset asks for a fresh one per window.
        if not task.stateful or getattr(batch, "reset", False) or not task.config.eval_carry:
            state = None
        features, state = model(batch.inputs, state)
        for key, value in model.head.stats(features, batch).items():
            totals[key] = totals.get(key, 0.0) + float(value)
    return task.summarize(totals)


@torch.no_grad()
def state_growth(
    model: TaskModel, task, device: torch.device, windows: int = STATE_GROWTH_WINDOWS
) -> float | None:
    """How much the state grows over ``windows`` validation windows run as one sequence.

    The state is carried from window to window (for PTB, consecutive text), and its
    root-mean-square ``r_k = sqrt(mean s^2)`` over every state tensor is read after each
    window ``k``; the figure is ``r_n / r_1``. A bounded cell (tanh outputs, a forgetting
    LSTM) stays near 1; a state with an unbounded linear path of gain 1 or more
    (``h = h + tanh(...)``) keeps growing, which training's short windows hide. A linear
    path that still contracts (``h = linear(x, h) + tanh(...)`` at its initial weights)
    is not flagged. ``STATE_OVERFLOW`` when the
    state overflows; None with fewer than two windows of one batch size.
    """
    model.eval()
    state: State | None = None
    sizes: list[float] = []
    for batch in itertools.islice(task.eval_batches("valid"), windows):
        batch = _to(batch, device)
        if state is not None and state[0][0].shape[0] != batch.inputs.shape[1]:
            break  # a smaller last batch: the state cannot carry into it
        _, state = model(batch.inputs, state)
        squares = [float(t.double().pow(2).mean()) for layer in state for t in layer]
        sizes.append(math.sqrt(sum(squares) / len(squares)))
    if len(sizes) < 2:
        return None
    if not math.isfinite(sizes[-1]) or sizes[-1] > STATE_OVERFLOW:
        return STATE_OVERFLOW
    return sizes[-1] / max(sizes[0], 1e-12)


def _optimizer(name: str, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; valid: sgd, adam")


def _schedule(optimizer, kind: str, total: int, warmup: int = 0):
    """A per-step learning-rate factor: a linear warm-up over ``warmup`` steps, then
    constant ("plateau": decayed on plateaus by the loop) or annealed to zero at
    ``total`` ("linear", "cosine"). None when there is nothing to schedule."""
    if kind not in ("plateau", "linear", "cosine"):
        raise ValueError(f"unknown lr_schedule {kind!r}; valid: plateau, linear, cosine")
    if kind == "plateau" and not warmup:
        return None

    def factor(step: int) -> float:
        rise = min(1.0, (step + 1) / warmup) if warmup else 1.0
        done = min(step, total) / total
        if kind == "linear":
            return rise * (1.0 - done)
        if kind == "cosine":
            return rise * 0.5 * (1.0 + math.cos(math.pi * done))
        return rise

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _penalties(features: torch.Tensor, config) -> torch.Tensor | float:
    """AWD-LSTM's activation and temporal penalties on the top layer's outputs [T, B, H]."""
    total = 0.0
    if config.activation_reg:
        total = total + config.activation_reg * features.pow(2).mean()
    if config.temporal_reg and features.shape[0] > 1:
        total = total + config.temporal_reg * (features[1:] - features[:-1]).pow(2).mean()
    return total


def _to(batch, device: torch.device):
    if device.type == "cpu":
        return batch
    return type(batch)(
        **{
            k: (v.to(device, non_blocking=True) if torch.is_tensor(v) else v)
            for k, v in vars(batch).items()
        }
    )


def _describe(error: BaseException) -> str:
    """The exception's type and message, and where it was raised (one line)."""
    frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" (at {frame[0].filename}:{frame[0].lineno})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"
