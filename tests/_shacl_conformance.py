"""Comparing validation reports with the expected reports of a conformance suite (shared by the
W3C suite, tests/test_w3c_shacl_suite.py, and the DASH suite, tests/test_dash_shacl_suite.py).

A report is compared as SHACL counts its results: a multiset. Each result is a key of focus
node, result path, value, source shape, constraint component and severity (the severity IRI
exactly as written: a custom severity is itself, not a violation); two results with the same
key are two results, and the expected report must have them twice too. Blank nodes (a shape
written ``sh:property [ ... ]``, a complex path, a blank focus node or value) are compared by
a canonical description of what they are (their triples, blank nodes inside described the
same way), since the report and the graphs are parsed separately.

The actual report is the one users get: the engine's results rendered by
:func:`cica_ld.reports.render` as the Turtle validation report (``--format ttl``), that text
parsed again, and its ``sh:result`` nodes read by the same code as the expected report's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cica_ld.shacl_model import path_to_sparql

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
TRUE = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
VIOLATION = f"<{SH}Violation>"

#: (focus node, path, value, source shape, constraint component, severity IRI)
Key = tuple[str | None, str | None, str | None, str, str, str]
Report = tuple[bool, Counter]  # (sh:conforms, the multiset of result keys)


def load(path: Path):  # -> pyoxigraph.Store
    """The file as cica-ld loads it: literals the store would change kept as written (as
    surrogates, see cica_ld/lexical.py)."""
    from cica_ld import dataset

    return dataset.load([path], include_ontology=False, input_format="turtle").store


class Reader:
    """Objects and subjects of a store, by N-Triples terms (literals as written)."""

    def __init__(self, store) -> None:
        from cica_ld.lexical import AsWrittenStore
        from cica_ld.shacl.shapes import Graph

        self.g = Graph(AsWrittenStore(store))

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


def describe(term: str | None, reader: Reader, depth: int = 0) -> str | None:
    """A term as itself, or a blank node as the sorted description of its triples."""
    if term is None or not term.startswith("_:"):
        return term
    if depth > 12:
        return "[...]"
    parts = sorted(f"{p} {describe(o, reader, depth + 1)}" for p, o in reader.triples_of(term))
    return "[" + " ; ".join(parts) + "]"


def path_objects(r: Reader) -> Callable[[str, str], list[str]]:
    """Path triples as the engine reads them: a node that is a list is a sequence path."""

    def objects(s: str, p: str) -> list[str]:
        if p != RDF + "first" and p.startswith(SH) and r.objects(s, RDF + "first"):
            return []
        return r.objects(s, p)

    return objects


def report_keys(
    report: Reader,
    node: str,
    nodes: Reader | None = None,
    shapes: Reader | None = None,
) -> Report:
    """The ``sh:ValidationReport`` ``node`` of ``report`` as (conforms, multiset of keys).
    Blank focus nodes and values are described from ``nodes``, blank source shapes from
    ``shapes`` (both default to ``report``: the expected reports of the suites sit in the
    graph they describe)."""
    nodes = nodes or report
    shapes = shapes or report
    conforms = report.value(node, SH + "conforms") == TRUE
    keys: Counter = Counter()
    for res in report.objects(node, SH + "result"):
        path_node = report.value(res, SH + "resultPath")
        path = path_to_sparql(path_node, path_objects(report)) if path_node else None
        keys[
            (
                describe(report.value(res, SH + "focusNode"), nodes),
                path,
                describe(report.value(res, SH + "value"), nodes),
                describe(report.value(res, SH + "sourceShape") or "", shapes) or "",
                (report.value(res, SH + "sourceConstraintComponent") or "").strip("<>"),
                report.value(res, SH + "resultSeverity") or VIOLATION,
            )
        ] += 1
    return conforms, keys


def parse_report(text: str):  # -> pyoxigraph.Store
    """A Turtle report as a store: blank node labels kept (they name the data's and the
    shapes' blank nodes), literals as written."""
    import pyoxigraph

    from cica_ld.lexical import surrogate_store

    quads = pyoxigraph.parse(text.encode("utf-8"), format=pyoxigraph.RdfFormat.TURTLE)
    return surrogate_store(quads)[0]


def load_graph(path: Path):  # -> cica_ld.validation.LoadedGraph
    """The file as ``cica-ld validate`` loads it (literals as written, its @prefix lines)."""
    from cica_ld import validation

    return validation.load_graph([path], "turtle")


def actual_report(data, shapes, engine: str) -> Report:
    """Validate the loaded graphs (:func:`load_graph`; the same object when the data is the
    shapes graph) as ``cica-ld validate`` does (the shapes graph checked, SHACL-SPARQL queries
    given the shapes file's prefixes) with ``engine``, ``native`` or ``pyshacl``; render the
    Turtle report and read it back as (conforms, multiset of keys). Raises what cica-ld
    raises (an InputError for shapes it refuses)."""
    from cica_ld import reports, validation

    validation.check_shapes_graph(shapes)
    prefixes = dict(validation.WELL_KNOWN_PREFIXES)
    prefixes.update(validation.file_prefixes(shapes.specs))
    results = validation.run_engine(
        engine,
        data.store,
        shapes.store,
        None,
        as_written=data.as_written > 0,
        prefixes=prefixes,
        shapes_prefixes=validation.FilePrefixes(shapes),
    )
    report = validation.ValidationReport(
        findings=tuple(validation.Finding(r) for r in results),
        engine=engine,
        prefixes=prefixes,
    )
    text = reports.render(report, "turtle")
    reader = Reader(parse_report(text))
    heads = reader.subjects(RDF + "type", f"<{SH}ValidationReport>")
    assert len(heads) == 1, text
    conforms, keys = report_keys(reader, heads[0], Reader(data.store), Reader(shapes.store))
    assert sum(keys.values()) == len(results), "the Turtle report lost results"
    assert conforms == (not results)
    return conforms, keys


def difference(expected: Report, actual: Report) -> str:
    """ "" when the reports agree, else what differs (results counted as a multiset)."""
    (want_conforms, want), (conforms, got) = expected, actual
    if conforms == want_conforms and want == got:
        return ""
    lines = [f"conforms: expected {want_conforms}, got {conforms}"]
    for k in sorted(set(want) | set(got), key=str):
        if want[k] != got[k]:
            lines.append(f"  expected {want[k]}, got {got[k]}: {k}")
    return "\n".join(lines)
