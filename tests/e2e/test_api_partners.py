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
