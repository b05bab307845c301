"""The page "partners for an idea": a form (call topic, programme part, keywords, filters, the consortium so far)
and the organisations to ask, best first, each with its reasons in the page language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import StoreDep
from api.limits import HeavyDep
from api.pages.filters import KNOWN_HELICES, Checked, bounded_number, check_filters, id_list
from api.pages.i18n import Translator, catalogue
from api.pages.render import render, translator
from api.pages.tables import ORG_HEADERS, csv_table, org_rows
from api.pages.words import join_names, partner_link
from ecosystem.domain.errors import BadInputError
from ecosystem.services.partners import partners_for_idea
from ecosystem.services.themes import programme_choices, project_names
from ecosystem.store.base import GraphReader

router = APIRouter(include_in_schema=False)
DEFAULT_RESULTS = 20
MAX_RESULTS = 100
MAX_TEXT = 200
THEME_FIELDS = ("topic", "programme", "q")
FIELDS = (*THEME_FIELDS, "helix", "urban_rural", "nuts", "exclude", "k")


@router.get("/partners", response_class=HTMLResponse)
def partners_page(request: Request, store: StoreDep, _: HeavyDep, topic: str | None = None,
                  programme: str | None = None, q: str | None = None, helix: str | None = None,
                  urban_rural: str | None = None, nuts: str | None = None, exclude: str | None = None,
                  k: str | None = None) -> Response:
    """Organisations ranked for a call topic, a programme part or keywords; the URL holds the whole question.
    Bad input: the page with a message next to the field, status 422."""
    t = translator(request)
    given = {"topic": topic, "programme": programme, "q": q, "helix": helix, "urban_rural": urban_rural,
             "nuts": nuts, "exclude": exclude, "k": k}
    raw = {name: (value or "").strip()[:MAX_TEXT] for name, value in given.items()}
    checked = check_filters(store, {"helix": helix, "urban_rural": urban_rural, "nuts": nuts})
    count = bounded_number(k, "k", checked, default=DEFAULT_RESULTS, high=MAX_RESULTS)
    team = consortium(t, store, id_list(exclude), checked)
    themes = {name: raw[name] or None for name in THEME_FIELDS}
    asked = any(raw[name] for name in FIELDS if name != "exclude")  # the consortium alone: a form pre-filled
    answer = _ask(store, themes, team, count, checked) if asked else None
    if answer is not None:
        names = {m["id"]: m["name"] for m in team}
        projects = project_names(store) if answer["items"] else {}
        for item in answer["items"]:
            item["sentences"] = idea_reasons(t, store, item, names, projects)
        answer["said_notes"] = [note_sentence(t, note) for note in answer.get("note_data", [])]
    table = csv_table(request, t, {"partners": lambda: _csv(answer)})
    if table is not None:
        return table
    labels = {"helix": t("col.helix"), "urban_rural": t("col.urban_rural"), "nuts": t("idea.region"), "k": t("idea.k")}
    problems = [(values.get("field", ""), t(key, **{**values, "field": labels.get(values.get("field", ""), "")}))
                for key, values in checked.problems]
    return render(request, "partners.html", status=422 if problems else 200, title=t("idea.title"), raw=raw,
                  answer=answer, team=team, count=count, problems=[text for _, text in problems],
                  field_problems={name: [text for f, text in problems if f == name] for name in FIELDS},
                  choices=programme_choices(store), helices=KNOWN_HELICES,
                  urban_rural_types=("urban", "intermediate", "rural"))


def consortium(t: Translator, store: GraphReader, ids: list[str], checked: Checked) -> list[dict[str, Any]]:
    """The organisations named as already in the consortium ({"id", "name"}); an unknown id is a message."""
    team: list[dict[str, Any]] = []
    for oid in ids:
        org = store.organisation(oid)
        if org is None:
            checked.problems.append(("idea.unknown_org", {"field": "exclude", "value": oid}))
        elif org["id"] not in {m["id"] for m in team}:
            team.append(_org(t, store, org["id"], {}))
    return team


def _ask(store: GraphReader, themes: dict[str, str | None], team: list[dict[str, Any]], count: int,
         checked: Checked) -> dict[str, Any] | None:
    """The partner service's answer, or None (with a message) when the question cannot be asked."""
    if not any(themes.values()):
        checked.problems.append(("idea.need_theme", {"field": "topic"}))
    if checked.problems:
        return None
    try:
        return partners_for_idea(store, **themes, **checked.values, exclude=[m["id"] for m in team], k=count)
    except BadInputError as exc:
        checked.problems.append(("finder.failed", {"field": exc.field or "", "reason": exc.message}))
        return None


def _csv(answer: dict[str, Any] | None) -> tuple[list[str], list[list[Any]]]:
    """The answer as a table: the organisations, their scores and their reasons."""
    items = answer["items"] if answer else []

    def reasons(item: dict[str, Any]) -> str:
        return " / ".join(" ".join([r["text"], ", ".join(p["name"] for p in r["links"]), r["more"]]).strip()
                          for r in item.get("sentences", []))

    return ([*ORG_HEADERS, "col.score", "col.reasons"],
            [[*row, reasons(item)] for row, item in zip(org_rows(items, "score"), items, strict=True)])


def idea_reasons(t: Translator, store: GraphReader, item: dict[str, Any], team_names: dict[str, str],
                 projects: Mapping[str, str]) -> list[dict[str, Any]]:
    """A suggestion's reasons as sentences from its `reason_data`, in the page language; each {"text", "links",
    "more", "lang"} (links: organisations named, with their ids; more: how many more there are, in words; lang:
    set when the words are not in the page language). `projects`: project names by id (`project_names`)."""
    ids, counts = item["reason_data"].get("ids", {}), item["reason_data"].get("counts", {})
    out: list[dict[str, Any]] = []
    matching = int(counts.get("matching_projects") or 0)
    if matching:
        labels = [projects.get(pid) or t("idea.project", id=pid) for pid in ids.get("projects", [])]
        more = matching - len(labels) if labels else 0
        named = ", ".join(labels) if more > 0 else join_names(t, labels)
        out.append(_sentence(" ".join(filter(None, [t("idea.reason_theme", count=t.num(matching)), named])),
                             more=t("idea.more_projects", count=t.num(more)) if more > 0 else ""))
        if counts.get("recent_matching_projects"):
            out.append(_sentence(t("idea.reason_recent", count=t.num(counts["recent_matching_projects"]))))
    if ids.get("team_partners"):
        out.append(_sentence(t("idea.reason_team", count=t.num(counts.get("projects_with_team", 0))),
                             [_org(t, store, oid, team_names) for oid in ids["team_partners"]]))
    elif ids.get("via"):
        more = int(counts.get("shared_partners") or 0) - len(ids["via"])
        out.append(_sentence(t("idea.reason_via"), [_org(t, store, oid, team_names) for oid in ids["via"]],
                             t("reason.and_more", count=t.num(more)) if more > 0 else ""))
    if (item.get("components") or {}).get("helix") == 1.0:
        out.append(_sentence(t("idea.reason_helix", helix=t.helix(item.get("helix")))))
    if not out:  # a kind of reason these sentences do not know yet: the service's own words (in English)
        out = [{**_sentence(text), "lang": "en"} for text in item.get("reasons", [])]
    return out


def _sentence(text: str, links: list[dict[str, Any]] | None = None, more: str = "") -> dict[str, Any]:
    return {"text": text, "links": links or [], "more": more, "lang": ""}


def _org(t: Translator, store: GraphReader, oid: str, known: dict[str, str]) -> dict[str, Any]:
    """An organisation named in a reason: its name where known, else its id with its helix and place."""
    if oid not in known:
        org = store.organisation(oid) or {}
        place = (org.get("location") or {}).get("nuts3") or org.get("country")
        known[oid] = partner_link(t, {"id": oid, "name": org.get("name"), "place": place,
                                      "helix": (org.get("helix") or {}).get("value")})["name"]
    return {"id": oid, "name": known[oid]}


def note_sentence(t: Translator, note: dict[str, Any]) -> dict[str, str]:
    """A note of the answer in the page's language ({"text", "lang"}); a note the catalogue does not know is shown
    in the service's English words, marked as English."""
    key = f"idea.note.{note['code']}"
    if key in catalogue(t.lang):
        return {"text": t(key, **note.get("values", {})), "lang": t.lang}
    return {"text": note["text"], "lang": "en"}
