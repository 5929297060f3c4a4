"""``name=value`` pairs as a user types them (``--set lr=0.5``, ``--knob hidden_size=64``)."""

from __future__ import annotations


def parse_assignments(pairs: list[str], what: str) -> dict[str, str]:
    """``["lr=0.5", "layers=1"]`` -> ``{"lr": "0.5", "layers": "1"}``; ``ValueError`` names a
    pair that is not of the form name=value (``what``: the option it came from)."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"{what} {pair!r} is not of the form name=value")
        values[name.strip()] = value.strip()
    return values


def typed(values: dict[str, str]) -> dict[str, object]:
    """Text to numbers, booleans or None where it reads as one (task knobs)."""
    words = {"none": None, "null": None, "true": True, "false": False}
    result: dict[str, object] = {}
    for name, text in values.items():
        if text.lower() in words:
            result[name] = words[text.lower()]
            continue
        for convert in (int, float):
            try:
                result[name] = convert(text)
                break
            except ValueError:
                continue
        else:
            result[name] = text
    return result
