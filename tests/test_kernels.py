"""The compiled per-view passes (sim.kernels) give exactly what the numpy expressions they replace give."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels
from sim.choice import logistic
from sim.traffic import alias_draw, alias_table


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261206)


def test_repeat_index_is_np_repeat(rng):
    counts = rng.poisson(1.7, 5000)
    counts[:3] = 0
    assert np.array_equal(kernels.repeat_index(counts), np.repeat(np.arange(counts.size), counts))
    assert kernels.repeat_index(np.zeros(4, np.int64)).size == 0


def test_alias_draws_follow_the_weights_and_pick_as_the_numpy_formula(rng):
    w = rng.gamma(0.5, size=300)
    w[7] = 0.0
    prob, alias = alias_table(w / w.sum())
    u = np.random.default_rng(3).random(200_000)
    col = (u * prob.size).astype(np.int64)
    expected = np.where(u * prob.size - col >= prob[col], alias[col], col)
    assert np.array_equal(alias_draw(np.random.default_rng(3), prob, alias, u.size), expected)
    freq = np.bincount(expected, minlength=w.size) / u.size
    assert freq[7] == 0.0
    assert np.abs(freq - w / w.sum()).max() < 5 * np.sqrt(w.max() / w.sum() / u.size)


def test_passes_that_draw_leave_the_stream_where_numpy_would(monkeypatch):
    """A pass drawing ``n`` uniforms in chunks uses ``gen.random(n)``'s numbers and moves ``gen`` past them."""
    from sim.rng import uniforms_from

    monkeypatch.setattr(kernels, "MIN_CHUNK", 1000)
    monkeypatch.setattr(kernels, "THREADS", 3)
    prob, alias = alias_table(np.full(7, 1 / 7))
    pair = np.stack([np.arange(prob.size), alias], axis=1).ravel()
    gen, ref = np.random.default_rng(11), np.random.default_rng(11)
    out = np.empty(10_001, np.int64)
    kernels.alias_pick(gen, prob, pair, out)
    u = ref.random(out.size)
    assert np.array_equal(out, (u * 7).astype(np.int64))  # equal weights: every column keeps itself
    nxt = gen.random()
    assert nxt == ref.random()  # the next draw is the one after the pass's
    assert uniforms_from(np.random.default_rng(11), out.size).random() == nxt
    later = uniforms_from(np.random.default_rng(11), 5)
    assert later.random(3).tolist() == np.random.default_rng(11).random(8)[5:].tolist()
    with pytest.raises(TypeError, match="PCG64"):
        uniforms_from(np.random.Generator(np.random.MT19937(1)), 3)


@pytest.mark.parametrize("threads", [1, 3])
def test_private_visits_match_numpy(rng, monkeypatch, threads):
    """Edges to hosts on air, each kept with one uniform below min(1, coef * trust), in chunks or not."""
    monkeypatch.setattr(kernels, "MIN_CHUNK", 500)
    monkeypatch.setattr(kernels, "THREADS", threads)
    host = rng.integers(0, 40, 20_000).astype(np.int32)
    key = (np.sort(rng.integers(0, 5000, host.size)).astype(np.int64) << 32) | host  # consumer << 32 | host
    trust, live = rng.random(host.size), rng.random(40) < 0.4
    edge = np.flatnonzero(live[host])
    want = edge[np.random.default_rng(2).random(edge.size) < np.minimum(1.0, 1.7 * trust[edge])]
    gen = np.random.default_rng(2)
    got = kernels.private_visits(gen, key, trust, live, 1.7)
    assert 0 < got.size < edge.size and np.array_equal(got, want)
    ref = np.random.default_rng(2)
    ref.random(edge.size)
    assert gen.random() == ref.random()  # the stream moves past the live edges' uniforms only


@pytest.mark.parametrize("threads", [1, 3])
def test_churn_pass_matches_numpy(rng, monkeypatch, threads):
    """Hazards of the active slots in order, and the slots whose uniform falls below theirs."""
    monkeypatch.setattr(kernels, "MIN_CHUNK", 700)
    monkeypatch.setattr(kernels, "THREADS", threads)
    n = 5000
    trust, active = rng.random(n), rng.random(n) < 0.8
    cheated = np.where(rng.random(n) < 0.05, rng.integers(1, 4, n), 0)
    k = np.arange(cheated.max() + 1)
    hazard = np.where(k > 0, 1.0 - (1.0 - np.array([[0.1], [0.2]])) * np.power(0.7, k), [[0.1], [0.2]])
    haz, gone = kernels.churn(np.random.default_rng(4), trust, active, cheated, 0.35, hazard)
    want = hazard[(trust < 0.35).astype(int), cheated]
    u = np.random.default_rng(4).random(n)
    assert np.array_equal(haz, want[active])
    assert gone.size and np.array_equal(gone, np.flatnonzero(active & (u < want)))


def test_public_views_and_on_screen_match_numpy(rng):
    width, rooms = 4, 50
    slate = rng.integers(0, 90, (rooms, width))
    n_items = rng.integers(1, width + 1, rooms)
    for r in range(rooms):
        slate[r, n_items[r]:] = -1
    live = np.sort(rng.choice(rooms, 30, replace=False))
    n = 10_000
    u, slot = np.random.default_rng(5).random(n), rng.integers(0, live.size, n)
    promoted = np.where(rng.random(n) < 0.1, rng.integers(0, 90, n), -1)
    source = np.where(promoted >= 0, rng.integers(0, 3, n), -1).astype(np.int32)
    room, seller, fund = np.empty(n, np.int64), np.empty(n, np.int64), np.zeros(n, bool)
    kernels.public_views(np.random.default_rng(5), slot, live, promoted, source, 1, n_items.astype(float),
                         slate.ravel(), width, room, seller, fund)
    want_room = live[slot]
    want_seller = slate.ravel()[(u * n_items[want_room]).astype(np.int64) + want_room * width]
    assert np.array_equal(room, want_room)
    assert np.array_equal(seller, np.where(promoted >= 0, promoted, want_seller))
    assert np.array_equal(fund, source == 1)
    assert (seller >= 0).all()  # only carried slate entries are ever on screen
    alone = np.empty(n, np.int64)
    kernels.on_screen(np.random.default_rng(5), want_room, n_items.astype(float), slate.ravel(), width, alone)
    assert np.array_equal(alone, want_seller)


def _views(rng, n=40_000, consumers=3000, sellers=60, rooms=25, segments=3):
    return dict(c=rng.integers(0, consumers, n), s=rng.integers(0, sellers, n), h=rng.integers(0, rooms, n),
                trust=rng.random(consumers), segment=rng.integers(0, segments, consumers).astype(np.int8),
                price_sens=rng.gamma(2.0, 0.5, consumers), table=rng.normal(0.5, 1.0, (sellers, segments)),
                store_room=rng.random(rooms) < 0.3, discounted=rng.random(sellers) < 0.4,
                room_term=rng.normal(0, 0.3, rooms), price=rng.uniform(5, 300, sellers))


def _brands(rng, v, consumers=3000):
    """Branded sellers, brands, awareness slots and bits, affinities and a brand-trust graph for ``_views``."""
    sellers = v["table"].shape[0]
    branded_seller = rng.random(sellers) < 0.5
    brand_seller = branded_seller & (rng.random(sellers) < 0.5)
    slot = np.where(branded_seller, rng.integers(-1, 12, sellers), -1)
    aware = rng.integers(0, 256, (consumers, 2)).astype(np.uint8)
    affinity = rng.gamma(2.0, 0.3, consumers)
    bt_key = np.unique((rng.integers(0, consumers - 100, 2000).astype(np.int64) << 32) | rng.integers(0, 12, 2000))
    bt_consumer = (bt_key >> 32).astype(np.int32)
    bt_rows = kernels.row_starts(bt_key, int(bt_consumer[-1]) + 1)
    assert np.array_equal(np.diff(bt_rows), np.bincount(bt_consumer))
    return dict(branded_seller=branded_seller, brand_seller=brand_seller, slot=slot, aware=aware, affinity=affinity,
                bt_key=bt_key, bt_rows=bt_rows, bt_trust=rng.random(bt_key.size))


@pytest.mark.parametrize("brand_trust", [True, False])
def test_purchase_candidates_give_exactly_the_logit_buyers(rng, brand_trust):
    """cand[draw < logistic(U)] is np.flatnonzero(draw < P(buy)) computed the long way, with the brand term
    read from the awareness bits and the viewer's own brand trust from the brand-trust graph."""
    v, n_priv, w_host, w_brand, w_aw = _views(rng), 3000, 0.4, 0.5, 0.7
    b = _brands(rng, v)
    n = v["c"].size
    host_trust = rng.random(n_priv)
    log_price = np.log(v["price"])
    log_price = np.stack([log_price, log_price + np.log1p(-0.1)], axis=1).ravel()
    const, w_trust = -4.0 + 0.3 * 2, 2.5
    bt = (b["bt_rows"], b["bt_key"], b["bt_trust"]) if brand_trust else (np.zeros(0, np.int64),
                                                                          np.zeros(0, np.int64), np.zeros(0))
    cand, cand_draw, u, t, sale, branded, sb = kernels.purchase_candidates(
        np.random.default_rng(9), v["c"], v["s"], v["h"], n_priv, host_trust, w_host, b["branded_seller"],
        b["brand_seller"], b["slot"], b["aware"], b["affinity"], w_aw, *bt, w_brand, v["trust"], v["segment"],
        v["price_sens"], v["table"].ravel(), v["table"].shape[1], v["store_room"], v["discounted"], v["room_term"],
        log_price, const, w_trust)
    # the long way: branded views, their brand term, the views of brands the viewer has bought
    want = np.flatnonzero(b["branded_seller"][v["s"]])
    assert np.array_equal(branded, want) and np.array_equal(sb, v["s"][want])
    c, sl = v["c"][want], b["slot"][v["s"][want]]
    knows = (sl >= 0) & (((b["aware"][c, np.maximum(sl, 0) >> 3] >> (np.maximum(sl, 0) & 7)) & 1) == 1)
    assert knows.any() and not knows.all()
    brand_term = b["affinity"][c] * np.where(b["brand_seller"][sb], 1.0, knows) + w_aw * knows
    q = (c.astype(np.int64) << 32) | sl
    pos = np.minimum(np.searchsorted(b["bt_key"], q), b["bt_key"].size - 1)
    hit = (sl >= 0) & (b["bt_key"][pos] == q) & brand_trust
    assert hit.any() == brand_trust
    T = v["trust"][v["c"]].copy()
    T[:n_priv] = (1 - w_host) * T[:n_priv] + w_host * host_trust
    T[want[hit]] = (1 - w_brand) * T[want[hit]] + w_brand * b["bt_trust"][pos[hit]]
    st = v["table"][v["s"], v["segment"][v["c"]]]
    st[want] += brand_term
    S = v["store_room"][v["h"]] & v["discounted"][v["s"]]
    U = st + const + w_trust * T + v["room_term"][v["h"]] - v["price_sens"][v["c"]] * log_price[2 * v["s"] + S]
    draw = np.random.default_rng(9).random(n)
    buyers = np.flatnonzero(draw < logistic(U.copy()))
    assert np.array_equal(cand_draw, draw[cand])
    mask = cand_draw < logistic(u.copy())
    assert 0 < buyers.size < n
    assert cand.size < 0.5 * n  # the bound spares most views the logistic
    assert np.array_equal(cand[mask], buyers)
    assert np.array_equal(u, U[cand])  # the same operations in the same order: the same bits
    assert np.array_equal(t, T[cand])
    assert np.array_equal(sale, S[cand])


# ------------------------------------------------------------------ graph edits and per-order updates
def _graph(rng, n=4000, consumers=900, hosts=40):
    from sim.agents.follows import FollowGraph

    g = FollowGraph()
    g.add(rng.integers(0, consumers, n), rng.integers(0, hosts, n), rng.random(n))
    return g


def test_graph_edits_equal_sorted_array_operations(rng):
    """Merge, compaction and row lookups give what np.insert, boolean indexing and searchsorted give."""
    g = _graph(rng)
    key, trust = g.key.copy(), g.trust.copy()
    for day in range(30):  # many small edits through the spare room and its growth
        c, h, t = rng.integers(0, 1000, 300), rng.integers(0, 45, 300), rng.random(300)
        k = (c.astype(np.int64) << 32) | h
        k, first = np.unique(k, return_index=True)
        new = ~np.isin(k, key)
        pos = np.searchsorted(key, k[new])
        key, trust = np.insert(key, pos, k[new]), np.insert(trust, pos, t[first][new])
        assert g.add(c, h, t) == int(new.sum())
        drop = rng.random(key.size) < 0.02
        gone = rng.choice(1000, 5, replace=False)
        closed = np.zeros(45, bool)
        closed[rng.integers(0, 45)] = day % 7 == 0
        g.remove(drop)
        keep = ~drop
        key, trust = key[keep], trust[keep]
        g.remove_consumers(gone)
        keep = ~np.isin(key >> 32, gone)
        key, trust = key[keep], trust[keep]
        g.remove_hosts(closed)
        keep = ~closed[key & 0xFFFFFFFF]
        key, trust = key[keep], trust[keep]
        assert np.array_equal(g.key, key) and np.array_equal(g.trust, trust)
        assert np.array_equal(g.consumer, key >> 32) and np.array_equal(g.host, key & 0xFFFFFFFF)
    qc, qh = rng.integers(0, 1100, 50_000), rng.integers(0, 50, 50_000)  # some beyond every row
    expected = np.searchsorted(key, (qc.astype(np.int64) << 32) | qh)
    expected = np.where((expected < key.size) & (key[np.minimum(expected, key.size - 1)] == ((qc << 32) | qh)),
                        expected, -1)
    assert np.array_equal(g.find(qc, qh), expected)  # in any order
    order = np.argsort((qc.astype(np.int64) << 32) | qh, kind="stable")
    assert np.array_equal(g.find(qc[order], qh[order]), expected[order])  # ascending: the galloping walk


def test_one_edit_pass_is_the_sequence_of_edits(rng):
    """drop, add, drop consumers and hosts in one pass = the same edits one after another (a dropped
    edge that is followed again comes back with its new trust)."""
    import copy

    for _ in range(10):
        g = _graph(rng)
        h = copy.deepcopy(g)
        drop = rng.random(len(g)) < 0.1
        again = np.flatnonzero(drop)[:20]  # some dropped edges come back today
        c = np.r_[rng.integers(0, 1000, 500), g.consumer[again]]
        host = np.r_[rng.integers(0, 45, 500), g.host[again]]
        t, gone, closed = rng.random(c.size), rng.choice(1000, 30, replace=False), rng.random(45) < 0.05
        h.remove(drop)
        added = h.add(c, host, t)
        h.remove_consumers(gone)
        h.remove_hosts(closed)
        assert g.edit(drop=drop, consumer=c, host=host, trust=t, drop_consumers=gone, drop_hosts=closed) == added
        assert np.array_equal(g.key, h.key) and np.array_equal(g.trust, h.trust)
        assert np.array_equal(g.host, h.host) and np.array_equal(g.consumer, h.consumer)


def test_graph_checkpoint_keeps_the_edges_not_the_spare_room(rng):
    import pickle

    g = _graph(rng)
    g.remove(rng.random(len(g)) < 0.5)
    h = pickle.loads(pickle.dumps(g))
    assert len(h) == len(g) and np.array_equal(h.key, g.key) and np.array_equal(h.trust, g.trust)
    assert all(a.size == len(g) for k, a in g.__getstate__().items() if k != "keep_rows")  # no spare room saved
    assert h.add(np.array([5000]), np.array([1]), np.array([0.5])) == 1 and h.key[-1] == (5000 << 32) | 1


def test_graph_holds_its_edges_once_with_a_quarter_spare(rng):
    """Edits run in place: the buffers hold the live edges and at most a quarter more (plus a small floor),
    through growth, drops and a reload."""
    import pickle

    g = _graph(rng)
    for _ in range(40):
        g.edit(drop=rng.random(len(g)) < 0.01, consumer=rng.integers(0, 3000, 400), host=rng.integers(0, 45, 400),
               trust=rng.random(400), drop_consumers=rng.choice(3000, 5, replace=False))
        cap = g._buf["key"].size
        assert all(a.size == cap for a in g._buf.values()) and len(g) <= cap <= 1.25 * len(g) + 2048
    h = pickle.loads(pickle.dumps(g))
    assert h._buf["key"].size <= 1.25 * len(h) + 1024 and np.array_equal(h.key, g.key)


def test_learn_brands_sets_bits_and_counts_new_pairs_once(rng):
    aware, known = np.zeros((50, 2), np.uint8), np.zeros(50, np.int32)
    c, slot = rng.integers(0, 50, 400), rng.integers(-1, 16, 400)
    new = kernels.learn_brands(aware, known, c, slot)
    pairs = {(int(a), int(b)) for a, b in zip(c, slot) if b >= 0}
    assert new == len(pairs)
    bits = np.unpackbits(aware, axis=1, bitorder="little")
    assert {(int(a), int(b)) for a, b in zip(*np.nonzero(bits))} == pairs
    assert np.array_equal(known, bits.sum(axis=1))
    assert kernels.learn_brands(aware, known, c, slot) == 0


def test_learning_from_views_is_the_numpy_draw_then_learn_brands(rng):
    """One uniform per view of a seller with a slot, in view order; below p the viewer learns the brand."""
    viewer = rng.integers(0, 60, 3000)
    view = np.sort(rng.choice(viewer.size, 1200, replace=False))
    aware_slot = rng.integers(-1, 20, 30)  # sellers without a slot (-1) draw nothing
    seller = rng.integers(0, 30, view.size)
    seen = view[aware_slot[seller] >= 0]
    want_aware, want_known = np.zeros((60, 3), np.uint8, order="F"), np.zeros(60, np.int32)
    gen = np.random.default_rng(4)
    learn = seen[gen.random(seen.size) < 0.3]
    by_view = dict(zip(view.tolist(), seller.tolist()))
    want = kernels.learn_brands(want_aware, want_known, viewer[learn], aware_slot[[by_view[j] for j in learn]])
    aware, known = np.zeros((60, 3), np.uint8, order="F"), np.zeros(60, np.int32)
    got_gen = np.random.default_rng(4)
    got = kernels.learn_from_views(got_gen, aware, known, viewer, view, seller, aware_slot, 0.3)
    assert 0 < got == want and np.array_equal(aware, want_aware) and np.array_equal(known, want_known)
    assert got_gen.random() == gen.random()  # the stream moved past exactly the seen views' uniforms


def test_settle_wallets_is_ufunc_at(rng):
    wallet = rng.gamma(2.0, 50.0, 300)
    buyer, paid, back = rng.integers(0, 300, 5000), np.round(rng.gamma(2, 30, 5000), 2), rng.random(5000)
    expected = wallet.copy()
    np.subtract.at(expected, buyer, paid)
    np.add.at(expected, buyer, back)
    kernels.settle_wallets(wallet, buyer, paid, back)
    assert np.array_equal(wallet, expected)


def test_budget_gate_is_the_lexsort_running_sum(rng):
    from sim.choice import budget_gate

    for t in range(20):
        n = int(rng.integers(1, 4000))
        c = rng.integers(0, max(2, n // 3), n)
        price, wallet = np.round(rng.gamma(2, 30, n), 2), rng.gamma(2, 60, c.max() + 1)
        order = np.lexsort((np.random.default_rng(t).random(n), c))
        cs, p = c[order], price[order]
        csum = np.cumsum(p)
        base = np.maximum.accumulate(np.where(np.r_[True, cs[1:] != cs[:-1]], csum - p, 0.0))
        expected = np.empty(n, bool)
        expected[order] = (csum - base) <= wallet[cs] + 1e-9
        assert np.array_equal(budget_gate(np.random.default_rng(t), c, price, wallet), expected)


def test_chunked_passes_do_not_depend_on_the_number_of_threads(rng, monkeypatch):
    """The passes cut into chunks on threads give the one-thread results bit for bit."""
    from sim.agents.follows import FollowGraph

    v = _views(rng, n=30_000)
    n = v["c"].size
    b = _brands(rng, v)
    log_price = np.log(np.repeat(v["price"], 2))
    cand_args = (v["c"], v["s"], v["h"], 2000, rng.random(2000), 0.4, b["branded_seller"], b["brand_seller"],
                 b["slot"], b["aware"], b["affinity"], 0.7, b["bt_rows"], b["bt_key"], b["bt_trust"], 0.5,
                 v["trust"], v["segment"], v["price_sens"], v["table"].ravel(), v["table"].shape[1], v["store_room"],
                 v["discounted"], v["room_term"], log_price, -2.0, 2.5)
    counts = rng.poisson(1.3, 20_000)
    prob, alias = alias_table(rng.gamma(0.5, size=200))
    picks = np.empty(50_000, np.int64)
    g = FollowGraph()
    g.add(rng.integers(0, 3000, 20_000), rng.integers(0, 90, 20_000), rng.random(20_000))
    q = (rng.integers(0, 3000, 40_000).astype(np.int64) << 32) | rng.integers(0, 90, 40_000)
    rng_slate = rng.integers(0, 60, 75)

    def everything():
        pair = np.stack([np.arange(prob.size), alias], axis=1).ravel()
        kernels.alias_pick(np.random.default_rng(4), prob, pair, picks)
        screen = np.empty(n, np.int64)
        kernels.on_screen(np.random.default_rng(6), v["h"], np.full(25, 3.0), rng_slate, 3, screen)
        return (kernels.repeat_index(counts), picks.copy(), screen, kernels.find_sorted(g.key, q),
                *kernels.organic_views(v["s"], v["h"], v["store_room"][v["h"]], 60, 25),
                *kernels.purchase_candidates(np.random.default_rng(8), *cand_args))

    monkeypatch.setattr(kernels, "THREADS", 1)
    one = everything()
    monkeypatch.setattr(kernels, "MIN_CHUNK", 999)
    for threads in (2, 3, 7):
        monkeypatch.setattr(kernels, "THREADS", threads)
        assert len(kernels.chunks(30_000)) == threads
        for a, b in zip(one, everything(), strict=True):
            assert np.array_equal(a, b)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_replacing_edit_and_background_edit(rng):
    """``replace`` gives existing follows the new trust; a background edit gives the same graph."""
    import copy
    import os

    from sim.agents.follows import FollowGraph

    g = _graph(rng)
    h = copy.deepcopy(g)
    old = g.find(g.consumer[:50], g.host[:50])
    c = np.r_[g.consumer[:50], rng.integers(2000, 2100, 50)]
    host, t = np.r_[g.host[:50], rng.integers(0, 40, 50)], rng.random(100)
    gone = g.consumer[100:110].copy()  # a view would change with the edit (in place)
    expected_new = len(np.unique((c[50:].astype(np.int64) << 32) | host[50:]))
    assert g.edit(consumer=c, host=host, trust=t, replace=True, drop_consumers=gone) == expected_new
    at = g.find(c[:50], host[:50])
    assert (old >= 0).all() and np.array_equal(g.trust[at[at >= 0]], t[:50][at >= 0])
    assert h.edit(consumer=c, host=host, trust=t, replace=True, drop_consumers=gone, background=True) is None
    assert np.array_equal(h.key, g.key) and np.array_equal(h.trust, g.trust)  # reading waits for the pass
    r = FollowGraph(rows=True)
    r.edit(consumer=c, host=host, trust=t, background=True)
    assert np.array_equal(r.rows(), np.searchsorted(r.consumer, np.arange(int(r.consumer[-1]) + 2)))
    h.edit(drop_hosts=np.ones(40, bool), background=True)
    pid = os.fork()  # a fork waits for the pass: the child sees the finished graph
    if pid == 0:
        os._exit(0 if len(h) == 0 else 1)
    assert os.waitpid(pid, 0)[1] == 0 and len(h) == 0


def test_organic_views_are_the_bincounts_less_the_funds(rng):
    seller, room, fund = rng.integers(0, 70, 90_000), rng.integers(0, 30, 90_000), rng.random(90_000) < 0.1
    by_seller, by_room = kernels.organic_views(seller, room, fund, 75, 30)
    assert np.array_equal(by_seller, np.bincount(seller, minlength=75) - np.bincount(seller[fund], minlength=75))
    assert np.array_equal(by_room, np.bincount(room, minlength=30) - np.bincount(room[fund], minlength=30))
