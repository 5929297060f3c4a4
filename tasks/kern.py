"""The notes of a plain Humdrum ``**kern`` file, read directly (the Palestrina masses).

music21 builds a full score from a kern file (parts, measures, clefs, ties,
beams): 0.18 CPU-seconds a mass (20 masses timed), most of a cold ``archsearch tasks
--build``. A roll needs only each note's onset, length and MIDI pitches, and
the 1,318 masses of ``music-muse`` use a small, regular part of kern: one
token per spine per line, no spine splits or chords, durations ``0`` (breve)
to ``8`` with dots, pitches ``c``/``cc``/``C`` with ``#`` and ``-``, rests
``r`` and ties ``[ _ ]``. ``kern_notes`` reads that part in 0.006 CPU-seconds a
mass, and raises ``Unsupported`` on anything else, so the caller falls back to
music21. Onsets and lengths are exact fractions, as music21's are, so the
rolls are the same (``tests/tasks/test_kern.py`` and ``test_build.py`` compare them).

Kern: a duration is the reciprocal of a fraction of a whole note (4 = a
quarter, 3 = a third of a whole note, 0 = a breve), each dot adding half of
the previous value; ``c`` is middle C (MIDI 60), each repeated lower-case
letter an octave up, ``C`` the octave below middle C, each repeated upper-case
letter an octave down. A tied note stays two notes, as music21 keeps it.
"""

from __future__ import annotations

import re
from fractions import Fraction

STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
# duration digits, dots, a pitch (one letter repeated) or a rest, accidentals; ties around
TOKEN = re.compile(r"[\[_]?(\d+)(\.*)(?:([a-gA-G])\3*|(r))(#{1,2}|-{1,2})?[\]_]?")


class Unsupported(ValueError):
    """The file uses kern this reader does not (the caller parses it with music21)."""


def kern_notes(path: str) -> list[tuple[Fraction, Fraction, int]]:
    """(onset, length, MIDI pitch) of every note of the file, in quarter lengths."""
    with open(path, encoding="latin-1") as handle:  # comments may be either; notes are ASCII
        lines = handle.read().splitlines()
    spines = 0
    onsets: list[Fraction] = []
    notes = []
    for line in lines:
        if not line or line.startswith("!"):
            continue
        fields = line.split("\t")
        if line.startswith("**"):
            if spines or any(f != "**kern" for f in fields):
                raise Unsupported("not one set of **kern spines")
            spines, onsets = len(fields), [Fraction(0)] * len(fields)
            continue
        if len(fields) != spines:
            raise Unsupported("a line of another width")
        if line.startswith("*"):
            if any(f in ("*^", "*v", "*x", "*+") for f in fields):
                raise Unsupported("a spine operation")
            continue
        if line.startswith("="):
            continue
        for spine, field in enumerate(fields):
            if field == ".":
                continue
            onsets[spine] += _note(field, onsets[spine], notes)
    if not spines:
        raise Unsupported("no **kern spines")
    return notes


def _note(field: str, onset: Fraction, notes: list) -> Fraction:
    """Add the note of ``field`` (not a rest) at ``onset``; its length."""
    match = TOKEN.fullmatch(field)
    if match is None:
        raise Unsupported(f"the token {field!r}")
    digits, dots, letter, rest, accidental = match.groups()
    if int(digits) == 0 and digits != "0":
        raise Unsupported(f"the duration {digits!r}")
    whole = Fraction(8) if digits == "0" else Fraction(4, int(digits))  # quarter lengths
    length = whole * (2 - Fraction(1, 2 ** len(dots)))
    if rest:
        return length
    letters = len(field.split(letter)) - 1 if letter else 0
    octave = 3 + letters if letter.islower() else 4 - letters
    alter = 0 if not accidental else len(accidental) * (1 if accidental[0] == "#" else -1)
    notes.append((onset, length, 12 * (octave + 1) + STEPS[letter.lower()] + alter))
    return length
