"""Benchmark: partners for an idea on the full H2020 table as users import it, against "most active in the theme".

Data: the full H2020 participation table imported exactly as the README says (bench/recommend_eval.py's
README_IMPORTS, the same import function) into a fresh SQLite store, then read back through the product's services
(ecosystem.services.partners: index_inputs and the stored roles). `--db FILE` reads a store already built that
way instead of importing again (it is only read).

Protocol (time split, nothing from the future in training): for each project starting in the test years whose
coordinator is known in training and with at least one other participant known in training, the query is the
project's theme as the table has it (its programme part(s); call topics are keyed by grant number, not rcn, and
cannot be joined) and exclude = [its coordinator]; the truth is its other participants known in training
(those unknown in training cannot be ranked by any method). recall@20 = share of the truth in the top 20,
averaged over projects; hits@20 = share of projects with at least one.
- validation: index from projects starting <= 2015, queries from projects starting 2016-2017. IDEA_WEIGHTS in
  ecosystem/analysis/ideas.py were fitted here (`--refit` reproduces the fit: coordinate ascent on recall@20).
- test: index from projects starting <= 2017, queries from projects starting 2018-2020.
Methods: helixmap (ecosystem.analysis.ideas, the product's features, candidates and score), most_active (training
projects in the theme, top 20, coordinator excluded), recent_active (the same, each project weighted by recency),
coordinator_partners (the coordinator's past partners by recency-weighted shared projects, then most active).
Views: all candidates, and hubs excluded (the top 1% of organisations by number of training partners left out of
candidates and truth). Latency: GET /api/v1/partners through HTTP on `helixmap serve` (first request the moment
the server answers its health check, then warm p95 over 200 queries).

Prints one JSON object. Run: python bench/idea_eval.py [--db FILE] [--sample N] [--refit] [--skip-latency]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import peak_rss_mb
from recommend_eval import README_IMPORTS, SEED, load_readme, p95, served

from ecosystem.analysis.ideas import (
    FEATURES,
    IDEA_WEIGHTS,
    PROVENANCE,
    IdeaIndex,
    IdeaWeights,
    candidates,
    features,
    partners_for_idea,
    team_of,
)
from ecosystem.analysis.recommend import OrgInfo, ProjectInfo, training_slice

K = 20
HUB_SHARE = 0.01
POOL = 600  # candidates kept per query for fitting: the best by each single signal (recall@20 needs the top 20)
VIEWS = ("all_candidates", "hubs_excluded")
METHODS = ("helixmap", "most_active", "recent_active", "coordinator_partners")


@dataclass
class Data:
    orgs: list[OrgInfo]
    projects: list[ProjectInfo]
    participations: list[tuple[str, str]]
    coordinators: dict[str, str]  # project -> its coordinator


@dataclass
class Case:
    project: str
    theme: str
    coordinator: str
    truth: np.ndarray  # index positions


def read_store(db: Path) -> Data:
    """Organisations, projects, participations and coordinators as the product reads them from the store."""
    from ecosystem.services.partners import index_inputs
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(str(db))
    try:
        orgs, projects, participations = index_inputs(store)
        coordinators = {pid: oid for pid, oid, role, _ in store.iter_participations() if role == "coordinator"}
    finally:
        store.close()
    return Data(orgs=orgs, projects=projects, participations=sorted(set(participations)), coordinators=coordinators)


def split(data: Data, last_train: int, first: int, last: int, sample: int) -> tuple[IdeaIndex, list[Case], int]:
    """The training index and the evaluated projects (a seeded sample of the eligible ones)."""
    train_projects, train_pairs = training_slice(data.projects, data.participations, last_year=last_train)
    known = {oid for _, oid in train_pairs}
    index = IdeaIndex.build([o for o in data.orgs if o.id in known], train_projects, train_pairs)
    members: dict[str, list[str]] = defaultdict(list)
    for pid, oid in data.participations:
        members[pid].append(oid)
    cases = []
    for p in data.projects:
        if p.start_year is None or not first <= p.start_year <= last or not p.programme_part:
            continue
        coordinator = data.coordinators.get(p.id)
        if coordinator is None or coordinator not in index.pos:
            continue
        truth = sorted({index.pos[o] for o in members[p.id] if o != coordinator and o in index.pos})
        if truth:
            cases.append(Case(project=p.id, theme=p.programme_part, coordinator=coordinator,
                              truth=np.array(truth, dtype=np.int64)))
    eligible = len(cases)
    if len(cases) > sample:
        rng = np.random.default_rng(SEED)
        cases = [cases[i] for i in sorted(rng.choice(len(cases), sample, replace=False))]
    return index, cases, eligible


def hub_mask(index: IdeaIndex) -> np.ndarray:
    ranked = np.sort(index.degree)[::-1]
    count = math.ceil(HUB_SHARE * index.size)
    threshold = ranked[count - 1] if count and ranked[count - 1] > 0 else np.inf
    return index.degree >= threshold


def top_k(score: np.ndarray, ok: np.ndarray, k: int = K) -> np.ndarray:
    pool = np.flatnonzero(ok & (score > -np.inf))
    if len(pool) > k:
        pool = pool[np.argpartition(-score[pool], k - 1)[:k]]
    return pool


def method_scores(index: IdeaIndex, feats: dict[str, np.ndarray], weights: IdeaWeights) -> dict[str, np.ndarray]:
    tie = -np.arange(index.size) * 1e-12  # ties broken by index (id) order for every method
    theme = feats["_theme_sum"]
    linear = np.full(index.size, weights.bias)
    for name in FEATURES:
        linear = linear + getattr(weights, name) * feats[name]
    return {"helixmap": np.where(theme > 0, linear, -np.inf) + tie,  # the product's candidates (ideas.candidates)
            "most_active": np.where(theme > 0, theme, -np.inf) + tie,
            "recent_active": np.where(theme > 0, feats["_recent_sum"], -np.inf) + tie,
            "coordinator_partners": np.where((theme > 0) | (feats["_direct"] > 0),
                                             feats["_direct"] * 1e6 + theme, -np.inf) + tie}


def evaluate(index: IdeaIndex, cases: list[Case], weights: IdeaWeights = IDEA_WEIGHTS) -> dict[str, Any]:
    hubs = hub_mask(index)
    recall: dict[str, dict[str, list[float]]] = {v: defaultdict(list) for v in VIEWS}
    hits: dict[str, dict[str, list[float]]] = {v: defaultdict(list) for v in VIEWS}
    checked = 0
    for n, case in enumerate(cases):
        weight, _ = index.match(programme=case.theme)
        team = team_of(index, [case.coordinator])
        feats = features(index, weight, team)
        if n < 20:  # the evaluation's helixmap ranking is the product's own answer
            answer = partners_for_idea(index, programme=case.theme, exclude=[case.coordinator], k=K, weights=weights)
            ours = method_scores(index, feats, weights)["helixmap"]
            mine = top_k(ours, ~np.isin(np.arange(index.size), team.members))
            assert {index.pos[i.id] for i in answer.items} == set(mine.tolist()), case.project
            checked += 1
        scores = method_scores(index, feats, weights)
        for view in VIEWS:
            ok = np.ones(index.size, dtype=bool)
            ok[team.members] = False
            truth = case.truth
            if view == "hubs_excluded":
                ok &= ~hubs
                truth = truth[~hubs[truth]]
                if not len(truth):
                    continue
            for method, score in scores.items():
                found = len(np.intersect1d(top_k(score, ok), truth))
                recall[view][method].append(found / len(truth))
                hits[view][method].append(1.0 if found else 0.0)
    out: dict[str, Any] = {"checked_against_the_product_answer": checked}
    for view in VIEWS:
        n = len(recall[view]["helixmap"])
        methods = {m: {"recall@20": round(float(np.mean(recall[view][m])), 4) if n else None,
                       "hits@20": round(float(np.mean(hits[view][m])), 4) if n else None} for m in METHODS}
        base = methods["most_active"]["recall@20"]
        out[view] = {"projects": n, "methods": methods,
                     "helixmap_vs_most_active": round(methods["helixmap"]["recall@20"] / base, 3) if base else None}
    return out


# -- fitting (validation split only) ---------------------------------------------------------------------------

def pooled(index: IdeaIndex, cases: list[Case]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Per case: the feature matrix of a candidate pool (the POOL best by each single signal) and which are truth."""
    out = []
    for case in cases:
        weight, _ = index.match(programme=case.theme)
        team = team_of(index, [case.coordinator])
        feats = features(index, weight, team)
        ok = candidates(index, feats, team, helix=None, urban_rural=None, nuts=None)
        pool: set[int] = set()
        for name in ("theme_recent", "theme_count", "specialisation", "team_direct", "team_two_hop", "team_theme"):
            pool.update(top_k(np.where(ok, feats[name], -np.inf), ok, POOL).tolist())
        rows = np.array(sorted(pool), dtype=np.int64)
        matrix = np.stack([feats[name][rows] for name in FEATURES], axis=1).astype(np.float32)
        out.append((matrix, np.isin(rows, case.truth), len(case.truth)))
    return out


def pooled_recall(pools: list[tuple[np.ndarray, np.ndarray, int]], vector: np.ndarray) -> float:
    total = 0.0
    for matrix, truth, n in pools:
        score = matrix @ vector
        k = min(K, len(score))
        best = np.argpartition(-score, k - 1)[:k] if len(score) > k else np.arange(len(score))
        total += truth[best].sum() / n
    return total / len(pools)


GRID = {"theme_recent": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
        "theme_count": (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 2.0),
        "specialisation": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
        "team_direct": (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0),
        "team_two_hop": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0), "geography": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
        "size": (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5), "team_theme": (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0),
        "active_recently": (-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0)}
# Held, not fitted: the helix coefficient is a product choice (a helix the team lacks counts a little in its
# favour, as in ecosystem/analysis/recommend.py); fitted freely it goes negative (consortia repeat their helix).
HELD = ("helix",)


def fit(index: IdeaIndex, cases: list[Case], rounds: int = 4) -> dict[str, Any]:
    """Coordinate ascent on pooled recall@20 over GRID, from the frozen weights (the bias does not rank)."""
    pools = pooled(index, cases)
    current = {name: getattr(IDEA_WEIGHTS, name) for name in FEATURES}

    def value(w: dict[str, float]) -> float:
        return pooled_recall(pools, np.array([w[f] for f in FEATURES], dtype=np.float32))

    start = best = value(current)
    for _ in range(rounds):
        moved = False
        for name in (f for f in FEATURES if f not in HELD):
            for candidate in GRID[name]:
                trial = {**current, name: candidate}
                got = value(trial)
                if got > best + 1e-6:
                    best, current, moved = got, trial, True
        if not moved:
            break
    return {"pooled_recall@20_frozen": round(start, 4), "pooled_recall@20_fitted": round(best, 4),
            "weights": current, "held": list(HELD), "cases": len(cases), "pool": POOL}


# -- latency through HTTP --------------------------------------------------------------------------------------

def http_latency(db: Path, cases: list[Case], n: int = 200) -> dict[str, Any]:
    chosen = cases[:n]
    with served(db) as (client, ready):

        def ask(case: Case) -> float:
            t0 = time.perf_counter()
            r = client.get("/api/v1/partners", params={"programme": case.theme, "exclude": case.coordinator})
            assert r.status_code == 200, r.text
            return (time.perf_counter() - t0) * 1000

        first_ms = ask(chosen[0])
        timings = [ask(c) for c in chosen]
    return {"through": "HTTP, helixmap serve on 127.0.0.1", "queries": len(chosen),
            "server_ready_s": round(ready, 2), "first_request_ms": round(first_ms, 1),
            "warm_median_ms": round(statistics.median(timings), 1),
            "warm_p95_ms": p95(timings), "target_ms": 200}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a SQLite store already built by the README's import (read only)")
    parser.add_argument("--sample", type=int, default=3000, help="projects evaluated per split (seeded)")
    parser.add_argument("--fit-sample", type=int, default=1500, help="validation projects used by --refit")
    parser.add_argument("--refit", action="store_true", help="refit the weights on the validation split")
    parser.add_argument("--skip-test", action="store_true", help="validation only (while developing)")
    parser.add_argument("--skip-latency", action="store_true", help="no HTTP latency run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "idea_eval", "k": K, "seed": SEED,
                              "weights": asdict(IDEA_WEIGHTS), "weights_provenance": PROVENANCE}
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            db = args.db
            result["imports"] = f"read from an existing store built by the README's import: {db.name}"
        else:
            db = Path(tmp) / "h2020.db"
            result.update(load_readme(db)[1])
        result["readme_imports"] = [[t.name, m.name] for t, m in README_IMPORTS]
        data = read_store(db)
        index, cases, eligible = split(data, 2015, 2016, 2017, args.sample)
        result["themes"] = sorted({c.theme for c in cases})[:40]
        if args.refit:
            result["fit"] = fit(index, cases[:args.fit_sample])
            fitted = replace(IDEA_WEIGHTS, **result["fit"]["weights"])
            result["validation_refitted"] = evaluate(index, cases, fitted)
        result["validation"] = {"train": "start_year <= 2015", "test": "start_year 2016-2017",
                                "eligible_projects": eligible, "evaluated_projects": len(cases),
                                **evaluate(index, cases)}
        if not args.skip_test:
            index, cases, eligible = split(data, 2017, 2018, 2020, args.sample)
            result["test"] = {"train": "start_year <= 2017", "test": "start_year 2018-2020",
                              "index_nodes": index.size, "eligible_projects": eligible,
                              "evaluated_projects": len(cases), **evaluate(index, cases)}
            result["summary"] = {view: {m: result["test"][view]["methods"][m]["recall@20"] for m in METHODS}
                                 | {"projects": result["test"][view]["projects"]} for view in VIEWS}
        if not args.skip_latency:
            result["latency"] = http_latency(db, cases)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = peak_rss_mb()
    result["load"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
