"""The hostile battery: bad command lines, bad storage URLs and store faults, each a clear error.

    python scripts/hostile_battery.py              # every case, 3 at a time
    python scripts/hostile_battery.py --fast       # the quick subset (no Ray, no training)
    python scripts/hostile_battery.py -k report    # the cases whose name holds "report"
    python scripts/hostile_battery.py --here       # through typer's CliRunner, in this process

Each case runs ``archsearch`` in a subprocess, in a fresh folder, with a
timeout (``--here``: in this process, one at a time, timed but not killed;
minutes instead of tens of minutes on a loaded machine, where each subprocess
spends most of its time importing torch). A case is acceptable when it exits
as expected (2 for a refusal, 0 where the command must work, e.g. reading a
read-only store), prints no traceback
and no password (``S3cretPW``), ends within its timeout, and leaves no new
run in its store and no report folder behind (a refusal changes nothing).
One line per case, then ``N cases, M unacceptable``; the exit status is 1
when any case is unacceptable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as Threads
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "S3cretPW"
TIMEOUT_S = 60.0
SMOKE = ["--in-process", "--preset", "smoke", "--tasks", "arith", "--budget", "1"]
PG_DOWN = f"postgresql+psycopg://alice:{PASSWORD}@127.0.0.1:1/db"
PG_AWAY = f"postgresql+psycopg://alice:{PASSWORD}@192.0.2.1:5432/db"  # TEST-NET: no answer
KNOBS = ["--knob", "train_steps=4", "--knob", "hidden_size=8", "--knob", "n_train=64"]


@dataclass
class Case:
    """One command line; ``STORE`` in it is the case's store URL, ``HERE`` its folder."""

    name: str
    args: list[str]
    expect: int = 2
    store: str = "none"  # none: a path for a new store; tiny: a copy of a finished run's
    fault: Callable[[Path], None] | None = None  # done to the store file before the run
    env: dict[str, str] = field(default_factory=dict)
    fast: bool = True  # no Ray start, no training: in the quick subset
    timeout: float = TIMEOUT_S


# fmt: off
def cases() -> list[Case]:
    """Every case: about a hundred and seventy."""
    found: list[Case] = []

    def add(name, args, **options):
        found.append(Case(name, args, **options))

    search = ["search", *SMOKE, "--storage", "STORE"]
    for option, value in [
        ("--budget", "0"), ("--budget", "-3"), ("--budget", "abc"), ("--budget", "1x"),
        ("--budget", "infs"), ("--budget", "nanm"), ("--searcher", "annealing"),
        ("--preset", "smokee"), ("--tasks", "nope"), ("--tasks", ","), ("--tasks", "arith,arith"),
        ("--space", "adamm"), ("--seed", "-1"), ("--seed", str(2**31)), ("--seed", "abc"),
        ("--seed", str(2**70)), ("--trials", "0"), ("--set", "lr=5"), ("--set", "lr"),
        ("--set", "=1"), ("--set", "momentum=0.9"), ("--set", "layers=abc"),
        ("--knob", "depth=3"), ("--knob", "hidden_size=abc"), ("--knob", "noequals"),
        ("--name", "x/../../escape"), ("--name", ".hidden"), ("--name", ""), ("--name", "a b"),
        ("--name", "x" * 101), ("--name", "a\\b"), ("--name", "tab\there"),
        ("--workers", "0"), ("--workers", "-1"), ("--cpus-per-eval", "0"),
        ("--cpus-per-eval", "-1"), ("--gpus-per-eval", "-1"), ("--time-limit", "0"),
        ("--time-limit", "abc"), ("--config", "/nonexistent/run.toml"), ("--config", "HERE"),
        ("--bogus-option", "1"),
    ]:
        add(f"search {option} {value!r}"[:52], [*search, option, value])
    add("search --config broken toml", [*search, "--config", "HERE/bad.toml"])
    add("search --config unknown key", [*search, "--config", "HERE/unknown.toml"])
    add("search --config a folder", [*search, "--config", "/tmp"])
    ray = ["search", "--preset", "smoke", "--budget", "1", "--storage", "STORE"]
    add("search --cpus-per-eval 1000 (Ray)", [*ray, "--cpus-per-eval", "1000"])
    for address in ("127.0.0.1:1", "ray://127.0.0.1:1", "not an address", "192.0.2.1:6379"):
        add(f"search --address {address}", [*ray, "--address", address])
    add("search RAY_ADDRESS unreachable", ray, env={"RAY_ADDRESS": "127.0.0.1:1"})
    add("search --gpus-per-eval 1 without a GPU", [*ray, "--gpus-per-eval", "1"], fast=False)
    add("search tiny, for real", [*search, *KNOBS, "--name", "ok"], expect=0, fast=False)

    ablate = ["ablate", "--in-process", "--preset", "smoke", "--storage", "STORE"]
    for label, cell in [
        ("missing file", "/nonexistent/x.cell"), ("a folder", "/tmp"),
        ("a folder named .cell", "HERE/dir.cell"), ("unknown zoo name", "lstmm"),
        ("bad text", "cell c(x; h):\n    h = tanh(y)\n"), ("no gate", "tanh"),
        ("binary file", "HERE/binary.cell"), ("empty file", "HERE/empty.cell"),
    ]:
        add(f"ablate {label}", [*ablate, cell])
    for option, value in [
        ("--preset", "smokee"), ("--tasks", "nope"), ("--trials", "0"),
        ("--seed", str(2**31)), ("--seed", "-1"), ("--space", "nope"),
        ("--name", "x/../escape"), ("--workers", "0"), ("--storage", "sqlite://"),
    ]:
        add(f"ablate lstm {option} {value!r}", [*ablate, "lstm", option, value])

    evaluate = ["eval", "--preset", "smoke", "--task", "arith", "--trials", "1"]
    for label, extra in [
        ("unknown cell", ["nope"]), ("unknown task", ["gru", "--task", "nope"]),
        ("backend", ["gru", "--backend", "torchscrpt"]),
        ("seed 2**31", ["gru", "--seed", "2147483648"]),
        ("seed -1", ["gru", "--seed", "-1"]), ("threads 1e9", ["gru", "--threads", "1000000000"]),
        ("threads 0", ["gru", "--threads", "0"]), ("trials 0", ["gru", "--trials", "0"]),
        ("lr outside", ["gru", "--set", "lr=5"]), ("unknown knob", ["gru", "--knob", "depth=3"]),
        ("sampler", ["gru", "--sampler", "grid"]), ("pruner", ["gru", "--pruner", "always"]),
        ("space", ["gru", "--space", "nope"]), ("preset", ["gru", "--preset", "huge"]),
        ("bad cell text", ["cell c(x; h):\n    h = q(x)\n"]), ("missing cell file", ["/no/x.cell"]),
        ("cell folder", ["/tmp"]), ("assignment", ["gru", "lr"]),
    ]:
        add(f"eval {label}", [*evaluate, *extra])

    report = ["report", "--storage", "STORE"]
    add("report unknown run", [*report, "--run", "nope"], store="tiny")
    add("report --out onto a file", [*report, "--run", "tiny", "--out", "HERE/bad.toml"],
        store="tiny")
    add("report --out under a file", [*report, "--out", "HERE/bad.toml/sub"], store="tiny")
    add("report --out in /proc", [*report, "--run", "tiny", "--out", "/proc/rep"], store="tiny")
    add("report --evaluator", [*report, "--run", "tiny", "--evaluator", "nope"], store="tiny")
    add("report --reference", [*report, "--run", "tiny", "--reference", "nope"], store="tiny")
    add("report a missing store", report)
    add("report escape name", [*report, "--run", "../../x"], store="tiny")
    add("report read-only store", [*report, "--run", "tiny", "--out", "HERE/rep"], expect=0,
        store="tiny", fault=read_only, fast=False)
    export = ["export", "lstm", "--run", "tiny", "--out", "HERE/x"]
    for command in (["runs"], ["show", "tiny"], export):
        add(f"{command[0]} a read-only store", [*command, "--storage", "STORE"], expect=0,
            store="tiny", fault=read_only)
    add("search a read-only store", search, store="tiny", fault=read_only)
    add("show unknown run", ["show", "nope", "--storage", "STORE"], store="tiny")
    add("show --top 0", ["show", "tiny", "--top", "0", "--storage", "STORE"], store="tiny")
    add("export unknown cell", ["export", "nope", "--run", "tiny", "--out", "HERE/x",
                                "--storage", "STORE"], store="tiny")
    add("export unknown run", ["export", "lstm", "--run", "nope", "--out", "HERE/x",
                               "--storage", "STORE"], store="tiny")
    add("export --out onto a file", ["export", "lstm", "--run", "tiny", "--out", "HERE/bad.toml",
                                     "--storage", "STORE"], store="tiny")
    add("runs a missing store", ["runs", "--storage", "STORE"])
    add("tasks --preset", ["tasks", "--preset", "nope"])
    add("zoo unknown", ["zoo", "nope"])
    add("unknown command", ["frobnicate"])
    add("fidelity unknown task", ["fidelity", "--task", "nope", "--in-process"])
    add("reproduce unknown finding", ["reproduce", "nope", "--in-process"])

    for label, url in [
        ("unknown dialect", "nope://x"), ("malformed", "not a url"), ("empty", ""),
        ("in memory", "sqlite://"), ("in memory, named", "sqlite:///:memory:"),
        ("sqlite with credentials", f"sqlite://user:{PASSWORD}@host/x.db"),
        ("sqlite with a host", "sqlite://host/x.db"), ("sqlite in /proc", "sqlite:////proc/x/s.db"),
        ("postgres refused", PG_DOWN), ("postgres away", PG_AWAY),
        ("mysql, no driver", f"mysql://alice:{PASSWORD}@127.0.0.1/db"),
        ("psycopg2, no driver", f"postgresql+psycopg2://alice:{PASSWORD}@127.0.0.1:1/db"),
        ("postgres no host", f"postgresql+psycopg://alice:{PASSWORD}@/db"),
    ]:
        for command in (search, ["runs", "--storage", "STORE"]):
            args = [url if part == "STORE" else part for part in command]
            add(f"{command[0]} storage {label}", args)

    for label, fault in [
        ("deleted", lambda path: path.unlink()), ("zeroed page", zero_page),
        ("schema 99", lambda path: set_schema(path, "99")),
        ("schema 0", lambda path: set_schema(path, "0")),
        ("not SQLite", lambda path: path.write_text("hello, I am not a database\n" * 100)),
        ("empty file", lambda path: path.write_bytes(b"")), ("truncated", truncate),
        ("a folder", as_folder), ("no meta table", drop_meta),
    ]:
        for command in (["runs"], ["show", "tiny"], ["report", "--run", "tiny", "--out", "HERE/r"]):
            add(f"{command[0]} store {label}", [*command, "--storage", "STORE"], store="tiny",
                fault=fault)
        # A store that is gone or has no tables yet is made afresh; a search can run there.
        fresh = label in ("deleted", "empty file", "no meta table")
        add(f"search store {label}", search, store="tiny", fault=fault, expect=0 if fresh else 2)
    return found
# fmt: on


def read_only(path: Path) -> None:
    """The store's folder and files unwritable, root included (chattr +i; chmod otherwise)."""
    paths = [str(path.parent), *(str(p) for p in path.parent.iterdir())]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *paths], check=True, capture_output=True)
    else:
        for p in paths:
            os.chmod(p, 0o555 if os.path.isdir(p) else 0o444)


def writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True)
    for root, _, _ in os.walk(folder):
        os.chmod(root, 0o755)


def zero_page(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        (size,) = conn.execute("PRAGMA page_size").fetchone()
        (page,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'trials'"
        ).fetchone()
    data = bytearray(path.read_bytes())
    data[(page - 1) * size : page * size] = bytes(size)
    path.write_bytes(bytes(data))


def set_schema(path: Path, version: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))


def drop_meta(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE meta")


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def as_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def make_tiny(folder: Path) -> Path:
    """A store with the finished run 'tiny' (lstm and gru on arith, a few steps)."""
    sys.path.insert(0, str(ROOT))
    from archsearch import Resources, launch
    from scripts.fault_drills import tiny_fixed_spec

    path = folder / "tiny.db"
    launch(tiny_fixed_spec(), Resources(storage=f"sqlite:///{path}", in_process=True))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def run_case(case: Case, tiny: Path, scratch: Path, *, here_: bool = False) -> tuple[bool, str]:
    """Run one case in its own folder (in a subprocess, or here); (acceptable, its line)."""
    here = Path(tempfile.mkdtemp(prefix="case-", dir=scratch))
    (here / "bad.toml").write_text("name = \n")
    (here / "unknown.toml").write_text('name = "x"\nworkers = 4\n')
    (here / "dir.cell").mkdir()
    (here / "binary.cell").write_bytes(b"\xff\xfe\x00" * 10)
    (here / "empty.cell").write_text("")
    db = here / "store" / "s.db"
    db.parent.mkdir()
    if case.store == "tiny":
        shutil.copy(tiny, db)
    runs_before = count_runs(db)
    if case.fault is not None:
        case.fault(db)
    url = f"sqlite:///{db}"
    args = [a.replace("STORE", url).replace("HERE", str(here)) for a in case.args]
    start = time.monotonic()
    code, output, stderr = (in_here if here_ else in_subprocess)(case, args, here)
    seconds = time.monotonic() - start
    if code is not None and seconds > case.timeout:
        code = None  # ran here past its timeout
    writable(here)
    problems = []
    if code is None:
        problems.append(f"no end within {case.timeout:g} s")
    elif code != case.expect:
        problems.append(f"exit {code}, not {case.expect}")
    if "Traceback (most recent call last)" in output:
        problems.append("traceback")
    if PASSWORD in output:
        problems.append("password printed")
    if case.expect != 0 and count_runs(db) > runs_before:
        problems.append("a new run in the store")
    if case.expect != 0 and (here / "results").exists():
        problems.append("a results folder left behind")
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
    first = first.replace(str(here), "HERE")[:110]
    verdict = "ok" if not problems else "UNACCEPTABLE"
    why = f" [{'; '.join(problems)}]" if problems else ""
    shutil.rmtree(here, ignore_errors=True)
    return not problems, f"{verdict:12s} {case.name:52s} {code!s:>4} {seconds:5.1f}s  {first}{why}"


def in_subprocess(case: Case, args: list[str], here: Path) -> tuple[int | None, str, str]:
    """(exit status or None past the timeout, stdout and stderr, stderr)."""
    command = [sys.executable, "-c", "from archsearch.cli import main; main()", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", **case.env}
    try:
        done = subprocess.run(
            command, cwd=here, env=env, capture_output=True, text=True, timeout=case.timeout
        )
    except subprocess.TimeoutExpired as expired:
        stderr = (expired.stderr or b"").decode(errors="replace")
        return None, stderr + (expired.stdout or b"").decode(errors="replace"), stderr
    return done.returncode, done.stdout + done.stderr, done.stderr


def in_here(case: Case, args: list[str], here: Path) -> tuple[int | None, str, str]:
    """The same through typer's CliRunner; an exception escaping is printed as a traceback."""
    import traceback

    from typer.testing import CliRunner

    from archsearch.cli import app

    previous = os.getcwd()
    os.chdir(here)
    try:
        result = CliRunner().invoke(app, args, env=case.env)
    finally:
        os.chdir(previous)
    output, stderr = result.output, result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stack = "".join(traceback.format_exception(result.exception))
        output, stderr = output + stack, stderr + stack
    return result.exit_code, output, stderr


def count_runs(db: Path) -> int:
    """Runs in a SQLite store file; 0 when it is absent or unreadable."""
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="Only the quick subset.")
    parser.add_argument("-k", default="", help="Only cases whose name holds one of these (a,b).")
    parser.add_argument("--timeout", type=float, help=f"Seconds per case [{TIMEOUT_S:g}].")
    parser.add_argument("--jobs", type=int, default=3, help="Cases at once.")
    parser.add_argument("--here", action="store_true", help="Through CliRunner, here.")
    args = parser.parse_args(argv)
    wanted = args.k.split(",")
    chosen = [c for c in cases() if (c.fast or not args.fast) and any(w in c.name for w in wanted)]
    for case in chosen:  # a loaded machine spends tens of seconds importing torch alone
        case.timeout = args.timeout or case.timeout
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        scratch = Path(folder)
        tiny = make_tiny(scratch)
        jobs = 1 if args.here else max(1, args.jobs)
        with Threads(max_workers=jobs) as pool:  # (not an archsearch Executor)
            results = pool.map(lambda c: run_case(c, tiny, scratch, here_=args.here), chosen)
            bad = 0
            for acceptable, line in results:
                bad += not acceptable
                print(line, flush=True)
        writable(scratch)
    minutes = (time.monotonic() - start) / 60
    print(f"{len(chosen)} cases, {bad} unacceptable ({minutes:.1f} min)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
