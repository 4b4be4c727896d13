"""The vocabulary declares what the data uses, the way OWL 2 DL needs it.

OWL 2 DL wants every class and property declared, and a property used either with IRIs (an
object property) or with literals (a datatype property), never both. The vocabulary declares
the external terms the data uses (ORG, Time, PROV, SKOS, FOAF, DCMI), so a DL tool that loads
ontology/ and data/ alone sees a complete set of declarations.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import rdflib
from rdflib import OWL, RDF, RDFS, Literal, URIRef

ROOT = Path(__file__).resolve().parent.parent
CICA = "https://w3id.org/cica-ld/ontology#"
BUILTIN = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.sameAs}
KINDS = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}


@cache
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / "cica.ttl", format="turtle")


@cache
def data() -> rdflib.Graph:
    g = rdflib.Graph()
    for p in sorted((ROOT / "data").glob("*.ttl")):
        g.parse(p, format="turtle")
    return g


def kinds(term: URIRef) -> set[URIRef]:
    return set(ontology().objects(term, RDF.type)) & KINDS


def test_every_own_class_and_property_has_exactly_one_kind() -> None:
    own = {
        s
        for s in ontology().subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(CICA) and kinds(s)
    }
    assert len(own) >= 40
    for term in own:
        assert len(kinds(term)) == 1, term


def test_every_predicate_in_the_data_is_declared() -> None:
    used = set(data().predicates()) - BUILTIN
    assert len(used) > 30
    undeclared = sorted(str(p) for p in used if not kinds(p) & (KINDS - {OWL.Class}))
    assert undeclared == []


def test_every_class_in_the_data_is_declared() -> None:
    used = set(data().objects(None, RDF.type))
    undeclared = sorted(str(c) for c in used if OWL.Class not in kinds(c))
    assert undeclared == []


def test_object_and_datatype_properties_are_used_as_declared() -> None:
    g = data()
    for s, p, o in g:
        k = kinds(p)
        if OWL.ObjectProperty in k:
            assert isinstance(o, URIRef), (s, p, o)
        if OWL.DatatypeProperty in k:
            assert isinstance(o, Literal), (s, p, o)


def test_subclass_axioms_the_shapes_rely_on_are_present() -> None:
    org = rdflib.Namespace("http://www.w3.org/ns/org#")
    cica = rdflib.Namespace(CICA)
    foaf = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
    g = ontology()
    closure = {
        c: set(g.transitive_objects(c, RDFS.subClassOf))
        for c in (cica.State, cica.IntergovernmentalOrganization, org.OrganizationalUnit)
    }
    for c, supers in closure.items():
        assert org.Organization in supers, c
        assert foaf.Agent in supers, c
    assert (org.Role, RDFS.subClassOf, rdflib.SKOS.Concept) in g
