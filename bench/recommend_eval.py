"""Benchmark: partner recommendations on the full H2020 graph, against link-prediction baselines.

Protocol (time split, nothing from the future in training):
- validation: index built from projects starting <= 2015 only; targets are the partners each organisation
  first works with in projects starting 2016-2017. The weights are tuned here (grid search) and frozen.
- test: index built from projects starting <= 2017 only (their participations and programme parts, and
  nothing else); targets are the partners each organisation first works with in projects starting
  2018-2020, not already partners in training, restricted to organisations known in training.
Evaluated: organisations active in both periods with at least one target (a seeded sample if many).
Two views: all candidates, and the top 1% of organisations by training degree removed from candidates
and targets. Methods: helixmap (ecosystem.recommend, the product code), random (seeded), preferential
attachment, common neighbours, Adamic-Adar, resource allocation.
Also: warm latency of `recommend` for 200 organisations on the full graph (all years).

Prints one JSON object. Run: python bench/recommend_eval.py [--sample N] [--no-tune] [--skip-test]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, peak_rss_mb  # noqa: E402

from ecosystem.recommend import (  # noqa: E402
    COMPONENTS, DEFAULT_WEIGHTS, OrgInfo, ProjectInfo, RecommenderIndex, Weights, combine, components,
    query_for, recommend, score_candidates, top_positions, training_slice)

TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
PARTS = DATA / "cordis" / "h2020_programme_parts.csv.gz"
TYPE_HELIX = {"HES": "academia", "REC": "academia", "PRC": "industry", "PUB": "government",
              "OTH": "civil_society"}
K = 10
HUB_SHARE = 0.01
SEED = 20240601
BASELINES = ("random", "preferential_attachment", "common_neighbours", "adamic_adar", "resource_allocation")
NOTES = [
    "Thematic signal: H2020 programme parts (rcn -> SC1..SC7, LEIT, ERC, MSCA, ...). Call topics in "
    "h2020_project_topics.csv are keyed by projectID (grant agreement number), a different key than this "
    "table's rcn, so they cannot be joined here and are not used.",
    "Geography: the table gives the country only (no NUTS3), so the geography component is 'same country'.",
    "Training data for each split holds only projects starting up to its last training year (with their "
    "participations and programme parts); projects without a start year are dropped.",
    "hits@10: share of evaluated organisations with at least one target in the top 10; precision@10 and "
    "recall@10 averaged over organisations; MRR: mean reciprocal rank of the best-ranked target over the "
    "full ranking (0 when no target can be ranked).",
    "Ties are broken by organisation id for every method. helixmap only ranks candidates with a score > 0.",
]


@dataclass
class Data:
    orgs: dict[str, OrgInfo]
    projects: list[ProjectInfo]
    participations: list[tuple[str, str]]


@dataclass
class Split:
    name: str
    year: int
    index: RecommenderIndex
    targets: dict[str, np.ndarray]  # org id -> positions of its new partners
    eligible: int
    evaluated: list[str]
    hubs: np.ndarray  # bool mask over index positions


def load_data() -> Data:
    """The full participation table and programme parts, parsed with the csv module."""
    parts: dict[str, set[str]] = defaultdict(set)
    with gzip.open(PARTS, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            parts[row["rcn"]].add(row["programme_part"])
    orgs: dict[str, OrgInfo] = {}
    years: dict[str, int | None] = {}
    pairs: set[tuple[str, str]] = set()
    with gzip.open(TABLE, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rcn, pic = row["rcn"], row["pic"]
            pairs.add((rcn, pic))
            year = row["start_year"]
            years[rcn] = int(year) if year and year != "NA" else None
            if pic not in orgs:
                orgs[pic] = OrgInfo(id=pic, name=pic, helix=TYPE_HELIX.get(row["type"], "unknown"),
                                    country=row["country"] or None)
    projects = [ProjectInfo(id=rcn, start_year=y, programme="H2020",
                            programme_part=";".join(sorted(parts.get(rcn, ()))) or None)
                for rcn, y in sorted(years.items())]
    return Data(orgs=orgs, projects=projects, participations=sorted(pairs))


def make_split(data: Data, name: str, last_train: int, first_test: int, last_test: int,
               sample: int) -> Split:
    """Index from training years only; targets = first-time partners in the test years."""
    train_projects, train_pairs = training_slice(data.projects, data.participations, last_year=last_train)
    known = {oid for _, oid in train_pairs}
    index = RecommenderIndex.build([data.orgs[o] for o in sorted(known)], train_projects, train_pairs)
    test_ids = {p.id for p in data.projects
                if p.start_year is not None and first_test <= p.start_year <= last_test}
    members: dict[str, list[int]] = defaultdict(list)
    for pid, oid in data.participations:
        if pid in test_ids and oid in index.pos:
            members[pid].append(index.pos[oid])
    active = {oid for pid, oid in data.participations if pid in test_ids}
    partners: dict[int, set[int]] = defaultdict(set)
    for group in members.values():
        for u in group:
            partners[u].update(group)
    targets: dict[str, np.ndarray] = {}
    for u, found in partners.items():
        oid = index.ids[u]
        if oid not in active:
            continue
        new = found - {u} - set(index.neighbours(u).tolist())
        if new:
            targets[oid] = np.array(sorted(new), dtype=np.int64)
    eligible = sorted(targets)
    rng = np.random.default_rng(SEED)
    evaluated = eligible if len(eligible) <= sample else sorted(rng.choice(eligible, sample, replace=False))
    n_hubs = math.ceil(HUB_SHARE * index.size)
    order = sorted(range(index.size), key=lambda i: (-index.degree[i], index.ids[i]))
    hubs = np.zeros(index.size, dtype=bool)
    hubs[order[:n_hubs]] = True
    return Split(name=name, year=first_test, index=index, targets=targets, eligible=len(eligible),
                 evaluated=[str(o) for o in evaluated], hubs=hubs)


def baseline_scores(index: RecommenderIndex, u: int, method: str) -> np.ndarray:
    """Raw link-prediction scores of every organisation for organisation u."""
    nbrs = index.neighbours(u)
    spread = np.zeros(index.size)
    if method == "random":
        return np.random.default_rng([SEED, u]).random(index.size)
    if method == "preferential_attachment":
        return index.degree * index.degree[u]
    if method == "common_neighbours":
        spread[nbrs] = 1.0
    elif method == "adamic_adar":
        spread[nbrs] = 1.0 / np.log(np.maximum(index.degree[nbrs], 2.0))
    elif method == "resource_allocation":
        spread[nbrs] = 1.0 / index.degree[nbrs]
    return index.adjacency @ spread


def rank_metrics(score: np.ndarray, targets: np.ndarray) -> tuple[int, float, float, float]:
    """(hit, precision@K, recall@K, reciprocal rank of the best target) for one ranking."""
    top = top_positions(score, K)
    found = int(np.isin(top, targets).sum())
    finite = targets[np.isfinite(score[targets])]
    rr = 0.0
    if len(finite):
        best_score = score[finite].max()
        best = finite[score[finite] == best_score].min()
        rank = int((score > best_score).sum() + ((score == best_score) & (np.arange(len(score)) < best)).sum()) + 1
        rr = 1.0 / rank
    return int(found > 0), found / K, found / len(targets), rr


class Tally:
    """Running sums of the metrics of one method in one view."""

    def __init__(self) -> None:
        self.n = 0
        self.sums = np.zeros(4)

    def add(self, metrics: tuple[int, float, float, float]) -> None:
        self.n += 1
        self.sums += metrics

    def result(self) -> dict[str, Any]:
        m = self.sums / max(self.n, 1)
        return {"hits@10": round(m[0], 4), "precision@10": round(m[1], 4), "recall@10": round(m[2], 4),
                "mrr": round(m[3], 4), "organisations": self.n}


def evaluate(split: Split, weights: Weights) -> dict[str, Any]:
    """Every method, both views, on the split's evaluated organisations."""
    methods = ("helixmap", *BASELINES)
    tallies = {view: {m: Tally() for m in methods} for view in ("all_candidates", "without_top1pct")}
    index = split.index
    checked = 0
    for oid in split.evaluated:
        u = index.pos[oid]
        targets = split.targets[oid]
        kept = targets[~split.hubs[targets]]
        not_candidate = np.zeros(index.size, dtype=bool)
        not_candidate[u] = True
        not_candidate[index.neighbours(u)] = True
        for method in methods:
            if method == "helixmap":
                score = score_candidates(index, oid, year=split.year, weights=weights)
                if checked < 25:  # the product entry point ranks exactly the same
                    assert [r.id for r in recommend(index, oid, k=K, year=split.year, weights=weights)] == \
                        [index.ids[j] for j in top_positions(score, K)]
                    checked += 1
            else:
                score = np.where(not_candidate, -np.inf, baseline_scores(index, u, method).astype(float))
            tallies["all_candidates"][method].add(rank_metrics(score, targets))
            if len(kept):
                tallies["without_top1pct"][method].add(rank_metrics(np.where(split.hubs, -np.inf, score), kept))
    out: dict[str, Any] = {}
    for view, by_method in tallies.items():
        results = {m: t.result() for m, t in by_method.items()}
        best = max(BASELINES, key=lambda m: results[m]["hits@10"])
        ratio = results["helixmap"]["hits@10"] / results[best]["hits@10"] if results[best]["hits@10"] else None
        out[view] = {"methods": results, "best_baseline": best,
                     "helixmap_vs_best_baseline_hits@10": round(ratio, 3) if ratio else None,
                     "target_ratio": 1.2, "meets_target": bool(ratio and ratio >= 1.2)}
    return out


def tune(split: Split, grid: dict[str, list[float]], shortlist: int = 300) -> dict[str, Any]:
    """Grid search of the weights on the validation split: mean hits@10 over both views.

    For speed each organisation's ranking is computed on a shortlist (its best `shortlist` candidates by
    each component, plus its targets); the final numbers are then recomputed exactly by `evaluate`.
    """
    names = list(grid)
    combos = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]
    hits = np.zeros((len(combos), 2))
    counts = np.zeros(2)
    index = split.index
    for oid in split.evaluated:
        u = index.pos[oid]
        query = query_for(index, oid)
        parts = components(index, query, year=split.year)
        allowed = np.ones(index.size, dtype=bool)
        allowed[u] = False
        allowed[query.neighbours] = False
        targets = split.targets[oid]
        pool = set(targets.tolist())
        for name in COMPONENTS:
            masked = np.where(allowed, parts[name], -np.inf)
            pool.update(top_positions(np.where(masked > 0, masked, -np.inf), shortlist).tolist())
        cand = np.array(sorted(j for j in pool if allowed[j]), dtype=np.int64)
        sub = {name: parts[name][cand] for name in COMPONENTS}
        is_target = np.isin(cand, targets)
        is_kept = is_target & ~split.hubs[cand]
        not_hub = ~split.hubs[cand]
        counts += [1, bool(is_kept.any())]
        for c, combo in enumerate(combos):
            score = combine(sub, replace(DEFAULT_WEIGHTS, **combo))
            score = np.where(score > 0, score, -np.inf)
            hits[c, 0] += bool(is_target[top_positions(score, K)].any())
            if is_kept.any():
                hits[c, 1] += bool(is_kept[top_positions(np.where(not_hub, score, -np.inf), K)].any())
    rates = hits / np.maximum(counts, 1)
    objective = rates.mean(axis=1)
    nudge = DEFAULT_WEIGHTS.helix

    def best_of(helix: float) -> int:  # first best in grid order: deterministic
        allowed = [c for c, combo in enumerate(combos) if combo.get("helix", nudge) == helix]
        return max(allowed, key=lambda c: (objective[c], -c))

    best = best_of(nudge)
    without = best_of(0.0) if any(combo.get("helix") == 0.0 for combo in combos) else best
    ranked = np.argsort(-objective, kind="stable")[:5]
    return {"grid": grid, "combinations": len(combos), "organisations": int(counts[0]),
            "objective": "mean hits@10 over both views (shortlist approximation)",
            "helix_nudge": f"the helix weight is a product choice fixed at {nudge}, not tuned; "
                           "the best weights without it are shown for its cost",
            "best": combos[best], "best_hits@10": [round(float(x), 4) for x in rates[best]],
            "best_without_helix_nudge": combos[without],
            "best_without_helix_nudge_hits@10": [round(float(x), 4) for x in rates[without]],
            "top5": [{"weights": combos[i], "hits@10": [round(float(x), 4) for x in rates[i]]} for i in ranked]}


def latency(data: Data, n: int = 200) -> dict[str, Any]:
    """Warm latency of `recommend` (top 10 with reasons) on the full graph, all years."""
    start = time.perf_counter()
    index = RecommenderIndex.build(data.orgs.values(), data.projects, data.participations)
    build = time.perf_counter() - start
    rng = np.random.default_rng(SEED)
    chosen = [index.ids[i] for i in rng.choice(index.size, n, replace=False)]
    for oid in chosen[:20]:
        recommend(index, oid)
    timings = []
    for oid in chosen:
        t0 = time.perf_counter()
        recommend(index, oid)
        timings.append((time.perf_counter() - t0) * 1000)
    hub = max(range(index.size), key=lambda i: (index.degree[i], index.ids[i]))
    t0 = time.perf_counter()
    recommend(index, index.ids[hub], favour_rural_civil=True, helix="civil_society")
    hub_ms = (time.perf_counter() - t0) * 1000
    timings.sort()
    return {"organisations": n, "index_build_s": round(build, 2), "nodes": index.size,
            "edges": int(index.adjacency.nnz // 2), "median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(math.ceil(0.95 * n)) - 1], 2), "max_ms": round(timings[-1], 2),
            "largest_hub_ms": round(hub_ms, 2), "target_p95_ms": 200}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3000, help="organisations evaluated per split (seeded)")
    parser.add_argument("--no-tune", action="store_true", help="skip the grid search; use the frozen defaults")
    parser.add_argument("--skip-test", action="store_true", help="validation only (while developing)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = load_data()
    result: dict[str, Any] = {"benchmark": "recommend_eval", "input": [TABLE.name, PARTS.name],
                              "k": K, "seed": SEED, "notes": NOTES}
    validation = make_split(data, "validation", 2015, 2016, 2017, args.sample)
    weights = DEFAULT_WEIGHTS
    if not args.no_tune:
        grid = {"proximity": [1.0], "thematic": [0.3, 0.5, 0.7], "helix": [0.0, DEFAULT_WEIGHTS.helix],
                "geography": [0.0, 0.05, 0.1, 0.2], "activity": [0.4, 0.55, 0.7, 0.9]}
        tuned = tune(validation, grid)
        result["tuning"] = tuned
        weights = replace(DEFAULT_WEIGHTS, **tuned["best"])
    result["weights"] = asdict(weights)
    result["default_weights"] = asdict(DEFAULT_WEIGHTS)
    result["tuned_weights_are_the_product_defaults"] = weights == DEFAULT_WEIGHTS
    result["validation"] = {"train": "start_year <= 2015", "test": "start_year 2016-2017",
                            "eligible_organisations": validation.eligible,
                            "evaluated_organisations": len(validation.evaluated),
                            **evaluate(validation, weights)}
    del validation
    if not args.skip_test:
        test = make_split(data, "test", 2017, 2018, 2020, args.sample)
        result["test"] = {"train": "start_year <= 2017", "test": "start_year 2018-2020",
                          "index_nodes": test.index.size, "hub_candidates_removed": int(test.hubs.sum()),
                          "eligible_organisations": test.eligible,
                          "evaluated_organisations": len(test.evaluated), **evaluate(test, weights)}
        del test
        result["summary"] = {
            view: {"helixmap_hits@10": result["test"][view]["methods"]["helixmap"]["hits@10"],
                   "best_baseline": result["test"][view]["best_baseline"],
                   "ratio": result["test"][view]["helixmap_vs_best_baseline_hits@10"],
                   "meets_1.2x_target": result["test"][view]["meets_target"]}
            for view in ("all_candidates", "without_top1pct")}
        result["latency"] = latency(data)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
