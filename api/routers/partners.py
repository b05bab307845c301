"""Partners for an idea: organisations to ask for a call topic, a programme part or a few keywords."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import StoreDep
from api.limits import HeavyDep
from api.routers.params import HelixName, NutsParam, UrbanRuralName
from ecosystem.domain.errors import BadInputError
from ecosystem.services.partners import partners_for_idea
from ecosystem.services.regions import checked_nuts

router = APIRouter(prefix="/api/v1", tags=["partners"])

MAX_TEAM = 50


@router.get("/partners")
def partners(store: StoreDep, _: HeavyDep,
             topic: Annotated[str | None, Query(max_length=100, description="A call topic code (SC1-PM-08-2017)")]
             = None,
             programme: Annotated[str | None, Query(max_length=100, description=(
                 "A programme part (SC1, LEIT, ERC, MSCA, ...; several joined by ';') or a framework programme "
                 "(H2020, HORIZON, FP7)"))] = None,
             q: Annotated[str | None, Query(max_length=200, description=(
                 "Keywords, matched (case and accents ignored) in project titles, acronyms and call topic titles"))]
             = None,
             helix: HelixName | None = None,
             urban_rural: UrbanRuralName | None = None,
             nuts: NutsParam = None,
             exclude: Annotated[list[str] | None, Query(max_length=MAX_TEAM, description=(
                 "Organisations already in the consortium (ids; repeat the parameter or separate by commas): "
                 "never suggested, their partners and helix mix weigh in"))] = None,
             k: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Organisations to ask for an idea, best first: active in projects of the theme (recent ones count more),
    close to the team (partners, partners of partners), bringing a helix the team lacks; each with reasons in
    words (projects and organisations by name) and data. At least one of topic, programme, q."""
    team = [part.strip() for value in exclude or [] for part in value.split(",") if part.strip()]
    if len(team) > MAX_TEAM:
        raise BadInputError(f"at most {MAX_TEAM} organisations in exclude, not {len(team)}", field="exclude")
    return partners_for_idea(store, topic=topic, programme=programme, q=q, helix=helix.value if helix else None,
                             urban_rural=urban_rural.value if urban_rural else None,
                             nuts=checked_nuts(store, nuts), exclude=team, k=k)
