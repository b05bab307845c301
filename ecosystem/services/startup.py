"""What a server prepares when it starts, in one place: the steps before it answers, and those after, in the
background. A step that fails is logged and skipped; the first request that needs its result then builds it
(and says what failed)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ecosystem.services import insights, partners, regions, themes
from ecosystem.store.base import GraphReader

Step = Callable[[GraphReader], None]
BACKGROUND_THREAD = "helixmap-warm"  # the name of the thread that runs IN_BACKGROUND (benchmarks wait for it)

BEFORE_SERVING: tuple[Step, ...] = (partners.warm, themes.warm, insights.warm_pages)
"""Built before the server answers (seconds on the full H2020 table): the partner finder's indexes (partners of an
organisation, partners for an idea), the programme choices and project names of the page of partners for an idea,
and what every atlas page reads of the whole store, so the first visitor pays for none of them."""

IN_BACKGROUND: tuple[Step, ...] = (regions.warm_region_pages,)
"""Built after the server answers, in a background thread (minutes of pure Python on the full H2020 table;
requests keep their turn): every country's region page."""


def run_steps(steps: Iterable[Step], store: GraphReader) -> None:
    """Run each step on the store; a failure is logged with the step's name and the next step still runs."""
    for step in steps:
        try:
            step(store)
        except Exception:
            logging.getLogger(__name__).exception("preparing %s at start failed", step.__qualname__)
