"""What a store holds to ask for partners by theme: its programme parts and framework programmes, with counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ecosystem.services.cache import cache
from ecosystem.store.base import GraphReader

MAX_CHOICES = 300
"""At most this many parts and as many programmes offered (the most used first): a list to choose from."""


def programme_choices(store: GraphReader) -> dict[str, list[dict[str, Any]]]:
    """The programme parts and the framework programmes of the stored projects, each with its number of
    projects, the most used first (`{"parts": [{"code", "projects"}], "programmes": [...]}`); a project in
    several parts ("SC1;LEIT") counts in each. Kept until the store's data changes."""
    return cache.get(store, ("programme-choices",), lambda: _count(store), keep=True)


def _count(store: GraphReader) -> dict[str, list[dict[str, Any]]]:
    parts: Counter[str] = Counter()
    programmes: Counter[str] = Counter()
    for _pid, _year, _topics, part, programme in store.iter_projects():
        parts.update({p.strip() for p in (part or "").split(";") if p.strip()})
        if programme and programme.strip():
            programmes[programme.strip()] += 1

    def ranked(counts: Counter[str]) -> list[dict[str, Any]]:
        return [{"code": code, "projects": n}
                for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CHOICES]]

    return {"parts": ranked(parts), "programmes": ranked(programmes)}


def project_names(store: GraphReader) -> dict[str, str]:
    """Each project's short name where the store has one (its acronym, else its title), by project id; projects
    without either are left out. Kept until the store's data changes (the reasons of a suggestion name projects)."""
    return cache.get(store, ("project-names",), lambda: {
        pid: (acronym or title or "").strip() for pid, acronym, title, _topics in store.iter_project_texts()
        if (acronym or title or "").strip()}, keep=True)


def warm(store: GraphReader) -> None:
    """Compute the programme choices and the project names ahead of the first visit of the page that reads them."""
    programme_choices(store)
    project_names(store)
