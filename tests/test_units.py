"""Answers in the reader's units (sim.units): money in words, percentages, counts, noise, missing intervals."""

from __future__ import annotations

import math

import pytest

from sim import units


@pytest.mark.parametrize(("x", "text"), [
    (1.94e9, "1.94 billion yuan"), (1.9e9, "1.9 billion yuan"), (8.19e7, "81.9 million yuan"),
    (-8.19e7, "-81.9 million yuan"), (-3.2e6, "-3.2 million yuan"), (999_999.7, "1 million yuan"),
    (1.4e12, "1.4 trillion yuan"), (12_345.6, "12,346 yuan"), (-1_000.0, "-1,000 yuan"), (54.32, "54.3 yuan"),
    (0.004, "0 yuan"), (0.0, "0 yuan"),
])
def test_money_reads_in_words_and_separators(x, text):
    assert units.value(x, "yuan") == text


@pytest.mark.parametrize(("x", "unit", "text"), [
    (0.262, "share", "26.2%"), (-0.0262, "share", "-2.6%"), (0.00933, "share", "0.93%"), (1.047, "share", "104.7%"),
    (23.3, "share", "2,330%"), (0.0123, "relative change per year", "1.2% a year"),
    (0.012, "share difference", "1.2 percentage points"), (301_600_000.0, "count", "301,600,000"),
    (12.5, "count", "12.5"), (3_880.4, "count per day", "3,880 a day"), (0.5234, "yuan per yuan", "0.523 yuan per yuan"),
    (-0.0617, "yuan per order", "-0.06 yuan per order"), (0.0123, "trust (0-1)", "0.012 on the 0-1 trust scale"),
])
def test_shares_rates_and_counts(x, unit, text):
    assert units.value(x, unit) == text


def test_float_noise_prints_as_zero():
    # a ratio of a difference of equal sums taken in another order: -3.6e-17 yuan per yuan is 0
    assert units.value(-3.6e-17, "yuan per yuan") == "0 yuan per yuan"
    assert units.value(-3.6e-17, "share") == "0%"
    # noise relative to the size of the quantity (a GMV of 3 billion yuan): 2 yuan is noise, 20 yuan is not
    assert units.value(2.0, "yuan", scale=3e9) == "0 yuan"
    assert units.value(20.0, "yuan", scale=3e9) == "20 yuan"
    assert units.is_noise(1e-7, 1e3) and not units.is_noise(1e-5, 1e3)


def test_intervals_and_missing_intervals():
    assert units.estimate(-0.0262, -0.0603, 0.00933, "share") == "-2.6% [-6.0% to 0.93%]"
    assert units.estimate(-8.19e7, -1.2e8, -4e7, "yuan") == "-81.9 million yuan [-120 million to -40 million]"
    # a bound below a million beside one in millions reads in millions; thousands keep their separators
    assert units.interval(-394_682.0, 1.35e6, "yuan") == "[-0.395 million to 1.35 million]"
    assert units.interval(-394_682.0, 189_582.0, "yuan") == "[-394,682 to 189,582]"
    assert units.interval(math.nan, math.nan, "yuan") == "no interval (1 replication)"
    assert units.estimate(5e7, math.nan, math.nan, "yuan") == "50 million yuan no interval (1 replication)"
    assert "nan" not in units.estimate(math.nan, math.nan, math.nan, "share")
    with pytest.raises(ValueError, match="unknown unit"):
        units.value(1.0, "furlongs")


def test_rounded_parts_add_up_to_the_rounded_total():
    shown = units.adding_up(100.0, [100 / 6, 400 / 6, 100 / 6], 1)  # 16.7 + 66.7 + 16.7 would print 100.1
    assert shown == pytest.approx([16.7, 66.6, 16.7]) or shown == pytest.approx([16.6, 66.7, 16.7])
    assert sum(shown) == pytest.approx(100.0)
    total, parts, words = units.money_terms(82.84e6, [101.74e6, -11.64e6, -7.26e6])
    assert words == "million yuan" and total == "82.8"
    assert sum(float(p) for p in parts) == pytest.approx(float(total))


def test_money_axes_have_words_not_an_offset():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1.0e8, 1.6e8])
    units.axis_money(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert labels and all(label.endswith(" M") for label in labels)
    assert ax.yaxis.get_offset_text().get_text() == ""
