"""Speed of compiled cells, side by side in one run: the zoo and 20 search cells, then the
LSTM and the GRU against torch's own layers.

Everything is forward + backward (the loss reads the outputs and the final
states), one CPU thread, thread CPU time, T=50, B=32, X=64, H=128 by default
(a cell that reads its input outside ``linear`` needs X = H, and runs at X=H).

1. **Cells.** For every zoo cell and ``--mutants`` search cells (mutants and
   random cells, ``compile.samples``): the default layer (torchscript; torch's
   kernel for an exact LSTM or GRU) against its eager twin (the same cell and
   weights on the eager backend), rep by rep, and, where the cell is
   LSTM-shaped (two states, like ``torch.nn.LSTM``'s h and c), against
   ``torch.nn.LSTM`` too. Also the compile cost of a new structure (the first
   forward + backward less a steady one) and ms per GFLOP of the cell's own
   work (``compile.cost``). Then the median ratio to the eager twin.
2. **Against torch.** ``--runs`` runs of ``--reps`` interleaved reps of: the
   LSTM through the generated loop (``fused=False``), the GRU as compiled by
   default (on CPU the generated loop, ``compile/fused.py``) and on torch's
   kernel (what it dispatches to on CUDA), beside ``torch.nn.LSTM`` and
   ``torch.nn.GRU``; per run the median ratio, then the median over runs.
3. **The GRU at other sizes** (``--gru-sizes``): the default GRU and the GRU on
   torch's kernel against ``torch.nn.GRU``, ``--reps-torch`` reps at each.

    python scripts/bench_cells.py                     # about two minutes
    python scripts/bench_cells.py --mutants 0 --reps 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from archsearch import zoo
from archsearch.compile import compile_cell
from archsearch.compile.cost import cell_flops
from archsearch.compile.fused import run_fused
from archsearch.compile.graph import build_graph
from archsearch.compile.program import is_cached
from archsearch.compile.samples import search_cells


def fwd_bwd(layer, x) -> float:
    """Thread CPU seconds of one forward and backward pass."""
    start = time.thread_time()
    out, fin = layer(x)
    if isinstance(fin, torch.Tensor):  # torch.nn.GRU: h; torch.nn.LSTM: (h, c)
        fin = (fin,)
    (out.sum() + sum(f.sum() for f in fin)).backward()
    return time.thread_time() - start


def interleaved(layers: dict, x, reps: int) -> dict[str, list[float]]:
    """Seconds per rep of each layer, the layers taking turns (drift hits all alike), in
    reverse order every other rep: where a layer runs in a turn moves its time by 1-2%
    (two LSTM sources, one process: the one second was the faster, whichever it was)."""
    for layer in layers.values():  # warm-up: scripting, first allocations
        fwd_bwd(layer, x)
    times: dict[str, list[float]] = {name: [] for name in layers}
    turn = list(layers.items())
    for rep in range(reps):
        for name, layer in turn if rep % 2 == 0 else reversed(turn):
            times[name].append(fwd_bwd(layer, x))
    return times


def ratio(times: dict[str, list[float]], a: str, b: str) -> float:
    """Median over reps of a's time / b's time."""
    return statistics.median(u / v for u, v in zip(times[a], times[b], strict=True))


def cell_row(cell, args, lstm) -> dict:
    """One row of the cells' table."""
    X = args.H if build_graph(cell).input_outside_linear else args.X
    x = torch.randn(args.T, args.B, X, requires_grad=True)
    cached = is_cached(cell)
    start = time.thread_time()
    ours = compile_cell(cell, X, args.H)
    fwd_bwd(ours, x)
    first = time.thread_time() - start
    eager = compile_cell(cell, X, args.H, backend="eager")
    eager.load_state_dict(ours.state_dict())
    layers = {"ours": ours, "eager": eager}
    shaped = len(cell.states) == 2 and X == args.X
    if shaped:
        layers["lstm"] = lstm
    times = interleaved(layers, x, args.reps)
    steady = statistics.median(times["ours"])
    flops = cell_flops(cell, X, args.H, args.T, args.B).forward_backward
    return {
        "X": X,
        "compile": max(first - steady, 0.0),
        "time": steady,
        "per_gflop": steady / (flops / 1e9),
        "eager": ratio(times, "ours", "eager"),
        "lstm": ratio(times, "ours", "lstm") if shaped else None,
        "fused": ours.fused,
        "cached": cached,
        "linears": len(cell.linears()),
    }


def cells_table(args, lstm) -> None:
    cells = [("zoo", zoo.get(n)) for n in zoo.names()]
    cells += [("search", c) for c in search_cells(args.mutants, args.seed)]
    print(f"\n1. cells: default layer vs its eager twin, reps={args.reps}")
    head = f"{'cell':14s} {'kind':6s} {'lin':>3s} {'X':>4s} {'compile ms':>10s} {'fwd+bwd ms':>10s}"
    print(f"{head} {'ms/GFLOP':>9s} {'vs eager':>8s} {'vs LSTM':>8s}")
    rows = []
    for kind, cell in cells:
        row = cell_row(cell, args, lstm)
        rows.append(row)
        note = " (torch's kernel)" if row["fused"] else ""
        note += " (structure compiled before: cached)" if row["cached"] else ""
        vs_lstm = f"{row['lstm']:8.2f}" if row["lstm"] is not None else f"{'':8s}"
        print(
            f"{cell.name:14s} {kind:6s} {row['linears']:3d} {row['X']:4d} "
            f"{row['compile'] * 1e3:10.1f} {row['time'] * 1e3:10.2f} "
            f"{row['per_gflop'] * 1e3:9.1f} {row['eager']:8.2f} {vs_lstm}{note}"
        )
    new = [r for r in rows if not r["cached"]]
    looped = [r for r in rows if not r["fused"]]
    for label, key, scale, which in (
        ("vs eager twin", "eager", 1, rows),
        ("vs eager twin, generated loop only", "eager", 1, looped),
        ("vs torch.nn.LSTM, LSTM-shaped", "lstm", 1, [r for r in rows if r["lstm"]]),
        ("compile ms of a new structure", "compile", 1e3, new),
    ):
        vals = [r[key] * scale for r in which]
        if not vals:
            continue
        print(
            f"{label}: median {statistics.median(vals):.2f}, min {min(vals):.2f}, "
            f"max {max(vals):.2f} over {len(vals)} cells"
        )


class OnTorchKernel(torch.nn.Module):
    """A compiled exact LSTM or GRU on torch's kernel whatever the device: the call its
    forward makes where the kernel is the faster (``compile/fused.py``)."""

    def __init__(self, layer) -> None:
        super().__init__()
        assert layer.fusable
        self.layer = layer

    def forward(self, x):
        return run_fused(self.layer.program.fused, x, None, self.layer.flat_parameters())


def gru_layers(X: int, H: int) -> dict:
    """The GRU as compiled by default and on torch's kernel, beside ``torch.nn.GRU``."""
    gru = compile_cell(zoo.get("gru"), X, H)
    return {"gru": gru, "gru_kernel": OnTorchKernel(gru), "nn.GRU": torch.nn.GRU(X, H)}


GRU_PAIRS = {
    "GRU as compiled (on CPU: the generated loop) / nn.GRU": ("gru", "nn.GRU"),
    "GRU on torch's kernel (as on CUDA) / nn.GRU": ("gru_kernel", "nn.GRU"),
}


def against_torch(args, lstm) -> None:
    """The LSTM through the loop and the GRU both ways, vs torch's."""
    x = torch.randn(args.T, args.B, args.X, requires_grad=True)
    layers = {
        "lstm_loop": compile_cell(zoo.get("lstm"), args.X, args.H, fused=False),
        "nn.LSTM": lstm,
        **gru_layers(args.X, args.H),
    }
    assert not layers["lstm_loop"].fused
    pairs = {
        "LSTM through the generated loop (fused=False) / nn.LSTM": ("lstm_loop", "nn.LSTM"),
        **GRU_PAIRS,
    }
    print(f"\n2. against torch: {args.runs} runs of {args.reps_torch} interleaved reps")
    per_run: dict[str, list[float]] = {label: [] for label in pairs}
    for run in range(args.runs):
        times = interleaved(layers, x, args.reps_torch)
        ms = ", ".join(f"{k} {statistics.median(v) * 1e3:.2f}" for k, v in times.items())
        print(f"run {run + 1} (median ms): {ms}")
        for label, (a, b) in pairs.items():
            per_run[label].append(ratio(times, a, b))
    for label, values in per_run.items():
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{label}: median of {args.runs} runs {statistics.median(values):.2f} ({runs})")


def gru_sizes(args) -> None:
    """The GRU both ways against ``torch.nn.GRU`` at each of ``--gru-sizes``."""
    print(f"\n3. the GRU at other sizes: {args.reps_torch} interleaved reps each")
    for size in args.gru_sizes.split(","):
        T, B, X, H = (int(v) for v in size.split("x"))
        x = torch.randn(T, B, X, requires_grad=True)
        times = interleaved(gru_layers(X, H), x, args.reps_torch)
        ms = ", ".join(f"{k} {statistics.median(v) * 1e3:.2f}" for k, v in times.items())
        ratios = ", ".join(f"{a} {ratio(times, a, b):.2f}" for a, b in GRU_PAIRS.values())
        print(f"T={T} B={B} X={X} H={H} (median ms: {ms}); / nn.GRU: {ratios}")


def print_load(when: str) -> None:
    """The machine's load averages: a loaded machine moves the ratios (caches are shared)."""
    if hasattr(os, "getloadavg"):
        print(f"load average {when}: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-T", type=int, default=50)
    ap.add_argument("-B", type=int, default=32)
    ap.add_argument("-X", type=int, default=64)
    ap.add_argument("-H", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5, help="per cell")
    ap.add_argument("--reps-torch", type=int, default=20, help="per run, against torch")
    ap.add_argument("--runs", type=int, default=3, help="against torch")
    ap.add_argument("--mutants", type=int, default=20)
    ap.add_argument(
        "--gru-sizes",
        # the presets' shapes: smoke (H=32), quick (H=128), paper (ptb's 650, music's 300)
        default="20x8x32x32,35x20x128x128,64x16x64x128,35x20x650x650,128x32x300x300",
        help="TxBxXxH, comma-separated; '' for none",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(args.X, args.H)
    print(
        f"T={args.T} B={args.B} X={args.X} H={args.H}, one thread, thread CPU time, "
        "forward + backward; ratios are medians of rep-by-rep ratios"
    )
    print_load("at start")
    cells_table(args, lstm)
    against_torch(args, lstm)
    if args.gru_sizes:
        gru_sizes(args)
    print_load("at end")


if __name__ == "__main__":
    main()
