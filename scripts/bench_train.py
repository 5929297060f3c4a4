"""Training throughput of the compiled LSTM against torch.nn.LSTM in the same model.

For each task at the ``quick`` preset (shortened to ``--steps`` steps), trains
the task model with the compiled zoo LSTM and with torch.nn.LSTM in its place,
in ``--repeats`` pairs of runs (alternating, the order too), on one thread, and
prints time steps per CPU second for both, the spread of the ratio over pairs
(CPU time, and wall clock, which a loaded machine blurs), and the share of wall
time the training loop spends outside the forward and backward passes of model
and loss (data, optimiser, clipping, validation bookkeeping, model set-up).
Target for that share: under 10%. (The compiled zoo LSTM runs on torch's own
kernel, ``compile/fused.py``: what remains is the layer's own overhead.)

    python scripts/bench_train.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import tasks
from archsearch import model as model_module
from archsearch import zoo
from archsearch.train import TrainSettings, train_trial

PARAMS = {"lr": 1.0, "init_scale": 1.0, "layers": 1, "max_grad_norm": 5.0}


class NativeLSTM(nn.Module):
    """torch.nn.LSTM behind the compiled layer's interface (state: a (h, c) tuple of [B, H])."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(hidden_size, hidden_size)

    def forward(self, x, state=None):
        hc = None if state is None else (state[0].unsqueeze(0), state[1].unsqueeze(0))
        out, (h, c) = self.lstm(x, hc)
        return out, (h[0], c[0])


class Clock:
    """Wall time inside the model's forward and inside backward passes."""

    def __init__(self) -> None:
        self.inside = 0.0
        self.trained = 0  # time steps (T x B) seen in training mode

    def wrap(self, fn):
        def timed(*args, **kwargs):
            if args and isinstance(args[0], nn.Module) and args[0].training:
                self.trained += args[1].shape[0] * args[1].shape[1]
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.inside += time.perf_counter() - start

        return timed


def run(task, native: bool) -> tuple[float, float, float]:
    """(time steps per CPU second, per wall second, share outside forward+backward) of a run."""
    clock = Clock()
    original_init = model_module.TaskModel.__init__
    original_forward = model_module.TaskModel.forward
    original_backward = torch.autograd.backward
    original_loss = type(task).loss

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if native:
            self.cells = nn.ModuleList(NativeLSTM(task.config.hidden_size) for _ in self.cells)

    model_module.TaskModel.__init__ = init
    model_module.TaskModel.forward = clock.wrap(original_forward)
    torch.autograd.backward = clock.wrap(original_backward)
    type(task).loss = clock.wrap(original_loss)  # the loss's forward is part of the forward pass
    try:
        result = train_trial(
            zoo.get("lstm"), task, PARAMS, optimizer="sgd", seed=0, settings=TrainSettings()
        )
    finally:
        model_module.TaskModel.__init__ = original_init
        model_module.TaskModel.forward = original_forward
        torch.autograd.backward = original_backward
        type(task).loss = original_loss
    assert result.status == "ok", result.error
    cpu = result.metrics["cpu_seconds"]
    return clock.trained / cpu, clock.trained / result.seconds, 1 - clock.inside / result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's budget")
    parser.add_argument("--tasks", default="arith,xml,ptb,music-jsb")
    parser.add_argument("--repeats", type=int, default=2, help="alternating pairs of runs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    budget = "the preset's own budget" if args.steps is None else f"{args.steps} training steps"
    print(
        f"quick preset, {budget}, one thread, {args.repeats} alternating pairs of runs; time "
        "steps per CPU second (process time: robust to a loaded machine) and the ratio "
        "torch / compiled per pair (CPU, then wall clock)"
    )
    head = f"{'task':10s} {'compiled':>10s} {'torch':>10s} {'ratio cpu':>12s} {'ratio wall':>12s}"
    print(f"{head} {'outside fwd+bwd':>16s}")
    for name in args.tasks.split(","):
        knobs = {} if args.steps is None else {"train_steps": args.steps}
        task = tasks.get(name, preset="quick", **knobs)
        run(task, native=False)  # warm-up: scripting, caches
        pairs = []
        for i in range(args.repeats):  # the order alternates too: no pair favours one side
            if i % 2:
                theirs_run = run(task, native=True)
                pairs.append((run(task, native=False), theirs_run))
            else:
                pairs.append((run(task, native=False), run(task, native=True)))
        cpu = [theirs[0] / ours[0] for ours, theirs in pairs]
        wall = [theirs[1] / ours[1] for ours, theirs in pairs]
        ours = statistics.median(p[0][0] for p in pairs)
        theirs = statistics.median(p[1][0] for p in pairs)
        share = statistics.median(p[0][2] for p in pairs)
        print(
            f"{name:10s} {ours:>10.0f} {theirs:>10.0f} {min(cpu):>5.2f}-{max(cpu):<6.2f} "
            f"{min(wall):>5.2f}-{max(wall):<6.2f} {100 * share:>15.1f}%"
        )


if __name__ == "__main__":
    main()
