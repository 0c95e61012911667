"""Resolution: every population is a sample of the real platform at one ratio.

The simulated market stands for ``U = consumers.n * consumers.scale`` real users,
a share ``phi = U / platform.users`` of the whole platform.  A population with
``real_n`` agents on the whole platform has ``R = phi * real_n`` real agents in
the market, split into strata (host tiers, SP tiers; merchants and brands are one
stratum each) by their shares.  A stratum with ``R_k`` real agents is sampled with

    m_k = round(R_k / scale)                      (the consumers' ratio)
    m_k = max(m_k, min(floor_k, floor(R_k)))      (a floor: finer sampling of small strata)

simulated agents, each standing for ``w_k = R_k / m_k`` real agents.  Its **mass**
``mu_k = w_k / scale`` is 1 at the consumers' ratio; every choice among agents
(follows, traffic, slate candidates, SP capacity) weighs an agent by its mass and
every per-agent rule (costs, order thresholds, priors) reads the agent's flows
divided by its mass, i.e. per real agent.  So platform totals (simulated flows x
scale) do not depend on how finely a population is sampled, and a stratum kept at
a finer ratio (the head of the host distribution) keeps its heavy tail.

A pinned count (``hosts.n`` ...) replaces ``round(R / scale)``: the total is split
over strata by largest remainder and the weights absorb the difference; the run
then reports that the market is not proportional (brand awareness and other
per-consumer relations with sellers are drawn per simulated agent, so pinned
seller counts distort them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.config import MAX_AGENTS, SP_TIERS, ConfigError, SimConfig

HOST_TIERS = ("top", "mid", "small")


@dataclass(frozen=True)
class Stratum:
    """One stratum of a population: how many real agents, how many simulated ones."""

    name: str
    real: float  # real agents in the simulated market
    agents: int  # simulated agents

    @property
    def weight(self) -> float:
        """Real agents one simulated agent stands for."""
        return self.real / self.agents if self.agents else 0.0


@dataclass(frozen=True)
class Population:
    """A sampled population: its strata, and whether its count was pinned by the user."""

    name: str
    strata: tuple[Stratum, ...]
    pinned: bool

    @property
    def agents(self) -> int:
        return sum(s.agents for s in self.strata)

    @property
    def real(self) -> float:
        return sum(s.real for s in self.strata)

    def masses(self, scale: float) -> np.ndarray:
        """Mass (weight / scale) of each stratum."""
        return np.array([s.weight / scale for s in self.strata])

    def stratum_of_each(self) -> np.ndarray:
        """Stratum index of each simulated agent, strata in order."""
        return np.repeat(np.arange(len(self.strata)), [s.agents for s in self.strata])


def market_share(cfg: SimConfig) -> float:
    """Share of the whole platform the simulated market stands for."""
    return cfg.consumers.n * cfg.consumers.scale / cfg.platform.users


def _largest_remainder(total: int, real: np.ndarray) -> np.ndarray:
    if real.sum() <= 0:
        return np.zeros(real.size, np.int64)
    exact = total * real / real.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - out.sum()
    out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out


def sample_population(name: str, real_n: float, shares: list[float], labels: tuple[str, ...], pinned: int | None,
                      scale: float, phi: float, floor: int) -> Population:
    """The strata of one population (see the module docstring)."""
    sh = np.asarray(shares, float)
    real = phi * real_n * sh / sh.sum()
    if pinned is not None:
        if real_n <= 0:
            raise ConfigError(f"invalid config: {name}.n = {pinned}: must be null when {name}.real_n = 0 "
                              "(a population with no real agents cannot be sampled)")
        agents = _largest_remainder(pinned, real)
        if (agents[real > 0] == 0).any():  # every represented stratum keeps at least one agent if it can
            agents = np.where(real > 0, np.maximum(agents, 1), 0)
    else:
        agents = np.rint(real / scale).astype(np.int64)
        agents = np.maximum(agents, np.minimum(floor, np.floor(real)).astype(np.int64))
    strata = tuple(Stratum(lbl, float(r), int(a)) for lbl, r, a in zip(labels, real, agents))
    return Population(name, strata, pinned is not None)


def plan(cfg: SimConfig) -> dict[str, Population]:
    """Every population of the market: hosts (by tier), merchants, brands, SPs (by tier)."""
    c, phi = cfg.consumers, market_share(cfg)
    pops = {
        "hosts": sample_population("hosts", cfg.hosts.real_n, cfg.hosts.tier_shares, HOST_TIERS, cfg.hosts.n,
                                   c.scale, phi, cfg.hosts.min_per_tier),
        "merchants": sample_population("merchants", cfg.merchants.real_n, [1.0], ("all",), cfg.merchants.n,
                                       c.scale, phi, 0),
        "brands": sample_population("brands", cfg.brands.real_n, [1.0], ("all",), cfg.brands.n, c.scale, phi, 0),
        # one SP of every tier at least: a tier's capability is what the funds act through
        "providers": sample_population("providers", cfg.providers.real_n, cfg.providers.tier_shares, SP_TIERS,
                                       cfg.providers.n, c.scale, phi, 1),
    }
    for key, pop in pops.items():
        if pop.agents > MAX_AGENTS:
            raise ConfigError(f"invalid config: {key}.real_n = {getattr(cfg, key).real_n:.6g}: must be small enough that the "
                              f"market samples at most {MAX_AGENTS:,} {key} (now {pop.agents:,}: lower it or "
                              f"consumers.n x consumers.scale, raise platform.users = {cfg.platform.users:.6g}, "
                              f"or pin {key}.n)")
    for key in ("hosts", "merchants"):
        if pops[key].agents == 0:
            raise ConfigError(f"invalid config: consumers.n = {c.n}: too few consumers to sample any {key} "
                              f"({pops[key].real:.3g} real {key} in a market of {c.n * c.scale:.3g} users; "
                              f"raise consumers.n or pin {key}.n)")
    return pops


def describe(pops: dict[str, Population], scale: float, min_agents: int) -> dict[str, object]:
    """What ``summary.json`` says about the sample: sizes, weights, pinned and small populations."""
    out: dict[str, object] = {"populations": {}, "small_populations": {}, "proportional": True, "pinned": []}
    for name, p in pops.items():
        out["populations"][name] = {
            "agents": p.agents, "real": p.real,
            "strata": {s.name: {"agents": s.agents, "real": s.real, "weight": s.weight} for s in p.strata},
        }
        if p.pinned:
            out["pinned"].append(name)
            out["proportional"] = False
        if p.real > 0 and p.agents < min_agents:
            out["small_populations"][name] = p.agents
    return out


def warning_lines(info: dict[str, object], min_agents: int) -> list[str]:
    """Human-readable warnings for small or pinned populations."""
    lines = []
    small = info["small_populations"]
    if small:
        names = ", ".join(f"{k} ({v} agents)" for k, v in small.items())
        lines.append(f"resolution: {names} below min_agents={min_agents}; their per-agent statistics are noisy "
                     "(raise consumers.n: the counts follow it)")
    if info["pinned"]:
        lines.append("resolution: pinned counts for " + ", ".join(info["pinned"]) +
                     ": agents carry weights unequal to the consumers' scale; the market is not proportional")
    return lines


def warn(info: dict[str, object], min_agents: int, stacklevel: int = 2) -> None:
    """Say :func:`warning_lines` as :class:`ResolutionWarning` s."""
    import warnings

    for line in warning_lines(info, min_agents):
        warnings.warn(line, ResolutionWarning, stacklevel=stacklevel + 1)


def stochastic_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integers with expectation ``x`` (floor plus a Bernoulli of the remainder)."""
    x = np.asarray(x, float)
    return np.floor(x + rng.random(x.shape)).astype(np.int64)


def annual_factor(growth: float) -> float:
    """Daily net growth rate from an annual one: (1 + g) ** (1 / 365) - 1."""
    return math.expm1(math.log1p(growth) / 365.0)


class ResolutionWarning(UserWarning):
    """A population is too small for its statistics, or its count was pinned."""
