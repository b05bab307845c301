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
