"""Benchmark a compiled zoo cell against torch's own layer: forward + backward on CPU.

Runs the two alternately in one process (after a warm-up), rep by rep, so that
drift in the machine's speed hits both alike, and prints for each of ``--runs``
runs the median ratio (ours / torch) over its reps, then the spread over runs.
Each rep is timed twice: wall clock and this thread's CPU time (the latter
leaves out time the scheduler gives to other processes on a loaded machine;
both use one thread). For the LSTM it measures the default layer (a cell that
is exactly the LSTM runs on torch's kernel, ``compile/fused.py``) and the
generated loop (``fused=False``) side by side. The GRU on CPU runs the generated
loop by default (faster there than torch's GRU), so it is measured once, against
``torch.nn.GRU``.

    python scripts/bench_cell.py                      # zoo lstm vs torch.nn.LSTM
    python scripts/bench_cell.py --cell gru --runs 7
    python scripts/bench_cell.py --cell gru --backend eager
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from archsearch import zoo
from archsearch.compile import BACKENDS, compile_cell

REFERENCE = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "tanh": torch.nn.RNN}


def step_time(layer, x: torch.Tensor) -> tuple[float, float]:
    """(wall, thread CPU) seconds for one forward and backward pass."""
    wall, cpu = time.perf_counter(), time.thread_time()
    out = layer(x)[0]
    out.sum().backward()
    return time.perf_counter() - wall, time.thread_time() - cpu


def one_run(layers: dict, x: torch.Tensor, warmup: int, reps: int) -> dict:
    """Median per layer and median ratio to ``torch`` per layer, for both clocks."""
    for _ in range(warmup):
        for layer in layers.values():
            step_time(layer, x)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in layers}
    for _ in range(reps):
        for name, layer in layers.items():
            times[name].append(step_time(layer, x))
    result = {}
    for name, ts in times.items():
        ref = times["torch"]
        result[name] = {
            clock: (
                statistics.median(t[c] for t in ts) * 1e3,
                statistics.median(t[c] / r[c] for t, r in zip(ts, ref, strict=True)),
            )
            for c, clock in enumerate(("wall", "cpu"))
        }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm", choices=sorted(REFERENCE))
    ap.add_argument("--backend", default="torchscript", choices=sorted(BACKENDS))
    ap.add_argument("-T", type=int, default=50)
    ap.add_argument("-B", type=int, default=32)
    ap.add_argument("-X", type=int, default=64)
    ap.add_argument("-H", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cell = zoo.get(args.cell)
    x = torch.randn(args.T, args.B, args.X, requires_grad=True)
    layers = {"ours": compile_cell(cell, args.X, args.H, backend=args.backend)}
    if layers["ours"].fused:
        layers["loop"] = compile_cell(cell, args.X, args.H, backend=args.backend, fused=False)
    layers["torch"] = REFERENCE[args.cell](args.X, args.H)
    print(
        f"cell={args.cell} backend={args.backend} T={args.T} B={args.B} X={args.X} H={args.H} "
        f"threads={args.threads} reps={args.reps} runs={args.runs}; forward + backward, "
        f"median ms and median ratio to {REFERENCE[args.cell].__name__} (wall | thread CPU)"
    )
    names = {"ours": "ours", "loop": "generated loop (fused=False)"}
    ratios: dict[str, dict[str, list[float]]] = {}
    for run in range(args.runs):
        res = one_run(layers, x, args.warmup, args.reps)
        parts = []
        for key in (k for k in layers if k != "torch"):
            (mw, rw), (mc, rc) = res[key]["wall"], res[key]["cpu"]
            ratios.setdefault(key, {"wall": [], "cpu": []})
            ratios[key]["wall"].append(rw)
            ratios[key]["cpu"].append(rc)
            parts.append(f"{names[key]} {mw:.2f} ms ratio {rw:.2f} | {mc:.2f} ms ratio {rc:.2f}")
        (tw, _), (tc, _) = res["torch"]["wall"], res["torch"]["cpu"]
        print(f"run {run + 1}: torch {tw:.2f} | {tc:.2f} ms; " + "; ".join(parts))
    for key, by_clock in ratios.items():
        spread = ", ".join(
            f"{clock} {min(v):.2f}-{max(v):.2f} (median {statistics.median(v):.2f})"
            for clock, v in by_clock.items()
        )
        print(f"spread over {args.runs} runs, {names[key]}: {spread}")


if __name__ == "__main__":
    main()
