"""SHACL shapes tested as data, with pySHACL as the reference engine.

- The repository data (ontology loaded as the ontology graph) conforms to ``shapes/*.ttl``.
- The vocabulary QA shapes (``shapes/vocabulary.ttl``) pass on ``ontology/`` validated as data.
- Every shape of ours (node shape, named property shape, named SPARQL constraint) has a valid
  fixture ``tests/shapes/<Name>-valid.ttl`` and at least one invalid fixture
  ``tests/shapes/<Name>-invalid-NN-<why>.ttl``.
- A valid fixture conforms. An invalid fixture declares, in ``# expect:`` comment lines, the
  results it must produce, and the test asserts exactly that set of (focus node, source shape,
  source constraint): not merely "it failed"::

      # expect: focus=cicaid:m1 shape=cicash:Membership-member
      # expect: focus=cicaid:t2 shape=cicash:MembershipShape constraint=cicash:ChairTermOverlap

  ``focus=_:`` stands for "some blank node". Prefixed names use the fixture's own prefixes.
- Files in ``tests/shapes/`` whose name starts with ``_`` are shared context (e.g. the
  organisation, roles and sources a fixture needs), loaded with every fixture.

pySHACL is called directly (the ``cica-ld validate`` command is tested elsewhere):
``pyshacl.validate(data, shacl_graph=shapes, ont_graph=ontology, inference='none',
advanced=True)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHAPES_DIR = ROOT / "shapes"
ONTOLOGY_DIR = ROOT / "ontology"
DATA_DIR = ROOT / "data"
FIXTURE_DIR = Path(__file__).resolve().parent / "shapes"

SH = "http://www.w3.org/ns/shacl#"
CICASH = "https://w3id.org/cica-ld/shapes#"
SHAPES_ONTOLOGY = "https://w3id.org/cica-ld/shapes"

_FIXTURE_RE = re.compile(r"^(?P<shape>[A-Za-z][A-Za-z0-9_.-]*?)-(?:valid|invalid-\d\d-[a-z0-9-]+)$")
_EXPECT_RE = re.compile(r"^#\s*expect:\s*(?P<body>.*)$")

_RDFLIB_FORMATS = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "xml",
    ".owl": "xml",
    ".jsonld": "json-ld",
}


def _rdf_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in _RDFLIB_FORMATS and p.is_file())


def _graph(paths: list[Path]):  # -> rdflib.Graph
    import rdflib

    g = rdflib.Graph()
    for p in paths:
        g.parse(p, format=_RDFLIB_FORMATS[p.suffix])
    return g


def data_shape_files() -> list[Path]:
    """The shapes for data: every file of shapes/ but the vocabulary QA shapes.

    ``vocabulary.ttl`` validates the ontology itself as data. It cannot run on data validated with
    the ontology as the *ontology graph*: pySHACL copies only the RDFS/OWL axioms of that graph
    into the data graph (not skos:definition, not the header's dcterms annotations), so every
    term would lack its definition there.
    """
    return [p for p in _rdf_files(SHAPES_DIR) if p.name != "vocabulary.ttl"]


@cache
def all_shapes_graph():
    return _graph(_rdf_files(SHAPES_DIR))


@cache
def shapes_graph():
    return _graph(data_shape_files())


@cache
def vocabulary_shapes_graph():
    return _graph([SHAPES_DIR / "vocabulary.ttl"])


@cache
def vocabulary_shape_names() -> frozenset[str]:
    """Local names of the shapes defined in vocabulary.ttl (their fixtures are ontologies)."""
    return frozenset(_local_shape_names(vocabulary_shapes_graph()))


@cache
def ontology_graph():
    """The vocabulary: the Turtle files of ontology/ (not the JSON-LD context beside them)."""
    return _graph(sorted(ONTOLOGY_DIR.glob("*.ttl")))


@cache
def shared_context_files() -> tuple[Path, ...]:
    return tuple(sorted(FIXTURE_DIR.glob("_*.ttl")))


@dataclass(frozen=True, order=True)
class Result:
    """What identifies a validation result in these tests."""

    focus: str  # an IRI, or "_:" for any blank node
    shape: str
    constraint: str | None = None

    def __str__(self) -> str:
        c = f" constraint=<{self.constraint}>" if self.constraint else ""
        return f"focus=<{self.focus}> shape=<{self.shape}>{c}"


@dataclass(frozen=True)
class Report:
    conforms: bool
    results: frozenset[Result]
    text: str


_TRANSLATED: dict[tuple, object] = {}


@contextmanager
def parsed_once() -> Iterator[None]:
    """Let rdflib parse each SPARQL text once instead of once per focus node.

    pySHACL hands rdflib the text of a SPARQL constraint for every focus node, and rdflib parses
    it every time (~65 ms each: 90% of the validation time here). This reuses rdflib's own
    translated query object, the same thing ``rdflib.plugins.sparql.prepareQuery`` returns for
    repeated use with initial bindings; evaluation is unchanged
    (``test_parsed_once_gives_the_same_results`` checks it).
    """
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            if key not in _TRANSLATED:
                parsed = processor.parseQuery(strOrQuery)
                _TRANSLATED[key] = processor.translateQuery(parsed, base, initNs)
            strOrQuery = _TRANSLATED[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original


def validate(data, shapes=None, ontology=None, *, cache_parsing: bool = True) -> Report:
    """Run pySHACL and reduce its report to a set of :class:`Result`."""
    import pyshacl
    from rdflib import BNode, Namespace
    from rdflib.namespace import RDF

    sh = Namespace(SH)
    with parsed_once() if cache_parsing else nullcontext():
        conforms, report, text = pyshacl.validate(
            data,
            shacl_graph=shapes if shapes is not None else shapes_graph(),
            ont_graph=ontology if ontology is not None else ontology_graph(),
            inference="none",
            advanced=True,
        )
    found = set()
    for r in report.subjects(RDF.type, sh.ValidationResult):
        focus = report.value(r, sh.focusNode)
        shape = report.value(r, sh.sourceShape)
        constraint = report.value(r, sh.sourceConstraint)
        found.add(
            Result(
                focus="_:" if isinstance(focus, BNode) else str(focus),
                shape="_:" if isinstance(shape, BNode) else str(shape),
                constraint=None
                if constraint is None or isinstance(constraint, BNode)
                else str(constraint),
            )
        )
    return Report(conforms=bool(conforms), results=frozenset(found), text=text)


# --------------------------------------------------------------------------- enumerating shapes


@cache
def our_shapes() -> dict[str, str]:
    """Every named shape or SPARQL constraint of ours: local name -> kind."""
    return _local_shape_names(all_shapes_graph())


@cache
def members_of(node_shape: str) -> frozenset[str]:
    """The named property shapes and SPARQL constraints a node shape holds (local names)."""
    from rdflib import URIRef

    g = all_shapes_graph()
    s = URIRef(CICASH + node_shape)
    out = set()
    for p in ("property", "sparql"):
        for o in g.objects(s, URIRef(SH + p)):
            if str(o).startswith(CICASH):
                out.add(str(o)[len(CICASH) :])
    return frozenset(out)


def _local_shape_names(g) -> dict[str, str]:
    from rdflib import URIRef
    from rdflib.namespace import RDF

    out: dict[str, str] = {}

    def ours(node) -> bool:
        return isinstance(node, URIRef) and str(node).startswith(CICASH)

    for s in g.subjects(RDF.type, URIRef(SH + "NodeShape")):
        if ours(s):
            out[str(s)[len(CICASH) :]] = "node shape"
    for s in set(g.subjects(URIRef(SH + "path"), None)):
        if ours(s):
            out[str(s)[len(CICASH) :]] = "property shape"
    for o in g.objects(None, URIRef(SH + "sparql")):
        if ours(o):
            out[str(o)[len(CICASH) :]] = "SPARQL constraint"
    return out


def _fixtures() -> list[Path]:
    return sorted(p for p in FIXTURE_DIR.glob("*.ttl") if not p.name.startswith("_"))


def _fixture_ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


@dataclass(frozen=True)
class Fixture:
    path: Path
    shape: str  # the local name the file is named after
    valid: bool
    expected: frozenset[Result]


def _expand(token: str, graph) -> str:
    if token == "_:":
        return token
    if token.startswith("<") and token.endswith(">"):
        return token[1:-1]
    if ":" not in token:
        raise ValueError(f"not an IRI or prefixed name: {token!r}")
    return str(graph.namespace_manager.expand_curie(token))


def read_fixture(path: Path):
    """Parse a fixture (with the shared context) and its ``# expect:`` lines."""
    m = _FIXTURE_RE.match(path.stem)
    assert m, f"{path.name}: fixture names are <Shape>-valid.ttl or <Shape>-invalid-NN-<why>.ttl"
    data = _graph([*shared_context_files(), path])
    own = _graph([path])  # the fixture's own prefixes resolve its expect lines
    expected = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        em = _EXPECT_RE.match(line.strip())
        if not em:
            continue
        fields = dict(part.split("=", 1) for part in em.group("body").split())
        unknown = set(fields) - {"focus", "shape", "constraint"}
        assert not unknown, f"{path.name}: unknown expect field(s) {sorted(unknown)}"
        expected.add(
            Result(
                focus=_expand(fields["focus"], own),
                shape=_expand(fields["shape"], own),
                constraint=_expand(fields["constraint"], own) if "constraint" in fields else None,
            )
        )
    fixture = Fixture(
        path=path,
        shape=m.group("shape"),
        valid=path.stem.endswith("-valid"),
        expected=frozenset(expected),
    )
    return fixture, data


# --------------------------------------------------------------------------- the tests


def test_shapes_graph_has_its_own_ontology_header() -> None:
    from rdflib import URIRef
    from rdflib.namespace import OWL, RDF

    g = all_shapes_graph()
    assert (URIRef(SHAPES_ONTOLOGY), RDF.type, OWL.Ontology) in g
    onto_terms = [s for s in g.subjects(RDF.type, OWL.Ontology)]
    assert onto_terms == [URIRef(SHAPES_ONTOLOGY)], "shapes/ declares exactly one owl:Ontology"


def test_every_constraint_has_a_message() -> None:
    """Every named property shape and SPARQL constraint carries an sh:message (@en)."""
    from rdflib import URIRef

    g = all_shapes_graph()
    missing = []
    for name, kind in our_shapes().items():
        if kind == "node shape":
            continue
        msgs = list(g.objects(URIRef(CICASH + name), URIRef(SH + "message")))
        if not any(getattr(m, "language", None) == "en" for m in msgs):
            missing.append(name)
    assert not missing, f"without an @en sh:message: {missing}"


def test_property_shapes_and_constraints_are_named() -> None:
    """No anonymous property shape or SPARQL constraint: results must point at a named IRI."""
    from rdflib import BNode, URIRef

    g = all_shapes_graph()
    anonymous = [
        (str(s), str(p))
        for p in (URIRef(SH + "property"), URIRef(SH + "sparql"))
        for s, o in g.subject_objects(p)
        if isinstance(o, BNode)
    ]
    assert not anonymous, f"anonymous property shapes / constraints under: {anonymous}"


def test_every_shape_has_valid_and_invalid_fixtures() -> None:
    shapes = our_shapes()
    assert shapes, "no shapes found in shapes/"
    names = {p.stem for p in _fixtures()}
    missing = []
    for name in sorted(shapes):
        if f"{name}-valid" not in names:
            missing.append(f"{name}-valid.ttl")
        if not any(n.startswith(f"{name}-invalid-") for n in names):
            missing.append(f"{name}-invalid-01-<why>.ttl")
    assert not missing, f"shapes without fixtures in tests/shapes/: {missing}"


def test_every_fixture_names_an_existing_shape() -> None:
    shapes = our_shapes()
    orphans = []
    for p in _fixtures():
        m = _FIXTURE_RE.match(p.stem)
        if not m or m.group("shape") not in shapes:
            orphans.append(p.name)
    assert not orphans, f"fixtures for no shape (renamed or removed?): {orphans}"


@pytest.mark.parametrize("path", _fixtures(), ids=_fixture_ids(_fixtures()))
def test_fixture(path: Path) -> None:
    """A valid fixture conforms; an invalid one gives exactly its expected results."""
    from rdflib import Graph

    fixture, data = read_fixture(path)
    if fixture.shape in vocabulary_shape_names():
        # the fixture is a small ontology, validated as data with the vocabulary QA shapes
        report = validate(data, shapes=vocabulary_shapes_graph(), ontology=Graph())
    else:
        report = validate(data)
    if fixture.valid:
        assert not fixture.expected, f"{path.name}: a valid fixture expects no results"
        assert report.conforms, f"{path.name} should conform:\n{report.text}"
        return
    assert fixture.expected, f"{path.name}: an invalid fixture needs '# expect:' lines"
    # the fixture must exercise the shape it is named after: a result from that shape, or, for a
    # node shape whose constraints all sit in its property shapes, from one of those
    named = {CICASH + fixture.shape} | {CICASH + m for m in members_of(fixture.shape)}
    assert any({r.shape, r.constraint} & named for r in fixture.expected), (
        f"{path.name}: no expect line names cicash:{fixture.shape} (or one of its constraints)"
    )
    assert not report.conforms
    missing = sorted(fixture.expected - report.results)
    extra = sorted(report.results - fixture.expected)
    assert not missing and not extra, (
        f"{path.name}\n  expected but not reported: {[str(r) for r in missing]}"
        f"\n  reported but not expected: {[str(r) for r in extra]}\n{report.text}"
    )


def test_repository_data_conforms() -> None:
    data = _graph(_rdf_files(DATA_DIR))
    assert len(data) > 0, "data/ is empty"
    report = validate(data)
    assert report.conforms, report.text


def test_ontology_passes_vocabulary_shapes() -> None:
    """The vocabulary QA shapes, with the ontology validated as data."""
    from rdflib import Graph

    report = validate(ontology_graph(), shapes=vocabulary_shapes_graph(), ontology=Graph())
    assert report.conforms, report.text


def test_vocabulary_shapes_catch_a_bare_term() -> None:
    """Guard against a vacuous pass: an unlabelled, undefined class of ours is reported."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import OWL, RDF

    g = Graph()
    for t in ontology_graph():
        g.add(t)
    bare = URIRef("https://w3id.org/cica-ld/ontology#BareTestClass")
    g.add((bare, RDF.type, OWL.Class))
    report = validate(g, shapes=vocabulary_shapes_graph(), ontology=Graph())
    assert not report.conforms
    assert {r.focus for r in report.results} == {str(bare)}


def test_every_class_in_the_data_is_covered_by_a_shape() -> None:
    """Every typed node of the data has a type that a node shape targets (or a subclass of one,
    by the vocabulary's rdfs:subClassOf axioms)."""
    from rdflib import URIRef
    from rdflib.namespace import RDF, RDFS

    shapes = shapes_graph()
    targeted = set(shapes.objects(None, URIRef(SH + "targetClass")))
    onto = ontology_graph()

    def covered(cls) -> bool:
        return any(c in targeted for c in onto.transitive_objects(cls, RDFS.subClassOf))

    data = _graph(_rdf_files(DATA_DIR))
    uncovered = sorted(
        {
            str(s)
            for s in set(data.subjects(RDF.type, None))
            if not any(covered(t) for t in data.objects(s, RDF.type))
        }
    )
    assert not uncovered, f"typed nodes no shape targets: {uncovered[:10]}"


@pytest.mark.parametrize(
    "name",
    [
        "ChairTermsDoNotOverlap-invalid-03-two-open-terms",
        "MemberCountMatchesMemberships-invalid-01-too-many",
        "IntervalEndsAfterItBegins-invalid-02-uncertain-end-too-early",
    ],
)
def test_parsed_once_gives_the_same_results(name: str) -> None:
    """The parse cache used by these tests does not change what pySHACL reports."""
    _, data = read_fixture(FIXTURE_DIR / f"{name}.ttl")
    cached = validate(data, cache_parsing=True)
    uncached = validate(data, cache_parsing=False)
    assert cached.results == uncached.results
    assert cached.results  # the fixtures are invalid: the comparison is not vacuous
