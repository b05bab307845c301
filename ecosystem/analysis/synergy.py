"""The Triple and Quadruple Helix synergy indicator: mutual information among the helix make-up of consortia.

Each project is one record of binary variables: does its consortium hold academia (u), industry (i),
government (g), civil society (c)? With H(S) the Shannon entropy in bits of the joint distribution of the
variables in S over the projects, the mutual information in n dimensions is the alternating sum

    T(X1..Xn) = sum over non-empty subsets S of {X1..Xn} of (-1)^(|S|+1) H(S)

so T(uig) = H(u)+H(i)+H(g) - H(ui)-H(ug)-H(ig) + H(uig)    (Leydesdorff 2003), and
   T(uigc) = sum H(x) - sum H(xy) + sum H(xyz) - H(uigc).
Negative T(uig) is synergy: reduction of uncertainty in the configuration. The sign of T alternates with the
number of dimensions, so for four helices the comparable indicator is the mutual redundancy
R(uigc) = -T(uigc) (Leydesdorff & Ivanova 2014): negative R is synergy, as negative T(uig) is.
See docs/analytics.md for the references.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

HELIX_DIMENSIONS = ("academia", "industry", "government", "civil_society")  # u, i, g, c


@dataclass(frozen=True)
class Synergy:
    """Mutual information among the helix dimensions of `projects` consortia, in bits (None without projects)."""

    projects: int
    t_uig: float | None    # academia, industry, government; negative = synergy
    t_uigc: float | None   # all four helices, raw alternating sum (its sign convention flips with dimension)
    r_uigc: float | None   # -t_uigc, the mutual redundancy; negative = synergy

    def as_dict(self) -> dict[str, float | int | None]:
        return {"projects": self.projects, "t_uig": self.t_uig, "t_uigc": self.t_uigc, "r_uigc": self.r_uigc}


def entropy_bits(counts: Iterable[int]) -> float:
    """Shannon entropy in bits of a distribution given by counts."""
    values = [c for c in counts if c > 0]
    total = sum(values)
    if not total:
        return 0.0
    return -sum(c / total * math.log2(c / total) for c in values)


def _joint_entropy(patterns: Counter[tuple[bool, ...]], dims: tuple[int, ...]) -> float:
    marginal: Counter[tuple[bool, ...]] = Counter()
    for pattern, count in patterns.items():
        marginal[tuple(pattern[d] for d in dims)] += count
    return entropy_bits(marginal.values())


def mutual_information(patterns: Counter[tuple[bool, ...]], dims: tuple[int, ...]) -> float:
    """T over the variables `dims`: the alternating sum of joint entropies of all non-empty subsets."""
    total = 0.0
    for size in range(1, len(dims) + 1):
        sign = 1 if size % 2 else -1
        total += sign * sum(_joint_entropy(patterns, subset) for subset in combinations(dims, size))
    return total


def synergy(helix_sets: Iterable[Iterable[str]]) -> Synergy:
    """The synergy indicator from one helix set per project (values other than the four helices are ignored)."""
    patterns: Counter[tuple[bool, ...]] = Counter()
    for helices in helix_sets:
        present = set(helices)
        patterns[tuple(h in present for h in HELIX_DIMENSIONS)] += 1
    n = sum(patterns.values())
    if not n:
        return Synergy(0, None, None, None)
    t_uig = _clean(mutual_information(patterns, (0, 1, 2)))
    t_uigc = _clean(mutual_information(patterns, (0, 1, 2, 3)))
    return Synergy(n, t_uig, t_uigc, _clean(-t_uigc))


def _clean(value: float) -> float:
    """Round away float noise (sums of logs that cancel exactly leave 1e-16 residues)."""
    value = round(value, 12)
    return 0.0 if value == 0 else value


def project_helix_sets(participations: Iterable[Sequence[Any]],
                       helix_of: Mapping[str, str] | Callable[[str], str | None],
                       members: Iterable[str] | None = None, *,
                       whole_consortium: bool = False) -> dict[str, frozenset[str]]:
    """Project id -> the helices of its participants, from (project_id, organisation_id, ...) rows.

    With `members` (e.g. a region's organisations) only projects with at least one member are kept, and only
    the members' helices count unless `whole_consortium` is set (then every participant of those projects).
    """
    lookup = helix_of.get if isinstance(helix_of, Mapping) else helix_of
    rows = [(row[0], row[1]) for row in participations]
    keep = None if members is None else set(members)
    projects = None if keep is None else {p for p, o in rows if o in keep}
    out: dict[str, set[str]] = {}
    for project, organisation in rows:
        if projects is not None and project not in projects:
            continue
        if keep is not None and not whole_consortium and organisation not in keep:
            continue
        helix = lookup(organisation)
        out.setdefault(project, set())
        if helix:
            out[project].add(helix)
    return {p: frozenset(h) for p, h in sorted(out.items())}
