"""The W3C SHACL test suite (core and SPARQL), run against the native engine.

The suite is a copy of ``data-shapes-test-suite/tests`` of the w3c/data-shapes repository
(commit ff9edb9), kept unmodified in ``tests/w3c-shacl/``. Every entry of every manifest
(``mf:entries``) is one test: its ``mf:action`` names the data graph and the shapes graph, its
``mf:result`` the expected validation report, or ``sht:Failure`` when a conforming processor
must refuse the shapes.

A test passes when the engine's ``conforms`` flag and its set of results equal the report's:
each result compared by focus node, result path, value, source shape, constraint component and
severity. Blank nodes (a shape written ``sh:property [ ... ]``, a complex path, a blank focus
node or value) are compared by a canonical description of what they are (their triples, blank
nodes inside described the same way), since the report and the graphs are parsed separately.
Severities are compared as levels (:class:`cica_ld.shacl_model.Severity`): a custom severity
IRI is a violation, as the result model has it.

Tests the engine does not support are listed in ``tests/w3c-shacl-unsupported.txt`` with the
reason, and reported as skips with that reason; the list is checked against the suite, so an
entry that names no test, or a listed test that passes, fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from cica_ld.errors import InputError
from cica_ld.shacl_model import Severity, path_to_sparql

SUITE = Path(__file__).resolve().parent / "w3c-shacl"
UNSUPPORTED_FILE = Path(__file__).resolve().parent / "w3c-shacl-unsupported.txt"

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"
SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
TRUE = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'


@dataclass(frozen=True)
class Case:
    id: str  # section/subsection/name, e.g. core/node/class-001
    manifest: Path
    entry: str  # the entry's IRI (N-Triples)
    data: Path
    shapes: Path

    @property
    def section(self) -> str:
        return self.id.rsplit("/", 1)[0]


def _load(path: Path):  # -> pyoxigraph.Store
    """The file as cica-ld loads it: literals the store would change kept as written (as
    surrogates, see cica_ld/lexical.py)."""
    from cica_ld import dataset

    return dataset.load([path], include_ontology=False, input_format="turtle").store


class _Reader:
    """Objects and subjects of a store, by N-Triples terms."""

    def __init__(self, store) -> None:
        from cica_ld.lexical import AsWrittenStore
        from cica_ld.shacl.shapes import Graph

        self.g = Graph(AsWrittenStore(store))  # terms as written

    def objects(self, s: str, p: str) -> list[str]:
        return self.g.objects(s, p)

    def value(self, s: str, p: str) -> str | None:
        return self.g.value(s, p)

    def subjects(self, p: str, o: str | None) -> list[str]:
        return self.g.subjects(p, o)

    def items(self, head: str) -> list[str]:
        return self.g.items(head)

    def triples_of(self, s: str) -> list[tuple[str, str]]:
        import pyoxigraph

        from cica_ld.shacl.shapes import to_term

        term = to_term(s)
        assert isinstance(term, pyoxigraph.NamedNode | pyoxigraph.BlankNode)
        return [
            (str(q.predicate), str(q.object))
            for q in self.g.store.quads_for_pattern(term, None, None)
        ]


def _file_of(iri: str) -> Path:
    assert iri.startswith("<file://"), iri
    from urllib.parse import unquote, urlsplit

    return Path(unquote(urlsplit(iri[1:-1]).path))


def _manifests(path: Path) -> list[Path]:
    """``path`` and every manifest it includes (mf:include), depth first."""
    r = _Reader(_load(path))
    out = [path]
    for m in r.subjects(MF + "include", None):
        for inc in r.objects(m, MF + "include"):
            out.extend(_manifests(_file_of(inc)))
    return out


@cache
def cases() -> tuple[Case, ...]:
    found: list[Case] = []
    for manifest in _manifests(SUITE / "manifest.ttl"):
        r = _Reader(_load(manifest))
        for m in r.subjects(MF + "entries", None):
            for entry in r.items(r.objects(m, MF + "entries")[0]):
                action = r.value(entry, MF + "action")
                assert action is not None, entry
                data = r.value(action, SHT + "dataGraph")
                shapes = r.value(action, SHT + "shapesGraph")
                assert data is not None and shapes is not None, entry
                rel = manifest.parent.relative_to(SUITE).as_posix()
                name = entry.strip("<>").rsplit("/", 1)[-1]
                found.append(
                    Case(f"{rel}/{name}", manifest, entry, _file_of(data), _file_of(shapes))
                )
    return tuple(sorted(found, key=lambda c: c.id))


def unsupported() -> dict[str, str]:
    """Test id -> reason, from ``tests/w3c-shacl-unsupported.txt`` (``id: reason`` lines)."""
    out: dict[str, str] = {}
    for line in UNSUPPORTED_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition(":")
        out[test_id.strip()] = reason.strip()
    return out


# --------------------------------------------------------------------------------------------
# Canonical descriptions of terms


def describe(term: str | None, reader: _Reader, depth: int = 0) -> str | None:
    """A term as itself, or a blank node as the sorted description of its triples."""
    if term is None or not term.startswith("_:"):
        return term
    if depth > 12:
        return "[...]"
    parts = sorted(f"{p} {describe(o, reader, depth + 1)}" for p, o in reader.triples_of(term))
    return "[" + " ; ".join(parts) + "]"


def describe_shape(term: str, reader: _Reader) -> str:
    """A source shape: an IRI as itself; a blank-node shape by its triples (its path and
    constraints), so the shape in the manifest and the one in the shapes graph compare equal."""
    return describe(term, reader) or term


Key = tuple[str | None, str | None, str | None, str, str, Severity]


def expected_results(case: Case) -> tuple[bool, frozenset[Key]] | None:
    """The report a test expects (None for ``sht:Failure``)."""
    store = _load(case.manifest)
    r = _Reader(store)
    result = r.value(case.entry, MF + "result")
    assert result is not None
    if result == f"<{SHT}Failure>":
        return None
    conforms = r.value(result, SH + "conforms") == TRUE
    keys: set[Key] = set()
    for res in r.objects(result, SH + "result"):
        path_node = r.value(res, SH + "resultPath")
        path = path_to_sparql(path_node, _path_objects(r)) if path_node else None
        severity = r.value(res, SH + "resultSeverity") or f"<{SH}Violation>"
        keys.add(
            (
                describe(r.value(res, SH + "focusNode"), r),
                path,
                describe(r.value(res, SH + "value"), r),
                describe_shape(r.value(res, SH + "sourceShape") or "", r),
                (r.value(res, SH + "sourceConstraintComponent") or "").strip("<>"),
                Severity.from_iri(severity),
            )
        )
    return conforms, frozenset(keys)


def _path_objects(r: _Reader) -> Callable[[str, str], list[str]]:
    """Path triples as the engine reads them: a node that is a list is a sequence path."""

    def objects(s: str, p: str) -> list[str]:
        if p != RDF + "first" and p.startswith(SH) and r.objects(s, RDF + "first"):
            return []
        return r.objects(s, p)

    return objects


def actual_results(case: Case) -> tuple[bool, frozenset[Key]]:
    from cica_ld.shacl import validate

    data = _load(case.data)
    shapes = data if case.shapes == case.data else _load(case.shapes)
    results = validate(data, shapes)
    dr, sr = _Reader(data), _Reader(shapes)
    keys = {
        (
            describe(r.focus_node, dr),
            r.path,
            describe(r.value, dr),
            describe_shape(r.source_shape, sr),
            r.constraint_component,
            r.severity,
        )
        for r in results
    }
    return not results, frozenset(keys)


def outcome(case: Case) -> tuple[bool, str]:
    """(passed, explanation) for one test."""
    expected = expected_results(case)
    if expected is None:
        try:
            actual_results(case)
        except InputError as exc:
            return True, f"refused as expected: {exc}"
        return False, "the shapes graph should have been refused (sht:Failure)"
    try:
        conforms, keys = actual_results(case)
    except InputError as exc:
        return False, f"refused: {exc}"
    want_conforms, want = expected
    if conforms == want_conforms and keys == want:
        return True, ""
    lines = [f"conforms: expected {want_conforms}, got {conforms}"]
    lines += [f"  missing:    {k}" for k in sorted(want - keys, key=str)]
    lines += [f"  unexpected: {k}" for k in sorted(keys - want, key=str)]
    return False, "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_w3c_case(case: Case) -> None:
    reason = unsupported().get(case.id)
    if reason is not None:
        passed, _why = outcome(case)
        assert not passed, f"{case.id} is listed as unsupported but passes: remove it from the list"
        pytest.skip(f"unsupported: {reason}")
    passed, why = outcome(case)
    assert passed, why


def test_suite_is_complete_and_unmodified() -> None:
    """The copy holds the suite's core and SPARQL sections with every manifest entry found."""
    sections = {c.id.split("/")[0] for c in cases()}
    assert sections == {"core", "sparql"}
    assert len(cases()) >= 120
    assert (SUITE / "README.md").is_file()


def test_unsupported_list_names_real_tests_with_reasons() -> None:
    ids = {c.id for c in cases()}
    listed = unsupported()
    assert set(listed) <= ids, f"not in the suite: {sorted(set(listed) - ids)}"
    assert all(reason for reason in listed.values()), "every unsupported test needs a reason"
