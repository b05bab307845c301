"""What a researcher's Cypher may do, decided from what Neo4j says it will do: the plan of `EXPLAIN`.

The text of a query is not looked at (comments, backticks, spacing and case make text filters leaky). Neo4j
plans the query and `check_plan` walks that plan:

- the query type Neo4j reports must be read-only (`"r"`); writes (`"rw"`, `"w"`) and schema or system
  commands (`"s"`) are refused;
- every operator must run on the database the session is bound to (an operator `...@system` is an
  administration command or a `USE` of another database);
- every operator must be on an explicit list of read operators (`READ_OPERATORS`); `LOAD CSV`, writes, schema
  commands, `SHOW ...` and `TERMINATE ...` are refused with their own reason, and any operator not on the list
  is refused too (fail closed: a new Neo4j version's new operator is refused until someone lists it);
- a procedure call must name a procedure of `ALLOWED_PROCEDURES`; a namespaced function call must be in a
  namespace of `ALLOWED_FUNCTION_NAMESPACES` or in `ALLOWED_FUNCTIONS` (built-in un-namespaced functions such as
  `count` or `toUpper` compute values only; functions Neo4j does not know are refused by `EXPLAIN` itself).

Pure: it takes the plan as the driver gives it (a dict with `operatorType`, `args`, `children`) and raises
`QueryRejectedError` naming the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ecosystem.domain.errors import QueryRejectedError

# Procedures a researcher needs to find their way around the graph; all read-only.
ALLOWED_PROCEDURES = frozenset({
    "db.labels",
    "db.relationshipTypes",
    "db.propertyKeys",
    "db.schema.visualization",
    "db.schema.nodeTypeProperties",
    "db.schema.relTypeProperties",
    "db.index.fulltext.queryNodes",
    "db.index.fulltext.queryRelationships",
})

# Namespaces of built-in functions that compute values (temporal, spatial, vector); nothing else namespaced.
ALLOWED_FUNCTION_NAMESPACES = frozenset({
    "date", "datetime", "localdatetime", "localtime", "time", "duration", "point", "vector.similarity",
})
ALLOWED_FUNCTIONS = frozenset({"point.distance", "point.withinBBox"})

# Read operators of Neo4j 5 (Cypher manual, "Execution plan operators"), by name before any "(...)".
READ_OPERATORS = frozenset({
    # leaves: scans, seeks, counts
    "AllNodesScan", "NodeByLabelScan", "UnionNodeByLabelsScan", "IntersectionNodeByLabelsScan",
    "SubtractionNodeByLabelsScan", "NodeByIdSeek", "NodeByElementIdSeek", "NodeIndexSeek", "NodeUniqueIndexSeek",
    "NodeIndexSeekByRange", "NodeUniqueIndexSeekByRange", "MultiNodeIndexSeek", "AssertingMultiNodeIndexSeek",
    "NodeIndexScan", "NodeIndexContainsScan", "NodeIndexEndsWithScan",
    "DirectedAllRelationshipsScan", "UndirectedAllRelationshipsScan", "DirectedRelationshipTypeScan",
    "UndirectedRelationshipTypeScan", "DirectedUnionRelationshipTypesScan", "UndirectedUnionRelationshipTypesScan",
    "DirectedRelationshipByIdSeek", "UndirectedRelationshipByIdSeek", "DirectedRelationshipByElementIdSeek",
    "UndirectedRelationshipByElementIdSeek", "DirectedRelationshipIndexSeek", "UndirectedRelationshipIndexSeek",
    "DirectedRelationshipUniqueIndexSeek", "UndirectedRelationshipUniqueIndexSeek",
    "DirectedRelationshipIndexSeekByRange", "UndirectedRelationshipIndexSeekByRange",
    "DirectedRelationshipUniqueIndexSeekByRange", "UndirectedRelationshipUniqueIndexSeekByRange",
    "DirectedRelationshipIndexScan", "UndirectedRelationshipIndexScan", "DirectedRelationshipIndexContainsScan",
    "UndirectedRelationshipIndexContainsScan", "DirectedRelationshipIndexEndsWithScan",
    "UndirectedRelationshipIndexEndsWithScan", "NodeCountFromCountStore", "RelationshipCountFromCountStore",
    "Argument", "ArgumentTracker", "EmptyRow",
    # traversal
    "Expand", "OptionalExpand", "VarLengthExpand", "BFSPruningVarLengthExpand", "Repeat", "Trail",
    "StatefulShortestPath", "ShortestPath", "LegacyFindShortestPaths", "AssertSameNode", "AssertSameRelationship",
    "ProjectEndpoints", "NullifyMetadata", "TriadicSelection", "TriadicBuild", "TriadicFilter",
    # combining rows
    "Apply", "SemiApply", "AntiSemiApply", "LetSemiApply", "LetAntiSemiApply", "SelectOrSemiApply",
    "SelectOrAntiSemiApply", "LetSelectOrSemiApply", "LetSelectOrAntiSemiApply", "ConditionalApply",
    "AntiConditionalApply", "RollUpApply", "Anti", "Optional", "CartesianProduct", "NodeHashJoin",
    "NodeLeftOuterHashJoin", "NodeRightOuterHashJoin", "ValueHashJoin", "Union", "OrderedUnion", "Unwind",
    # computing rows
    "Projection", "Filter", "CacheProperties", "Distinct", "OrderedDistinct", "EagerAggregation",
    "OrderedAggregation", "Sort", "PartialSort", "Top", "PartialTop", "Top1WithTies", "Limit", "ExhaustiveLimit",
    "Skip", "Eager", "ProduceResults", "ProcedureCall",
})

_REASONS: tuple[tuple[str, str], ...] = (
    ("LoadCSV", "LOAD CSV is not allowed: a query may not fetch files or URLs"),
    ("Show", "SHOW commands are not allowed in read-only queries"),
    ("Terminate", "TERMINATE commands are not allowed in read-only queries"),
    ("AdministrationCommand", "administration commands are not allowed in read-only queries"),
    ("CreateIndex", "schema changes are not allowed in read-only queries"),
    ("CreateConstraint", "schema changes are not allowed in read-only queries"),
    ("Create", "writes are not allowed in read-only queries"),
    ("Drop", "schema changes are not allowed in read-only queries"),
    ("DoNothingIf", "schema changes are not allowed in read-only queries"),
    ("Merge", "writes are not allowed in read-only queries"),
    ("LockingMerge", "writes are not allowed in read-only queries"),
    ("Delete", "writes are not allowed in read-only queries"),
    ("DetachDelete", "writes are not allowed in read-only queries"),
    ("Set", "writes are not allowed in read-only queries"),
    ("Remove", "writes are not allowed in read-only queries"),
    ("Foreach", "writes are not allowed in read-only queries"),
    ("SubqueryForeach", "writes are not allowed in read-only queries"),
    ("Transaction", "CALL ... IN TRANSACTIONS is not allowed in read-only queries"),
)

_QUERY_TYPES = {"rw": "writes are not allowed in read-only queries",
                "w": "writes are not allowed in read-only queries",
                "s": "schema, administration and system procedures are not allowed in read-only queries"}

_NAME = r"(?:`[^`]*`|[A-Za-z_][A-Za-z0-9_]*)"
# A namespaced call as Neo4j renders it in a plan's details: `ns.name(` (literals are parameters there).
_CALL = re.compile(rf"(?<![\w.`$:]){_NAME}(?:\.{_NAME})+(?=\()")


def operators(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every operator of a plan, depth first."""
    yield plan
    for child in plan.get("children") or ():
        yield from operators(child)


def split_operator(operator_type: str) -> tuple[str, str | None]:
    """'Expand(All)@neo4j' -> ('Expand', 'neo4j'); a name without '@' has no database."""
    name, _, database = operator_type.partition("@")
    return name.split("(", 1)[0].strip(), database or None


def _unquoted(name: str) -> str:
    return ".".join(part.strip("`") for part in re.findall(_NAME, name))


def procedure_name(details: str) -> str:
    """'db.labels() :: (label :: STRING)' -> 'db.labels'."""
    head = details.split("(", 1)[0].strip()
    return _unquoted(head)


def function_names(details: str) -> list[str]:
    """The namespaced function calls in an operator's details."""
    return [_unquoted(m.group(0)) for m in _CALL.finditer(details)]


def _function_allowed(name: str) -> bool:
    if name in ALLOWED_FUNCTIONS:
        return True
    namespace = name.rsplit(".", 1)[0]
    return namespace in ALLOWED_FUNCTION_NAMESPACES


def _refusal(name: str) -> str | None:
    for prefix, reason in _REASONS:
        if name.startswith(prefix):
            return reason
    return None


def check_operator(operator: Mapping[str, Any], database: str) -> None:
    """Refuse one plan operator that is not a read of `database`."""
    name, on = split_operator(str(operator.get("operatorType", "")))
    if on is not None and on != database:
        raise QueryRejectedError(f"refused: the query runs on database '{on}', only '{database}' may be read "
                                 "(no USE of another database, no administration commands)")
    if name not in READ_OPERATORS:
        reason = _refusal(name) or f"the operation '{name}' is not on the list of read-only operations"
        raise QueryRejectedError(f"refused: {reason}")
    details = str((operator.get("args") or operator.get("arguments") or {}).get("Details") or "")
    if name == "ProcedureCall":
        procedure = procedure_name(details)
        if procedure not in ALLOWED_PROCEDURES:
            raise QueryRejectedError(f"refused: the procedure '{procedure or '?'}' is not allowed "
                                     f"(allowed: {', '.join(sorted(ALLOWED_PROCEDURES))})")
        details = details.split("(", 1)[1] if "(" in details else ""  # the arguments only
    for function in function_names(details):
        if not _function_allowed(function):
            raise QueryRejectedError(f"refused: the function '{function}' is not allowed in read-only queries")


def check_plan(plan: Mapping[str, Any] | None, query_type: str | None, *, database: str = "neo4j") -> None:
    """Raise `QueryRejectedError` unless the plan Neo4j gave for a query only reads `database`."""
    if not plan:
        raise QueryRejectedError("refused: Neo4j gave no plan for this query, so it cannot be shown to be read-only")
    every = list(operators(plan))
    for operator in every:  # first the operations refused with a reason of their own, wherever they are
        name, on = split_operator(str(operator.get("operatorType", "")))
        if (on is not None and on != database) or _refusal(name) is not None:
            check_operator(operator, database)
    for operator in every:
        check_operator(operator, database)
    if query_type != "r":
        raise QueryRejectedError(f"refused: {_QUERY_TYPES.get(str(query_type), 'the query is not read-only')}")
