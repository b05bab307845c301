"""Input and output that must not escape: markup in data and file names, archives that expand without end,
JSON nested without end, files without rows, numbers that are not finite, unknown NUTS codes, usage errors,
a port in use. Each gives its one line naming the file (or the code) and the right exit code."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import helixmap_command
from tests.integration.test_cli import run

GIB = 1 << 30

PEAK_MEMORY = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:])
_pid, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
print(f"peak_rss_kib={usage.ru_maxrss}", file=sys.stderr)
sys.exit(child.returncode)
"""
"""Runs a command and reports its peak memory. A child keeps the peak of the process it was forked from across
`exec` (Linux), so the command is started from this small process, never straight from the test's big one."""


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_markup_in_a_value_and_in_a_file_name_is_printed_as_it_is(tmp_path: Path) -> None:
    src = tmp_path / "26_[red]organization.csv"
    src.write_text("projectID;organisationID;name;activityType\n1;2;A [/] [bold]B;[/]\n1;3;C;HES\n",
                   encoding="utf-8")
    result = run("import", "cordis", str(src), store=tmp_path / "h.db")
    assert result.returncode == 0, result.stderr
    assert "imported 2 organisations" in result.stderr
    assert "26_[red]organization.csv, line 2, field 'activityType': unknown type '[/]'" in result.stderr
    empty = tmp_path / "26_[red]empty.csv"
    empty.write_text("projectID;organisationID;name\n", encoding="utf-8")
    failed = run("import", "cordis", str(empty), store=tmp_path / "h.db")
    assert failed.returncode == 1
    assert error_lines(failed.stderr) == ["error: 26_[red]empty.csv, line 2: a CORDIS organisations file with a "
                                          "header and no rows"]


def _bomb_zip(path: Path) -> None:
    """A zip of about 1 MB whose one CSV expands to 1 GiB of zeros (built here, never stored)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf, \
            zf.open("organization.csv", "w", force_zip64=True) as fh:
        fh.write(b"projectID;organisationID;name\n")
        block = b"0" * (1 << 20)
        for _ in range(GIB // len(block)):
            fh.write(block)


def _bomb_gzip(path: Path) -> None:
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"projectID;organisationID;name\n")
        block = b"0" * (1 << 20)
        for _ in range(GIB // len(block)):
            fh.write(block)


@pytest.mark.parametrize("name,build", [("bomb.zip", _bomb_zip), ("bomb.csv.gz", _bomb_gzip)])
def test_a_decompression_bomb_stops_naming_the_file_in_bounded_memory(tmp_path: Path, name: str,
                                                                       build: object) -> None:
    bomb = tmp_path / name
    build(bomb)  # type: ignore[operator]
    assert bomb.stat().st_size < 2 << 20
    env = {**os.environ, "HELIXMAP_STORE": f"sqlite:///{tmp_path / 'h.db'}"}
    result = subprocess.run([sys.executable, "-c", PEAK_MEMORY, *helixmap_command(), "import", "cordis", str(bomb)],
                            env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    *messages, peak = result.stderr.rstrip("\n").split("\n")
    assert result.returncode == 1
    lines = error_lines("\n".join(messages))
    assert len(lines) == 1 and name in lines[0] and "MiB" in lines[0], result.stderr
    assert int(peak.removeprefix("peak_rss_kib=")) * 1024 < 1_000_000_000
    assert not (tmp_path / "h.db").exists() or run("stats", "--json", store=tmp_path / "h.db").stdout.count(
        '"organisations": 0') == 1


def test_the_expansion_cap_is_a_setting(tmp_path: Path) -> None:
    src = tmp_path / "organization.csv.gz"
    with gzip.open(src, "wb") as fh:
        fh.write(b"projectID;organisationID;name\n" + b"1;2;" + b"x" * (2 << 20) + b"\n")
    small = run("import", "cordis", str(src), store=tmp_path / "h.db", extra_env={"HELIXMAP_MAX_EXPANDED_MB": "1"})
    assert small.returncode == 1 and "more than 1 MiB" in small.stderr
    assert run("import", "cordis", str(src), store=tmp_path / "h.db").returncode == 0


def test_deep_json_a_zip_in_a_zip_and_a_file_without_rows_are_one_line_each(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("organization.csv", "projectID;organisationID;name\n1;2;A\n")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "inner.zip")
    header_only = tmp_path / "project.csv"
    header_only.write_text("id;acronym;startDate\n", encoding="utf-8")
    for path, named in ((deep, "deep.json"), (outer, "outer.zip!inner.zip"), (header_only, "project.csv")):
        result = run("import", "cordis", str(path), store=tmp_path / "h.db")
        lines = error_lines(result.stderr)
        assert result.returncode == 1, (path, result.stderr)
        assert len(lines) == 1 and lines[0].startswith(f"error: {named}"), result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["inf", "1e309", "Infinity", "NaN"])
def test_a_contribution_that_is_not_finite_is_warned_about_and_left_out(tmp_path: Path, value: str) -> None:
    src = tmp_path / "organization.csv"
    src.write_text(f"projectID;organisationID;name;ecContribution\n1;2;A;{value}\n1;3;B;100\n", encoding="utf-8")
    db = tmp_path / "h.db"
    result = run("import", "cordis", str(src), store=db)
    assert result.returncode == 0, result.stderr
    assert f"organization.csv, line 2, field 'ecContribution': not a finite number: '{value}'; left out" \
        in result.stderr
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    try:
        projects = store.organisation_projects("2")
        other = store.organisation_projects("3")
    finally:
        store.close()
    assert [p.get("ec_contribution") for p in projects] == [None]
    assert [p.get("ec_contribution") for p in other] == [100.0]


def test_json_numbers_that_are_not_finite_are_warned_about(tmp_path: Path) -> None:
    src = tmp_path / "organization.json"
    src.write_text('[{"projectID": 1, "organisationID": 2, "name": "A", "ecContribution": Infinity},'
                   ' {"projectID": 1, "organisationID": 3, "name": "B", "ecContribution": 1e309}]', encoding="utf-8")
    result = run("import", "cordis", str(src), store=tmp_path / "h.db")
    assert result.returncode == 0, result.stderr
    assert "organization.json, line 1, field 'ecContribution': not a finite number: inf; left out" in result.stderr
    assert "organization.json, line 2, field 'ecContribution'" in result.stderr


@pytest.mark.parametrize("args", [
    ("map", "--nuts", "ZZ9", "--out", "{out}"),
    ("export", "--nuts", "DK", "--nuts", "ZZ9", "--out", "{out}"),
    ("clusters", "--nuts", "ZZ9"),
    ("recommend", "999979888", "--nuts", "ZZ9"),
])
def test_an_unknown_nuts_code_is_the_apis_404_message_and_writes_nothing(tmp_path: Path, sample_db: Path,
                                                                          args: tuple[str, ...]) -> None:
    db = tmp_path / "h.db"
    shutil.copy(sample_db, db)
    out = tmp_path / "out.file"
    result = run(*(a.format(out=out) for a in args), store=db)
    assert result.returncode == 1
    assert error_lines(result.stderr) == ["error: unknown NUTS region 'ZZ9'"]
    assert not out.exists() and result.stdout == ""
    from api.errors import status_of
    from ecosystem.domain.errors import HelixmapError
    from ecosystem.services.regions import checked_nuts
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    try:
        with pytest.raises(HelixmapError) as raised:  # what the API's routers call, and answer with
            checked_nuts(store, "ZZ9")
    finally:
        store.close()
    assert status_of(raised.value) == 404 and str(raised.value) == "unknown NUTS region 'ZZ9'"


@pytest.mark.parametrize("args,word", [
    (("map", "--layout", "spiral"), "--layout"),
    (("map", "--helix", "aristocracy"), "--helix"),
    (("export", "--format", "xls"), "--format"),
    (("recommend", "1", "--helix", "x"), "--helix"),
    (("export", "--urban-rural", "suburb"), "--urban-rural"),
])
def test_usage_errors_exit_2_naming_the_option(tmp_path: Path, args: tuple[str, ...], word: str) -> None:
    result = run(*args, store=tmp_path / "h.db")
    assert result.returncode == 2 and word in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "h.db").exists()


def test_serve_checks_the_port_before_announcing_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), store=tmp_path / "h.db", timeout=60)
    assert result.returncode == 1
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "serving" not in result.stderr


def test_bracketed_words_in_messages_are_kept(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nname = "x"\n', encoding="utf-8")
    table = tmp_path / "t.csv"
    table.write_text("x\n1\n", encoding="utf-8")
    result = run("import", "table", str(table), "--mapping", str(mapping), store=tmp_path / "h.db")
    assert result.returncode == 1
    assert "[source]" in result.stderr and "[organisation]" in result.stderr


def test_deep_json_is_one_line_for_ror_too(tmp_path: Path) -> None:
    deep = tmp_path / "ror-deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    result = run("import", "ror", str(deep), store=tmp_path / "h.db")
    assert result.returncode == 1
    assert error_lines(result.stderr) == ["error: ror-deep.json: JSON nested too deeply to be a ROR dump"]
