"""The validation library (cica_ld.validation): results, source locations, the ontology graph,
inference, engines, and the check of the shapes graph itself. Small fixtures of our own
(tests/fixtures/validate-*), the generator's defect-injected data, and the embedded dataset."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyoxigraph
import pytest
from conftest import FIXTURES, ROOT

from cica_ld import validation
from cica_ld.errors import InputError, UsageError
from cica_ld.locations import Location
from cica_ld.shacl_model import SH, Severity, ValidationResult
from cica_ld.validation import ShapesGraphError, ValidationReport

BASIC = FIXTURES / "validate-basic"
BAD_SHAPES = FIXTURES / "validate-shapes"
EX = "http://example.org/ns#"


def run(data: str | Path | list, *, ontology: list | None = None, **kw) -> ValidationReport:
    data = data if isinstance(data, list) else [data]
    return validation.validate(
        data,
        [BASIC / "shapes.ttl"],
        [BASIC / "ontology.ttl"] if ontology is None else ontology,
        **kw,
    )


def line_of(path: Path, needle: str, nth: int = 0) -> tuple[int, int]:
    """(line, column) of the nth occurrence of ``needle`` in a file, by plain text search."""
    text = path.read_text(encoding="utf-8")
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    before = text[:at]
    return before.count("\n") + 1, at - (before.rfind("\n") + 1) + 1


def keys(report: ValidationReport) -> list[tuple]:
    """Result keys with blank nodes made comparable across parses (all written as ``_:``)."""

    def norm(term: str | None) -> str | None:
        return "_:" if term is not None and term.startswith("_:") else term

    out = []
    for r in report.results:
        out.append(
            (
                norm(r.focus_node),
                norm(r.source_shape) if not r.source_shape.startswith("_:") else "_:",
                r.constraint_component,
                r.path,
                norm(r.value),
                r.severity,
            )
        )
    return sorted(out, key=repr)


# The defects of data-invalid.ttl: (text that opens the focus node's description, nth, shape,
# component, severity). Lines come from searching the file, not from cica-ld.
INVALID = BASIC / "data-invalid.ttl"
DEFECTS = [
    ("ex:bob a", 0, f"<{EX}PersonShape-name>", "MinCount", Severity.VIOLATION),
    ("ex:carol a", 0, f"<{EX}PersonShape-age>", "Datatype", Severity.VIOLATION),
    ("ex:dave a", 0, f"<{EX}PersonShape-worksFor>", "Class", Severity.VIOLATION),
    ("ex:erin a", 0, "ex:PersonShape/ex:email", "Pattern", Severity.VIOLATION),
    ('[ ex:start "2005', 0, f"<{EX}EmploymentShape>", "SPARQL", Severity.VIOLATION),
    ("[ ex:end", 0, "ex:EmploymentShape/ex:start", "MinCount", Severity.VIOLATION),
    ("ex:heidi ex:nickname", 0, "ex:NicknameShape/ex:nickname", "MaxLength", Severity.WARNING),
    ("ex:ivy ex:homepage", 0, "ex:HomepageShape/ex:homepage", "NodeKind", Severity.INFO),
    ("ex:judy a", 0, f"<{EX}PersonShape-age>", "MaxCount", Severity.VIOLATION),
]


def test_each_defect_reported_once_at_its_line() -> None:
    report = run(INVALID)
    assert not report.conforms and not report.passed
    assert len(report.findings) == len(DEFECTS)
    for needle, nth, shape, component, severity in DEFECTS:
        line, col = line_of(INVALID, needle, nth)
        hits = [
            f
            for f in report.findings
            if f.location == Location(str(INVALID), line, col)
            and f.result.constraint_component == f"{SH}{component}ConstraintComponent"
        ]
        assert len(hits) == 1, (needle, [str(f.location) for f in report.findings])
        r = hits[0].result
        assert r.severity is severity
        name = report.shape_name(r.source_shape)
        assert r.source_shape == shape or name == shape, (needle, r.source_shape, name)
    assert report.counts == {Severity.VIOLATION: 7, Severity.WARNING: 1, Severity.INFO: 1}


def test_result_fields() -> None:
    report = run(INVALID)
    by_focus = {f.result.focus_node: f.result for f in report.findings if f.result.focus_node}
    carol = by_focus[f"<{EX}carol>"]
    assert carol.path == f"<{EX}age>"
    assert carol.value == '"old"'
    assert carol.message == "An age is one integer"
    dave = by_focus[f"<{EX}dave>"]
    assert dave.value == f"<{EX}notAnOrg>"
    sparql = next(f.result for f in report.findings if "SPARQL" in f.result.constraint_component)
    assert sparql.focus_node.startswith("_:")
    assert sparql.value == '"2004-01-01"^^<http://www.w3.org/2001/XMLSchema#date>'
    assert sparql.source_constraint is not None
    # the blank-node focus is the node in the data store: it has the end date the data gave
    store = validation.load_graph([INVALID]).store  # a fresh parse: compare by content instead
    assert any(True for _ in store.quads_for_pattern(None, pyoxigraph.NamedNode(EX + "end"), None))


def test_findings_sorted_by_location() -> None:
    report = run(INVALID)
    lines = [f.location.line for f in report.findings]
    assert lines == sorted(lines)


def test_valid_data_conforms_and_ontology_individuals_are_not_validated() -> None:
    # the ontology types ex:ontologyPerson as a Person without a name: not a result
    report = run(BASIC / "data-valid.ttl")
    assert report.conforms and report.passed
    assert report.findings == ()
    assert [f.path for f in report.sources.ontology] == [BASIC / "ontology.ttl"]


def test_ontology_subclass_axioms_reach_sh_class_and_targets() -> None:
    # ex:initech is an ex:Company, a subclass of ex:Organization only in the ontology
    without = run(BASIC / "data-valid.ttl", ontology=[])
    assert [(f.result.focus_node, f.result.constraint_component) for f in without.findings] == [
        (f"<{EX}kim>", f"{SH}ClassConstraintComponent")
    ]
    # ex:judy is an ex:Employee: targeted by ex:PersonShape (targetClass ex:Person) only
    # through the ontology's subclass axiom
    with_onto = {f.result.focus_node for f in run(INVALID).findings}
    no_onto = {f.result.focus_node for f in run(INVALID, ontology=[]).findings}
    assert f"<{EX}judy>" in with_onto
    assert f"<{EX}judy>" not in no_onto


def test_inference_rdfs_types_nodes_by_domain(tmp_path: Path) -> None:
    onto = tmp_path / "onto.ttl"
    onto.write_text(
        (BASIC / "ontology.ttl").read_text()
        + "ex:worksFor <http://www.w3.org/2000/01/rdf-schema#domain> ex:Person .\n",
        encoding="utf-8",
    )
    data = tmp_path / "data.ttl"
    data.write_text(
        "@prefix ex: <http://example.org/ns#> .\nex:acme a ex:Organization .\n"
        "ex:zed ex:worksFor ex:acme .\n",
        encoding="utf-8",
    )
    plain = run(data, ontology=[onto])
    assert plain.conforms
    inferred = run(data, ontology=[onto], inference="rdfs")
    assert [(f.result.focus_node, f.result.source_shape) for f in inferred.findings] == [
        (f"<{EX}zed>", f"<{EX}PersonShape-name>")
    ]
    assert inferred.findings[0].location == Location(str(data), 3, 1)
    assert inferred.inference == "rdfs"
    owlrl = run(data, ontology=[onto], inference="owlrl")
    assert {f.result.focus_node for f in owlrl.findings} == {f"<{EX}zed>"}


def test_same_results_in_one_file_or_split(tmp_path: Path) -> None:
    text = INVALID.read_text(encoding="utf-8")
    head, body = text.split("# minCount: no name", 1)
    blocks = ("# minCount: no name" + body).split("\n\n")
    parts = []
    for i, chunk in enumerate([blocks[: len(blocks) // 2], blocks[len(blocks) // 2 :]]):
        p = tmp_path / f"part{i}.ttl"
        p.write_text(head + "\n\n".join(chunk) + "\n", encoding="utf-8")
        parts.append(p)
    whole = run(INVALID)
    split = run(parts)
    assert keys(split) == keys(whole)
    # and each result still points at its own file and line
    for f in split.findings:
        assert f.location is not None and f.location.path in {str(p) for p in parts}
        line = Path(f.location.path).read_text().split("\n")[f.location.line - 1]
        assert line[f.location.column - 1 :].startswith(("ex:", "["))


@pytest.mark.parametrize("fmt", ["ntriples", "nquads", "trig", "jsonld", "rdfxml"])
def test_same_results_in_every_format(tmp_path: Path, fmt: str) -> None:
    quads = list(pyoxigraph.parse(path=str(INVALID), format=pyoxigraph.RdfFormat.TURTLE))
    ext = {"ntriples": "nt", "nquads": "nq", "trig": "trig", "jsonld": "jsonld", "rdfxml": "rdf"}
    out = tmp_path / f"data.{ext[fmt]}"
    graph = pyoxigraph.NamedNode("http://example.org/graph")
    if fmt in ("nquads", "trig"):  # in a named graph: validated as part of the data graph
        quads = [pyoxigraph.Quad(q.subject, q.predicate, q.object, graph) for q in quads]
    rdf_format = {
        "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
        "nquads": pyoxigraph.RdfFormat.N_QUADS,
        "trig": pyoxigraph.RdfFormat.TRIG,
        "jsonld": pyoxigraph.RdfFormat.JSON_LD,
        "rdfxml": pyoxigraph.RdfFormat.RDF_XML,
    }[fmt]
    if fmt in ("ntriples", "rdfxml"):
        pyoxigraph.serialize([q.triple for q in quads], str(out), format=rdf_format)
    else:
        pyoxigraph.serialize(quads, str(out), format=rdf_format)
    report = run(out)
    assert keys(report) == keys(run(INVALID))
    for f in report.findings:
        assert f.location is not None and f.location.path == str(out)
        if fmt in ("jsonld", "rdfxml"):
            assert f.location.line is None
            continue
        # a named focus: the first line about it; a blank node: the line that points at it
        line = out.read_text().split("\n")[f.location.line - 1]
        focus = f.result.focus_node
        if focus.startswith("<"):
            assert focus in line and f.location.line == _first_line(out, focus, fmt), line
        else:
            assert f.location.line is not None


def _first_line(path: Path, term: str, fmt: str) -> int:
    for i, line in enumerate(path.read_text().split("\n"), 1):
        stripped = line.strip()
        if fmt == "trig" and stripped.startswith(term + " "):
            return i
        if stripped.startswith(term + " "):
            return i
    raise AssertionError(f"{term} is no subject in {path}")


def test_fail_on() -> None:
    warnings_only = [
        ValidationResult("<x>", "<s>", SH + "MaxLengthConstraintComponent", Severity.WARNING),
        ValidationResult("<y>", "<s>", SH + "NodeKindConstraintComponent", Severity.INFO),
    ]
    findings = tuple(validation.Finding(r) for r in warnings_only)
    assert ValidationReport(findings, fail_on=Severity.VIOLATION).passed
    assert not ValidationReport(findings, fail_on=Severity.WARNING).passed
    assert not ValidationReport(findings, fail_on=Severity.INFO).passed
    assert ValidationReport(findings[1:], fail_on=Severity.WARNING).passed
    assert not ValidationReport(findings).conforms  # SHACL's sh:conforms: no result at all
    assert run(INVALID, fail_on="warning").fail_on is Severity.WARNING


@pytest.mark.parametrize(
    ("kw", "hint"),
    [
        ({"engine": "jena"}, "--engine"),
        ({"inference": "owl2"}, "--inference"),
        ({"fail_on": "error"}, "--fail-on"),
    ],
)
def test_bad_option_values(kw: dict, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        run(INVALID, **kw)
    assert hint in str(caught.value)


def test_missing_and_broken_inputs() -> None:
    with pytest.raises(InputError, match="no such file"):
        run(BASIC / "missing.ttl")
    with pytest.raises(InputError) as caught:
        validation.validate([INVALID], [BAD_SHAPES / "syntax-error.ttl"], [])
    assert caught.value.path == str(BAD_SHAPES / "syntax-error.ttl")
    assert caught.value.line == 8


# --------------------------------------------------------------------------------------------
# The shapes graph itself

BAD = [
    ("bad-count.ttl", "ex:BadCountShape-name", 'sh:minCount must be an xsd:integer, found "one"'),
    ("no-path.ttl", "ex:NoPathShape/[]", "is the value of sh:property but has no sh:path"),
    ("bad-sparql.ttl", "ex:BadSparqlShape", "sh:select is not valid SPARQL"),
    ("undefined-shape.ttl", "ex:TypoShape", "which the shapes graph does not define"),
    ("bad-pattern.ttl", "ex:BadPatternShape/ex:name", "is not a valid regular expression"),
    ("bad-node-kind.ttl", "ex:BadKindShape", "sh:nodeKind must be one of"),
    ("count-on-node-shape.ttl", "ex:CountOnNodeShape", "sh:minCount is only allowed in a property"),
    ("bad-path.ttl", "ex:BadPathShape", "sh:path is not a well-formed path"),
]


@pytest.mark.parametrize(("name", "shape", "why"), BAD)
def test_invalid_shapes_graph_is_an_input_error(name: str, shape: str, why: str) -> None:
    path = BAD_SHAPES / name
    with pytest.raises(ShapesGraphError) as caught:
        validation.validate([BASIC / "data-valid.ttl"], [path], [])
    err = caught.value
    assert err.exit_code == 2
    assert f"invalid shapes graph: {shape}" in str(err)
    assert why in str(err)
    # located at the shape: its subject block, or the '[' of a blank-node shape
    text = path.read_text(encoding="utf-8").split("\n")
    assert err.path == str(path) and err.line is not None
    at = text[err.line - 1][err.column - 1 :]
    assert at.startswith("[") or at.startswith(shape.split("/")[0])


@pytest.mark.parametrize(
    "name", ["bad-count.ttl", "no-path.ttl", "bad-node-kind.ttl", "count-on-node-shape.ttl"]
)
def test_shacl_for_shacl_agrees(name: str) -> None:
    """pySHACL's own check against the W3C SHACL-for-SHACL shapes rejects these too."""
    import pyshacl
    import rdflib

    shapes = rdflib.Graph().parse(BAD_SHAPES / name)
    data = rdflib.Graph().parse(BASIC / "data-valid.ttl")
    with pytest.raises(Exception, match=r"(?i)shacl"):
        pyshacl.validate(data, shacl_graph=shapes, meta_shacl=True)


@pytest.mark.parametrize(
    "files",
    [
        [BAD_SHAPES / "shacl-shacl.ttl"],  # the W3C SHACL-for-SHACL shapes graph itself
        [BASIC / "shapes.ttl"],
        None,  # the embedded CICA shapes
    ],
    ids=["shacl-shacl", "fixture", "embedded"],
)
def test_valid_shapes_graphs_pass_the_check(files: list[Path] | None) -> None:
    graph = validation.load_graph(files or validation._files(None, "shapes"))
    assert validation.shapes_graph_problems(graph.store) == []


def test_more_problems_are_listed_in_the_hint(tmp_path: Path) -> None:
    both = tmp_path / "both.ttl"
    both.write_text(
        (BAD_SHAPES / "bad-count.ttl").read_text()
        + "\n"
        + "\n".join(
            line
            for line in (BAD_SHAPES / "bad-node-kind.ttl").read_text().split("\n")
            if not line.startswith("@prefix")
        ),
        encoding="utf-8",
    )
    with pytest.raises(ShapesGraphError) as caught:
        validation.validate([BASIC / "data-valid.ttl"], [both], [])
    assert len(caught.value.problems) == 2
    assert "1 more problem" in str(caught.value)


# --------------------------------------------------------------------------------------------
# Engines


def test_pyshacl_keeps_literals_as_written(tmp_path: Path) -> None:
    data = tmp_path / "data.ttl"
    data.write_text(
        "@prefix ex: <http://example.org/ns#> .\n"
        'ex:p a ex:Person ; ex:name "P" ; ex:age "x", "007" .\n',
        encoding="utf-8",
    )
    values = {f.result.value for f in run(data).findings if f.result.value}
    assert '"x"' in values


@pytest.mark.parametrize("data", ["data-valid.ttl", "data-invalid.ttl"])
def test_native_and_pyshacl_agree(data: str) -> None:
    ours = run(BASIC / data, engine="native")
    ref = run(BASIC / data, engine="pyshacl")
    assert keys(ours) == keys(ref)
    assert [f.location for f in ours.findings] == [f.location for f in ref.findings]


# --------------------------------------------------------------------------------------------
# Generated data with injected defects (benchmarks/generate.py)


def _generator():
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import generate
    finally:
        sys.path.remove(str(ROOT))
    return generate


def test_generated_defects_each_reported_once_at_the_right_line(tmp_path: Path) -> None:
    generate = _generator()
    text, manifest = generate.generate(3000, seed=1, defect_rate=0.02)
    path = tmp_path / "generated.ttl"
    path.write_text(text, encoding="utf-8")
    kinds = {m["kind"] for m in manifest}
    assert len(kinds) >= 10, kinds  # defects of many kinds, one each at least
    report = validation.validate([path], [ROOT / "shapes"], [ROOT / "ontology"])
    assert len(report.findings) == len(manifest)
    for m in manifest:
        hits = [
            f
            for f in report.findings
            if f.result.focus_node == f"<{m['focus']}>"
            and f.result.source_shape == f"<{m['shape']}>"
            and f.result.constraint_component == m["component"]
        ]
        assert len(hits) == 1, m["kind"]
        assert hits[0].location == Location(str(path), m["line"], 1), m["kind"]
        if m.get("constraint"):
            assert hits[0].result.source_constraint == f"<{m['constraint']}>"


def test_generated_clean_data_conforms(tmp_path: Path) -> None:
    text, manifest = _generator().generate(1500, seed=2, defect_rate=0.0)
    assert manifest == []
    path = tmp_path / "clean.ttl"
    path.write_text(text, encoding="utf-8")
    assert validation.validate([path], [ROOT / "shapes"], [ROOT / "ontology"]).conforms


def test_shape_names_are_readable_and_stable() -> None:
    report = run(INVALID)
    names = {report.shape_name(f.result.source_shape) for f in report.findings}
    assert "ex:PersonShape/ex:email" in names
    assert not any(re.search(r"_:[0-9a-f]{8}", n) for n in names)


# --------------------------------------------------------------------------------------------
# Engine choice


def test_default_engine_is_native_and_agrees_with_pyshacl() -> None:
    default = run(INVALID)
    assert default.engine == "native"
    assert keys(default) == keys(run(INVALID, engine="pyshacl"))


@pytest.mark.parametrize("inference", ["rdfs", "owlrl"])
def test_inference_without_an_engine_uses_pyshacl(inference: str) -> None:
    assert run(INVALID, inference=inference).engine == "pyshacl"


def test_native_engine_refuses_inference_it_cannot_do() -> None:
    with pytest.raises(UsageError, match="does not infer"):
        run(INVALID, engine="native", inference="rdfs")
