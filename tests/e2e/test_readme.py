"""The README is true: the tour's commands, extracted from README.md, run in order on a fresh folder beside the
sample data (a store of its own, a real server for the `curl` lines), and every command and endpoint is listed."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, helixmap_command

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def tour_commands() -> list[str]:
    """The shell lines of the tour's code blocks, in order, their trailing comments removed."""
    tour = README.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", tour, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


def test_the_tour_is_found_and_uses_only_helixmap_and_curl() -> None:
    commands = tour_commands()
    assert len(commands) >= 8
    assert all(c.split()[0] in ("helixmap", "curl") for c in commands), commands
    assert "helixmap serve &" in commands


@pytest.fixture()
def fresh_folder(tmp_path: Path, data_dir: Path) -> Iterator[Path]:
    """A folder standing where the repository stands: `../shared/data` is the sample data."""
    (tmp_path / "shared").symlink_to(data_dir.parent, target_is_directory=True)
    folder = tmp_path / "helixmap"
    folder.mkdir()
    yield folder


def _fetch(url: str) -> str:
    if shutil.which("curl"):
        done = subprocess.run(["curl", "-sSf", "--max-time", "300", url], capture_output=True, text=True,
                              timeout=320)
        assert done.returncode == 0, (url, done.stderr)
        return done.stdout
    response = httpx.get(url, timeout=300)
    assert response.status_code == 200, (url, response.text)
    return response.text


def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "helixmap serve ended"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("helixmap serve did not answer within 120 s")


def test_the_tour_runs_in_order_on_a_fresh_folder(fresh_folder: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELIXMAP_", "NEO4J_"))}
    env.update(HELIXMAP_PORT=str(port), HELIXMAP_CACHE_DIR=str(fresh_folder.parent / "cache"))
    base = f"http://127.0.0.1:{port}"
    server: subprocess.Popen[bytes] | None = None
    answers: dict[str, str] = {}
    outputs: dict[str, str] = {}
    try:
        for command in tour_commands():
            words = shlex.split(command)
            if words[0] == "curl":
                url = words[1].replace("http://127.0.0.1:8000", base)
                answers[url.removeprefix(base)] = _fetch(url)
            elif command == "helixmap serve &":
                server = subprocess.Popen([*helixmap_command(), "serve"], cwd=fresh_folder, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _wait_for(base, server)
            else:
                done = subprocess.run([*helixmap_command(), *words[1:]], cwd=fresh_folder, env=env,
                                      capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
                assert done.returncode == 0, (command, done.stderr)
                assert "Traceback" not in done.stderr
                outputs[command] = done.stdout
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    assert (fresh_folder / "helixmap.db").is_file()
    found = json.loads(answers["/api/v1/organisations?q=kobenhavns&helix=academia"])
    assert "KOBENHAVNS UNIVERSITET" in {item["name"] for item in found["items"]}
    profile = json.loads(answers["/api/v1/organisations/999991043"])
    assert profile["name"] == "KOBENHAVNS UNIVERSITET" and profile["helix"]["value"] == "academia"
    suggested = json.loads(answers["/api/v1/organisations/999991043/recommendations?k=5&urban_rural=rural"])
    assert suggested["items"] and all(i["urban_rural"] == "rural" for i in suggested["items"])
    assert outputs["helixmap recommend 999991043 -k 5"].count("\n") >= 5
    idea = outputs["helixmap partners --q graphene -k 5"]
    assert re.match(r"[1-9][\d,]* projects? match", idea) and len(re.findall(r"^ \d\. .+; score ", idea, flags=re.M)) == 5
    for name in ("denmark.html", "piemonte.html", "denmark.gexf"):
        assert (fresh_folder / "out" / name).stat().st_size > 1000, name
    stats = json.loads(outputs["helixmap stats --json"])
    assert stats["organisations"] > 1000 and stats["urban_rural"]["rural"] > 0


def test_every_command_and_every_endpoint_is_in_the_readme(tmp_path: Path) -> None:
    import typer.main

    from api.app import create_app
    from ecosystem.cli import app as cli_app
    from ecosystem.config import Settings

    group = typer.main.get_group(cli_app)
    names = [f"helixmap {name}" for name in group.commands if name != "import"]
    names += [f"helixmap import {name}" for name in group.commands["import"].commands]  # type: ignore[attr-defined]
    missing = [n for n in names if f"`{n}" not in README]
    assert not missing, missing
    application = create_app(Settings(store=f"sqlite:///{tmp_path / 'empty.db'}"))
    paths = application.openapi()["paths"]
    application.state.store.close()
    listed = [re.sub(r"\{[a-z_]+\}", "{}", p) for p in re.findall(r"`(?:GET|POST) (/[^?` ]*)", README)]
    absent = [p for p in paths if re.sub(r"\{[a-z_]+\}", "{}", p) not in listed]
    assert not absent, absent
