"""`helixmap partners`: partners for an idea on the command line, over the real sample store; clear words on bad
input, never a traceback."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.integration.test_cli import run

KU = "999991043"  # KOBENHAVNS UNIVERSITET


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, sample_db: Path) -> Path:
    path = tmp_path_factory.mktemp("partners-cli") / "h.db"
    shutil.copy(sample_db, path)
    return path


def test_partners_ranks_organisations_for_an_idea_as_the_service_does(db: Path) -> None:
    result = run("partners", "--q", "graphene", "--exclude", KU, "-k", "5", "--json", store=db)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    from ecosystem.services.partners import partners_for_idea
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    try:
        direct = partners_for_idea(store, q="graphene", exclude=[KU], k=5)
    finally:
        store.close()
    assert answer == direct
    ids = [item["id"] for item in answer["items"]]
    assert 1 <= len(ids) <= 5 and KU not in ids and all(item["reasons"] for item in answer["items"])
    assert [item["score"] for item in answer["items"]] == sorted((i["score"] for i in answer["items"]), reverse=True)


def test_partners_in_words_with_filters_and_a_comma_separated_consortium(db: Path) -> None:
    result = run("partners", "--programme", "H2020", "--helix", "academia", "--exclude", f"{KU},999992401", "-k", "4",
                 store=db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"[1-9][\d,]* projects? match(es)? the idea", lines[0])
    ranked = [line for line in lines if re.match(r" ?\d+\. ", line)]
    assert 1 <= len(ranked) <= 4 and all("(academia, " in line for line in ranked)
    assert not any("KOBENHAVNS UNIVERSITET (" in line or "COMMISSARIAT A L ENERGIE" in line for line in ranked)
    assert any(line.startswith("      - ") for line in lines)  # the reasons


def test_an_idea_that_matches_nothing_says_so_and_succeeds(db: Path) -> None:
    result = run("partners", "--topic", "NO-SUCH-TOPIC-2099", store=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 projects match the idea; no organisation to suggest")
    assert "note: " in result.stdout and "NO-SUCH-TOPIC-2099" in result.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (("partners", "--helix", "academia"), 2, "--topic"),  # no idea given
    (("partners", "--q", "graphene", "--helix", "wizards"), 2, "--helix"),
    (("partners", "--q", "graphene", "-k", "0"), 2, "-k"),
    (("partners", "--q", "graphene", "--exclude", "no-such-org"), 1, "no-such-org"),
    (("partners", "--q", "graphene", "--nuts", "ZZ9"), 1, "unknown NUTS region 'ZZ9'"),
])
def test_bad_input_is_one_clear_message_and_no_traceback(db: Path, args: tuple[str, ...], code: int,
                                                         words: str) -> None:
    result = run(*args, store=db)
    assert result.returncode == code and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    if code == 1:
        assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1
