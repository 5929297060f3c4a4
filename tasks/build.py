"""Converting the corpora on every core: ``archsearch tasks --build``.

PTB (seconds) and the three music datasets (thousands of scores to parse) are
cut into jobs that a process pool runs, longest first: PTB whole; music in
chunks of ``CHUNK`` pieces, and an ABC file's tunes together when it is parsed
once for all of them (``music.whole_files``), so each piece is parsed exactly
as the serial ``RollCache.ensure`` parses it and the rolls are the same. This
process gathers the rolls into each dataset's cache (saved every
``SAVE_EVERY`` pieces, so an interrupted build keeps its work) and shows
progress: a bar on a terminal, a line every ``progress.LOG_EVERY`` seconds otherwise.
Interrupted, it saves what it has and drops the jobs not started.

Where a cold build's time went (cProfile, 20 Palestrina masses and one ABC file
of 50 tunes): music21 pickled every parsed file into its scratch folder and
read the pickle back (35% of the masses' time, 23% of the tunes'), now skipped
(``music.SOURCE``); building a music21 score from a mass's kern took the rest,
0.18 CPU-seconds a mass, now read directly by ``tasks.kern`` in 0.006 (all 1,318
masses give the same rolls as music21's). What is left is music21's
parsing of the ABC tunes (half of it beaming, which rolls do not use) and of
the chorales' MusicXML.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from tasks import music, ptb
from tasks.cache import cache_path
from tasks.progress import Progress

CHUNK = 8  # pieces per job: small enough to balance two cores, big enough to pay a job
SAVE_EVERY = 500  # pieces gathered between saves of a dataset's cache

Job = tuple[str, float, tuple[str, ...], frozenset[str]]  # (dataset or "ptb", grid, pieces, whole)


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan(datasets: list[str], with_ptb: bool) -> tuple[list[Job], dict[str, music.RollCache]]:
    """The jobs still to do, longest first, and the caches they fill."""
    jobs: list[Job] = [("ptb", 0.0, (), frozenset())] if with_ptb else []
    caches = {}
    for dataset in datasets:
        cache = caches[dataset] = music.RollCache(dataset, music.GRIDS[dataset])
        missing = cache.missing(music.piece_ids(dataset))
        whole = frozenset(music.whole_files(missing))
        groups: dict[str, list[str]] = {}
        for piece in missing:  # a wholly parsed file is one job; other pieces go in chunks
            path = piece.partition("#")[0]
            groups.setdefault(path if path in whole else "", []).append(piece)
        loose = groups.pop("", [])
        chunks = [loose[i : i + CHUNK] for i in range(0, len(loose), CHUNK)]
        jobs += [(dataset, cache.grid, tuple(c), whole) for c in [*groups.values(), *chunks]]
    jobs.sort(key=lambda job: -len(job[2]))  # the big files first, the chunks fill in
    return jobs, caches


def run_job(job: Job) -> tuple[str, dict]:
    """One job, in a pool process: PTB's arrays saved, or {piece: roll or None}."""
    dataset, grid, pieces, whole = job
    if dataset == "ptb":
        ptb.load_corpus()
        return dataset, {}
    return dataset, {p: music.try_roll(p, grid, set(whole)) for p in pieces}


def build(names: list[str], *, say: Callable[[str], None], workers: int | None = None) -> None:
    """Convert the corpora of task ``names`` (built-in corpora only) on ``workers`` cores."""
    import tasks as task_suite

    datasets, with_ptb = [], False
    for name in names:
        cls, fixed = task_suite.TASKS.get(name)
        if issubclass(cls, ptb.PtbTask):
            with_ptb = not cache_path("ptb", ptb.DATA_VERSION).exists()
        elif issubclass(cls, music.MusicTask) and fixed["dataset"] not in datasets:
            datasets.append(fixed["dataset"])
    jobs, caches = plan(datasets, with_ptb)
    if not jobs:
        return
    workers = min(workers or cores(), len(jobs))
    total = sum(max(1, len(job[2])) for job in jobs)
    pieces = sum(len(job[2]) for job in jobs)
    what = ["ptb"] * with_ptb + [f"{pieces} pieces of {', '.join(datasets)}"] * bool(datasets)
    say(f"converting {' and '.join(what)} on {workers} core{'s' * (workers > 1)} ...")
    progress = Progress(total, say)
    unsaved = dict.fromkeys(caches, 0)
    context = get_context("spawn")  # no fork of a process that may hold torch's threads
    pool = ProcessPoolExecutor(workers, mp_context=context)
    try:
        futures = [pool.submit(run_job, job) for job in jobs]
        for future in as_completed(futures):
            dataset, rolls = future.result()
            if dataset != "ptb":
                caches[dataset].rolls.update(rolls)
                unsaved[dataset] += len(rolls)
                if unsaved[dataset] >= SAVE_EVERY:
                    caches[dataset].save()
                    unsaved[dataset] = 0
            progress.advance(max(1, len(rolls)))
    except BaseException:  # Ctrl-C or a failed job: keep what was converted, drop the queue
        pool.shutdown(wait=False, cancel_futures=True)
        for cache in caches.values():
            cache.save()
        raise
    pool.shutdown()
    progress.close()
    for cache in caches.values():
        cache.finish()
