"""Rendering a page: the Jinja2 environment (autoescape on), the language, the footer's data version."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.deps import get_store
from api.pages.i18n import COOKIE, LANGUAGES, Translator, negotiate

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)
SOURCES = (("CORDIS", "source.cordis"), ("NUTS", "source.nuts"), ("ROR", "source.ror"),
           ("GeoNames", "source.geonames"))


def language(request: Request) -> str:
    """The page language: `?lang=`, then the cookie, then Accept-Language."""
    return negotiate(request.query_params.get("lang"), request.cookies.get(COOKIE),
                     request.headers.get("accept-language"))


def translator(request: Request) -> Translator:
    return Translator(language(request))


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one)."""
    params = {k: v for k, v in request.query_params.items()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


def render(request: Request, template: str, *, status: int = 200, title: str = "", **context: Any) -> HTMLResponse:
    """A page in the request's language; a `?lang=` choice is remembered in a cookie."""
    t = translator(request)
    store = get_store(request)
    html = ENV.get_template(template).render(
        t=t, lang=t.lang, title=title, data_version=store.data_version(), data_updated=store.data_updated(),
        sources=SOURCES,
        lang_links=[(code, url_with(request, lang=code)) for code in LANGUAGES],
        path=request.url.path, query=request.query_params.get("q", ""),
        csv_url=lambda name: url_with(request, csv=name, lang=None), **context)
    response = HTMLResponse(html, status_code=status)
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax")
    return response


def not_found(request: Request, message_key: str, **values: Any) -> HTMLResponse:
    """The 404 page, in the request's language, with a search box."""
    t = translator(request)
    return render(request, "not_found.html", status=404, title=t("notfound.title"),
                  message=t(message_key, **values))
