"""The hostile battery (scripts/hostile_battery.py): a quick sample by default, all of it
under ``-m slow``. Every case must be acceptable: the expected exit, no traceback, no
password, within its timeout, no stray run or report folder."""

from __future__ import annotations

import pytest

from scripts import hostile_battery as battery

# One case of each kind, cheap: no Ray start, no training. Run here through CliRunner (a
# subprocess spends seconds importing torch); the slow test runs every case in a subprocess.
SAMPLE = [
    "search --name 'x/../../escape'",
    "search --seed '2147483648'",
    "search --address 127.0.0.1:1",
    "ablate missing file",
    "eval backend",
    "eval threads 1e9",
    "search storage sqlite with credentials",
    "runs storage postgres refused",
    "search storage in memory",
    "runs a read-only store",
    "show store zeroed page",
    "report --out onto a file",
]


@pytest.mark.parametrize("name", SAMPLE)
def test_a_sample_of_the_battery(name, tiny_store, tmp_path):
    (case,) = [c for c in battery.cases() if c.name == name]
    acceptable, line = battery.run_case(case, tiny_store, tmp_path, here_=True)
    assert acceptable, line


def test_the_battery_has_at_least_a_hundred_cases_of_every_kind():
    names = [c.name for c in battery.cases()]
    assert len(names) >= 100 and len(set(names)) == len(names)
    for kind in ("search", "ablate", "eval", "report", "runs", "show", "export", "storage"):
        assert sum(kind in n for n in names) >= 3, kind


@pytest.mark.slow
def test_the_whole_battery():
    # Each case in a subprocess; on a loaded machine torch's import alone takes tens of seconds.
    assert battery.main(["--jobs", "3", "--timeout", "180"]) == 0
