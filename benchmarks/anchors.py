"""Anchor programs the benchmark runner times beside cica-ld: what a competent user would write
with each library to do the same job on the same files. Each runs in its own process (so wall
time and peak memory are measured per job) and writes its output to a file.

    python benchmarks/anchors.py oxigraph-query DATA QUERY_NAME OUT.csv
    python benchmarks/anchors.py rdflib-query DATA QUERY_NAME OUT.csv
    python benchmarks/anchors.py rdflib-jsonld DATA CONTEXT.jsonld OUT.jsonld
    python benchmarks/anchors.py pyshacl-oxrdflib DATA SHAPES.ttl ONTOLOGY.ttl OUT.json
    python benchmarks/anchors.py pyrudof DATA SHAPES.ttl ONTOLOGY.ttl OUT.json
    python benchmarks/anchors.py pyshacl-report REPORT.ttl OUT.json   (normalise a pySHACL report)

Named queries are read from ``cica_ld/queries/NAME.rq`` and get the parameters ``cica-ld query``
gives them by default (``date`` = today as an xsd:date), bound as pyoxigraph substitutions or
rdflib initBindings. The validation anchors write the results as JSON: a sorted list of
``[focus, sourceShape, sourceConstraintComponent, path, value]`` (N-Triples terms for IRIs and
literals; blank nodes as ``_:``), the key the runner compares engines by.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "cica_ld" / "queries"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
SH = "http://www.w3.org/ns/shacl#"


def _query_text(name: str) -> str:
    return (QUERIES / f"{name}.rq").read_text(encoding="utf-8")


def _params(text: str) -> dict[str, str]:
    """The default parameters of a named query (only `date = today` is used by ours)."""
    today = _dt.date.today().isoformat()
    return {"date": today} if "# param: date" in text else {}


def oxigraph_query(data: str, name: str, out: str) -> None:
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=data, format=ox.RdfFormat.TURTLE)
    text = _query_text(name)
    subs = {
        ox.Variable(k): ox.Literal(v, datatype=ox.NamedNode(XSD_DATE))
        for k, v in _params(text).items()
    }
    results = store.query(text, substitutions=subs)
    results.serialize(out, ox.QueryResultsFormat.CSV)


def rdflib_query(data: str, name: str, out: str) -> None:
    import rdflib
    from rdflib.namespace import XSD

    g = rdflib.Graph()
    g.parse(data, format="turtle")
    text = _query_text(name)
    bindings = {k: rdflib.Literal(v, datatype=XSD.date) for k, v in _params(text).items()}
    result = g.query(text, initBindings=bindings)
    Path(out).write_bytes(result.serialize(format="csv"))


def rdflib_jsonld(data: str, context: str, out: str) -> None:
    import rdflib

    g = rdflib.Graph()
    g.parse(data, format="turtle")
    ctx = json.loads(Path(context).read_text(encoding="utf-8"))["@context"]
    g.serialize(destination=out, format="json-ld", context=ctx, auto_compact=True)


def _term(t) -> str | None:
    import rdflib

    if t is None:
        return None
    if isinstance(t, rdflib.BNode):
        return "_:"
    return t.n3()


def _report_rows(report) -> list[list[str | None]]:
    import rdflib

    sh = rdflib.Namespace(SH)
    rows = []
    for r in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        rows.append(
            [
                _term(report.value(r, p))
                for p in (
                    sh.focusNode,
                    sh.sourceShape,
                    sh.sourceConstraintComponent,
                    sh.resultPath,
                    sh.value,
                )
            ]
        )
    return sorted(rows, key=repr)


def pyshacl_report(report_path: str, out: str) -> None:
    import rdflib

    report = rdflib.Graph()
    report.parse(report_path, format="turtle")
    Path(out).write_text(json.dumps(_report_rows(report)), encoding="utf-8")


def pyshacl_oxrdflib(data: str, shapes: str, ontology: str, out: str) -> None:
    """pySHACL with the data in an oxrdflib (Oxigraph) store.

    The ontology is loaded into the same store (what pySHACL's ontology-graph mixing does) and
    validation runs in place: with `ont_graph`, pySHACL would copy the data into an in-memory
    rdflib graph first and the Oxigraph store would be lost.
    """
    import pyshacl
    import rdflib

    g = rdflib.Graph(store="Oxigraph")
    g.parse(data, format="ox-turtle")
    g.parse(ontology, format="ox-turtle")
    sg = rdflib.Graph()
    sg.parse(shapes, format="turtle")
    _, report, _ = pyshacl.validate(g, shacl_graph=sg, inference="none", inplace=True)
    Path(out).write_text(json.dumps(_report_rows(report)), encoding="utf-8")


def pyrudof_validate(data: str, shapes: str, ontology: str, out: str) -> None:
    """pyrudof (Rust SHACL engine, with SHACL-SPARQL): data + ontology merged, native mode."""
    import pyrudof

    r = pyrudof.Rudof(pyrudof.RudofConfig())
    r.read_data(data)
    r.read_data(ontology, merge=True)
    r.read_shacl(shapes)
    report = r.validate_shacl()
    rows = []
    for v in report.violations:
        rows.append(
            [
                _rudof_term(v.focus_node),
                _rudof_term(v.source_shape),
                _rudof_term(v.constraint_component),
                _rudof_term(v.path),
                _rudof_term(v.value),
            ]
        )
    Path(out).write_text(json.dumps(sorted(rows, key=repr)), encoding="utf-8")


def _rudof_term(t) -> str | None:
    if t is None:
        return None
    s = str(t)
    if s.startswith(("http://", "https://")):
        return f"<{s}>"
    return s


COMMANDS = {
    "oxigraph-query": oxigraph_query,
    "rdflib-query": rdflib_query,
    "rdflib-jsonld": rdflib_jsonld,
    "pyshacl-oxrdflib": pyshacl_oxrdflib,
    "pyrudof": pyrudof_validate,
    "pyshacl-report": pyshacl_report,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    COMMANDS[argv[0]](*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
