"""Benchmark: how high can any scorer get on the recommender's temporal split? An upper-bound check.

bench/recommend_eval.py fits the product's coefficients on the validation split (train <= 2015, targets 2016-17)
and measures them on the test split (train <= 2017, targets 2018-2020), as a real recommender must. This check
does what no real recommender can: it fits models on the test period itself, cross-validated over the evaluated
organisations (three folds: fit on two, measure on the third, every organisation measured once). Training data
still holds projects up to 2017 only; the targets of the other folds' organisations are what is learnt from.
If even these stay below 1.2 x the best baseline, the target is beyond what the inputs carry.

Scorers, each on the same 3,000 organisations of the test split (seed and sample of recommend_eval.py):
- product: the frozen product score (ecosystem.recommend.score_candidates), full ranking;
- diversified: the product's top 100 re-ranked by maximal marginal relevance: a candidate whose themes are close to
  those already listed is marked down (covers more of the organisation's possible next consortia);
- logistic_in_period: the product's model with its coefficients refit (recommend_eval.fit_weights) on the other
  folds' organisations of the test split, full ranking;
- gbm_in_period (needs the optional LightGBM: pip install -e '.[bench]'; reported as skipped otherwise): gradient
  boosted trees over the product's features (FEATURES) plus EXTRA_FEATURES (project roles, EU contributions, consortium
  sizes, a recent-years graph, a 64-dimension spectral embedding of the collaboration graph's largest component,
  the asking organisation's own profile), ranking a pool per organisation: the best POOL by the product score and by each of
  several features, plus POOL seeded random candidates (a target outside the pool counts as missed);
- gbm_fitted_on_validation: the same trees fitted on the validation split (train <= 2015, targets 2016-17) and
  measured on test, as a recommender would have to be;
- the baselines of recommend_eval.py (Adamic-Adar etc.), full rankings.

Prints one JSON object. Run: python bench/recommend_ceiling.py [--sample N]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from _common import peak_rss_mb
from recommend_eval import (
    BASELINES,
    SEED,
    TABLE,
    Data,
    K,
    Split,
    Views,
    baseline_scores,
    fit_weights,
    load_data,
    make_split,
)
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh

from ecosystem.analysis.recommend import (
    FEATURES,
    Weights,
    candidate_mask,
    combine,
    features,
    query_for,
    score_candidates,
    top_positions,
    training_slice,
)

FOLDS = 3
POOL = 300
EMBEDDING_DIM = 64
MMR_DEPTH, MMR_PENALTY = 100, 1.0
EXTRA_FEATURES = ("common_neighbours", "jaccard", "weighted_adamic_adar", "recent_adamic_adar",
                  "recent_partners_adamic_adar", "coordinations", "eu_contribution", "consortium_size", "projects",
                  "activity_three_years_before", "years_active", "recent_degree", "candidate_helix", "own_helix",
                  "own_degree", "own_consortium_size", "own_projects", "own_recent_degree", "own_coordinations",
                  "embedding_cosine", "embedding_dot")


@dataclasses.dataclass
class Extras:
    """Per-organisation facts of the training years the product's features do not use."""

    coordinations: np.ndarray
    contribution: np.ndarray
    first_year: np.ndarray
    consortium_size: np.ndarray
    recent: sp.csr_matrix  # binary graph of projects starting in the two training years before the test
    recent_degree: np.ndarray
    embedding: np.ndarray  # spectral embedding of the largest connected component (zeros elsewhere)
    unit_embedding: np.ndarray  # the same, rows scaled to length 1 (for cosines)


def read_roles() -> list[tuple[str, str, bool, float]]:
    """(project rcn, organisation pic, coordinator?, EU contribution) of every row of the participation table."""
    rows = []
    with gzip.open(TABLE, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                contribution = float(row["contribution"] or 0)
            except ValueError:
                contribution = 0.0
            rows.append((row["rcn"], row["pic"], row["role"] == "coordinator", contribution))
    return rows


def extras(data: Data, roles: list[tuple[str, str, bool, float]], split: Split, last_train: int) -> Extras:
    index = split.index
    n = index.size
    starts = {p.id: p.start_year for p in data.projects if p.start_year is not None and p.start_year <= last_train}
    coordinations, contribution = np.zeros(n), np.zeros(n)
    first_year = np.full(n, last_train + 1, dtype=float)
    for rcn, pic, coordinator, amount in roles:
        year = starts.get(rcn)
        if year is None:
            continue
        j = index.pos[pic]
        coordinations[j] += coordinator
        contribution[j] += amount
        first_year[j] = min(first_year[j], year)
    projects, pairs = training_slice(data.projects, data.participations, last_year=last_train)
    ppos = {p.id: k for k, p in enumerate(projects)}
    member = sp.csr_matrix((np.ones(len(pairs)), ([index.pos[o] for _, o in pairs], [ppos[p] for p, _ in pairs])),
                           shape=(n, len(projects)))
    size = np.asarray(member.sum(axis=0)).ravel()
    consortium = (member @ size) / np.maximum(index.projects, 1)
    recent_cols = np.array([p.start_year >= last_train - 1 for p in projects])
    recent_member = member[:, recent_cols]
    recent = (recent_member @ recent_member.T).tocsr()
    recent.setdiag(0)
    recent.eliminate_zeros()
    recent.data[:] = 1.0
    embedding = spectral_embedding(index.adjacency, index.degree)
    unit = embedding / np.maximum(np.linalg.norm(embedding, axis=1, keepdims=True), 1e-12)
    return Extras(coordinations, contribution, first_year, consortium, recent,
                  np.asarray(recent.sum(axis=1)).ravel(), embedding, unit)


def spectral_embedding(adjacency: sp.csr_matrix, degree: np.ndarray) -> np.ndarray:
    """EMBEDDING_DIM eigenvectors (times their eigenvalues) of the normalised adjacency D^-1/2 A D^-1/2 of the
    largest connected component, those with the largest eigenvalues; zeros outside that component.

    Only one component: every component has eigenvalue 1 (and the graph has some 2,500, most of them one small
    consortium), so the top of the whole graph's spectrum is an arbitrary basis of component indicators.
    """
    _, label = connected_components(adjacency, directed=False)
    giant = np.flatnonzero(label == np.bincount(label).argmax())
    root = np.sqrt(np.maximum(degree[giant], 1.0))
    sub = adjacency[giant][:, giant]
    norm = (sp.diags(1.0 / root) @ sub @ sp.diags(1.0 / root)).tocsr()
    values, vectors = eigsh(norm, k=EMBEDDING_DIM, which="LA", v0=root / np.linalg.norm(root))
    embedding = np.zeros((adjacency.shape[0], EMBEDDING_DIM))
    embedding[giant] = vectors * values
    return embedding


def _adamic_adar(graph: sp.csr_matrix, degree: np.ndarray, sources: np.ndarray, n: int) -> np.ndarray:
    if not len(sources):
        return np.zeros(n)
    spread = np.zeros(n)
    spread[sources] = 1.0 / np.log(np.maximum(degree[sources], 2.0))
    return graph @ spread


def pool_rows(split: Split, ex: Extras, oid: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(candidate positions, feature matrix: FEATURES then EXTRA_FEATURES) for one organisation."""
    index = split.index
    n, u = index.size, index.pos[oid]
    query = query_for(index, oid)
    feats = features(index, query, year=split.year)
    allowed = candidate_mask(index, query)
    nbrs = query.neighbours
    degree = index.degree
    common = index.adjacency @ np.bincount(nbrs, minlength=n).astype(float) if len(nbrs) else np.zeros(n)
    ties = np.zeros(n)
    ties[nbrs] = index.weights.getrow(u).toarray().ravel()[nbrs]
    weighted = index.weights @ (ties / np.log(np.maximum(degree, 2.0)))
    recent_nbrs = ex.recent.indices[ex.recent.indptr[u]:ex.recent.indptr[u + 1]]
    recent_aa = _adamic_adar(ex.recent, ex.recent_degree, recent_nbrs, n)
    recent_partners_aa = _adamic_adar(ex.recent, degree, nbrs, n)
    product = combine(feats)
    pool: set[int] = set()
    for ranking in (product, feats["adamic_adar"], feats["resource_allocation"], feats["theme_activity"],
                    feats["walk_three"], feats["thematic"], feats["degree"], recent_aa, recent_partners_aa):
        pool.update(top_positions(np.where(allowed, ranking, -np.inf), POOL).tolist())
    pool.update(int(j) for j in rng.choice(n, POOL, replace=False) if allowed[j])
    c = np.array(sorted(pool), dtype=np.int64)
    emb, unit = ex.embedding, ex.unit_embedding
    year = split.year
    own = lambda value: np.full(len(c), float(value))
    columns = [feats[name][c] for name in FEATURES] + [
        np.log1p(common[c]), common[c] / np.maximum(degree[u] + degree[c] - common[c], 1.0), np.log1p(weighted[c]),
        np.log1p(recent_aa[c]), np.log1p(recent_partners_aa[c]), np.log1p(ex.coordinations[c]),
        np.log1p(ex.contribution[c] / 1e5), np.log1p(ex.consortium_size[c]), np.log1p(index.projects[c]),
        np.log1p(index.projects_in(year - 3)[c]), year - ex.first_year[c], np.log1p(ex.recent_degree[c]),
        index.helix[c].astype(float), own(index.helix[u]), own(np.log1p(degree[u])),
        own(np.log1p(ex.consortium_size[u])), own(np.log1p(index.projects[u])), own(np.log1p(ex.recent_degree[u])),
        own(np.log1p(ex.coordinations[u])), unit[c] @ unit[u], 1e3 * (emb[c] @ emb[u])]
    return c, np.stack(columns, axis=1)


def pool_ranking(n: int, cand: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A full score array from a pool's scores: outside the pool ranks below every pool member."""
    score = np.full(n, -np.inf)
    score[cand] = values
    return score


def diversified(split: Split, score: np.ndarray) -> np.ndarray:
    """The product's MMR_DEPTH best re-ranked by maximal marginal relevance over the candidates' themes."""
    top = top_positions(score, MMR_DEPTH)
    if not len(top):
        return score
    z = np.log(score[top]) - np.log1p(-score[top])  # back to log-odds
    similar = (split.index.term_matrix[top] @ split.index.term_matrix[top].T).toarray()
    penalty = np.zeros(len(top))
    free = np.ones(len(top), dtype=bool)
    order = []
    for _ in range(len(top)):
        i = int(np.argmax(np.where(free, z - MMR_PENALTY * penalty, -np.inf)))
        order.append(i)
        free[i] = False
        penalty = np.maximum(penalty, similar[i])
    out = score - 2.0  # the rest keep their order, below every re-ranked candidate (scores are in (0, 1))
    out[top[order]] = np.arange(len(top), 0, -1, dtype=float)
    return out


def gbm_trainer() -> Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]] | None:
    try:
        import lightgbm
    except ImportError:
        return None
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 200,
              "feature_fraction": 0.8, "bagging_fraction": 0.5, "bagging_freq": 1, "verbose": -1,
              "seed": 1, "deterministic": True, "num_threads": 2}

    def train(X: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        model = lightgbm.train(params, lightgbm.Dataset(X, y.astype(int)), num_boost_round=250)
        return model.predict

    return train


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3000, help="organisations evaluated (seeded, as recommend_eval)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = load_data()
    split = make_split(data, "test", 2017, 2018, 2020, args.sample)
    index = split.index
    views = Views(split)
    rng = np.random.default_rng(SEED)
    fold_of = {oid: k % FOLDS for k, oid in enumerate(split.evaluated)}

    # the product and the classic baselines, full rankings
    for oid in split.evaluated:
        u = index.pos[oid]
        score = score_candidates(index, oid, year=split.year)
        views.add("product", oid, score)
        views.add("diversified", oid, diversified(split, score))
        not_candidate = np.zeros(index.size, dtype=bool)
        not_candidate[u] = True
        not_candidate[index.neighbours(u)] = True
        for method in BASELINES:
            views.add(method, oid, np.where(not_candidate, -np.inf, baseline_scores(index, u, method).astype(float)))

    # the product's model refit on the test period, three folds over organisations
    fitted = []
    for fold in range(FOLDS):
        train = dataclasses.replace(split, evaluated=[o for o in split.evaluated if fold_of[o] != fold])
        weights = Weights(**fit_weights(train)["weights"])
        fitted.append(dataclasses.asdict(weights))
        for oid in (o for o in split.evaluated if fold_of[o] == fold):
            views.add("logistic_in_period", oid, score_candidates(index, oid, year=split.year, weights=weights))

    trainer = gbm_trainer()
    gbm: dict[str, Any] = {"features": list(FEATURES) + list(EXTRA_FEATURES), "pool_per_feature": POOL}
    if trainer is None:
        gbm["skipped"] = "LightGBM is not installed (pip install -e '.[bench]')"
    else:
        # as a real recommender would have to: fitted on the validation split, measured on test
        roles = read_roles()
        validation = make_split(data, "validation", 2015, 2016, 2017, args.sample)
        ex = extras(data, roles, validation, 2015)
        pools = {oid: pool_rows(validation, ex, oid, rng) for oid in validation.evaluated}
        predict_from_validation = trainer(np.concatenate([X for _, X in pools.values()]),
                                          np.concatenate([np.isin(c, validation.targets[o])
                                                          for o, (c, _) in pools.items()]))
        del validation, ex, pools
        ex = extras(data, roles, split, 2017)
        pools = {oid: pool_rows(split, ex, oid, rng) for oid in split.evaluated}
        gbm["mean_pool"] = round(float(np.mean([len(c) for c, _ in pools.values()])), 1)
        gbm["targets_in_pool"] = round(float(np.mean(
            [np.isin(split.targets[o], c).any() for o, (c, _) in pools.items()])), 4)
        for fold in range(FOLDS):
            train = [o for o in split.evaluated if fold_of[o] != fold]
            predict = trainer(np.concatenate([pools[o][1] for o in train]),
                              np.concatenate([np.isin(pools[o][0], split.targets[o]) for o in train]))
            for oid in (o for o in split.evaluated if fold_of[o] == fold):
                cand, X = pools[oid]
                views.add("gbm_in_period", oid, pool_ranking(index.size, cand, predict(X)))
        for oid, (cand, X) in pools.items():
            views.add("gbm_fitted_on_validation", oid, pool_ranking(index.size, cand, predict_from_validation(X)))

    result = {"benchmark": "recommend_ceiling", "split": {"train": "start_year <= 2017",
              "test": "start_year 2018-2020", "evaluated_organisations": len(split.evaluated),
              "eligible_organisations": split.eligible, "folds": FOLDS},
              "k": K, "seed": SEED, **views.result(), "logistic_in_period_weights": fitted, "gbm": gbm,
              "seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": peak_rss_mb()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
