"""Paired policy comparisons: decomposition identities, closed-market control, CRN, reproducibility."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim import units
from sim.agents.sellers import ENTRY_WAVE, INITIAL, ORGANIC, Kind
from sim.compare import (ARM_METRICS, ARM_UNITS, RATIOS, UNITS, Arm, Experiment, annotate, compare, decompose, headline,
                         load_experiment, paired_t, ratio_ci, report, summarise)

#: 5000 consumers (5% of the platform) in a denser world: 150 hosts, 300 merchants, 5 brands, 5 SPs; a short burn-in.
SMALL = ["consumers.n=5000", "consumers.scale=3000.0", "hosts.real_n=9e6", "merchants.real_n=1.8e7", "days=150", "brands.real_n=3e5",
         "providers.real_n=3e5", "burn_in=30"]
WAVE = 600_000  # real brands entering the platform: 10 brand agents in this world


def _arm(sellers: list[tuple], days: int = 200) -> Arm:
    """A synthetic arm: sellers as (origin, kind, cohort, gmv), GMV spread evenly over the days."""
    df = pd.DataFrame(sellers, columns=["origin", "kind", "cohort", "gmv"])
    df["gmv_self"] = 0.1 * df["gmv"]
    # cumulative GMV after the window edges (policy from day 1): early = days 1-90, late = the last 90
    df["gmv_at_0"], df[f"gmv_at_{days}"] = 0.0, df["gmv"]
    df["gmv_at_90"], df[f"gmv_at_{days - 90}"] = 0.3 * df["gmv"], 0.6 * df["gmv"]
    for col in ("had_sp", "upgraded", "exited", "banned"):
        df[col] = False
    total = df["gmv"].sum()
    metrics = pd.DataFrame({"gmv": np.full(days, total / days)}, index=np.arange(1, days + 1))
    for col in ("active_consumers", "buyers", "orders", "mean_platform_trust", "repurchase_rate",
                "n_sps_over_threshold", "n_brands", "n_sps", "sp_clients", "sp_fees", "fund_cash_spent",
                "fund_eco_spent"):
        metrics[col] = 1.0
    return Arm(metrics, df, {})


def test_decomposition_identities_on_synthetic_arms():
    base = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100.0), (2, Kind.BRAND, INITIAL, 50.0)])
    pol = _arm([(1, Kind.WHITE_LABEL, INITIAL, 70.0), (2, Kind.BRAND, INITIAL, 40.0),
                (9, Kind.BRAND, ENTRY_WAVE, 60.0)])
    d = decompose(base, pol, "entrants")
    assert d["d_gmv_total"] == pytest.approx(20.0)
    assert d["cannibalization"] == pytest.approx(40.0)
    assert d["gmv_treated"] == pytest.approx(60.0)
    assert d["gmv_treated"] == pytest.approx(d["d_gmv_total"] + d["cannibalization"])  # entrants: exact split
    assert d["cannibalization_white_label"] == pytest.approx(30.0) and d["cannibalization_brand"] == pytest.approx(10.0)
    assert d["cannibalization_host_channel"] + d["cannibalization_self_broadcast"] == pytest.approx(40.0)
    # the treated sellers' change by channel adds up to their change (entrants: 10% of it through own stores)
    assert d["d_gmv_treated_host_channel"] == pytest.approx(54.0) and d["d_gmv_treated_self_broadcast"] == pytest.approx(6.0)
    assert d["incumbents_losing_10pct"] == pytest.approx(1.0)
    assert d["d_gmv_total_early"] == pytest.approx(20.0 * 90 / 200) and d["gmv_treated_late"] == pytest.approx(0.4 * 60.0)
    for w in ("", "_early", "_late"):  # the split that always adds up
        assert d[f"d_gmv_total{w}"] == pytest.approx(d[f"d_gmv_treated{w}"] - d[f"cannibalization{w}"]
                                                     - d[f"displaced_unmatched{w}"])
    assert d["gmv_treated_baseline"] == 0.0 and d["displaced_unmatched"] == pytest.approx(0.0, abs=1e-9)
    rows = pd.DataFrame([(r, "p", k, v * (1 + 0.01 * r)) for r in range(5) for k, v in d.items()],
                        columns=["replication", "policy", "metric", "value"])
    dec = summarise(rows).set_index("metric")
    assert dec.loc["incremental_share", "estimate"] + dec.loc["cannibalization_ratio", "estimate"] == pytest.approx(1.0)
    assert dec.loc["incremental_share", "estimate"] == pytest.approx(20 / 60)
    assert {"metric", "estimate", "ci_low", "ci_high"} <= set(summarise(rows).columns)


#: A synthetic entry: incumbents lose 400 million yuan to entrants who sell 600 million, and an organic entrant of
#: the baseline (100 million yuan) never enters in the policy arm: shares 1/6, 4/6 and 1/6 of the entrants' GMV.
E7 = 1e7


def _entry_decomposition(replications: int = 5, spread: float = 0.01) -> pd.DataFrame:
    base = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100 * E7), (2, Kind.BRAND, INITIAL, 50 * E7),
                 (3, Kind.WHITE_LABEL, ORGANIC, 10 * E7)])
    pol = _arm([(1, Kind.WHITE_LABEL, INITIAL, 70 * E7), (2, Kind.BRAND, INITIAL, 40 * E7),
                (9, Kind.BRAND, ENTRY_WAVE, 60 * E7)])
    d = decompose(base, pol, "entrants")
    rows = pd.DataFrame([(r, "entry", k, v * (1 + spread * r)) for r in range(replications) for k, v in d.items()],
                        columns=["replication", "policy", "metric", "value"])
    return summarise(rows)


def _shares(line: str) -> list[float]:
    """The printed shares of the entrants' GMV, in the order printed."""
    import re

    return [float(m) for m in re.findall(r"(-?[\d.]+)% \[[^]]*\](?: \(ensemble range \[[^]]*\]\))? "
                                         r"(?:is new|was taken|from sellers)", line)]


def test_every_decomposition_quantity_has_a_unit():
    base = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100.0)])
    pol = _arm([(1, Kind.WHITE_LABEL, INITIAL, 90.0), (9, Kind.BRAND, ENTRY_WAVE, 20.0)])
    produced = set(decompose(base, pol, "entrants")) | set(RATIOS)
    assert not produced - set(UNITS), f"no unit for {sorted(produced - set(UNITS))}: add them to sim.compare.UNITS"
    assert set(UNITS.values()) <= set(units.UNITS) and set(ARM_UNITS) == set(ARM_METRICS)
    assert set(ARM_UNITS.values()) <= set(units.UNITS)
    dec = annotate(_entry_decomposition())
    assert list(dec.columns) == ["policy", "metric", "unit", "estimate", "ci_low", "ci_high", "method", "note"]
    assert (dec.set_index("metric").loc[["d_gmv_total", "incremental_share", "cost_per_incremental_yuan"], "unit"]
            .tolist() == ["yuan", "share", "yuan per yuan"])


def test_entrant_headline_shares_add_to_100_percent():
    dec = _entry_decomposition()
    exp = Experiment("entry_test", treated="entrants", policies={"entry": {}})
    [line] = headline(exp, dec)
    shares = _shares(line)
    assert len(shares) == 3 and sum(shares) == pytest.approx(100.0)  # 16.7 + 66.7 + 16.7 would print 100.1
    assert "the entrants sold 612 million yuan [600 million to 624 million]" in line and "nan" not in line and "e+" not in line
    # without sellers present in one arm only, two shares carry the whole 100%
    base = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100 * E7)])
    pol = _arm([(1, Kind.WHITE_LABEL, INITIAL, 85 * E7), (9, Kind.BRAND, ENTRY_WAVE, 40 * E7)])
    d = decompose(base, pol, "entrants")
    rows = pd.DataFrame([(r, "entry", k, v * (1 + 0.02 * r)) for r in range(4) for k, v in d.items()],
                        columns=["replication", "policy", "metric", "value"])
    [line] = headline(exp, summarise(rows))
    assert _shares(line) == [62.5, 37.5]


def test_a_split_that_adds_up_when_treated_sellers_are_in_both_arms():
    exp = Experiment("fund_test", treated="sp_clients", policies={"fund": {"funds": {"cash": 1e8}}})
    base = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100 * E7), (2, Kind.WHITE_LABEL, INITIAL, 50 * E7)])
    pol = _arm([(1, Kind.WHITE_LABEL, INITIAL, 130 * E7), (2, Kind.WHITE_LABEL, INITIAL, 45 * E7)])
    pol.sellers.loc[pol.sellers["origin"] == 1, "had_sp"] = True
    d = decompose(base, pol, "sp_clients")
    rows = pd.DataFrame([(r, "fund", k, v * (1 + 0.01 * r)) for r in range(4) for k, v in d.items()],
                        columns=["replication", "policy", "metric", "value"])
    [line] = headline(exp, summarise(rows))
    assert "SP clients sell in both arms" in line and "what adds up is the change in total GMV" in line
    assert "change in total GMV 253.8 million yuan" in line and "= change for SP clients 304.5 million yuan" in line
    assert "+ change for incumbents -50.7 million yuan" in line  # 253.8 = 304.5 - 50.7 as printed
    assert "new to the market" not in line.split("what adds up")[1]


def test_undefined_ratios_are_said_so_with_the_reason():
    # a fund bought a GMV change that is not distinguishable from zero: cost per incremental yuan is undefined
    base = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100 * E7)])
    pol = _arm([(1, Kind.WHITE_LABEL, INITIAL, 100 * E7)])
    pol.sellers["had_sp"] = True
    d = decompose(base, pol, "sp_clients")
    change = {"d_gmv_total": [-3e7, 5e7, -1e7, 2e7], "d_fund_yuan_spent": [1e8] * 4}
    rows = pd.DataFrame([(r, "fund", k, change[k][r] if k in change else v) for r in range(4) for k, v in d.items()],
                        columns=["replication", "policy", "metric", "value"])
    dec = annotate(summarise(rows))
    q = dec.set_index("metric")
    reason = "the 95% interval of the change in total GMV contains zero"
    assert q.loc["cost_per_incremental_yuan", "note"] == f"undefined: {reason}"
    assert np.isfinite(q.loc["cost_per_incremental_yuan", "estimate"])  # the numbers stay in decomposition.csv
    assert q.loc["incremental_share", "note"] == ""  # the treated sellers' GMV is positive: defined
    exp = Experiment("fund_test", treated="sp_clients", policies={"fund": {"funds": {"cash": 1e8}}})
    [line] = headline(exp, dec)
    assert f"cost per incremental yuan undefined ({reason})" in line and "fund spent 100 million yuan" in line
    assert f"| cost_per_incremental_yuan | undefined ({reason}) |" in report(exp, 4, dec)
    # no treated sellers at all: their shares are undefined because there is nothing to share
    none = annotate(summarise(rows.assign(value=np.where(rows["metric"].str.startswith("gmv_treated"), 0.0,
                                                         rows["value"]))))
    assert none.set_index("metric").loc["incremental_share", "note"] == "undefined: the treated sellers' GMV is zero"


def test_one_replication_says_so_instead_of_nan():
    dec = annotate(_entry_decomposition(replications=1))
    assert (dec["note"] == "no interval: 1 replication").all()
    exp = Experiment("entry_test", treated="entrants", policies={"entry": {}})
    text = report(exp, 1, dec)
    assert "no interval (1 replication)" in text and "nan" not in text


def test_an_ensemble_headline_keeps_the_parameter_range():
    from sim import ensemble

    one = _entry_decomposition()  # the quantities; members differ by a factor
    rows = [("entry", m, r, metric, value * (1 + 0.1 * m) * (1 + 0.01 * r))
            for m in range(3) for r in range(3) for metric, value in one.set_index("metric")["estimate"].items()
            if metric not in RATIOS]
    dec = annotate(ensemble.summarise(pd.DataFrame(rows, columns=["policy", "member", "replication", "metric", "value"]),
                                      RATIOS))
    assert list(dec.columns[-5:]) == ["param_low", "param_high", "param_share", "method", "note"]
    [line] = headline(Experiment("entry_test", treated="entrants", policies={"entry": {}}), dec)
    assert "(ensemble range [" in line and sum(_shares(line)) == pytest.approx(100.0)


def test_interval_helpers():
    m, lo, hi = paired_t(np.array([1.0, 2.0, 3.0, 4.0]))
    assert m == 2.5 and lo < 2.5 < hi and hi - lo == pytest.approx(2 * 3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-4)
    est, lo, hi = ratio_ci(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]))
    assert est == pytest.approx(0.5) and lo == pytest.approx(0.5) and hi == pytest.approx(0.5)


def _run(name: str, reps: int, extra: list[str] = (), **kw):
    exp, base, _ = load_experiment(name, [*SMALL, *extra])
    for arm in exp.policies.values():  # the preset's wave, sized for this small world
        if "entry_waves" in arm.get("brands", {}):
            arm["brands"]["entry_waves"] = [[day, WAVE] for day, _ in arm["brands"]["entry_waves"]]
    return compare(exp, base, reps, **kw)


def test_closed_market_entry_is_near_total_cannibalization():
    _, dec = _run("closed_market", 4)
    d = dec.set_index("metric")
    assert 0.8 < d.loc["cannibalization_ratio", "estimate"] < 1.2
    # the pie hardly changes: the total moves by a small fraction of what the entrants sell
    assert abs(d.loc["d_gmv_total", "estimate"]) < 0.25 * d.loc["gmv_treated", "estimate"]
    assert d.loc["gmv_treated", "ci_low"] > 0


def test_growth_enabled_entry_grows_the_pie():
    _, dec = _run("brand_entry", 6)
    d = dec.set_index("metric")
    assert d.loc["incremental_share", "ci_low"] > 0 and d.loc["d_gmv_total", "estimate"] > 0


def test_common_random_numbers_shrink_the_standard_error():
    def se(independent: bool) -> float:
        comp, _ = _run("brand_entry", 6, independent=independent)
        diff = comp[comp["metric"] == "gmv_incumbent"]["difference"]
        return float(diff.std(ddof=1) / np.sqrt(diff.size))

    assert se(False) < se(True)


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.compare", *args], cwd=cwd, capture_output=True, text=True)


def test_the_same_command_twice_gives_identical_files(tmp_path):
    args = ["experiment=white_label_upgrade", "replications=2", *SMALL, "days=100"]
    for out in ("a", "b"):
        res = _cli(*args, "--out", str(tmp_path / out), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip().splitlines()[-1] == str((tmp_path / out).resolve())
    for name in ("comparison.csv", "decomposition.csv", "report.md", "config.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "figures" / "decomposition.png").is_file()


@pytest.mark.parametrize(("args", "key"), [
    (["experiment=nope"], "experiment"),
    (["replications=0"], "replications"),
    (["consumers.n=-1"], "consumers.n"),
    (["--grid", "platform.nothing=1,2"], "platform.nothing"),
])
def test_bad_input_is_one_line_before_anything_runs(tmp_path, args, key):
    res = _cli(*args, "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and key in res.stderr
    assert not (tmp_path / "x").exists()


def test_grid_reruns_the_comparison_across_a_parameter(tmp_path):
    res = _cli("experiment=brand_entry", "replications=2", *SMALL, "days=100", "--grid",
               "platform.feed_load=1.0,3.0", "--out", str(tmp_path / "g"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    grid = pd.read_csv(tmp_path / "g" / "grid.csv")
    assert set(grid["value"]) == {1.0, 3.0} and (tmp_path / "g" / "figures" / "incremental_share_by_parameter.png").is_file()


def test_the_cli_shows_progress_and_no_spurious_worker_warnings(tmp_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "sim.compare", "experiment=guarantees", "replications=2", "days=5", "burn_in=5",
           "consumers.n=1000", "--workers", "2", "--out", str(tmp_path / "c")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "found in sys.modules" not in res.stderr and "2/2" in res.stderr  # the bar reached the end
