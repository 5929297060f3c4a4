"""Write a run's settings as TOML (``tomllib`` reads it back): a writer for what a spec holds.

Top-level keys with strings, numbers, booleans and lists of them; dicts as
tables (``[fixed]``) of the same. TOML has no null: a ``None`` is refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dumps_toml(data: Mapping[str, Any]) -> str:
    """``data`` as a TOML document: plain keys first, then one table per dict."""
    lines = [f"{_key(k)} = {_value(k, v)}" for k, v in data.items() if not isinstance(v, dict)]
    for name, table in data.items():
        if isinstance(table, dict) and table:  # an empty table is the same as none
            lines += ["", f"[{_key(name)}]"]
            lines += [f"{_key(k)} = {_value(f'{name}.{k}', v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(where: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value} has no place in a run's settings")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(where, v) for v in value) + "]"
    if value is None:
        raise ValueError(f"{where}: TOML has no null; leave the setting out instead")
    raise ValueError(f"{where}: cannot write {type(value).__name__} {value!r} as TOML")
