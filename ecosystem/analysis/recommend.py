"""Partner recommendations: which organisations should this one work with next, and why.

Pure logic over in-memory records (no store access). `RecommenderIndex.build` turns organisations,
projects and participations into arrays once; `recommend` scores every organisation that is not yet a
partner with a few vectorised passes and explains the best ones. See docs/recommendations.md.

Score of a candidate v for an organisation u: a logistic (log-linear) model over FEATURES,

    score = sigmoid(bias + sum of DEFAULT_WEIGHTS.<feature> x feature)

with the coefficients fitted on the validation split (train <= 2015, targets 2016-2017) by
bench/recommend_eval.py --refit and frozen below. Features (natural logs):
- adamic_adar: log(1 + AA), AA = sum over shared partners w of 1 / log(degree w);
- resource_allocation: log(1 + 10 RA), RA = sum over shared partners w of 1 / degree w;
- recent_two_hop: partners of partners with both ties weighted RECENT_DECAY ** (age in years) per shared
  project, the middle partner damped by 1 / log(degree + 1);
- walk_three: log(1 + 1000 p), p the probability of a three-step random walk from u's partners ending at v;
- thematic: cosine of the TF-IDF vectors of call topics, programme parts and programmes;
- theme_activity: log(1 + v's projects in u's topics and programme parts, weighted by u's profile);
- helix: how much v's helix is missing among u and its partners (1 for the helix asked for); its weight
  is a product choice, not fitted;
- geography: 1 same NUTS3, 0.8 same NUTS2, 0.7 same NUTS1, 0.6 same country, else 0;
- degree: log(1 + partners of v); activity_last_year / activity_year_before: log(1 + v's projects
  starting in the year before `year` / two years before).

The explained components (proximity, thematic, helix, geography, activity, all in [0, 1]) are shown with
each recommendation and drive its reasons.
`favour_rural_civil=True` multiplies the score of rural candidates by RURAL_BOOST and of civil-society
candidates by CIVIL_BOOST (both for a rural civil-society organisation), then re-ranks.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.models import FOUR_HELICES, HELICES, URBAN_RURAL
from ecosystem.domain.nuts import COUNTRY_ALIASES, is_nuts_code, nuts_prefix

ACTIVITY_WINDOW = 3  # years before the reference year that count as "recent"
RECENT_DECAY = 0.5  # weight of a shared project per year of age in the recency-weighted graph
PROXIMITY_SCALE, PROXIMITY_CAP = 0.1, 50.0  # Adamic-Adar: log-scaled, 1 at the cap
THEMATIC_SCALE = 0.05  # cosine: log-scaled, 1 at cosine 1
ACTIVITY_CAP = 100.0  # recent projects: log-scaled, 1 at the cap
GEOGRAPHY_LEVELS = ((5, 1.0), (4, 0.8), (3, 0.7), (2, 0.6))  # NUTS code length -> closeness
RURAL_BOOST = 1.5
CIVIL_BOOST = 1.5
# with favour_rural_civil, at least every second place of a list goes to a rural or civil-society candidate when
# one is among the FAVOUR_POOL x k best (boosted) scores: scores fall steeply, a multiplier alone moves few
FAVOUR_POOL = 10
MAX_NAMED = 5  # shared partners / topics named in one reason
COMMON_TERM_SHARE = 0.5  # a term held by more than this share of organisations is not named as a reason
FEW_PROJECTS = 3  # an organisation with fewer projects is told on what its suggestions rest
COUNTRY_SMOOTHING = 10.0  # ties added to observed and expected in the country-pair lift: few ties, little lift
COUNTRY_REASON = 1.5  # a country pair working together at least this many times as often as expected is named
HUB_SHARE = 0.01  # exclude_hubs: the top 1% of organisations by number of partners are no candidates

TERM_KINDS = {"topic": "shared_topics", "part": "shared_programme_parts", "programme": "shared_programmes"}
TERM_LABELS = {"topic": "call topics", "part": "programme parts", "programme": "programmes"}
# Scales inside the features, fixed before the coefficients were fitted (they only move a feature's log-scale):
RESOURCE_SCALE = 10.0  # resource_allocation = log(1 + RESOURCE_SCALE x RA)
WALK_SCALE = 1e3  # walk_three = log(1 + WALK_SCALE x p)
HELIX_GAP_SCALE = 4.0  # helix gap = max(0, 1 - HELIX_GAP_SCALE x share): none once a helix holds its fair 1/4
_UNKNOWN_HELIX = HELICES.index("unknown")
_UNKNOWN_URBAN_RURAL = URBAN_RURAL.index("unknown")


@dataclass(frozen=True)
class OrgInfo:
    """What the recommender needs to know about an organisation."""

    id: str
    name: str
    helix: str = "unknown"
    urban_rural: str = "unknown"
    country: str | None = None
    nuts3: str | None = None


@dataclass(frozen=True)
class ProjectInfo:
    """What the recommender needs to know about a project."""

    id: str
    start_year: int | None = None
    topics: tuple[str, ...] = ()
    programme_part: str | None = None
    programme: str | None = None


@dataclass(frozen=True)
class Weights:
    """Coefficients of the log-linear score over FEATURES (fitted on the validation split and frozen here;
    bench/recommend_eval.py --refit reproduces the fit). score = sigmoid(bias + sum of coefficient x feature).
    The defaults (with themes): 2026-12-03, the README's import of the full table (regions, the table, its programme
    parts, organization.csv through examples/h2020_organisations.toml), validation split, seed 20240601, 2,943
    organisations."""

    bias: float = -13.446
    adamic_adar: float = 1.361
    resource_allocation: float = 0.983
    recent_two_hop: float = 0.619
    walk_three: float = 0.6
    thematic: float = 1.811
    theme_activity: float = 0.586
    helix: float = 0.2
    geography: float = 0.159
    degree: float = 0.665
    activity_last_year: float = 0.525
    activity_year_before: float = -0.382
    country_affinity: float = 1.429


FEATURES = ("adamic_adar", "resource_allocation", "recent_two_hop", "walk_three", "thematic", "theme_activity",
            "helix", "geography", "degree", "activity_last_year", "activity_year_before", "country_affinity")
DEFAULT_WEIGHTS = Weights()
THEMELESS_WEIGHTS = Weights(bias=-12.466, adamic_adar=1.747, resource_allocation=0.83, recent_two_hop=0.841,
                            walk_three=0.871, thematic=0.0, theme_activity=0.0, helix=0.2, geography=0.171,
                            degree=0.631, activity_last_year=0.627, activity_year_before=-0.326, country_affinity=1.402)
"""The coefficients for a graph without themes (`RecommenderIndex.has_themes` false: every project has the same
single theme, as the full H2020 table imported alone gives, "H2020"): the thematic features carry nothing there,
so they are held at 0 and the others fitted without them. Provenance (2026-12-03): `bench/recommend_eval.py`'s
`fit_weights` on the README's import without the programme parts (regions, h2020_participations_full.csv.gz,
h2020_organization_sample.csv through examples/h2020_organisations.toml), validation split (train <= 2015, targets
2016-2017), seed 20240601, 2,927 organisations, same conditional logit and L2 as DEFAULT_WEIGHTS, helix held at 0.2."""


def weights_for(index: RecommenderIndex) -> Weights:
    """The frozen coefficients that fit the index: with themes, or fitted without them."""
    return DEFAULT_WEIGHTS if index.has_themes else THEMELESS_WEIGHTS
COMPONENTS = ("proximity", "thematic", "helix", "geography", "activity")


@dataclass(frozen=True)
class Recommendation:
    """One recommended partner: who, how good (score and its parts) and why (words and data)."""

    id: str
    name: str
    helix: str
    urban_rural: str
    country: str | None
    nuts3: str | None
    score: float
    components: Mapping[str, float | None]  # thematic: None in a graph without themes
    reasons: tuple[str, ...]
    reason_data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        # field by field, not dataclasses.asdict: its deep copy of every reason took ~20 ms per answer of 10
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["components"] = dict(self.components)
        out["reasons"] = list(self.reasons)
        out["reason_data"] = dict(self.reason_data)
        return out


@dataclass(frozen=True)
class Query:
    """The organisation asking: its row (or None for a newcomer profile) and what describes it."""

    pos: int | None
    helix: str
    country: str | None
    nuts3: str | None
    neighbours: np.ndarray
    terms: np.ndarray  # dense TF-IDF vector, L2-normalised (zeros if no projects)
    helix_share: dict[str, float]


@dataclass(frozen=True)
class HubCut:
    """Which organisations count as hubs: those with `threshold` partners or more (`count` of them, the top
    `share` by number of partners)."""

    share: float
    threshold: int
    count: int
    mask: np.ndarray = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"share": self.share, "min_partners": self.threshold, "organisations": self.count}


def _code(value: str | None) -> str | None:
    return nuts_prefix(value) if value else None


def training_slice(projects: Iterable[ProjectInfo], participations: Iterable[tuple[str, str]], *,
                   last_year: int) -> tuple[list[ProjectInfo], list[tuple[str, str]]]:
    """Projects starting in or before `last_year` (no start year: dropped) and only their participations."""
    kept = [p for p in projects if p.start_year is not None and p.start_year <= last_year]
    ids = {p.id for p in kept}
    return kept, [(pid, oid) for pid, oid in participations if pid in ids]


class OrganisationTable:
    """Organisations in id order (ties broken by id for free) with their helix, urban-rural type and places as
    arrays, and cached filter masks: what the partner indexes (this module's and ecosystem.analysis.ideas') stand
    on."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.orgs: list[OrgInfo] = []
        self.helix = np.zeros(0, dtype=np.int8)
        self.urban_rural = np.zeros(0, dtype=np.int8)
        self.places: dict[int, np.ndarray] = {}  # code length -> int code per organisation (-1 unknown)
        self.place_codes: dict[int, dict[str, int]] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}

    @property
    def size(self) -> int:
        return len(self.ids)

    def _index_organisations(self, info: Mapping[str, OrgInfo]) -> None:
        """Index these organisations (by id): positions, helix and urban-rural codes, places."""
        self.ids = sorted(info)
        self.pos = {oid: i for i, oid in enumerate(self.ids)}
        self.orgs = [info[i] for i in self.ids]
        self.helix = np.array([HELICES.index(o.helix) if o.helix in HELICES else _UNKNOWN_HELIX for o in self.orgs],
                              dtype=np.int8)
        self.urban_rural = np.array([URBAN_RURAL.index(o.urban_rural) if o.urban_rural in URBAN_RURAL
                                     else _UNKNOWN_URBAN_RURAL for o in self.orgs], dtype=np.int8)
        self._index_places()

    def _index_places(self) -> None:
        """Each organisation's country, NUTS1, NUTS2 and NUTS3 region as an integer code per code length."""
        for length in (2, 3, 4, 5):
            codes: dict[str, int] = {}
            column = []
            for o in self.orgs:
                place = _code(o.nuts3) if length > 2 else _code(o.country or (o.nuts3 or "")[:2] or None)
                key = place[:length] if place and len(place) >= length else None
                column.append(codes.setdefault(key, len(codes)) if key else -1)
            self.places[length] = np.array(column, dtype=np.int64)
            self.place_codes[length] = codes

    def mask(self, kind: str, value: str) -> np.ndarray:
        """Organisations passing one filter (cached): helix, urban_rural, country or nuts (any level)."""
        key = (kind, value)
        cached = self._masks.get(key)
        if cached is not None:
            return cached
        if kind == "helix":
            result = self.helix == HELICES.index(value)
        elif kind == "urban_rural":
            result = self.urban_rural == URBAN_RURAL.index(value)
        elif kind == "country":
            code = self.place_codes[2].get(COUNTRY_ALIASES.get(value, value), -2)
            result = self.places[2] == code
        else:  # nuts: any level; a two-letter code is a country
            length = min(len(value), 5)
            code = self.place_codes[length].get(value, -2)
            result = self.places[length] == code
        if len(self._masks) > 256:
            self._masks.clear()
        self._masks[key] = result
        return result


class RecommenderIndex(OrganisationTable):
    """Arrays for fast recommendations: adjacency, degrees, topic vectors, activity by year, places."""

    def __init__(self) -> None:
        super().__init__()
        self.country_lift = np.zeros((0, 0))  # country code x country code: log(observed / expected ties)
        self.adjacency = sp.csr_matrix((0, 0))  # binary, symmetric
        self.weights = sp.csr_matrix((0, 0))  # shared projects per pair
        self.degree = np.zeros(0)
        self.terms: list[str] = []
        self.term_pos: dict[str, int] = {}
        self.idf = np.zeros(0)
        self.term_share = np.zeros(0)  # share of organisations holding each term
        self.term_matrix = sp.csr_matrix((0, 0))  # organisations x terms, TF-IDF, rows L2-normalised
        self.term_counts = sp.csr_matrix((0, 0))  # organisations x terms: projects with each term
        self.theme_terms = np.zeros(0, dtype=bool)  # topics and programme parts (not whole programmes)
        self.recent_weights = sp.csr_matrix((0, 0))  # pairs: shared projects, RECENT_DECAY ** age
        self.years = np.zeros(0, dtype=np.int64)
        self.year_counts = np.zeros((0, 0))  # organisations x years: projects starting that year
        self.projects = np.zeros(0, dtype=np.int64)
        self.last_year = np.zeros(0, dtype=np.int64)
        self.reference_year = 0
        self._hubs: HubCut | None = None
        self._recent: dict[int, np.ndarray] = {}

    @property
    def has_themes(self) -> bool:
        """Whether projects differ in theme: at least two call topics, programme parts or programmes in all.
        Without themes the thematic component is absent (None) and THEMELESS_WEIGHTS score."""
        return len(self.terms) >= 2

    @classmethod
    def build(cls, orgs: Iterable[OrgInfo], projects: Iterable[ProjectInfo],
              participations: Iterable[tuple[str, str]]) -> RecommenderIndex:
        """Index organisations, projects and (project_id, org_id) participations.

        Organisations named only in participations get an unknown profile; participations of unknown
        projects count for the graph but bring no topics or years.
        """
        self = cls()
        info = {o.id: o for o in orgs}
        project_list = list({p.id: p for p in projects}.values())
        pairs = sorted(set(participations))
        for _, oid in pairs:
            if oid not in info:
                info[oid] = OrgInfo(id=oid, name=oid)
        self._index_organisations(info)
        n = self.size
        member = self._index_graph(project_list, pairs)
        self._index_country_lift()
        self._index_terms(project_list, member, n)
        self._index_years(project_list, member, n)
        return self

    def _index_graph(self, project_list: list[ProjectInfo], pairs: list[tuple[str, str]]) -> sp.csr_matrix:
        """The collaboration graph (shared projects per pair, adjacency, degrees); returns the organisations x
        projects membership matrix (projects in `project_list` order, then unknown projects by id)."""
        project_pos = {p.id: j for j, p in enumerate(project_list)}
        extra = sorted({pid for pid, _ in pairs if pid not in project_pos})
        for pid in extra:
            project_pos[pid] = len(project_pos)
        rows = np.array([self.pos[oid] for _, oid in pairs], dtype=np.int64)
        cols = np.array([project_pos[pid] for pid, _ in pairs], dtype=np.int64)
        member = sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(self.ids), len(project_pos)))
        together = (member @ member.T).tocsr()
        together.setdiag(0)
        together.eliminate_zeros()
        together.sort_indices()
        self.weights = together
        self.adjacency = together.copy()
        self.adjacency.data[:] = 1.0
        self.degree = np.asarray(self.adjacency.sum(axis=1)).ravel()
        self.projects = np.asarray(member.sum(axis=1)).ravel().astype(np.int64)
        return member

    def _index_country_lift(self) -> None:
        """How much more (or less) often organisations of two countries work together than their numbers of
        ties alone would give: log((ties + 1) / (expected + 1)), expected = ties(a) x ties(b) / all ties."""
        country = self.places[2]
        known = np.flatnonzero(country >= 0)
        k = len(self.place_codes[2])
        to_country = sp.csr_matrix((np.ones(len(known)), (known, country[known])), shape=(len(self.ids), k))
        ties = np.asarray((to_country.T @ self.adjacency @ to_country).todense())
        total = ties.sum(axis=1)
        expected = np.outer(total, total) / max(float(total.sum()), 1.0)
        self.country_lift = np.log((ties + COUNTRY_SMOOTHING) / (expected + COUNTRY_SMOOTHING))

    def _index_terms(self, project_list: list[ProjectInfo], member: sp.csr_matrix, n: int) -> None:
        term_pos: dict[str, int] = {}
        prow: list[int] = []
        pcol: list[int] = []
        for j, p in enumerate(project_list):
            terms = {f"topic:{t}" for t in p.topics if t}
            for part in (p.programme_part or "").split(";"):  # several parts: "SC1;LEIT"
                if part.strip():
                    terms.add(f"part:{part.strip()}")
            if p.programme:
                terms.add(f"programme:{p.programme}")
            for t in sorted(terms):
                prow.append(j)
                pcol.append(term_pos.setdefault(t, len(term_pos)))
        self.terms = list(term_pos)
        self.term_pos = term_pos
        project_terms = sp.csr_matrix((np.ones(len(prow)), (prow, pcol)),
                                      shape=(member.shape[1], len(term_pos)))
        counts = (member @ project_terms).tocsr()  # projects of each organisation having each term
        counts.sort_indices()
        self.term_counts = counts
        self.theme_terms = np.array([not t.startswith("programme:") for t in self.terms], dtype=bool)
        df = np.bincount(counts.indices, minlength=len(term_pos)).astype(float)
        self.idf = np.log((1 + n) / (1 + df)) + 1.0
        self.term_share = df / max(n, 1)
        tfidf = counts.copy()
        tfidf.data = np.log1p(tfidf.data) * self.idf[tfidf.indices]
        norms = np.sqrt(np.asarray(tfidf.multiply(tfidf).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.term_matrix = sp.csr_matrix(sp.diags(1.0 / norms) @ tfidf)
        self.term_matrix.sort_indices()

    def _index_years(self, project_list: list[ProjectInfo], member: sp.csr_matrix, n: int) -> None:
        years = sorted({p.start_year for p in project_list if p.start_year is not None})
        self.years = np.array(years, dtype=np.int64)
        year_pos = {y: i for i, y in enumerate(years)}
        rows = [j for j, p in enumerate(project_list) if p.start_year is not None]
        cols = [year_pos[p.start_year] for p in project_list if p.start_year is not None]
        project_years = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(member.shape[1], len(years)))
        self.year_counts = np.asarray((member @ project_years).todense())
        self.reference_year = (years[-1] + 1) if years else 0
        last = np.full(n, -1, dtype=np.int64)
        for i, y in enumerate(years):
            last[self.year_counts[:, i] > 0] = y
        self.last_year = last
        age = np.array([self.reference_year - 1 - p.start_year if p.start_year is not None else -1
                        for p in project_list] + [-1] * (member.shape[1] - len(project_list)), dtype=float)
        decay = np.where(age >= 0, RECENT_DECAY ** np.maximum(age, 0), 0.0)
        recent = (member @ sp.diags(decay) @ member.T).tocsr()
        recent.setdiag(0)
        recent.eliminate_zeros()
        recent.sort_indices()
        self.recent_weights = recent

    # -- per-query pieces -------------------------------------------------------------------------

    def neighbours(self, i: int) -> np.ndarray:
        return self.adjacency.indices[self.adjacency.indptr[i]:self.adjacency.indptr[i + 1]]

    def recent_projects(self, year: int | None) -> np.ndarray:
        """Projects of every organisation starting in the ACTIVITY_WINDOW years before `year`."""
        year = self.reference_year if year is None else year
        known = self._recent.get(year)
        if known is None:
            cols = (self.years >= year - ACTIVITY_WINDOW) & (self.years < year)
            known = np.asarray(self.year_counts[:, cols].sum(axis=1)).ravel() if cols.any() else np.zeros(self.size)
            known.setflags(write=False)
            self._recent[year] = known  # the index never changes once built: one sum per year
        return known

    def projects_in(self, year: int) -> np.ndarray:
        """Projects of every organisation starting in `year`."""
        col = np.flatnonzero(self.years == year)
        return self.year_counts[:, col[0]] if len(col) else np.zeros(self.size)

    def hubs(self) -> HubCut:
        """The hubs: the HUB_SHARE organisations with most partners (at least one when any has a partner).

        Every organisation with at least as many partners as the last of them is a hub, so the cut is one
        number of partners (`threshold`) and ties at it fall on the same side."""
        if self._hubs is None:
            ranked = np.sort(self.degree)[::-1]
            count = math.ceil(HUB_SHARE * self.size)
            threshold = int(ranked[count - 1]) if count and ranked[count - 1] > 0 else 0
            mask = self.degree >= threshold if threshold else np.zeros(self.size, dtype=bool)
            self._hubs = HubCut(share=HUB_SHARE, threshold=threshold, count=int(mask.sum()), mask=mask)
        return self._hubs

    def term_vector(self, terms: Iterable[str]) -> np.ndarray:
        """A normalised TF-IDF vector for a newcomer's own terms ("topic:X", "part:Y", "programme:Z")."""
        vec = np.zeros(len(self.terms))
        for t in terms:
            j = self.term_pos.get(t)
            if j is not None:
                vec[j] = math.log(2) * self.idf[j]
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def helix_share(self, own: str, neighbours: np.ndarray) -> dict[str, float]:
        """Share of each helix among an organisation and its partners."""
        counts = np.bincount(self.helix[neighbours], minlength=len(HELICES)).astype(float)
        if own in HELICES:
            counts[HELICES.index(own)] += 1
        total = counts.sum()
        return {h: float(counts[i] / total) if total else 0.0 for i, h in enumerate(HELICES)}


def query_for(index: RecommenderIndex, org_id: str) -> Query:
    """The query for an organisation of the index: its partners, topic vector and helix mix."""
    i = index.pos.get(org_id)
    if i is None:
        raise NotFoundError(f"organisation {org_id!r} is not in the collaboration graph")
    org = index.orgs[i]
    neighbours = index.neighbours(i)
    row = index.term_matrix.getrow(i)
    terms = np.zeros(len(index.terms))
    terms[row.indices] = row.data
    country = _code(org.country or (org.nuts3 or "")[:2] or None)
    return Query(pos=i, helix=org.helix, country=country, nuts3=_code(org.nuts3),
                  neighbours=neighbours, terms=terms, helix_share=index.helix_share(org.helix, neighbours))


def _validate(helix: str | None, urban_rural: str | None, country: str | None, nuts: str | None) -> None:
    if helix is not None and helix not in HELICES:
        raise BadInputError(f"unknown helix {helix!r} (one of {', '.join(HELICES)})", field="helix")
    if urban_rural is not None and urban_rural not in URBAN_RURAL:
        raise BadInputError(f"unknown urban-rural type {urban_rural!r} (one of {', '.join(URBAN_RURAL)})",
                            field="urban_rural")
    if country is not None and not (is_nuts_code(country) and len(nuts_prefix(country)) == 2):
        raise BadInputError(f"not a country code: {country!r}", field="country")
    if nuts is not None and not is_nuts_code(nuts):
        raise BadInputError(f"not a NUTS or country code: {nuts!r}", field="nuts")


def components(index: RecommenderIndex, query: Query, *, helix: str | None = None,
               year: int | None = None) -> dict[str, np.ndarray]:
    """The explained components, for every organisation of the index (arrays in [0, 1])."""
    return _components_and_features(index, query, helix=helix, year=year)[0]


def features(index: RecommenderIndex, query: Query, *, helix: str | None = None,
             year: int | None = None) -> dict[str, np.ndarray]:
    """The model features (FEATURES), for every organisation of the index."""
    return _components_and_features(index, query, helix=helix, year=year)[1]


def _components_and_features(index: RecommenderIndex, query: Query, *, helix: str | None,
                             year: int | None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    n = index.size
    year = index.reference_year if year is None else year
    degree = index.degree
    zeros = np.zeros(n)
    adamic_adar, resource, recent_two_hop, walk_three = zeros, zeros, zeros, zeros
    nbrs = query.neighbours
    if len(nbrs):
        inv = 1.0 / np.maximum(degree, 1.0)
        # Adamic-Adar, resource allocation and the walk's first step spread from the partners only: their rows
        # of the (symmetric) adjacency, one pass over them instead of three over the whole graph
        spread = np.stack([1.0 / np.log(np.maximum(degree[nbrs], 2.0)), 1.0 / degree[nbrs],
                           inv[nbrs] / len(nbrs)], axis=1)
        spread_out = np.asarray(index.adjacency[nbrs].T @ spread)
        adamic_adar, resource, step = spread_out[:, 0], spread_out[:, 1], spread_out[:, 2]
        # partners of partners, both ties weighted by recency (RECENT_DECAY per year of age)
        ties = index.recent_weights.getrow(query.pos) if query.pos is not None else None
        if ties is not None and ties.nnz:
            weights = ties.data / np.log(np.maximum(degree[ties.indices], 2.0) + 1.0)
            recent_two_hop = np.asarray(index.recent_weights[ties.indices].T @ weights).ravel()
        # three-step random walk from the organisation's partners (the second step reaches the whole graph)
        walk_three = index.adjacency @ (step * inv)
    cosine = np.clip(index.term_matrix @ query.terms, 0.0, 1.0) if query.terms.any() else zeros
    # how active each candidate is in the organisation's own topics and programme parts
    share = np.where(index.theme_terms, query.terms, 0.0)
    theme_activity = index.term_counts @ (share / share.sum()) if share.any() else zeros
    if helix is not None:
        helix_part = (index.helix == HELICES.index(helix)).astype(float)
    else:
        gap = np.array([max(0.0, 1.0 - HELIX_GAP_SCALE * query.helix_share[h]) if h in FOUR_HELICES else 0.0
                        for h in HELICES])
        helix_part = gap[index.helix]
    geography = np.zeros(n)
    for length, closeness in reversed(GEOGRAPHY_LEVELS):  # wider first, closer levels overwrite
        place = query.country if length == 2 else query.nuts3
        if not place or len(place) < length:
            continue
        code = index.place_codes[length].get(place[:length])
        if code is not None:
            geography[index.places[length] == code] = closeness
    affinity = np.zeros(n)
    own = index.place_codes[2].get(query.country) if query.country else None
    if own is not None:
        placed = index.places[2] >= 0
        affinity[placed] = index.country_lift[own, index.places[2][placed]]
    comps = {"proximity": _log_scaled(adamic_adar, PROXIMITY_SCALE, PROXIMITY_CAP),
             "thematic": _log_scaled(cosine, THEMATIC_SCALE, 1.0), "helix": helix_part,
             "geography": geography,
             "activity": _log_scaled(index.recent_projects(year), 1.0, ACTIVITY_CAP)}
    feats = {"adamic_adar": np.log1p(adamic_adar), "resource_allocation": np.log1p(RESOURCE_SCALE * resource),
             "recent_two_hop": np.log1p(recent_two_hop), "walk_three": np.log1p(WALK_SCALE * walk_three),
             "thematic": cosine, "theme_activity": np.log1p(theme_activity), "helix": helix_part,
             "geography": geography, "degree": np.log1p(degree),
             "activity_last_year": np.log1p(index.projects_in(year - 1)),
             "activity_year_before": np.log1p(index.projects_in(year - 2)), "country_affinity": affinity}
    return comps, feats


def _log_scaled(values: np.ndarray, scale: float, cap: float) -> np.ndarray:
    """log(1 + x / scale) / log(1 + cap / scale), clipped to [0, 1]: 0 at 0, 1 at the cap."""
    return np.minimum(np.log1p(values / scale) / math.log1p(cap / scale), 1.0)


def linear_score(feats: Mapping[str, np.ndarray], weights: Weights = DEFAULT_WEIGHTS) -> np.ndarray:
    """bias + sum of coefficient x feature (the log-odds of the model)."""
    z = np.full_like(feats["degree"], weights.bias)
    for name in FEATURES:
        w = getattr(weights, name)
        if w:
            z += w * feats[name]
    return z


def combine(feats: Mapping[str, np.ndarray], weights: Weights = DEFAULT_WEIGHTS) -> np.ndarray:
    """The score in (0, 1): the logistic function of `linear_score`."""
    return expit(linear_score(feats, weights))


def favour_multiplier(index: RecommenderIndex) -> np.ndarray:
    """RURAL_BOOST for rural, CIVIL_BOOST for civil-society organisations (their product for both)."""
    rural = np.where(index.urban_rural == URBAN_RURAL.index("rural"), RURAL_BOOST, 1.0)
    civil = np.where(index.helix == HELICES.index("civil_society"), CIVIL_BOOST, 1.0)
    return rural * civil


def candidate_mask(index: RecommenderIndex, query: Query, *, helix: str | None = None,
                   urban_rural: str | None = None, country: str | None = None, nuts: str | None = None,
                   exclude: Collection[str] = (), exclude_hubs: bool = False) -> np.ndarray:
    """Organisations that may be recommended: not the organisation itself, not a partner, passing filters
    (and not a hub with `exclude_hubs`: see `RecommenderIndex.hubs`)."""
    allowed = ~index.hubs().mask if exclude_hubs else np.ones(index.size, dtype=bool)
    if query.pos is not None:
        allowed[query.pos] = False
    allowed[query.neighbours] = False
    for kind, value in (("helix", helix), ("urban_rural", urban_rural), ("country", country), ("nuts", nuts)):
        if value is not None:
            allowed &= index.mask(kind, value if kind in ("helix", "urban_rural") else nuts_prefix(value))
    for oid in exclude:
        j = index.pos.get(oid)
        if j is not None:
            allowed[j] = False
    return allowed


def score_candidates(index: RecommenderIndex, org_id: str, *, helix: str | None = None,
                     urban_rural: str | None = None, country: str | None = None, nuts: str | None = None,
                     favour_rural_civil: bool = False, year: int | None = None, exclude: Collection[str] = (),
                     exclude_hubs: bool = False, weights: Weights | None = None) -> np.ndarray:
    """The score of every organisation in index order; -inf where it may not be recommended."""
    _validate(helix, urban_rural, country, nuts)
    query = query_for(index, org_id)
    return _scores(index, query, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                   favour_rural_civil=favour_rural_civil, year=year, exclude=exclude, exclude_hubs=exclude_hubs,
                   weights=weights)[0]


def _scores(index: RecommenderIndex, query: Query, *, helix: str | None, urban_rural: str | None,
            country: str | None, nuts: str | None, favour_rural_civil: bool, year: int | None,
            exclude: Collection[str], exclude_hubs: bool,
            weights: Weights | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    parts, feats = _components_and_features(index, query, helix=helix, year=year)
    score = combine(feats, weights or weights_for(index))
    if favour_rural_civil:
        score = score * favour_multiplier(index)
    allowed = candidate_mask(index, query, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                             exclude=exclude, exclude_hubs=exclude_hubs)
    return np.where(allowed & (score > 0), score, -np.inf), parts


def top_positions(score: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best finite scores, best first, ties broken by position (= by id)."""
    finite = np.flatnonzero(np.isfinite(score))
    if k <= 0 or not len(finite):
        return np.zeros(0, dtype=np.int64)
    if len(finite) > k:
        threshold = np.partition(score[finite], len(finite) - k)[len(finite) - k]
        finite = finite[score[finite] >= threshold]
    order = np.argsort(-score[finite], kind="stable")
    return finite[order][:k]


def _favoured_first(score: np.ndarray, boosts: np.ndarray, k: int) -> np.ndarray:
    """The k best positions, re-ranked so that at least every second place (2nd, 4th, ...) holds a favoured
    (rural or civil-society) candidate while the FAVOUR_POOL x k best scores still hold one; the favoured and
    the other candidates each keep their own order."""
    pool = top_positions(score, max(k * FAVOUR_POOL, k))
    favoured = [int(j) for j in pool if boosts[j] > 1.0]
    others = [int(j) for j in pool if boosts[j] <= 1.0]
    out: list[int] = []
    f = o = 0
    while len(out) < k and (f < len(favoured) or o < len(others)):
        need = (len(out) + 1) // 2  # favoured candidates the list must hold once this place is filled
        best_is_favoured = o >= len(others) or (f < len(favoured) and score[favoured[f]] >= score[others[o]])
        if f < len(favoured) and (best_is_favoured or f < need):
            out.append(favoured[f])
            f += 1
        else:
            out.append(others[o])
            o += 1
    return np.array(out, dtype=np.int64)


def recommend(index: RecommenderIndex, org_id: str, *, k: int = 10, helix: str | None = None,
              urban_rural: str | None = None, country: str | None = None, nuts: str | None = None,
              favour_rural_civil: bool = False, year: int | None = None, exclude: Collection[str] = (),
              exclude_hubs: bool = False, weights: Weights | None = None) -> list[Recommendation]:
    """The k organisations `org_id` should work with next (never a current partner), best first.

    Filters restrict the candidates: helix, urban_rural, country, nuts (any level; a country code
    matches the country). `year` is the reference year for recent activity (default: after the data).
    """
    _validate(helix, urban_rural, country, nuts)
    query = query_for(index, org_id)
    return _recommend(index, query, k=k, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                      favour_rural_civil=favour_rural_civil, year=year, exclude=exclude, exclude_hubs=exclude_hubs,
                      weights=weights)


def recommend_for_newcomer(index: RecommenderIndex, org: OrgInfo, *, topics: Iterable[str] = (),
                           programme_parts: Iterable[str] = (), k: int = 10, helix: str | None = None,
                           urban_rural: str | None = None, country: str | None = None, nuts: str | None = None,
                           favour_rural_civil: bool = False, year: int | None = None, exclude_hubs: bool = False,
                           weights: Weights | None = None) -> list[Recommendation]:
    """Recommendations for an organisation the graph does not hold, from its helix, place and themes."""
    _validate(helix, urban_rural, country, nuts)
    if org.id in index.pos:
        return recommend(index, org.id, k=k, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                         favour_rural_civil=favour_rural_civil, year=year, exclude_hubs=exclude_hubs,
                         weights=weights)
    terms = [f"topic:{t}" for t in topics] + [f"part:{p}" for p in programme_parts]
    empty = np.zeros(0, dtype=np.int64)
    query = Query(pos=None, helix=org.helix, country=_code(org.country or (org.nuts3 or "")[:2] or None),
                   nuts3=_code(org.nuts3), neighbours=empty, terms=index.term_vector(terms),
                   helix_share=index.helix_share(org.helix, empty))
    return _recommend(index, query, k=k, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                      favour_rural_civil=favour_rural_civil, year=year, exclude=(), exclude_hubs=exclude_hubs,
                      weights=weights)


def _recommend(index: RecommenderIndex, query: Query, *, k: int, helix: str | None, urban_rural: str | None,
               country: str | None, nuts: str | None, favour_rural_civil: bool, year: int | None,
               exclude: Collection[str], exclude_hubs: bool, weights: Weights | None) -> list[Recommendation]:
    score, parts = _scores(index, query, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                           favour_rural_civil=favour_rural_civil, year=year, exclude=exclude,
                           exclude_hubs=exclude_hubs, weights=weights)
    recent = index.recent_projects(year)
    ref_year = index.reference_year if year is None else year
    boosts = favour_multiplier(index) if favour_rural_civil else None
    chosen = top_positions(score, k) if boosts is None else _favoured_first(score, boosts, k)
    out = []
    for j in chosen:
        j = int(j)
        comps: dict[str, float | None] = {name: round(float(parts[name][j]), 6) for name in COMPONENTS}
        if not index.has_themes:
            comps["thematic"] = None
        boost = float(boosts[j]) if boosts is not None else 1.0
        if favour_rural_civil:
            comps["favour_multiplier"] = boost
        texts, data = _explain(index, query, j, comps, helix=helix, recent=float(recent[j]), year=ref_year,
                               boost=boost)
        org = index.orgs[j]
        out.append(Recommendation(id=org.id, name=org.name, helix=org.helix, urban_rural=org.urban_rural,
                                  country=org.country, nuts3=org.nuts3, score=float(f"{float(score[j]):.6g}"),
                                  components=comps, reasons=tuple(texts), reason_data=data))
    return out


def label(org: OrgInfo) -> str:
    """How a sentence names an organisation: its name where known, else its identifier with helix and place."""
    if org.name and org.name != org.id:
        return org.name
    helix = org.helix.replace("_", " ") if org.helix in FOUR_HELICES else "helix unknown"
    return f"{org.id} ({helix}, {org.nuts3 or org.country or 'place unknown'})"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _explain(index: RecommenderIndex, query: Query, j: int, comps: dict[str, float | None], *, helix: str | None,
             recent: float, year: int, boost: float) -> tuple[list[str], dict[str, Any]]:
    """Plain-words reasons and their data for candidate j: shared partners, shared themes, a missing helix,
    geography, recent activity and a favour boost; at least the candidate's projects."""
    texts: list[str] = []
    data: dict[str, Any] = {}
    _explain_partners(index, query, j, texts, data)
    if comps["thematic"]:
        _explain_themes(index, query, j, texts, data)
    if (comps["helix"] or 0.0) > 0 and index.orgs[j].helix in FOUR_HELICES:
        _explain_helix(query, index.orgs[j].helix, helix, texts, data)
    geo = _geography(index, query, j, comps["geography"] or 0.0)
    if geo:
        data["geography"] = geo
        texts.append(geo[0].upper() + geo[1:])
    if recent > 0:
        data["recent_activity"] = {"last_year": int(index.last_year[j]), "projects": int(recent),
                                   "years": [year - ACTIVITY_WINDOW, year - 1]}
        texts.append(f"Active recently: {int(recent)} projects starting {year - ACTIVITY_WINDOW}-{year - 1}")
    if boost > 1.0:
        org = index.orgs[j]
        favoured = [w for w, on in (("rural", org.urban_rural == "rural"),
                                    ("civil society", org.helix == "civil_society")) if on]
        data["favoured"] = favoured
        texts.append(f"Ranked up as a {' and '.join(favoured)} partner (score x{boost:g})")
    if not texts:  # every recommendation carries a reason, even a weak one
        texts.append(f"{int(index.projects[j])} projects in the graph")
        data["projects"] = int(index.projects[j])
    # after the fallback: a page that renders reason_data keys it knows still has a reason to show
    _explain_countries(index, query, j, texts, data)
    own = int(index.projects[query.pos]) if query.pos is not None else 0
    if own < FEW_PROJECTS:
        _explain_basis(own, data, texts)
    return texts, data


BASIS_WORDS = {"shared_partners": "partners you share", "themes": "shared themes", "helix": "the helix it brings",
               "geography": "place", "activity": "its own activity"}


def _explain_basis(own: int, data: dict[str, Any], texts: list[str]) -> None:
    """For an organisation with few projects: on what this suggestion rests (it knows little about you)."""
    rests_on = [key for key, present in (
        ("shared_partners", "shared_partners" in data),
        ("themes", any(k in data for k in TERM_KINDS.values())),
        ("helix", "fills_helix" in data), ("geography", "geography" in data),
        ("activity", "recent_activity" in data or "projects" in data)) if present]
    data["basis"] = {"your_projects": own, "rests_on": rests_on}
    what = _names([BASIS_WORDS[k] for k in rests_on]) if rests_on else "the candidate's projects"
    texts.append(f"Rests on little: you have {own} project{'s' if own != 1 else ''} in the graph, so this suggestion "
                 f"rests on {what}")


def _explain_partners(index: RecommenderIndex, query: Query, j: int, texts: list[str], data: dict[str, Any]) -> None:
    """The partners the organisation and candidate j share, least connected (most telling) first."""
    shared = np.intersect1d(query.neighbours, index.neighbours(j), assume_unique=True)
    if not len(shared):
        return
    order = sorted(shared.tolist(), key=lambda w: (index.degree[w], index.ids[w]))
    named = [{"id": index.ids[w], "name": index.orgs[w].name, "label": label(index.orgs[w]),
              "helix": index.orgs[w].helix, "place": index.orgs[w].nuts3 or index.orgs[w].country}
             for w in order[:MAX_NAMED]]
    data["shared_partners"] = named
    data["shared_partner_count"] = len(shared)
    more = f" (and {len(shared) - len(named)} more)" if len(shared) > len(named) else ""
    if len(shared) == 1:
        texts.append(f"Works with your partner {named[0]['label']}")
    else:
        texts.append(f"Works with {len(shared)} of your partners: {_names([p['label'] for p in named])}{more}")


def _explain_themes(index: RecommenderIndex, query: Query, j: int, texts: list[str], data: dict[str, Any]) -> None:
    """The call topics, programme parts and programmes the organisation and candidate j share, strongest first
    (a term most organisations share explains nothing)."""
    row = index.term_matrix.getrow(j)
    telling = index.term_share <= COMMON_TERM_SHARE
    overlap = [(float(query.terms[t]) * float(v), index.terms[t]) for t, v in zip(row.indices, row.data, strict=True)
               if query.terms[t] > 0 and telling[t]]
    overlap.sort(key=lambda x: (-x[0], x[1]))
    for prefix, key in TERM_KINDS.items():
        values = [t.split(":", 1)[1] for _, t in overlap if t.startswith(prefix + ":")][:MAX_NAMED]
        if values:
            data[key] = values
            texts.append(f"Shares your {TERM_LABELS[prefix]}: {', '.join(values)}")


def _explain_helix(query: Query, cand_helix: str, asked: str | None, texts: list[str], data: dict[str, Any]) -> None:
    """The helix candidate j brings: the one asked for, or one missing or weak among the organisation's."""
    data["fills_helix"] = cand_helix
    words = cand_helix.replace("_", " ")
    if asked is not None:
        texts.append(f"Brings the {words} helix you asked for")
    elif query.helix_share.get(cand_helix, 0.0) == 0.0:
        texts.append(f"Brings the {words} helix, missing among you and your partners")
    else:
        texts.append(f"Brings the {words} helix, weak among you and your partners "
                     f"({query.helix_share[cand_helix]:.0%})")


def _explain_countries(index: RecommenderIndex, query: Query, j: int, texts: list[str], data: dict[str, Any]) -> None:
    """Two countries whose organisations work together often (the country-pair affinity the score uses)."""
    theirs = _code(index.orgs[j].country or (index.orgs[j].nuts3 or "")[:2] or None)
    if not query.country or not theirs or theirs == query.country:
        return
    a, b = index.place_codes[2].get(query.country), index.place_codes[2].get(theirs)
    if a is None or b is None:
        return
    times = float(np.exp(index.country_lift[a, b]))
    if times >= COUNTRY_REASON:
        data["country_affinity"] = {"countries": [query.country, theirs], "times_expected": round(times, 1)}
        texts.append(f"Organisations in {query.country} and {theirs} work together often "
                     f"({times:.1f} times as often as their numbers of partners alone would give)")


def _geography(index: RecommenderIndex, query: Query, j: int, closeness: float) -> str | None:
    org = index.orgs[j]
    kind = f"{org.urban_rural} partner" if org.urban_rural != "unknown" else "partner"
    if closeness >= 1.0:
        return f"{kind} in the same NUTS3 region ({org.nuts3})"
    if closeness > 0.6:
        return f"{kind} in the same NUTS{1 if closeness < 0.8 else 2} region"
    if closeness > 0:
        return f"{kind} in the same country ({org.country})"
    if org.urban_rural == "rural":
        return f"rural partner in another country ({org.country})" if org.country else "rural partner"
    return None
