"""The partitioned-day prototype (sim/scaling.py, docs/SCALING.md) reproduces the single-process model."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SMALL
from sim import MarketModel
from sim.config import merge
from sim.scaling import bounds, partitioned_public_views, stream_slice
from sim.traffic import Allocator

pytest.importorskip("distributed")


def test_blocks_cover_the_consumers_and_stream_slices_are_the_single_process_draws():
    assert bounds(10, 3) == [(0, 3), (3, 7), (7, 10)] and bounds(5, 5)[-1] == (4, 5)
    from sim.rng import Streams

    whole = Streams(4).get("viewing", 9).random(1000)
    parts = [stream_slice(4, "viewing", 9, a, b - a) for a, b in bounds(1000, 7)]
    assert np.array_equal(np.concatenate(parts), whole)


def test_a_partitioned_day_gives_the_models_demand_and_views_per_room(monkeypatch):
    from distributed import Client, LocalCluster

    # no boosts (no brands, no funds): every public impression is drawn from the allocation rule
    model = MarketModel(**merge(SMALL, {"burn_in": 5, "days": 3, "brands": {"real_n": 0},
                                        "funds": {"cash": 0.0, "traffic": 0.0, "eco": 0.0}}))
    seen = {}
    allocate = Allocator.allocate

    def spy(self, rng, demand, weights, boosts=()):
        out = allocate(self, rng, demand, weights, boosts)
        seen.update(demand=demand.copy(), weights=weights.copy(), rooms=out[1].copy())
        return out

    monkeypatch.setattr(Allocator, "allocate", spy)
    rate, blocks_seen = model.public_view_rate, []

    def record(blk=None):
        lam = rate(blk)  # the driver's rates, as the day computes them (block by block)
        blocks_seen.append(lam.copy())
        return lam

    monkeypatch.setattr(model, "public_view_rate", record)
    day = model.day + 1
    model.step()
    lam = np.concatenate(blocks_seen)
    views = np.bincount(seen["rooms"], minlength=seen["weights"].size)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for parts in (1, 3, 8):
            demand, pviews = partitioned_public_views(lam, seen["weights"], model.cfg.seed, day, parts, client)
            assert np.array_equal(demand, seen["demand"]) and np.array_equal(pviews, views)
    assert demand.sum() > 1000 and (views > 0).sum() > 10  # a real day: thousands of impressions over many rooms
