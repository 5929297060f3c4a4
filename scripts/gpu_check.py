"""The GPU path, checked on a CUDA machine: equalities, speed against cuDNN, a search, PTB steps.

On a machine with CUDA it runs, each part on its own (a failure is reported
and the next part runs; the exit status is 1 if any failed):

1. ``tests/compile/test_cuda.py``: the compiled lstm / gru equal
   torch.nn.LSTM / GRU on CUDA, every zoo cell on CUDA equals CPU eager;
2. forward + backward of the compiled lstm (on torch's kernel, and the
   generated loop), gru and a mutant against cuDNN's LSTM, at the
   benchmark's sizes (T=50, B=32, X=64, H=128) and the paper preset's
   (T=35, B=20, X=H=650);
3. the generated LSTM loop captured as a CUDA graph
   (``torch.cuda.make_graphed_callables``) and what replaying it gains;
4. a smoke search on a local Ray with ``--gpus-per-eval 0.25`` (the
   ``archsearch search`` command line, in a subprocess, on a temporary store);
5. the ``paper`` preset's first 100 PTB steps with the compiled LSTM, and
   their speed.

Without CUDA it says so and exits 0.

    python scripts/gpu_check.py
"""

from __future__ import annotations

import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
NO_CUDA = "no CUDA device present (torch.cuda.is_available() is False): nothing to check"
SIZES = {"benchmark": (50, 32, 64, 128), "paper": (35, 20, 650, 650)}


def timed(fn, reps: int = 20, warmup: int = 3) -> float:
    """Median milliseconds of ``fn()``, synchronised."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def fwd_bwd(layer, x):
    return lambda: layer(x)[0].sum().backward()


def check_equalities() -> None:
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/compile/test_cuda.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print("   ", (res.stdout.strip().splitlines() or ["(no output)"])[-1])
    if res.returncode != 0:
        print(res.stdout[-3000:], res.stderr[-2000:])
        raise RuntimeError("CUDA equality tests failed")


def check_speed() -> None:
    from archsearch import zoo
    from archsearch.compile import compile_cell
    from archsearch.compile.samples import search_cells

    dev = torch.device("cuda")
    mutant = search_cells(1)[0]
    for label, (T, B, X, H) in SIZES.items():
        x = torch.randn(T, B, X, device=dev, requires_grad=True)
        xh = torch.randn(T, B, H, device=dev, requires_grad=True)
        layers = {
            "cuDNN LSTM": (torch.nn.LSTM(X, H).to(dev), x),
            "cuDNN GRU": (torch.nn.GRU(X, H).to(dev), x),
            "compiled lstm": (compile_cell(zoo.get("lstm"), X, H).to(dev), x),
            "compiled lstm, generated loop": (
                compile_cell(zoo.get("lstm"), X, H, fused=False).to(dev),
                x,
            ),
            "compiled gru": (compile_cell(zoo.get("gru"), X, H).to(dev), x),
            f"compiled {mutant.name} (X=H)": (compile_cell(mutant, H, H).to(dev), xh),
        }
        ms = {name: timed(fwd_bwd(layer, inp)) for name, (layer, inp) in layers.items()}
        print(f"    {label} sizes T={T} B={B} X={X} H={H}: forward+backward, median ms")
        for name, value in ms.items():
            print(f"      {name:36s} {value:8.2f}  ({value / ms['cuDNN LSTM']:.2f}x cuDNN LSTM)")


def check_graphs() -> None:
    from archsearch import zoo
    from archsearch.compile import compile_cell

    T, B, X, H = SIZES["benchmark"]
    dev = torch.device("cuda")
    layer = compile_cell(zoo.get("lstm"), X, H, fused=False).to(dev)
    x = torch.randn(T, B, X, device=dev, requires_grad=True)
    plain = timed(fwd_bwd(layer, x))
    graphed = torch.cuda.make_graphed_callables(layer, (x,))
    replay = timed(fwd_bwd(graphed, x))
    out_a, out_b = layer(x)[0], graphed(x)[0]
    torch.testing.assert_close(out_a, out_b)
    print(
        f"    generated lstm loop, benchmark sizes: {plain:.2f} ms plain, {replay:.2f} ms as a "
        f"CUDA graph ({plain / replay:.2f}x)"
    )


def check_search() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            "archsearch", "search", "--preset", "smoke", "--budget", "4",
            "--gpus-per-eval", "0.25", "--tasks", "arith", "--name", "gpu-check",
            "--storage", f"sqlite:///{tmp}/gpu.db",
        ]  # fmt: skip
        start = time.monotonic()
        res = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=900)
        tail = (res.stdout + res.stderr).strip().splitlines()[-8:]
        print(f"    {' '.join(cmd)}\n    exit {res.returncode} in {time.monotonic() - start:.0f} s")
        for line in tail:
            print("      " + line)
        if res.returncode != 0:
            raise RuntimeError("the smoke search failed")


def check_ptb() -> None:
    import tasks
    from archsearch import zoo
    from archsearch.train import TrainSettings, train_trial

    steps = 100
    task = tasks.get("ptb", preset="paper", train_steps=steps)
    marks: list[tuple[int, float]] = []
    params = {"lr": 1.0, "init_scale": 1.0, "layers": 2, "max_grad_norm": 5.0}
    result = train_trial(
        zoo.get("lstm"),
        task,
        params,
        optimizer="sgd",
        seed=0,
        settings=TrainSettings(device="cuda"),
        on_step=lambda step, total, loss: marks.append((step, time.monotonic())),
    )
    if result.status != "ok":
        raise RuntimeError(f"PTB run {result.status}: {result.error}")
    cfg = task.config
    (s0, t0), (s1, t1) = marks[0], marks[-1]
    rate = (s1 - s0) / (t1 - t0)
    print(
        f"    paper PTB, 2-layer compiled lstm H={cfg.hidden_size}, B={cfg.batch_size}, "
        f"T={cfg.seq_len}: {steps} steps in {result.seconds:.1f} s with evaluation; "
        f"{rate:.1f} steps/s ({rate * cfg.batch_size * cfg.seq_len:.0f} words/s) over "
        f"steps {s0}-{s1}; metrics {result.metrics}"
    )


CHECKS = [
    ("equalities on CUDA", check_equalities),
    ("forward+backward against cuDNN", check_speed),
    ("CUDA graph capture", check_graphs),
    ("smoke search, --gpus-per-eval 0.25, local Ray", check_search),
    ("paper preset, first 100 PTB steps", check_ptb),
]


def main() -> int:
    if not torch.cuda.is_available():
        print(NO_CUDA)
        return 0
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    print(
        f"gpu_check {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}"
    )
    failed = []
    for title, check in CHECKS:
        print(f"- {title}")
        try:
            check()
        except Exception as error:  # report and go on: each part says something on its own
            failed.append(title)
            print(f"    FAILED: {type(error).__name__}: {error}")
    print("all checks passed" if not failed else f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
