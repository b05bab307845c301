"""Partners for an idea: which organisations to ask for a call topic, a programme part or a few keywords.

Pure logic over in-memory records (no store access). `IdeaIndex.build` turns organisations, projects (with
their texts where the store has them) and participations into arrays once; `partners_for_idea` scores every
organisation with a few vectorised passes and explains the best ones. See docs/recommendations.md.

The idea selects projects, each with a match weight in (0, 1]: the call topic (1 for the code itself, HALF_MATCH
for the same topic in another year), the programme part or framework programme (the share of the asked parts the
project has), the keywords (the share of the asked words found in the project's acronym, title and call topic
titles; a word of MIN_PREFIX letters or more also finds longer words it begins). Several criteria: the product.

Score of an organisation v, given the team T (the organisations already in the consortium, never suggested):

    score = sigmoid(bias + sum of IDEA_WEIGHTS.<feature> x feature)

Features (natural logs):
- theme_recent: log(1 + sum over v's matching projects of weight x RECENCY_DECAY ** age), age in years before
  the newest start year of the index;
- theme_count: log(1 + sum over v's matching projects of weight);
- specialisation: theme_count's sum / (v's projects + SIZE_SHRINK): large generalists are shrunk;
- team_direct: log(1 + projects shared with team members, RECENCY_DECAY ** age each);
- team_two_hop: log(1 + sum over the team's partners w of [w partner of v] / log(partners of w + 2));
- helix: 1 when v brings a helix the team lacks (of the four), HELIX_PARTIAL when the team has it once, else 0;
- geography: 1 same NUTS3 as a team member, 0.8 NUTS2, 0.7 NUTS1, 0.6 country, else 0;
- size: log(1 + v's projects);
- team_theme: log(1 + matching projects shared with a team member, weight x RECENCY_DECAY ** age each);
- active_recently: log(1 + v's projects starting in the last RECENT_YEARS years of the index).

The shown components (theme, recency, team, helix, geography) are in [0, 1] (null where they do not apply:
no team) and drive the reasons.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ecosystem.analysis.recommend import OrganisationTable, OrgInfo, ProjectInfo, Recommendation
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import FOUR_HELICES, HELICES, URBAN_RURAL
from ecosystem.domain.nuts import is_nuts_code, nuts_prefix
from ecosystem.domain.text import fold

RECENCY_DECAY = 0.7  # weight of a matching project per year of age
SIZE_SHRINK = 5.0  # specialisation = theme projects / (projects + SIZE_SHRINK)
RECENT_YEARS = 2  # active_recently: projects starting in the last this many years of the index
HALF_MATCH = 0.5  # the same call topic in another year (code without its last "-YYYY")
MIN_PREFIX = 5  # a keyword this long also finds the words it begins ("hydrogen" -> "hydrogenation")
MAX_PREFIX_WORDS = 50  # at most this many longer words per keyword
MIN_WORD = 3  # shorter keywords (and stop words) are ignored
HELIX_PARTIAL = 0.3
THEME_CAP = 50.0  # theme component: log-scaled, 1 at this many matching projects
TEAM_CAP = 10.0  # team component: log-scaled, 1 at this many recency-weighted shared projects
GEOGRAPHY_LEVELS = ((5, 1.0), (4, 0.8), (3, 0.7), (2, 0.6))
MAX_NAMED = 3  # projects / organisations named in one reason
STOP_WORDS = frozenset(
    "and the for with from into onto over under of in on to by at or an as is are be its their this that "
    "des der die das und fur les pour dans avec del della per con".split())
_YEAR_TAIL = re.compile(r"-(19|20)\d\d$")


@dataclass(frozen=True)
class IdeaWeights:
    """Coefficients of the score (fitted on the validation split and frozen here: see PROVENANCE)."""

    bias: float = -6.0
    theme_recent: float = 0.25
    theme_count: float = 0.5
    specialisation: float = 2.0
    team_direct: float = 1.5
    team_two_hop: float = 0.5
    team_theme: float = 1.0
    helix: float = 0.2
    geography: float = 2.0
    size: float = 0.0
    active_recently: float = 0.0


FEATURES = tuple(IdeaWeights.__dataclass_fields__)[1:]
IDEA_WEIGHTS = IdeaWeights()
PROVENANCE = ("fitted by `python bench/idea_eval.py --refit` on the README's import of the full H2020 table "
              "(participations and programme parts), validation split only: index from projects starting <= 2015, "
              "3,212 projects starting 2016-2017 (query: programme part(s), exclude: the coordinator); coordinate "
              "ascent on recall@20 over a grid, helix held at 0.2 (a product choice); bias only sets the shown "
              "score's scale (it does not rank). Re-checked with the candidates limited to organisations active in "
              "the theme: validation recall@20 0.1965, a refit reaches 0.1966")
COMPONENTS = ("theme", "recency", "team", "helix", "geography")


IdeaPartner = Recommendation
"""One suggested organisation for an idea: the recommender's record (who, score, components, reasons in words and
in data); its components are COMPONENTS."""


@dataclass(frozen=True)
class Note:
    """A note for the asker on what could not be matched: a code and its values (for a page to say it in its
    language: the catalogues' `idea.note.<code>`), and the sentence in English."""

    code: str
    text: str
    values: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "values": dict(self.values), "text": self.text}


@dataclass(frozen=True)
class IdeaResult:
    """What an idea found: the matching projects, notes for the asker, the ranked organisations."""

    matched_projects: int
    notes: tuple[Note, ...]
    items: tuple[IdeaPartner, ...]


def words(text: str | None) -> list[str]:
    """The folded words of a text that count as keywords (no stop words, no very short words)."""
    return [w for w in fold(text).split() if (len(w) >= MIN_WORD or w.isdigit()) and w not in STOP_WORDS]


def topic_stem(code: str) -> str:
    """A call topic code without its year: SC1-PM-08-2017 -> SC1-PM-08 (folded to upper case)."""
    code = code.strip().upper()
    return _YEAR_TAIL.sub("", code)


def _parts(value: str | None) -> set[str]:
    return {p.strip() for p in (value or "").split(";") if p.strip()}


class IdeaIndex(OrganisationTable):
    """Arrays for ideas: projects x organisations, project themes and words, team ties, places."""

    def __init__(self) -> None:
        super().__init__()
        self.project_ids: list[str] = []
        self.labels: list[str] = []  # acronym, else title, else id
        self.start_year = np.zeros(0)
        self.decay = np.zeros(0)
        self.member = sp.csr_matrix((0, 0))  # organisations x projects
        self.member_t = sp.csr_matrix((0, 0))  # projects x organisations
        self.projects = np.zeros(0)
        self.recent_projects = np.zeros(0)  # projects starting in the RECENT_YEARS before reference_year
        self.recent_ties = sp.csr_matrix((0, 0))  # organisations x organisations, RECENCY_DECAY ** age
        self.adjacency = sp.csr_matrix((0, 0))
        self.degree = np.zeros(0)
        self.by_topic: dict[str, list[int]] = {}
        self.by_stem: dict[str, list[int]] = {}
        self.by_part: dict[str, list[int]] = {}
        self.project_parts: list[frozenset[str]] = []
        self.by_programme: dict[str, list[int]] = {}
        self.by_word: dict[str, list[int]] = {}
        self.vocabulary: list[str] = []
        self.has_texts = False
        self.has_topics = False
        self.reference_year = 0
        self._matches: dict[tuple[str | None, ...], tuple[np.ndarray, list[Note]]] = {}

    @classmethod
    def build(cls, orgs: Iterable[OrgInfo], projects: Iterable[ProjectInfo],
              participations: Iterable[tuple[str, str]],
              texts: Mapping[str, Sequence[str | None]] | None = None) -> IdeaIndex:
        """Index organisations, projects, (project_id, org_id) participations and project texts (project id ->
        acronym, title, call topic titles...; none for a bare participation table)."""
        self = cls()
        info = {o.id: o for o in orgs}
        project_list = sorted({p.id: p for p in projects}.values(), key=lambda p: p.id)
        pairs = sorted(set(participations))
        for _, oid in pairs:
            info.setdefault(oid, OrgInfo(id=oid, name=oid))
        self._index_organisations(info)
        known = {p.id for p in project_list}
        project_list += [ProjectInfo(id=pid) for pid in sorted({pid for pid, _ in pairs} - known)]
        self._index_projects(project_list, texts or {})
        self._index_graph(project_list, pairs)
        return self

    def _index_projects(self, project_list: list[ProjectInfo], texts: Mapping[str, Sequence[str | None]]) -> None:
        self.project_ids = [p.id for p in project_list]
        years = np.array([p.start_year if p.start_year is not None else np.nan for p in project_list], dtype=float)
        self.start_year = years
        known = years[~np.isnan(years)]
        self.reference_year = int(known.max()) + 1 if len(known) else 0
        age = np.where(np.isnan(years), 10.0, np.maximum(self.reference_year - 1 - np.nan_to_num(years), 0.0))
        self.decay = RECENCY_DECAY ** age
        words_of: dict[str, set[int]] = {}
        for j, p in enumerate(project_list):
            for t in p.topics:
                if t:
                    self.by_topic.setdefault(t.strip().upper(), []).append(j)
                    self.by_stem.setdefault(topic_stem(t), []).append(j)
            parts = frozenset(_parts(p.programme_part))
            self.project_parts.append(parts)
            for part in parts:
                self.by_part.setdefault(part.casefold(), []).append(j)
            if p.programme:
                self.by_programme.setdefault(p.programme.casefold(), []).append(j)
            text = texts.get(p.id) or ()
            label = next((t for t in text if t), None)
            self.labels.append(label or p.id)
            for w in words(" ".join(t for t in text if t)):
                words_of.setdefault(w, set()).add(j)
        self.by_word = {w: sorted(js) for w, js in words_of.items()}
        self.vocabulary = sorted(self.by_word)
        self.has_texts = bool(self.by_word)
        self.has_topics = bool(self.by_topic)

    def _index_graph(self, project_list: list[ProjectInfo], pairs: list[tuple[str, str]]) -> None:
        project_pos = {pid: j for j, pid in enumerate(self.project_ids)}
        rows = np.array([self.pos[oid] for _, oid in pairs], dtype=np.int64)
        cols = np.array([project_pos[pid] for pid, _ in pairs], dtype=np.int64)
        member = sp.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(self.size, len(project_list)))
        member.sort_indices()
        self.member = member
        self.member_t = member.T.tocsr()
        self.member_t.sort_indices()
        self.projects = np.asarray(member.sum(axis=1)).ravel()
        latest = np.nan_to_num(self.start_year, nan=-1.0) >= self.reference_year - RECENT_YEARS
        self.recent_projects = member @ latest.astype(float)
        ties = (member @ sp.diags(self.decay) @ member.T).tocsr()
        ties.setdiag(0)
        ties.eliminate_zeros()
        ties.sort_indices()
        self.recent_ties = ties
        adjacency = ties.copy()
        adjacency.data[:] = 1.0
        self.adjacency = adjacency
        self.degree = np.asarray(adjacency.sum(axis=1)).ravel()

    # -- per-query pieces -------------------------------------------------------------------------

    def match(self, *, topic: str | None = None, programme: str | None = None,
              q: str | None = None) -> tuple[np.ndarray, list[Note]]:
        """Each project's match weight for the idea (0: no match), and notes on what could not be matched
        (cached: the same idea asked again costs nothing; do not modify the array)."""
        key = (topic, programme, q)
        cached = self._matches.get(key)
        if cached is None:
            cached = self._match(topic=topic, programme=programme, q=q)
            if len(self._matches) > 256:
                self._matches.clear()
            self._matches[key] = cached
        return cached[0], list(cached[1])

    def _match(self, *, topic: str | None, programme: str | None, q: str | None) -> tuple[np.ndarray, list[Note]]:
        weight = np.ones(len(self.project_ids))
        notes: list[Note] = []
        if topic:
            weight *= self._match_topic(topic, notes)
        if programme:
            weight *= self._match_programme(programme, notes)
        if q:
            weight *= self._match_words(q, notes)
        return weight, notes

    def _match_topic(self, topic: str, notes: list[Note]) -> np.ndarray:
        out = np.zeros(len(self.project_ids))
        if not self.has_topics:
            notes.append(Note("no_topics", "The stored projects have no call topics (a bare participation table has "
                              "none; CORDIS project files bring them), so no project matches a topic."))
            return out
        code = topic.strip().upper()
        out[self.by_stem.get(topic_stem(code), [])] = HALF_MATCH
        out[self.by_topic.get(code, [])] = 1.0
        if not out.any():
            notes.append(Note("topic_none", f"No stored project has the call topic {topic!r} or the same topic in "
                              "another year.", {"topic": topic}))
        elif not self.by_topic.get(code):
            notes.append(Note("topic_other_years", f"No stored project has the call topic {topic!r}; projects of "
                              "the same topic in other years count half.", {"topic": topic}))
        return out

    def _match_programme(self, programme: str, notes: list[Note]) -> np.ndarray:
        out = np.zeros(len(self.project_ids))
        asked = {p.casefold() for p in _parts(programme)}
        for value in asked:
            hits = self.by_part.get(value) or self.by_programme.get(value) or []
            broader = value.split("-")[0]
            if not hits and broader != value and self.by_part.get(broader):  # LEIT-ICT -> LEIT
                hits = self.by_part[broader]
                notes.append(Note("part_broader", f"The stored projects have no programme part {value!r}; its part "
                                  f"{broader.upper()!r} is used.", {"part": value, "broader": broader.upper()}))
            out[hits] += 1.0 / len(asked)
        if not out.any():
            known = sorted({p for parts in self.project_parts for p in parts})
            if known:
                notes.append(Note("programme_none", f"No stored project is in the programme or programme part "
                                  f"{programme!r} (stored parts: {', '.join(known[:20])}).",
                                  {"programme": programme, "known": ", ".join(known[:20])}))
            else:
                notes.append(Note("programme_no_parts", f"No stored project is in the programme or programme part "
                                  f"{programme!r} (the store has no programme parts: import h2020_programme_parts "
                                  "for them).", {"programme": programme}))
        return np.minimum(out, 1.0)

    def _match_words(self, q: str, notes: list[Note]) -> np.ndarray:
        out = np.zeros(len(self.project_ids))
        if not self.has_texts:
            notes.append(Note("no_texts", "The stored projects have no texts (titles, acronyms, call topic titles: a "
                              "bare participation table has none; CORDIS project files bring them), so no project "
                              "matches keywords."))
            return out
        asked = list(dict.fromkeys(words(q)))
        if not asked:
            notes.append(Note("no_keyword", f"No keyword to match in {q!r} (words of {MIN_WORD} letters or more, "
                              "no stop words).", {"q": q, "letters": str(MIN_WORD)}))
            return out
        for w in asked:
            hits = set(self.by_word.get(w, []))
            if len(w) >= MIN_PREFIX:
                start = bisect.bisect_left(self.vocabulary, w)
                for other in self.vocabulary[start:start + MAX_PREFIX_WORDS]:
                    if not other.startswith(w):
                        break
                    hits.update(self.by_word[other])
            out[sorted(hits)] += 1.0 / len(asked)
        if not out.any():
            notes.append(Note("words_none", f"No stored project text has the words of {q!r}.", {"q": q}))
        return out


@dataclass(frozen=True)
class Team:
    """The organisations already in the consortium (positions in the index) and what they hold."""

    members: np.ndarray
    helix_counts: np.ndarray  # per helix
    places: dict[int, set[int]]
    projects: np.ndarray  # bool per project: a team member takes part
    partners: dict[int, frozenset[int]]  # team member -> its partners
    partner_mask: np.ndarray  # bool per organisation: a partner of a team member


def team_of(index: IdeaIndex, exclude: Sequence[str]) -> Team:
    """The team from organisation ids (unknown ids: BadInputError naming the id)."""
    members = []
    for oid in exclude:
        i = index.pos.get(oid)
        if i is None:
            raise BadInputError(f"unknown organisation {oid!r} in exclude", field="exclude")
        members.append(i)
    arr = np.array(sorted(set(members)), dtype=np.int64)
    counts = np.bincount(index.helix[arr], minlength=len(HELICES)) if len(arr) else np.zeros(len(HELICES))
    places = {length: {int(c) for c in index.places[length][arr] if c >= 0} for length in index.places}
    projects = np.zeros(len(index.project_ids), dtype=bool)
    partners: dict[int, frozenset[int]] = {}
    partner_mask = np.zeros(index.size, dtype=bool)
    for i in arr.tolist():
        projects[index.member.indices[index.member.indptr[i]:index.member.indptr[i + 1]]] = True
        row = index.adjacency.indices[index.adjacency.indptr[i]:index.adjacency.indptr[i + 1]]
        partners[i] = frozenset(row.tolist())
        partner_mask[row] = True
    return Team(members=arr, helix_counts=counts, places=places, projects=projects, partners=partners,
                partner_mask=partner_mask)


def validate(helix: str | None, urban_rural: str | None, nuts: str | None) -> None:
    if helix is not None and helix not in HELICES:
        raise BadInputError(f"unknown helix {helix!r} (one of {', '.join(HELICES)})", field="helix")
    if urban_rural is not None and urban_rural not in URBAN_RURAL:
        raise BadInputError(f"unknown urban-rural type {urban_rural!r} (one of {', '.join(URBAN_RURAL)})",
                            field="urban_rural")
    if nuts is not None and not is_nuts_code(nuts):
        raise BadInputError(f"not a NUTS or country code: {nuts!r}", field="nuts")


def features(index: IdeaIndex, weight: np.ndarray, team: Team) -> dict[str, np.ndarray]:
    """The score's features (FEATURES) for every organisation of the index, given project match weights."""
    n = index.size
    recent = weight * index.decay
    columns = [weight, recent] + ([np.where(team.projects, recent, 0.0)] if len(team.members) else [])
    sums = index.member @ np.stack(columns, axis=1)  # one pass over the memberships
    theme_sum, recent_sum = sums[:, 0], sums[:, 1]
    zeros = np.zeros(n)
    direct, two_hop, geography, team_theme = zeros, zeros, zeros, zeros
    helix = zeros
    if len(team.members):
        direct = np.asarray(index.recent_ties[team.members].sum(axis=0)).ravel()
        team_theme = sums[:, 2]
        team_theme[team.members] = 0.0
        two_hop = index.adjacency @ np.where(team.partner_mask, 1.0 / np.log(index.degree + 2.0), 0.0)
        present = team.helix_counts
        gap = np.array([(1.0 if present[i] == 0 else HELIX_PARTIAL if present[i] == 1 else 0.0)
                        if h in FOUR_HELICES else 0.0 for i, h in enumerate(HELICES)])
        helix = gap[index.helix]
        geography = np.zeros(n)
        for length, closeness in sorted(GEOGRAPHY_LEVELS):
            codes = team.places.get(length) or set()
            if codes:
                geography = np.where(np.isin(index.places[length], list(codes)), closeness, geography)
    return {"theme_recent": np.log1p(recent_sum), "theme_count": np.log1p(theme_sum),
            "specialisation": theme_sum / (index.projects + SIZE_SHRINK), "team_direct": np.log1p(direct),
            "team_two_hop": np.log1p(two_hop), "helix": helix, "geography": geography,
            "size": np.log1p(index.projects), "team_theme": np.log1p(team_theme),
            "active_recently": np.log1p(index.recent_projects), "_theme_sum": theme_sum, "_recent_sum": recent_sum,
            "_direct": direct}


def linear_score(feats: Mapping[str, np.ndarray], weights: IdeaWeights = IDEA_WEIGHTS) -> np.ndarray:
    total = np.full(len(feats["size"]), weights.bias)
    for name in FEATURES:
        coefficient = getattr(weights, name)
        if coefficient:
            total = total + coefficient * feats[name]
    return total


def candidates(index: IdeaIndex, feats: Mapping[str, np.ndarray], team: Team, *, helix: str | None,
               urban_rural: str | None, nuts: str | None) -> np.ndarray:
    """Organisations that may be suggested: active in a matching project, passing the filters, not in the team
    (a partner of the team with no project of the theme is no answer to the idea, however close)."""
    ok = feats["_theme_sum"] > 0
    if helix:
        ok &= index.mask("helix", helix)
    if urban_rural:
        ok &= index.mask("urban_rural", urban_rural)
    if nuts:
        ok &= index.mask("nuts", nuts_prefix(nuts))
    ok[team.members] = False
    return ok


def top(score: np.ndarray, ok: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best scores among `ok` (ties: index order, that is id order)."""
    pool = np.flatnonzero(ok)
    if len(pool) > k:
        part = np.argpartition(-score[pool], k - 1)[:k]
        cut = score[pool][part].min()
        pool = pool[score[pool] >= cut]
    order = np.lexsort((pool, -score[pool]))
    return pool[order][:k]


def partners_for_idea(index: IdeaIndex, *, topic: str | None = None, programme: str | None = None,
                      q: str | None = None, helix: str | None = None, urban_rural: str | None = None,
                      nuts: str | None = None, exclude: Sequence[str] = (), k: int = 20,
                      weights: IdeaWeights = IDEA_WEIGHTS) -> IdeaResult:
    """The k organisations to ask for an idea, best first, with their reasons (see the module's docstring)."""
    if not (topic or programme or q):
        raise BadInputError("say what the idea is about: a call topic, a programme (part) or keywords",
                            field="topic")
    validate(helix, urban_rural, nuts)
    if k < 1:
        raise BadInputError(f"k must be at least 1, not {k}", field="k")
    team = team_of(index, exclude)
    weight, notes = index.match(topic=topic, programme=programme, q=q)
    matched = int(np.count_nonzero(weight))
    if not matched:
        if not notes:
            notes.append(Note("nothing_together", "No stored project matches all of the idea's criteria together."))
        return IdeaResult(matched_projects=0, notes=tuple(notes), items=())
    feats = features(index, weight, team)
    ok = candidates(index, feats, team, helix=helix, urban_rural=urban_rural, nuts=nuts)
    linear = linear_score(feats, weights)
    score = expit(linear)
    chosen = top(linear, ok, k)  # ranked by the linear score: the sigmoid saturates, the order does not
    if not len(chosen):
        notes.append(Note("no_candidates", "No organisation passing the filters took part in a matching project."))
    items = tuple(_explain(index, weight, team, feats, int(j), float(score[j])) for j in chosen)
    return IdeaResult(matched_projects=matched, notes=tuple(notes), items=items)


def label(index: IdeaIndex, i: int) -> str:
    """An organisation's name, else its id with its helix and place."""
    org = index.orgs[i]
    if org.name and org.name != org.id:
        return org.name
    where = org.nuts3 or org.country
    return f"{org.id} ({org.helix}{', ' + where if where else ''})"


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _components(index: IdeaIndex, team: Team, feats: Mapping[str, np.ndarray], j: int) -> dict[str, float | None]:
    theme_sum = float(feats["_theme_sum"][j])
    has_team = bool(len(team.members))
    return {
        "theme": round(min(1.0, math.log1p(theme_sum) / math.log1p(THEME_CAP)), 4),
        "recency": round(min(1.0, float(feats["_recent_sum"][j]) / theme_sum), 4) if theme_sum else 0.0,
        "team": round(min(1.0, math.log1p(float(feats["_direct"][j])) / math.log1p(TEAM_CAP)), 4)
        if has_team else None,
        "helix": round(float(feats["helix"][j]), 4) if has_team else None,
        "geography": round(float(feats["geography"][j]), 4) if has_team else None,
    }


def _explain(index: IdeaIndex, weight: np.ndarray, team: Team, feats: Mapping[str, np.ndarray], j: int,
             score: float) -> IdeaPartner:
    org = index.orgs[j]
    texts: list[str] = []
    data: dict[str, Any] = {"ids": {}, "counts": {}}
    _explain_theme(index, weight, j, texts, data)
    if len(team.members):
        _explain_team(index, team, j, texts, data)
        _explain_helix(index, team, j, texts)
    return IdeaPartner(id=org.id, name=org.name, helix=org.helix, urban_rural=org.urban_rural, country=org.country,
                       nuts3=org.nuts3, score=round(score, 4), components=_components(index, team, feats, j),
                       reasons=tuple(texts), reason_data=data)


def _explain_theme(index: IdeaIndex, weight: np.ndarray, j: int, texts: list[str], data: dict[str, Any]) -> None:
    row = index.member.indices[index.member.indptr[j]:index.member.indptr[j + 1]]
    hits = row[weight[row] > 0]
    data["counts"]["matching_projects"] = len(hits)
    if not len(hits):
        return
    years = index.start_year[hits]
    order = np.lexsort((hits, -np.nan_to_num(years, nan=-1), -weight[hits]))
    named = [int(p) for p in hits[order][:MAX_NAMED]]
    data["ids"]["projects"] = [index.project_ids[p] for p in named]
    known = years[~np.isnan(years)]
    recent = int((known >= index.reference_year - 3).sum())
    data["counts"]["recent_matching_projects"] = recent
    labels = [index.labels[p] if index.labels[p] != index.project_ids[p] else f"project {index.project_ids[p]}"
              for p in named]
    latest = f", the latest starting in {int(known.max())}" if len(known) else ""
    many = "project" if len(hits) == 1 else "projects"
    texts.append(f"Took part in {len(hits)} {many} matching the idea{latest} ({_names(labels)}"
                 + (", ..." if len(hits) > MAX_NAMED else "") + ").")


def _explain_team(index: IdeaIndex, team: Team, j: int, texts: list[str], data: dict[str, Any]) -> None:
    shared = [int(t) for t in team.members if j in team.partners[int(t)]]
    if shared:
        row = index.member.indices[index.member.indptr[j]:index.member.indptr[j + 1]]
        count = int(team.projects[row].sum())
        data["ids"]["team_partners"] = [index.ids[t] for t in shared]
        data["counts"]["projects_with_team"] = count
        texts.append(f"Has worked with {_names([label(index, t) for t in shared[:MAX_NAMED]])} of the team "
                     f"({count} shared {'project' if count == 1 else 'projects'}).")
        return
    mine = index.adjacency.indices[index.adjacency.indptr[j]:index.adjacency.indptr[j + 1]]
    common = mine[team.partner_mask[mine]]
    if len(common):
        via = [int(w) for w in common[np.lexsort((common, -index.degree[common]))]]
        data["ids"]["via"] = [index.ids[w] for w in via[:MAX_NAMED]]
        data["counts"]["shared_partners"] = len(via)
        texts.append(f"Works with {_names([label(index, w) for w in via[:MAX_NAMED]])}, "
                     f"{'a partner' if len(via) == 1 else 'partners'} of the team.")


def _explain_helix(index: IdeaIndex, team: Team, j: int, texts: list[str]) -> None:
    h = int(index.helix[j])
    name = HELICES[h]
    if name in FOUR_HELICES and team.helix_counts[h] == 0:
        texts.append(f"Brings the {name.replace('_', ' ')} helix, which the team does not have yet.")
