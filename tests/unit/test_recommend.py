"""Partner recommendations (ecosystem.analysis.recommend): candidates, reasons, filters, favour option, newcomers."""

from __future__ import annotations

import csv
import gzip
import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from ecosystem.analysis.recommend import (
    CIVIL_BOOST,
    COUNTRY_SMOOTHING,
    DEFAULT_WEIGHTS,
    FEATURES,
    RURAL_BOOST,
    OrgInfo,
    ProjectInfo,
    RecommenderIndex,
    Weights,
    recommend,
    recommend_for_newcomer,
    score_candidates,
    top_positions,
    training_slice,
)
from ecosystem.domain.errors import BadInputError, NotFoundError

REPO = Path(__file__).resolve().parents[2]
FULL_TABLE = REPO / ".." / "shared" / "data" / "cordis" / "h2020_participations_full.csv.gz"

ORGS = [
    OrgInfo("A", "Alpha University", "academia", "urban", "DE", "DE111"),
    OrgInfo("B", "Beta GmbH", "industry", "urban", "DE", "DE112"),
    OrgInfo("C", "Gamma Ministry", "government", "intermediate", "FR", "FR101"),
    OrgInfo("D", "Delta Association", "civil_society", "rural", "DE", "DE113"),
    OrgInfo("E", "Epsilon SpA", "industry", "urban", "IT", "ITC11"),
    OrgInfo("F", "Phi Foundation", "civil_society", "rural", "FR", "FRB01"),
    OrgInfo("G", "Gimel Institute", "academia", "urban", "ES", "ES300"),
    OrgInfo("H", "Eta Lab", "academia", "urban", "NL", "NL329"),
    OrgInfo("I", "Iota AG", "industry", "rural", "DE", "DE114"),
    OrgInfo("J", "Jot Centre", "academia", "intermediate", "NL", "NL310"),
]
PROJECTS = [
    ProjectInfo("p1", 2016, ("HEALTH-1",), "SC1", "H2020"),
    ProjectInfo("p2", 2017, ("HEALTH-1",), "SC1", "H2020"),
    ProjectInfo("p3", 2018, ("HEALTH-2",), "SC1", "H2020"),
    ProjectInfo("p4", 2018, ("CLIMATE-1",), "SC5", "H2020"),
    ProjectInfo("p5", 2015, ("ICT-1",), "LEIT", "H2020"),
    ProjectInfo("p6", 2019, ("HEALTH-1",), "SC1", "H2020"),
    ProjectInfo("p7", 2019, ("ERC-STG",), "ERC", "H2020"),
    ProjectInfo("p8", 2019, ("ICT-1",), "LEIT", "H2020"),
    ProjectInfo("p9", 2019, ("ERC-ADG",), "ERC", "H2020"),
]
PARTICIPATIONS = [("p1", "A"), ("p1", "B"), ("p2", "A"), ("p2", "C"), ("p3", "B"), ("p3", "D"), ("p4", "C"),
                  ("p4", "D"), ("p5", "B"), ("p5", "E"), ("p6", "F"), ("p7", "H"), ("p8", "E"), ("p8", "I"),
                  ("p9", "J"), ("p9", "E")]
# G takes part in nothing; H has a project but no partner.


@pytest.fixture(scope="module")
def index() -> RecommenderIndex:
    return RecommenderIndex.build(ORGS, PROJECTS, PARTICIPATIONS)


def ids(recs: list) -> list[str]:  # type: ignore[type-arg]
    return [r.id for r in recs]


def test_recommendations_are_never_the_organisation_itself_or_a_current_partner(index: RecommenderIndex) -> None:
    recs = recommend(index, "A", k=20)
    assert recs
    assert not {"A", "B", "C"} & set(ids(recs))


def test_a_partner_of_several_partners_comes_first_and_its_shared_partners_are_named(
        index: RecommenderIndex) -> None:
    first = recommend(index, "A")[0]
    assert first.id == "D"
    names = {p["name"] for p in first.reason_data["shared_partners"]}
    assert names == {"Beta GmbH", "Gamma Ministry"}
    assert any("Beta GmbH" in text and "Gamma Ministry" in text for text in first.reasons)


def test_shared_programme_parts_and_topics_are_named_in_the_reasons(index: RecommenderIndex) -> None:
    phi = next(r for r in recommend(index, "A", k=20) if r.id == "F")
    assert phi.reason_data["shared_programme_parts"] == ["SC1"]
    assert phi.reason_data["shared_topics"] == ["HEALTH-1"]
    assert any("SC1" in text for text in phi.reasons)
    assert "shared_programmes" not in phi.reason_data  # every project is H2020: that explains nothing


def test_a_helix_missing_among_the_partners_is_named_as_filled(index: RecommenderIndex) -> None:
    delta = recommend(index, "A")[0]
    assert delta.reason_data["fills_helix"] == "civil_society"
    assert any("civil society helix, missing" in text for text in delta.reasons)
    industry = recommend(index, "A", helix="industry")
    assert industry and all(r.reason_data["fills_helix"] == "industry" for r in industry)


def test_every_recommendation_carries_a_reason_and_a_score_with_its_components(index: RecommenderIndex) -> None:
    for org in ORGS:
        for rec in recommend(index, org.id, k=20):
            assert rec.reasons and all(isinstance(text, str) and text for text in rec.reasons)
            assert 0 < rec.score <= 1
            assert set(rec.components) >= {"proximity", "thematic", "helix", "geography", "activity"}


def test_recent_activity_counts_the_projects_before_the_reference_year(index: RecommenderIndex) -> None:
    epsilon = next(r for r in recommend(index, "A", k=20, year=2020) if r.id == "E")
    assert epsilon.reason_data["recent_activity"] == {"last_year": 2019, "projects": 2, "years": [2017, 2019]}
    old = next(r for r in recommend(index, "A", k=20, year=2016) if r.id == "E")
    assert old.reason_data["recent_activity"]["projects"] == 1


@pytest.mark.parametrize("filters,allowed", [
    ({"helix": "civil_society"}, {"D", "F"}),
    ({"urban_rural": "rural"}, {"D", "F", "I"}),
    ({"country": "DE"}, {"D", "I"}),
    ({"nuts": "DE11"}, {"D", "I"}),
    ({"nuts": "DE113"}, {"D"}),
    ({"nuts": "FR"}, {"F"}),
    ({"nuts": "fr"}, {"F"}),
])
def test_filters_restrict_the_candidates(index: RecommenderIndex, filters: dict[str, str],
                                         allowed: set[str]) -> None:
    recs = recommend(index, "A", k=20, **filters)  # type: ignore[arg-type]
    assert recs and set(ids(recs)) <= allowed


def test_a_greek_country_code_matches_its_nuts_alias() -> None:
    orgs = [OrgInfo("x", "X", "academia", country="EL"), OrgInfo("y", "Y", "industry", country="EL"),
            OrgInfo("z", "Z", "industry", country="EL")]
    idx = RecommenderIndex.build(orgs, [ProjectInfo("p", 2019), ProjectInfo("q", 2019)],
                                 [("p", "x"), ("p", "y"), ("q", "y"), ("q", "z")])
    assert ids(recommend(idx, "x", country="GR")) == ["z"]


def test_bad_filter_values_and_unknown_organisations_are_refused(index: RecommenderIndex) -> None:
    with pytest.raises(BadInputError, match="helix"):
        recommend(index, "A", helix="university")
    with pytest.raises(BadInputError, match="urban-rural"):
        recommend(index, "A", urban_rural="suburban")
    with pytest.raises(BadInputError, match="NUTS"):
        recommend(index, "A", nuts="not a code")
    with pytest.raises(NotFoundError):
        recommend(index, "nobody")


def test_favouring_rural_and_civil_society_multiplies_their_scores_and_reranks() -> None:
    # u works with w; w works with both a busy urban firm (m) and a small rural association (r).
    orgs = [OrgInfo("u", "U", "academia", "urban", "DE", "DE111"), OrgInfo("w", "W", "academia", "urban", "DE"),
            OrgInfo("m", "Mega Corp", "industry", "urban", "DE", "DE212"),
            OrgInfo("r", "Rural Assoc", "civil_society", "rural", "DE", "DE213"),
            OrgInfo("v", "Village Ltd", "industry", "rural", "DE", "DE214")]
    projects = [ProjectInfo(f"p{i}", 2019, (), "SC2", "H2020") for i in range(8)]
    parts = [("p0", "u"), ("p0", "w"), ("p1", "w"), ("p1", "m"), ("p1", "r"), ("p1", "v")]
    parts += [(f"p{i}", "m") for i in range(2, 4)]  # m is more active
    idx = RecommenderIndex.build(orgs, projects, parts)
    plain = {r.id: r for r in recommend(idx, "u", k=5)}
    favoured = recommend(idx, "u", k=5, favour_rural_civil=True)
    assert ids(recommend(idx, "u", k=5))[0] == "m"
    assert ids(favoured)[0] == "r"
    by_id = {r.id: r for r in favoured}
    assert by_id["r"].score == pytest.approx(plain["r"].score * RURAL_BOOST * CIVIL_BOOST, rel=1e-5)
    assert by_id["v"].score == pytest.approx(plain["v"].score * RURAL_BOOST, rel=1e-5)
    assert by_id["m"].score == pytest.approx(plain["m"].score, rel=1e-5)
    assert by_id["r"].reason_data["favoured"] == ["rural", "civil society"]
    assert by_id["r"].components["favour_multiplier"] == RURAL_BOOST * CIVIL_BOOST


def test_a_newcomer_with_projects_but_no_partners_gets_recommendations_from_its_themes(
        index: RecommenderIndex) -> None:
    recs = recommend(index, "H")
    assert recs
    # the two other ERC grantees first: J in the same country, E (industry, the helix H lacks, more active)
    assert {r.id for r in recs[:2]} == {"E", "J"}
    assert all(r.reason_data["shared_programme_parts"] == ["ERC"] for r in recs[:2])
    assert not any("shared_partners" in r.reason_data for r in recs[:2])


def test_a_newcomer_with_no_projects_gets_recommendations_from_its_helix_and_place(
        index: RecommenderIndex) -> None:
    recs = recommend(index, "G", k=20)
    assert recs and "G" not in ids(recs)
    assert all(r.reasons for r in recs)
    assert all(r.helix != "academia" or "fills_helix" not in r.reason_data for r in recs)


def test_an_organisation_unknown_to_the_graph_gets_recommendations_from_its_profile(
        index: RecommenderIndex) -> None:
    profile = OrgInfo("new", "Newcomer", "industry", "rural", "FR", "FRB02")
    recs = recommend_for_newcomer(index, profile, topics=["HEALTH-1"], programme_parts=["SC1"])
    assert recs
    assert recs[0].id in {"A", "F"}
    f = next(r for r in recs if r.id == "F")
    assert f.reason_data["shared_topics"] == ["HEALTH-1"]
    assert f.reason_data["geography"].startswith("rural partner in the same NUTS2 region")


def test_recommendations_are_deterministic_and_ties_are_broken_by_id() -> None:
    orgs = [OrgInfo(i, i.upper(), "industry", "urban", "DE") for i in ("hub", "b2", "b1", "b3")]
    parts = [("p", "hub"), ("p", "b1"), ("q", "hub"), ("q", "b2"), ("r", "hub"), ("r", "b3")]
    projects = [ProjectInfo(p, 2019) for p in "pqr"]
    first = [r.as_dict() for r in recommend(RecommenderIndex.build(orgs, projects, parts), "b1")]
    assert [r["id"] for r in first] == ["b2", "b3"]
    rng = random.Random(7)
    for _ in range(5):
        shuffled_orgs, shuffled_parts = orgs[:], parts[:]
        rng.shuffle(shuffled_orgs)
        rng.shuffle(shuffled_parts)
        again = RecommenderIndex.build(shuffled_orgs, projects, shuffled_parts)
        assert [r.as_dict() for r in recommend(again, "b1")] == first


def test_top_positions_keep_the_best_scores_and_break_ties_by_position() -> None:
    score = np.array([0.5, -np.inf, 0.9, 0.5, 0.5, 0.1])
    assert top_positions(score, 3).tolist() == [2, 0, 3]
    assert top_positions(score, 10).tolist() == [2, 0, 3, 4, 5]
    assert top_positions(np.full(3, -np.inf), 3).tolist() == []


def test_the_training_slice_drops_every_project_starting_after_the_last_year() -> None:
    kept, parts = training_slice(PROJECTS + [ProjectInfo("undated")], PARTICIPATIONS + [("undated", "A")],
                                 last_year=2017)
    assert {p.id for p in kept} == {"p1", "p2", "p5"}
    assert set(parts) == {("p1", "A"), ("p1", "B"), ("p2", "A"), ("p2", "C"), ("p5", "B"), ("p5", "E")}
    idx = RecommenderIndex.build([o for o in ORGS if o.id in {oid for _, oid in parts}], kept, parts)
    assert set(idx.ids) == {"A", "B", "C", "E"}  # D, F, H, I, J only work in 2018+
    assert not any(t.endswith(("SC5", "ERC", "HEALTH-2", "CLIMATE-1")) for t in idx.terms)
    assert idx.reference_year == 2018
    assert "D" not in ids(recommend(idx, "A", k=20))


def test_weights_change_the_ranking_as_documented(index: RecommenderIndex) -> None:
    zero = {name: 0.0 for name in FEATURES}
    only_last_year = Weights(**{**zero, "bias": 0.0, "activity_last_year": 1.0})
    scores = score_candidates(index, "A", weights=only_last_year, year=2020)
    assert [index.ids[int(j)] for j in top_positions(scores, 2)] == ["E", "F"]  # E: 2 projects in 2019, F: 1
    scores = score_candidates(index, "A", weights=only_last_year, year=2016)
    assert [index.ids[int(j)] for j in top_positions(scores, 1)] == ["E"]  # the only one active in 2015
    only_proximity = Weights(**{**zero, "bias": 0.0, "adamic_adar": 1.0})
    assert index.ids[int(top_positions(score_candidates(index, "A", weights=only_proximity), 1)[0])] == "D"


def test_the_default_score_is_a_probability_like_value_from_frozen_coefficients(index: RecommenderIndex) -> None:
    recs = recommend(index, "A", k=20)
    assert all(0 < r.score < 1 for r in recs)
    assert DEFAULT_WEIGHTS.adamic_adar > 0 and DEFAULT_WEIGHTS.thematic > 0 and DEFAULT_WEIGHTS.helix > 0


def read_slice(rows: int) -> tuple[list[OrgInfo], list[ProjectInfo], list[tuple[str, str]]]:
    """The first `rows` rows of the real H2020 participation table as recommender records."""
    helix = {"HES": "academia", "REC": "academia", "PRC": "industry", "PUB": "government", "OTH": "civil_society"}
    orgs: dict[str, OrgInfo] = {}
    years: dict[str, int | None] = {}
    pairs = []
    with gzip.open(FULL_TABLE, "rt", encoding="utf-8", newline="") as fh:
        for row in itertools.islice(csv.DictReader(fh), rows):
            orgs.setdefault(row["pic"], OrgInfo(row["pic"], f"org {row['pic']}", helix.get(row["type"], "unknown"),
                                                country=row["country"]))
            years[row["rcn"]] = int(row["start_year"]) if row["start_year"].isdigit() else None
            pairs.append((row["rcn"], row["pic"]))
    projects = [ProjectInfo(rcn, year, programme="H2020") for rcn, year in years.items()]
    return list(orgs.values()), projects, pairs


def test_on_a_slice_of_the_real_table_recommendations_are_explained_non_partners() -> None:
    if not FULL_TABLE.exists():
        from tests.conftest import require

        require(False, "the shared H2020 participation table is missing")
    orgs, projects, pairs = read_slice(6000)
    idx = RecommenderIndex.build(orgs, projects, pairs)
    partners: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for pid, oid in pairs:
        members.setdefault(pid, set()).add(oid)
    for group in members.values():
        for oid in group:
            partners.setdefault(oid, set()).update(group - {oid})
    busy = sorted(partners, key=lambda o: (-len(partners[o]), o))[:15]
    with_shared = 0
    for oid in busy:
        recs = recommend(idx, oid)
        assert len(recs) == 10
        assert not set(ids(recs)) & (partners[oid] | {oid})
        assert [r.score for r in recs] == sorted((r.score for r in recs), reverse=True)
        assert all(r.reasons for r in recs)
        for r in recs:
            for shared in r.reason_data.get("shared_partners", []):
                assert shared["id"] in partners[oid] and shared["id"] in partners[r.id]
                assert shared["name"] == f"org {shared['id']}"
        with_shared += any("shared_partners" in r.reason_data for r in recs)
        assert ids(recommend(idx, oid)) == ids(recs)
    assert with_shared == len(busy)


def test_favoured_first_keeps_every_second_place_for_favoured_candidates() -> None:
    from ecosystem.analysis.recommend import _favoured_first

    score = np.array([0.9, 0.8, 0.7, 0.6, 0.05, 0.04, 0.5, 0.03])
    boosts = np.array([1.0, 1.0, 1.0, 1.0, 1.5, 2.25, 1.0, 1.5])
    order = _favoured_first(score, boosts, 6).tolist()
    assert order == [0, 4, 1, 5, 2, 7]
    # each group keeps its own order, and a favoured candidate that scores best simply comes first
    boosts[0] = 1.5
    assert _favoured_first(score, boosts, 4).tolist() == [0, 1, 2, 4]
    # no favoured candidate: plain order
    assert _favoured_first(score, np.ones(8), 4).tolist() == [0, 1, 2, 3]


def test_the_hubs_are_the_top_one_percent_by_partners_with_ties_at_the_cut(index: RecommenderIndex) -> None:
    hubs = index.hubs()
    # ten organisations: the top 1% is one, B and E share the most partners (3), so both are hubs
    assert (hubs.threshold, hubs.count) == (3, 2)
    assert {index.ids[j] for j in np.flatnonzero(hubs.mask)} == {"B", "E"}
    assert hubs.as_dict() == {"share": 0.01, "min_partners": 3, "organisations": 2}


def test_leaving_out_hubs_cuts_the_candidates_before_the_k_best_are_taken(index: RecommenderIndex) -> None:
    plain = ids(recommend(index, "D", k=20))
    assert {"E"} & set(plain)
    without = ids(recommend(index, "D", k=20, exclude_hubs=True))
    assert without == [o for o in plain if o not in {"B", "E"}]
    # k = 2 still gives two non-hubs, even though a hub would rank among the first two
    assert ids(recommend(index, "D", k=2, exclude_hubs=True)) == without[:2]
    assert not np.isfinite(score_candidates(index, "D", exclude_hubs=True)[index.pos["E"]])


def test_reasons_name_organisations_without_a_name_by_id_helix_and_place() -> None:
    orgs = [OrgInfo("111", "111", "academia", "urban", "DE", "DE111"), OrgInfo("222", "222", "civil_society"),
            OrgInfo("333", "Known Name GmbH", "industry", "rural", "FR", "FRB01")]
    projects = [ProjectInfo("p1", 2018), ProjectInfo("p2", 2019)]
    index = RecommenderIndex.build(orgs, projects, [("p1", "111"), ("p1", "222"), ("p2", "222"), ("p2", "333")])
    rec = recommend(index, "111")[0]
    assert rec.id == "333"
    assert "Works with your partner 222 (civil society, place unknown)" in rec.reasons
    assert rec.reason_data["shared_partners"][0]["id"] == "222"  # the data keeps the id
    back = recommend(index, "333")[0]
    assert "Works with your partner 222 (civil society, place unknown)" in back.reasons
    assert not recommend(index, "222")  # both others are its partners already


def test_an_organisation_with_few_projects_is_told_on_what_its_suggestions_rest(index: RecommenderIndex) -> None:
    for rec in recommend(index, "H", k=5):  # one project, no partner
        assert rec.reason_data["basis"]["your_projects"] == 1
        assert rec.reasons[-1].startswith("Rests on little: you have 1 project in the graph")
    assert all("basis" not in r.reason_data for r in recommend(index, "E", k=5))  # three projects: enough


def test_excluded_organisations_are_never_suggested(index: RecommenderIndex) -> None:
    assert "D" in ids(recommend(index, "A", k=20))
    assert "D" not in ids(recommend(index, "A", k=20, exclude=["D"]))


def test_a_graph_without_themes_has_no_thematic_component_and_scores_without_it() -> None:
    from ecosystem.analysis.recommend import THEMELESS_WEIGHTS, weights_for

    bare = [ProjectInfo(p.id, p.start_year, programme="H2020") for p in PROJECTS]  # one theme for all
    plain = RecommenderIndex.build(ORGS, bare, PARTICIPATIONS)
    themed = RecommenderIndex.build(ORGS, PROJECTS, PARTICIPATIONS)
    assert not plain.has_themes and themed.has_themes
    assert weights_for(plain) is THEMELESS_WEIGHTS and weights_for(themed) is DEFAULT_WEIGHTS
    assert THEMELESS_WEIGHTS.thematic == 0 and THEMELESS_WEIGHTS.theme_activity == 0
    for org in ORGS:
        for rec in recommend(plain, org.id, k=20):
            assert rec.components["thematic"] is None
            assert not {"shared_topics", "shared_programme_parts", "shared_programmes"} & set(rec.reason_data)
    assert any(r.components["thematic"] for r in recommend(themed, "A", k=20))
    expected = score_candidates(plain, "A", weights=THEMELESS_WEIGHTS)
    assert np.array_equal(score_candidates(plain, "A"), expected)


def test_countries_that_work_together_often_rank_up_and_are_named_as_a_reason() -> None:
    # 20 German-French pairs, two Italian pairs, and the asker (DE) with one German partner
    orgs = [OrgInfo("a", "Asker", "academia", "unknown", "DE"),
            *(OrgInfo(f"d{i:02}", f"D{i}", "industry", "unknown", "DE") for i in range(20)),
            *(OrgInfo(f"f{i:02}", f"F{i}", "industry", "unknown", "FR") for i in range(20)),
            *(OrgInfo(f"i{i}", f"I{i}", "industry", "unknown", "IT") for i in range(4))]
    pairs = [("p", "a"), ("p", "d00"), ("q0", "i0"), ("q0", "i1"), ("q1", "i2"), ("q1", "i3"),
             *((f"p{i}", f"{c}{i:02}") for i in range(20) for c in "df")]
    idx = RecommenderIndex.build(orgs, [ProjectInfo(pid, 2016) for pid in sorted({p for p, _ in pairs})], pairs)
    de, fr, it = (idx.place_codes[2][c] for c in ("DE", "FR", "IT"))
    # ties (each counted from both sides): DE-FR 20, DE-DE 2, IT-IT 4; DE 22, FR 20, IT 4 of 46 in all
    lift = (20 + COUNTRY_SMOOTHING) / (22 * 20 / 46 + COUNTRY_SMOOTHING)
    assert np.exp(idx.country_lift[de, fr]) == pytest.approx(lift) and lift >= 1.5
    assert idx.country_lift[de, de] < idx.country_lift[de, it] < 0 < idx.country_lift[de, fr]
    zero = {name: 0.0 for name in FEATURES}
    only_countries = Weights(**{**zero, "bias": 0.0, "country_affinity": 1.0})
    ranked = [idx.ids[int(j)] for j in top_positions(score_candidates(idx, "a", weights=only_countries), 43)]
    assert [o[0] for o in ranked] == ["f"] * 20 + ["i"] * 4 + ["d"] * 19
    recs = {r.id: r for r in recommend(idx, "a", k=43, weights=only_countries)}
    assert recs["f05"].reason_data["country_affinity"] == {"countries": ["DE", "FR"], "times_expected": round(lift, 1)}
    assert "Organisations in DE and FR work together often" in " ".join(recs["f05"].reasons)
    assert "country_affinity" not in recs["i0"].reason_data and "country_affinity" not in recs["d05"].reason_data
