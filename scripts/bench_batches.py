"""How much of a training step goes into making its batch, per task at a preset.

For each task: build it (timed: data generation or cache load), then time
``next()`` on its training generator against a full training step (forward,
backward, SGD update) of a plain model with the preset's sizes: an embedding
(tokens) or a linear layer (rolls), a one-layer ``torch.nn.LSTM`` of
``hidden_size``, a linear head, and ``task.loss``. One thread, a warm-up,
then the median over ``--steps`` steps. The batch share should stay under 5%.

    python scripts/bench_batches.py [--preset quick] [--steps 40] [task ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import tasks


class Plain(torch.nn.Module):
    """input layer -> LSTM -> linear head; logits (T, B, n_outputs)."""

    def __init__(self, task: tasks.Task) -> None:
        super().__init__()
        size = task.config.hidden_size
        if task.input_kind == "tokens":
            self.embed: torch.nn.Module = torch.nn.Embedding(task.n_inputs, size)
        else:
            self.embed = torch.nn.Linear(task.n_inputs, size)
        self.rnn = torch.nn.LSTM(size, size)
        self.head = torch.nn.Linear(size, task.n_outputs)

    def forward(self, inputs, state=None):
        out, state = self.rnn(self.embed(inputs), state)  # (T, B, H)
        return self.head(out), state


def bench(name: str, preset: str, steps: int, warmup: int = 5) -> dict[str, float]:
    start = time.perf_counter()
    task = tasks.get(name, preset=preset)
    build = time.perf_counter() - start
    model = Plain(task)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = task.train_batches(seed=0)
    state = None
    batch_times, step_times = [], []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        batch = next(batches)
        t1 = time.perf_counter()
        if not task.stateful or batch.reset:
            state = None
        logits, state = model(batch.inputs, state)
        loss = task.loss(logits, batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if task.stateful:
            state = tuple(s.detach() for s in state)
        t2 = time.perf_counter()
        if i >= warmup:
            batch_times.append(t1 - t0)
            step_times.append(t2 - t1)
    batch_ms = 1000 * statistics.median(batch_times)
    step_ms = 1000 * statistics.median(step_times)
    return {"build_s": build, "batch_ms": batch_ms, "step_ms": step_ms,
            "share": 100 * batch_ms / (batch_ms + step_ms)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=tasks.names())
    parser.add_argument("--preset", default="quick", choices=tasks.PRESETS)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"preset {args.preset}, torch {torch.__version__}, 1 thread, median of {args.steps}")
    print(f"{'task':<12} {'build s':>8} {'batch ms':>9} {'step ms':>9} {'share %':>8}")
    for name in args.names:
        row = bench(name, args.preset, args.steps)
        print(f"{name:<12} {row['build_s']:>8.2f} {row['batch_ms']:>9.3f} {row['step_ms']:>9.2f}"
              f" {row['share']:>8.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
