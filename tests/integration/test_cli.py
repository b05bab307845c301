"""The `helixmap` command line: exit codes, clear one-line errors, stats as JSON, maps."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import helixmap_command
from tests.expected import counts_from_rows, csv_pairs


def run(*args: str, store: Path, extra_env: dict[str, str] | None = None,
        timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELIXMAP_STORE": f"sqlite:///{store}", "HELIXMAP_CACHE_DIR": str(store.parent / "cache"),
           **(extra_env or {})}
    return subprocess.run([*helixmap_command(), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_stats_json_has_the_fixed_keys_and_equals_the_input(tmp_path: Path, data_dir: Path) -> None:
    db = tmp_path / "h.db"
    src = data_dir / "cordis/h2020_organization_sample.csv"
    assert run("import", "cordis", str(src), store=db).returncode == 0
    result = run("stats", "--json", store=db)
    assert result.returncode == 0
    stats = json.loads(result.stdout)
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    groups = store.record_groups()
    store.close()
    expected = counts_from_rows(csv_pairs(src), groups)
    assert {k: stats[k] for k in expected} == expected
    assert stats["records"] == len({oid for _pid, oid in csv_pairs(src)})
    assert set(stats["helix"]) >= {"academia", "industry", "government", "civil_society", "unknown"}
    assert set(stats["urban_rural"]) >= {"urban", "intermediate", "rural", "unknown"}
    assert sum(stats["helix"].values()) == stats["organisations"]


def test_bad_input_exits_1_with_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "organization.csv"
    bad.write_text('projectID;organisationID;name;ecContribution\n1;2;X;12abc\n', encoding="utf-8")
    result = run("import", "cordis", str(bad), store=tmp_path / "h.db")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "organization.csv" in result.stderr and "line 2" in result.stderr and "ecContribution" in result.stderr


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run("import", "cordis", str(tmp_path / "nope.csv"), store=tmp_path / "h.db")
    assert result.returncode == 1 and "nope.csv" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("import", "table", "x.csv", store=tmp_path / "h.db").returncode == 2  # --mapping missing
    assert run("no-such-command", store=tmp_path / "h.db").returncode == 2


def test_an_unknown_store_url_is_a_usage_error(tmp_path: Path) -> None:
    result = run("stats", store=tmp_path / "h.db", extra_env={"HELIXMAP_STORE": "postgres://x"})
    assert result.returncode == 2 and "unknown store URL" in result.stderr and "Traceback" not in result.stderr
    flag = run("--store", "mysql://[red]x", "stats", store=tmp_path / "h.db")
    assert flag.returncode == 2 and "mysql://[red]x" in flag.stderr


def test_quickstart_without_network_says_so_and_names_data_dir(tmp_path: Path) -> None:
    env = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    result = run("quickstart", "--no-serve", store=tmp_path / "h.db", extra_env=env, timeout=120)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--data-dir" in lines[0]


def test_quickstart_from_local_copies_builds_a_located_graph(tmp_path: Path, data_dir: Path) -> None:
    local = tmp_path / "data"
    (local / "regions").mkdir(parents=True)
    for name in ("nuts2021_typology_labelpoints.csv", "NUTS_RG_20M_2021_4326_LEVL_3.geojson",
                 "postcode_to_nuts3_2024.csv.gz", "nuts3_2021_to_2024.csv"):
        os.symlink(data_dir / "regions" / name, local / "regions" / name)
    os.symlink(data_dir / "cordis/json", local / "cordis")
    db = tmp_path / "h.db"
    result = run("quickstart", "--no-serve", "--data-dir", str(local), "--countries", "FI,DE", store=db)
    assert result.returncode == 0, result.stderr
    stats = json.loads(run("stats", "--json", store=db).stdout)
    assert 0 < stats["organisations"] and stats["urban_rural"]["unknown"] < stats["organisations"] / 4


def test_the_map_command_writes_an_offline_page(tmp_path: Path, sample_db: Path) -> None:
    db = tmp_path / "h.db"
    shutil.copy(sample_db, db)
    out = tmp_path / "dk.html"
    result = run("map", "--nuts", "DK", "--out", str(out), store=db)
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "KØBENHAVNS" in html.upper() or "KOBENHAVNS" in html.upper()
    assert "https://" not in "".join(line for line in html.splitlines() if "<script src" in line or "<link" in line)


def test_the_map_command_refuses_an_unknown_layout(tmp_path: Path) -> None:
    result = run("map", "--layout", "spiral", store=tmp_path / "h.db")
    assert result.returncode == 2 and "layout" in result.stderr


def test_resolve_writes_the_review_file_and_takes_overrides_until_cleared(tmp_path: Path, data_dir: Path) -> None:
    from ecosystem.store.sqlite import SQLiteStore

    db = tmp_path / "h.db"
    assert run("import", "cordis", str(data_dir / "cordis/h2020_organization_sample.csv"), store=db).returncode == 0
    imported = run("import", "ror", str(data_dir / "ror/ror_v2_europe_sample.json.gz"), store=db)
    assert imported.returncode == 0 and "entity resolution:" in imported.stderr
    review = tmp_path / "review.csv"
    result = run("resolve", "--review", str(review), store=db)
    assert result.returncode == 0 and "organisations are made of" in result.stderr
    with review.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"left_id", "right_id", "score", "reasons", "decision"} <= set(rows[0])
    before = json.loads(run("stats", "--json", store=db).stdout)
    store = SQLiteStore(db)
    canonical, members = next((c, m) for c, m in sorted(store.record_groups().items()) if len(m) == 2)
    store.close()
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(f"left_id,right_id,decision\n{members[0]},{members[1]},forbid\n", encoding="utf-8")
    assert run("resolve", "--overrides", str(overrides), store=db).returncode == 0
    assert json.loads(run("stats", "--json", store=db).stdout)["organisations"] == before["organisations"] + 1
    assert run("resolve", "--clear-overrides", store=db).returncode == 0
    assert json.loads(run("stats", "--json", store=db).stdout) == before
    bad = tmp_path / "bad.csv"
    bad.write_text("left_id,right_id,decision\n1,2,perhaps\n", encoding="utf-8")
    refused = run("resolve", "--overrides", str(bad), store=db)
    assert refused.returncode == 1 and "bad.csv" in refused.stderr and "line 2" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_command_that_fails_still_closes_its_store(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    import ecosystem.cli as cli
    from ecosystem.store.sqlite import SQLiteStore

    opened: list[SQLiteStore] = []
    closed: list[SQLiteStore] = []

    class SpyStore(SQLiteStore):
        def close(self) -> None:
            closed.append(self)
            super().close()

    def open_spy(uri: str, settings: object = None) -> SQLiteStore:
        store = SpyStore(tmp_path / "h.db")
        opened.append(store)
        return store

    monkeypatch.setattr(cli, "open_store", open_spy)
    runner = CliRunner()
    for args in (["recommend", "no-such-organisation"], ["export", "--nuts", "ZZ9"], ["stats", "--json"],
                 ["clusters", "--nuts", "x!"]):
        result = runner.invoke(cli.app, ["--store", f"sqlite:///{tmp_path / 'h.db'}", *args])
        assert result.exit_code == (0 if args[0] == "stats" else 1), (args, result.output)
    assert len(opened) == 4 and closed == opened
