"""Benchmark: partner recommendations on the full H2020 graph as users run it, against link-prediction baselines.

Data (`--data readme`, the default): the full H2020 participation table imported exactly as the README says
(README_IMPORTS: the regions, the table through examples/h2020_participations.toml, its programme parts, and
CORDIS organization.csv through examples/h2020_organisations.toml, organisations only) into a fresh SQLite store, and the organisations, projects and participations read back from
that store as the product reads them (ecosystem.services.partners). `--data csv-with-parts` reads the table
and the programme parts file directly (no places; how DEFAULT_WEIGHTS were fitted before 2026-12-03).

Protocol (time split, nothing from the future in training):
- validation: index built from projects starting <= 2015 only; targets are the partners each organisation
  first works with in projects starting 2016-2017. The score's coefficients were fitted here (`--refit`
  reproduces the fit) and frozen into ecosystem/analysis/recommend.py as DEFAULT_WEIGHTS.
- test: index built from projects starting <= 2017 only (their participations and programme parts, and
  nothing else); targets are the partners each organisation first works with in projects starting
  2018-2020, not already partners in training, restricted to organisations known in training.
Evaluated: organisations active in both periods with at least one target (a seeded sample if many).
Two views: all candidates, and hubs excluded by the product's own `exclude_hubs` (the top 1% of organisations
by training degree: RecommenderIndex.hubs) from candidates and targets. Slices of hits@10 by the asking
organisation's helix, urban-rural type and size (projects in training). Methods: helixmap (ecosystem.analysis.recommend, the product code), random (seeded), preferential
attachment, common neighbours, Adamic-Adar, resource allocation.
Also: latency through HTTP (`helixmap serve` on the imported store, all years): the first recommendation asked
the moment the server answers its health check, and warm p95 over 200 organisations.

Prints one JSON object. Run: python bench/recommend_eval.py [--sample N] [--refit] [--skip-test] [--data ...]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, peak_rss_mb

from ecosystem.analysis.recommend import (
    DEFAULT_WEIGHTS,
    FEATURES,
    OrgInfo,
    ProjectInfo,
    RecommenderIndex,
    Weights,
    candidate_mask,
    features,
    query_for,
    recommend,
    score_candidates,
    top_positions,
    training_slice,
    weights_for,
)

TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
PARTS = DATA / "cordis" / "h2020_programme_parts.csv.gz"
ORGANISATIONS = DATA / "cordis" / "h2020_organization_sample.csv"
REGIONS = DATA / "regions"
# The README's import of the full table, in its order: (file, mapping); mapping None is `helixmap import
# regions`. A step whose mapping is not in examples/ yet is skipped and named in the output.
README_IMPORTS: tuple[tuple[Path, Path | None], ...] = (
    (REGIONS, None),
    (TABLE, REPO / "examples" / "h2020_participations.toml"),
    (PARTS, REPO / "examples" / "h2020_programme_parts.toml"),
    (ORGANISATIONS, REPO / "examples" / "h2020_organisations.toml"))
TYPE_HELIX = {"HES": "academia", "REC": "academia", "PRC": "industry", "PUB": "government",
              "OTH": "civil_society"}
K = 10
SEED = 20240601
BASELINES = ("random", "preferential_attachment", "common_neighbours", "adamic_adar", "resource_allocation")
NOTES = [
    "Thematic signal: H2020 programme parts (rcn -> SC1..SC7, LEIT, ERC, MSCA, ...). Call topics in "
    "h2020_project_topics.csv are keyed by projectID (grant agreement number), a different key than this "
    "table's rcn, so they cannot be joined here and are not used.",
    "Geography: the table gives the country only; the organisations mapping (organization.csv, after the regions) "
    "places the PICs it holds in their NUTS3 region with its urban-rural type, the others stay at country level.",
    "Training data for each split holds only projects starting up to its last training year (with their "
    "participations and programme parts); projects without a start year are dropped.",
    "hits@10: share of evaluated organisations with at least one target in the top 10; precision@10 and "
    "recall@10 averaged over organisations; MRR: mean reciprocal rank of the best-ranked target over the "
    "full ranking (0 when no target can be ranked).",
    "Ties are broken by organisation id for every method. helixmap scores every candidate (a logistic model "
    "whose coefficients were fitted on the validation split and frozen in ecosystem/analysis/recommend.py).",
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


def load_readme(db: Path) -> tuple[Data, dict[str, Any]]:
    """The README's import of the full table into a fresh SQLite store at `db`, read back as the product reads it."""
    from ecosystem.services.partners import index_inputs
    from ecosystem.store.sqlite import SQLiteStore
    from importers.eurostat import read_regions
    from importers.table import read_table

    steps: list[dict[str, Any]] = []
    store = SQLiteStore(str(db))
    try:
        for table, mapping in README_IMPORTS:
            if mapping is not None and not mapping.exists():
                steps.append({"file": table.name, "mapping": mapping.name, "skipped": "mapping not in examples/"})
                continue
            start = time.perf_counter()
            batch = (read_regions([table], cache_dir=db.parent / "cache") if mapping is None
                     else read_table(table, mapping))
            report = store.apply(batch)
            steps.append({"file": table.name, "mapping": mapping.name if mapping else "helixmap import regions",
                          "seconds": round(time.perf_counter() - start, 1),
                          **({"unlocated": dict(report.unlocated)} if report.unlocated else {})})
        orgs, projects, participations = index_inputs(store)
        places: dict[str, int] = defaultdict(int)
        for org in orgs:
            places[org.urban_rural] += 1
        steps.append({"organisations_by_urban_rural_type": dict(sorted(places.items()))})
    finally:
        store.close()
    data = Data(orgs={o.id: o for o in orgs}, projects=projects, participations=sorted(set(participations)))
    return data, {"imports": steps}


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
               sample: int, seed: int = SEED) -> Split:
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
    rng = np.random.default_rng(seed)
    evaluated = eligible if len(eligible) <= sample else sorted(rng.choice(eligible, sample, replace=False))
    hubs = index.hubs().mask  # what exclude_hubs leaves out
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


VIEWS = ("all_candidates", "hubs_excluded")
SIZES = ((1, 2, "1-2 projects"), (3, 9, "3-9 projects"), (10, 49, "10-49 projects"), (50, 10**9, "50+ projects"))
SLICED = ("helixmap", "adamic_adar")


class Views:
    """Tallies of every method in both views: all candidates; hubs (RecommenderIndex.hubs) excluded from the
    candidates (by the product's own exclude_hubs for helixmap) and from the targets. Per-organisation hits of
    helixmap and Adamic-Adar are kept for the slices."""

    def __init__(self, split: Split) -> None:
        self.split = split
        self.tallies: dict[str, dict[str, Tally]] = {view: {} for view in VIEWS}
        self.hits: dict[tuple[str, str], dict[str, int]] = {(v, m): {} for v in VIEWS for m in SLICED}

    def add(self, method: str, oid: str, score: np.ndarray, without_hubs: np.ndarray | None = None) -> None:
        """Tally one organisation's ranking (scores over the index; -inf where not a candidate); `without_hubs`:
        its ranking with the hubs excluded (default: `score` with the hubs set to -inf)."""
        targets = self.split.targets[oid]
        kept = targets[~self.split.hubs[targets]]
        metrics = rank_metrics(score, targets)
        self.tallies["all_candidates"].setdefault(method, Tally()).add(metrics)
        if method in SLICED:
            self.hits[("all_candidates", method)][oid] = metrics[0]
        if len(kept):
            ranked = np.where(self.split.hubs, -np.inf, score) if without_hubs is None else without_hubs
            metrics = rank_metrics(ranked, kept)
            self.tallies["hubs_excluded"].setdefault(method, Tally()).add(metrics)
            if method in SLICED:
                self.hits[("hubs_excluded", method)][oid] = metrics[0]

    def result(self) -> dict[str, dict[str, Any]]:
        """Per view: every method's metrics, the best baseline by hits@10, helixmap's ratios to it and to
        Adamic-Adar, and slices."""
        out: dict[str, dict[str, Any]] = {}
        for view, by_method in self.tallies.items():
            results = {m: t.result() for m, t in by_method.items()}
            best = max(BASELINES, key=lambda m: results[m]["hits@10"])
            base, aa = results[best]["hits@10"], results["adamic_adar"]["hits@10"]
            others = [m for m in results if m not in BASELINES]
            out[view] = {"methods": results, "best_baseline": best,
                         "vs_best_baseline_hits@10": {m: round(results[m]["hits@10"] / base, 3) if base else None
                                                      for m in others},
                         "vs_adamic_adar_hits@10": {m: round(results[m]["hits@10"] / aa, 3) if aa else None
                                                    for m in others}}
            if "helixmap" in results:
                ratio = out[view]["vs_adamic_adar_hits@10"]["helixmap"]
                out[view].update({"target_vs_adamic_adar": 1.1, "meets_target": bool(ratio and ratio >= 1.1),
                                  "slices": self.slices(view)})
        return out

    def slices(self, view: str) -> dict[str, Any]:
        """hits@10 of helixmap and Adamic-Adar by the asker's helix, urban-rural type and size, and helixmap's
        slice as a share of its overall hits@10 (target: rural and civil society >= 0.8)."""
        index = self.split.index
        mine, aa = self.hits[(view, "helixmap")], self.hits[(view, "adamic_adar")]
        overall = sum(mine.values()) / max(len(mine), 1)

        def group(of: Any) -> dict[str, Any]:
            groups: dict[str, list[str]] = defaultdict(list)
            for oid in mine:
                groups[of(index.orgs[index.pos[oid]], index.pos[oid])].append(oid)
            out = {}
            for name, oids in sorted(groups.items()):
                h = sum(mine[o] for o in oids) / len(oids)
                a = sum(aa.get(o, 0) for o in oids) / len(oids)
                out[name] = {"organisations": len(oids), "helixmap": round(h, 4), "adamic_adar": round(a, 4),
                             "vs_overall": round(h / overall, 3) if overall else None}
            return out

        def size(_org: OrgInfo, i: int) -> str:
            n = int(index.projects[i])
            return next(label for low, high, label in SIZES if low <= n <= high)

        return {"overall_helixmap": round(overall, 4), "helix": group(lambda o, _i: o.helix),
                "urban_rural": group(lambda o, _i: o.urban_rural), "size": group(size)}


def evaluate(split: Split, weights: Weights | None) -> dict[str, Any]:
    """Every method, both views, on the split's evaluated organisations."""
    views = Views(split)
    index = split.index
    checked = 0
    for oid in split.evaluated:
        u = index.pos[oid]
        not_candidate = np.zeros(index.size, dtype=bool)
        not_candidate[u] = True
        not_candidate[index.neighbours(u)] = True
        score = score_candidates(index, oid, year=split.year, weights=weights)
        without_hubs = score_candidates(index, oid, year=split.year, weights=weights, exclude_hubs=True)
        if checked < 25:  # the product entry point ranks exactly the same
            for hubs_out, ranked in ((False, score), (True, without_hubs)):
                assert [r.id for r in recommend(index, oid, k=K, year=split.year, weights=weights,
                                                exclude_hubs=hubs_out)] == \
                    [index.ids[j] for j in top_positions(ranked, K)]
            checked += 1
        views.add("helixmap", oid, score, without_hubs)
        for method in BASELINES:
            views.add(method, oid, np.where(not_candidate, -np.inf, baseline_scores(index, u, method).astype(float)))
    return views.result()


def placed_slices(split: Split, sampled: dict[str, Any]) -> dict[str, Any]:
    """Every eligible asker with a known urban-rural type (not a sample: they are few), by type, as a share of
    the sampled overall hits@10 of the same view."""
    placed = [o for o in sorted(split.targets) if split.index.orgs[split.index.pos[o]].urban_rural != "unknown"]
    if not placed:
        return {"organisations": 0}
    views = evaluate(replace(split, evaluated=placed), None)
    out: dict[str, Any] = {"organisations": len(placed)}
    for view in VIEWS:
        overall = sampled[view]["slices"]["overall_helixmap"]
        out[view] = {name: {**row, "vs_overall": round(row["helixmap"] / overall, 3) if overall else None}
                     for name, row in views[view]["slices"]["urban_rural"].items()}
    return out


POOL_FEATURES = ("adamic_adar", "resource_allocation", "recent_two_hop", "walk_three", "theme_activity",
                 "degree", "activity_last_year")


def fit_weights(split: Split, shortlist: int = 300, extra: int = 400, l2: float = 1e-3,
                fixed: dict[str, float] | None = None) -> dict[str, Any]:
    """Fit the score's coefficients on the validation split (a conditional logit, listwise).

    For each evaluated organisation the candidates are its best `shortlist` by each of POOL_FEATURES plus
    `extra` seeded random organisations (targets get no special treatment). The loss is the mean over
    organisations and both views of -log P(the top candidate is one of the targets), with P the softmax of
    the linear score over the candidates, plus l2 x |w|^2. The bias does not change the ranking; it is set
    so that the median best candidate scores 0.5. `fixed` coefficients (default: the helix weight, a
    product choice: complementarity counts a little even though new partners tend to share a helix) are
    kept as they are and the others fitted around them.
    """
    from scipy.optimize import minimize

    index = split.index
    data = []
    for oid in split.evaluated:
        u = index.pos[oid]
        query = query_for(index, oid)
        feats = features(index, query, year=split.year)
        allowed = candidate_mask(index, query)
        pool: set[int] = set()
        for name in POOL_FEATURES:
            pool.update(top_positions(np.where(allowed, feats[name], -np.inf), shortlist).tolist())
        rng = np.random.default_rng([SEED, u])
        pool.update(int(j) for j in rng.choice(index.size, extra, replace=False) if allowed[j])
        cand = np.array(sorted(pool), dtype=np.int64)
        X = np.stack([feats[name][cand] for name in FEATURES], axis=1)
        y = np.isin(cand, split.targets[oid])
        if y.any():
            data.append((X, y, split.hubs[cand]))
    if fixed is None:  # the helix weight is a product choice; a graph without themes fits without them
        fixed = {"helix": DEFAULT_WEIGHTS.helix}
        if not index.has_themes:
            fixed.update(thematic=0.0, theme_activity=0.0)
    free = [i for i, name in enumerate(FEATURES) if name not in fixed]
    offset = np.array([fixed.get(name, 0.0) for name in FEATURES])
    data = [(X[:, free], y, hub, X @ offset) for X, y, hub in data]
    dim = len(free)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros(dim)
        for X, y, hub, base in data:
            for keep in (None, ~hub):
                Xv, yv, bv = (X, y, base) if keep is None else (X[keep], y[keep], base[keep])
                if not yv.any():
                    continue
                z = Xv @ w + bv
                p = np.exp(z - z.max())
                p /= p.sum()
                pt = p[yv].sum()
                total -= 0.5 * math.log(pt)
                grad -= 0.5 * ((p * yv) @ Xv / pt - p @ Xv)
        return total / len(data) + l2 * w @ w, grad / len(data) + 2 * l2 * w

    fitted = minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B")
    w = np.round(fitted.x, 3)
    best = [float((X @ w + base).max()) for X, _, _, base in data]
    coefficients = {"bias": round(-float(np.median(best)), 3),
                    **{name: float(fixed.get(name, 0.0)) for name in FEATURES}}
    coefficients.update({FEATURES[i]: float(v) for i, v in zip(free, w, strict=True)})
    return {"organisations": len(data), "fixed": fixed, "candidates_per_organisation": round(
                float(np.mean([len(X) for X, _, _, _ in data])), 1),
            "loss": round(float(fitted.fun), 5), "converged": bool(fitted.success), "weights": coefficients}


def http_latency(db: Path, data: Data, n: int = 200) -> dict[str, Any]:
    """Through HTTP: `helixmap serve` on the imported store (all years); the first recommendation asked the moment
    the server answers its health check, then warm timings over n seeded organisations."""
    ids = sorted(data.orgs)
    projects: dict[str, int] = defaultdict(int)
    for _, oid in data.participations:
        projects[oid] += 1
    largest = max(sorted(projects), key=lambda o: projects[o])
    rng = np.random.default_rng(SEED)
    chosen = [ids[i] for i in rng.choice(len(ids), n, replace=False)]
    with served(db) as (client, ready):
        t0 = time.perf_counter()
        first = client.get(f"/api/v1/organisations/{chosen[0]}/recommendations")
        first_ms = (time.perf_counter() - t0) * 1000
        assert first.status_code == 200, first.text
        timings: dict[bool, list[float]] = {False: [], True: []}
        for oid in chosen:
            for hubs_out in (False, True):
                t0 = time.perf_counter()
                r = client.get(f"/api/v1/organisations/{oid}/recommendations", params={"exclude_hubs": hubs_out})
                timings[hubs_out].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
        t0 = time.perf_counter()
        client.get(f"/api/v1/organisations/{largest}/recommendations",
                   params={"favour_rural_civil": True, "helix": "civil_society"})
        hub_ms = (time.perf_counter() - t0) * 1000

    return {"through": "HTTP, helixmap serve on 127.0.0.1", "organisations": n,
            "server_ready_s": round(ready, 2), "first_request_ms": round(first_ms, 1),
            "warm_median_ms": round(statistics.median(timings[False]), 1), "warm_p95_ms": p95(timings[False]),
            "warm_p95_exclude_hubs_ms": p95(timings[True]), "largest_organisation_ms": round(hub_ms, 1),
            "target_ms": 200}


class socket_port:
    """A free loopback port (closed again before the server binds it)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


@contextmanager
def served(db: Path, ready_limit_s: float = 600) -> Iterator[tuple[Any, float]]:
    """`helixmap serve` on the store at `db` (127.0.0.1, a free port): an httpx client on it and the seconds until
    it answered its health check. Stops with an error when the server exits or is not ready within the limit."""
    import httpx

    with tempfile.TemporaryDirectory() as tmp, socket_port() as port, Path(tmp, "serve.log").open("w") as log:
        env = {**os.environ, "HELIXMAP_STORE": f"sqlite:///{db}"}
        exe = Path(sys.executable).with_name("helixmap")
        started = time.perf_counter()
        proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                while True:
                    if proc.poll() is not None or time.perf_counter() - started > ready_limit_s:
                        raise RuntimeError(f"helixmap serve did not become ready: {Path(log.name).read_text()[-2000:]}")
                    try:
                        if client.get("/api/v1/health", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.05)
                yield client, time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank), rounded to 0.1."""
    ordered = sorted(values)
    return round(ordered[math.ceil(0.95 * len(ordered)) - 1], 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3000, help="organisations evaluated per split (seeded)")
    parser.add_argument("--refit", action="store_true",
                        help="refit the weights on the validation split and compare them with the frozen ones")
    parser.add_argument("--skip-test", action="store_true", help="validation only (while developing)")
    parser.add_argument("--skip-latency", action="store_true", help="no HTTP latency run")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the organisation samples")
    parser.add_argument("--data", choices=("readme", "csv-with-parts"), default="readme",
                        help="the README's import (default), or the table and programme parts read directly")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "h2020.db"
        result: dict[str, Any] = {"benchmark": "recommend_eval", "data": args.data, "k": K, "seed": SEED,
                                  "notes": NOTES}
        if args.data == "readme":
            data, info = load_readme(db)
            result.update(info)
        else:
            data = load_data()
            result["input"] = [TABLE.name, PARTS.name]
        validation = make_split(data, "validation", 2015, 2016, 2017, args.sample, args.seed)
        frozen = asdict(weights_for(validation.index))
        result["themes"] = validation.index.has_themes
        result["weights"] = {"set": "DEFAULT_WEIGHTS" if validation.index.has_themes else "THEMELESS_WEIGHTS",
                             **frozen}
        if args.refit:
            fitted = fit_weights(validation)
            fitted["matches_the_frozen_product_weights"] = all(
                abs(fitted["weights"][k] - frozen[k]) < 1e-9 for k in frozen)
            result["fit"] = fitted
        result["validation"] = {"train": "start_year <= 2015", "test": "start_year 2016-2017",
                                "eligible_organisations": validation.eligible,
                                "evaluated_organisations": len(validation.evaluated),
                                **evaluate(validation, None)}
        del validation
        if not args.skip_test:
            test = make_split(data, "test", 2017, 2018, 2020, args.sample, args.seed)
            result["test"] = {"train": "start_year <= 2017", "test": "start_year 2018-2020",
                              "index_nodes": test.index.size, "hubs": test.index.hubs().as_dict(),
                              "eligible_organisations": test.eligible,
                              "evaluated_organisations": len(test.evaluated), **evaluate(test, None)}
            result["test_placed"] = placed_slices(test, result["test"])
            del test
            result["summary"] = {
                view: {"helixmap_hits@10": result["test"][view]["methods"]["helixmap"]["hits@10"],
                       "adamic_adar_hits@10": result["test"][view]["methods"]["adamic_adar"]["hits@10"],
                       "ratio_vs_adamic_adar": result["test"][view]["vs_adamic_adar_hits@10"]["helixmap"],
                       "meets_1.1x": result["test"][view]["meets_target"]}
                for view in VIEWS}
        if not args.skip_latency and args.data == "readme":
            result["latency"] = http_latency(db, data)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = peak_rss_mb()
    result["load"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
