"""The vocabulary is consistent with the data for an OWL 2 DL reasoner (HermiT, via owlready2),
and so is PROV-O: the W3C PROV ontology (tests/fixtures/prov-o/prov-o.ttl, the 2013
Recommendation, copied unchanged) is loaded beside ours, so PROV-O's own axioms apply to the
data, among them ``prov:Activity owl:disjointWith prov:Entity`` and ``prov:wasDerivedFrom
rdfs:domain prov:Entity``: an event (a prov:Activity) that were prov:wasDerivedFrom its source
would make the whole inconsistent (events cite their sources with dcterms:source instead).

owlready2 reads N-Triples, not Turtle, so the ontology and data are serialised with pyoxigraph
into a temporary folder first. HermiT (Java) runs in a subprocess.

HermiT accepts only the datatypes of the OWL 2 datatype map. W3C Time's time:inXSDDate,
time:inXSDgYearMonth and time:inXSDgYear (the fixed date convention of the data) take
xsd:date, xsd:gYearMonth and xsd:gYear literals, which are outside that map, as is the
xsd:date of dcterms:created. Such literals are handed to HermiT as plain strings (their
lexical form is kept); every class, property and individual is reasoned over as it is. The
datatypes themselves are checked by the SHACL shapes, not by the reasoner.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph
import pytest

from cica_ld.dataset import load

ROOT = Path(__file__).resolve().parent.parent
PROV_O = ROOT / "tests" / "fixtures" / "prov-o" / "prov-o.ttl"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
ID = "https://w3id.org/cica-ld/id/"
RDF_TYPE = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: Datatypes of the data that are not in the OWL 2 datatype map.
OUTSIDE_OWL2_MAP = {XSD + "date", XSD + "gYearMonth", XSD + "gYear"}

owlready2 = pytest.importorskip("owlready2")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java"),
]


def _for_hermit(triples: list[pyoxigraph.Triple]) -> list[pyoxigraph.Triple]:
    out = []
    for t in triples:
        o = t.object
        if isinstance(o, pyoxigraph.Literal) and o.datatype.value in OUTSIDE_OWL2_MAP:
            o = pyoxigraph.Literal(o.value)
        out.append(pyoxigraph.Triple(t.subject, t.predicate, o))
    return out


def _reason(triples: list[pyoxigraph.Triple], folder: Path):
    """Write N-Triples, load them into a fresh owlready2 world and run HermiT."""
    path = folder / "graph.nt"
    nt = pyoxigraph.serialize(_for_hermit(triples), format=pyoxigraph.RdfFormat.N_TRIPLES)
    path.write_bytes(nt)
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load()
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world


def _triples(with_data: bool, *, with_prov_o: bool = False) -> list[pyoxigraph.Triple]:
    loaded = load(None if with_data else [], include_ontology=True)
    triples = [q.triple for q in loaded.store]
    if with_prov_o:
        triples += list(pyoxigraph.parse(path=str(PROV_O), format=pyoxigraph.RdfFormat.TURTLE))
    return triples


def _derived_from_source(event: str) -> pyoxigraph.Triple:
    """``cicaid:<event> prov:wasDerivedFrom cicaid:source-article``: the pre-fix modelling."""
    return pyoxigraph.Triple(
        pyoxigraph.NamedNode(ID + event),
        pyoxigraph.NamedNode(PROV + "wasDerivedFrom"),
        pyoxigraph.NamedNode(ID + "source-article"),
    )


def test_ontology_alone_is_consistent(tmp_path: Path) -> None:
    world = _reason(_triples(with_data=False), tmp_path)
    assert list(world.inconsistent_classes()) == []


def test_ontology_and_data_are_consistent_with_no_unsatisfiable_class(tmp_path: Path) -> None:
    triples = _triples(with_data=True)
    assert len(triples) > 4000
    world = _reason(triples, tmp_path)
    assert list(world.inconsistent_classes()) == []
    # the reasoner really saw the data: HermiT classified the individuals
    cica = world.get_namespace("https://w3id.org/cica-ld/ontology#")
    states = set(cica.State.instances())
    assert len(states) >= 40
    org = world.get_namespace("http://www.w3.org/ns/org#")
    assert states <= set(org.Organization.instances())  # inferred through the subclass axioms


def test_prov_o_copy_is_the_2013_recommendation() -> None:
    triples = list(pyoxigraph.parse(path=str(PROV_O), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(triples) == 1146
    facts = {(t.subject.value, t.predicate.value, t.object.value) for t in triples}
    owl = "http://www.w3.org/2002/07/owl#"
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    assert (
        "http://www.w3.org/ns/prov-o#",
        owl + "versionIRI",
        "http://www.w3.org/ns/prov-o-20130430",
    ) in facts
    assert (PROV + "Activity", owl + "disjointWith", PROV + "Entity") in facts
    assert (PROV + "wasDerivedFrom", rdfs + "domain", PROV + "Entity") in facts
    assert (PROV + "wasDerivedFrom", rdfs + "range", PROV + "Entity") in facts


def test_ontology_data_and_prov_o_are_consistent(tmp_path: Path) -> None:
    """The data is consistent with the real PROV-O, not only with the axioms we copy."""
    world = _reason(_triples(with_data=True, with_prov_o=True), tmp_path)
    assert list(world.inconsistent_classes()) == []
    prov = world.get_namespace(PROV)
    cicaid = world.get_namespace(ID)
    entities = set(prov.Entity.instances())
    activities = set(prov.Activity.instances())
    agents = set(prov.Agent.instances())
    # PROV-O's axioms were applied: memberships, states and people cite their sources with
    # prov:wasDerivedFrom (domain prov:Entity); hosts and presiding people are prov:Agent too
    # (cica:host and cica:presidedBy refine prov:wasAssociatedWith, range prov:Agent).
    assert cicaid["membership-kuwait-member"] in entities
    assert cicaid["chair-term-6-kazakhstan"] in entities  # also prov:wasGeneratedBy a meeting
    assert {cicaid["kazakhstan"], cicaid["kassym-jomart-tokayev"]} <= entities & agents
    assert cicaid["summit-6"] in activities
    assert len(activities) >= 30
    assert not activities & entities


@pytest.mark.parametrize("with_prov_o", [True, False], ids=["prov-o", "our-copied-axioms"])
def test_an_event_derived_from_a_source_is_inconsistent(tmp_path: Path, with_prov_o: bool) -> None:
    """Guard for the fix above: prov:wasDerivedFrom on an event (a prov:Activity) makes it a
    prov:Entity, which PROV-O makes disjoint with prov:Activity. Both the real PROV-O and the
    PROV-O axioms copied into ontology/cica.ttl catch it."""
    triples = _triples(with_data=True, with_prov_o=with_prov_o)
    triples.append(_derived_from_source("summit-6"))
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _reason(triples, tmp_path)


def test_reasoner_detects_an_inconsistency(tmp_path: Path) -> None:
    """Guard: the check above would fail if the data contradicted the vocabulary."""
    triples = _triples(with_data=True)
    # an instant that is also a proper interval: W3C Time (and our copy) makes them disjoint
    triples.append(
        pyoxigraph.Triple(
            pyoxigraph.NamedNode("https://w3id.org/cica-ld/id/instant-2022-10-13"),
            RDF_TYPE,
            pyoxigraph.NamedNode("http://www.w3.org/2006/time#ProperInterval"),
        )
    )
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _reason(triples, tmp_path)
