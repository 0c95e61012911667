"""Calendar demand (sim.demand): the Bass adoption of live shopping and shopping festivals."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from sim import MarketModel
from sim.config import AdoptionConfig, ConfigError, PlatformConfig
from sim.demand import adoption_share, festival_day

from conftest import SMALL, merge, simulate


def test_adoption_share_is_a_bass_curve_anchored_on_the_start_date():
    a = AdoptionConfig(enabled=True, share=0.4, potential=0.9, p=0.03, q=0.8)
    years = np.linspace(-6.0, 12.0, 400)
    share = np.array([adoption_share(a, y) for y in years])
    assert adoption_share(a, 0.0) == pytest.approx(0.4, abs=1e-12)
    assert (np.diff(share) >= 0).all() and share[0] == 0.0  # monotone, and nobody shopped long before
    assert share[-1] == pytest.approx(0.9, abs=1e-3)  # saturates at the potential
    growth = np.diff(share)
    peak = int(np.argmax(growth))
    assert 0 < peak < growth.size - 1  # an S-curve: adoption speeds up, then slows down
    assert adoption_share(AdoptionConfig(enabled=False, share=0.4), 3.0) == 1.0
    slow = AdoptionConfig(enabled=True, share=0.4, potential=0.9, p=0.03, q=0.1)
    assert adoption_share(slow, 1.0) < adoption_share(a, 1.0)  # more imitation, faster spread


def test_festival_windows_are_calendar_days():
    p = PlatformConfig()
    assert festival_day(p, datetime.date(2021, 11, 11)) and festival_day(p, datetime.date(2023, 10, 20))
    assert festival_day(p, datetime.date(2021, 6, 18)) and not festival_day(p, datetime.date(2021, 6, 19))
    assert not festival_day(p, datetime.date(2021, 12, 12))


@pytest.mark.parametrize("overrides, key", [
    ({"consumers": {"adoption": {"enabled": True, "share": 0.9, "potential": 0.8}}}, "consumers.adoption.share"),
    ({"platform": {"festivals": [["11-11", "10-20"]]}}, "platform.festivals[0]"),
    ({"platform": {"festivals": [["13-01", "13-02"]]}}, "platform.festivals[0]"),
    ({"platform": {"festival_lift": 9.0}}, "platform.festival_lift"),
])
def test_bad_calendar_settings_fail_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        MarketModel(**merge(SMALL, overrides))


def test_a_festival_lifts_sales_only_on_its_days():
    """Paired runs: identical until the first festival day, then more GMV on festival days."""
    base = {"start_date": "2021-05-20", "days": 40, "seed": 3}
    _, off = simulate(**base, platform={"festival_lift": 0.0})
    _, on = simulate(**base, platform={"festival_lift": 0.5})
    first = int(np.flatnonzero(on["festival"].to_numpy())[0])
    assert first == 12  # 1 June is reported day 13
    assert off.iloc[:first].equals(on.iloc[:first])
    fest = on["festival"].to_numpy() == 1
    # most festival days sell more (a day after a big one can sell less: wallets were spent)
    assert (on["gmv"].to_numpy()[fest] > off["gmv"].to_numpy()[fest]).mean() > 0.75
    assert on["gmv"][fest].sum() > 1.1 * off["gmv"][fest].sum()


def test_adoption_lowers_sales_in_proportion_and_its_spread_grows_them():
    """Only adopters buy: sales start near the adopted share of the all-shopper market and grow with the share."""
    base = {"days": 120, "seed": 5}
    _, all_shop = simulate(**base, consumers={"adoption": {"enabled": False}})
    _, adopt = simulate(**base, consumers={"adoption": {"enabled": True, "share": 0.4, "potential": 1.0,
                                                          "p": 0.05, "q": 2.5}})
    share = adopt["shop_share"].to_numpy()
    assert share[0] == pytest.approx(0.4, abs=0.01) and share[-1] > 0.6
    assert (all_shop["shop_share"] == 1.0).all()
    ratio = adopt["gmv"].rolling(20).sum() / all_shop["gmv"].rolling(20).sum()
    early, late = ratio.iloc[19], ratio.iloc[-1]
    assert 0.25 < early < 0.6  # about the adopted share (trust and wallets shift it a little)
    assert late > early + 0.15  # GMV grows as the shopping population spreads
    assert np.allclose(adopt["dau"], all_shop["dau"], rtol=0.05)  # non-adopters still watch
