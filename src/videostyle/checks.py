"""Validation in one place (after kornia's ``KORNIA_CHECK_*``): each check names the parameter
it rejects, as the Python API spells it; the CLI maps that name to its flag.

>>> check_range("strength", 0.5, 0, 1)
0.5
>>> check_range("strength", 2.0, 0, 1)
Traceback (most recent call last):
...
videostyle.errors.VideostyleError: strength must be between 0 and 1, got 2.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from .errors import VideostyleError


def check_finite(name: str, value: float) -> float:
    """``value`` if it is a finite number (not a string, nor a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise VideostyleError(f"{name} must be a number, got {value!r}", parameter=name)
    if not math.isfinite(value):
        raise VideostyleError(f"{name} must be a finite number, got {value}", parameter=name)
    return value


def check_range(name: str, value: float, low: float, high: float) -> float:
    """``value`` if ``low <= value <= high`` (and finite)."""
    check_finite(name, value)
    if not low <= value <= high:
        raise VideostyleError(f"{name} must be between {low:g} and {high:g}, got {value}", parameter=name)
    return value


def check_positive(name: str, value: float, allow_zero: bool = False) -> float:
    """``value`` if it is finite and > 0 (>= 0 with ``allow_zero``)."""
    check_finite(name, value)
    if value < 0 or (value == 0 and not allow_zero):
        raise VideostyleError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value}", parameter=name)
    return value


#: The longest side, in pixels, of an output or working size (a typo such as 100000 is refused, not allocated).
MAX_SIDE = 16384


def check_size(name: str, value: int | None) -> int | None:
    """A long side in pixels: None (the input's own size) or a positive integer up to ``MAX_SIDE``."""
    if value is not None:
        check_positive(name, value)
        if not isinstance(value, numbers.Integral):
            raise VideostyleError(f"{name} must be a whole number of pixels, got {value!r}", parameter=name)
        if value > MAX_SIDE:
            raise VideostyleError(f"{name} must be at most {MAX_SIDE} pixels, got {value}", parameter=name)
    return value


#: The smallest picture side any method takes: AdaIN's decoder works at 1/8 of it and pads by reflection, and VGG-16's
#: deepest style layer (relu5_1) is 16 times coarser than the picture (smaller, the optimisation's loss became NaN).
MIN_SIDE = 16


def check_picture_size(height: int, width: int) -> None:
    """A picture (or working frame size) every method can take: at least :data:`MIN_SIDE` pixels on each side."""
    if min(height, width) < MIN_SIDE:
        raise VideostyleError(
            f"the picture is {width}x{height}; stylizing needs at least {MIN_SIDE} pixels on each side (give a larger size)", parameter="size"
        )


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise VideostyleError(f"unknown {name} {value!r}; choose {', '.join(choices)}", parameter=name)
    return value


def check_style_weights(weights: Sequence[float] | None, num_styles: int, name: str = "style_weights") -> list[float]:
    """One finite, non-negative weight per style, not all zero (None: equal weights), normalised to sum 1."""
    if weights is None:
        return [1.0 / num_styles] * num_styles if num_styles else []
    if len(weights) != num_styles:
        raise VideostyleError(f"{num_styles} style images but {len(weights)} {name}", parameter=name)
    for weight in weights:
        check_positive(name, weight, allow_zero=True)
    if sum(weights) <= 0:
        raise VideostyleError(f"{name} must not all be zero", parameter=name)
    return [weight / sum(weights) for weight in weights]


def check_mask_styles(num_styles: int) -> None:
    """A mask splits the frame between exactly two styles."""
    if num_styles != 2:
        raise VideostyleError(f"mask needs exactly two style images (white: the first, black: the second), got {num_styles}", parameter="mask")


#: Units of :func:`parse_memory`, in bytes (binary: a GB here is a GiB, as memory is sold and reported).
MEMORY_UNITS = {"": 2**20, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20, "g": 2**30, "gb": 2**30, "gib": 2**30}


def parse_memory(name: str, text: str) -> int:
    """An amount of memory such as ``2GiB``, ``1500MiB``, ``2G`` or ``1500`` (MiB) -> bytes.

    >>> parse_memory("max_memory", "2GiB"), parse_memory("max_memory", "1500"), parse_memory("max_memory", "0.5 g")
    (2147483648, 1572864000, 536870912)
    """
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in MEMORY_UNITS or float(match.group(1)) <= 0:
        raise VideostyleError(f"{name} must be a positive amount such as 2GiB, 1500MiB or 1500 (MiB), got {text!r}", parameter=name)
    return int(float(match.group(1)) * MEMORY_UNITS[unit])


def describe_memory(amount: int) -> str:
    """``amount`` bytes in whole MiB, or in KiB below one MiB.

    >>> describe_memory(2**31), describe_memory(1024)
    ('2048 MiB', '1 KiB')
    """
    return f"{amount / 2**20:.0f} MiB" if amount >= 2**20 else f"{amount / 2**10:.0f} KiB"
