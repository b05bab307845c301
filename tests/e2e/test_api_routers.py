"""How the API is put together: one error handler for the whole error tree, vocabularies from the domain."""

from __future__ import annotations

from api.app import status_of
from api.routers.params import DegurbaName, HelixName, UrbanRuralName
from ecosystem.domain.errors import (
    BadInputError,
    DownloadError,
    HelixmapError,
    NotFoundError,
    NotSupportedError,
    QueryRejectedError,
    StoreUnavailableError,
)
from ecosystem.domain.models import Degurba, Helix, UrbanRural


def test_each_kind_of_error_answers_with_its_own_status() -> None:
    assert status_of(NotFoundError("x")) == 404
    assert status_of(BadInputError("x", field="nuts")) == 422
    assert status_of(QueryRejectedError("x")) == 400
    assert status_of(NotSupportedError("x")) == 501
    assert status_of(StoreUnavailableError("x")) == 503


def test_other_helixmap_errors_answer_400_and_subclasses_inherit_their_kind() -> None:
    class UnknownRegion(NotFoundError):
        pass

    assert status_of(DownloadError("x")) == 400
    assert status_of(HelixmapError("x")) == 400
    assert status_of(UnknownRegion("x")) == 404


def test_the_api_vocabularies_are_the_domain_vocabularies() -> None:
    assert [h.value for h in HelixName] == [h.value for h in Helix]
    assert [u.value for u in UrbanRuralName] == [u.value for u in UrbanRural]
    assert [d.value for d in DegurbaName] == [d.value for d in Degurba]
    assert [e.__name__ for e in (HelixName, UrbanRuralName, DegurbaName)] == ["HelixName", "UrbanRuralName",
                                                                             "DegurbaName"]
    assert HelixName("civil_society") == "civil_society" and isinstance(HelixName("academia"), str)


def test_the_routers_serve_the_fixed_urls_and_nothing_else(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api.app import create_app
    from ecosystem.config import Settings
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "h.db")
    try:
        schema = create_app(Settings(store=store.uri), store).openapi()
    finally:
        store.close()
    routes = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    assert routes == {
        ("GET", "/api/v1/health"), ("GET", "/api/v1/stats"), ("GET", "/api/v1/organisations"),
        ("GET", "/api/v1/organisations/{org_id}"), ("GET", "/api/v1/organisations/{org_id}/recommendations"),
        ("GET", "/api/v1/organisations/{org_id}/metrics"), ("GET", "/api/v1/network"), ("GET", "/api/v1/clusters"),
        ("GET", "/api/v1/export"), ("GET", "/api/v1/regions/{nuts}"), ("GET", "/api/v1/municipalities"),
        ("POST", "/api/v1/query"), ("GET", "/maps/network"),
        ("GET", "/api/v1/region-links"), ("GET", "/api/v1/region-links.csv"), ("GET", "/maps/regions"),
        ("GET", "/api/v1/network.csv"), ("GET", "/api/v1/partners"),
    }
    assert {"HelixName", "UrbanRuralName", "DegurbaName", "ExportFormat", "Layout", "CypherRequest",
            "ErrorBody"} <= set(schema["components"]["schemas"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]
