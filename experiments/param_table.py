"""Regenerate the parameter table of docs/MODEL.md (section 8) and configs/<group>/default.yaml from the dataclasses.

    .venv/bin/python experiments/param_table.py          # rewrite the table in place
    .venv/bin/python experiments/param_table.py --check  # exit 1 if the table is out of date

Columns key, default, unit and allowed come from ``sim.config.field_docs()``; the
source column (and any footnote marker such as ``[f]`` after "allowed") is kept
from the document, by key, so only the sources are written by hand.  A key new to
the document gets the source from ``NEW_SOURCES`` below or fails loudly.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.config import field_docs  # noqa: E402
from sim.output import write_text  # noqa: E402

DOC = ROOT / "docs" / "MODEL.md"
HEADER = "| key | default | unit | allowed | source |"

#: Sources for keys not yet in the document (moved here once written; kept short).
NEW_SOURCES: dict[str, str] = {
    "consumers.adoption.enabled": "switch (3.3.35; off in the uncalibrated default)",
    "consumers.adoption.share": "published figure: 388 M of 617 M livestream users were live-commerce users, end 2020 (iResearch, PUBLIC-FIGURES 6)",
    "consumers.adoption.potential": "assumption (everyone could shop; calibrated when adoption is on)",
    "consumers.adoption.p": "assumption (Bass innovation of the order found for new products, Bass 1969; calibrated when adoption is on)",
    "consumers.adoption.q": "assumption (Bass imitation of the order found for new products, Bass 1969; calibrated when adoption is on)",
    "platform.festivals": "cited fact: the Q4 peak is Double-11 and Kuaishou's 116 festival (PUBLIC-FIGURES 9, target 1); 618 window assumption",
    "platform.festival_lift": "assumption (0: no festival effect; calibrated to the quarterly GMV shape)",
    "burn_in": "chosen from data: MSER-5 over 1440-day burn-ins of the default market, 3 seeds (experiments/burn_in.py, section 4.4)",
    "checkpoint_every": "run setting (not a model parameter)",
    "min_agents": "assumption (a population's statistics need a few dozen agents)",
    "consumers.growth": "assumption (0: a steady state; the 2021 DAU grew about 8% from Q1 to Q3, PUBLIC-FIGURES section 2)",
    "consumers.follow_decay": "assumption (a follow lapses after 100 days on average; without lapses the follow graph only grows)",
    "hosts.real_n": "assumption (Kuaishou published no count: about 1.1 M selling hosts in all China in 2022 x Kuaishou's ~25% of live-commerce sales, scaled up for its many small hosts; section 4.2)",
    "hosts.n": "resolution (null: follows consumers.n; a number pins the count, section 4.1)",
    "hosts.min_per_tier": "assumption (resolution design: the head of the host distribution is sampled finer, section 4.1)",
    "merchants.real_n": "assumption (about 210k hosts and merchants banned in 2021 at a 5-20% yearly ban rate; section 4.2)",
    "merchants.n": "resolution (null: follows consumers.n)",
    "merchants.exit_hazard": "assumption (about 42% a year; merchant churn of 30-50% a year, no published rate; section 4.2)",
    "brands.real_n": "assumption (brand entries grew 4.5x a year from a small base; about 500-1,000 key brands; section 4.2)",
    "brands.n": "resolution (null: follows consumers.n)",
    "brands.ad_cpm": "assumption (set so that ads buy as many live-room views per yuan as before the one traffic unit; quoted feed CPMs are higher)",
    "providers.real_n": "assumption (the SP programme's goal of 200 SPs over 100M needs a pool several times larger; section 4.2)",
    "providers.n": "resolution (null: follows consumers.n)",
    "platform.users": "published: 2021 average DAU 308.2 M, Q1 295.3 M (PUBLIC-FIGURES section 2)",
    "platform.quality_control.claim_cut": "assumption (mechanism from seed: sellers demoted for exaggeration tone their claims down)",
    "brands.trial_days": "assumption (a brand gives its entry half a year; calibration can target a survival rate)",
    "upgrade.min_investment": "assumption (building a brand costs money; with investment off there are no upgrades)",
    "upgrade.cost_per_quality": "assumption (better goods cost more to make)",
    "merchants.entry_lag": "assumption (entry refills a shortfall of merchants over a quarter)",
    "choice.brand_trust_weight": "assumption (a brand bought before is judged half by one's own experience of it)",
    "brands.switch_cost": "assumption (the effort of leaving a host's room to find the brand's store)",
    "brands.store_wage": "assumption (about 30,000 yuan a month for a brand's store host)",
    "platform.views_per_impression": "assumption (feed click-through into a live room; the one traffic unit, section 4.3)",
    "providers.tier_profile": "assumption (what each tier does, read from the seed's tier descriptions; the values are not published; section 3.3.30)",
    "providers.commission_guess": "assumption (about the mean host commission, hosts.tier_commission)",
    "providers.match_noise": "assumption (sellers misjudge an SP's gain by a few percent of GMV)",
    "providers.invest_share": "assumption (half of what an SP earns above costs goes back into the business)",
    "providers.invest_capability": "assumption; the former funds.eco_capability (1e6 yuan of investment lifts a real SP a fifth of the way to full capability)",
    "providers.invest_capacity": "assumption; the former funds.eco_capacity (1e6 yuan buys capacity for 5 more real clients)",
    "providers.capable_threshold": "assumption (a mean capability of a core SP's profile, 0.5-0.65)",
    "brands.belief_sd": "assumption (a brand usually, not always, guesses its main audience right; the seed's menswear case is a wrong guess)",
    "brands.belief_orders": "assumption (a brand trusts its own guess as much as a few hundred orders)",
    "start_date": "run setting: the calendar of the reported days (2021 is the year the calibration targets describe)",
    "funds.cash_window": "assumption (a monthly settlement of the cash incentive; the seed gives no verification period)",
}


def _fmt_default(value: object) -> str:
    return f"`{value}`"


ENSEMBLE = ROOT / "configs" / "ensembles" / "kuaishou2021.csv"


def calibrated_sources() -> dict[str, str]:
    """Source cells of the parameters the committed calibration set, from its ensemble (kept in step with it)."""
    if not ENSEMBLE.exists():
        return {}
    import pandas as pd

    table = pd.read_csv(ENSEMBLE)
    return {k: f"calibrated to kuaishou2021 (the default member of {len(table)} accepted; ensemble range "
               f"{table[k].min():.4g} to {table[k].max():.4g}; docs/CALIBRATION.md)"
            for k in table.columns if "." in k}


def render(doc: str) -> str:
    """``doc`` with its parameter table regenerated."""
    lines = doc.split("\n")
    start = lines.index(HEADER)
    end = start + 2
    while end < len(lines) and lines[end].startswith("| `"):
        end += 1
    old: dict[str, tuple[str, str]] = {}
    for row in lines[start + 2: end]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        key = cells[0].strip("`")
        marker = re.search(r"(\[[a-z]\])+$", cells[3])
        old[key] = (marker.group(0) if marker else "", cells[4])
    rows = []
    calibrated = calibrated_sources()
    for key, default, unit, allowed in field_docs():
        if key in calibrated:
            marker, source = old.get(key, ("", ""))[0], calibrated[key]
        elif key in old:
            marker, source = old[key]
        elif key in NEW_SOURCES:
            marker, source = "", NEW_SOURCES[key]
        else:
            raise SystemExit(f"param_table: no source for new key {key}: add it to NEW_SOURCES")
        unit, allowed = (x.replace("|", "&#124;") for x in (unit, allowed))  # a bare | would split the cell
        rows.append(f"| `{key}` | {_fmt_default(default)} | {unit} | {allowed}{marker} | {source} |")
    return "\n".join(lines[: start + 2] + rows + lines[end:])


GROUPS = ("consumers", "hosts", "merchants", "platform", "brands", "upgrade", "providers", "funds")


def group_yaml() -> dict[Path, str]:
    """configs/<group>/default.yaml for every group: its header comments, then the dataclass defaults."""
    import dataclasses

    import yaml

    from sim.config import SimConfig

    defaults = dataclasses.asdict(SimConfig())
    out = {}
    for group in GROUPS:
        path = ROOT / "configs" / group / "default.yaml"
        head = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
        out[path] = "\n".join(head) + "\n" + yaml.safe_dump(defaults[group], sort_keys=False)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    doc = DOC.read_text(encoding="utf-8")
    new = render(doc)
    yamls = group_yaml()
    if args.check:
        stale = [str(p.relative_to(ROOT)) for p, text in yamls.items() if p.read_text(encoding="utf-8") != text]
        if new != doc or stale:
            print("out of date (run experiments/param_table.py): " + ", ".join((["docs/MODEL.md"] if new != doc else [])
                                                                          + stale), file=sys.stderr)
            return 1
        return 0
    write_text(DOC, new)  # atomically: an interrupted rewrite leaves the old file whole
    for path, text in yamls.items():
        write_text(path, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
