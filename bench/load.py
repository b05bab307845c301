"""Load benchmark: a real server (`helixmap serve`, uvicorn) on the full H2020 table, driven by many clients.

The store is made the README's way (`helixmap import table h2020_participations_full.csv.gz --mapping
examples/h2020_participations.toml`) unless `--db` names one that exists. The server runs in its own process on
127.0.0.1; once it has warmed what its pages read at start (`server_warm_s`) and finished the background warm-up
of the countries' region pages (`server_background_warm_s`, until its own CPU use falls under 10%), clients (asyncio + httpx, one
connection each) send requests back to back for a bounded time.

Two mixes:
- heavy: networks, maps, region analytics, clusters, exports, recommendations (20 clients, 60 s). The heavy URLs
  are requested once each before the clock starts (their cold times are reported as `warm_up_ms`), so the run
  measures the server under a crowd asking for views it has already computed, while new ones queue.
- light: search, profiles, stats (50 clients, 30 s).

Prints one JSON object: per mix the requests, statuses, errors (anything but 2xx, and 503 without `Retry-After`),
refusals (503 with `Retry-After`), requests per second, p50 / p95 / max of what was served (ms), and the server's
peak RSS (MiB, sampled every 0.25 s). Targets (issue 13): heavy: no errors, p95 < 2000 ms, RSS < 2048 MiB;
light: p95 < 500 ms, RSS < 1024 MiB. The machine's load average is printed with them.

    python bench/load.py [--db PATH.db] [--heavy-clients 20] [--heavy-s 60] [--light-clients 50] [--light-s 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO

TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
MAPPING = REPO / "examples" / "h2020_participations.toml"
COUNTRIES = ("DK", "SE", "FI", "AT", "PT", "IE", "CZ", "EL")
SEARCH_WORDS = ("univ", "institut", "gmbh", "ltd", "tech", "energy", "bio", "centre", "fondazione", "sa")


def helixmap() -> list[str]:
    exe = Path(sys.executable).parent / "helixmap"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ecosystem.cli"]


def ensure_store(db: Path) -> dict[str, Any]:
    """The full H2020 table imported the README's way, unless the store exists."""
    if db.exists():
        return {"import_s": None}
    started = time.perf_counter()
    done = subprocess.run([*helixmap(), "--store", f"sqlite:///{db}", "import", "table", str(TABLE),
                           "--mapping", str(MAPPING)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the import failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return {"import_s": round(time.perf_counter() - started, 1)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`helixmap serve` in its own process; its RSS sampled while it runs."""

    def __init__(self, db: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HELIXMAP_STORE": f"sqlite:///{db}"}
        self.log = log.open("w")
        self.proc = subprocess.Popen([*helixmap(), "serve", "--port", str(self.port)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.peak_rss_mib = 0.0

    def rss_mib(self) -> float:
        import psutil

        try:
            return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20
        except psutil.Error:
            return 0.0

    async def sample(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.peak_rss_mib = max(self.peak_rss_mib, self.rss_mib())
            await asyncio.sleep(0.25)

    def wait_ready(self, timeout_s: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("the server did not answer within 120 s")

    def wait_idle(self, quiet_s: float = 3.0, limit_s: float = 900) -> float:
        """Seconds until the server's own CPU use over `quiet_s` falls under 10% (its background warm-up done)."""
        import psutil

        proc = psutil.Process(self.proc.pid)
        start = time.perf_counter()
        while time.perf_counter() - start < limit_s:
            before = sum(proc.cpu_times()[:2])
            time.sleep(quiet_s)
            if sum(proc.cpu_times()[:2]) - before < 0.1 * quiet_s:
                break
        return round(time.perf_counter() - start, 1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def heavy_urls(orgs: list[str]) -> list[str]:
    urls = [f"/api/v1/network?nuts={c}&limit=300" for c in COUNTRIES]
    urls += [f"/api/v1/clusters?nuts={c}" for c in COUNTRIES[:4]]
    urls += [f"/api/v1/regions/{c}" for c in COUNTRIES[:4]]
    urls += [f"/api/v1/region-links?nuts={c}" for c in COUNTRIES[:3]]
    urls += [f"/api/v1/export?nuts={c}&format=csv" for c in COUNTRIES[:2]]
    urls += [f"/maps/network?nuts={c}" for c in COUNTRIES[:2]]
    urls += [f"/api/v1/organisations/{o}/recommendations" for o in orgs[:6]]
    return urls


def light_urls(orgs: list[str]) -> list[str]:
    urls = [f"/api/v1/organisations?q={w}&limit=20" for w in SEARCH_WORDS]
    urls += [f"/api/v1/organisations?country={c}&limit=50" for c in COUNTRIES]
    urls += [f"/api/v1/organisations/{o}" for o in orgs]
    urls += ["/api/v1/stats"] * 5
    return urls


async def client(base: str, urls: list[str], until: float, seed: int, out: list[dict[str, Any]]) -> None:
    import httpx

    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            url = rng.choice(urls)
            start = time.perf_counter()
            try:
                response = await http.get(url)
                status, retry = response.status_code, response.headers.get("retry-after")
            except httpx.HTTPError as exc:
                status, retry = type(exc).__name__, None
            out.append({"url": url, "status": status, "ms": (time.perf_counter() - start) * 1000,
                        "retry_after": retry})
            if status == 503 and retry:
                await asyncio.sleep(min(float(retry), 1.0) * rng.random())  # a polite client backs off a little


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def drive(server: Server, urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    stop = asyncio.Event()
    sampler = asyncio.create_task(server.sample(stop))
    server.peak_rss_mib = server.rss_mib()
    out: list[dict[str, Any]] = []
    until = time.monotonic() + seconds
    began = time.perf_counter()
    await asyncio.gather(*(client(server.base, urls, until, i, out) for i in range(clients)))
    elapsed = time.perf_counter() - began
    stop.set()
    await sampler
    served = [r["ms"] for r in out if isinstance(r["status"], int) and 200 <= r["status"] < 300]
    refused = [r for r in out if r["status"] == 503 and r["retry_after"]]
    errors = [r for r in out if r not in refused and not (isinstance(r["status"], int) and 200 <= r["status"] < 300)]
    statuses: dict[str, int] = {}
    kinds: dict[str, list[float]] = {}
    for r in out:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        if isinstance(r["status"], int) and 200 <= r["status"] < 300:
            kinds.setdefault(kind_of(r["url"]), []).append(r["ms"])
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(out), "statuses": statuses,
            "served": len(served), "refused_503_retry_after": len(refused), "errors": len(errors),
            "error_examples": [{k: e[k] for k in ("url", "status")} for e in errors[:5]],
            "requests_per_s": round(len(out) / elapsed, 1), "served_per_s": round(len(served) / elapsed, 1),
            "p50_ms": percentile(served, 0.50), "p95_ms": percentile(served, 0.95),
            "max_ms": percentile(served, 1.0), "server_peak_rss_mib": round(server.peak_rss_mib, 1),
            "served_by_kind": {k: {"n": len(v), "p50_ms": percentile(v, 0.5), "p95_ms": percentile(v, 0.95)}
                               for k, v in sorted(kinds.items())}}


def kind_of(url: str) -> str:
    """'/api/v1/organisations/123/recommendations?k=1' -> '/api/v1/organisations/{id}/recommendations'."""
    parts = url.split("?", 1)[0].split("/")
    return "/".join("{id}" if p.isdigit() or (len(p) == 2 and p.isupper()) else p for p in parts)


def warm_up(base: str, urls: list[str]) -> dict[str, Any]:
    """Each URL once, one after the other (what the first asker of each view waits), not counted in the run."""
    import httpx

    times, statuses = [], {}
    with httpx.Client(base_url=base, timeout=600) as http:
        for url in dict.fromkeys(urls):
            start = time.perf_counter()
            status = http.get(url).status_code
            times.append((time.perf_counter() - start) * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"urls": len(times), "statuses": statuses, "total_s": round(sum(times) / 1000, 1),
            "max_ms": round(max(times), 1) if times else None}


def sample_orgs(base: str, n: int = 40) -> list[str]:
    import httpx

    ids: list[str] = []
    for country in COUNTRIES:
        items = httpx.get(f"{base}/api/v1/organisations", params={"country": country, "limit": n // len(COUNTRIES)},
                          timeout=60).json()["items"]
        ids += [i["id"] for i in items]
    return ids


def settle(base: str) -> float:
    """Seconds until the server has warmed what its pages read at start (the /clusters page waits for it)."""
    import httpx

    start = time.perf_counter()
    httpx.get(f"{base}/clusters", timeout=900)
    return round(time.perf_counter() - start, 1)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="SQLite store (the full table is imported into it when missing)")
    parser.add_argument("--heavy-clients", type=int, default=20)
    parser.add_argument("--heavy-s", type=float, default=60)
    parser.add_argument("--light-clients", type=int, default=50)
    parser.add_argument("--light-s", type=float, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="helixmap-load-"))
    try:
        db = args.db or tmp / "h2020.db"
        result: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": load_average(),
                                  **ensure_store(db)}
        server = Server(db, tmp / "serve.log")
        try:
            server.wait_ready()
            result["server_warm_s"] = settle(server.base)
            # the pages warm the countries' region pages in the background after start: measured, then waited for
            result["server_background_warm_s"] = server.wait_idle()
            orgs = sample_orgs(server.base)
            result["light"] = asyncio.run(drive(server, light_urls(orgs), args.light_clients, args.light_s))
            result["load_average_after_light"] = load_average()
            heavy = heavy_urls(orgs)
            result["heavy_warm_up"] = warm_up(server.base, heavy)
            result["heavy"] = asyncio.run(drive(server, heavy, args.heavy_clients, args.heavy_s))
            result["load_average_after_heavy"] = load_average()
        finally:
            server.stop()
        light, heavy_run = result["light"], result["heavy"]
        result["targets_met"] = {
            "heavy_no_errors": heavy_run["errors"] == 0,
            "heavy_p95_under_2s": heavy_run["p95_ms"] is not None and heavy_run["p95_ms"] < 2000,
            "heavy_rss_under_2gib": heavy_run["server_peak_rss_mib"] < 2048,
            "light_p95_under_500ms": light["p95_ms"] is not None and light["p95_ms"] < 500,
            "light_rss_under_1gib": light["server_peak_rss_mib"] < 1024,
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
