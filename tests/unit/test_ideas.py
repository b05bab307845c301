"""Partners for an idea (ecosystem.analysis.ideas): theme matching, recency, team proximity, helix, filters, errors."""

from __future__ import annotations

import numpy as np
import pytest

from ecosystem.analysis.ideas import (
    HALF_MATCH,
    HELIX_PARTIAL,
    IDEA_WEIGHTS,
    IdeaIndex,
    IdeaWeights,
    partners_for_idea,
    topic_stem,
    words,
)
from ecosystem.analysis.recommend import OrgInfo, ProjectInfo
from ecosystem.domain.errors import BadInputError

ORGS = [
    OrgInfo("A", "Alpha University", "academia", "urban", "DE", "DE111"),
    OrgInfo("B", "Beta GmbH", "industry", "urban", "DE", "DE112"),
    OrgInfo("C", "Gamma Ministry", "government", "intermediate", "FR", "FR101"),
    OrgInfo("D", "Delta Association", "civil_society", "rural", "DE", "DE113"),
    OrgInfo("E", "Epsilon SpA", "industry", "urban", "IT", "ITC11"),
    OrgInfo("F", "Phi Foundation", "civil_society", "rural", "FR", "FRB01"),
    OrgInfo("G", "Gimel Institute", "academia", "urban", "ES", "ES300"),
    OrgInfo("H", "H", "academia", "urban", "NL", "NL329"),  # no name: labelled by id, helix and place
]
PROJECTS = [
    ProjectInfo("p1", 2012, ("SC1-PM-08-2014",), "SC1", "H2020"),
    ProjectInfo("p2", 2019, ("SC1-PM-08-2017",), "SC1", "H2020"),
    ProjectInfo("p3", 2019, ("SC1-PM-08-2017",), "SC1", "H2020"),
    ProjectInfo("p4", 2019, ("LC-CLA-01-2019",), "SC5", "H2020"),
    ProjectInfo("p5", 2018, ("ICT-01-2018",), "LEIT;SC1", "H2020"),
    ProjectInfo("p6", 2019, ("ERC-STG",), "ERC", "H2020"),
]
TEXTS = {"p1": ["OLDHEAL", "Ageing well at home"], "p2": ["HEALTHYCITY", "Healthy ageing in cities"],
         "p3": ["CARE4ALL", "Integrated care for older people"],
         "p4": ["CLIMRISK", "Climate risk for rural municipalities"],
         "p5": ["SMARTHOME", "Smart sensors for healthy ageing", "Internet of things for ageing well"],
         "p6": ["ÆGIR", "Água and Łódź: a river study"]}
PARTICIPATIONS = [("p1", "A"), ("p1", "E"), ("p2", "B"), ("p2", "C"), ("p3", "B"), ("p3", "D"), ("p3", "C"),
                  ("p4", "C"), ("p4", "F"), ("p5", "A"), ("p5", "B"), ("p6", "G"), ("p6", "H")]


@pytest.fixture(scope="module")
def index() -> IdeaIndex:
    return IdeaIndex.build(ORGS, PROJECTS, PARTICIPATIONS, TEXTS)


def ids(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.id for item in result.items]


def test_words_and_topic_stems_fold_case_accents_and_years() -> None:
    assert words("Água and the Łódź river") == ["agua", "lodz", "river"]
    assert topic_stem("sc1-pm-08-2017") == "SC1-PM-08"
    assert topic_stem("ERC-STG") == "ERC-STG"


def test_a_call_topic_matches_its_projects_and_the_same_topic_of_another_year_at_half(index: IdeaIndex) -> None:
    weight, notes = index.match(topic="SC1-PM-08-2017")
    by_id = dict(zip(index.project_ids, weight, strict=True))
    assert by_id["p2"] == by_id["p3"] == 1.0
    assert by_id["p1"] == HALF_MATCH
    assert by_id["p4"] == by_id["p5"] == 0.0
    assert notes == []
    result = partners_for_idea(index, topic="SC1-PM-08-2017")
    assert result.matched_projects == 3
    assert ids(result)[:2] == ["B", "C"]  # two recent projects of the topic each, before D (one)
    assert set(ids(result)) == {"A", "B", "C", "D", "E"}  # A and E: the older topic year only
    assert ids(result).index("D") < ids(result).index("A")


def test_recent_projects_count_more_than_old_ones(index: IdeaIndex) -> None:
    # A: p1 (2012, half match through the same topic) ; D: p3 (2019, full match) -> D first
    result = partners_for_idea(index, topic="SC1-PM-08-2017", k=10)
    scores = {i.id: i.score for i in result.items}
    assert scores["D"] > scores["A"]
    d = next(i for i in result.items if i.id == "D")
    assert d.components["recency"] == 1.0 and d.components["team"] is None
    assert "HEALTHYCITY" not in " ".join(d.reasons) and "CARE4ALL" in " ".join(d.reasons)


def test_a_programme_part_matches_projects_holding_it_among_several(index: IdeaIndex) -> None:
    weight, _ = index.match(programme="sc1")
    assert dict(zip(index.project_ids, weight, strict=True))["p5"] == 1.0  # "LEIT;SC1"
    weight, _ = index.match(programme="SC1;SC5")
    by_id = dict(zip(index.project_ids, weight, strict=True))
    assert by_id["p4"] == 0.5 and by_id["p2"] == 0.5 and by_id["p6"] == 0.0
    weight, _ = index.match(programme="H2020")  # a framework programme
    assert weight.all()
    weight, notes = index.match(programme="LEIT-ICT")  # a sub-part the store does not hold: its part
    assert dict(zip(index.project_ids, weight, strict=True))["p5"] == 1.0 and "'LEIT'" in notes[0].text


def test_keywords_match_titles_acronyms_and_topic_titles_folded_and_by_prefix(index: IdeaIndex) -> None:
    result = partners_for_idea(index, q="HEALTHY Ageing")
    assert result.matched_projects == 3  # p1 (ageing), p2 (healthy, ageing), p5 (healthy, ageing)
    assert partners_for_idea(index, q="lodz agua").matched_projects == 1
    assert partners_for_idea(index, q="municipal").matched_projects == 1  # prefix of "municipalities"
    assert set(ids(partners_for_idea(index, q="municipal"))) == {"C", "F"}


def test_several_criteria_must_all_match(index: IdeaIndex) -> None:
    assert partners_for_idea(index, programme="SC1", q="ageing").matched_projects == 3
    assert partners_for_idea(index, programme="SC5", q="ageing").matched_projects == 0


def test_the_team_is_never_suggested_and_its_partners_come_first(index: IdeaIndex) -> None:
    alone = partners_for_idea(index, programme="SC1", k=10)
    assert "A" in ids(alone)
    teamed = partners_for_idea(index, programme="SC1", exclude=["A"], k=10)
    assert "A" not in ids(teamed)
    # B worked with A (p5); C and D are partners of B (partners of the team's partner); E worked with A long ago
    b = next(i for i in teamed.items if i.id == "B")
    assert ids(teamed)[0] == "B"
    assert any("Alpha University" in r for r in b.reasons)
    assert b.reason_data["ids"]["team_partners"] == ["A"]
    assert b.components["team"] is not None and b.components["team"] > 0
    d = next(i for i in teamed.items if i.id == "D")
    assert any("Beta GmbH" in r for r in d.reasons) and d.reason_data["ids"]["via"] == ["B"]


def test_team_proximity_moves_a_candidate_up(index: IdeaIndex) -> None:
    # F has one SC5 project with C: with C in the team F outranks itself without a team
    without = partners_for_idea(index, programme="SC5;SC1", k=10)
    with_team = partners_for_idea(index, programme="SC5;SC1", exclude=["C"], k=10)
    assert ids(with_team).index("F") < ids(without).index("F")


def test_helix_the_team_lacks_is_named(index: IdeaIndex) -> None:
    result = partners_for_idea(index, programme="SC1", exclude=["B"], k=10)
    d = next(i for i in result.items if i.id == "D")
    assert d.components["helix"] == 1.0
    assert any("civil society helix" in r for r in d.reasons)
    a = next(i for i in result.items if i.id == "A")
    assert a.components["helix"] == 1.0  # academia: the team (industry) has none
    more = partners_for_idea(index, programme="SC1", exclude=["B", "G"], k=10)  # G: academia in the team
    a = next(i for i in more.items if i.id == "A")
    assert a.components["helix"] == HELIX_PARTIAL
    assert not any("helix" in r for r in a.reasons)


def test_filters_restrict_candidates(index: IdeaIndex) -> None:
    assert ids(partners_for_idea(index, programme="SC1", helix="civil_society")) == ["D"]
    assert set(ids(partners_for_idea(index, programme="SC1", urban_rural="urban"))) == {"A", "B", "E"}
    assert set(ids(partners_for_idea(index, programme="SC1", nuts="DE1"))) == {"A", "B", "D"}
    assert ids(partners_for_idea(index, programme="SC1", nuts="FR")) == ["C"]
    assert partners_for_idea(index, programme="SC1", nuts="PL").items == ()


def test_scores_and_components_are_in_range_and_ordered(index: IdeaIndex) -> None:
    result = partners_for_idea(index, q="ageing care health", exclude=["A"], k=20)
    scores = [i.score for i in result.items]
    assert scores == sorted(scores, reverse=True)
    for item in result.items:
        assert 0.0 <= item.score <= 1.0
        assert all(v is None or 0.0 <= v <= 1.0 for v in item.components.values())
        assert item.reasons


def test_an_organisation_without_a_name_is_labelled_by_id_helix_and_place(index: IdeaIndex) -> None:
    result = partners_for_idea(index, programme="ERC", exclude=["H"])
    g = result.items[0]
    assert g.id == "G" and any("H (academia, NL329)" in r for r in g.reasons)


def test_weights_change_the_ranking(index: IdeaIndex) -> None:
    team_heavy = IdeaWeights(team_direct=100.0)
    theme_heavy = IdeaWeights(team_direct=0.0, team_two_hop=0.0, geography=0.0, helix=0.0, theme_count=5.0)
    # with E in the team: A shares E's old project; B and C have two recent projects of the topic
    first_team = ids(partners_for_idea(index, topic="SC1-PM-08-2017", exclude=["E"], weights=team_heavy))[0]
    first_theme = ids(partners_for_idea(index, topic="SC1-PM-08-2017", exclude=["E"], weights=theme_heavy))[0]
    assert first_team == "A" and first_theme == "B"
    assert IDEA_WEIGHTS.team_direct > 0


def test_no_match_gives_no_items_and_a_note(index: IdeaIndex) -> None:
    result = partners_for_idea(index, topic="NOPE-01-2020")
    assert result.items == () and result.matched_projects == 0
    assert "NOPE-01-2020" in result.notes[0].text
    result = partners_for_idea(index, programme="SC9")
    assert result.items == () and "SC9" in result.notes[0].text and "SC1" in result.notes[0].text


def test_without_texts_or_topics_the_answer_says_so() -> None:
    bare = IdeaIndex.build(ORGS, [ProjectInfo(p.id, p.start_year, (), p.programme_part, p.programme)
                                  for p in PROJECTS], PARTICIPATIONS)
    result = partners_for_idea(bare, q="ageing")
    assert result.items == () and "no texts" in result.notes[0].text
    assert "no call topics" in partners_for_idea(bare, topic="SC1-PM-08-2017").notes[0].text
    assert partners_for_idea(bare, programme="SC1").items


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "topic"),
    ({"programme": "SC1", "helix": "alien"}, "helix"),
    ({"programme": "SC1", "urban_rural": "suburb"}, "urban_rural"),
    ({"programme": "SC1", "nuts": "not a code"}, "nuts"),
    ({"programme": "SC1", "exclude": ["ZZZ"]}, "exclude"),
    ({"programme": "SC1", "k": 0}, "k"),
])
def test_bad_input_names_the_field(index: IdeaIndex, kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BadInputError) as err:
        partners_for_idea(index, **kwargs)
    assert err.value.field == field


def test_ties_are_broken_by_id(index: IdeaIndex) -> None:
    result = partners_for_idea(index, programme="ERC")
    assert ids(result) == ["G", "H"] and result.items[0].score == result.items[1].score
    assert np.isclose(result.items[0].score, result.items[1].score)
