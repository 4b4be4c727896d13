"""The shapes-graph check reads parameters as written: ``"1"^^xsd:boolean`` is an
xsd:boolean even where the store keeps it as a surrogate (cica_ld/lexical.py), so valid
shapes are not refused (W3C core/node/qualified-001, core/property/uniqueLang-002). As the
W3C suite has it (uniqueLang-002), ``"1"`` is not the term ``true``: the data conforms
(pySHACL reads it as true and reports a result, a difference the README lists)."""

from __future__ import annotations

from pathlib import Path

from cica_ld import validation

SHAPES = """\
@prefix ex: <http://example.org/shapes#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

ex:ConceptShape a sh:NodeShape ;
    sh:targetClass skos:Concept ;
    sh:property [ sh:path skos:prefLabel ; sh:uniqueLang "1"^^xsd:boolean ] .
"""

DATA = """\
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

<http://example.org/data#colour> a skos:Concept ;
    skos:prefLabel "colour"@en , "color"@en .
"""


def test_a_boolean_written_as_1_is_accepted(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    data = tmp_path / "data.ttl"
    shapes.write_text(SHAPES, encoding="utf-8")
    data.write_text(DATA, encoding="utf-8")
    report = validation.validate([data], [shapes])
    assert report.results == ()
    assert report.coverage is not None and report.coverage.focus_nodes == 1
    pyshacl = validation.validate([data], [shapes], engine="pyshacl")  # accepted too
    assert [r.constraint_component.rsplit("#")[-1] for r in pyshacl.results] == [
        "UniqueLangConstraintComponent"
    ]
