"""The vocabulary is consistent with the data for an OWL 2 DL reasoner (HermiT, via owlready2).

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
XSD = "http://www.w3.org/2001/XMLSchema#"
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


def _triples(with_data: bool) -> list[pyoxigraph.Triple]:
    loaded = load(None if with_data else [], include_ontology=True)
    return [q.triple for q in loaded.store]


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


def test_reasoner_detects_an_inconsistency(tmp_path: Path) -> None:
    """Guard: the check above would fail if the data contradicted the vocabulary."""
    triples = _triples(with_data=True)
    rdf_type = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    # an instant that is also a proper interval: W3C Time (and our copy) makes them disjoint
    triples.append(
        pyoxigraph.Triple(
            pyoxigraph.NamedNode("https://w3id.org/cica-ld/id/instant-2022-10-13"),
            rdf_type,
            pyoxigraph.NamedNode("http://www.w3.org/2006/time#ProperInterval"),
        )
    )
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _reason(triples, tmp_path)
