"""Organisation metrics on the collaboration graph: partners by helix and urban-rural type, betweenness, brokerage.

Pure functions over a networkx graph whose nodes carry `helix` and `urban_rural` and whose edges carry
`weight` (shared projects). Conventions (unknown groups, the undirected brokerage roles, the betweenness
approximation and its measured error) are written down in docs/analytics.md.
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from itertools import chain
from operator import methodcaller
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np

from ecosystem.domain.bulk import paused_gc
from ecosystem.domain.models import HELICES, URBAN_RURAL

UNKNOWN = "unknown"
EXACT_BETWEENNESS_BELOW = 5000
BETWEENNESS_SOURCES = 500
BETWEENNESS_SEED = 20240601


# --- degree, partners and crossing links -------------------------------------------------------------------------


def _attribute(graph: nx.Graph, attribute: str) -> dict[str, str]:
    """Node -> attribute value, "unknown" where missing."""
    return {n: value or UNKNOWN for n, value in graph.nodes(data=attribute)}


def _partner_profile(adj: Mapping[str, Mapping[str, Any]], values: Mapping[str, str], node: str,
                     keys: Iterable[str]) -> tuple[dict[str, int], float | None]:
    """Distinct partners by value (every key present) and the share of known-to-known links that cross values."""
    counts = dict.fromkeys(keys, 0)
    for partner in adj[node]:
        value = values[partner]
        counts[value] = counts.get(value, 0) + 1
    own = values[node]
    known = sum(c for v, c in counts.items() if v != UNKNOWN)
    if own == UNKNOWN or not known:
        return counts, None
    return counts, round((known - counts.get(own, 0)) / known, 6)


def partners_by(graph: nx.Graph, node: str, attribute: str, keys: Iterable[str]) -> dict[str, int]:
    """Distinct partners of `node` counted by the value of a node attribute (every key present, zeros too)."""
    values = {n: graph.nodes[n].get(attribute) or UNKNOWN for n in (node, *graph.adj[node])}
    return _partner_profile(graph.adj, values, node, keys)[0]


def crossing_share(graph: nx.Graph, node: str, attribute: str) -> float | None:
    """Share of `node`'s links whose other end has a different value of `attribute`.

    Links where either end is unknown are left out of numerator and denominator; None when none remain.
    """
    values = {n: graph.nodes[n].get(attribute) or UNKNOWN for n in (node, *graph.adj[node])}
    return _partner_profile(graph.adj, values, node, ())[1]


def _metrics(adj: Mapping[str, Mapping[str, Any]], helix: Mapping[str, str], urban_rural: Mapping[str, str],
             node: str) -> dict[str, Any]:
    by_helix, cross_helix = _partner_profile(adj, helix, node, HELICES)
    by_urban_rural, cross_urban_rural = _partner_profile(adj, urban_rural, node, URBAN_RURAL)
    return {
        "degree": len(adj[node]),
        "weighted_degree": int(sum(d.get("weight", 1) for d in adj[node].values())),
        "partners_by_helix": by_helix,
        "partners_by_urban_rural": by_urban_rural,
        "cross_helix_share": cross_helix,
        "cross_urban_rural_share": cross_urban_rural,
    }


def organisation_metrics(graph: nx.Graph, node: str) -> dict[str, Any]:
    """Degree, weighted degree, distinct partners by helix and urban-rural type, shares of crossing links."""
    near = (node, *graph.adj[node])
    helix = {n: graph.nodes[n].get("helix") or UNKNOWN for n in near}
    urban_rural = {n: graph.nodes[n].get("urban_rural") or UNKNOWN for n in near}
    return _metrics(_plain_adjacency(graph), helix, urban_rural, node)


def all_organisation_metrics(graph: nx.Graph) -> dict[str, dict[str, Any]]:
    """`organisation_metrics` for every node, sharing the attribute lookups."""
    helix, urban_rural = _attribute(graph, "helix"), _attribute(graph, "urban_rural")
    adj = _plain_adjacency(graph)
    with paused_gc():
        return {node: _metrics(adj, helix, urban_rural, node) for node in graph}


# --- igraph view ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IgraphView:
    """The graph as igraph (vertices in sorted id order, so results do not depend on insertion order)."""

    graph: ig.Graph
    ids: list[str]
    index: dict[str, int]
    source: np.ndarray  # edge i joins source[i] < target[i] (vertex numbers), edges sorted
    target: np.ndarray
    weight: np.ndarray


_views: weakref.WeakKeyDictionary[nx.Graph, tuple[tuple[int, int], IgraphView]] = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()


def igraph_view(graph: nx.Graph) -> IgraphView:
    """The igraph copy of `graph`, with `weight` on the edges; cached per graph object (treat graphs as immutable)."""
    shape = (graph.number_of_nodes(), graph.number_of_edges())
    with _views_lock:
        cached = _views.get(graph)
        if cached is not None and cached[0] == shape:
            return cached[1]
    with paused_gc():
        ids = sorted(graph, key=str)
        index = {n: i for i, n in enumerate(ids)}
        adj = _plain_adjacency(graph)
        degree = np.fromiter(map(len, adj.values()), dtype=np.int64, count=len(adj))
        total = int(degree.sum())
        src = np.repeat(np.fromiter(map(index.__getitem__, adj), dtype=np.int64, count=len(adj)), degree)
        dst = np.fromiter(map(index.__getitem__, chain.from_iterable(adj.values())), dtype=np.int64, count=total)
        weights = map(methodcaller("get", "weight", 1), chain.from_iterable(n.values() for n in adj.values()))
        weight = np.fromiter(weights, dtype=np.float64, count=total)
        keep = src < dst
        order = np.lexsort((dst[keep], src[keep]))
        src, dst, weight = src[keep][order], dst[keep][order], weight[keep][order]
        g = ig.Graph(n=len(ids), edges=np.column_stack((src, dst)).tolist(), directed=False)
        g.es["weight"] = weight.tolist()
    view = IgraphView(g, ids, index, src, dst, weight)
    with _views_lock:
        _views[graph] = (shape, view)
    return view


# --- betweenness ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Betweenness:
    """Normalised betweenness per node (pairs of nodes counted once, as networkx `normalized=True`)."""

    values: dict[str, float]
    exact: bool
    sources: int
    seed: int | None

    def method(self) -> str:
        if self.exact:
            return "exact (Brandes, igraph)"
        return f"estimated from {self.sources} sampled sources (Brandes-Pich, seed {self.seed})"


def betweenness(graph: nx.Graph, *, exact_below: int = EXACT_BETWEENNESS_BELOW,
                sources: int = BETWEENNESS_SOURCES, seed: int = BETWEENNESS_SEED) -> Betweenness:
    """Unweighted shortest-path betweenness: exact below `exact_below` nodes, else a seeded source-sample estimate.

    The estimate sums the dependencies of `sources` uniformly sampled source nodes and scales by n / sources
    (Brandes & Pich 2007; what networkx does with `k=`), computed by igraph's subset betweenness.
    """
    view = igraph_view(graph)
    n = len(view.ids)
    if n < 3:
        return Betweenness({node: 0.0 for node in view.ids}, True, n, None)
    scale = 2.0 / ((n - 1) * (n - 2))
    if n < exact_below or sources >= n:
        raw = view.graph.betweenness(directed=False)
        return Betweenness({node: raw[i] * scale for i, node in enumerate(view.ids)}, True, n, None)
    sample = sorted(random.Random(seed).sample(range(n), sources))
    raw = view.graph.betweenness(directed=False, sources=sample)
    factor = scale * n / sources
    return Betweenness({node: raw[i] * factor for i, node in enumerate(view.ids)}, False, sources, seed)


_betweenness_cache: weakref.WeakKeyDictionary[nx.Graph, tuple[tuple[int, int], Betweenness]] = \
    weakref.WeakKeyDictionary()


def cached_betweenness(graph: nx.Graph) -> Betweenness:
    """`betweenness(graph)` with the default settings, computed once per graph object (for API profiles)."""
    shape = (graph.number_of_nodes(), graph.number_of_edges())
    with _views_lock:
        cached = _betweenness_cache.get(graph)
        if cached is not None and cached[0] == shape:
            return cached[1]
    result = betweenness(graph)
    with _views_lock:
        _betweenness_cache[graph] = (shape, result)
    return result


# --- Gould-Fernandez brokerage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerageRoles:
    """Open two-paths a-v-c (a and c not linked) through v, by the groups of a, v and c.

    Undirected convention: gatekeeper and representative differ only by the direction of flow, which an
    undirected collaboration does not have, so they are counted together; each two-path counts once.
    """

    coordinator: int = 0                # a, v, c all in one group
    gatekeeper_representative: int = 0  # exactly one of a, c in v's group
    itinerant: int = 0                  # a and c in one group, v in another
    liaison: int = 0                    # a, v, c in three different groups

    @property
    def total(self) -> int:
        return self.coordinator + self.gatekeeper_representative + self.itinerant + self.liaison

    @property
    def across_groups(self) -> int:
        """Two-paths where v brokers between groups (every role except coordinator)."""
        return self.gatekeeper_representative + self.itinerant + self.liaison

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "total": self.total, "across_groups": self.across_groups}


def _groups(graph: nx.Graph, attribute: str, unknown: str | None) -> tuple[dict[str, int], int]:
    """Node -> group number (groups in sorted order), leaving out nodes whose group is missing or `unknown`."""
    values = {n: v for n, v in _attribute(graph, attribute).items() if unknown is None or v != unknown}
    names = {v: i for i, v in enumerate(sorted(set(values.values())))}
    return {node: names[v] for node, v in values.items()}, len(names)


def _plain_adjacency(graph: nx.Graph) -> Mapping[str, dict[str, Any]]:
    """The graph's own adjacency dicts: their `keys()` intersect in C over the smaller side (views do not)."""
    return graph._adj


def _roles(own: int, sizes: list[int], closed: Any) -> BrokerageRoles:
    """Roles of a node in group `own`, from its partners per group and its closed (linked) ordered partner
    pairs per group pair."""
    coordinator = gate = itinerant = liaison = 0
    k = len(sizes)
    for g1 in range(k):
        s1 = sizes[g1]
        if not s1:
            continue
        for g2 in range(g1, k):
            if g1 == g2:
                paths = s1 * (s1 - 1) // 2 - int(closed[g1][g1]) // 2
                if g1 == own:
                    coordinator += paths
                else:
                    itinerant += paths
                continue
            if not sizes[g2]:
                continue
            paths = s1 * sizes[g2] - int(closed[g1][g2])
            if own in (g1, g2):
                gate += paths
            else:
                liaison += paths
    return BrokerageRoles(coordinator, gate, itinerant, liaison)


def _brokerage_of(adj: Mapping[str, dict[str, Any]], group: Mapping[str, int], k: int, node: str) -> BrokerageRoles:
    """One node: intersect its partner set with each partner's partners (cost: sum of min degrees)."""
    own = group.get(node)
    if own is None:
        return BrokerageRoles()
    members: list[set[str]] = [set() for _ in range(k)]
    for partner in adj[node]:
        g = group.get(partner)
        if g is not None:
            members[g].add(partner)
    known = set().union(*members)
    closed = [[0] * k for _ in range(k)]
    for g1, mem in enumerate(members):
        for a in mem:
            common = known & adj[a].keys()
            if not common:
                continue
            row = closed[g1]
            for g2, mem2 in enumerate(members):
                if mem2:
                    row[g2] += len(common & mem2)
    return _roles(own, [len(m) for m in members], closed)


def _brokerage_every_node(graph: nx.Graph, group: Mapping[str, int], k: int) -> dict[str, BrokerageRoles]:
    """Every node at once: each triangle of known nodes is listed once (forward in degree order) and credited to
    its three corners with numpy, so the cost is that of triangle listing rather than of one search per node."""
    adj = _plain_adjacency(graph)
    ids = sorted(group, key=lambda n: (len(adj[n]), str(n)))
    rank = {n: i for i, n in enumerate(ids)}
    n, kk = len(ids), k * k
    gid = np.array([group[n] for n in ids], dtype=np.int64)
    pairs: list[tuple[int, int]] = []
    for a, nbrs in adj.items():
        i = rank.get(a)
        if i is not None:
            pairs.extend((i, j) for j in map(rank.get, nbrs) if j is not None and j > i)
    edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    lo, hi = edges[:, 0], edges[:, 1]
    sizes = (np.bincount(lo * k + gid[hi], minlength=n * k)
             + np.bincount(hi * k + gid[lo], minlength=n * k)).reshape(n, k)
    order = np.argsort(lo, kind="stable")
    bounds = np.searchsorted(lo[order], np.arange(n + 1))
    targets = hi[order].tolist()
    forward = [set(targets[bounds[i]:bounds[i + 1]]) for i in range(n)]
    closed = np.zeros(n * kk, dtype=np.int64)  # closed ordered partner pairs, node-major then (g1, g2)
    xs: list[int] = []
    lens: list[int] = []
    us: list[int] = []
    ws: list[int] = []

    def flush() -> None:
        x = np.asarray(xs, dtype=np.int64)
        reps = np.asarray(lens, dtype=np.int64)
        u = np.repeat(np.asarray(us, dtype=np.int64), reps)
        w = np.repeat(np.asarray(ws, dtype=np.int64), reps)
        gu, gw, gx = gid[u], gid[w], gid[x]
        codes = np.concatenate([node * kk + g1 * k + g2 for node, g1, g2 in
                                ((u, gw, gx), (u, gx, gw), (w, gu, gx), (w, gx, gu), (x, gu, gw), (x, gw, gu))])
        closed[:] += np.bincount(codes, minlength=n * kk)
        for buffer in (xs, lens, us, ws):
            buffer.clear()

    for u in range(n):
        fu = forward[u]
        if len(fu) < 2:
            continue
        for w in fu:
            common = fu & forward[w]
            if common:
                xs.extend(common)
                lens.append(len(common))
                us.append(u)
                ws.append(w)
        if len(xs) > 4_000_000:
            flush()
    flush()
    # open ordered pairs per (g1, g2); every unordered open two-path appears twice in the k x k matrix
    opened = sizes[:, :, None] * sizes[:, None, :] - closed.reshape(n, k, k)
    opened[:, np.arange(k), np.arange(k)] -= sizes
    own = np.zeros((n, k), dtype=bool)
    own[np.arange(n), gid] = True
    diagonal = opened[:, np.arange(k), np.arange(k)]
    coordinator = diagonal[own] // 2
    itinerant = np.where(own, 0, diagonal).sum(axis=1) // 2
    gate = (opened[np.arange(n), gid, :].sum(axis=1) - diagonal[own])
    liaison = (opened.sum(axis=(1, 2)) - 2 * gate - 2 * coordinator - 2 * itinerant) // 2
    roles = zip(coordinator.tolist(), gate.tolist(), itinerant.tolist(), liaison.tolist(), strict=True)
    return {node: BrokerageRoles(*r) for node, r in zip(ids, roles, strict=True)}


def brokerage(graph: nx.Graph, node: str, attribute: str = "helix", *,
              unknown: str | None = UNKNOWN) -> BrokerageRoles:
    """Gould-Fernandez brokerage roles of one organisation with respect to a node attribute.

    Two-paths through a node whose group is `unknown` (or missing) are not counted; pass `unknown=None`
    to treat "unknown" as a group of its own. Cost: the sum over partners of min(degree, partner degree).
    """
    group, k = _groups(graph, attribute, unknown)
    return _brokerage_of(_plain_adjacency(graph), group, k, node)


def brokerage_all(graph: nx.Graph, attribute: str = "helix", *, nodes: Iterable[str] | None = None,
                  unknown: str | None = UNKNOWN) -> dict[str, BrokerageRoles]:
    """`brokerage` for every node, or for the given nodes (one search each when they are few)."""
    group, k = _groups(graph, attribute, unknown)
    adj = _plain_adjacency(graph)
    wanted = list(graph) if nodes is None else list(nodes)
    if not group:
        return {node: BrokerageRoles() for node in wanted}
    if len(wanted) * 20 < len(group):
        return {node: _brokerage_of(adj, group, k, node) for node in wanted}
    every = _brokerage_every_node(graph, group, k)
    return {node: every.get(node, BrokerageRoles()) for node in wanted}


def top_brokers(graph: nx.Graph, nodes: Iterable[str], attribute: str = "helix", *, limit: int = 10,
                unknown: str | None = UNKNOWN) -> list[tuple[str, BrokerageRoles]]:
    """The `limit` nodes with the most brokerage across groups (ties: lower id first), computed exactly but
    only for as many nodes as needed: a node's pairs of known partners not both in its own group bound its
    brokerage across groups from above, so nodes are visited by decreasing bound until none can enter."""
    group, k = _groups(graph, attribute, unknown)
    adj = _plain_adjacency(graph)
    bounds = []
    for node in set(nodes):
        own = group.get(node)
        if own is None:
            continue
        known = same = 0
        for partner in adj[node]:
            g = group.get(partner)
            if g is not None:
                known += 1
                same += g == own
        bound = known * (known - 1) // 2 - same * (same - 1) // 2
        bounds.append((-bound, str(node), node))
    bounds.sort()
    best: list[tuple[int, str, str, BrokerageRoles]] = []
    for negative_bound, key, node in bounds:
        if len(best) >= limit and -negative_bound < -best[limit - 1][0]:
            break
        roles = _brokerage_of(adj, group, k, node)
        best.append((-roles.across_groups, key, node, roles))
        best.sort()
        del best[limit:]
    return [(node, roles) for _, _, node, roles in best]


# --- one organisation ----------------------------------------------------------------------------------------------


def organisation_analytics(graph: nx.Graph, node: str, *, betweenness_result: Betweenness | None = None,
                           with_betweenness: bool = True) -> dict[str, Any]:
    """Everything the organisation profile shows: metrics, betweenness, brokerage by helix and urban-rural type.

    Betweenness comes from `betweenness_result`, else from the per-graph cache (the first call on the full
    H2020 graph estimates it, about 10-20 s on 2 cores); `with_betweenness=False` leaves it out (None).
    """
    result = betweenness_result or (cached_betweenness(graph) if with_betweenness else None)
    return {
        **organisation_metrics(graph, node),
        "betweenness": round(result.values.get(node, 0.0), 9) if result else None,
        "betweenness_method": result.method() if result else None,
        "brokerage_helix": brokerage(graph, node, "helix").as_dict(),
        "brokerage_urban_rural": brokerage(graph, node, "urban_rural").as_dict(),
    }
