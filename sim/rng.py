"""The random-stream plan: one independent numpy stream per (purpose, day).

Every stochastic process draws from ``streams.get(purpose, day)``, a fresh
``Generator`` seeded by ``SeedSequence([seed, code(purpose), day])``.  Because a
stream depends only on the run seed, its purpose label and the day, adding a
seller, an entry wave or a policy changes only the draws of the processes it
touches: paired policy runs share everything else (common random numbers).
Per-consumer draws are prefixes of full-length streams over the consumer slots, so a
consumer's draw does not depend on how many others are active.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Every purpose label in use, with what it drives (documented in docs/MODEL.md).
PURPOSES: dict[str, str] = {
    "init.consumers": "consumer traits and initial trust",
    "init.follows": "initial follow graph",
    "init.hosts": "host tiers, persona, popularity",
    "init.merchants": "initial white-label merchants",
    "arrivals": "number of new consumers",
    "adoption": "each consumer's adoption rank (when it starts shopping in live rooms)",
    "viewing": "public-domain impressions demanded per consumer",
    "private": "visits to followed hosts that broadcast",
    "allocation": "room drawn for each public impression",
    "slot": "item on screen when a viewer enters a room",
    "choice": "buy or not",
    "diversion": "intents in hosts' rooms that move to the brand's own store",
    "budget": "order in which a consumer's intended purchases meet the budget",
    "delivery": "delivered quality of each order",
    "refund": "refund requests and grants",
    "trust_noise": "idiosyncratic platform-trust noise",
    "follow": "follow and unfollow decisions",
    "follow.decay": "follows that lapse without cause",
    "merchant.exit": "merchants closing for reasons outside the market",
    "churn": "consumer churn",
    "host.schedule": "which hosts broadcast today",
    "host.review": "which hosts review their slate today, and their choice noise",
    "merchant.entry": "arrival and traits of new white-label merchants",
    "inspection": "platform inspections and fraud detection",
    "init.brands": "traits of the brands present at start",
    "brand.entry": "traits of an entry wave's brands (key = wave index)",
    "brand.awareness": "which consumers know a brand when it enters (key = the brand's stable origin)",
    "awareness": "viewers becoming aware of a brand they saw",
    "poaching": "brand store hosts poached, and the followers they take",
    "init.providers": "traits of the service providers present at start",
    "provider.entry": "arrival and traits of new service providers",
    "provider.match": "which sellers seek a service provider today, and matching noise",
    "provider.churn": "contracts ending",
}


def purpose_code(purpose: str) -> int:
    """A stable integer for a purpose label (independent of PYTHONHASHSEED)."""
    if purpose not in PURPOSES:
        raise KeyError(f"unknown random-stream purpose {purpose!r}; add it to sim.rng.PURPOSES")
    return zlib.crc32(purpose.encode("utf-8"))


assert len({purpose_code(p) for p in PURPOSES}) == len(PURPOSES), "purpose codes collide"


def uniforms_from(gen: np.random.Generator, start: int) -> np.random.Generator:
    """A copy of ``gen`` whose next uniform is ``gen``'s ``start``-th from now (``gen`` does not move).

    A PCG64 double (``random()``) uses one 64-bit output, so advancing the copy ``start`` steps
    (O(log start)) lands exactly there: a pass cut into chunks draws each chunk from its own copy and
    gets the numbers one ``gen.random(n)`` would give (:func:`sim.kernels.draw_chunks`, :mod:`sim.scaling`).
    """
    if not isinstance(gen.bit_generator, np.random.PCG64):
        raise TypeError(f"uniforms_from needs a PCG64 stream, got {type(gen.bit_generator).__name__}")
    bg = np.random.PCG64(0)
    bg.state = gen.bit_generator.state
    bg.advance(start)
    return np.random.Generator(bg)


class Streams:
    """Factory of independent generators keyed by (seed, purpose, day, key)."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def get(self, purpose: str, day: int = 0, key: int = 0) -> np.random.Generator:
        """The generator for ``purpose`` on ``day`` (reported days are 1, 2, ...; the burn-in's are <= 0).

        ``key`` separates several independent streams of one purpose on one day
        (e.g. one per entry wave), so that adding one does not shift another.
        """
        # days and keys as unsigned words (a seller origin is a large int64)
        ss = np.random.SeedSequence([self.seed, purpose_code(purpose), int(day) % (1 << 32), int(key) % (1 << 64)])
        return np.random.Generator(np.random.PCG64(ss))
