"""The benchmark data generator (benchmarks/generate.py).

- The output parses (pyoxigraph and rdflib) and its triple count is within 5% of the target.
- The same seed gives byte-identical output; another seed gives other data.
- `write` streams exactly what `generate` returns, and the manifest file it writes matches.
- Every manifest entry's line is where the focus node's subject block begins.
- The clean data conforms to the repository shapes (pySHACL, the reference engine, with the
  ontology as the ontology graph), and on defect-injected data pySHACL reports exactly the
  manifest: each defect once, with its focus node, source shape, constraint component, source
  constraint and path, and nothing else.

pySHACL runs the SPARQL constraints once per focus node, so the shape tests use ~1,500 triples,
the smallest size at which every defect kind is injected.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from pathlib import Path

import pyoxigraph
import pytest

from tests.conftest import ROOT

ID = "https://w3id.org/cica-ld/id/"
SH = "http://www.w3.org/ns/shacl#"


def _load_generator():
    name = "cica_bench_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gen = _load_generator()

SHAPE_TEST_SIZE = 1_500


def _parse_oxigraph(text: str) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(text.encode("utf-8"), format=pyoxigraph.RdfFormat.TURTLE)
    return store


@cache
def _generated(triples: int, seed: int, rate: float) -> tuple[str, list[dict]]:
    return gen.generate(triples, seed=seed, defect_rate=rate)


@pytest.mark.parametrize("target", [1_000, 10_000, 100_000])
def test_output_parses_and_has_about_the_target_size(target: int) -> None:
    text, manifest = _generated(target, 1, 0.0)
    assert manifest == []
    n = len(_parse_oxigraph(text))
    assert abs(n - target) <= 0.05 * target, (n, target)


def test_rdflib_reads_the_same_graph() -> None:
    import rdflib

    text, _ = _generated(10_000, 2, 0.01)
    g = rdflib.Graph()
    g.parse(data=text, format="turtle")
    assert len(g) == len(_parse_oxigraph(text))


def test_same_seed_same_output_other_seed_other_data() -> None:
    a = gen.generate(10_000, seed=7, defect_rate=0.01)
    b = gen.generate(10_000, seed=7, defect_rate=0.01)
    c = gen.generate(10_000, seed=8, defect_rate=0.01)
    assert a == b
    assert a[0] != c[0]


def test_write_streams_what_generate_returns(tmp_path: Path) -> None:
    out = tmp_path / "gen.ttl"
    n, manifest = gen.write(out, 10_000, seed=3, defect_rate=0.02)
    text, expected_manifest = gen.generate(10_000, seed=3, defect_rate=0.02)
    assert out.read_text(encoding="utf-8") == text
    assert manifest == expected_manifest
    assert n == len(_parse_oxigraph(text))
    doc = json.loads(gen.manifest_path_for(out).read_text(encoding="utf-8"))
    assert doc["defects"] == manifest
    assert doc["triples"] == n
    assert (doc["seed"], doc["defect_rate"], doc["target_triples"]) == (3, 0.02, 10_000)


def test_every_kind_injected_and_rate_scales_the_number() -> None:
    _, few = _generated(10_000, 4, 0.001)
    _, many = _generated(10_000, 4, 0.05)
    kinds = {k.name for k in gen.DEFECT_KINDS}
    assert {d["kind"] for d in few} == kinds
    assert {d["kind"] for d in many} == kinds
    assert len(many) > 2 * len(kinds)
    assert len({d["focus"] for d in many}) == len(many), "one defect per focus node"


def test_manifest_lines_point_at_the_focus_subject_block() -> None:
    text, manifest = _generated(10_000, 5, 0.02)
    lines = text.split("\n")
    assert manifest
    for d in manifest:
        assert d["focus"].startswith(ID)
        line = lines[d["line"] - 1]
        assert line == "cicaid:" + d["focus"][len(ID) :], (d, line)
        assert lines[d["line"]].startswith("    a "), "a subject block starts with its type line"
    # no other block has the same subject: the line is *the* subject block of the node
    subjects = [ln for ln in lines if ln.startswith("cicaid:")]
    assert len(subjects) == len(set(subjects))


def test_iso_codes_stay_unique_with_defects() -> None:
    """A bad-code defect must not also make two states share a code (a second result)."""
    text, _ = _generated(100_000, 6, 0.05)
    store = _parse_oxigraph(text)
    rows = store.query(
        "SELECT ?code (COUNT(?s) AS ?n) WHERE {"
        " ?s <https://w3id.org/cica-ld/ontology#iso3166Alpha2>"
        "|<https://w3id.org/cica-ld/ontology#iso3166Alpha3> ?code }"
        " GROUP BY ?code HAVING (COUNT(?s) > 1)"
    )
    assert list(rows) == []


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        gen.generate(10, seed=0)
    with pytest.raises(ValueError):
        gen.generate(10_000, seed=0, defect_rate=1.5)


# ---------------------------------------------------------------------------------------------
# Against the repository shapes, with pySHACL as the reference engine
# ---------------------------------------------------------------------------------------------


@cache
def _shapes_and_ontology():
    import rdflib

    shapes = rdflib.Graph()
    # vocabulary.ttl checks the ontology itself as data; it is not for instance data
    for p in sorted((ROOT / "shapes").glob("*.ttl")):
        if p.name != "vocabulary.ttl":
            shapes.parse(p, format="turtle")
    ontology = rdflib.Graph()
    for p in sorted((ROOT / "ontology").glob("*.ttl")):
        ontology.parse(p, format="turtle")
    return shapes, ontology


def _pyshacl_results(text: str) -> tuple[bool, list[tuple]]:
    import pyshacl
    import rdflib

    shapes, ontology = _shapes_and_ontology()
    data = rdflib.Graph()
    data.parse(data=text, format="turtle")
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True
    )
    sh = rdflib.Namespace(SH)
    results = []
    for r in report.subjects(rdflib.RDF.type, sh.ValidationResult):

        def value(p, r=r):
            v = report.value(r, p)
            return None if v is None else str(v)

        results.append(
            (
                value(sh.focusNode),
                value(sh.sourceShape),
                value(sh.sourceConstraintComponent),
                value(sh.sourceConstraint)
                if value(sh.sourceConstraintComponent) == SH + "SPARQLConstraintComponent"
                else None,
                value(sh.resultPath),
            )
        )
    return bool(conforms), results


@pytest.mark.slow
def test_clean_data_conforms_to_the_repository_shapes() -> None:
    text, manifest = _generated(SHAPE_TEST_SIZE, 11, 0.0)
    assert manifest == []
    conforms, results = _pyshacl_results(text)
    assert results == []
    assert conforms


@pytest.mark.slow
def test_pyshacl_reports_exactly_the_manifest() -> None:
    text, manifest = _generated(SHAPE_TEST_SIZE, 11, 0.01)
    assert {d["kind"] for d in manifest} == {k.name for k in gen.DEFECT_KINDS}
    conforms, results = _pyshacl_results(text)
    assert not conforms
    expected = [
        (d["focus"], d["shape"], d["component"], d["constraint"], d["path"]) for d in manifest
    ]
    assert sorted(results, key=repr) == sorted(expected, key=repr)
