"""The task suite: arith, xml, ptb and music, registered by name.

>>> import tasks
>>> task = tasks.get("arith", preset="smoke", seed=0)
>>> batch = next(task.train_batches(seed=1))

See ``tasks/base.py`` for the contract (``Task``, ``Batch``, ``TaskConfig``)
and each family's file for its data, metric and presets.
"""

from tasks.arith import ArithTask
from tasks.base import PRESETS, Batch, Task, TaskConfig, TaskError
from tasks.music import MusicTask
from tasks.ptb import PtbTask
from tasks.registry import TASKS, describe, directions, get, names, register, task_config
from tasks.xml import XmlTask

register("arith", ArithTask)
register("xml", XmlTask)
register("ptb", PtbTask)
register("music-jsb", MusicTask, aliases=("music",), dataset="jsb")
register("music-muse", MusicTask, dataset="muse")
register("music-folk", MusicTask, dataset="folk")

__all__ = [
    "PRESETS",
    "TASKS",
    "Batch",
    "Task",
    "TaskConfig",
    "TaskError",
    "describe",
    "directions",
    "get",
    "names",
    "register",
    "task_config",
]
