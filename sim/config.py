"""Typed, validated configuration of a market run.

One dataclass per Hydra config group (``consumers``, ``hosts``, ``merchants``,
``platform``, ``brands``, ``upgrade``, ``providers``, ``funds``; plus ``choice``
and ``output``) under the top-level :class:`SimConfig`.  Every field carries its
allowed range in ``metadata`` so that one validator serves both entry points,
Hydra (``python -m sim``) and plain Python (``MarketModel(**overrides)``), and
every bad value is reported as one line naming the full key, the value and what
is allowed.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import numbers
import functools
import math
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

try:
    from numpy import bool_ as np_bool
except ImportError:  # pragma: no cover - numpy is a dependency
    np_bool = bool

ALLOCATION_RULES = ("conversion", "gmv", "trust", "uniform")


class ConfigError(ValueError):
    """An invalid configuration value; the message is one line naming the key."""


def _f(default: Any, unit: str = "", **bounds: Any) -> Any:
    """A dataclass field with a default, a unit and bounds (ge, gt, le, lt)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"unit": unit, **bounds})
    return field(default=default, metadata={"unit": unit, **bounds})


PROB = {"ge": 0.0, "le": 1.0}
MAX_CONSUMERS = 50_000_000  # about 40 GiB of consumer state: more cannot fit this kind of machine
MAX_BURN_IN = 3650
MAX_DAYS = 36_500  # a century of days; also keeps day counters far inside int32
MAX_WAVE = 10_000_000
MAX_AGENTS = 10_000_000  # simulated agents of one population (hosts, merchants, brands, SPs)
MAX_CANDIDATES = 10_000  # sellers a host scans per review (a table of hosts x candidates)
# a day's per-view state is about 80 bytes a view, a follow edge 16 bytes (twice while it grows):
# beyond these a run cannot fit a machine of this kind, so it is refused before it starts
MAX_VIEWS_PER_DAY = 2e8
MAX_FOLLOW_EDGES = 5e8
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class TrustConfig:
    """Trust dynamics shared by platform trust and host trust."""

    gain: float = _f(0.1787, "1/order", **PROB)  # step towards 1 after a satisfying order
    loss_aversion: float = _f(2.25, "ratio", ge=1.0)  # loss step = gain * loss_aversion
    refund_relief: float = _f(0.5, "share", **PROB)  # share of the trust loss a refund undoes
    compensation_relief: float = _f(0.3, "share", **PROB)  # extra share undone by 10x compensation
    drift: float = _f(0.02, "1/day", **PROB)  # daily reversion towards each consumer's initial trust
    word_of_mouth: float = _f(0.005, "trust units/day per unit of satisfaction gap", ge=0.0)
    satisfaction_ref: float = _f(0.85, "share of orders meeting expectation", **PROB)  # neutral reputation
    reputation_memory: float = _f(30.0, "days (EWMA horizon)", ge=1.0)
    noise_sd: float = _f(0.0, "trust units/day", ge=0.0)  # daily idiosyncratic noise in platform trust


@dataclass
class AdoptionConfig:
    """The spread of live shopping among users: a Bass diffusion on the calendar (sim/demand.py)."""

    enabled: bool = _f(True, "switch (off: every user shops)")
    share: float = _f(0.63, "share of users who shop in live rooms on start_date", **PROB)
    potential: float = _f(0.9782, "share of users who will ever shop in live rooms (Bass m)", gt=0.0, le=1.0)
    p: float = _f(0.02, "1/year: Bass coefficient of innovation", gt=0.0, le=10.0)
    q: float = _f(1.426, "1/year: Bass coefficient of imitation", ge=0.0, le=20.0)


@dataclass
class ConsumersConfig:
    """The consumer population (vectorised; not Mesa agents)."""

    n: int = _f(100_000, "consumers", ge=1, le=MAX_CONSUMERS)
    scale: float = _f(3000.0, "real users per simulated consumer", gt=0.0)
    growth: float = _f(0.0004133, "net growth of the user base per year (0: a steady state)", gt=-1.0, le=10.0)
    segments: list[float] = _f([0.5, 0.5], "share by segment")  # audience segments (e.g. female, male)
    trust_init_mean: float = _f(0.55, "trust", gt=0.0, le=1.0)  # 0: no trust to scale arrivals and viewing by
    trust_init_conc: float = _f(20.0, "beta concentration", gt=0.0)
    price_sens_mean: float = _f(1.4, "utility per log-yuan", ge=0.0)
    price_sens_sd: float = _f(0.35, "log-normal sd", ge=0.0)
    gap_tol_mean: float = _f(0.12, "quality units", ge=0.0)
    gap_tol_sd: float = _f(0.04, "quality units", ge=0.0)
    brand_affinity_mean: float = _f(0.5, "utility", ge=0.0)
    brand_affinity_sd: float = _f(0.3, "utility", ge=0.0)
    views_mean: float = _f(1.0, "live-room views/day", ge=0.0)
    views_sd: float = _f(0.8, "log-normal sd", ge=0.0)
    budget_mean: float = _f(51.55, "yuan/day", gt=0.0)
    budget_sd: float = _f(0.8, "log-normal sd", ge=0.0)
    wallet_cap_days: float = _f(30.0, "days of budget", gt=0.0)
    follows_init: float = _f(0.9955, "hosts per consumer (Poisson mean)", ge=0.0)
    host_trust_init_mean: float = _f(0.6, "trust", gt=0.0, le=1.0)  # visit probabilities are relative to it
    view_trust_elasticity: float = _f(1.0, "elasticity", ge=0.0)  # viewing rises with platform trust
    visit_prob: float = _f(0.4555, "per followed live host and day", **PROB)
    arrival_trust_elasticity: float = _f(2.0, "elasticity", ge=0.0)  # arrivals rise with platform trust
    base_churn: float = _f(0.0004, "1/day", **PROB)
    cheated_churn: float = _f(0.08, "per cheated order", **PROB)
    churn_trust_threshold: float = _f(0.35, "trust", **PROB)  # below it, churn hazards double
    follow_prob: float = _f(0.25, "per satisfying public-domain order", **PROB)
    unfollow_prob: float = _f(0.5, "per cheating host-channel order", **PROB)
    follow_decay: float = _f(0.01, "1/day: a follow lapses without cause", **PROB)
    trust: TrustConfig = field(default_factory=TrustConfig)
    adoption: AdoptionConfig = field(default_factory=AdoptionConfig)


@dataclass
class ChoiceConfig:
    """Binary-logit purchase rule for a viewer facing the item on screen."""

    intercept: float = _f(-3.359, "utility")
    w_trust: float = _f(3.0, "utility per trust unit")
    w_quality: float = _f(2.0, "utility per quality unit")
    w_awareness: float = _f(1.0, "utility when the viewer knows the brand")
    w_guarantee: float = _f(0.15, "utility per active guarantee")
    w_persona: float = _f(0.8, "utility per persona unit")
    w_segment_fit: float = _f(0.6, "utility")
    private_host_weight: float = _f(0.6, "share", **PROB)  # weight of host trust vs platform trust
    brand_trust_weight: float = _f(0.5, "share", **PROB)  # weight of own trust in a brand bought before


@dataclass
class HostsConfig:
    """Talent streamers who carry sellers' goods for a commission."""

    real_n: float = _f(3.0e5, "selling talent hosts on the whole platform (platform.users users)", gt=0.0)
    n: int | None = _f(None, "simulated hosts (null: follow the resolution)", ge=1, le=MAX_AGENTS)
    min_per_tier: int = _f(20, "least simulated hosts per tier (finer sampling of the head)", ge=0)
    tier_shares: list[float] = _f([0.02, 0.18, 0.80], "share top/mid/small")
    tier_commission: list[float] = _f([0.30, 0.20, 0.15], "share of GMV")
    tier_broadcast_prob: list[float] = _f([0.6, 0.5, 0.4], "1/day")
    tier_popularity: list[float] = _f([40.0, 6.0, 1.0], "relative follow attraction")
    persona_mean: float = _f(0.5, "persona units", **PROB)
    slate_size: int = _f(5, "sellers carried", ge=1)
    candidates: int = _f(40, "sellers scanned per review", ge=1, le=MAX_CANDIDATES)
    review_days: float = _f(7.0, "mean days between slate reviews", ge=1.0)
    refund_penalty: float = _f(4.0, "score penalty per refund rate", ge=0.0)
    choice_noise: float = _f(0.5, "Gumbel scale on log score", ge=0.0)


@dataclass
class MerchantsConfig:
    """White-label merchants (factory-cluster sellers)."""

    real_n: float = _f(1.0e6, "white-label merchants on the whole platform (platform.users users)", gt=0.0)
    n: int | None = _f(None, "simulated merchants (null: follow the resolution)", ge=1, le=MAX_AGENTS)
    price_median: float = _f(74.43, "yuan", gt=0.0)
    price_sd: float = _f(0.6, "log-normal sd", ge=0.0)
    quality_a: float = _f(3.0, "beta a", gt=0.0)
    quality_b: float = _f(3.0, "beta b", gt=0.0)
    inflation_mean: float = _f(0.04, "quality units", ge=0.0)  # claim inflation (exaggeration)
    fraud_share: float = _f(0.03, "share", **PROB)  # fraud rings selling counterfeits
    fraud_inflation: float = _f(0.35, "quality units", ge=0.0)
    counterfeit_quality: float = _f(0.15, "quality units", **PROB)
    delivery_sd: float = _f(0.08, "quality units", ge=0.0)
    unit_cost_share: float = _f(0.55, "share of price", **PROB)
    fixed_cost: float = _f(2.0, "yuan/day per real merchant", ge=0.0)
    return_loss_share: float = _f(0.2, "share of unit cost lost per return", **PROB)
    exit_patience: int = _f(60, "days of losses before exit", ge=1)
    exit_hazard: float = _f(0.0019, "1/day: a merchant closes for reasons outside the market", **PROB)
    profit_memory: float = _f(30.0, "days (EWMA horizon)", ge=1.0)
    entry_rate: float = _f(0.0, "new merchants/day per initial merchant beyond replacing those that left", ge=0.0)
    entry_lag: float = _f(90.0, "days over which entry closes a gap to the market's merchant population", ge=1.0)
    store_share: float = _f(0.05, "share running their own store broadcast", **PROB)
    segment_fit_sd: float = _f(0.5, "fit sd", ge=0.0)


@dataclass
class GuaranteesConfig:
    """Consumer guarantees (seed: in force from 1 June 2021)."""

    return_shipping: bool = _f(True)
    counterfeit_10x: bool = _f(True)
    no_reason_7d: bool = _f(True)
    base_refund_prob: float = _f(0.3, "share of cheated buyers refunded without guarantees", **PROB)
    no_reason_return_prob: float = _f(0.03, "share of satisfied buyers returning", **PROB)
    shipping_comp: float = _f(8.0, "yuan per return", ge=0.0)


@dataclass
class QualityControlConfig:
    """Inspection, anti-fraud, bans and traffic demotion."""

    enabled: bool = _f(True)
    inspect_prob: float = _f(0.01327, "per seller and day", **PROB)
    complaint_inspect: float = _f(0.5, "extra inspection per unit refund rate", ge=0.0)
    fraud_detect_prob: float = _f(0.6, "per inspection of a fraud ring", **PROB)
    inflation_threshold: float = _f(0.15, "quality units", ge=0.0)
    demotion_factor: float = _f(0.2, "traffic weight multiplier", **PROB)
    demotion_days: int = _f(30, "days", ge=0, le=MAX_DAYS)
    claim_cut: float = _f(0.5, "share of its exaggeration a demoted seller drops", **PROB)


@dataclass
class PlatformConfig:
    """The platform: traffic supply and allocation, quality control, guarantees, take."""

    users: float = _f(3e8, "real users of the whole platform (2021 DAU about 3.08e8)", gt=0.0)
    views_per_impression: float = _f(0.05, "live-room views per feed impression (click-through)", gt=0.0, le=1.0)
    allocation: str = _f("conversion", "rule: " + ", ".join(ALLOCATION_RULES))
    feed_load: float = _f(2.0, "public-domain live-room views per unit viewing", ge=0.0)
    allocation_power: float = _f(1.0, "exponent on the ranking score", ge=0.0)
    exploration: float = _f(0.2, "share of traffic spread uniformly", **PROB)
    score_memory: float = _f(14.0, "days (EWMA horizon)", ge=1.0)
    take_rate: float = _f(0.009902, "share of GMV", **PROB)
    festivals: list[list[str]] = _f([["10-20", "11-11"], ["06-01", "06-18"]], "calendar windows [MM-DD, MM-DD]")
    festival_lift: float = _f(1.353, "utility added to every purchase on a festival day", ge=-5.0, le=5.0)
    quality_control: QualityControlConfig = field(default_factory=QualityControlConfig)
    guarantees: GuaranteesConfig = field(default_factory=GuaranteesConfig)


STEPS_STAGES = ("distribution", "content", "self_broadcast", "snowball")
SP_TIERS = ("local", "brand", "business_leader", "core", "strategic_core")


@dataclass
class BrandsConfig:
    """Traditional brands: entry, the STEPS path, self-broadcast, and their growth channels."""

    real_n: float = _f(1.0e4, "traditional brands on the whole platform at start (platform.users users)", ge=0.0)
    n: int | None = _f(None, "simulated brands at start (null: follow the resolution)", ge=1, le=MAX_AGENTS)
    entry_waves: list[list[int]] = _f([], "list of [day, real brands entering the whole platform]", ge=0)
    aware_share: list[float] = _f([0.35, 0.25], "share of each segment aware at entry", **PROB)
    price_median: float = _f(120.0, "yuan", gt=0.0)
    price_sd: float = _f(0.4, "log-normal sd", ge=0.0)
    quality_mean: float = _f(0.8, "quality units", **PROB)
    quality_sd: float = _f(0.08, "quality units", ge=0.0)
    inflation: float = _f(0.02, "quality units", ge=0.0)
    unit_cost_share: float = _f(0.45, "share of price", **PROB)
    fixed_cost: float = _f(360.0, "yuan/day per real brand", ge=0.0)
    entry_budget: float = _f(180000.0, "yuan per real brand", ge=0.0)
    ad_spend: float = _f(360.0, "yuan/day per real brand in the first two stages", ge=0.0)
    ad_cpm: float = _f(2.5, "yuan per 1000 feed impressions", gt=0.0)
    stage_orders: list[float] = _f([2700.0, 8100.0, 18000.0], "orders of one real brand (x speed) to leave each of the first 3 stages", gt=0.0)
    sp_speed: float = _f(1.5, "extra progress per unit SP room-operation capability", ge=0.0)
    content_fit_gain: float = _f(0.01, "1/day: segment fit moves towards 1 while testing content (x segments x belief share)", **PROB)
    belief_sd: float = _f(0.5, "fit units: noise in a brand's guess of which segment is its audience", ge=0.0)
    belief_orders: float = _f(200.0, "real orders a brand's prior guess of its audience counts for", gt=0.0)
    awareness_per_view: float = _f(0.2, "chance a viewer becomes aware of the brand", **PROB)
    self_broadcast: bool = _f(True)  # brands may open their own store broadcasts (STEPS stage 3)
    store_hosts: int = _f(1, "store accounts opened per self-broadcasting brand", ge=0)
    store_persona: float = _f(0.6, "persona units", **PROB)
    self_broadcast_discount: float = _f(0.1, "share of list price", **PROB)
    competitor_penalty: float = _f(1.0, "host willingness lost per unit share of a brand's sales diverted to its store", **PROB)
    switch_cost: float = _f(1.0, "utility cost of leaving a host's room to buy in the brand's store", ge=0.0)
    price_comp: float = _f(0.0, "share of the self-broadcast discount paid to distributing hosts", **PROB)
    snowball_boost: float = _f(54000.0, "feed impressions/day per real brand in the snowball stage", ge=0.0)
    exit_traction: float = _f(9.0, "orders/day (EWMA) of one real brand below which a judged brand exits", ge=0.0)
    trial_days: int = _f(180, "days on the platform after which a brand without traction stops", ge=1)
    poach_prob: float = _f(0.005, "per store host and day, when its outside option far exceeds its wage", **PROB)
    store_wage: float = _f(1000.0, "yuan/day a brand pays one real store host", gt=0.0)
    poach_follower_share: float = _f(0.5, "share of followers a poached host takes", **PROB)
    spillover: bool = _f(True)  # endorsement: a satisfying brand order lifts platform trust
    spillover_strength: float = _f(0.05, "extra trust step towards 1 per satisfying brand order", **PROB)
    presence_viewing: bool = _f(True)  # known brands raise viewing
    presence_view_strength: float = _f(0.1, "viewing x (1 + s * log(1 + known brands)) / start level", ge=0.0)
    presence_arrivals: bool = _f(True)  # known brands raise arrivals
    presence_arrival_strength: float = _f(0.3, "arrivals x (1 + s * mean log(1 + known brands)) / start level", ge=0.0)


@dataclass
class UpgradeConfig:
    """White-label merchants investing in quality and upgrading to new brands."""

    enabled: bool = _f(True)
    invest_share: float = _f(0.3, "share of positive daily profit invested in quality", **PROB)
    efficiency: float = _f(8.3e-6, "quality gain per yuan a real merchant invests x (1 - quality)", ge=0.0)
    subsidy: float = _f(0.0, "platform top-up per yuan invested", ge=0.0)
    quality_threshold: float = _f(0.85, "quality units", **PROB)
    refund_threshold: float = _f(0.1, "smoothed refund rate", **PROB)
    min_orders: int = _f(3000, "cumulative orders of one real merchant", ge=0)
    markup: float = _f(0.3, "price increase at upgrade", ge=0.0)
    min_investment: float = _f(20000.0, "yuan a real merchant must have invested (own + subsidy) to upgrade", ge=0.0)
    cost_per_quality: float = _f(0.5, "unit-cost rise per unit of quality gained, share of price", ge=0.0)


@dataclass
class ProvidersConfig:
    """Service providers (SPs): five tiers, capabilities, capacity, fees; entry and exit."""

    real_n: float = _f(1000.0, "service providers on the whole platform (platform.users users)", ge=0.0)
    n: int | None = _f(None, "simulated service providers (null: follow the resolution)", ge=1, le=MAX_AGENTS)
    tier_shares: list[float] = _f([0.4, 0.25, 0.15, 0.12, 0.08], "share " + "/".join(SP_TIERS))
    tier_profile: list[list[float]] = _f([[0.15, 0.35, 0.10], [0.30, 0.40, 0.50], [0.55, 0.40, 0.30],
                                          [0.60, 0.65, 0.60], [0.80, 0.80, 0.80]],
                                         "per tier: mean [traffic_op, room_op, incubation] in [0, 1]", **PROB)
    capability_sd: float = _f(0.1, "capability units", ge=0.0)
    tier_capacity: list[int] = _f([2, 4, 8, 15, 30], "clients of one real SP", ge=0)
    tier_fee: list[float] = _f([0.03, 0.04, 0.05, 0.06, 0.07], "share of client GMV", **PROB)
    conversion_uplift: float = _f(0.5, "utility per unit room-operation capability", ge=0.0)
    traffic_uplift: float = _f(1.0, "room weight x (1 + u * traffic capability)", ge=0.0)
    incubation: bool = _f(True)  # SPs' host-incubation capability acts (off: no protection, no re-growing)
    incubation_protect: float = _f(0.8, "store wage x (1 + p * incubation capability) in a host's poaching decision", **PROB)
    seek_prob: float = _f(0.05, "per day, brands and new brands not fully served weigh hiring an SP", **PROB)
    merchant_seek_prob: float = _f(0.002, "per day, white-label merchants not fully served weigh hiring an SP", **PROB)
    commission_guess: float = _f(0.2, "share of GMV a seller expects to pay hosts, in its hiring decision", **PROB)
    match_noise: float = _f(0.02, "Gumbel scale on a seller's expected gain per yuan of GMV", ge=0.0)
    contract_churn: float = _f(0.003, "per client and day", **PROB)
    fixed_cost: float = _f(5.0, "yuan/day per real SP", ge=0.0)
    client_cost: float = _f(2.0, "yuan/day per real client", ge=0.0)
    invest_share: float = _f(0.5, "share of positive operating profit and of cash incentives an SP reinvests", **PROB)
    invest_capability: float = _f(2e-7, "capability per yuan one real SP invests x (1 - capability)", ge=0.0)
    invest_capacity: float = _f(5e-6, "real clients per yuan one real SP invests", ge=0.0)
    capable_threshold: float = _f(0.5, "mean capability of a 'capable' SP", **PROB)
    exit_patience: int = _f(90, "days of negative expected value before exit", ge=1)
    profit_memory: float = _f(30.0, "days (EWMA horizon)", ge=1.0)
    entry_rate: float = _f(0.001, "new SPs/day per SP of the initial population, at full expected margin", ge=0.0)
    gmv_threshold: float = _f(1e8, "yuan/year at platform scale (seed: 200 SPs over 100M)", gt=0.0)


@dataclass
class FundsConfig:
    """The platform's SP funds (seed: second half of 2021), in platform-scale units."""

    cash: float = _f(1e8, "yuan at platform scale (seed: 100 million)", ge=0.0)
    traffic: float = _f(1e11, "feed impressions at platform scale (seed: 100 billion)", ge=0.0)
    eco: float = _f(1e9, "yuan at platform scale (seed: 1 billion)", ge=0.0)
    start_day: int = _f(1, "day", ge=1)
    horizon_days: int = _f(183, "days (seed: the half year)", ge=1)
    cash_rate: float = _f(0.1, "yuan of incentive per yuan of verified client GMV growth", ge=0.0)
    cash_window: int = _f(30, "days over which client growth is measured, paid and clawed back", ge=1)


@dataclass
class OutputConfig:
    """What a command-line run writes."""

    figures: bool = _f(True)


@dataclass
class SimConfig:
    """A whole market run."""

    seed: int = _f(0, "", ge=0)
    days: int = _f(365, "reported days", ge=1, le=MAX_DAYS)
    burn_in: int = _f(720, "days simulated before day 1 (not reported)", ge=0, le=MAX_BURN_IN)
    start_date: str = _f("2021-01-01", "calendar date of reported day 1 (ISO YYYY-MM-DD)")
    checkpoint_every: int = _f(0, "days between checkpoints of a run folder (0: none)", ge=0)
    min_agents: int = _f(30, "agents a population needs for its statistics (fewer: a warning)", ge=1)
    consumers: ConsumersConfig = field(default_factory=ConsumersConfig)
    choice: ChoiceConfig = field(default_factory=ChoiceConfig)
    hosts: HostsConfig = field(default_factory=HostsConfig)
    merchants: MerchantsConfig = field(default_factory=MerchantsConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    brands: BrandsConfig = field(default_factory=BrandsConfig)
    upgrade: UpgradeConfig = field(default_factory=UpgradeConfig)
    providers: ProvidersConfig = field(default_factory=ProvidersConfig)
    funds: FundsConfig = field(default_factory=FundsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


# --------------------------------------------------------------------------- validation

def _describe(meta: Mapping[str, Any], typ: str) -> str:
    parts = []
    if "ge" in meta:
        parts.append(f">= {meta['ge']}")
    if "gt" in meta:
        parts.append(f"> {meta['gt']}")
    if "le" in meta:
        parts.append(f"<= {meta['le']}")
    if "lt" in meta:
        parts.append(f"< {meta['lt']}")
    return f"{typ} " + " and ".join(parts) if parts else typ


def _fail(key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"invalid config: {key} = {value!r}: must be {allowed}")


def _check_number(key: str, value: Any, typ: type, meta: Mapping[str, Any]) -> float | int:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np_bool)):
        value = int(value)  # numpy integers (pandas rows, EMA Workbench) are integers
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np_bool)):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if typ is float and isinstance(value, str):
            try:  # YAML spells 1e8 as a string
                value = float(value)
            except ValueError:
                raise _fail(key, value, _describe(meta, "a number")) from None
        else:
            raise _fail(key, value, _describe(meta, "an integer" if typ is int else "a number"))
    if typ is int:
        if isinstance(value, float):
            if not value.is_integer():
                raise _fail(key, value, _describe(meta, "an integer"))
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise _fail(key, value, _describe(meta, "a finite number"))
    name = "an integer" if typ is int else "a number"
    if ("ge" in meta and value < meta["ge"]) or ("gt" in meta and value <= meta["gt"]):
        raise _fail(key, value, _describe(meta, name))
    if ("le" in meta and value > meta["le"]) or ("lt" in meta and value >= meta["lt"]):
        raise _fail(key, value, _describe(meta, name))
    return value


@functools.lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    """Resolved field types of a config dataclass (resolving them is slow; sweeps validate thousands)."""
    return typing.get_type_hints(cls)


def _build(cls: type, data: Mapping[str, Any] | None, prefix: str) -> Any:
    """Build dataclass ``cls`` from a mapping, validating every field."""
    data = dict(data or {})
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise ConfigError(f"invalid config: unknown key {prefix}{key}; allowed keys here: {allowed}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        typ = hints[name]
        if name not in data:
            continue
        value = data[name]
        if dataclasses.is_dataclass(typ):
            if isinstance(value, typ):
                value = dataclasses.asdict(value)
            if not isinstance(value, Mapping):
                raise _fail(key, value, f"a mapping of {typ.__name__} fields")
            kwargs[name] = _build(typ, value, key + ".")
        else:
            kwargs[name] = _check_value(key, value, typ, f.metadata)
    return cls(**kwargs)


def _check_value(key: str, value: Any, typ: Any, meta: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(typ)
    if typ is bool:
        if not isinstance(value, (bool, np_bool)):
            raise _fail(key, value, "true or false")
        return bool(value)
    if typ in (int, float):
        return _check_number(key, value, typ, meta)
    if typ is str:
        if isinstance(value, datetime.date):  # YAML reads 2021-01-01 as a date
            return value.isoformat()
        if not isinstance(value, str):
            raise _fail(key, value, "a string")
        return value
    if origin is Literal:
        if value not in typing.get_args(typ):
            raise _fail(key, value, "one of " + ", ".join(map(str, typing.get_args(typ))))
        return value
    if origin in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise _fail(key, value, "a list")
        (item,) = typing.get_args(typ)[:1]
        return [_check_value(f"{key}[{i}]", v, item, meta) for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(typ):
            return None
        inner = [t for t in typing.get_args(typ) if t is not type(None)]
        return _check_value(key, value, inner[0], meta)
    raise TypeError(f"unsupported config type {typ!r} for {key}")  # a programming error


def _cross_check(cfg: SimConfig) -> None:
    """Constraints that involve more than one field."""
    try:
        if not _ISO_DATE.fullmatch(cfg.start_date):
            raise ValueError(cfg.start_date)
        start = datetime.date.fromisoformat(cfg.start_date)
    except ValueError:
        raise _fail("start_date", cfg.start_date, "an ISO date YYYY-MM-DD") from None
    try:  # the burn-in's days come before start_date, the reported days after it
        start - datetime.timedelta(days=cfg.burn_in + 1), start + datetime.timedelta(days=cfg.days)
    except OverflowError:
        raise _fail("start_date", cfg.start_date, f"a date whose run (burn_in = {cfg.burn_in} days before it, "
                    f"days = {cfg.days} from it) stays within the years 1-9999") from None
    c, h = cfg.consumers, cfg.hosts
    for group in ("hosts", "merchants", "brands", "providers"):
        real_n = getattr(cfg, group).real_n
        if real_n > cfg.platform.users:
            raise _fail(f"{group}.real_n", real_n, f"at most platform.users = {cfg.platform.users:.6g}")
    views = c.n * c.views_mean * cfg.platform.feed_load
    if views > MAX_VIEWS_PER_DAY:
        raise _fail("platform.feed_load", cfg.platform.feed_load,
                    f"small enough that consumers.n x consumers.views_mean x platform.feed_load <= {MAX_VIEWS_PER_DAY:.3g} "
                    f"public views a day (now {views:.3g}; more cannot fit in memory)")
    if c.n * c.follows_init > MAX_FOLLOW_EDGES:
        raise _fail("consumers.follows_init", c.follows_init,
                    f"at most {MAX_FOLLOW_EDGES / c.n:.6g} (consumers.n x follows_init <= {MAX_FOLLOW_EDGES:.3g} follow edges)")
    a = c.adoption
    if a.enabled and a.share >= a.potential:
        raise _fail("consumers.adoption.share", a.share, f"below consumers.adoption.potential = {a.potential}")
    for i, window in enumerate(cfg.platform.festivals):
        key = f"platform.festivals[{i}]"
        try:
            first, last = (datetime.date.fromisoformat(f"2000-{day}") for day in window)  # 2000: a leap year
        except (ValueError, TypeError):
            raise _fail(key, window, "a pair of calendar days [MM-DD, MM-DD]") from None
        if len(window) != 2 or first > last:
            raise _fail(key, window, "a pair [MM-DD, MM-DD] with the first day not after the last (no window across New Year)")
    _shares("consumers.segments", c.segments, None)
    _shares("hosts.tier_shares", h.tier_shares, 3)
    for key, values in (("hosts.tier_commission", h.tier_commission),
                        ("hosts.tier_broadcast_prob", h.tier_broadcast_prob)):
        if len(values) != 3 or any(not 0.0 <= v <= 1.0 for v in values):
            raise _fail(key, values, "a list of 3 probabilities in [0, 1] (top, mid, small)")
    if len(h.tier_popularity) != 3 or any(v <= 0 for v in h.tier_popularity):
        raise _fail("hosts.tier_popularity", h.tier_popularity, "a list of 3 numbers > 0 (top, mid, small)")
    if cfg.platform.allocation not in ALLOCATION_RULES:
        raise _fail("platform.allocation", cfg.platform.allocation, "one of " + ", ".join(ALLOCATION_RULES))
    if c.trust.gain * c.trust.loss_aversion > 1.0:
        raise _fail("consumers.trust.loss_aversion", c.trust.loss_aversion,
                    f"at most 1 / consumers.trust.gain = {1.0 / c.trust.gain:.3g} (a loss step above 1)")
    if h.slate_size > h.candidates:
        raise _fail("hosts.slate_size", h.slate_size, f"<= hosts.candidates = {h.candidates}")
    b, p = cfg.brands, cfg.providers
    worst = max(h.tier_commission) + b.price_comp * b.self_broadcast_discount + cfg.platform.take_rate + max(p.tier_fee)
    if worst >= 1.0:  # at exactly 1, rounding each share to the fen could leave the seller -1 fen
        raise _fail("platform.take_rate", cfg.platform.take_rate,
                    f"small enough that commission + compensation + take + SP fee < 1 (now {worst:.3g})")
    if len(b.aware_share) != len(c.segments):
        raise _fail("brands.aware_share", b.aware_share, f"a list of {len(c.segments)} shares (one per consumer segment)")
    if len(b.stage_orders) != len(STEPS_STAGES) - 1:
        raise _fail("brands.stage_orders", b.stage_orders, f"a list of {len(STEPS_STAGES) - 1} numbers > 0")
    for i, wave in enumerate(b.entry_waves):
        key = f"brands.entry_waves[{i}]"
        if len(wave) != 2:
            raise _fail(key, wave, "a pair [day, count]")
        if not 1 <= wave[0] <= cfg.days:
            raise _fail(key + "[0]", wave[0], f"a day within the run (1..days={cfg.days})")
        if wave[1] > MAX_WAVE:
            raise _fail(key + "[1]", wave[1], f"at most {MAX_WAVE:,} real brands (more brands than exist)")
    _shares("providers.tier_shares", p.tier_shares, len(SP_TIERS))
    if len(p.tier_profile) != len(SP_TIERS) or any(len(row) != 3 for row in p.tier_profile):
        raise _fail("providers.tier_profile", p.tier_profile,
                    f"a list of {len(SP_TIERS)} triples [traffic_op, room_op, incubation] in [0, 1]")
    for key, values in (("providers.tier_capacity", p.tier_capacity),
                        ("providers.tier_fee", p.tier_fee)):
        if len(values) != len(SP_TIERS):
            raise _fail(key, values, f"a list of {len(SP_TIERS)} values ({', '.join(SP_TIERS)})")


def _shares(key: str, values: list[float], length: int | None) -> None:
    ok = len(values) >= 1 and all(v >= 0 for v in values) and abs(sum(values) - 1.0) < 1e-6
    if length is not None:
        ok = ok and len(values) == length
    if not ok:
        n = f"{length} " if length else ""
        raise _fail(key, values, f"a list of {n}non-negative shares summing to 1")


def _to_plain(obj: Any) -> Any:
    """OmegaConf containers and dataclasses to plain dicts and lists."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(obj, (DictConfig, ListConfig)):
            return OmegaConf.to_container(obj, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


def override_key(override: str) -> str | None:
    """The dotted key a command-line override sets (``+a.b=1`` and ``~a.b=`` give ``a.b``), or None without ``=``."""
    return override.split("=", 1)[0].lstrip("+~") if "=" in override else None


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with the (nested) entries of ``over`` laid on top; neither input is modified."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def has_key(cfg: Mapping[str, Any], dotted: str) -> bool:
    """Whether ``cfg`` has the leaf parameter ``a.b.c``."""
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return not isinstance(node, Mapping)


def get_key(cfg: Mapping[str, Any], dotted: str) -> Any:
    """The value of parameter ``a.b.c`` of a nested config."""
    node: Any = cfg
    for part in dotted.split("."):
        node = node[part]
    return node


def set_key(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    """Set the parameter ``a.b.c`` of a nested config dict in place."""
    node = cfg
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


def make_config(config: Any = None, /, **overrides: Any) -> SimConfig:
    """Validate ``config`` (a SimConfig, mapping or OmegaConf node) plus nested overrides.

    ``make_config(seed=3, consumers={"n": 2000})`` overrides single nested fields
    and keeps the rest of ``config`` (or the defaults).  Raises :class:`ConfigError`.
    """
    data = _to_plain(config) if config is not None else {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"invalid config: expected a mapping or SimConfig, got {type(config).__name__}")
    nested: dict[str, Any] = {}
    for k, v in overrides.items():  # dotted keys ("consumers.n") are nested keys
        node = nested
        *parents, leaf = k.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"invalid config: {k}: {part} is given both as a value and as a group")
        node[leaf] = merge(node[leaf], _to_plain(v)) if isinstance(node.get(leaf), dict) and isinstance(
            _to_plain(v), Mapping) else _to_plain(v)
    data = merge(data, nested)
    cfg = _build(SimConfig, data, "")
    _cross_check(cfg)
    return cfg


def to_dict(cfg: SimConfig) -> dict[str, Any]:
    """The resolved configuration as plain nested dicts (what ``config.yaml`` holds)."""
    return dataclasses.asdict(cfg)


def field_docs(cls: type = SimConfig, prefix: str = "") -> list[tuple[str, Any, str, str]]:
    """(key, default, unit, allowed) for every leaf parameter, for the docs and tests."""
    rows = []
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            rows.extend(field_docs(typ, f"{prefix}{f.name}."))
        else:
            args = [a for a in typing.get_args(typ) if a is not type(None)]
            if typing.get_origin(typ) in (typing.Union, types.UnionType) and len(args) == 1:
                name = f"{args[0].__name__} or null"
            else:
                name = getattr(typ, "__name__", str(typ))
            rows.append((f"{prefix}{f.name}", getattr(defaults, f.name), f.metadata.get("unit", ""),
                         _describe(f.metadata, name)))
    return rows
