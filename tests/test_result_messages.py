"""Result messages name the constraint's value, nested shapes explain themselves (sh:detail),
and ``--engine pyshacl`` lets no rdflib/pySHACL traceback, log record or warning through.

Fixtures: tests/fixtures/checked/messages-*.ttl (FOAF, SKOS and DCAT shapes without
sh:message, and data breaking each constraint once) and small broken shapes written here."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pyoxigraph
import pytest
from conftest import FIXTURES, ROOT
from typer.testing import CliRunner

from cica_ld import reports, validation
from cica_ld.cli import app
from cica_ld.errors import InputError
from cica_ld.shacl_model import SH

CHECKED = FIXTURES / "checked"
DATA = CHECKED / "messages-data.ttl"
SHAPES = CHECKED / "messages-shapes.ttl"
EX = "http://example.org/ns#"
EXS = "http://example.org/shapes/"
SCHEMA = json.loads((ROOT / "docs" / "validation-report.schema.json").read_text())
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


def run(engine: str = "native", data: Path = DATA, shapes: Path = SHAPES):
    return validation.validate([data], [shapes], [], engine=engine)


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", "--no-ontology", *args])


@pytest.fixture(scope="module")
def native() -> validation.ValidationReport:
    return run("native")


@pytest.fixture(scope="module")
def pyshacl_report() -> validation.ValidationReport:
    return run("pyshacl")


def by_shape(report: validation.ValidationReport, focus: str) -> dict[str, str]:
    """{shape name: message} of the results about one focus node."""
    out = {}
    for r in report.results:
        if r.focus_node == f"<{EX}{focus}>":
            assert report.shape_name(r.source_shape) not in out
            out[report.shape_name(r.source_shape)] = r.message
    return out


# --------------------------------------------------------------------------------------------
# messages that name the constraint's value (native engine)


def test_messages_name_the_parameter(native) -> None:
    assert by_shape(native, "alice") == {
        "exs:age": 'value "abc" is not a valid xsd:integer (ill-formed; sh:datatype)',
        "exs:name": "no value, fewer than the minimum 1 (sh:minCount)",
        "exs:nick": "3 values, more than the maximum 2 (sh:maxCount)",
        "exs:mbox": "value is not of node kind sh:IRI (it is a literal)",
        "exs:score": "value 7 is greater than the maximum 5 (sh:maxInclusive)",
        "exs:country": "value does not match the pattern ^[A-Z]{2}$ (sh:pattern)",
        "exs:gender": "value is not among the allowed values ex:female, ex:male, ex:nonbinary "
        "(sh:in)",
        "exs:title": 'language tag "de" is not among "en", "fr" (sh:languageIn)',
        "exs:givenName": "value is 11 characters long, longer than the maximum 10 (sh:maxLength)",
        "exs:knows": "value is not an instance of foaf:Person (sh:class)",
        "exs:basedNear": "value does not conform to the shape exs:PlaceShape (sh:node): "
        "no value, fewer than the minimum 1 (sh:minCount)",
        "exs:status": "the required value ex:active is missing (sh:hasValue)",
    }
    assert by_shape(native, "carol") == {
        "exs:age": "value does not have datatype xsd:integer (it is xsd:string)"
    }
    assert by_shape(native, "red") == {
        "exs:prefLabel": "value 2 is less than the minimum 3 (sh:minInclusive)",
        "exs:broader": "value conforms to none of the shapes of sh:or (exs:LabelledShape, "
        "exs:NotatedShape): no value, fewer than the minimum 1 (sh:minCount) (and 1 more)",
    }
    assert by_shape(native, "budget") == {
        "exs:distribution": "0 values conform to the qualified shape exs:CsvShape, fewer than "
        'the minimum 1 (sh:qualifiedMinCount): the required value "text/csv" is missing '
        "(sh:hasValue)"
    }
    assert by_shape(native, "bob") == {}


def test_own_messages_are_kept(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        SHAPES.read_text().replace(
            "exs:basedNear a sh:PropertyShape ; sh:path foaf:based_near ;",
            'exs:basedNear a sh:PropertyShape ; sh:path foaf:based_near ; sh:message "Where?" ;',
        )
    )
    report = run("native", shapes=shapes)
    [r] = [r for r in report.results if r.source_shape == f"<{EXS}basedNear>"]
    assert r.message == "Where?"
    assert [d.source_shape for d in r.details] == [f"<{EXS}placeName>"]


@pytest.mark.parametrize(
    ("constraint", "value", "message"),
    [
        ("sh:maxExclusive 7", "7", "value 7 is not less than the maximum 7 (sh:maxExclusive)"),
        ("sh:minExclusive 7", "7", "value 7 is not greater than the minimum 7 (sh:minExclusive)"),
        (
            "sh:maxInclusive 5",
            '"high"',
            'value "high" cannot be compared with the maximum 5 (sh:maxInclusive)',
        ),
        (
            'sh:minInclusive "2000-01-01"^^xsd:date',
            '"1999-12-31"^^xsd:date',
            'value "1999-12-31"^^xsd:date is less than the minimum "2000-01-01"^^xsd:date '
            "(sh:minInclusive)",
        ),
        (
            "sh:minLength 3",
            '"ab"',
            "value is 2 characters long, shorter than the minimum 3 (sh:minLength)",
        ),
        (
            'sh:pattern "^a" ; sh:flags "i"',
            '"b"',
            "value does not match the pattern ^a with flags i (sh:pattern)",
        ),
        ("sh:minCount 2", '"one"', "1 value, fewer than the minimum 2 (sh:minCount)"),
        ("sh:maxCount 0", '"one"', "more values than the maximum 0 (sh:maxCount)"),
        (
            "sh:datatype xsd:string",
            '"x"@en',
            "value does not have datatype xsd:string (it is a language-tagged string)",
        ),
        (
            "sh:nodeKind sh:Literal",
            "ex:thing",
            "value is not of node kind sh:Literal (it is an IRI)",
        ),
        (
            'sh:languageIn ( "en" )',
            '"x"',
            'value has no language tag; it is not among "en" (sh:languageIn)',
        ),
        ("sh:disjoint ex:q", '"x"', "value is also a value of ex:q (sh:disjoint)"),
        ("sh:lessThan ex:q", '"x"', "value is not less than every value of ex:q (sh:lessThan)"),
        (
            "sh:uniqueLang true",
            '"a"@en , "b"@en',
            'more than one value has the language tag "en" (sh:uniqueLang)',
        ),
    ],
)
def test_one_constraint(tmp_path: Path, constraint: str, value: str, message: str) -> None:
    prefixes = (
        "@prefix ex: <http://example.org/ns#> .\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    )
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        f"{prefixes}ex:S a sh:NodeShape ; sh:targetNode ex:x ;\n"
        f"    sh:property [ sh:path ex:p ; {constraint} ] .\n"
    )
    data = tmp_path / "data.ttl"
    data.write_text(f"{prefixes}ex:x ex:p {value} ; ex:q {value} .\n")
    report = run("native", data=data, shapes=shapes)
    assert {r.message for r in report.results} == {message}


def test_closed_names_the_property(tmp_path: Path) -> None:
    prefixes = (
        "@prefix ex: <http://example.org/ns#> .\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    )
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        f"{prefixes}ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:closed true ;\n"
        "    sh:property [ sh:path ex:p ] .\n"
    )
    data = tmp_path / "data.ttl"
    data.write_text(f"{prefixes}ex:x ex:p 1 ; ex:extra 2 .\n")
    [r] = run("native", data=data, shapes=shapes).results
    assert r.message == "property ex:extra is not allowed by the closed shape (sh:closed)"


# --------------------------------------------------------------------------------------------
# nested results: sh:detail


def result(report, shape: str):
    [r] = [r for r in report.results if r.source_shape == f"<{EXS}{shape}>"]
    return r


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_node_details(engine: str, native, pyshacl_report) -> None:
    report = native if engine == "native" else pyshacl_report
    r = result(report, "basedNear")
    assert [(d.focus_node, d.source_shape, d.constraint_component) for d in r.details] == [
        (f"<{EX}somewhere>", f"<{EXS}placeName>", SH + "MinCountConstraintComponent")
    ]
    # a nested result is a detail, never a result of its own
    assert not any(x.focus_node == f"<{EX}somewhere>" for x in report.results)


def test_engines_agree_on_results(native, pyshacl_report) -> None:
    assert sorted(r.key() for r in native.results) == sorted(
        r.key() for r in pyshacl_report.results
    )


def test_or_and_qualified_details(native) -> None:
    broader = result(native, "broader")
    assert {(d.focus_node, native.shape_name(d.source_shape)) for d in broader.details} == {
        (f"<{EX}colour>", "exs:LabelledShape/skos:prefLabel"),
        (f"<{EX}colour>", "exs:NotatedShape/skos:notation"),
    }
    qualified = result(native, "distribution")
    assert [(d.focus_node, d.constraint_component) for d in qualified.details] == [
        (f"<{EX}budget-pdf>", SH + "HasValueConstraintComponent")
    ]
    # sh:not and the other components have no details
    assert all(not r.details for r in native.results if r.source_shape == f"<{EXS}score>")


def test_nested_details_go_deeper(tmp_path: Path) -> None:
    prefixes = (
        "@prefix ex: <http://example.org/ns#> .\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    )
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        f"{prefixes}ex:A a sh:NodeShape ; sh:targetNode ex:x ; sh:property ex:A-p .\n"
        "ex:A-p sh:path ex:p ; sh:node ex:B .\n"
        "ex:B a sh:NodeShape ; sh:property ex:B-q .\n"
        "ex:B-q sh:path ex:q ; sh:node ex:C .\n"
        "ex:C a sh:NodeShape ; sh:property ex:C-r .\n"
        "ex:C-r sh:path ex:r ; sh:minCount 1 .\n"
    )
    data = tmp_path / "data.ttl"
    data.write_text(f"{prefixes}ex:x ex:p ex:y . ex:y ex:q ex:z .\n")
    [r] = run("native", data=data, shapes=shapes).results
    [d1] = r.details
    [d2] = d1.details
    assert (d1.focus_node, d1.source_shape) == (f"<{EX}y>", f"<{EX}B-q>")
    assert (d2.focus_node, d2.source_shape) == (f"<{EX}z>", f"<{EX}C-r>")
    assert r.message.endswith(
        "(sh:node): value does not conform to the shape ex:C (sh:node): "
        "no value, fewer than the minimum 1 (sh:minCount)"
    )


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_details_in_the_turtle_report(engine: str, native, pyshacl_report) -> None:
    report = native if engine == "native" else pyshacl_report
    store = pyoxigraph.Store()
    store.load(reports.render(report, "turtle").encode(), pyoxigraph.RdfFormat.TURTLE)
    rows = store.query(
        f"PREFIX sh: <{SH}> SELECT ?focus ?inner ?shape WHERE {{ "
        "?report sh:result ?r . ?r sh:focusNode ?focus ; sh:detail ?d . "
        "?d a sh:ValidationResult ; sh:focusNode ?inner ; sh:sourceShape ?shape }"
    )
    found = {(str(r["focus"]), str(r["inner"]), str(r["shape"])) for r in rows}
    assert (f"<{EX}alice>", f"<{EX}somewhere>", f"<{EXS}placeName>") in found
    # details hang off their result only: the report's own results are the top-level ones
    top = store.query(f"PREFIX sh: <{SH}> SELECT (COUNT(?r) AS ?n) WHERE {{ ?x sh:result ?r }}")
    assert int(next(iter(top))["n"].value) == len(report.results)


def test_details_in_json_and_sarif(native) -> None:
    doc = json.loads(reports.render(native, "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    [node] = [r for r in doc["results"] if r["sourceShapeName"] == "exs:basedNear"]
    assert [(d["focusNode"], d["sourceShapeName"]) for d in node["details"]] == [
        (f"<{EX}somewhere>", "exs:placeName")
    ]
    assert node["details"][0]["message"] == "no value, fewer than the minimum 1 (sh:minCount)"
    assert all(r["details"] == [] for r in doc["results"] if r["sourceShapeName"] == "exs:nick")

    sarif = json.loads(reports.render(native, "sarif"))
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(sarif)
    [res] = [r for r in sarif["runs"][0]["results"] if r["ruleId"].startswith("exs:basedNear/")]
    assert "Details (sh:detail):" in res["message"]["text"]
    assert "[exs:placeName] (focus ex:somewhere; path foaf:name)" in res["message"]["text"]
    assert res["properties"]["details"][0]["sourceShapeName"] == "exs:placeName"


def test_details_in_the_text_report() -> None:
    result_ = cli(str(DATA), "-s", str(SHAPES))
    assert result_.exit_code == 1
    assert result_.stderr == ""
    lines = result_.stdout.split("\n")
    at = next(i for i, line in enumerate(lines) if "[exs:basedNear]" in line)
    assert lines[at + 2] == (
        "    detail: no value, fewer than the minimum 1 (sh:minCount) [exs:placeName] "
        "(focus ex:somewhere; path foaf:name)"
    )


# --------------------------------------------------------------------------------------------
# --engine pyshacl: no traceback, ever

PREFIXES = (
    "@prefix ex: <http://example.org/ns#> .\n@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
    "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)
PEOPLE = CHECKED / "foaf-people.ttl"


def write(tmp_path: Path, text: str, name: str = "shapes.ttl") -> Path:
    path = tmp_path / name
    path.write_text(PREFIXES + text)
    return path


def assert_one_line_error(result, *needles: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().split("\n") if not line.startswith("  hint:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cica-ld: error: ")
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


BROKEN_SHAPES = {
    # shapes pySHACL raises on; caught by the shapes-graph check before pySHACL runs
    "sparql-syntax-error": (
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ;\n"
        '    sh:sparql [ sh:select "SELECT $this WHERE { $this ?p }" ] .\n',
        "sh:select is not valid SPARQL",
    ),
    "path-is-a-literal": (
        'ex:S a sh:NodeShape ; sh:targetClass foaf:Person ; sh:property [ sh:path "name" ] .\n',
        "sh:path must be an IRI or a path",
    ),
    "malformed-list": (
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ; sh:in ex:notAList .\n",
        "sh:in is not a well-formed list",
    ),
    # shapes that pass the check but that pySHACL cannot run
    "python-regex": (
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ;\n"
        '    sh:property [ sh:path foaf:name ; sh:pattern "^\\\\p{Lu}" ] .\n',
        "pySHACL failed on these shapes or data: re.error: bad escape",
    ),
    "lateral": (
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ;\n"
        '    sh:sparql [ sh:select "SELECT $this WHERE { $this foaf:name ?n . '
        'LATERAL { SELECT ?x WHERE { ?x foaf:name ?n } LIMIT 1 } }" ;\n'
        '        sh:prefixes [ sh:declare [ sh:prefix "foaf" ; '
        'sh:namespace "http://xmlns.com/foaf/0.1/"^^xsd:anyURI ] ] ] .\n',
        "pySHACL could not validate",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_SHAPES))
def test_pyshacl_broken_shapes_are_input_errors(tmp_path: Path, case: str) -> None:
    text, needle = BROKEN_SHAPES[case]
    shapes = write(tmp_path, text)
    assert_one_line_error(cli(str(PEOPLE), "-s", str(shapes), "--engine", "pyshacl"), needle)
    with pytest.raises(InputError):
        validation.validate([PEOPLE], [shapes], [], engine="pyshacl")


def test_the_native_engine_runs_what_pyshacl_cannot(tmp_path: Path) -> None:
    text, _ = BROKEN_SHAPES["python-regex"]
    result_ = cli(str(PEOPLE), "-s", str(write(tmp_path, text)), "--engine", "native")
    assert result_.exit_code == 0, result_.stderr
    assert result_.stderr == ""


def test_pyshacl_ill_typed_literals_log_no_traceback(tmp_path: Path) -> None:
    data = write(
        tmp_path,
        'ex:ann a foaf:Person ; foaf:age "abc"^^xsd:integer ; '
        'foaf:birthday "2020-13-45"^^xsd:date .\n',
        "data.ttl",
    )
    shapes = write(
        tmp_path,
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ;\n"
        "    sh:property [ sh:path foaf:age ; sh:datatype xsd:integer ] ;\n"
        '    sh:property [ sh:path foaf:birthday ; sh:minInclusive "2000-01-01"^^xsd:date ] .\n',
    )
    result_ = cli(str(data), "-s", str(shapes), "--engine", "pyshacl")
    assert result_.exit_code == 1
    assert result_.stderr == ""  # rdflib logs a traceback per ill-typed literal: not shown
    assert "does not conform: 2 violations" in result_.stdout


def test_pyshacl_warnings_become_report_warnings(tmp_path: Path) -> None:
    shapes = write(
        tmp_path,
        "ex:S a sh:NodeShape ; sh:targetClass foaf:Person ;\n"
        "    sh:property [ sh:path foaf:knows ; sh:node ex:S ] .\n",
    )
    data = write(
        tmp_path,
        "ex:ann a foaf:Person ; foaf:knows ex:bob .\nex:bob a foaf:Person ; foaf:knows ex:ann .\n",
        "data.ttl",
    )
    result_ = cli(str(data), "-s", str(shapes), "--engine", "pyshacl", "-f", "json")
    assert result_.exit_code == 0
    lines = result_.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("cica-ld: warning: pySHACL: ")
    assert "Recursive Shape" in lines[0] and "Traceback" not in result_.stderr
    doc = json.loads(result_.stdout)
    assert [w["kind"] for w in doc["warnings"]] == ["engine"]


def test_a_bug_in_the_adapter_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    # an exception raised in cica-ld's own code (here: abbreviate given no term) is a bug
    monkeypatch.setattr(validation, "_to_rdflib", lambda store: validation.abbreviate(None, {}))
    result_ = cli(str(PEOPLE), "-s", str(CHECKED / "person-only-shapes.ttl"), "--engine", "pyshacl")
    assert_one_line_error(result_, "internal error: AttributeError", code=4)


def test_value_level_node_details_run_the_inner_shape_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cica_ld.shacl.engine import Engine

    prefixes = (
        "@prefix ex: <http://example.org/ns#> .\n@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    )
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        f"{prefixes}ex:S a sh:NodeShape ; sh:targetClass ex:P ; sh:property ex:S-near .\n"
        "ex:S-near sh:path ex:near ; sh:node ex:Place .\n"
        "ex:Place a sh:NodeShape ; sh:nodeKind sh:Literal .\n"
    )
    data = tmp_path / "data.ttl"
    data.write_text(prefixes + "".join(f"ex:p{i} a ex:P ; ex:near ex:x{i} .\n" for i in range(50)))
    calls: list[str] = []
    original = Engine._report

    def counting(self, shape, *args, **kw):
        calls.append(shape.node)
        return original(self, shape, *args, **kw)

    monkeypatch.setattr(Engine, "_report", counting)
    results = run("native", data=data, shapes=shapes).results
    assert len(results) == 50
    for r in results:
        [d] = r.details
        assert (d.focus_node, d.source_shape, d.value) == (r.value, f"<{EX}Place>", r.value)
        assert r.message == (
            "value does not conform to the shape ex:Place (sh:node): "
            "value is not of node kind sh:Literal (it is an IRI)"
        )
    assert calls.count(f"<{EX}Place>") == 1
