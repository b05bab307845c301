"""The only place that touches the network: downloads with timeouts, retries, a cache and progress."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from ecosystem.domain.errors import DownloadError

RETRIES = 3
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def is_url(value: str) -> bool:
    return urlparse(str(value)).scheme in ("http", "https")


def cached_path(url: str, cache_dir: Path) -> Path:
    name = Path(urlparse(url).path).name or "download"
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return cache_dir / f"{digest}-{name}"


def download(url: str, cache_dir: Path, *, progress: Any = None, refresh: bool = False) -> Path:
    """Fetch `url` into the cache (once) and return the local path.

    Retries connection errors and 5xx answers with backoff; writes to a temporary file and renames, so
    an interrupted download never leaves a truncated file in the cache.
    """
    target = cached_path(url, cache_dir)
    if target.exists() and not refresh:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    last: Exception | None = None
    for attempt in range(RETRIES):
        try:
            with httpx.stream("GET", url, timeout=TIMEOUT, follow_redirects=True) as response:
                if response.status_code >= 500:
                    raise httpx.HTTPStatusError(f"server error {response.status_code}",
                                                request=response.request, response=response)
                if response.status_code >= 400:
                    raise DownloadError(f"{url}: HTTP {response.status_code}")
                total = int(response.headers.get("content-length") or 0) or None
                task = progress.add_task(f"downloading {target.name.split('-', 1)[-1]}", total=total) \
                    if progress is not None else None
                with partial.open("wb") as fh:
                    for chunk in response.iter_bytes(1 << 16):
                        fh.write(chunk)
                        if task is not None:
                            progress.advance(task, len(chunk))
            os.replace(partial, target)
            return target
        except DownloadError:
            raise
        except (httpx.HTTPError, OSError) as exc:
            last = exc
            partial.unlink(missing_ok=True)
            if attempt + 1 < RETRIES:
                time.sleep(2 ** attempt)
    raise DownloadError(f"cannot download {url}: {last}")


def local_input(item: str | Path, cache_dir: Path, progress: Any = None) -> tuple[Path, str]:
    """A named input as a local path and the label errors use: a URL is downloaded (cached) first."""
    from ecosystem.domain.errors import BadInputError

    if is_url(str(item)):
        return download(str(item), cache_dir, progress=progress), str(item)
    path = Path(item)
    if not path.exists():
        raise BadInputError("no such file or directory", file=str(item))
    return path, path.name
