"""Benchmark a compiled zoo cell against torch's own layer: forward + backward on CPU.

Runs the two alternately in one process (after a warm-up) so that drift in the
machine's speed hits both alike, and prints both medians and the median ratio
(ours / torch).

    python scripts/bench_cell.py                      # zoo lstm vs torch.nn.LSTM
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


def step_time(layer, x: torch.Tensor) -> float:
    """Seconds for one forward and backward pass."""
    start = time.perf_counter()
    out = layer(x)[0]
    out.sum().backward()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm", choices=sorted(REFERENCE))
    ap.add_argument("--backend", default="torchscript", choices=sorted(BACKENDS))
    ap.add_argument("-T", type=int, default=50)
    ap.add_argument("-B", type=int, default=32)
    ap.add_argument("-X", type=int, default=64)
    ap.add_argument("-H", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    ours = compile_cell(zoo.get(args.cell), args.X, args.H, backend=args.backend)
    ref = REFERENCE[args.cell](args.X, args.H)
    x = torch.randn(args.T, args.B, args.X, requires_grad=True)

    for _ in range(args.warmup):
        step_time(ours, x)
        step_time(ref, x)
    times: dict[str, list[float]] = {"ours": [], "torch": []}
    ratios = []
    for _ in range(args.reps):
        a, b = step_time(ours, x), step_time(ref, x)
        times["ours"].append(a)
        times["torch"].append(b)
        ratios.append(a / b)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(
        f"cell={args.cell} backend={args.backend} T={args.T} B={args.B} X={args.X} H={args.H} "
        f"threads={args.threads} reps={args.reps}"
    )
    print(f"ours  median {med['ours']:.2f} ms (forward + backward)")
    print(f"torch median {med['torch']:.2f} ms ({REFERENCE[args.cell].__name__})")
    print(
        f"ratio ours/torch: median of ratios {statistics.median(ratios):.2f}, "
        f"ratio of medians {med['ours'] / med['torch']:.2f}"
    )


if __name__ == "__main__":
    main()
