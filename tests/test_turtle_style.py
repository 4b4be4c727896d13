"""House-style lint for the Turtle in ontology/, data/ and shapes/ (docs: guides/style.md).

Text rules (per file): a header comment first; `@prefix` lines together, sorted, the project's
own namespaces (under https://w3id.org/cica-ld/) last; banners of one style; each statement
opens with its subject alone on a line and `a` first, 4-space indentation, the closing `.` on
its own line; no tabs or trailing spaces; a final newline.

Graph rules (over all files): every IRI of our namespaces that is used is defined (catches
typos); every vocabulary term has an English label, an English definition and
rdfs:isDefinedBy the ontology; the ontology header is complete and its owl:versionInfo is the
package version (so is the shapes ontology's); every shape has an sh:message.

Each rule is also run on a small broken input, so a lint that stopped looking would fail.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, Literal, URIRef

import cica_ld

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    p for d in ("ontology", "data", "shapes") for p in (ROOT / d).glob("*.ttl") if p.is_file()
)
OWN_BASE = "https://w3id.org/cica-ld/"
ONTOLOGY_IRI = URIRef("https://w3id.org/cica-ld/ontology")
SHAPES_IRI = URIRef("https://w3id.org/cica-ld/shapes")
CICA = "https://w3id.org/cica-ld/ontology#"
CICAID = "https://w3id.org/cica-ld/id/"
CICASH = "https://w3id.org/cica-ld/shapes#"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
BANNER = "# " + "-" * 93
PREFIX_RE = re.compile(r"^@prefix ([A-Za-z][\w-]*)?: <([^>]*)> \.$")


# ---------------------------------------------------------------------------------------------
# Text rules
# ---------------------------------------------------------------------------------------------


def _code_lines(text: str) -> list[tuple[int, str, bool]]:
    """(line number, line, inside a multi-line string) for every line."""
    out = []
    inside = False
    for n, line in enumerate(text.split("\n"), start=1):
        out.append((n, line, inside))
        if line.lstrip().startswith("#") and not inside:
            continue
        # toggle on every triple quote outside single-line strings
        for _ in re.findall(r'"""', line):
            inside = not inside
    return out


def lint_text(text: str) -> list[str]:
    """House-style problems of one Turtle file's text, as 'line N: message'."""
    problems: list[str] = []
    if "\t" in text:
        problems += [f"line {n}: tab" for n, line, _ in _code_lines(text) if "\t" in line]
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append("end of file: exactly one final newline expected")
    lines = _code_lines(text)
    for n, line, _ in lines:
        if line != line.rstrip(" "):
            problems.append(f"line {n}: trailing space")
    if not lines or not lines[0][1].startswith("# "):
        problems.append("line 1: the file must open with a header comment")

    # prefixes: one contiguous block, sorted, own namespaces last
    prefix_lines = [(n, line) for n, line, ins in lines if line.startswith("@prefix") and not ins]
    for n, line in prefix_lines:
        if not PREFIX_RE.match(line):
            problems.append(f"line {n}: malformed @prefix line")
    if prefix_lines:
        first, last = prefix_lines[0][0], prefix_lines[-1][0]
        if last - first + 1 != len(prefix_lines):
            problems.append(f"line {first}: @prefix lines must be one contiguous block")
        parsed = [PREFIX_RE.match(line) for _, line in prefix_lines]
        names = [(m.group(2).startswith(OWN_BASE), m.group(1) or "") for m in parsed if m]
        if names != sorted(names):
            problems.append(
                f"line {first}: prefixes must be sorted, own namespaces ({OWN_BASE}...) last"
            )
        if any(line.strip() and not line.startswith("#") for _, line, _ in lines[: first - 1]):
            problems.append(f"line {first}: only the header comment may precede the prefixes")

    # banners and statements
    in_statement = False
    expect_a = False
    for n, line, ins in lines:
        if ins:
            continue
        if line.startswith("# -") and line != BANNER:
            problems.append(f"line {n}: banner lines are '# ' + 93 dashes")
        if not line or line.startswith("#") or line.startswith("@prefix"):
            if expect_a and not line.startswith("#"):
                problems.append(f"line {n}: the statement's first line after the subject is `a`")
                expect_a = False
            continue
        if not line.startswith(" "):
            if line == ".":
                if not in_statement:
                    problems.append(f"line {n}: '.' outside a statement")
                in_statement = False
                continue
            if in_statement:
                problems.append(f"line {n}: statement not closed with '.' on its own line")
            if re.search(r"\s", line.strip()):
                problems.append(f"line {n}: the subject must stand alone on its line")
            in_statement = True
            expect_a = True
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent % 4:
            problems.append(f"line {n}: indentation must be a multiple of 4 spaces")
        if expect_a:
            if not line.startswith("    a "):
                problems.append(f"line {n}: the statement's first line after the subject is `a`")
            expect_a = False
        if line.rstrip().endswith(" ."):
            problems.append(f"line {n}: the closing '.' goes on its own line")
    if in_statement:
        problems.append("end of file: statement not closed with '.'")
    return problems


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file_follows_the_house_style(path: Path) -> None:
    problems = lint_text(path.read_text(encoding="utf-8"))
    assert problems == [], f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


GOOD = """# A header.

@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix cicaid: <https://w3id.org/cica-ld/id/> .

# ---------------------------------------------------------------------------------------------
# Things
# ---------------------------------------------------------------------------------------------

cicaid:x
    a rdfs:Resource ;
    rdfs:label "x"@en ;
    rdfs:comment \"\"\"multi
  line text with odd indentation\"\"\" ;
.
"""


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (GOOD.replace("# A header.\n", ""), "header comment"),
        (GOOD.replace('"x"@en ;', '"x"@en ;\t'), "tab"),
        (GOOD.replace('"x"@en ;', '"x"@en ; '), "trailing space"),
        (GOOD + "\n", "final newline"),
        (
            GOOD.replace(
                "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                "@prefix cicaid: <https://w3id.org/cica-ld/id/> .",
                "@prefix cicaid: <https://w3id.org/cica-ld/id/> .\n"
                "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
            ),
            "own namespaces",
        ),
        (GOOD.replace(BANNER, BANNER[:40]), "banner"),
        (GOOD.replace("    a rdfs:Resource ;\n    rdfs:label", "    rdfs:label"), "`a`"),
        (GOOD.replace('    rdfs:label "x"@en ;', '   rdfs:label "x"@en ;'), "multiple of 4"),
        (GOOD.replace("cicaid:x\n    a", "cicaid:x a rdfs:Resource ;\n    a"), "alone"),
        (
            GOOD.replace(
                'rdfs:label "x"@en ;', 'rdfs:label "x"@en .\n.\ncicaid:y\n    a rdfs:Resource ;'
            ),
            "closing '.'",
        ),
    ],
)
def test_text_lint_catches(broken: str, expected: str) -> None:
    assert lint_text(GOOD) == []
    problems = lint_text(broken)
    assert any(expected in p for p in problems), problems


# ---------------------------------------------------------------------------------------------
# Graph rules
# ---------------------------------------------------------------------------------------------


@cache
def graph_of(kind: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for p in FILES:
        if p.parent.name == kind:
            g.parse(p, format="turtle")
    return g


def undefined_own_iris(
    ontology: rdflib.Graph, data: rdflib.Graph, shapes: rdflib.Graph
) -> list[str]:
    """Our-namespace IRIs that are used but never defined (a typo, usually)."""
    defined_terms = set(ontology.subjects(RDFS.isDefinedBy, ONTOLOGY_IRI))
    defined_ids = set(data.subjects())
    defined_shapes = set(shapes.subjects())
    problems = []
    for name, g in (("ontology", ontology), ("data", data), ("shapes", shapes)):
        for t in set(g.subjects()) | set(g.predicates()) | set(g.objects()):
            if not isinstance(t, URIRef):
                continue
            s = str(t)
            if s.startswith(CICA) and t not in defined_terms:
                problems.append(f"{name}: {s} is not defined in the vocabulary")
            elif s.startswith(CICAID) and t not in defined_ids:
                problems.append(f"{name}: {s} is not described in data/")
            elif s.startswith(CICASH) and t not in defined_shapes:
                problems.append(f"{name}: {s} is not defined in shapes/")
    return sorted(problems)


def undocumented_terms(ontology: rdflib.Graph) -> list[str]:
    problems = []
    terms = {s for s in ontology.subjects() if isinstance(s, URIRef) and str(s).startswith(CICA)}
    for t in sorted(terms):
        labels = [o for o in ontology.objects(t, RDFS.label) if isinstance(o, Literal)]
        if not any(o.language == "en" for o in labels):
            problems.append(f"{t}: no rdfs:label @en")
        defs = [o for o in ontology.objects(t, SKOS.definition) if isinstance(o, Literal)]
        if not any(o.language == "en" for o in defs):
            problems.append(f"{t}: no skos:definition @en")
        if (t, RDFS.isDefinedBy, ONTOLOGY_IRI) not in ontology:
            problems.append(f"{t}: rdfs:isDefinedBy is not {ONTOLOGY_IRI}")
    return problems


def shapes_without_message(shapes: rdflib.Graph) -> list[str]:
    found = set(shapes.subjects(RDF.type, SH.NodeShape))
    found |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    found |= set(shapes.objects(None, SH.property))
    found |= set(shapes.subjects(RDF.type, SH.SPARQLConstraint))
    found |= set(shapes.objects(None, SH.sparql))
    return sorted(str(s) for s in found if (s, SH.message, None) not in shapes)


def test_every_own_iri_used_is_defined() -> None:
    assert undefined_own_iris(graph_of("ontology"), graph_of("data"), graph_of("shapes")) == []


def test_every_vocabulary_term_is_labelled_defined_and_attributed() -> None:
    ontology = graph_of("ontology")
    assert len(set(ontology.subjects(RDFS.isDefinedBy, ONTOLOGY_IRI))) > 50
    assert undocumented_terms(ontology) == []


def test_ontology_header_is_complete_and_versioned() -> None:
    g = graph_of("ontology")
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in g
    for p in (
        OWL.versionIRI, DCTERMS.title, DCTERMS.description, DCTERMS.license,
        DCTERMS.creator, DCTERMS.created, DCTERMS.modified,
    ):  # fmt: skip
        assert g.value(ONTOLOGY_IRI, p) is not None, p
    assert str(g.value(ONTOLOGY_IRI, OWL.versionInfo)) == cica_ld.__version__
    assert str(g.value(ONTOLOGY_IRI, OWL.versionIRI)).endswith("/" + cica_ld.__version__)


def test_shapes_ontology_version_matches_the_package() -> None:
    g = graph_of("shapes")
    if not len(g):
        pytest.skip("no shapes yet")
    assert str(g.value(SHAPES_IRI, OWL.versionInfo)) == cica_ld.__version__


def test_every_shape_has_a_message() -> None:
    g = graph_of("shapes")
    if not len(g):
        pytest.skip("no shapes yet")
    assert shapes_without_message(g) == []


BAD_ONTOLOGY = """
@prefix cica: <https://w3id.org/cica-ld/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
cica:State a owl:Class ; rdfs:label "state"@en ; skos:definition "A state."@en ;
    rdfs:isDefinedBy <https://w3id.org/cica-ld/ontology> .
cica:Nameless a owl:Class ; rdfs:isDefinedBy <https://w3id.org/cica-ld/ontology> .
"""
BAD_DATA = """
@prefix cica: <https://w3id.org/cica-ld/ontology#> .
@prefix cicaid: <https://w3id.org/cica-ld/id/> .
cicaid:kazakhstan a cica:Sate ; cica:memberOf cicaid:cica .
"""
BAD_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix cicash: <https://w3id.org/cica-ld/shapes#> .
cicash:StateShape a sh:NodeShape ; sh:property cicash:State-code .
"""


def test_graph_lint_catches_typos_missing_docs_and_messages() -> None:
    onto = rdflib.Graph().parse(data=BAD_ONTOLOGY, format="turtle")
    data = rdflib.Graph().parse(data=BAD_DATA, format="turtle")
    shapes = rdflib.Graph().parse(data=BAD_SHAPES, format="turtle")
    undefined = undefined_own_iris(onto, data, shapes)
    assert any("ontology#Sate" in p for p in undefined)
    assert any("ontology#memberOf" in p for p in undefined)
    assert any("id/cica " in p for p in undefined)
    assert any("shapes#State-code" in p for p in undefined)
    assert not any("ontology#State " in p for p in undefined)
    undocumented = undocumented_terms(onto)
    assert any("Nameless: no rdfs:label" in p for p in undocumented)
    assert not any("#State:" in p for p in undocumented)
    assert shapes_without_message(shapes) == [
        "https://w3id.org/cica-ld/shapes#State-code",
        "https://w3id.org/cica-ld/shapes#StateShape",
    ]
