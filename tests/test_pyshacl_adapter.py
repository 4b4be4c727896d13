"""``--engine pyshacl`` as a faithful reference: pySHACL gets the data and shapes as written and
every result it reports is kept, except those about the vocabulary's own terms (the ontology
graph's subjects that the data does not describe, which pySHACL sees only because it mixes
the ontology into the data graph). No rdflib traceback reaches the user. Fixtures:
tests/fixtures/shacl-results/pyshacl-*.ttl and multiset-*.ttl (schema.org, OWL).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import rdflib
from conftest import FIXTURES
from typer.testing import CliRunner

from cica_ld import validation
from cica_ld.cli import app

HERE = FIXTURES / "shacl-results"
DATA = HERE / "pyshacl-data.ttl"
SHAPES = HERE / "pyshacl-shapes.ttl"
ONTOLOGY = HERE / "pyshacl-ontology.ttl"
SH = "http://www.w3.org/ns/shacl#"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _keys(report: validation.ValidationReport) -> Counter:
    return Counter(r.key() for r in report.results)


@pytest.fixture(scope="module")
def pyshacl_report() -> validation.ValidationReport:
    return validation.validate([DATA], [SHAPES], [ONTOLOGY], engine="pyshacl")


def test_a_literal_focus_node_is_kept(pyshacl_report: validation.ValidationReport) -> None:
    """sh:targetNode 4.0: the focus node is a literal, not a node of the data."""
    found = [r for r in pyshacl_report.results if r.source_shape.endswith("#LimitShape>")]
    assert [(r.focus_node, r.constraint_component) for r in found] == [
        (f'"4.0"^^<{XSD}decimal>', SH + "MaxExclusiveConstraintComponent")
    ]


def test_nested_property_results_are_kept() -> None:
    """Results of a property shape inside a property shape (their focus node is a value node,
    not a target): two for the address two people share (DASH core/property/property-001)."""
    report = validation.validate(
        [HERE / "multiset-data.ttl"], [HERE / "multiset-shapes.ttl"], engine="pyshacl"
    )
    nested = [r for r in report.results if r.source_shape.endswith("#AddressShape-locality>")]
    assert [r.focus_node for r in nested] == ["<http://example.org/data#shared-address>"] * 2


def test_only_the_vocabulary_terms_are_dropped(
    pyshacl_report: validation.ValidationReport,
) -> None:
    """pySHACL itself reports voc:Gadget and voc:Gizmo (the ontology's classes, mixed into the
    data graph); cica-ld drops those and keeps the data's own class shop:Widget."""
    d, s, o = (validation.load_graph([p]) for p in (DATA, SHAPES, ONTOLOGY))
    with validation._literals_as_written(), validation._quiet_libraries([]):
        _g, _d, _s, raw, vocabulary = validation._run_pyshacl(d.store, s.store, o.store, "none")
    raw_focus = {str(f) for f in raw.objects(None, rdflib.URIRef(SH + "focusNode"))}
    assert {"http://example.org/vocab#Gadget", "http://example.org/vocab#Gizmo"} <= raw_focus
    assert {str(t) for t in vocabulary} == {
        "http://example.org/vocab#Gadget",
        "http://example.org/vocab#Gizmo",
    }
    focus = {r.focus_node for r in pyshacl_report.results}
    assert "<http://example.org/data#Widget>" in focus
    assert not {f for f in focus if "vocab#" in f}
    # everything else pySHACL reported is kept
    assert len(pyshacl_report.results) == sum(
        1 for _ in raw.subjects(rdflib.RDF.type, rdflib.URIRef(SH + "ValidationResult"))
    ) - len(vocabulary)


def test_literals_reach_pyshacl_as_written(pyshacl_report: validation.ValidationReport) -> None:
    """ "01"^^xsd:integer: sh:pattern "^0" reads the lexical form as written (no result), the
    reported value is the data's own "01", and "0x" is no integer (sh:datatype)."""
    offer = [r for r in pyshacl_report.results if r.focus_node.endswith("#offer>")]
    assert [(r.constraint_component.rsplit("#")[-1], r.value) for r in offer] == [
        ("MaxInclusiveConstraintComponent", f'"01"^^<{XSD}integer>')
    ]
    broken = {
        r.constraint_component.rsplit("#")[-1]
        for r in pyshacl_report.results
        if r.focus_node.endswith("#broken-offer>")
    }
    assert "DatatypeConstraintComponent" in broken


def test_both_engines_agree_on_these_fixtures(
    pyshacl_report: validation.ValidationReport,
) -> None:
    native = validation.validate([DATA], [SHAPES], [ONTOLOGY], engine="native")
    assert _keys(native) == _keys(pyshacl_report)


def test_no_rdflib_traceback_reaches_the_user() -> None:
    """rdflib logs a traceback for every ill-typed literal ("0x"^^xsd:integer) it reads."""
    args = ["validate", "--data", str(DATA), "--shapes", str(SHAPES), "--engine", "pyshacl"]
    result = CliRunner().invoke(app, [*args, "--ontology", str(ONTOLOGY)])
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Failed to convert" not in result.stderr
    assert "Traceback" not in result.stdout


def test_inference_leaves_rdflib_as_it_was(tmp_path: Path) -> None:
    """OWL-RL (pySHACL's inference) replaces rdflib's global lexical-to-value table with a
    stricter one; a later pySHACL run in the same process must still read a gYear with a time
    zone as well-typed (as it does before any inference)."""
    data = tmp_path / "events.ttl"
    data.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'ex:fest ex:year "2020+00:00"^^xsd:gYear ; ex:month "2020-05"^^xsd:gYearMonth .\n',
        encoding="utf-8",
    )
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix ex: <http://example.org/> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "ex:S a sh:NodeShape ; sh:targetNode ex:fest ;\n"
        "  sh:property [ sh:path ex:year ; sh:datatype xsd:gYear ] ;\n"
        "  sh:property [ sh:path ex:month ; sh:datatype xsd:gYearMonth ] .\n",
        encoding="utf-8",
    )
    before = validation.validate([data], [shapes], [], engine="pyshacl")
    assert before.conforms, [r.message for r in before.results]
    validation.validate([data], [shapes], [], engine="pyshacl", inference="rdfs")
    after = validation.validate([data], [shapes], [], engine="pyshacl")
    assert after.conforms, [r.message for r in after.results]
