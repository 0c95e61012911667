"""Numbers in the reader's units: money in words, shares as percentages, counts with separators.

Every printed answer (``sim.compare`` headlines and ``report.md``, the run summary of
``python -m sim``, figure axes) goes through :func:`value` and :func:`interval`, so a
quantity reads the same everywhere: ``81.9 million yuan``, ``26.2%``, ``12,345``.

A quantity's unit is one of :data:`UNITS`.  Values within float noise of zero
(``|x| <= NOISE * scale``, ``scale`` the size of the quantity the value is a
difference or ratio of) print as ``0``: a difference of two equal sums taken in
another order is not an effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: The units an answer can have, with the words printed after a value (after the interval's upper bound too).
UNITS: dict[str, str] = {
    "yuan": " yuan",
    "yuan per order": " yuan per order",
    "yuan per yuan": " yuan per yuan",
    "share": "",  # a fraction of a whole, printed as a percentage
    "share difference": " percentage points",  # the difference of two shares
    "relative change per year": " a year",  # printed as a percentage
    "count": "",
    "count per day": " a day",
    "count (agents)": " simulated agents",  # counted in agents, not in the real sellers they stand for
    "orders per buyer": " orders per buyer",
    "trust (0-1)": " on the 0-1 trust scale",
}
#: Relative size below which a value is float noise (sums of ~1e6 terms in another order differ by ~1e-13).
NOISE = 1e-9
#: Money above a million is written in words.
MONEY_WORDS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def is_noise(x: float, scale: float = 1.0) -> bool:
    """Whether ``x`` is zero up to float noise relative to ``scale`` (the size of the quantity)."""
    return abs(x) <= NOISE * abs(scale)


def _round_sig(x: float, digits: int) -> float:
    if x == 0:
        return 0.0
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def _plain(x: float, digits: int = 3, max_decimals: int = 6) -> str:
    """``x`` to ``digits`` significant figures (at most ``max_decimals`` decimals), never in exponent notation."""
    r = _round_sig(x, digits)
    if r == 0:
        return "0"
    decimals = min(max(digits - 1 - math.floor(math.log10(abs(r))), 0), max_decimals)
    text = f"{r:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "0") else text


def money(x: float, digits: int = 3) -> str:
    """Yuan without the unit: ``81.9 million``, ``1.9 billion``, ``12,345``, ``54.3`` (a fen is the smallest step)."""
    if not math.isfinite(x):
        return "n/a"
    r = _round_sig(x, digits)
    for size, word in MONEY_WORDS:
        if abs(r) >= size:
            return f"{_plain(x / size, digits)} {word}"
    if abs(r) >= 1000:  # thousands: every yuan, with separators
        return f"{round(x):,}"
    return _plain(x, digits, max_decimals=2)


def percent(x: float, decimals: int | None = None) -> str:
    """A fraction as a percentage: ``0.262 -> 26.2%``; below 1% two significant figures (``0.93%``), from 1,000% whole."""
    if not math.isfinite(x):
        return "n/a"
    p = 100.0 * x
    if decimals is not None:
        text = f"{p:.{decimals}f}"
        return ("0" if float(text) == 0 else text) + "%"
    if abs(p) >= 1000:
        return f"{round(p):,}%"
    if abs(p) >= 1:
        return f"{p:.1f}%"
    return _plain(p, 2, max_decimals=3) + "%"


def count(x: float) -> str:
    """A count: an integer with separators from 100 up, else up to two decimals (a mean over replications)."""
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 100:
        return f"{round(x):,}"
    return _plain(x, 3, max_decimals=2)


def number(x: float, unit: str, scale: float = 1.0) -> str:
    """``x`` in ``unit`` without the unit's trailing words (``81.9 million``, ``26.2%``); float noise prints 0."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}: one of {', '.join(UNITS)}")
    if not math.isfinite(x):
        return "n/a"
    if is_noise(x, scale):
        x = 0.0
    if unit == "yuan":
        return money(x)
    if unit in ("share", "relative change per year"):
        return percent(x)
    if unit == "share difference":
        return _plain(100.0 * x, 2, max_decimals=2) if abs(x) < 0.01 else f"{100.0 * x:.1f}"
    if unit in ("count", "count per day", "count (agents)"):
        return count(x)
    if unit == "trust (0-1)":
        return _plain(x, 2, max_decimals=4) if abs(x) < 0.01 else f"{x:.3f}"
    return _plain(x, 3, max_decimals=2 if unit == "yuan per order" else 4)


def value(x: float, unit: str, scale: float = 1.0) -> str:
    """``x`` with its unit: ``81.9 million yuan``, ``26.2%``, ``1.2% a year``."""
    return number(x, unit, scale) + UNITS[unit]


def interval(low: float, high: float, unit: str, scale: float = 1.0, why: str = "1 replication") -> str:
    """A 95% interval's bounds, ``[60.1 million to 103 million]``; ``no interval (why)`` when it has none."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"no interval ({why})"
    lo_text, hi_text = number(low, unit, scale), number(high, unit, scale)
    if unit == "yuan":  # a bound below a million beside one in words reads in millions: [-0.395 million to 12 million]
        millions = [_round_sig(abs(v), 3) >= 1e6 for v in (low, high)]
        if any(millions):
            lo_text, hi_text = (t if big or t == "0" else f"{_plain(v / 1e6, 3)} million"
                                for t, v, big in ((lo_text, low, millions[0]), (hi_text, high, millions[1])))
    # "to", not a comma: money and counts carry thousands separators
    return f"[{lo_text} to {hi_text}]"


def estimate(est: float, low: float, high: float, unit: str, scale: float = 1.0, why: str = "1 replication") -> str:
    """An estimate with its interval: ``81.9 million yuan [60.1 million to 103 million]``."""
    return f"{value(est, unit, scale)} {interval(low, high, unit, scale, why)}"


def adding_up(total: float, parts: Sequence[float], decimals: int) -> list[float]:
    """``parts`` rounded to ``decimals`` so that they add up to ``total`` rounded the same way.

    Each part is rounded to nearest; the difference left is given to the part whose
    rounding moved it most in the other direction (largest remainder), so a printed
    split adds up to its printed total.
    """
    step = 10.0 ** -decimals
    rounded = [round(p, decimals) for p in parts]
    left = round((round(total, decimals) - sum(rounded)) / step)
    while left != 0:
        sign = 1 if left > 0 else -1
        # the part whose exact value lies furthest beyond its rounded value in the direction needed
        i = max(range(len(parts)), key=lambda k: sign * (parts[k] - rounded[k]))
        rounded[i] = round(rounded[i] + sign * step, decimals)
        left -= sign
    return rounded


def money_terms(total: float, parts: Sequence[float]) -> tuple[str, list[str], str]:
    """A money total and its parts in one word unit and precision, rounded so the printed parts add up.

    Returns (total, parts) as numbers without the unit, and the unit words (``million yuan``).
    """
    big = max([abs(total), *map(abs, parts)])
    size, word = next(((s, w) for s, w in MONEY_WORDS if _round_sig(big, 3) >= s), (1.0, ""))
    scaled = big / size
    # three significant figures on the largest term, and tenths at least in words (82.8 million, not 83)
    decimals = max(2 - math.floor(math.log10(scaled)), 0 if size == 1.0 else 1) if scaled > 0 else 0
    decimals = min(decimals, 2)  # a fen is the smallest step
    shown = adding_up(total / size, [p / size for p in parts], decimals)

    def fmt(v: float) -> str:
        text = f"{v:,.{decimals}f}"
        return "0" if float(text.replace(",", "")) == 0 else text

    return fmt(total / size), [fmt(v) for v in shown], f"{word} yuan".strip()


def axis_money(ax: object, axis: str = "y") -> None:
    """Label a matplotlib axis in readable money (``1.2 bn``, ``350 M``) instead of an offset like ``1e8``."""
    from matplotlib.ticker import FuncFormatter

    def tick(v: float, _pos: object = None) -> str:
        a = abs(v)
        for size, word in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if a >= size:
                return f"{_plain(v / size, 3)} {word}"
        return _plain(v, 3)

    target = ax.yaxis if axis == "y" else ax.xaxis  # type: ignore[attr-defined]
    target.set_major_formatter(FuncFormatter(tick))


def axis_percent(ax: object, axis: str = "y") -> None:
    """Label a matplotlib axis holding fractions as percentages."""
    from matplotlib.ticker import PercentFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis  # type: ignore[attr-defined]
    target.set_major_formatter(PercentFormatter(1.0))
