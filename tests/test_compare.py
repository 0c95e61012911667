"""Paired policy comparisons: decomposition identities, closed-market control, CRN, reproducibility."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.agents.sellers import ENTRY_WAVE, INITIAL, Kind
from sim.compare import Arm, compare, decompose, load_experiment, paired_t, ratio_ci, summarise

#: 5000 consumers (5% of the platform) in a denser world: 150 hosts, 300 merchants, 5 brands, 5 SPs; a short burn-in.
SMALL = ["consumers.n=5000", "hosts.real_n=9e6", "merchants.real_n=1.8e7", "days=150", "brands.real_n=3e5",
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
                "n_sps_over_threshold", "n_brands", "fund_cash_spent", "fund_eco_spent"):
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
    assert d["incumbents_losing_10pct"] == pytest.approx(1.0)
    assert d["d_gmv_total_early"] == pytest.approx(20.0 * 90 / 200) and d["gmv_treated_late"] == pytest.approx(0.4 * 60.0)
    rows = pd.DataFrame([(r, "p", k, v * (1 + 0.01 * r)) for r in range(5) for k, v in d.items()],
                        columns=["replication", "policy", "metric", "value"])
    dec = summarise(rows).set_index("metric")
    assert dec.loc["incremental_share", "estimate"] + dec.loc["cannibalization_ratio", "estimate"] == pytest.approx(1.0)
    assert dec.loc["incremental_share", "estimate"] == pytest.approx(20 / 60)
    assert {"metric", "estimate", "ci_low", "ci_high"} <= set(summarise(rows).columns)


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
