"""Nothing checked is not "conforms": the report says what was checked (data triples, shapes,
focus nodes per targeted shape) and warns about what was not (empty data, no shapes, shapes
without targets, targets without focus nodes) on stderr and in every report format;
``--fail-on-empty`` makes a run that checked nothing fail. Both engines.

Fixtures: tests/fixtures/checked/ (small FOAF, DCAT and SKOS data and shapes)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pyoxigraph
import pytest
from conftest import FIXTURES, ROOT
from typer.testing import CliRunner

from cica_ld import reports, validation
from cica_ld.cli import app

CHECKED = FIXTURES / "checked"
ENGINES = ["native", "pyshacl"]
SCHEMA = json.loads((ROOT / "docs" / "validation-report.schema.json").read_text())
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


def run(data: str, shapes: str, engine: str = "native", **kw) -> validation.ValidationReport:
    return validation.validate([CHECKED / data], [CHECKED / shapes], [], engine=engine, **kw)


def cli(data: str, shapes: str, *args: str):
    return CliRunner().invoke(
        app,
        ["validate", str(CHECKED / data), "-s", str(CHECKED / shapes), "--no-ontology", *args],
    )


def kinds(report: validation.ValidationReport) -> list[str]:
    return [w.kind for w in report.warnings]


def warning_lines(stderr: str) -> list[str]:
    lines = [line for line in stderr.split("\n") if line]
    assert all(line.startswith("cica-ld: ") for line in lines), stderr
    return [line for line in lines if line.startswith("cica-ld: warning: ")]


# --------------------------------------------------------------------------------------------
# the library: what was checked, and the warnings


@pytest.mark.parametrize("engine", ENGINES)
def test_everything_checked(engine: str) -> None:
    report = run("foaf-people.ttl", "person-only-shapes.ttl", engine)
    c = report.coverage
    assert (c.data_triples, c.shapes, c.focus_nodes) == (5, 2, 2)
    assert [(s.name, s.targets, s.focus_nodes) for s in c.targeted] == [
        ("exs:PersonShape", "sh:targetClass foaf:Person", 2)
    ]
    assert report.warnings == ()
    assert report.nothing_checked is None and report.conforms and report.passed


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_data(engine: str) -> None:
    report = run("empty.ttl", "foaf-shapes.ttl", engine)
    assert report.coverage.data_triples == 0
    assert kinds(report) == ["empty-data"]
    assert report.nothing_checked == "the data graph is empty"
    assert report.conforms and report.passed  # SHACL's verdict; the run only fails on request
    strict = run("empty.ttl", "foaf-shapes.ttl", engine, fail_on_empty=True)
    assert strict.conforms and not strict.passed


@pytest.mark.parametrize("engine", ENGINES)
def test_no_shapes(engine: str) -> None:
    report = run("foaf-people.ttl", "no-shapes.ttl", engine)
    assert (report.coverage.shapes, report.coverage.targeted) == (0, ())
    assert kinds(report) == ["empty-shapes"]
    assert report.nothing_checked == "the shapes graph has no shapes"


@pytest.mark.parametrize("engine", ENGINES)
def test_no_shape_has_a_target(engine: str) -> None:
    report = run("foaf-people.ttl", "untargeted-only-shapes.ttl", engine)
    assert kinds(report) == ["no-targets", "untargeted-shapes"]
    assert report.warnings[1].shapes == ("exs:ConceptShape",)
    assert report.nothing_checked == "no shape has a target"


@pytest.mark.parametrize("engine", ENGINES)
def test_shapes_without_targets_are_named(engine: str) -> None:
    report = run("dcat-catalog.ttl", "dcat-shapes.ttl", engine)
    assert kinds(report) == ["untargeted-shapes", "no-focus-nodes"]
    untargeted, empty = report.warnings
    # the node shapes, not their property shapes; the helper reached through sh:node is fine
    assert untargeted.shapes == ("exs:DatasetShape", "exs:DistributionShape")
    assert report.coverage.untargeted == untargeted.shapes
    assert "exs:DatasetShape, exs:DistributionShape" in untargeted.message
    assert empty.shapes == ("exs:AgentShape",)
    assert "exs:AgentShape (sh:targetClass foaf:Agent)" in empty.message
    # something was checked: the catalogue
    assert report.nothing_checked is None
    assert {s.name: s.focus_nodes for s in report.coverage.targeted} == {
        "exs:AgentShape": 0,
        "exs:CatalogShape": 1,
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_targets_that_select_nothing(engine: str) -> None:
    report = run("skos-scheme.ttl", "skos-shapes.ttl", engine)
    assert kinds(report) == ["no-focus-nodes"]
    assert report.warnings[0].shapes == ("exs:CollectionShape", "exs:MemberShape")
    assert "exs:MemberShape (sh:targetSubjectsOf skos:member)" in report.warnings[0].message
    assert report.nothing_checked == "no target selects a focus node in the data"


@pytest.mark.parametrize("engine", ENGINES)
def test_target_nodes_and_deactivated_shapes(engine: str) -> None:
    report = run("skos-scheme.ttl", "skos-red-shapes.ttl", engine)
    # sh:targetNode selects its node; a switched-off shape (and its property shape) is no news
    assert report.warnings == ()
    assert report.coverage.deactivated == 1
    assert [(s.name, s.focus_nodes) for s in report.coverage.targeted] == [("exs:RedShape", 1)]


def test_subclasses_count_for_class_targets(tmp_path: Path) -> None:
    data = tmp_path / "data.ttl"
    data.write_text(
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix ex: <http://example.org/people/> .\n"
        "ex:acme a foaf:Organization ; foaf:name 'ACME' .\n"
    )
    onto = tmp_path / "onto.ttl"
    onto.write_text(
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "foaf:Organization rdfs:subClassOf foaf:Agent .\n"
    )
    report = validation.validate([data], [CHECKED / "dcat-shapes.ttl"], [onto])
    assert {s.name: s.focus_nodes for s in report.coverage.targeted}["exs:AgentShape"] == 1


# --------------------------------------------------------------------------------------------
# the command line: stderr and exit codes


def test_cli_warns_on_stderr_and_exits_0() -> None:
    result = cli("dcat-catalog.ttl", "dcat-shapes.ttl")
    assert result.exit_code == 0
    assert result.stdout.startswith("conforms: 0 violations")
    assert warning_lines(result.stderr) == [
        "cica-ld: warning: 2 shapes never checked: no target, and no shape with a target "
        "refers to them: exs:DatasetShape, exs:DistributionShape",
        "cica-ld: warning: the targets of 1 shape select no focus node in the data, so it was "
        "not checked: exs:AgentShape (sh:targetClass foaf:Agent)",
    ]
    assert "cica-ld: warning" not in result.stdout  # data on stdout, diagnostics on stderr


def test_cli_says_nothing_was_checked() -> None:
    result = cli("empty.ttl", "foaf-shapes.ttl")
    assert result.exit_code == 0
    assert result.stdout.startswith("nothing checked (the data graph is empty): 0 violations")
    assert warning_lines(result.stderr) == [
        "cica-ld: warning: the data graph is empty (no triples): nothing was checked"
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("data", "shapes", "reason"),
    [
        ("empty.ttl", "foaf-shapes.ttl", "the data graph is empty"),
        ("foaf-people.ttl", "no-shapes.ttl", "the shapes graph has no shapes"),
        ("foaf-people.ttl", "untargeted-only-shapes.ttl", "no shape has a target"),
        ("skos-scheme.ttl", "skos-shapes.ttl", "no target selects a focus node in the data"),
    ],
)
def test_fail_on_empty_exits_1(engine: str, data: str, shapes: str, reason: str) -> None:
    result = cli(data, shapes, "--engine", engine, "--fail-on-empty")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.split("\n") if line.startswith("cica-ld: error:")]
    assert errors == [f"cica-ld: error: nothing was checked: {reason} (--fail-on-empty)"]
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith(f"fails: nothing checked ({reason}; --fail-on-empty)")
    # without the flag: the same warnings, exit 0
    assert cli(data, shapes, "--engine", engine).exit_code == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_fail_on_empty_passes_when_something_was_checked(engine: str) -> None:
    # some shapes were not checked (warnings), but the catalogue was: exit 0
    result = cli("dcat-catalog.ttl", "dcat-shapes.ttl", "--engine", engine, "--fail-on-empty")
    assert result.exit_code == 0
    assert "error" not in result.stderr
    assert len(warning_lines(result.stderr)) == 2


def test_fail_on_empty_keeps_failures_at_1(tmp_path: Path) -> None:
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix ex: <http://example.org/people/> .\n"
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "ex:S a sh:NodeShape ; sh:targetNode ex:alice ;\n"
        "    sh:property [ sh:path foaf:name ; sh:minCount 1 ] .\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(CHECKED / "empty.ttl"),
            "-s",
            str(shapes),
            "--no-ontology",
            "--fail-on-empty",
        ],
    )
    # the target node is a focus node even in empty data: a violation, reported as one
    assert result.exit_code == 1
    assert "does not conform: 1 violation" in result.stdout.split("\n")[-2]
    assert warning_lines(result.stderr) == [
        "cica-ld: warning: the data graph is empty (no triples): nothing was checked"
    ]
    assert "cica-ld: error:" not in result.stderr


# --------------------------------------------------------------------------------------------
# the report formats


@pytest.fixture(scope="module")
def partial() -> validation.ValidationReport:
    return run("dcat-catalog.ttl", "dcat-shapes.ttl")


@pytest.fixture(scope="module")
def empty() -> validation.ValidationReport:
    return run("empty.ttl", "foaf-shapes.ttl", fail_on_empty=True)


def test_json(partial, empty) -> None:
    doc = json.loads(reports.render(partial, "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert [w["kind"] for w in doc["warnings"]] == ["untargeted-shapes", "no-focus-nodes"]
    assert doc["warnings"][0]["shapes"] == ["exs:DatasetShape", "exs:DistributionShape"]
    assert doc["checked"]["dataTriples"] == 11
    assert doc["checked"]["untargetedShapes"] == ["exs:DatasetShape", "exs:DistributionShape"]
    assert {s["name"]: s["focusNodes"] for s in doc["checked"]["targetedShapes"]} == {
        "exs:AgentShape": 0,
        "exs:CatalogShape": 1,
    }
    assert doc["nothingChecked"] is None and doc["passed"] is True

    doc = json.loads(reports.render(empty, "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["conforms"] is True and doc["passed"] is False and doc["failOnEmpty"] is True
    assert doc["nothingChecked"] == "the data graph is empty"


def test_sarif(partial, empty) -> None:
    for report, level in ((partial, "warning"), (empty, "error")):
        log = json.loads(reports.render(report, "sarif"))
        jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
        notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert [n["descriptor"]["id"] for n in notes] == [
            f"cica-ld/{w.kind}" for w in report.warnings
        ]
        assert [n["message"]["text"] for n in notes] == [w.message for w in report.warnings]
        assert notes[-1]["level"] == level
    log = json.loads(reports.render(partial, "sarif"))
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["properties"]["shapes"] == ["exs:DatasetShape", "exs:DistributionShape"]


def test_junit(partial, empty) -> None:
    root = ET.fromstring(reports.render(partial, "junit"))
    [suite] = [s for s in root.findall("testsuite") if s.get("name") == "coverage"]
    assert [c.find("skipped").get("message") for c in suite.findall("testcase")] == [
        w.message for w in partial.warnings
    ]
    assert "exs:DatasetShape" in suite.find("system-err").text
    assert root.get("failures") == "0"
    # nothing checked and --fail-on-empty: a failure, and no "conforms" test case
    root = ET.fromstring(reports.render(empty, "junit"))
    assert root.get("failures") == "1"
    [case] = root.findall("./testsuite/testcase")
    assert case.find("failure").get("message") == empty.warnings[0].message


def test_turtle(partial) -> None:
    text = reports.render(partial, "turtle")
    comments = [line for line in text.split("\n") if line.startswith("# warning: ")]
    assert comments == [f"# warning: {w.message}" for w in partial.warnings]
    store = pyoxigraph.Store()
    store.load(text.encode(), pyoxigraph.RdfFormat.TURTLE)  # still a valid report graph
    assert store.query("ASK { ?r <http://www.w3.org/ns/shacl#conforms> true }")


def test_github(partial) -> None:
    lines = reports.render(partial, "github").strip().split("\n")
    warned = [line for line in lines if line.startswith("::warning ")]
    assert len(warned) == 2
    assert all(
        re.fullmatch(r"::warning title=cica-ld validate \(not checked\)::.+", line)
        for line in warned
    )


def test_text_summary_counts_what_was_checked(partial) -> None:
    last = reports.render(partial, "text").strip().split("\n")[-1]
    assert "1 shapes file, 11 shapes, 1 focus node;" in last


def test_focus_nodes_are_counted_before_inference(tmp_path: Path) -> None:
    # with --inference, rdfs:domain makes ex:ann a foaf:Person: the count (of the data as
    # given) is 0, the warning says so, and the run does not count as checking nothing
    data = tmp_path / "data.ttl"
    data.write_text(
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix ex: <http://example.org/people/> .\n"
        "ex:ann foaf:knows ex:bob .\n"
    )
    onto = tmp_path / "onto.ttl"
    onto.write_text(
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "foaf:knows rdfs:domain foaf:Person .\n"
    )
    shapes = [CHECKED / "person-only-shapes.ttl"]
    report = validation.validate([data], shapes, [onto], inference="rdfs")
    assert len(report.results) == 1  # ex:ann has no foaf:name: it was checked
    assert kinds(report) == ["no-focus-nodes"]
    assert "in the data before inference" in report.warnings[0].message
    assert report.nothing_checked is None
    assert validation.validate([data], shapes, [onto]).nothing_checked is not None


@pytest.mark.slow
def test_endpoint_counts_no_data(oxigraph_server, tmp_path: Path) -> None:
    import httpx

    r = httpx.put(
        f"{oxigraph_server.store_url}?default",
        content=(CHECKED / "dcat-catalog.ttl").read_bytes(),
        headers={"Content-Type": "text/turtle"},
        timeout=30,
    )
    assert r.status_code in (200, 201, 204), r.text
    report = validation.validate(
        None, [CHECKED / "dcat-shapes.ttl"], [], endpoint=oxigraph_server.query_url
    )
    c = report.coverage
    assert c.data_triples is None and c.focus_nodes is None
    # the shapes-side warning only: the endpoint's data is not counted
    assert kinds(report) == ["untargeted-shapes"]
    assert report.nothing_checked is None
