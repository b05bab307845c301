"""FastAPI dependencies shared by every router: the store and the settings the application was made with."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from ecosystem.config import Settings
from ecosystem.store.base import GraphStore


def get_store(request: Request) -> GraphStore:
    """The store the application is bound to (opened once by `create_app`)."""
    return cast(GraphStore, request.app.state.store)


def get_settings(request: Request) -> Settings:
    """The settings the application was made with."""
    return cast(Settings, request.app.state.settings)


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
