"""Same config and seed give bit-identical results, in one process or two; seeds matter; streams are paired."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from sim import MarketModel
from sim.rng import PURPOSES, Streams, purpose_code

from conftest import SMALL, merge, simulate


def test_same_seed_is_bit_identical():
    _, a = simulate(days=40, seed=11)
    _, b = simulate(days=40, seed=11)
    assert a.equals(b)


def test_different_seeds_differ():
    _, a = simulate(days=40, seed=11)
    _, b = simulate(days=40, seed=12)
    assert not np.allclose(a["gmv"].to_numpy(), b["gmv"].to_numpy())


_SCRIPT = """
import hashlib, sys
from sim import MarketModel, kernels
kernels.MIN_CHUNK = 256  # small chunks, so this small market runs its passes in as many chunks as threads
m = MarketModel(seed=5, burn_in=0, days=25, consumers={"n": 3000}, hosts={"real_n": 1e7}, merchants={"real_n": 2e7})
m.run_for(25)
df = m.datacollector.get_model_vars_dataframe()
print(hashlib.sha256(df.to_csv(float_format="%.17g").encode()).hexdigest())
"""


def test_two_processes_with_different_hash_seeds_and_thread_counts_agree():
    digests = set()
    for hashseed, threads in (("0", "1"), ("12345", "2"), ("7", "3")):
        env = {**os.environ, "PYTHONHASHSEED": hashseed, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
               "MKL_NUM_THREADS": threads, "NUMBA_NUM_THREADS": threads, "LIVESIM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_streams_are_keyed_by_seed_purpose_and_day():
    s = Streams(3)
    a = s.get("choice", 5).random(4)
    assert np.array_equal(a, Streams(3).get("choice", 5).random(4))
    assert not np.array_equal(a, s.get("choice", 6).random(4))
    assert not np.array_equal(a, s.get("delivery", 5).random(4))
    assert not np.array_equal(a, Streams(4).get("choice", 5).random(4))
    assert len({purpose_code(p) for p in PURPOSES}) == len(PURPOSES)


def test_changing_the_seller_side_keeps_consumer_draws():
    """Common random numbers: consumers and hosts do not depend on how many merchants there are."""
    a = MarketModel(**merge(SMALL, {"seed": 2}))
    b = MarketModel(**merge(SMALL, {"seed": 2, "merchants": {"real_n": 3.75e7, "fraud_share": 0.2}}))
    for name in ("price_sens", "gap_tol", "views", "budget", "trust0", "segment"):
        assert np.array_equal(getattr(a.consumers, name), getattr(b.consumers, name))
    assert np.array_equal(a.follows.key, b.follows.key)
    assert np.array_equal(a.hosts.persona[: a.hosts.n], b.hosts.persona[: b.hosts.n]) or a.hosts.n != b.hosts.n
    n = a.pops["hosts"].agents
    assert np.array_equal(a.hosts.tier[:n], b.hosts.tier[:n])
