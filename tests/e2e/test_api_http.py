"""The HTTP API through a real `helixmap serve` process on the real sample data."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.fixture(scope="module")
def api(server: str):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


def test_search_finds_names_whatever_their_letters(api: httpx.Client) -> None:
    body = api.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()
    assert body["total"] >= 1 and body["items"][0]["name"] == "KOBENHAVNS UNIVERSITET"
    estonian = api.get("/api/v1/organisations", params={"q": "tehnikaulikool"}).json()
    assert [i["name"] for i in estonian["items"]] == ["TALLINNA TEHNIKAÜLIKOOL"]
    german = api.get("/api/v1/organisations", params={"q": "GEMEINNUTZIGE"}).json()
    assert any("gemeinnützige" in i["name"] for i in german["items"])


def test_search_ignores_accents_and_case(api: httpx.Client) -> None:
    accented = api.get("/api/v1/organisations", params={"q": "Agència"}).json()
    plain = api.get("/api/v1/organisations", params={"q": "AGENCIA"}).json()
    assert accented["total"] >= 1
    assert {i["id"] for i in accented["items"]} <= {i["id"] for i in plain["items"]}


def test_search_filters_by_helix_country_region_and_urban_rural_type(api: httpx.Client) -> None:
    all_de = api.get("/api/v1/organisations", params={"country": "DE", "limit": 500}).json()
    assert all_de["total"] > 0 and all(i["country"] == "DE" for i in all_de["items"])
    academia = api.get("/api/v1/organisations", params={"nuts": "DE", "helix": "academia", "limit": 500}).json()
    assert 0 < academia["total"] < all_de["total"]
    assert all(i["helix"] == "academia" for i in academia["items"])
    nuts2 = api.get("/api/v1/organisations", params={"nuts": "DE21", "limit": 500}).json()
    assert nuts2["total"] > 0 and all(i["nuts3"].startswith("DE21") for i in nuts2["items"])
    rural = api.get("/api/v1/organisations", params={"urban_rural": "rural", "limit": 500}).json()
    assert rural["total"] > 0 and all(i["urban_rural"] == "rural" for i in rural["items"])


def test_search_pages_through_results(api: httpx.Client) -> None:
    first = api.get("/api/v1/organisations", params={"country": "FR", "limit": 5}).json()
    second = api.get("/api/v1/organisations", params={"country": "FR", "limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] > 10
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_a_profile_shows_helix_evidence_region_projects_partners_and_sources(api: httpx.Client) -> None:
    hit = api.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]
    profile = api.get(f"/api/v1/organisations/{hit['id']}").json()
    assert profile["helix"]["value"] == "academia"
    assert profile["helix"]["evidence"] and 0 < profile["helix"]["confidence"] <= 1
    assert profile["region"]["nuts3"].startswith("DK01")
    assert profile["region"]["urban_rural"] == "urban"
    assert profile["projects"] and profile["partners"]
    weights = [p["weight"] for p in profile["partners"]]
    assert weights == sorted(weights, reverse=True)
    assert all(s["licence"] for s in profile["sources"])


def test_the_network_respects_filters_and_says_when_the_cap_cut_it(api: httpx.Client) -> None:
    full = api.get("/api/v1/network", params={"limit": 20000}).json()
    assert not full["truncated"] and len(full["nodes"]) == full["total_nodes"]
    capped = api.get("/api/v1/network", params={"limit": 50}).json()
    assert capped["truncated"] and len(capped["nodes"]) == 50
    ids = {n["id"] for n in capped["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in capped["edges"])
    it = api.get("/api/v1/network", params={"nuts": "IT", "helix": "industry", "min_weight": 2}).json()
    assert it["nodes"] and all(n["helix"] == "industry" and n["country"] == "IT" for n in it["nodes"])
    assert all(e["weight"] >= 2 for e in it["edges"])


def test_a_region_profile_counts_helices_links_and_the_urban_rural_matrix(api: httpx.Client) -> None:
    body = api.get("/api/v1/regions/DK0").json()
    assert body["name"] and body["organisations"] > 0
    assert sum(body["helix"].values()) == body["organisations"]
    assert sum(body["organisations_by_urban_rural"].values()) == body["organisations"]
    assert body["links"]["inside"] + body["links"]["outside"] > 0
    assert sum(c["links"] for c in body["urban_rural_links"]) == body["links"]["inside"] + body["links"]["outside"]


@pytest.mark.parametrize("path,status", [
    ("/api/v1/organisations/does-not-exist", 404),
    ("/api/v1/regions/XX999", 404),
    ("/api/v1/regions/not-a-code", 422),
    ("/api/v1/organisations?nuts=ZZ9", 404),
    ("/api/v1/organisations?nuts=%27%3B--", 422),
    ("/api/v1/organisations?helix=banking", 422),
    ("/api/v1/organisations?limit=0", 422),
    ("/api/v1/organisations?limit=abc", 422),
    ("/api/v1/network?urban_rural=suburban", 422),
    ("/api/v1/network?min_weight=-1", 422),
    ("/maps/network?layout=spiral", 422),
    ("/maps/network?nuts=XX", 404),
])
def test_bad_requests_get_a_4xx_with_a_message_never_a_500(api: httpx.Client, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


def test_search_with_fts_syntax_in_the_query_is_safe(api: httpx.Client) -> None:
    for q in ('"', "AND OR NOT", "*", "name:foo", "(", "univ*"):
        assert api.get("/api/v1/organisations", params={"q": q}).status_code == 200


def test_the_map_page_is_served_offline(api: httpx.Client) -> None:
    response = api.get("/maps/network", params={"nuts": "DK"})
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", response.text)


def test_the_openapi_document_describes_every_endpoint(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for p in ("/api/v1/organisations", "/api/v1/organisations/{org_id}", "/api/v1/network",
              "/api/v1/regions/{nuts}", "/maps/network"):
        assert p in paths


def test_municipalities_taking_part_are_listed_with_their_degree_of_urbanisation(api: httpx.Client) -> None:
    body = api.get("/api/v1/municipalities").json()
    names = {m["name"]: m for m in body["items"]}
    assert names["Madrid"]["degree_of_urbanisation"] == "city"
    assert names["Lejre"]["degree_of_urbanisation"] == "rural_area"
    assert any(b["name"] == "AYUNTAMIENTO DE MADRID" for b in names["Madrid"]["bodies"])
    rural = api.get("/api/v1/municipalities", params={"degree_of_urbanisation": "rural_area"}).json()
    assert rural["total"] == body["by_degree_of_urbanisation"]["rural_area"] >= 1
    assert all(m["degree_of_urbanisation"] == "rural_area" for m in rural["items"])
    assert api.get("/api/v1/municipalities", params={"degree_of_urbanisation": "village"}).status_code == 422


ERROR_KEYS = {"detail", "field"}


@pytest.mark.parametrize("method,path,field", [
    ("GET", "/api/v1/organisations?limit=abc", "limit"),
    ("GET", "/api/v1/network?urban_rural=suburban", "urban_rural"),
    ("GET", "/api/v1/organisations/does-not-exist", None),
    ("GET", "/api/v1/no-such-endpoint", None),
    ("DELETE", "/api/v1/stats", None),
    ("POST", "/api/v1/query", None),
])
def test_every_error_answers_with_the_one_error_model(api: httpx.Client, method: str, path: str,
                                                      field: str | None) -> None:
    response = api.request(method, path, json={"cypher": "RETURN 1"} if path.endswith("query") else None)
    assert 400 <= response.status_code < 600
    body = response.json()
    assert set(body) <= ERROR_KEYS and isinstance(body["detail"], str) and body["detail"]
    assert body.get("field") == field


def test_the_openapi_document_declares_the_error_model_it_answers_with(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "ErrorBody" in schemas and "HTTPValidationError" not in schemas
    assert set(schemas["ErrorBody"]["properties"]) == ERROR_KEYS
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    profile = doc["paths"]["/api/v1/organisations/{org_id}"]["get"]["responses"]
    network = doc["paths"]["/api/v1/network"]["get"]["responses"]
    query = doc["paths"]["/api/v1/query"]["post"]["responses"]
    for responses, codes in ((profile, ("404", "422", "503")), (network, ("404", "422", "503")),
                             (query, ("400", "413", "422", "501", "503"))):
        for code in codes:
            assert responses[code]["content"]["application/json"]["schema"] == ref, code


def test_health_names_the_store_without_a_path_of_the_server(api: httpx.Client) -> None:
    body = api.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["store"] == "sqlite:///served.db"


def test_a_request_body_over_the_limit_is_refused_with_413(api: httpx.Client) -> None:
    big = b'{"cypher": "' + b"x" * (2 << 20) + b'"}'
    declared = api.post("/api/v1/query", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]

    def chunks():  # type: ignore[no-untyped-def]  # streamed: no Content-Length to go by
        for i in range(0, len(big), 64 << 10):
            yield big[i:i + (64 << 10)]

    streamed = api.post("/api/v1/query", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and "larger than" in streamed.json()["detail"]
    small = api.post("/api/v1/query", json={"cypher": "RETURN 1"})
    assert small.status_code == 501
