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

A ``dash:InferencingTestCase`` (SHACL-AF rules) is run as ``cica-ld validate --rules`` runs the
rules: natively by :func:`cica_ld.shacl.rules.apply_rules` on a copy of the data, with pySHACL by
its ``advanced`` + ``iterate_rules`` run in place on cica-ld's rdflib copy of the data. What the
rules inferred (the data after minus the data before) must be isomorphic to the graph of the
expected triples, each ``dash:expectedResult`` a reified ``rdf:subject``/``rdf:predicate``/
``rdf:object`` (exactly that graph: a triple inferred beyond it fails the case too). The file is
the data and the shapes; an ``owl:imports`` of the test's ontology naming a file beside the case
(the import IRI relative to the ontology IRI, plus ``.ttl``, e.g. ``rules/triple/person.ttl``) is
loaded with it, nothing is fetched.

A ``dash:FunctionTestCase`` (SHACL-AF functions) evaluates its ``dash:expression`` as a SPARQL
expression, ``SELECT (expression AS ?r) {}`` with the file's prefixes, over the file, with the
file's ``sh:SPARQLFunction``s callable: natively as cica-ld registers them
(:mod:`cica_ld.shacl.functions`), with pySHACL as pySHACL registers them with rdflib
(``pyshacl.functions.gather_functions``/``apply_functions``, what its own DASH check uses); the
value must be the ``dash:expectedResult`` term.

``dash:QueryTestCase`` (pySHACL's own addition: a query and its expected JSON results) is no
SHACL test: none is run, each is listed.

Cases an engine does not pass are listed in ``tests/dash-shacl-unsupported.txt`` (``engine
case: reason``) and reported as skips with that reason; a listed case that passes, an unlisted
one that fails, and an entry that names no case all fail.
"""

from __future__ import annotations

import sys
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
    runners = {
        "GraphValidationTestCase": validation_outcome,
        "InferencingTestCase": inferencing_outcome,
        "FunctionTestCase": function_outcome,
    }
    if len(found) != 1 or found[0] not in runners:
        return False, f"no runner for this case: dash:{', dash:'.join(found) or '(none)'}"
    try:
        return runners[found[0]](case, engine)
    except InputError as exc:
        return False, f"refused: {exc}"
    except Exception as exc:  # an internal error (exit 4 for a user): a failed case
        return False, f"internal error: {type(exc).__name__}: {exc}"


def validation_outcome(case: Case, engine: str) -> tuple[bool, str]:
    want = expected(case)
    graph = load_graph(case.path)
    got = actual_report(graph, graph, engine)
    if any(k[3] == "[]" for k in want[1]):
        got = _any_blank_shape(got)
    why = difference(want, got)
    return not why, why


OWL = "http://www.w3.org/2002/07/owl#"


def case_files(case: Case) -> list[Path]:
    """The case's file and the files it imports that sit beside it: an ``owl:imports`` of its
    ontology whose IRI is the ontology's folder IRI plus a name, read as that name + ``.ttl``
    next to the case (nothing is fetched; other imports, dash itself, are not loaded)."""
    r = Reader(_graph(case))
    files = [case.path]
    for onto in r.subjects(RDF_TYPE, f"<{OWL}Ontology>"):
        folder = onto.strip("<>").rsplit("/", 1)[0] + "/"
        for imported in r.objects(onto, OWL + "imports"):
            name = imported.strip("<>").removeprefix(folder)
            local = case.path.parent / f"{name}.ttl"
            if name != imported.strip("<>") and "/" not in name and local.is_file():
                files.append(local)
    return files


def _rdflib_graph(triples_nt: str):  # -> rdflib.Graph
    import rdflib

    g = rdflib.Graph()
    if triples_nt.strip():
        g.parse(data=triples_nt, format="nt")
    return g


def expected_inferred(case: Case):  # -> rdflib.Graph
    """The graph of the case's expected triples: each ``dash:expectedResult`` is a reified
    triple (``rdf:subject``, ``rdf:predicate``, ``rdf:object``), literals as written."""
    r = Reader(_graph(case))
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    lines = []
    for test in r.subjects(RDF_TYPE, f"<{DASH}InferencingTestCase>"):
        for res in r.objects(test, DASH + "expectedResult"):
            s, p, o = (r.value(res, rdf + k) for k in ("subject", "predicate", "object"))
            assert s and p and o, f"{case.id}: an expectedResult is no reified triple"
            lines.append(f"{s} {p} {o} .\n")
    return _rdflib_graph("".join(lines))


def inferred_triples(case: Case, engine: str):  # -> rdflib.Graph
    """What the rules of the case infer with ``engine`` (the data after the rules minus the
    data before), run as ``validate --rules`` runs them."""
    import pyoxigraph
    import rdflib

    from cica_ld import lexical, validation

    graph = validation.load_graph(case_files(case), "turtle")
    validation.check_shapes_graph(graph, rules=True)
    if engine == "native":
        from cica_ld.shacl.rules import apply_rules

        after = apply_rules(
            graph.store, graph.store, file_prefixes=validation.FilePrefixes(graph)
        ).store
        default = pyoxigraph.DefaultGraph()
        before = set(graph.store.quads_for_pattern(None, None, None, default))
        new = [q for q in after.quads_for_pattern(None, None, None, default) if q not in before]
        text = pyoxigraph.serialize(
            [q.triple for q in lexical.decode_quads(new)], format=pyoxigraph.RdfFormat.N_TRIPLES
        )
        return _rdflib_graph(text.decode("utf-8"))
    prefixes = dict(validation.WELL_KNOWN_PREFIXES)
    prefixes.update(validation.file_prefixes(graph.specs))
    # pySHACL runs the rules in place on cica-ld's rdflib copy of the data (data_g); the copy
    # as it was is the same N-Triples parsed with the same blank node map
    data_g, data_ids, *_ = validation._run_pyshacl(
        graph.store, graph.store, None, "none", prefixes, rules=True
    )
    before_g = rdflib.Graph()
    before_g.parse(data=_nt_of(graph.store), format="nt", bnode_context=dict(data_ids))
    out = rdflib.Graph()
    for t in set(data_g) - set(before_g):
        out.add(t)
    return out


def _nt_of(store) -> str:  # store: pyoxigraph.Store
    import pyoxigraph

    from cica_ld import lexical

    default = pyoxigraph.DefaultGraph()
    quads = lexical.decode_quads(store.quads_for_pattern(None, None, None, default))
    return pyoxigraph.serialize(
        [q.triple for q in quads], format=pyoxigraph.RdfFormat.N_TRIPLES
    ).decode("utf-8")


def inferencing_outcome(case: Case, engine: str) -> tuple[bool, str]:
    from rdflib.compare import graph_diff, isomorphic, to_isomorphic

    want, got = expected_inferred(case), inferred_triples(case, engine)
    if isomorphic(want, got):
        return True, ""
    _both, missing, extra = graph_diff(to_isomorphic(want), to_isomorphic(got))
    lines = ["the inferred triples differ from the expected ones"]
    lines += [f"  missing: {t}" for t in sorted(missing.triples((None, None, None)), key=str)]
    lines += [f"  extra: {t}" for t in sorted(extra.triples((None, None, None)), key=str)]
    return False, "\n".join(lines)


def function_outcome(case: Case, engine: str) -> tuple[bool, str]:
    """Each ``dash:FunctionTestCase`` of the file: ``dash:expression`` evaluated as a SPARQL
    expression (``SELECT (expression AS ?r) {}``, the file's prefixes) with the file's
    functions callable must give the ``dash:expectedResult`` term."""
    from cica_ld import validation
    from cica_ld.shacl.shapes import literal_value

    r = Reader(_graph(case))
    graph = load_graph(case.path)
    validation.check_shapes_graph(graph, rules=True)
    prefixes = validation.file_prefixes(graph.specs)
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
    tests = sorted(r.subjects(RDF_TYPE, f"<{DASH}FunctionTestCase>"))
    assert tests, case.id
    queries = []
    for test in tests:
        (expression,) = r.objects(test, DASH + "expression")
        (want,) = r.objects(test, DASH + "expectedResult")
        text = literal_value(expression)
        queries.append((test, text, want, f"{prologue}SELECT ({text} AS ?r) {{}}"))
    run = _native_values if engine == "native" else _pyshacl_values
    got = run(graph, [q for *_, q in queries])
    wrong = [
        f"{test}: {text} gave {value}, expected {want}"
        for (test, text, want, _q), value in zip(queries, got, strict=True)
        if value != want
    ]
    return not wrong, "\n".join(wrong)


def _native_values(graph, queries: list[str]) -> list[str | None]:
    """The value of ``?r`` of each query (None: no solution or unbound), with the functions of
    the shapes graph callable as cica-ld registers them (graph: a LoadedGraph)."""
    from cica_ld import lexical, validation
    from cica_ld.shacl.functions import callables, read_functions
    from cica_ld.shacl.shapes import ShapesGraph

    functions = read_functions(ShapesGraph(graph.store, validation.FilePrefixes(graph)))
    table = callables(functions, graph.store)
    out: list[str | None] = []
    for query in queries:
        rows = list(graph.store.query(query, custom_functions=table))
        value = rows[0]["r"] if rows else None
        out.append(None if value is None else str(lexical.decode(value)))
    return out


def _pyshacl_values(graph, queries: list[str]) -> list[str | None]:
    """The same with pySHACL's functions, registered (with rdflib, process-wide) as pySHACL
    registers them for the SPARQL of a validation, and unregistered after."""
    from pyshacl.functions import apply_functions, gather_functions, unapply_functions
    from pyshacl.graph_abstraction import DataGraph
    from pyshacl.pytypes import SHACLExecutor
    from pyshacl.shapes_graph import ShapesGraph

    from cica_ld import validation

    data_g, _ = validation._to_rdflib(graph.store)
    data = DataGraph.from_rdflib_graph(data_g)
    executor = SHACLExecutor(advanced_mode=True)
    functions = gather_functions(executor, ShapesGraph(data_g))
    apply_functions(executor, functions, data)
    try:
        out: list[str | None] = []
        for query in queries:
            rows = list(data.query(query))
            value = rows[0][0] if rows else None
            out.append(None if value is None else validation._nt(value, {}))
        return out
    finally:
        unapply_functions(functions, data)


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


def _case(case_id: str) -> Case:
    (case,) = (c for c in cases() if c.id == case_id)
    return case


def test_imports_beside_the_case_are_loaded_and_nothing_else() -> None:
    person2schema = _case("rules/triple/person2schema")
    assert case_files(person2schema) == [person2schema.path, SUITE / "rules/triple/person.ttl"]
    square = _case("rules/triple/square")  # imports only dash: nothing beside it
    assert case_files(square) == [square.path]


@pytest.mark.parametrize("engine", ENGINES)
def test_inferred_triples_must_be_exactly_the_expected(engine: str, monkeypatch) -> None:
    """A missing or an extra inferred triple fails an inferencing case."""
    case = _case("rules/triple/person2schema")
    full = expected_inferred(case)
    assert len(full) == 6 and outcome(case, engine)[0]
    fewer = full.__class__()
    for t in sorted(full)[1:]:
        fewer.add(t)
    monkeypatch.setattr(sys.modules[__name__], "expected_inferred", lambda _case: fewer)
    passed, why = outcome(case, engine)
    assert not passed and "extra:" in why


@pytest.mark.parametrize("engine", ENGINES)
def test_function_expressions_give_their_values(engine: str) -> None:
    """The function runner evaluates each expression with the file's functions: both engines
    give "A-B" for ex:withArguments("A", "B"); only pySHACL gives nothing for the zero-argument
    ex:booleanFunction() (why its case is listed)."""
    from cica_ld import validation

    case = _case("function/simpleSPARQLFunction")
    graph = validation.load_graph([case.path], "turtle")
    ex = "PREFIX ex: <http://datashapes.org/sh/tests/sparql/function/simpleSPARQLFunction.test#>"
    queries = [
        f'{ex} SELECT (ex:withArguments("A", "B") AS ?r) {{}}',
        f"{ex} SELECT (ex:booleanFunction() AS ?r) {{}}",
    ]
    values = (_native_values if engine == "native" else _pyshacl_values)(graph, queries)
    true = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    assert values == ['"A-B"', true if engine == "native" else None]
