"""The DASH SHACL test cases, run against both engines (native and ``--engine pyshacl``).

The cases are TopQuadrant's DASH test suite as pySHACL 0.40.1 publishes it (its sdist's
``test/resources/dash_tests``), kept unmodified in ``tests/dash-shacl/`` (see its README.md and
NOTICE). Each ``*.test.ttl`` file is one case and one graph: the shapes, the data and a test
case node. For a ``dash:GraphValidationTestCase`` the file is both the data graph and the shapes
graph, and ``dash:expectedResult`` is the expected ``sh:ValidationReport``; it is compared with
the Turtle report cica-ld writes, as the W3C suite is (tests/_shacl_conformance.py: results as a
multiset of focus node, path, value, source shape, component, severity IRI). One DASH
convention is followed: an expected ``sh:sourceShape []`` (a blank node with nothing about it)
stands for any blank-node shape.

The other kinds of case (``dash:InferencingTestCase`` for SHACL-AF rules,
``dash:FunctionTestCase`` for SHACL-AF functions, ``dash:QueryTestCase``) are not validation
tests: cica-ld has nothing to run them with, so they never pass and are listed.

Cases an engine does not pass are listed in ``tests/dash-shacl-unsupported.txt`` (``engine
case: reason``) and reported as skips with that reason; a listed case that passes, an unlisted
one that fails, and an entry that names no case all fail.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from _shacl_conformance import (
    Reader,
    Report,
    actual_report,
    difference,
    load,
    load_graph,
    report_keys,
)

from cica_ld.errors import InputError

SUITE = Path(__file__).resolve().parent / "dash-shacl"
UNSUPPORTED_FILE = Path(__file__).resolve().parent / "dash-shacl-unsupported.txt"
ENGINES = ("native", "pyshacl")

DASH = "http://datashapes.org/dash#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
KINDS = ("GraphValidationTestCase", "InferencingTestCase", "FunctionTestCase", "QueryTestCase")


@dataclass(frozen=True)
class Case:
    id: str  # the file's path under tests/dash-shacl without .test.ttl, e.g. core/node/class-001
    path: Path

    @property
    def section(self) -> str:
        return self.id.rsplit("/", 1)[0]


@cache
def cases() -> tuple[Case, ...]:
    found = [
        Case(p.relative_to(SUITE).as_posix().removesuffix(".test.ttl"), p)
        for p in SUITE.rglob("*.test.ttl")
    ]
    return tuple(sorted(found, key=lambda c: c.id))


@cache
def _graph(case: Case):  # -> pyoxigraph.Store
    return load(case.path)


def kinds(case: Case) -> list[str]:
    """The DASH test case classes the file's test case nodes have."""
    r = Reader(_graph(case))
    return [k for k in KINDS if r.subjects(RDF_TYPE, f"<{DASH}{k}>")]


def expected(case: Case) -> Report:
    r = Reader(_graph(case))
    (test,) = r.subjects(RDF_TYPE, f"<{DASH}GraphValidationTestCase>")
    report = r.value(test, DASH + "expectedResult")
    assert report is not None, case.id
    return report_keys(r, report)


def _any_blank_shape(report: Report) -> Report:
    """Blank-node source shapes as ``[]`` (DASH: ``sh:sourceShape []`` stands for any)."""
    conforms, keys = report
    out: Counter = Counter()
    for (focus, path, value, shape, component, severity), n in keys.items():
        shape = "[]" if shape.startswith("[") else shape
        out[(focus, path, value, shape, component, severity)] += n
    return conforms, out


def outcome(case: Case, engine: str) -> tuple[bool, str]:
    """(passed, explanation) of one case with one engine."""
    found = kinds(case)
    if found != ["GraphValidationTestCase"]:
        return False, f"not a validation test case: dash:{', dash:'.join(found) or '(none)'}"
    want = expected(case)
    graph = load_graph(case.path)
    try:
        got = actual_report(graph, graph, engine)
    except InputError as exc:
        return False, f"refused: {exc}"
    except Exception as exc:  # an internal error (exit 4 for a user): a failed case
        return False, f"internal error: {type(exc).__name__}: {exc}"
    if any(k[3] == "[]" for k in want[1]):
        got = _any_blank_shape(got)
    why = difference(want, got)
    return not why, why


def unsupported() -> dict[tuple[str, str], str]:
    """(engine, case id) -> reason, from ``tests/dash-shacl-unsupported.txt``."""
    out: dict[tuple[str, str], str] = {}
    for line in UNSUPPORTED_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, _, reason = line.partition(":")
        engine, _, case_id = head.strip().partition(" ")
        out[(engine, case_id.strip())] = reason.strip()
    return out


PARAMS = [pytest.param(e, c, id=f"{e}:{c.id}") for e in ENGINES for c in cases()]


@pytest.mark.parametrize(("engine", "case"), PARAMS)
def test_dash_case(engine: str, case: Case) -> None:
    passed, why = outcome(case, engine)
    reason = unsupported().get((engine, case.id))
    if reason is not None:
        assert not passed, f"{engine} {case.id} is listed but passes: remove it from the list"
        pytest.skip(f"unsupported: {reason}")
    assert passed, why


def test_suite_is_complete() -> None:
    """The copy holds every case of pySHACL 0.40.1's dash_tests, with its licence beside."""
    assert len(cases()) == 115
    assert {c.id.split("/")[0] for c in cases()} == {
        "core",
        "expression",
        "function",
        "query",
        "rules",
        "shapedefs",
        "sparql",
        "target",
    }
    for name in ("LICENSE.txt", "NOTICE", "README.md"):
        assert (SUITE / name).is_file(), name


def test_unsupported_list_names_real_cases_with_reasons() -> None:
    ids = {c.id for c in cases()}
    listed = unsupported()
    assert {e for e, _ in listed} <= set(ENGINES)
    assert {c for _, c in listed} <= ids, sorted({c for _, c in listed} - ids)
    assert all(listed.values()), "every listed case needs a reason"
