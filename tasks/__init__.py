"""The task suite: arith, xml, ptb and music, registered by name, and a user's own data.

>>> import tasks
>>> task = tasks.get("arith", preset="smoke", seed=0)
>>> batch = next(task.train_batches(seed=1))

``text:PATH`` (``tasks.text``) and ``seq:FILE.npz`` (``tasks.sequences``) name a
user's data; installed packages add tasks through the entry-point group
``archsearch.tasks`` (``tasks.registry``). See ``tasks/base.py`` for the
contract (``Task``, ``Batch``, ``TaskConfig``) and each family's file for its
data, metric and presets.
"""

from archsearch.defaults import PRESETS
from tasks import sequences, text
from tasks.arith import ArithTask
from tasks.base import Batch, Task, TaskConfig, TaskError
from tasks.music import MusicTask
from tasks.ptb import PtbTask
from tasks.registry import TASKS, describe, direction, get, names, register, task_config
from tasks.sequences import ClassifyArrays, LabelArrays, RegressArrays
from tasks.xml import XmlTask

register("arith", ArithTask)
register("xml", XmlTask)
register("ptb", PtbTask)
register("music-jsb", MusicTask, aliases=("music",), dataset="jsb")
register("music-muse", MusicTask, dataset="muse")
register("music-folk", MusicTask, dataset="folk")
TASKS.add_source("text", text.resolve, form="text:PATH (a folder or a text file)")
TASKS.add_source("seq", sequences.resolve, form="seq:FILE.npz (arrays x and y)")

__all__ = [
    "PRESETS",
    "TASKS",
    "Batch",
    "ClassifyArrays",
    "LabelArrays",
    "RegressArrays",
    "Task",
    "TaskConfig",
    "TaskError",
    "describe",
    "direction",
    "get",
    "names",
    "register",
    "task_config",
]
