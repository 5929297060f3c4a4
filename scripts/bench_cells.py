"""Every zoo cell and 20 random cells and mutants: speed of the compiled layer, and compile cost.

For each cell, on one CPU thread (T=50, B=32, X=H=128 by default):

- ``compile``: the first call of a never-seen structure: ``compile_cell`` and
  its first forward + backward (generating the code, scripting the loops),
  less one steady forward + backward: what a search pays per new cell (a
  structure met before, like ``lstm_b`` after ``lstm``, reuses its program);
- ``fwd+bwd``: the median forward + backward of the default (torchscript)
  layer, thread CPU time, over ``--reps`` reps interleaved with the eager
  backend's (so drift on a loaded machine hits both alike);
- ``ms/GFLOP``: that time per GFLOP of the cell's own work
  (``archsearch.compile.cost``: its linears and element-wise ops, x3 for
  forward + backward);
- ``vs eager``: the median ratio torchscript / eager, rep by rep.

Then the median, min and max of the ratio and of the compile cost.

    python scripts/bench_cells.py                 # about a minute
    python scripts/bench_cells.py --mutants 0 --reps 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from archsearch import zoo
from archsearch.compile import compile_cell
from archsearch.compile.cost import cell_flops
from archsearch.compile.program import is_cached
from archsearch.compile.samples import search_cells


def fwd_bwd(layer, x) -> float:
    """Thread CPU seconds of one forward and backward pass."""
    start = time.thread_time()
    out, fin = layer(x)
    (out.sum() + sum(f.sum() for f in fin)).backward()
    return time.thread_time() - start


def measure(cell, args, x) -> dict:
    """One row of the table."""
    cached = is_cached(cell)
    start = time.thread_time()
    ours = compile_cell(cell, args.X, args.H)
    fwd_bwd(ours, x)
    first = time.thread_time() - start
    eager = compile_cell(cell, args.X, args.H, backend="eager")
    eager.load_state_dict(ours.state_dict())
    fwd_bwd(eager, x)
    times, ratios = [], []
    for _ in range(args.reps):
        a, b = fwd_bwd(ours, x), fwd_bwd(eager, x)
        times.append(a)
        ratios.append(a / b)
    steady = statistics.median(times)
    flops = cell_flops(cell, args.X, args.H, args.T, args.B).forward_backward
    return {
        "compile": max(first - steady, 0.0),
        "time": steady,
        "per_gflop": steady / (flops / 1e9),
        "ratio": statistics.median(ratios),
        "fused": ours.fused,
        "cached": cached,
        "linears": len(cell.linears()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-T", type=int, default=50)
    ap.add_argument("-B", type=int, default=32)
    ap.add_argument("-X", type=int, default=128)
    ap.add_argument("-H", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--mutants", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.randn(args.T, args.B, args.X, requires_grad=True)
    cells = [("zoo", zoo.get(n)) for n in zoo.names()]
    cells += [("search", c) for c in search_cells(args.mutants, args.seed)]
    print(
        f"T={args.T} B={args.B} X={args.X} H={args.H}, one thread, thread CPU time, "
        f"reps={args.reps}; torchscript backend (default) vs eager"
    )
    head = f"{'cell':14s} {'kind':6s} {'lin':>3s} {'compile ms':>10s} {'fwd+bwd ms':>10s}"
    print(f"{head} {'ms/GFLOP':>9s} {'vs eager':>8s}")
    rows = []
    for kind, cell in cells:
        row = measure(cell, args, x)
        rows.append(row)
        note = " (torch's kernel)" if row["fused"] else ""
        note += " (structure compiled before: cached)" if row["cached"] else ""
        print(
            f"{cell.name:14s} {kind:6s} {row['linears']:3d} {row['compile'] * 1e3:10.1f} "
            f"{row['time'] * 1e3:10.2f} {row['per_gflop'] * 1e3:9.1f} {row['ratio']:8.2f}{note}"
        )
    new = [r for r in rows if not r["cached"]]
    for label, key, scale, which in (
        ("vs eager", "ratio", 1, rows),
        ("compile ms of a new structure", "compile", 1e3, new),
    ):
        vals = [r[key] * scale for r in which]
        print(
            f"{label}: median {statistics.median(vals):.2f}, min {min(vals):.2f}, "
            f"max {max(vals):.2f} over {len(vals)} cells"
        )


if __name__ == "__main__":
    main()
