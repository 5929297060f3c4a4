"""Which tasks' corpora are built, and their descriptions, without building what is not.

Generated tasks (arith, xml) are always ready. PTB and the music tasks convert a
corpus into the cache folder on first use (music parses thousands of scores:
minutes); until then ``archsearch tasks`` shows them as "not built", and
``archsearch tasks --build`` builds them (music21 shows its progress).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def built(name: str) -> bool:
    """Whether task ``name`` can be described without converting a corpus first."""
    import tasks as task_suite
    from tasks import music, ptb
    from tasks.cache import cache_path

    cls, fixed = task_suite.TASKS.get(name)
    if issubclass(cls, ptb.PtbTask):
        return cache_path("ptb", ptb.DATA_VERSION).exists()
    if issubclass(cls, music.MusicTask):
        dataset = fixed["dataset"]
        grid = music.GRIDS[dataset]
        if not cache_path(f"music-{dataset}-g{grid:g}", music.DATA_VERSION).exists():
            return False
        try:
            cached = music.RollCache(dataset, grid).rolls
            return all(piece in cached for piece in music.piece_ids(dataset))
        except ValueError:  # music21 missing: describing it will say so
            return True
    return True


def describe_all(preset: str, *, build: bool, say: Callable[[str], None]) -> list[dict[str, Any]]:
    """Every task at ``preset``: described (``"built": True``), or its class facts only."""
    import tasks as task_suite

    if preset not in task_suite.PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid: {', '.join(task_suite.PRESETS)}")
    described = []
    for name in task_suite.names():
        ready = built(name)
        if not ready and build:
            say(f"building {name} (converting its corpus once) ...")
            ready = True
        if ready:
            described.append({**task_suite.describe(name, preset=preset), "built": True})
            continue
        cls, _ = task_suite.TASKS.get(name)
        facts = {"family": cls.family, "metric": cls.metric}
        described.append(
            {"name": name, **facts, "higher_is_better": cls.higher_is_better, "built": False}
        )
    return described
