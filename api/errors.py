"""One error model for every error the API answers, and the OpenAPI document that declares it.

Every error body is an `ErrorBody`: `detail` (the message in words) and, where one is to blame, `field`. The
application's own errors (the helixmap error tree), FastAPI's request validation (422), Starlette's HTTP errors
(404 of an unknown path, 405) and the request body limit (413) all answer with it, and the OpenAPI document
declares it, with the 404, 413, 501 and 503 answers on the operations that can give them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecosystem.domain.errors import (
    BadInputError,
    HelixmapError,
    NotFoundError,
    NotSupportedError,
    QueryRejectedError,
    StoreUnavailableError,
)

STATUS: dict[type[HelixmapError], int] = {NotFoundError: 404, BadInputError: 422, QueryRejectedError: 400,
                                          NotSupportedError: 501, StoreUnavailableError: 503}
"""HTTP status of each kind of error; any other helixmap error answers 400."""


class ErrorBody(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="What went wrong, in words")
    field: str | None = Field(None, description="The parameter or body field at fault, when one is")


def status_of(exc: HelixmapError) -> int:
    """The HTTP status of an error: that of its nearest kind in the error tree, else 400."""
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 400)


def error_response(status: int, detail: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """An `ErrorBody` answer (`field` left out when there is none)."""
    body: dict[str, Any] = {"detail": detail}
    if field:
        body["field"] = field
    return JSONResponse(status_code=status, content=body, headers=headers)


async def helixmap_error(request: Request, exc: Exception) -> JSONResponse:
    """A helixmap error: its message, and the field for bad input that names one."""
    assert isinstance(exc, HelixmapError)
    field = exc.field if isinstance(exc, BadInputError) else None
    return error_response(status_of(exc), str(exc), field)


def _location(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """`('query', 'limit')` -> `limit`; `('query', 'helix', 0)` -> `helix` (the parameter, not its n-th value);
    `('body', 'parameters', 'x')` -> `parameters.x`; the body itself -> None."""
    where, *rest = list(loc) or [""]
    if where != "body":
        rest = [p for p in rest if not isinstance(p, int)]
    if where not in ("query", "path", "body", "header", "cookie"):
        rest = [where, *rest]
    return ".".join(str(p) for p in rest) or None


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation, as one `ErrorBody`: the first problem in words, naming its field."""
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors())
    if not errors:
        return error_response(422, "invalid request")
    first = errors[0]
    field = _location(first.get("loc", ()))
    message = str(first.get("msg", "invalid value"))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return error_response(422, f"{field}: {message}{more}" if field else f"{message}{more}", field)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (an unknown path, a method not allowed) as an `ErrorBody`."""
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    """Every error the application answers becomes an `ErrorBody`."""
    app.add_exception_handler(HelixmapError, helixmap_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` (declared or streamed) is answered 413 unread."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(413, self._message())
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    def _message(self) -> str:
        return f"the request body is larger than {self.max_bytes:,} bytes"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, self._message())(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """A streamed body passed the limit: an HTTP error, so FastAPI's body reading passes it on as it is."""


def _ref() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


ERROR_ANSWERS = {
    "400": "The query was refused (the reason in `detail`)",
    "404": "No such organisation, region or NUTS code",
    "413": "The request body is too large",
    "422": "A parameter or body field is not valid (named in `field`)",
    "501": "The store in use does not offer this",
    "503": "The store is unavailable, or the server is busy (then `Retry-After` says when to try again)",
}


def _answers_of(path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can give, from what it takes."""
    params = {p.get("name") for p in operation.get("parameters", [])}
    codes = ["422", "503"]
    if "{" in path or "nuts" in params:
        codes.append("404")
    if "requestBody" in operation:
        codes.append("413")
    if path == "/api/v1/query":
        codes += ["400", "501"]
    return codes


def error_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The application's OpenAPI document with `ErrorBody` declared for every error answer an operation gives
    (FastAPI's own validation-error schema replaced, since the answers carry `ErrorBody`)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                          openapi_version=app.openapi_version, tags=app.openapi_tags, servers=app.servers)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        for path, item in doc.get("paths", {}).items():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for code in _answers_of(path, operation):
                    responses[code] = {"description": ERROR_ANSWERS[code], "content": _ref()}
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = doc
        return doc

    return openapi

