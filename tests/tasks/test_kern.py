"""``tasks.kern`` reads plain kern as music21 does: the same rolls, or ``Unsupported``."""

from __future__ import annotations

import numpy as np
import pytest

from tasks import music
from tasks.kern import Unsupported, kern_notes

music21 = pytest.importorskip("music21")

# Two voices: dots, a triplet, a breve, ties, rests, sharps and flats, four octaves.
TWO_VOICES = """!!!OTL: test
**kern\t**kern
*clefF4\t*clefG2
*M4/2\t*M4/2
=1\t=1
2.C\t[1cc#
4D-\t.
1r\t2cc]
.\t2b-
=2\t=2
3GG\t0ee
3AA\t.
3BB\t.
[1c\t.
1c]\t.
*-\t*-
"""


def music21_roll(path, grid: float) -> np.ndarray:
    return music.roll_of(music21.converter.parse(str(path), forceSource=True), grid)


@pytest.mark.parametrize("grid", [0.5, 1.0, 2.0])
def test_the_rolls_are_music21s(tmp_path, grid):
    path = tmp_path / "two.krn"
    path.write_text(TWO_VOICES)
    notes = kern_notes(str(path))
    ours = music.roll_of_notes(((float(a), float(a + b), (m,)) for a, b, m in notes), grid)
    assert np.array_equal(ours, music21_roll(path, grid))
    assert (notes[0][2], notes[1][2]) == (48, 73)  # C3 and C#5
    assert sum(1 for _, _, midi in notes if midi == 60) == 2  # a tie stays two notes


@pytest.mark.parametrize(
    "change", [("2.C\t[1cc#", "2.C\t[1cc# 1ee"), ("=1\t=1", "*^\t*\n=1\t=1\t=1"), ("4D-", "4qD-")]
)
def test_anything_else_is_left_to_music21(tmp_path, change):
    path = tmp_path / "other.krn"
    path.write_text(TWO_VOICES.replace(*change))
    with pytest.raises(Unsupported):
        kern_notes(str(path))
