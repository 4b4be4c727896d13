"""The native SHACL engine (``cica_ld.shacl``): each core component, target and path kind on tiny
graphs, SHACL-SPARQL (pre-binding, rewriting, messages, SPARQL-based components), the ontology
graph, errors, and equivalence with pySHACL on real and generated data.

The W3C test suite runs in ``test_w3c_shacl_suite.py``; the endpoint in
``test_validate_endpoint.py``.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from functools import cache
from pathlib import Path

import pytest

from cica_ld.errors import InputError, UsageError
from cica_ld.shacl import ShapesError, validate
from cica_ld.shacl import sparql_text as st
from cica_ld.shacl_model import Severity, ValidationResult
from tests.conftest import ROOT

EX = "http://example.org/"
SH = "http://www.w3.org/ns/shacl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIXES = """
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
"""


def store(turtle: str):  # -> pyoxigraph.Store
    import pyoxigraph

    s = pyoxigraph.Store()
    s.load((PREFIXES + turtle).encode(), format=pyoxigraph.RdfFormat.TURTLE)
    return s


def run(data: str, shapes: str, ontology: str | None = None) -> list[ValidationResult]:
    return validate(store(data), store(shapes), store(ontology) if ontology is not None else None)


def ex(local: str) -> str:
    return f"<{EX}{local}>"


def keys(results: list[ValidationResult]) -> set[tuple]:
    """(focus, shape, component local name, path, value), with ex: IRIs shortened."""

    def short(t: str | None) -> str | None:
        return None if t is None else re.sub(r"<http://example\.org/([^<>]*)>", r"ex:\1", t)

    return {
        (
            short(r.focus_node),
            short(r.source_shape) if r.source_shape.startswith("<") else "_",
            r.constraint_component.removeprefix(SH).removesuffix("ConstraintComponent"),
            short(r.path),
            short(r.value),
        )
        for r in results
    }


def lit(lexical: str, dt: str) -> str:
    return f'"{lexical}"^^<{XSD}{dt}>'


# --------------------------------------------------------------------------------------------
# Targets


def test_targets_of_every_kind() -> None:
    data = """
        ex:a a ex:C .                       # targetClass
        ex:b a ex:D . ex:D rdfs:subClassOf ex:C .   # targetClass through a subclass in the data
        ex:c ex:p ex:x .                    # targetSubjectsOf ex:p (and ex:x targetObjectsOf)
        ex:e a ex:Shape .                   # implicit class target
    """
    shapes = """
        ex:S1 a sh:NodeShape ; sh:targetClass ex:C ; sh:nodeKind sh:BlankNode .
        ex:S2 a sh:NodeShape ; sh:targetNode ex:n, "lit" ; sh:nodeKind sh:BlankNode .
        ex:S3 a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:nodeKind sh:BlankNode .
        ex:S4 a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:nodeKind sh:BlankNode .
        ex:Shape a sh:NodeShape, rdfs:Class ; sh:nodeKind sh:BlankNode .
    """
    got = {(k[0], k[1]) for k in keys(run(data, shapes))}
    assert got == {
        ("ex:a", "ex:S1"),
        ("ex:b", "ex:S1"),
        ("ex:n", "ex:S2"),
        ('"lit"', "ex:S2"),
        ("ex:c", "ex:S3"),
        ("ex:x", "ex:S4"),
        ("ex:e", "ex:Shape"),
    }


def test_targets_come_from_the_data_and_subclasses_from_the_ontology() -> None:
    data = "ex:a a ex:Sub . ex:b a ex:Other ."
    ontology = "ex:Sub rdfs:subClassOf ex:Mid . ex:Mid rdfs:subClassOf ex:Top . ex:o a ex:Top ."
    shapes = "ex:S a sh:NodeShape ; sh:targetClass ex:Top ; sh:nodeKind sh:BlankNode ."
    # ex:a is a Top through the ontology's axioms; ex:o is typed in the ontology only: no target
    assert {k[0] for k in keys(run(data, shapes, ontology))} == {"ex:a"}
    assert keys(run(data, shapes)) == set()


def test_deactivated_shapes_are_ignored() -> None:
    data = "ex:a a ex:C ."
    shapes = """
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:deactivated true ; sh:nodeKind sh:Literal .
        ex:T a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:Off .
        ex:Off a sh:NodeShape ; sh:deactivated true ; sh:nodeKind sh:Literal .
    """
    assert keys(run(data, shapes)) == set()


# --------------------------------------------------------------------------------------------
# Value-level components


def test_class_with_subclasses_in_data_and_ontology() -> None:
    data = """
        ex:f ex:p ex:v1, ex:v2, ex:v3, ex:v4, "lit" .
        ex:v1 a ex:C .
        ex:v2 a ex:D .
        ex:v3 a ex:E .
        ex:D rdfs:subClassOf ex:C .
    """
    ontology = "ex:E rdfs:subClassOf ex:C . ex:v4 a ex:C ."
    shapes = "ex:S a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:class ex:C ."
    # v4 is an instance by the ontology's own rdf:type statement
    assert keys(run(data, shapes, ontology)) == {("ex:f", "ex:S", "Class", "ex:p", '"lit"')}
    assert {k[4] for k in keys(run(data, shapes))} == {"ex:v3", "ex:v4", '"lit"'}


def test_datatype_including_ill_formed_literals_and_lang_strings() -> None:
    data = f"""
        ex:f ex:int 1, {lit("aaa", "integer")}, "1" ;
             ex:date {lit("2020-02-30", "date")}, {lit("2020-02-03", "date")} ;
             ex:lang "x"@en, "y" .
    """
    shapes = """
        ex:I a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:int ; sh:datatype xsd:integer .
        ex:D a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:date ; sh:datatype xsd:date .
        ex:L a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:lang ;
            sh:datatype rdf:langString .
    """
    assert {(k[1], k[4]) for k in keys(run(data, shapes))} == {
        ("ex:I", lit("aaa", "integer").replace(f"{XSD}", XSD)),
        ("ex:I", '"1"'),
        ("ex:D", lit("2020-02-30", "date")),
        ("ex:L", '"y"'),
    }


def test_node_kind() -> None:
    data = 'ex:f ex:p ex:iri, [ ex:q 1 ], "lit" .'
    shapes = """
        ex:I a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:nodeKind sh:IRI .
        ex:L a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:nodeKind sh:Literal .
        ex:BI a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ;
            sh:nodeKind sh:BlankNodeOrIRI .
    """
    got = keys(run(data, shapes))
    assert {(k[1], k[4]) for k in got if not (k[4] or "").startswith("_:")} == {
        ("ex:I", '"lit"'),
        ("ex:L", "ex:iri"),
        ("ex:BI", '"lit"'),
    }
    assert {k[1] for k in got if (k[4] or "").startswith("_:")} == {"ex:I", "ex:L"}


def test_value_ranges_compare_values_and_fail_incomparable_ones() -> None:
    data = f'ex:f ex:p 1, 5, 10, "x", {lit("7.5", "decimal")} .'
    shapes = """
        ex:MinEx a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:minExclusive 1 .
        ex:MinIn a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:minInclusive 5 .
        ex:MaxEx a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:maxExclusive 10 .
        ex:MaxIn a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:maxInclusive 7.5 .
    """
    one, five, ten = (lit(n, "integer") for n in ("1", "5", "10"))
    got = {(k[1], k[4]) for k in keys(run(data, shapes))}
    assert got == {
        ("ex:MinEx", one),
        ("ex:MinEx", '"x"'),
        ("ex:MinIn", one),
        ("ex:MinIn", '"x"'),
        ("ex:MaxEx", ten),
        ("ex:MaxEx", '"x"'),
        ("ex:MaxIn", ten),
        ("ex:MaxIn", '"x"'),
    }
    assert five not in {v for _s, v in got}


def test_lengths_pattern_and_flags() -> None:
    data = 'ex:f ex:p "ab", "abcd", ex:iri, [ ex:q 1 ] .'
    shapes = """
        ex:Min a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:minLength 3 .
        ex:Max a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:maxLength 3 .
        ex:Pat a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ;
            sh:pattern "^A" ; sh:flags "i" .
    """
    got = {(k[1], k[4]) for k in keys(run(data, shapes)) if not (k[4] or "").startswith("_:")}
    assert got == {
        ("ex:Min", '"ab"'),
        ("ex:Max", '"abcd"'),
        ("ex:Max", "ex:iri"),  # the IRI's string is longer than 3
        ("ex:Pat", "ex:iri"),
    }
    blank = {k[1] for k in keys(run(data, shapes)) if (k[4] or "").startswith("_:")}
    assert blank == {"ex:Min", "ex:Max", "ex:Pat"}  # blank nodes fail all three


def test_language_in_and_unique_lang() -> None:
    data = 'ex:f ex:p "a"@en, "b"@en-GB, "c"@fr, "d" . ex:g ex:p "x"@de, "y"@de, "z"@DE .'
    shapes = """
        ex:LI a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:languageIn ( "en" ) .
        ex:UL a sh:PropertyShape ; sh:targetNode ex:f, ex:g ; sh:path ex:p ; sh:uniqueLang true .
    """
    got = keys(run(data, shapes))
    assert {(k[1], k[4]) for k in got if k[1] == "ex:LI"} == {("ex:LI", '"c"@fr'), ("ex:LI", '"d"')}
    assert {(k[0], k[2]) for k in got if k[1] == "ex:UL"} == {("ex:g", "UniqueLang")}


def test_in_and_has_value_compare_terms_not_values() -> None:
    data = f"ex:f ex:p ex:a, 1, {lit('1', 'decimal')} . ex:g ex:p ex:b ."
    shapes = """
        ex:In a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:in ( ex:a 1 ) .
        ex:Has a sh:PropertyShape ; sh:targetNode ex:f, ex:g ; sh:path ex:p ; sh:hasValue ex:a .
        ex:NodeHas a sh:NodeShape ; sh:targetNode ex:f, ex:a ; sh:hasValue ex:a .
    """
    got = keys(run(data, shapes))
    assert got == {
        ("ex:f", "ex:In", "In", "ex:p", lit("1", "decimal")),
        ("ex:g", "ex:Has", "HasValue", "ex:p", None),
        ("ex:f", "ex:NodeHas", "HasValue", None, None),
    }


# --------------------------------------------------------------------------------------------
# Cardinality, property pairs, closed


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (1, None, {"ex:n0"}),
        (2, None, {"ex:n0", "ex:n1"}),
        (None, 1, {"ex:n2", "ex:n3"}),
        (None, 2, {"ex:n3"}),
        (None, 0, {"ex:n1", "ex:n2", "ex:n3"}),
        (1, 2, {"ex:n0", "ex:n3"}),
    ],
)
def test_min_and_max_count(lo: int | None, hi: int | None, expected: set[str]) -> None:
    data = "ex:n1 ex:p 1 . ex:n2 ex:p 1, 2 . ex:n3 ex:p 1, 2, 3 ."
    counts = (f"sh:minCount {lo} ;" if lo is not None else "") + (
        f"sh:maxCount {hi} ;" if hi is not None else ""
    )
    shapes = (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:n0, ex:n1, ex:n2, ex:n3 ; "
        f"sh:path ex:p ; {counts} ."
    )
    got = keys(run(data, shapes))
    assert {k[0] for k in got} == expected
    assert all(k[4] is None and k[3] == "ex:p" for k in got)


def test_counts_over_a_sequence_path_count_distinct_values() -> None:
    data = "ex:a ex:p ex:m1, ex:m2 . ex:m1 ex:q ex:v . ex:m2 ex:q ex:v . ex:b ex:p ex:m3 ."
    shapes = """
        ex:S a sh:PropertyShape ; sh:targetNode ex:a, ex:b ; sh:path ( ex:p ex:q ) ;
            sh:minCount 1 ; sh:maxCount 1 .
    """
    # ex:a reaches ex:v twice (one value); ex:b reaches nothing
    assert keys(run(data, shapes)) == {("ex:b", "ex:S", "MinCount", "ex:p/ex:q", None)}


def test_equals_disjoint_less_than() -> None:
    data = """
        ex:f ex:p 1, 2 ; ex:q 2, 3 ; ex:r 5 ; ex:s 2 .
        ex:g ex:p ex:g ; ex:q ex:g .
    """
    shapes = """
        ex:Eq a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:equals ex:q .
        ex:Dis a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:disjoint ex:q .
        ex:Lt a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:lessThan ex:s .
        ex:Le a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:lessThanOrEquals ex:s .
        ex:NodeEq a sh:NodeShape ; sh:targetNode ex:f, ex:g ; sh:equals ex:q .
    """
    i = {n: lit(str(n), "integer") for n in range(1, 6)}
    assert {(k[1], k[4]) for k in keys(run(data, shapes))} == {
        ("ex:Eq", i[1]),
        ("ex:Eq", i[3]),
        ("ex:Dis", i[2]),
        ("ex:Lt", i[2]),
        ("ex:NodeEq", "ex:f"),
        ("ex:NodeEq", i[2]),
        ("ex:NodeEq", i[3]),
    }


def test_closed_with_ignored_properties() -> None:
    data = "ex:f a ex:C ; ex:p 1 ; ex:extra 2 ."
    shapes = """
        ex:S a sh:NodeShape ; sh:targetNode ex:f ; sh:closed true ;
            sh:ignoredProperties ( rdf:type ) ;
            sh:property [ sh:path ex:p ] .
    """
    assert keys(run(data, shapes)) == {("ex:f", "ex:S", "Closed", "ex:extra", lit("2", "integer"))}


# --------------------------------------------------------------------------------------------
# Shape-based components


def test_logical_components_over_value_level_shapes() -> None:
    data = 'ex:f ex:p 1, "s", ex:i .'
    shapes = """
        ex:Int a sh:NodeShape ; sh:datatype xsd:integer .
        ex:Str a sh:NodeShape ; sh:datatype xsd:string .
        ex:Lit a sh:NodeShape ; sh:nodeKind sh:Literal .
        ex:Not a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:not ex:Int .
        ex:And a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:and ( ex:Lit ex:Str ) .
        ex:Or a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:or ( ex:Int ex:Str ) .
        ex:Xone a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:xone ( ex:Lit ex:Str ) .
        ex:Node a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:node ex:Lit .
    """
    one = lit("1", "integer")
    assert {(k[1], k[2], k[4]) for k in keys(run(data, shapes))} == {
        ("ex:Not", "Not", one),
        ("ex:And", "And", one),
        ("ex:And", "And", "ex:i"),
        ("ex:Or", "Or", "ex:i"),
        ("ex:Xone", "Xone", '"s"'),
        ("ex:Xone", "Xone", "ex:i"),
        ("ex:Node", "Node", "ex:i"),
    }


def test_logical_components_over_shapes_with_property_shapes() -> None:
    # the inner shapes have property shapes, so they are evaluated as nested sets
    data = """
        ex:f ex:p ex:v1, ex:v2, ex:v3 .
        ex:v1 ex:name "one" .
        ex:v2 ex:name "two", "zwei" .
    """
    shapes = """
        ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .
        ex:OneName a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:maxCount 1 ] .
        ex:Node a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:node ex:Named .
        ex:Not a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:not ex:Named .
        ex:And a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ;
            sh:and ( ex:Named ex:OneName ) .
        ex:Or a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ;
            sh:or ( ex:Named ex:OneName ) .
        ex:Xone a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ;
            sh:xone ( ex:Named ex:OneName ) .
    """
    assert {(k[1], k[4]) for k in keys(run(data, shapes))} == {
        ("ex:Node", "ex:v3"),
        ("ex:Not", "ex:v1"),
        ("ex:Not", "ex:v2"),
        ("ex:And", "ex:v2"),
        ("ex:And", "ex:v3"),
        ("ex:Xone", "ex:v1"),
    }


def test_property_shapes_of_property_shapes_report_on_the_values() -> None:
    data = 'ex:person ex:address ex:addr . ex:addr ex:city "not an IRI" .'
    shapes = """
        ex:PersonShape a sh:NodeShape ; sh:targetNode ex:person ; sh:property ex:Address .
        ex:Address sh:path ex:address ; sh:property ex:City .
        ex:City sh:path ex:city ; sh:nodeKind sh:IRI .
    """
    assert keys(run(data, shapes)) == {
        ("ex:addr", "ex:City", "NodeKind", "ex:city", '"not an IRI"')
    }


def test_qualified_value_shapes_with_disjoint_siblings() -> None:
    data = """
        ex:hand ex:digit ex:t1, ex:f1, ex:f2, ex:f3, ex:f4 .
        ex:t1 a ex:Thumb . ex:f1 a ex:Finger . ex:f2 a ex:Finger . ex:f3 a ex:Finger .
        ex:f4 a ex:Finger, ex:Thumb .
    """
    shapes = """
        ex:Hand a sh:NodeShape ; sh:targetNode ex:hand ;
            sh:property ex:Thumbs , ex:Fingers .
        ex:Thumbs sh:path ex:digit ; sh:qualifiedValueShape [ sh:class ex:Thumb ] ;
            sh:qualifiedValueShapesDisjoint true ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 .
        ex:Fingers sh:path ex:digit ; sh:qualifiedValueShape [ sh:class ex:Finger ] ;
            sh:qualifiedValueShapesDisjoint true ; sh:qualifiedMinCount 4 ; sh:qualifiedMaxCount 4 .
    """
    # ex:f4 is both: with disjoint siblings it counts for neither, so only 3 fingers
    assert keys(run(data, shapes)) == {
        ("ex:hand", "ex:Fingers", "QualifiedMinCount", "ex:digit", None)
    }


# --------------------------------------------------------------------------------------------
# Paths


@pytest.mark.parametrize(
    ("path", "rendered", "values"),
    [
        ("ex:p", "ex:p", {"ex:b"}),
        ("[ sh:inversePath ex:p ]", "^ex:p", {"ex:z"}),
        ("( ex:p ex:q )", "ex:p/ex:q", {"ex:c"}),
        ("[ sh:alternativePath ( ex:p ex:q ) ]", "ex:p|ex:q", {"ex:b", "ex:d"}),
        ("[ sh:zeroOrMorePath ex:p ]", "ex:p*", {"ex:a", "ex:b", "ex:e"}),
        ("[ sh:oneOrMorePath ex:p ]", "ex:p+", {"ex:b", "ex:e"}),
        ("[ sh:zeroOrOnePath ex:p ]", "ex:p?", {"ex:a", "ex:b"}),
    ],
)
def test_every_path_kind(path: str, rendered: str, values: set[str]) -> None:
    data = "ex:z ex:p ex:a . ex:a ex:p ex:b ; ex:q ex:d . ex:b ex:q ex:c ; ex:p ex:e ."
    shapes = (
        f"ex:S a sh:PropertyShape ; sh:targetNode ex:a ; sh:path {path} ; sh:nodeKind sh:Literal ."
    )
    got = keys(run(data, shapes))
    assert {k[4] for k in got} == values
    assert {k[3] for k in got} == {rendered}


def test_malformed_paths_are_refused() -> None:
    shapes = (
        "ex:S a sh:PropertyShape ; sh:targetNode ex:a ; "
        "sh:path [ sh:alternativePath ( ex:p ) ] ; sh:minCount 1 ."
    )
    with pytest.raises(ShapesError, match="at least two"):
        run("ex:a ex:p 1 .", shapes)


# --------------------------------------------------------------------------------------------
# Severity and messages


def test_severity_and_messages() -> None:
    data = 'ex:f ex:p "x" .'
    shapes = """
        ex:W a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:datatype xsd:integer ;
            sh:severity sh:Warning ; sh:message "Nicht ganzzahlig"@de, "Not an integer"@en .
        ex:I a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:minLength 5 ;
            sh:severity sh:Info .
        ex:Custom a sh:PropertyShape ; sh:targetNode ex:f ; sh:path ex:p ; sh:maxLength 0 ;
            sh:severity ex:MySeverity .
    """
    by_shape = {r.source_shape: r for r in run(data, shapes)}
    assert by_shape[ex("W")].severity is Severity.WARNING
    assert by_shape[ex("W")].message == "Not an integer"
    assert by_shape[ex("I")].severity is Severity.INFO
    assert by_shape[ex("I")].message  # a default message
    assert by_shape[ex("Custom")].severity is Severity.VIOLATION


# --------------------------------------------------------------------------------------------
# SHACL-SPARQL

SPARQL_SHAPES = """
    ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:sparql ex:Q .
    ex:Q sh:message "{{$this}} shares {{?other}}"@en ; sh:prefixes ex:decl ; sh:select \"\"\"
        {query}
    \"\"\" .
    ex:decl sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .
"""
SPARQL_DATA = """
    ex:a a ex:C ; ex:code "X" ; ex:n 1 .
    ex:b a ex:C ; ex:code "X" ; ex:n 2 .
    ex:c a ex:C ; ex:code "Y" .
    ex:d ex:code "Y" .
"""


def test_sparql_constraint_joined_over_all_focus_nodes_with_messages() -> None:
    query = """SELECT $this ?other WHERE {
        $this ex:code ?code . ?other ex:code ?code . FILTER(?other != $this) }"""
    results = run(SPARQL_DATA, SPARQL_SHAPES.format(query=query))
    assert {(r.focus_node, r.value, r.constraint_component) for r in results} == {
        (ex("a"), ex("a"), SH + "SPARQLConstraintComponent"),
        (ex("b"), ex("b"), SH + "SPARQLConstraintComponent"),
        (ex("c"), ex("c"), SH + "SPARQLConstraintComponent"),
    }
    messages = {r.message for r in results}
    assert "http://example.org/c shares http://example.org/d" in messages
    assert all(r.source_constraint == ex("Q") for r in results)


@pytest.mark.parametrize(
    ("query", "mode"),
    [
        # FILTER NOT EXISTS over several patterns: decorrelated into a left join
        (
            "SELECT $this WHERE { FILTER NOT EXISTS { $this ex:n ?n . $this ex:code ?c } }",
            "join",
        ),
        # a nested group filtering on $this: evaluated per focus node (LATERAL)
        ("SELECT $this WHERE { { FILTER(NOT EXISTS { $this ex:n ?n }) } }", "lateral"),
        # an aggregate without GROUP BY: one query per focus node
        (
            "SELECT $this (COUNT(?n) AS ?k) WHERE { OPTIONAL { $this ex:n ?n } } "
            "HAVING (COUNT(?n) = 0)",
            "per-node",
        ),
    ],
)
def test_every_evaluation_mode_finds_the_same_focus_nodes(query: str, mode: str) -> None:
    prologue = "PREFIX ex: <http://example.org/>\n"
    assert st.analyse(prologue + query).mode == mode
    results = run(SPARQL_DATA, SPARQL_SHAPES.format(query=query))
    assert {r.focus_node for r in results} == {ex("c")}


def test_sparql_value_and_path_bindings_and_property_shapes() -> None:
    data = "ex:a a ex:C ; ex:p 1, 2 ."
    shapes = """
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:P .
        ex:P sh:path ex:p ; sh:sparql [ sh:select \"\"\"
            SELECT $this ?value WHERE { $this $PATH ?value FILTER(?value > 1) }\"\"\" ] .
    """
    assert keys(run(data, shapes)) == {("ex:a", "ex:P", "SPARQL", "ex:p", lit("2", "integer"))}


@pytest.mark.parametrize(
    "query",
    [
        "SELECT $this WHERE { $this ?p ?o . MINUS { $this ?p 1 } }",
        "SELECT $this WHERE { VALUES ?x { 1 } }",
        "SELECT $this WHERE { BIND(ex:a AS $this) }",
        "SELECT $this WHERE { $this ?p ?o . { SELECT ?o WHERE { ?s ?q ?o } } }",
        "SELECT $this WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    ],
)
def test_forbidden_sparql_is_refused(query: str) -> None:
    with pytest.raises(ShapesError):
        run(SPARQL_DATA, SPARQL_SHAPES.format(query=query))
    assert issubclass(ShapesError, InputError)


def test_sparql_based_constraint_components() -> None:
    data = 'ex:a a ex:C ; ex:label "x"@en, "y"@de .'
    shapes = """
        ex:LangComponent a sh:ConstraintComponent ;
            sh:parameter [ sh:path ex:lang ] ;
            sh:propertyValidator [ a sh:SPARQLSelectValidator ; sh:select \"\"\"
                SELECT $this ?value WHERE { $this $PATH ?value .
                    FILTER(!langMatches(lang(?value), $lang)) }\"\"\" ] ;
            sh:nodeValidator [ a sh:SPARQLAskValidator ;
                sh:ask "ASK { FILTER(STRLEN(STR($value)) > STRLEN($lang)) }" ] .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property ex:P .
        ex:P sh:path ex:label ; ex:lang "en" .
        ex:T a sh:NodeShape ; sh:targetNode "ab", "abc" ; ex:lang "abc" .
    """
    comp = "<http://example.org/LangComponent>"
    got = {(r.focus_node, r.source_shape, r.value) for r in run(data, shapes)}
    assert got == {
        (ex("a"), ex("P"), '"y"@de'),
        ('"ab"', ex("T"), '"ab"'),
        ('"abc"', ex("T"), '"abc"'),
    }
    assert all(r.constraint_component == comp.strip("<>") for r in run(data, shapes))


# --------------------------------------------------------------------------------------------
# Rewriting SHACL-SPARQL queries: the rewritten query gives the pre-bound query's answers


def _random_graph(seed: int):  # -> pyoxigraph.Store
    rng = random.Random(seed)
    lines = []
    for i in range(40):
        lines.append(f"ex:n{i} a ex:C .")
        for _ in range(rng.randint(0, 3)):
            lines.append(f"ex:n{i} ex:p ex:n{rng.randrange(40)} .")
        if rng.random() < 0.5:
            lines.append(f"ex:n{i} ex:q {rng.randrange(5)} .")
    return store("\n".join(lines))


REWRITE_QUERIES = [
    "SELECT $this WHERE { FILTER NOT EXISTS { $this ex:p ?x . ?x ex:q ?v } }",
    "SELECT $this ?x WHERE { $this ex:p ?x . "
    "FILTER NOT EXISTS { ?x ex:p ?y . ?y ex:q ?v . FILTER(?v > 2) } }",
    "SELECT $this WHERE { $this ex:q ?w . "
    "FILTER NOT EXISTS { $this ex:p ?x . ?x ex:q ?v . FILTER(?v > ?w) } }",
    "SELECT $this WHERE { $this ex:p ?x . "
    "FILTER(EXISTS { ?x ex:p ?y . ?y ex:q 1 } || NOT EXISTS { ?x ex:q ?z . ?x ex:p ?x2 }) }",
    "SELECT DISTINCT $this ?o WHERE { $this ex:p ?m . ?o ex:p ?m . ?o ex:q ?k . ?m ex:q ?k . "
    "FILTER(?o != $this) }",
    "SELECT $this (COUNT(?x) AS ?n) WHERE { $this ex:p ?x . ?x ex:p ?y } "
    "GROUP BY $this HAVING (COUNT(?x) > 2)",
    "SELECT $this WHERE { OPTIONAL { $this ex:q ?v } "
    "FILTER(!BOUND(?v) || NOT EXISTS { $this ex:p ?x . ?x ex:q ?v }) }",
]


@pytest.mark.parametrize("query", REWRITE_QUERIES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rewritten_queries_equal_per_node_evaluation(query: str, seed: int) -> None:
    import pyoxigraph

    data = _random_graph(seed)
    text = "PREFIX ex: <http://example.org/>\n" + query
    focus = "{ SELECT DISTINCT ?this WHERE { ?this a <http://example.org/C> } }"
    names = [v for v in st.projected_variables(text)]

    def rows(q: str, **kw) -> set[tuple]:
        return {
            tuple(str(s[v]) if s[v] is not None else None for v in names)
            for s in data.query(q, **kw)
        }

    expected: set[tuple] = set()
    for sol in data.query("SELECT ?this WHERE { ?this a <http://example.org/C> }"):
        for row in data.query(text, substitutions={pyoxigraph.Variable("this"): sol["this"]}):
            expected.add(
                tuple(
                    str(sol["this"])
                    if v == "this"
                    else (str(row[v]) if row[v] is not None else None)
                    for v in names
                )
            )
    assert rows(st.join_query(text, focus)) == expected
    assert rows(st.join_query(text, focus, restrict_exists=True)) == expected
    assert rows(st.lateral_query(text, focus)) == expected
    assert expected  # the data makes every query answer something


def test_decorrelation_and_star_splitting_happen() -> None:
    text = (
        "PREFIX ex: <http://example.org/>\n"
        "SELECT $this WHERE { $this ex:p ?x . ?y ex:q ?x . "
        "FILTER NOT EXISTS { $this ex:p ?z . ?z ex:q 1 } }"
    )
    rewritten = st.join_query(text, "{ ?this a ex:C }")
    assert "OPTIONAL { { SELECT DISTINCT ?this (1 AS" in rewritten
    assert "FILTER(!BOUND(" in rewritten
    assert rewritten.count("SELECT ?") >= 2  # one sub-SELECT per subject


# --------------------------------------------------------------------------------------------
# API


def test_inference_is_refused_with_a_usage_error() -> None:
    with pytest.raises(UsageError, match="does not infer"):
        validate(store("ex:a a ex:C ."), store(""), inference="rdfs")


def test_results_are_sorted_and_counted_once_per_parent_shape() -> None:
    """ex:P is validated at each focus node once for ex:S1 and once for ex:S2 (SHACL and
    pySHACL report both results; they read the same)."""
    data = "ex:b ex:p 1, 2 . ex:a ex:p 1, 2 ."
    shapes = """
        ex:S1 a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:property ex:P .
        ex:S2 a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:property ex:P .
        ex:P sh:path ex:p ; sh:maxCount 1 .
    """
    results = run(data, shapes)
    assert [r.focus_node for r in results] == [ex("a"), ex("a"), ex("b"), ex("b")]


# --------------------------------------------------------------------------------------------
# Equivalence with pySHACL (the reference engine)


def _pyshacl(data, shapes, ontology):
    from cica_ld.validation import validate_with_pyshacl

    return validate_with_pyshacl(data, shapes, ontology)


def _load_files(paths: list[Path]):  # -> pyoxigraph.Store
    from cica_ld.validation import load_graph

    return load_graph(paths).store


@cache
def _repository_graphs():
    from cica_ld import dataset

    shapes = [p for p in dataset.bundled_files("shapes")]
    ontology = [p for p in dataset.bundled_files("ontology") if p.suffix == ".ttl"]
    return _load_files(shapes), _load_files(ontology)


def _assert_same_as_pyshacl(data, shapes, ontology) -> set[tuple]:
    native = {r.key() for r in validate(data, shapes, ontology)}
    reference = {r.key() for r in _pyshacl(data, shapes, ontology)}
    assert native == reference, (
        f"native only: {sorted(native - reference)[:5]}\n"
        f"pySHACL only: {sorted(reference - native)[:5]}"
    )
    return native


def test_same_results_as_pyshacl_on_the_repository_data() -> None:
    from cica_ld import dataset

    shapes, ontology = _repository_graphs()
    data = _load_files(dataset.bundled_files("data"))
    assert _assert_same_as_pyshacl(data, shapes, ontology) == set()


def _generator():
    path = ROOT / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("cica_bench_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cica_bench_generate", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2])
def test_same_results_as_pyshacl_on_generated_data_with_defects(seed: int, tmp_path: Path) -> None:
    gen = _generator()
    data_file = tmp_path / "gen.ttl"
    _triples, defects = gen.write(data_file, 3000, seed=seed, defect_rate=0.05)
    shapes, ontology = _repository_graphs()
    found = _assert_same_as_pyshacl(_load_files([data_file]), shapes, ontology)
    assert defects and found, "the generated data has defects"
    # every injected defect is among the results, at its focus node and source shape
    focus_shape = {(k[0], k[1]) for k in found}
    for d in defects:
        assert (f"<{d['focus']}>", f"<{d['shape']}>") in focus_shape, d


def _shape_fixtures() -> list[Path]:
    folder = ROOT / "tests" / "shapes"
    files = sorted(p for p in folder.glob("*.ttl") if not p.name.startswith("_"))
    return files[::4]  # a quarter of them: pySHACL takes ~0.3 s per file


@pytest.mark.parametrize("fixture", _shape_fixtures(), ids=lambda p: p.stem)
def test_same_results_as_pyshacl_on_shape_fixtures(fixture: Path) -> None:
    from cica_ld import dataset

    folder = fixture.parent
    vocabulary = ROOT / "shapes" / "vocabulary.ttl"
    vocabulary_shapes = _vocabulary_shape_names()
    if fixture.name.split("-valid")[0].split("-invalid")[0] in vocabulary_shapes:
        data, shapes, ontology = _load_files([fixture]), _load_files([vocabulary]), None
    else:
        context = sorted(folder.glob("_*.ttl"))
        shape_files = [p for p in dataset.bundled_files("shapes") if p.name != "vocabulary.ttl"]
        data = _load_files([*context, fixture])
        shapes = _load_files(shape_files)
        ontology = _repository_graphs()[1]
    _assert_same_as_pyshacl(data, shapes, ontology)


@cache
def _vocabulary_shape_names() -> frozenset[str]:
    import re

    text = (ROOT / "shapes" / "vocabulary.ttl").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^cicash:([A-Za-z0-9_-]+)\s*$", text, re.MULTILINE))


def test_parallel_workers_give_the_same_results(tmp_path: Path) -> None:
    gen = _generator()
    data_file = tmp_path / "gen.ttl"
    gen.write(data_file, 3000, seed=3, defect_rate=0.05)
    shapes, ontology = _repository_graphs()
    data = _load_files([data_file])
    one = validate(data, shapes, ontology)
    assert one
    assert validate(data, shapes, ontology, workers=2) == one
