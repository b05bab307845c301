"""Configuration in one typed object, read once at the edge (environment variables or flags)."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting names its environment variable (HELIXMAP_*, NEO4J_*)."""

    model_config = SettingsConfigDict(env_prefix="HELIXMAP_", extra="ignore")

    store: str = Field("sqlite:///helixmap.db", description="Store URL: sqlite:///FILE, neo4j://HOST:7687 or bolt://...")
    cache_dir: Path = Field(Path.home() / ".cache" / "helixmap", description="Download cache")
    host: str = "127.0.0.1"
    port: int = 8000
    map_max_nodes: int = 1500
    network_max_nodes: int = 2000
    cypher_timeout_s: float = 10.0
    cypher_max_rows: int = 1000
    max_expanded_mb: int = Field(512, ge=1, description="Most MiB one archived file may expand to (zip, gzip)")
    max_request_bytes: int = Field(1_048_576, ge=1, description="Largest HTTP request body the API accepts")
    neo4j_username: str = Field("neo4j", validation_alias="NEO4J_USERNAME")
    neo4j_password: str = Field("", validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", validation_alias="NEO4J_DATABASE")


class _Flags(TypedDict, total=False):
    """Settings a command-line flag can override (a flag not given is left out)."""

    store: str
    cache_dir: Path


def load_settings(*, store: str | None = None, cache_dir: Path | None = None) -> Settings:
    """Settings from the environment, with explicit (non-None) overrides from flags."""
    flags: _Flags = {}
    if store is not None:
        flags["store"] = store
    if cache_dir is not None:
        flags["cache_dir"] = cache_dir
    return Settings(**flags)
