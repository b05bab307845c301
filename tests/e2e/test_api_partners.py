"""The partner finder through the real HTTP server on the sample graph: hubs left out by the API itself."""

from __future__ import annotations

import httpx
import pytest

UCPH = "999991043"  # KOBENHAVNS UNIVERSITET in the CORDIS sample


@pytest.fixture(scope="module")
def api(server: str):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


def partner_count(api: httpx.Client, org_id: str) -> int:
    return len(api.get(f"/api/v1/organisations/{org_id}", params={"partners_limit": 1000}).json()["partners"])


def test_exclude_hubs_states_the_cut_and_keeps_k_suggestions_below_it(api: httpx.Client) -> None:
    plain = api.get(f"/api/v1/organisations/{UCPH}/recommendations", params={"k": 10}).json()
    assert plain["exclude_hubs"] is False and plain["hubs"] is None
    body = api.get(f"/api/v1/organisations/{UCPH}/recommendations", params={"k": 10, "exclude_hubs": True}).json()
    cut = body["hubs"]
    assert body["exclude_hubs"] is True and cut["share"] == 0.01
    assert cut["min_partners"] >= 1 and cut["organisations"] >= 1
    assert len(body["items"]) == 10
    for item in body["items"]:
        assert partner_count(api, item["id"]) < cut["min_partners"]
    hubs_in_plain = [i["id"] for i in plain["items"] if partner_count(api, i["id"]) >= cut["min_partners"]]
    assert not set(hubs_in_plain) & {i["id"] for i in body["items"]}
    assert api.get(f"/api/v1/organisations/{UCPH}/recommendations",
                   params={"exclude_hubs": "perhaps"}).status_code == 422


# -- partners for an idea -----------------------------------------------------------------------------------------

def test_partners_for_a_call_topic_through_http(api: httpx.Client) -> None:
    r = api.get("/api/v1/partners", params={"topic": "ECSEL-2016-2", "k": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["matched_projects"] == 2 and len(body["items"]) == 5
    assert set(body["query"]) == {"topic", "programme", "q", "helix", "urban_rural", "nuts", "exclude", "k"}
    for item in body["items"]:
        assert {"id", "name", "helix", "urban_rural", "country", "nuts3", "score", "components", "reasons",
                "reason_data"} <= set(item)
        assert item["reasons"] and 0 <= item["score"] <= 1
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_exclude_is_repeated_or_comma_separated_and_never_suggested(api: httpx.Client) -> None:
    first = api.get("/api/v1/partners", params={"topic": "ECSEL-2016-2", "k": 3}).json()["items"]
    team = [first[0]["id"], first[1]["id"]]
    repeated = api.get("/api/v1/partners", params=[("topic", "ECSEL-2016-2"), ("exclude", team[0]),
                                                   ("exclude", team[1])]).json()
    commas = api.get("/api/v1/partners", params={"topic": "ECSEL-2016-2", "exclude": ",".join(team)}).json()
    assert repeated == commas
    assert repeated["query"]["exclude"] == team
    assert not set(team) & {i["id"] for i in repeated["items"]}
    assert repeated["items"][0]["components"]["team"] is not None


def test_keywords_and_helix_filter_through_http(api: httpx.Client) -> None:
    body = api.get("/api/v1/partners", params={"q": "rail", "helix": "industry", "k": 100}).json()
    assert body["matched_projects"] >= 1 and body["items"]
    assert {i["helix"] for i in body["items"]} == {"industry"}


@pytest.mark.parametrize(("params", "status", "words"), [
    ({}, 422, "topic"),
    ({"q": "rail", "helix": "alien"}, 422, "helix"),
    ({"q": "rail", "urban_rural": "suburb"}, 422, "urban_rural"),
    ({"q": "rail", "k": 0}, 422, "k"),
    ({"q": "rail", "k": 101}, 422, "k"),
    ({"q": "rail", "exclude": "no-such-org"}, 422, "no-such-org"),
    ({"q": "rail", "nuts": "ZZ9"}, 404, "ZZ9"),
    ({"q": "rail", "nuts": "not-a-code"}, 422, "nuts"),
    ({"q": "rail", "exclude": ",".join(["x"] * 51)}, 422, "at most 50"),
])
def test_bad_idea_requests_are_4xx_with_a_message(api: httpx.Client, params: dict[str, object], status: int,
                                                  words: str) -> None:
    r = api.get("/api/v1/partners", params=params)  # type: ignore[arg-type]
    assert r.status_code == status, r.text
    assert words in r.text


def test_an_idea_matching_nothing_is_an_empty_answer_with_a_note(api: httpx.Client) -> None:
    body = api.get("/api/v1/partners", params={"programme": "SC1"}).json()
    assert body["items"] == [] and body["notes"] and body["matched_projects"] == 0
