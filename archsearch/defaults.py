"""Defaults that several layers share (the lowest layer, so that any may read them).

The evaluation setting's other defaults are in ``archsearch/setting.py``, a run's in
``archsearch/spec.py``.
"""

PRESETS = ("smoke", "quick", "paper")  # seconds, minutes, the paper's scale
DEFAULT_PRESET = "quick"  # trains in seconds to a minute per trial on a CPU
DEFAULT_BACKEND = "torchscript"  # the fast one; "eager" is for debugging
