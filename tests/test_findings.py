"""docs/FINDINGS.md's generator (sim.findings) and the resumable comparison it runs on (sim.compare cache)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import compare as cmp
from sim import findings
from sim.config import ConfigError
from sim.paths import config_dir

TINY = ["consumers.n=2000", "days=61", "burn_in=10"]


def tiny_design(tmp_path, only: list[str] | None = None) -> tuple:
    """The committed design at test size: every run's resolution and horizon replaced by TINY."""
    data = yaml.safe_load((config_dir() / "findings.yaml").read_text())
    data.update(members=2, replications=2, out=str(tmp_path / "out"))
    for q in data["questions"]:
        conditions = [r for r in q["runs"] if r.get("condition")]
        q["runs"] = [r for r in q["runs"] if not r.get("condition")] + conditions[:1]  # one sensitivity run is enough
        for run in q["runs"]:
            run["overrides"] = [o for o in run["overrides"] if not o.startswith(("consumers.n", "days"))] + TINY
            run.pop("members", None)
    if only:
        data["questions"] = [q for q in data["questions"] if q["id"] in only]
    path = tmp_path / "design.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, data


def test_the_committed_design_parses_and_every_question_has_an_answer():
    design = findings.load_design()
    assert [q.id for q in design.questions] == list(findings.ANSWERS)
    assert len(design.questions) == 7
    assert all(q.runs for q in design.questions)


@pytest.mark.parametrize("edit, key", [
    (lambda d: d.update(colour="red"), "findings.colour"),
    (lambda d: d.update(members=0), "members = 0"),
    (lambda d: d.update(replications=1.5), "replications = 1.5"),
    (lambda d: d["questions"][1].update(id=d["questions"][0]["id"]), "questions[1].id"),
    (lambda d: d["questions"][0]["runs"][0].update(policies=["nope"]), "'nope' is not a policy"),
    (lambda d: d["questions"][0]["runs"][0].update(seed=3), "questions[0].runs[0].seed"),
    (lambda d: d["questions"][0]["runs"][0].update(overrides=["consumers.n=-5"]), "consumers.n"),
])
def test_a_bad_design_fails_in_one_line_naming_the_entry(tmp_path, edit, key):
    data = yaml.safe_load((config_dir() / "findings.yaml").read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        findings.load_design(path)
    assert key in str(err.value).splitlines()[0]


def test_members_are_evenly_spaced_over_the_ensemble():
    table = pd.DataFrame({"x": np.arange(20.0)})
    assert list(findings.spaced(table, 6).index) == [0, 4, 8, 11, 15, 19]
    assert list(findings.spaced(table, None).index) == list(range(20))
    assert list(findings.spaced(table, 50).index) == list(range(20))


def test_an_interrupted_comparison_resumes_from_its_cache(tmp_path):
    exp, base, _ = cmp.load_experiment("guarantees", ["consumers.n=1500", "days=12", "burn_in=5"])
    cache = tmp_path / "cache"
    _, first = cmp.compare(exp, base, 3, cache=cache)
    files = sorted(cache.glob("*.pkl"))
    assert len(files) == 3
    assert all(pickle.loads(f.read_bytes())["seconds"] > 0 for f in files)

    calls = []

    def counting_map(fn, *args):
        calls.append(len(args[0]))
        return map(fn, *args)

    files[1].unlink()  # as if the run had stopped before this replication finished
    reps = [{name: {**cfg, "seed": base["seed"] + r} for name, cfg in
             {"baseline": cmp.to_dict(cmp.make_config(cmp.merge(base, exp.baseline))),
              **{p: cmp.to_dict(cmp.make_config(cmp.merge(base, o))) for p, o in exp.policies.items()}}.items()}
            for r in range(3)]
    starts = {name: 1 for name in reps[0]}
    cmp.cached_replications(reps, starts, counting_map, cache)
    assert calls == [1]  # only the missing replication ran again
    _, again = cmp.compare(exp, base, 3, cache=cache)
    pd.testing.assert_frame_equal(first, again)
    _, fresh = cmp.compare(exp, base, 3)
    pd.testing.assert_frame_equal(first, fresh)  # the cache changes nothing


def test_a_changed_configuration_never_reuses_a_cached_replication():
    arms = {"baseline": {"seed": 0, "x": 1}, "p": {"seed": 0, "x": 2}}
    key = cmp.replication_key(arms, {"baseline": 1, "p": 1})
    assert key != cmp.replication_key({**arms, "p": {"seed": 0, "x": 3}}, {"baseline": 1, "p": 1})
    assert key != cmp.replication_key({k: {**v, "seed": 1} for k, v in arms.items()}, {"baseline": 1, "p": 1})
    assert key != cmp.replication_key(arms, {"baseline": 1, "p": 5})


def test_findings_answers_every_question_from_its_runs_and_resumes(tmp_path):
    path, data = tiny_design(tmp_path)
    doc = tmp_path / "FINDINGS.md"
    assert findings.main(["--design", str(path), "--workers", "1", "--only", "quality", "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert text.count("Not computed yet") == 6  # the other six questions give no numbers
    quality = text.split("## 5.")[1].split("## 6.")[0]
    assert "Not computed yet" not in quality and "seed_package" in quality and "ensemble range" in quality
    assert "**When the answer flips.**" in quality and "worker-minutes" in quality

    assert findings.main(["--design", str(path), "--workers", "2", "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "Not computed yet" not in text
    for i, q in enumerate(data["questions"], 1):
        section = text.split(f"## {i}. ")[1].split("\n## ")[0]
        assert section.startswith(q["title"]) and "**Design and cost.**" in section
    pie = text.split("## 1. ")[1].split("\n## ")[0]
    assert "in the main run" in pie and "closed_market" in pie  # a condition run and the contrast are told
    out = tmp_path / "out"
    done = sorted(out.glob("*/*/done.json"))
    assert len(done) == sum(len(q["runs"]) for q in data["questions"])
    # a finished run is not run again: the document is rewritten from the results alone
    stamp = {p: p.stat().st_mtime_ns for p in done}
    assert findings.main(["--design", str(path), "--doc", str(doc)]) == 0
    assert {p: p.stat().st_mtime_ns for p in done} == stamp
    assert doc.read_text() == text


def test_an_unknown_question_is_refused_before_any_run(tmp_path, capsys):
    path, _ = tiny_design(tmp_path)
    assert findings.main(["--design", str(path), "--only", "pie,weather", "--doc", str(tmp_path / "F.md")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'weather'" in err[0]
    assert not (tmp_path / "out").exists()


def test_the_committed_findings_are_what_the_committed_results_give():
    """docs/FINDINGS.md and the README's headline example are regenerated from experiments/results/findings/
    (python -m sim.findings --report), never edited by hand."""
    design = findings.load_design()
    out = findings.ROOT / design.out
    doc = findings.ROOT / "docs" / "FINDINGS.md"
    assert findings.report(design, out, doc.parent) == doc.read_text(encoding="utf-8"), \
        "run `python -m sim.findings --report`"
    readme = (findings.ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(findings.README_START)[1].split(findings.README_END)[0].strip()
    assert block == (findings.readme_headline(design, out) or "").strip(), "run `python -m sim.findings --report`"
