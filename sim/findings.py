"""The seven contested questions answered from the calibrated ensemble: ``docs/FINDINGS.md``.

``python -m sim.findings [--only ID,...] [--workers N] [--report] [--out DIR] [--doc PATH]`` (``make findings``)
runs every comparison of the design ``configs/findings.yaml`` with :func:`sim.compare.compare` over
evenly spaced members of the calibrated ensemble, keeping each finished replication (so an
interrupted run resumes where it stopped), then writes ``docs/FINDINGS.md`` from the results:
each answer with its stochastic interval and its ensemble range, the conditions under which it
flips (a contrast run, the spread over members, the committed fund-elasticity grid), and what it
cost to compute. ``--report`` only rewrites the document from the results already there; a
question whose runs are not finished says so and gives no numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from sim import units
from sim.config import ConfigError
from sim.output import digest, replace_block, write_json, write_text
from sim.paths import config_dir

ROOT = Path(__file__).resolve().parent.parent
RUN_KEYS = {"name", "experiment", "overrides", "policies", "members", "replications", "condition"}
QUESTION_KEYS = {"id", "title", "question", "runs"}
DESIGN_KEYS = {"ensemble", "members", "replications", "out", "questions"}


@dataclass
class Run:
    """One comparison of a question: an experiment preset, overrides, the policy arms kept, its design."""

    name: str
    experiment: str
    overrides: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    members: int | None = None
    replications: int | None = None
    #: a sensitivity run: the question's key answer (:data:`KEY`) under changed conditions, told beside the main run's
    condition: bool = False


@dataclass
class Question:
    id: str
    title: str
    question: str
    runs: list[Run]


@dataclass
class Design:
    """``configs/findings.yaml``: the ensemble, members and replications by default, and the questions."""

    ensemble: str
    members: int | None
    replications: int
    out: str
    questions: list[Question]

    def run_members(self, run: Run) -> int | None:
        return run.members if run.members is not None else self.members

    def run_replications(self, run: Run) -> int:
        return run.replications if run.replications is not None else self.replications


def _unknown(where: str, data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ConfigError(f"invalid findings design: {where}.{extra[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _count(where: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"invalid findings design: {where} = {value!r}: must be an integer >= 1"
                          + (" or null" if allow_none else ""))


def load_design(path: str | Path | None = None) -> Design:
    """Read and check a findings design: every experiment composes, every named policy exists."""
    from sim.compare import load_experiment

    path = Path(path) if path is not None else config_dir() / "findings.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _unknown("findings", data, DESIGN_KEYS)
    _count("members", data.get("members"), allow_none=True)
    _count("replications", data.get("replications"))
    questions, ids = [], set()
    for i, q in enumerate(data.get("questions") or []):
        _unknown(f"questions[{i}]", q, QUESTION_KEYS)
        if q.get("id") in ids:
            raise ConfigError(f"invalid findings design: questions[{i}].id = {q.get('id')!r}: used twice")
        ids.add(q.get("id"))
        runs = []
        for j, r in enumerate(q.get("runs") or []):
            where = f"questions[{i}].runs[{j}]"
            _unknown(where, r, RUN_KEYS)
            _count(f"{where}.members", r.get("members"), allow_none=True)
            _count(f"{where}.replications", r.get("replications"), allow_none=True)
            run = Run(**r)
            exp, _, _ = load_experiment(run.experiment, list(run.overrides))
            missing = [p for p in run.policies if p not in exp.policies]
            if missing:
                raise ConfigError(f"invalid findings design: {where}.policies: {missing[0]!r} is not a policy of "
                                  f"experiment {run.experiment!r} (it has: {', '.join(exp.policies)})")
            runs.append(run)
        if not runs:
            raise ConfigError(f"invalid findings design: questions[{i}].runs: a question needs a run")
        questions.append(Question(q["id"], q["title"], " ".join(str(q["question"]).split()), runs))
    return Design(data["ensemble"], data.get("members"), data["replications"], data.get("out", "experiments/results/findings"),
                  questions)


def spaced(members: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """``k`` members evenly spaced over the ensemble (its first and last included); all when ``k`` is None."""
    if k is None or k >= len(members):
        return members
    idx = np.unique(np.linspace(0, len(members) - 1, k).round().astype(int))
    return members.iloc[idx]


def run_folder(out: Path, question: Question, run: Run) -> Path:
    return out / question.id / run.name


def fingerprint(base: dict[str, Any], exp: Any, members: pd.DataFrame) -> str:
    """A hash of everything a run's answer depends on: the market, the arms, the members' values, the version."""
    from sim import __version__

    return digest({"base": base, "baseline": exp.baseline, "policies": exp.policies, "treated": exp.treated,
                   "members": members.to_dict(orient="list"), "version": __version__})


def plan_run(design: Design, run: Run) -> tuple[Any, dict[str, Any], pd.DataFrame, int, dict[str, Any]]:
    """A run's experiment (its policies kept), market, members and replications, and the stamp its results carry."""
    from sim.compare import load_experiment

    exp, base, _, table = load_experiment(run.experiment, [*run.overrides, f"ensemble={design.ensemble}"],
                                          with_ensemble=True)
    exp.policies = {p: exp.policies[p] for p in run.policies} if run.policies else exp.policies
    members = spaced(table, design.run_members(run))
    reps = design.run_replications(run)
    stamp = {"experiment": run.experiment, "overrides": list(run.overrides), "policies": list(exp.policies),
             "members": [int(m) for m in members.index], "replications": reps,
             "fingerprint": fingerprint(base, exp, members)}
    return exp, base, members, reps, stamp


def finished(folder: Path, stamp: dict[str, Any]) -> bool:
    """Whether ``folder`` holds the results of the run ``stamp`` describes (not of an earlier design or model)."""
    done = folder / "done.json"
    return done.exists() and {k: v for k, v in json.loads(done.read_text()).items() if k in stamp} == stamp


def compute(design: Design, out: Path, only: set[str] | None = None, workers: int = 1, progress: bool = True) -> None:
    """Run every comparison of the design not finished yet (resuming from kept replications)."""
    from sim.compare import compare

    for q in design.questions:
        if only and q.id not in only:
            continue
        for run in q.runs:
            folder = run_folder(out, q, run)
            exp, base, members, reps, stamp = plan_run(design, run)
            done = folder / "done.json"
            if finished(folder, stamp):
                continue
            if progress:
                print(f"findings: {q.id}/{run.name}: {len(members)} members x {reps} replications", file=sys.stderr)
            t0 = time.perf_counter()
            compare(exp, base, reps, folder, workers=workers, progress=progress, ensemble=members,
                    cache=folder / "cache")
            cost = json.loads((folder / "cost.json").read_text())
            write_json(done, {**stamp, "units": cost["replications"], "worker_seconds": cost["worker_seconds"],
                              "wall_seconds_last": round(time.perf_counter() - t0, 1), "workers_last": workers,
                              "consumers": int(base["consumers"]["n"]), "days": int(base["days"]),
                              "burn_in": int(base["burn_in"])})


# ---------------------------------------------------------------- the report


@dataclass
class Result:
    """A finished run's tables: decomposition (summary), per-replication values, comparison rows, members."""

    decomposition: pd.DataFrame
    replications: pd.DataFrame
    comparison: pd.DataFrame
    members: pd.DataFrame
    done: dict[str, Any]

    def row(self, policy: str, metric: str) -> pd.Series:
        d = self.decomposition
        sel = d[(d["policy"] == policy) & (d["metric"] == metric)]
        if not len(sel):
            raise KeyError(f"{policy}/{metric} not in the decomposition")
        return sel.iloc[0]

    def arm_row(self, policy: str, metric: str) -> pd.Series:
        """An arm-level difference (comparison.csv) summarised like the decomposition (ensemble mean, intervals)."""
        from sim import ensemble as ens

        c = self.comparison[(self.comparison["policy"] == policy) & (self.comparison["metric"] == metric)]
        s = ens.summarise(c.rename(columns={"difference": "value"})[["policy", "member", "replication", "metric", "value"]], {})
        out = s.iloc[0].copy()
        out["unit"] = c["unit"].iloc[0]
        out["baseline"] = float(c["baseline"].mean())
        return out

    def between(self, policy: str, other: str, metric: str) -> pd.Series:
        """An arm-level metric of one policy arm against another's, paired by member and replication."""
        from sim import ensemble as ens

        c = self.comparison[self.comparison["metric"] == metric].pivot_table(
            index=["member", "replication"], columns="policy", values="policy_value")
        v = (c[policy] - c[other]).rename("value").reset_index()
        v["policy"], v["metric"] = f"{policy} - {other}", metric
        out = ens.summarise(v[["policy", "member", "replication", "metric", "value"]], {}).iloc[0].copy()
        out["unit"] = self.comparison.loc[self.comparison["metric"] == metric, "unit"].iloc[0]
        return out

    def baseline_gmv(self, policy: str) -> float:
        return float(self.row(policy, "gmv_total_baseline")["estimate"])


def load_result(folder: Path, stamp: dict[str, Any] | None = None) -> Result | None:
    """The tables of a finished run (None when it has not finished, or holds another design's results than
    ``stamp``'s)."""
    if not (folder / "done.json").exists() or (stamp is not None and not finished(folder, stamp)):
        return None
    cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    return Result(pd.read_csv(folder / "decomposition.csv"), pd.read_csv(folder / "replications.csv"),
                  pd.read_csv(folder / "comparison.csv"), pd.DataFrame(cfg.get("ensemble") or []),
                  json.loads((folder / "done.json").read_text()))


def say(row: pd.Series, scale: float = 1.0, extra: str = "") -> str:
    """An estimate (then ``extra``) with its stochastic 95% interval and the ensemble's range, in the reader's units."""
    sc = scale if row["unit"] == "yuan" else 1.0
    note = row.get("note", "")
    if isinstance(note, str) and note.startswith("undefined"):
        return f"undefined ({note.split(': ', 1)[1]})"
    text = units.value(row["estimate"], row["unit"], sc) + extra
    text += " " + units.interval(row["ci_low"], row["ci_high"], row["unit"], sc, "1 replication per member")
    if np.isfinite(row["param_low"]) and np.isfinite(row["param_high"]):
        text += f", ensemble range {units.interval(row['param_low'], row['param_high'], row['unit'], sc)}"
        share = row.get("param_share", np.nan)
        if share is not None and np.isfinite(share):
            text += f", parameter share {units.percent(share)}"
    return text


def sign(row: pd.Series, at: float = 0.0) -> int:
    """+1 / -1 when the stochastic interval lies above / below ``at``; 0 when it contains it."""
    if row["ci_low"] > at:
        return 1
    if row["ci_high"] < at:
        return -1
    return 0


def robust(row: pd.Series, at: float = 0.0) -> bool:
    """Every member's answer on the same side of ``at`` (the ensemble range excludes it)."""
    return bool(row["param_low"] > at or row["param_high"] < at)


def gmv_change(res: Result, policy: str, metric: str = "d_gmv_total") -> str:
    """A change in GMV, its share of the baseline's GMV over the same window, and its intervals."""
    return say(res.row(policy, metric), res.baseline_gmv(policy), f" ({relative(res, policy, metric)} of the baseline's)")


def agreement(row: pd.Series, at: float = 0.0) -> str:
    """How a verdict's sentence ends: whether every plausible market agrees on its side of ``at``."""
    if not sign(row, at) or not (np.isfinite(row["param_low"]) and np.isfinite(row["param_high"])):
        return "."
    return (" in every plausible market of the ensemble." if robust(row, at)
            else f", though the ensemble's range includes {_at(at, row['metric'])} (the members disagree).")


def relative(res: Result, policy: str, metric: str = "d_gmv_total") -> str:
    """A change in GMV as a share of the baseline's GMV over the same window."""
    window = metric[len("d_gmv_total"):] if metric.startswith("d_gmv_total") else ""
    base = float(res.row(policy, f"gmv_total_baseline{window}")["estimate"])
    return units.percent(float(res.row(policy, metric)["estimate"]) / base) if base else "n/a"


PARAMETER_LABELS = {"member", "trial", "distance", "max_required_implausibility", "default"}


def per_member(res: Result, policy: str, metric: str) -> pd.Series:
    """Each member's answer (mean over its replications; a ratio: the ratio of its terms' means), by position."""
    reps = res.replications[res.replications["policy"] == policy]
    if metric in set(reps["metric"]):
        return reps[reps["metric"] == metric].groupby("member")["value"].mean()
    from sim.compare import RATIOS

    num, den = RATIOS[metric]
    g = reps.pivot_table(index="member", columns="metric", values="value", aggfunc="mean")
    return (g[num] / g[den].where(g[den] != 0)).dropna()


def member_conditions(res: Result, policy: str, metric: str, label: str, at: float = 0.0) -> str:
    """How the members' answers spread: how many fall on each side of ``at``, and the calibrated parameter
    whose values rank with the answer most strongly (Spearman; indicative with few members)."""
    per = per_member(res, policy, metric)
    n = len(per)
    above, below = int((per > at).sum()), int((per < at).sum())
    text = f"{label}: {above} of {n} members above {_at(at, metric)}, {below} below"
    params = [c for c in res.members.columns if c not in PARAMETER_LABELS]
    if n >= 4 and params:
        table = res.members.set_index(np.arange(len(res.members)))[params].iloc[per.index.astype(int)]
        rhos = {p: stats.spearmanr(table[p].to_numpy(float), per.to_numpy(float)).statistic for p in params
                if np.ptp(table[p].to_numpy(float)) > 0}
        rhos = {p: r for p, r in rhos.items() if np.isfinite(r)}
        if rhos:
            best = max(rhos, key=lambda p: abs(rhos[p]))
            text += (f"; across members the answer ranks most with `{best}` (Spearman rho {rhos[best]:+.2f} over "
                     f"{n} members: {'higher' if rhos[best] > 0 else 'lower'} values give a larger answer; indicative)")
    return text


def _at(at: float, metric: str) -> str:
    from sim.compare import unit_of

    return units.value(at, unit_of(metric)) if metric else str(at)


# One function per question: the answer in words from the numbers (never typed by hand).


def answer_pie(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["brand_entry"]
    scale = r.baseline_gmv("entry")
    share, cann = r.row("entry", "incremental_share"), r.row("entry", "cannibalization_ratio")
    lines = [f"Over the run the entrants sold {say(r.row('entry', 'gmv_treated'), scale)}.",
             f"Share of it new to the market (incremental share): {say(share)}.",
             f"Share taken from incumbents (cannibalization ratio): {say(cann)}.",
             f"Change in total GMV: {gmv_change(r, 'entry')}.",
             f"In the last 90 days: incremental share {say(r.row('entry', 'incremental_share_late'))}."]
    s = sign(share, 0.5)
    verdict = {1: "**Mostly a bigger pie**: more than half of the entrants' sales are new to the market",
               -1: "**Mostly cannibalization**: less than half of the entrants' sales are new to the market",
               0: "**Neither dominates**: the share of entrants' sales new to the market is not distinguishable "
                  "from one half"}[s]
    verdict += agreement(share, 0.5)
    lines.insert(0, verdict)
    flips = [member_conditions(r, "entry", "incremental_share", "Incremental share", 0.5) + "."]
    if "closed_market" in results:
        c = results["closed_market"]
        cs = c.row("entry", "incremental_share")
        flips.append(f"With every growth channel off and budgets that bind (`closed_market`: no endorsement "
                     f"spillover, no brand-presence effect on viewing or arrivals, no trust response), the incremental "
                     f"share is {say(cs)}: "
                     + ("the answer flips to cannibalization, so the pie grows only through the demand channels."
                        if sign(cs, 0.5) < 0 and s >= 0 else
                        "entry is cannibalization in the fixed cake as well." if sign(cs, 0.5) < 0 else
                        "the growth channels are not what makes the pie grow."))
    return lines, flips


def answer_sp_fund(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["sp_fund_size"]
    lines = []
    for pol in [p for p in ("x1", "x4") if p in set(r.decomposition["policy"])]:
        scale = r.baseline_gmv(pol)
        lines.append(f"`{pol}` (the seed's programme {'' if pol == 'x1' else 'times four '}pro rata): GMV "
                     f"{gmv_change(r, pol, 'd_gmv_total')}; SPs over 100 million yuan a year "
                     f"{say(r.row(pol, 'd_n_sps_over_threshold'))}; active brands at the end "
                     f"{say(r.row(pol, 'd_n_brands'))}; fund money paid (cash and ecosystem) "
                     f"{say(r.row(pol, 'd_fund_yuan_spent'), scale)}; cost per incremental yuan of GMV "
                     f"{say(r.row(pol, 'cost_per_incremental_yuan'))}.")
    x1, x4 = r.row("x1", "d_gmv_total"), r.row("x4", "d_gmv_total")
    if sign(x1) > 0 and sign(x4) > 0:
        ratio = float(x4["estimate"]) / float(x1["estimate"])
        verdict = (f"The funds grow GMV; four times the money buys {ratio:.1f} times the GMV change of the seed's "
                   "size: " + ("returns diminish." if ratio < 4 else "no sign of diminishing returns at this size."))
    elif sign(x4) > 0:
        verdict = ("At the seed's size the funds' effect on GMV is within noise; at four times it GMV grows: the "
                   "programme needs scale to show.")
    else:
        verdict = "Neither size moves GMV beyond noise in the ensemble."
    lines.insert(0, "**" + verdict + "**")
    flips = [member_conditions(r, "x4", "d_gmv_total", "Four times the seed's funds, change in GMV") + "."]
    flips += elasticity_lines()
    return lines, flips


def elasticity_lines(path: Path | None = None) -> list[str]:
    """The committed one-fund-at-a-time grid on the calibrated default (experiments/fund_elasticity.py)."""
    path = path or ROOT / "experiments" / "results" / "fund_elasticity" / "summary.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    cells = []
    for row in data["rows"]:
        g = row["gmv_pct"]
        tag = "up" if g["lo"] > 0 else "down" if g["hi"] < 0 else "within noise"
        cells.append(f"{row['arm']} {g['diff']:+.1f}% [{g['lo']:+.1f}% to {g['hi']:+.1f}%] ({tag})")
    return [f"One fund at a time on the calibrated default ({data['replications']} paired replications, "
            f"`experiments/fund_elasticity.py`, multiples of the seed's size), change in GMV: " + "; ".join(cells) + "."]


def answer_self_broadcast(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["self_broadcast"]
    lines = []
    for pol in ("self_broadcast", "self_broadcast_compensated"):
        scale = r.baseline_gmv(pol)
        host = r.arm_row(pol, "gmv_host_channel")
        lines.append(f"`{pol}`: hosts' channel GMV {say(host, scale)} "
                     f"({units.percent(host['estimate'] / host['baseline']) if host['baseline'] else 'n/a'} of the baseline's); "
                     f"brands' GMV {say(r.row(pol, 'd_gmv_treated'), scale)}, of which through their own rooms "
                     f"{say(r.row(pol, 'd_gmv_treated_self_broadcast'), scale)} and through talent hosts' rooms "
                     f"{say(r.row(pol, 'd_gmv_treated_host_channel'), scale)}; total GMV "
                     f"{gmv_change(r, pol, 'd_gmv_total')}.")
    h0, h1 = r.arm_row("self_broadcast", "gmv_host_channel"), r.arm_row("self_broadcast_compensated", "gmv_host_channel")
    part = {-1: "Self-broadcast **takes sales from hosts**", 1: "Self-broadcast **does not take sales from hosts** "
            "(their channel grows)", 0: "Self-broadcast's effect on hosts' sales is **within noise**"}[sign(h0)]
    gain = r.between("self_broadcast_compensated", "self_broadcast", "gmv_host_channel")
    scale = abs(h0["baseline"])
    if sign(gain) > 0:
        restored = gain["estimate"] / -h0["estimate"] if h0["estimate"] < 0 else np.nan
        comp = (f"compensation raises hosts' sales by {say(gain, scale)} against uncompensated self-broadcast"
                + (f", restoring {units.percent(restored)} of what they lose" if np.isfinite(restored) else ""))
    else:
        comp = f"compensation does not measurably restore hosts' sales ({say(gain, scale)} against uncompensated)"
    lines.insert(0, f"{part}; {comp}.")
    own = r.row("self_broadcast", "d_gmv_treated_host_channel")
    verdict = {-1: "the brands' own sales through hosts **fall**", 1: "the brands' own sales through hosts **rise**",
               0: "the change in the brands' own sales through hosts is **within noise**"}[sign(own)]
    lines.insert(1, f"Among those hosts' losses, {verdict} when they broadcast themselves: their change through "
                    f"hosts' rooms is {say(r.row('self_broadcast', 'treated_host_channel_share'))} of their change in "
                    "GMV (Zhang, Liu, Liu and Muller 2023 found sellers that adopt live selling gaining about half of "
                    "it, +47%, through their other channel: docs/VALIDATION.md, patterns).")
    flips = [member_conditions(r, "self_broadcast", "d_gmv_total", "Uncompensated self-broadcast, change in total GMV") + "."]
    return lines, flips


def answer_poaching(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["poaching"]
    scale = r.baseline_gmv("incubation")
    brands = r.row("incubation", "d_gmv_treated")
    lines = [f"Brands' GMV with SP incubation against without: {say(brands, scale)}.",
             f"Total GMV: {gmv_change(r, 'incubation', 'd_gmv_total')}; incumbents "
             f"lose {say(r.row('incubation', 'cannibalization'), scale)}."]
    lines.insert(0, {1: "**Yes**: SP incubation raises the sales of brands exposed to poaching",
                     -1: "**No**: brands sell less with SP incubation", 0: "**Not measurably**: SP incubation's "
                     "effect on brands' sales is within noise"}[sign(brands)]
                 + agreement(brands))
    return lines, [member_conditions(r, "incubation", "d_gmv_treated", "Change in brands' GMV") + "."]


def answer_quality(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["guarantees"]
    lines = []
    for pol in ("seed_package", "stronger"):
        scale = r.baseline_gmv(pol)
        lines.append(f"`{pol}` against no guarantees or control: first 90 days' GMV "
                     f"{gmv_change(r, pol, 'd_gmv_total_early')}; last 90 "
                     f"days' {gmv_change(r, pol, 'd_gmv_total_late')}; "
                     f"platform trust {say(r.row(pol, 'd_platform_trust'))}; repurchase "
                     f"{say(r.row(pol, 'd_repurchase_rate'))}.")
    early, late = r.row("seed_package", "d_gmv_total_early"), r.row("seed_package", "d_gmv_total_late")
    short = {-1: "costs GMV in the short run", 0: "costs no measurable GMV in the short run",
             1: "raises GMV from the start"}[sign(early)]
    long = {1: "raises it in the long run", 0: "leaves long-run GMV within noise",
            -1: "lowers it in the long run too"}[sign(late)]
    trust = ["lowers", "leaves within noise", "raises"][sign(r.row("seed_package", "d_platform_trust")) + 1]
    lines.insert(0, f"**The seed's quality package {short} and {long}**; it {trust} platform trust.")
    lines.append("Through (seed package): buyers a day " + say(r.row("seed_package", "d_buyers_per_day"))
                 + "; orders per buyer " + say(r.row("seed_package", "d_orders_per_buyer"))
                 + "; average basket " + say(r.row("seed_package", "d_average_basket")) + ".")
    return lines, [member_conditions(r, "seed_package", "d_gmv_total_late", "The seed's package, change in the last 90 days' GMV") + "."]


def answer_upgrade(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["white_label_upgrade"]
    scale = r.baseline_gmv("subsidy")
    late = r.row("subsidy", "d_gmv_total_late")
    ups = r.arm_row("subsidy", "upgrades_total")
    lines = [f"Change in upgrades over the run: {say(ups)}, from {units.value(ups['baseline'], 'count')} without "
             "the subsidy.",
             f"Total GMV {gmv_change(r, 'subsidy', 'd_gmv_total')}; last 90 days "
             f"{gmv_change(r, 'subsidy', 'd_gmv_total_late')}.",
             f"Upgraded sellers' GMV {say(r.row('subsidy', 'd_gmv_treated'), scale)}."]
    lines.insert(0, {1: "**Yes**: the upgrade subsidy grows long-run GMV", -1: "**No**: long-run GMV falls with the "
                     "subsidy", 0: "**Not measurably**: the subsidy's effect on long-run GMV is within noise"}[sign(late)]
                 + agreement(late))
    return lines, [member_conditions(r, "subsidy", "d_gmv_total_late", "Change in the last 90 days' GMV") + "."]


def answer_sp_room(results: dict[str, Result]) -> tuple[list[str], list[str]]:
    r = results["sp_turnover"]
    lines = []
    for pol in ("mature", "fast_turnover"):
        fees = r.arm_row(pol, "sp_fees_total")
        n = r.arm_row(pol, "n_sps_final")
        lines.append(f"`{pol}`: SP fees {say(fees, abs(fees['baseline']))} "
                     f"({units.percent(fees['estimate'] / fees['baseline']) if fees['baseline'] else 'n/a'} of "
                     f"{units.value(fees['baseline'], 'yuan')}); active SPs {say(n)} (of "
                     f"{units.value(n['baseline'], 'count')}); SP clients {say(r.arm_row(pol, 'sp_clients_final'))}; "
                     f"SPs over 100 million yuan {say(r.row(pol, 'd_n_sps_over_threshold'))}; total GMV "
                     f"{say(r.row(pol, 'd_gmv_total'), r.baseline_gmv(pol))}.")
    fees = r.arm_row("mature", "sp_fees_total")
    lines.insert(0, {-1: "**Turnover is what keeps SPs in business**: when sellers stop turning over, SP fees fall",
                     1: "**There is room for SPs in a mature ecosystem**: SP fees do not fall when turnover stops",
                     0: "**Turnover does not measurably decide SPs' room**: SP fees in a mature ecosystem are within "
                        "noise of today's"}[sign(fees)] + ".")
    return lines, [member_conditions(r, "mature", "d_sp_fees", "Mature ecosystem, change in SP fees") + "."]


#: Each question's key answer: (policy, quantity, words, the value on which the verdict turns).
KEY = {"pie": ("entry", "incremental_share", "incremental share", 0.5),
       "sp_fund": ("x4", "d_gmv_total", "change in GMV at four times the seed's funds", 0.0),
       "self_broadcast": ("self_broadcast", "d_gmv_total", "change in total GMV with self-broadcast", 0.0),
       "poaching": ("incubation", "d_gmv_treated", "change in brands' GMV", 0.0),
       "quality": ("seed_package", "d_gmv_total_late", "change in the last 90 days' GMV", 0.0),
       "upgrade": ("subsidy", "d_gmv_total_late", "change in the last 90 days' GMV", 0.0),
       "sp_room": ("mature", "d_sp_fees", "change in SP fees in a mature ecosystem", 0.0)}


def condition_line(q: Question, main: Result, run: Run, res: Result) -> str:
    """A sensitivity run's key answer beside the main run's, and whether its side of the verdict flips."""
    policy, metric, words, at = KEY[q.id]
    scale = res.baseline_gmv(policy)
    row = res.row(policy, metric)
    changed = ", ".join(f"`{o}`" for o in run.overrides if o not in q.runs[0].overrides) or "no change"
    ids = res.done["members"]
    # the same members in the main run: the condition's reference
    ref_pos = [main.done["members"].index(m) for m in ids if m in main.done["members"]]
    ref = float(per_member(main, policy, metric).loc[ref_pos].mean()) if ref_pos else float(main.row(policy, metric)["estimate"])
    where = (f"on the same member{'s' if len(ids) > 1 else ''} in the main run" if len(ref_pos) == len(ids)
             else "in the main run")
    side, ref_side = sign(row, at), int(np.sign(ref - at))
    flip = ("**the verdict flips**" if side and side != ref_side else "the same side of the verdict" if side
            else "not distinguishable from the verdict's threshold")
    members = ", ".join(map(str, ids))
    return (f"With {changed} (member{'s' if len(ids) > 1 else ''} {members} x {res.done['replications']} seeds): "
            f"{words} {say(row, scale)}, against {units.value(ref, row['unit'], scale if row['unit'] == 'yuan' else 1.0)} "
            f"{where}: {flip}.")


ANSWERS = {"pie": answer_pie, "sp_fund": answer_sp_fund, "self_broadcast": answer_self_broadcast,
           "poaching": answer_poaching, "quality": answer_quality, "upgrade": answer_upgrade, "sp_room": answer_sp_room}


def _cost(done: dict[str, Any]) -> str:
    n = len(done["members"])
    return (f"{done['units']} replications ({n} member{'s' if n > 1 else ''} x {done['replications']}) of "
            f"{done['consumers']:,} consumers, {done['burn_in']} burn-in + {done['days']} reported days: "
            f"{done['worker_seconds'] / 60:.0f} worker-minutes (about {done['worker_seconds'] / 120:.0f} minutes on 2 cores)")


def agents_of(run: Run) -> dict[str, int]:
    """How many agents stand for each seller population at the run's resolution (sim.resolution)."""
    from sim import resolution
    from sim.compare import load_experiment
    from sim.config import make_config

    _, base, _ = load_experiment(run.experiment, list(run.overrides))
    cfg = make_config(base)
    pops = resolution.describe(resolution.plan(cfg), cfg.consumers.scale, cfg.min_agents)["populations"]
    return {k: int(v["agents"]) for k, v in pops.items()}


def agents(run: Run) -> str:
    return "agents at start: " + ", ".join(f"{n:,} {k}" for k, n in agents_of(run).items())


FIGURES = (("decomposition", "decomposition.png"), ("GMV by arm", "gmv_by_arm.png"),
           ("incumbents' GMV by arm", "incumbent_gmv_by_arm.png"), ("trust by arm", "trust_by_arm.png"))


def figure_links(folder: Path, doc_dir: Path | None) -> str:
    """Links to a run's figures (sim.plots.comparison_figures), relative to the document's folder."""
    if doc_dir is None:
        return ""
    links = [f"[{label}]({os.path.relpath(folder / 'figures' / name, doc_dir)})" for label, name in FIGURES
             if (folder / "figures" / name).exists()]
    return ("Figures: " + ", ".join(links) + ".") if links else ""


def report(design: Design, out: Path, doc_dir: Path | None = None) -> str:
    """docs/FINDINGS.md from the finished runs (questions with unfinished runs say so and give no numbers);
    ``doc_dir``, the document's folder, makes the links to each run's figures relative to it."""
    lines = ["# Findings: the seven contested questions", "",
             "<!-- generated by `python -m sim.findings` (make findings) from configs/findings.yaml; do not edit -->", "",
             f"Each answer comes from paired comparisons (`sim.compare`) run on evenly spaced members of the "
             f"calibrated ensemble `{design.ensemble}` (`docs/CALIBRATION.md`), with paired seeds on each member. "
             "Every number is the ensemble mean, followed by its **stochastic** 95% interval (what the seeds leave "
             "open if the parameters were known), the **ensemble range** (2.5-97.5% of the members' answers: what "
             "parameter uncertainty leaves open) and, where both can be estimated, the **parameter share**: the "
             "share of a single run's variance due to the parameters (0% when the members' answers differ no more "
             "than seed noise makes them). Money is yuan at platform scale over the run. Per-question folders "
             f"under `{design.out}/` hold `report.md`, `decomposition.csv`, `replications.csv` and figures.", ""]
    total = 0.0
    loaded = load_results(design, out)
    for i, q in enumerate(design.questions, 1):
        results = {run.name: loaded[q.id, run.name] for run in q.runs}
        lines += [f"## {i}. {q.title}", "", f"*{q.question}*", ""]
        missing = [name for name, res in results.items() if res is None]
        if missing:
            lines += [f"Not computed yet: run `make findings` (it resumes) to compute {', '.join(missing)}.", ""]
            continue
        answer, flips = ANSWERS[q.id](results)
        flips += [condition_line(q, results[q.runs[0].name], run, results[run.name]) for run in q.runs if run.condition]
        lines += [f"- {a}" for a in answer] + ["", "**When the answer flips.**", ""] + [f"- {f}" for f in flips]
        lines += ["", "**Design and cost.**", ""]
        for run in q.runs:
            done = results[run.name].done
            total += done["worker_seconds"]
            trend = results[run.name].row(done["policies"][0], "baseline_gmv_trend")
            command = " ".join([f"experiment={run.experiment}", *run.overrides])
            lines.append(f"- `{run.name}` (`{command}`, {agents(run)}; policies "
                         f"{', '.join(done['policies'])}; members {', '.join(map(str, done['members']))}): {_cost(done)}; "
                         f"the baseline's GMV trend {say(trend)} (the calibrated market grows as the 2021 platform did). "
                         + figure_links(run_folder(out, q, run), doc_dir))
        lines.append("")
    lines += ["## Read with", ""] + [f"- {c}" for c in caveats(design, loaded)] + [""]
    lines += ["## Cost", "", f"All finished runs: {total / 3600:.1f} worker-hours on this machine "
              f"(about {total / 7200:.1f} hours on 2 cores).", ""]
    return "\n".join(lines)


def _either(values: list[int]) -> str:
    """3, 4 or 6."""
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def load_results(design: Design, out: Path) -> dict[tuple[str, str], Result | None]:
    """Every run's results by (question, run), None where not finished for the design as it is now."""
    return {(q.id, run.name): load_result(run_folder(out, q, run), plan_run(design, run)[4])
            for q in design.questions for run in q.runs}


def caveats(design: Design, loaded: dict[tuple[str, str], Result | None]) -> list[str]:
    """What limits the answers, checked on the finished runs (not typed in)."""
    done = [(q, run, loaded[q.id, run.name]) for q in design.questions for run in q.runs]
    done = [(q, run, res) for q, run, res in done if res is not None]
    notes = []
    members = sorted({len(res.done["members"]) for _, run, res in done if not run.condition})
    if members:
        notes.append(f"Each answer rests on {_either(members)} of the ensemble's members and "
                     f"{_either(sorted({res.done['replications'] for _, _, res in done}))} seeds each: "
                     "with so few members the ensemble range is close to the members' minimum and maximum, and the "
                     "parameter share is a rough estimate (0% when the members differ no more than seeds do).")
    brands = [res.decomposition[res.decomposition["metric"] == "d_n_brands"] for _, _, res in done]
    if brands and all(len(b) and np.allclose(b[["estimate", "ci_low", "ci_high"]].to_numpy(float), 0) for b in brands):
        notes.append("In no run does the number of active brands at the end differ between arms: brands do not leave "
                     "within a year in this model, so no policy can change brand survival (a structural misfit, "
                     "docs/VALIDATION.md).")
    few = sorted({(agents_of(run)["providers"]) for q, run, _ in done if q.id in ("sp_fund", "sp_room", "poaching")})
    if few and few[-1] < 30:
        from sim import resolution
        from sim.config import make_config

        fine = make_config(consumers={"n": 10_000_000, "scale": 30.0})
        sps = resolution.describe(resolution.plan(fine), 30.0, fine.min_agents)["populations"]["providers"]["agents"]
        notes.append(f"The SP answers (questions 2, 4 and 7) rest on {_either(few)} simulated SPs, one "
                     "or a few per tier: SP counts move in large steps and their intervals are wide. The same "
                     f"platform at 1e7 consumers has {sps} SP agents, at a hundred times the cost of a run.")
    return notes


README_START, README_END = "<!-- findings-headline:start -->", "<!-- findings-headline:end -->"


def readme_headline(design: Design, out: Path) -> str | None:
    """The README's headline example: the first question's first comparison as ``sim.compare`` prints it."""
    from sim.compare import headline, load_experiment

    q = design.questions[0]
    run = q.runs[0]
    res = load_result(run_folder(out, q, run), plan_run(design, run)[4])
    if res is None:
        return None
    exp, _, _ = load_experiment(run.experiment, list(run.overrides))
    done = res.done
    lines = headline(exp, res.decomposition[res.decomposition["policy"].isin(done["policies"])])
    return ("```\n" + "\n".join(lines) + "\n```\n\n"
            f"(`make findings`: `experiment={run.experiment} {' '.join(run.overrides)}` on {len(done['members'])} "
            f"members of the `{design.ensemble}` ensemble x {done['replications']} paired seeds, "
            f"{done['consumers']:,} consumers; the first interval is stochastic, the ensemble range is parameter "
            "uncertainty.)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.findings", description=__doc__.split("\n\n")[0])
    ap.add_argument("--design", help="findings design (default: configs/findings.yaml)")
    ap.add_argument("--only", help="comma-separated question ids to compute")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--report", action="store_true", help="only rewrite the document from finished runs")
    ap.add_argument("--out", help="results folder (default: the design's out, under the repository)")
    ap.add_argument("--doc", help="document to write (default docs/FINDINGS.md; FINDINGS.md in an installed copy)")
    args = ap.parse_args(argv)
    try:
        design = load_design(args.design)
        only = set(args.only.split(",")) if args.only else None
        unknown = sorted((only or set()) - {q.id for q in design.questions})
        if unknown:
            raise ConfigError(f"invalid option: --only {unknown[0]!r}: must be one of "
                              + ", ".join(q.id for q in design.questions))
    except ConfigError as err:
        print(str(err).splitlines()[0], file=sys.stderr)
        return 2
    repo = (ROOT / "docs").is_dir()
    out = Path(args.out) if args.out else (ROOT / design.out if repo else Path(design.out))
    if not args.report:
        compute(design, out, only, args.workers)
    doc = Path(args.doc) if args.doc else (ROOT / "docs" / "FINDINGS.md" if repo else Path("FINDINGS.md"))
    write_text(doc, report(design, out, doc.resolve().parent))
    readme = ROOT / "README.md"
    if repo and not args.design and not args.out and README_START in readme.read_text(encoding="utf-8"):
        replace_block(readme, README_START, README_END, readme_headline(design, out) or "")
    print(doc)
    return 0


if __name__ == "__main__":
    from sim.parallel import run_command

    sys.exit(run_command(main))
