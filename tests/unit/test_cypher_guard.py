"""The read-only check of researchers' Cypher, on plans shaped as Neo4j 5.26 gives them to the driver.

The same cases run against a real server in tests/e2e/test_api_neo4j.py; here each reason is checked alone."""

from __future__ import annotations

from typing import Any

import pytest

from ecosystem.domain.errors import QueryRejectedError
from ecosystem.store.cypher_guard import check_plan, function_names, procedure_name, split_operator


def plan(*chain: str | tuple[str, str]) -> dict[str, Any]:
    """A linear plan: ProduceResults on top, then each operator ('Name@db' or ('Name@db', details)) below."""
    root: dict[str, Any] = {"operatorType": "ProduceResults@neo4j", "args": {"Details": "x"}, "children": []}
    node = root
    for item in chain:
        name, details = item if isinstance(item, tuple) else (item, "")
        child = {"operatorType": name, "args": {"Details": details}, "children": []}
        node["children"].append(child)
        node = child
    return root


def test_a_plain_read_passes() -> None:
    check_plan(plan("EagerAggregation@neo4j", ("Expand(All)@neo4j", "(o)-[r:PARTICIPATES_IN]->(p)"),
                    ("NodeIndexSeek@neo4j", "RANGE INDEX o:Organisation(id) WHERE id = $autostring_0")), "r")
    check_plan(plan(("Projection@neo4j", "date.truncate($autostring_0, date()) AS d, toUpper(o.name) AS n"),
                    "AllNodesScan@neo4j"), "r")
    check_plan(plan(("ProcedureCall@neo4j", "db.labels() :: (label :: STRING)")), "r")


@pytest.mark.parametrize("the_plan,query_type,reason", [
    (plan("LoadCSV@neo4j"), "r", "LOAD CSV"),
    (plan("Create@neo4j"), "rw", "writes"),
    (plan("SetProperty@neo4j", "AllNodesScan@neo4j"), "rw", "writes"),
    (plan("EmptyResult@neo4j", "TransactionForeach@neo4j", "EmptyRow@neo4j", "Create@neo4j"), "w", "IN TRANSACTIONS"),
    (plan("DetachDelete@neo4j", "AllNodesScan@neo4j"), "w", "writes"),
    (plan("CreateIndex@neo4j"), "s", "schema"),
    (plan("ShowSettings@neo4j"), "r", "SHOW"),
    (plan("ShowTransactions@neo4j"), "r", "SHOW"),
    (plan("TerminateTransactions@neo4j"), "r", "TERMINATE"),
    ({"operatorType": "AdministrationCommand@system"}, "s", "database 'system'"),
    (plan(("ProcedureCall@system", "db.labels() :: (label :: STRING)")), "r", "database 'system'"),
    (plan(("ProcedureCall@neo4j", "dbms.listConfig() :: (name :: STRING)")), "s", "dbms.listConfig"),
    (plan(("ProcedureCall@neo4j", "db.clearQueryCaches() :: (value :: STRING)")), "s", "db.clearQueryCaches"),
    (plan(("Projection@neo4j", "apoc.text.join($l, $s) AS x")), "r", "apoc.text.join"),
    (plan(("ProcedureCall@neo4j", "db.labels(apoc.x($a)) :: (label :: STRING)")), "r", "apoc.x"),
    (plan("SomeOperatorOfAFutureVersion@neo4j"), "r", "SomeOperatorOfAFutureVersion"),
    (plan("AllNodesScan@neo4j"), "rw", "writes"),
    (plan("AllNodesScan@neo4j"), None, "not read-only"),
    (None, "r", "no plan"),
])
def test_what_is_not_a_read_of_this_database_is_refused_with_its_reason(the_plan: Any, query_type: str | None,
                                                                        reason: str) -> None:
    with pytest.raises(QueryRejectedError, match=r"^refused: ") as refused:
        check_plan(the_plan, query_type)
    assert reason in str(refused.value)


def test_the_specific_reason_wins_wherever_the_operator_is() -> None:
    with pytest.raises(QueryRejectedError, match="LOAD CSV"):
        check_plan(plan("Apply@neo4j", "SomethingUnknown@neo4j", "LoadCSV@neo4j"), "r")


def test_the_database_is_the_sessions() -> None:
    check_plan({"operatorType": "ProduceResults@research", "children": [{"operatorType": "AllNodesScan@research"}]},
               "r", database="research")
    with pytest.raises(QueryRejectedError, match="'neo4j'"):
        check_plan(plan("AllNodesScan@neo4j"), "r", database="research")


def test_names_are_read_as_neo4j_renders_them() -> None:
    assert split_operator("VarLengthExpand(Pruning,BFS)@neo4j") == ("VarLengthExpand", "neo4j")
    assert split_operator("Filter") == ("Filter", None)
    assert procedure_name("`db`.`labels`() :: (label :: STRING)") == "db.labels"
    assert function_names("toUpper(o.name), `apoc`.`x`(1), o:Organisation(id), cache[o.name], point.distance(a, b)") \
        == ["apoc.x", "point.distance"]
