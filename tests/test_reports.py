"""Report formats (cica_ld.reports), each read by a real consumer: JSON and SARIF by jsonschema
against their schemas, Turtle by rdflib as a W3C validation report, JUnit by an XML parser,
GitHub workflow commands by their grammar."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import rdflib
from conftest import FIXTURES, ROOT

from cica_ld import reports, validation
from cica_ld.errors import UsageError
from cica_ld.locations import Location
from cica_ld.shacl_model import SH, Severity, ValidationResult, path_to_sparql
from cica_ld.validation import Finding, Sources, ValidationReport

BASIC = FIXTURES / "validate-basic"
SHN = rdflib.Namespace(SH)


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validation.validate(
        [BASIC / "data-invalid.ttl"], [BASIC / "shapes.ttl"], [BASIC / "ontology.ttl"]
    )


@pytest.fixture(scope="module")
def clean() -> ValidationReport:
    return validation.validate(
        [BASIC / "data-valid.ttl"], [BASIC / "shapes.ttl"], [BASIC / "ontology.ttl"]
    )


def synthetic(findings: list[Finding], **kw) -> ValidationReport:
    return ValidationReport(findings=tuple(findings), **kw)


ODD = Finding(
    ValidationResult(
        focus_node="<http://example.org/ns#odd>",
        source_shape="<http://example.org/ns#Odd,Shape:1>",
        constraint_component=SH + "MinCountConstraintComponent",
        severity=Severity.WARNING,
        path="<http://example.org/ns#p>",
        message='100% wrong,\nsecond line: "quoted" <tag> & done',
    ),
    Location("dir with space/a,b:c.ttl", 3, 5),
)


# --------------------------------------------------------------------------------------------
# text


TEXT_LINE = re.compile(
    r"^(?P<where>\S.*?):(?P<line>\d+):(?P<col>\d+): "
    r"(?P<sev>violation|warning|info): (?P<msg>.+) \[(?P<shape>[^\]]+)\]$"
)


def test_text(report: ValidationReport) -> None:
    out = reports.render(report, "text")
    lines = out.rstrip("\n").split("\n")
    results = [m for m in map(TEXT_LINE.match, lines) if m]
    assert len(results) == len(report.findings)
    for m, f in zip(results, report.findings, strict=True):
        assert (m["where"], int(m["line"]), int(m["col"])) == (
            f.location.path,
            f.location.line,
            f.location.column,
        )
        assert m["sev"] == f.result.severity.label
        assert m["shape"] == report.shape_name(f.result.source_shape)
    assert lines[-1].startswith("does not conform: 7 violations, 1 warning, 1 info")


def test_text_groups_by_file(tmp_path: Path) -> None:
    a, b = Location("a.ttl", 1, 1), Location("b.ttl", 2, 1)
    r = ValidationResult("<x>", "<s>", SH + "MinCountConstraintComponent", message="m")
    out = reports.render(synthetic([Finding(r, a), Finding(r, a), Finding(r, b)]), "text")
    blocks = out.split("\n\n")
    assert [b.count("a.ttl:") for b in blocks[:2]] == [2, 0]
    assert blocks[1].count("b.ttl:") == 1


def test_text_conforms(clean: ValidationReport) -> None:
    out = reports.render(clean, "text")
    assert out.startswith("conforms: 0 violations, 0 warnings, 0 info")
    assert out.count("\n") == 1


def test_text_warnings_pass() -> None:
    out = reports.render(synthetic([ODD]), "text")
    assert "passes (nothing at or above --fail-on violation): 0 violations, 1 warning" in out
    # a multi-line message stays on one line
    assert "100% wrong, second line" in out


# --------------------------------------------------------------------------------------------
# json

SCHEMA = json.loads((ROOT / "docs" / "validation-report.schema.json").read_text())


def check_json(doc: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_json(report: ValidationReport) -> None:
    doc = json.loads(reports.render(report, "json"))
    check_json(doc)
    assert doc["conforms"] is False and doc["passed"] is False
    assert doc["counts"] == {"violation": 7, "warning": 1, "info": 1, "total": 9}
    assert doc["shown"] == 9 and doc["omitted"] == 0
    assert [r["focusNode"] for r in doc["results"]] == [
        f.result.focus_node for f in report.findings
    ]
    first = doc["results"][0]
    f = report.findings[0]
    assert first["location"] == {
        "file": f.location.path,
        "line": f.location.line,
        "column": f.location.column,
    }
    assert first["sourceConstraintComponent"] == f.result.constraint_component
    assert doc["sources"]["shapes"][0]["path"] == str(BASIC / "shapes.ttl")


def test_json_clean_and_without_locations(clean: ValidationReport) -> None:
    check_json(json.loads(reports.render(clean, "json")))
    endpoint = synthetic(
        [Finding(ODD.result)], sources=Sources(endpoint="http://127.0.0.1:1/sparql")
    )
    doc = json.loads(reports.render(endpoint, "json"))
    check_json(doc)
    assert doc["results"][0]["location"] is None
    assert doc["sources"]["endpoint"] == "http://127.0.0.1:1/sparql"


# --------------------------------------------------------------------------------------------
# turtle


def parse_report(text: str) -> tuple[rdflib.Graph, rdflib.term.Node]:
    g = rdflib.Graph().parse(data=text, format="turtle")
    (node,) = list(g.subjects(rdflib.RDF.type, SHN.ValidationReport))
    return g, node


def test_turtle(report: ValidationReport) -> None:
    g, node = parse_report(reports.render(report, "turtle"))
    assert g.value(node, SHN.conforms).toPython() is False
    results = list(g.objects(node, SHN.result))
    assert len(results) == len(report.findings)
    got = set()
    for r in results:
        assert (r, rdflib.RDF.type, SHN.ValidationResult) in g
        focus = g.value(r, SHN.focusNode)
        shape = g.value(r, SHN.sourceShape)
        got.add(
            (
                focus.n3() if isinstance(focus, rdflib.URIRef) else "_",
                shape.n3() if isinstance(shape, rdflib.URIRef) else "_",
                str(g.value(r, SHN.sourceConstraintComponent)),
                str(g.value(r, SHN.resultSeverity)),
            )
        )
    expected = {
        (
            f.result.focus_node if f.result.focus_node.startswith("<") else "_",
            f.result.source_shape if f.result.source_shape.startswith("<") else "_",
            f.result.constraint_component,
            f.result.severity.iri,
        )
        for f in report.findings
    }
    assert got == expected
    carol = next(r for r in results if str(g.value(r, SHN.focusNode)).endswith("#carol"))
    assert g.value(carol, SHN.value) == rdflib.Literal("old")
    assert g.value(carol, SHN.resultPath) == rdflib.URIRef("http://example.org/ns#age")
    assert str(g.value(carol, SHN.resultMessage)) == "An age is one integer"


def test_turtle_conforms_and_escapes(clean: ValidationReport) -> None:
    g, node = parse_report(reports.render(clean, "turtle"))
    assert g.value(node, SHN.conforms).toPython() is True
    assert list(g.objects(node, SHN.result)) == []
    g, node = parse_report(reports.render(synthetic([ODD]), "turtle"))
    (r,) = list(g.objects(node, SHN.result))
    assert str(g.value(r, SHN.resultMessage)) == ODD.result.message
    assert g.value(r, SHN.sourceShape) == rdflib.URIRef("http://example.org/ns#Odd,Shape:1")


PATHS = [
    "<http://e/p>",
    "^<http://e/p>",
    "<http://e/a>/<http://e/b>",
    "<http://e/a>|<http://e/b>|<http://e/c>",
    "<http://e/p>*",
    "<http://e/p>+",
    "<http://e/p>?",
    "^(<http://e/a>/<http://e/b>)",
    "(<http://e/a>|(^<http://e/b>))*",
    "<http://e/a>/(<http://e/b>+)/(^<http://e/c>)",
]


@pytest.mark.parametrize("path", PATHS)
def test_paths_round_trip_through_the_turtle_report(path: str) -> None:
    r = ValidationResult(
        "<http://e/x>", "<http://e/S>", SH + "MinCountConstraintComponent", path=path
    )
    g, node = parse_report(reports.render(synthetic([Finding(r)]), "turtle"))
    (res,) = list(g.objects(node, SHN.result))
    start = g.value(res, SHN.resultPath)

    def nt(term: rdflib.term.Node) -> str:
        return f"<{term}>" if isinstance(term, rdflib.URIRef) else f"_:{term}"

    terms = {nt(t): t for t in g.all_nodes()}

    def objects(subject: str, predicate: str) -> list[str]:
        return (
            [nt(o) for o in g.objects(terms[subject], rdflib.URIRef(predicate))]
            if subject in terms
            else []
        )

    assert path_to_sparql(nt(start), objects) == path


# --------------------------------------------------------------------------------------------
# SARIF

SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


def check_sarif(doc: dict) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)


def test_sarif(report: ValidationReport) -> None:
    doc = json.loads(reports.render(report, "sarif"))
    check_sarif(doc)
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert len(run["results"]) == len(report.findings)
    levels = {"violation": "error", "warning": "warning", "info": "note"}
    for res, f in zip(run["results"], report.findings, strict=True):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] == levels[f.result.severity.label]
        (loc,) = res["locations"]
        phys = loc["physicalLocation"]
        assert Path(phys["artifactLocation"]["uri"].removeprefix("file://")) == Path(
            f.location.path
        )
        assert phys["region"]["startLine"] == f.location.line
        assert phys["region"]["startColumn"] == f.location.column
        assert res["message"]["text"]
        assert res["partialFingerprints"]
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_relative_paths_and_no_location() -> None:
    doc = json.loads(reports.render(synthetic([ODD, Finding(ODD.result)]), "sarif"))
    check_sarif(doc)
    with_loc, without = doc["runs"][0]["results"]
    artifact = with_loc["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "dir%20with%20space/a%2Cb%3Ac.ttl", "uriBaseId": "%SRCROOT%"}
    assert "locations" not in without


def test_sarif_clean(clean: ValidationReport) -> None:
    doc = json.loads(reports.render(clean, "sarif"))
    check_sarif(doc)
    assert doc["runs"][0]["results"] == []


# --------------------------------------------------------------------------------------------
# JUnit


def test_junit(report: ValidationReport) -> None:
    root = ET.fromstring(reports.render(report, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    failures = root.findall("./testsuite/testcase/failure")
    assert len(cases) == len(failures) == len(report.findings)
    assert int(root.get("tests")) == int(root.get("failures")) == len(report.findings)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
    for case, f in zip(cases, report.findings, strict=True):
        fail = case.find("failure")
        assert fail.get("type") == f.result.severity.label
        assert case.get("file") == f.location.path
        assert int(case.get("line")) == f.location.line
        assert f"{f.location}:" in fail.text


def test_junit_clean_and_escaping(clean: ValidationReport) -> None:
    root = ET.fromstring(reports.render(clean, "junit"))
    assert int(root.get("failures")) == 0
    assert len(root.findall("./testsuite/testcase")) == 1
    root = ET.fromstring(reports.render(synthetic([ODD]), "junit"))
    fail = root.find("./testsuite/testcase/failure")
    assert fail.get("message") == " ".join(ODD.result.message.split())


# --------------------------------------------------------------------------------------------
# GitHub workflow commands

PROP_VALUE = r"[^,:\r\n]*"
GITHUB = re.compile(
    rf"^::(?P<level>error|warning|notice)"
    rf"(?: (?P<props>[a-zA-Z]+={PROP_VALUE}(?:,[a-zA-Z]+={PROP_VALUE})*))?"
    r"::(?P<message>[^\r\n]*)$"
)


def unescape_data(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def github_commands(text: str) -> list[dict]:
    out = []
    for line in text.rstrip("\n").split("\n"):
        m = GITHUB.match(line)
        assert m, line
        props = {}
        for item in (m["props"] or "").split(",") if m["props"] else []:
            key, _, value = item.partition("=")
            props[key] = unescape_property(value)
        out.append({"level": m["level"], "props": props, "message": unescape_data(m["message"])})
    return out


def test_github(report: ValidationReport) -> None:
    commands = github_commands(reports.render(report, "github"))
    *results, summary = commands
    assert len(results) == len(report.findings)
    levels = {"violation": "error", "warning": "warning", "info": "notice"}
    for c, f in zip(results, report.findings, strict=True):
        assert c["level"] == levels[f.result.severity.label]
        assert c["props"]["file"] == f.location.path
        assert int(c["props"]["line"]) == f.location.line
        assert int(c["props"]["col"]) == f.location.column
        assert c["props"]["title"] == reports.rule_id(f, report)
    assert summary["level"] == "notice"
    assert "does not conform" in summary["message"]


def test_github_escaping() -> None:
    (c, _summary) = github_commands(reports.render(synthetic([ODD]), "github"))
    assert c["props"]["file"] == "dir with space/a,b:c.ttl"
    assert c["props"]["title"].startswith("<http://example.org/ns#Odd,Shape:1>")
    assert c["message"].startswith(" ".join(ODD.result.message.split()))
    assert reports.github_escape_data("a%b\nc\r") == "a%25b%0Ac%0D"
    assert reports.github_escape_property("x:y,z%") == "x%3Ay%2Cz%25"


# --------------------------------------------------------------------------------------------
# --max-results, format names


def test_max_results_keeps_the_most_severe_and_says_how_many_were_left_out(
    report: ValidationReport,
) -> None:
    shown = reports.select(report.findings, 2)
    assert [f.result.severity for f in shown] == [Severity.VIOLATION, Severity.VIOLATION]
    assert shown == [f for f in report.findings if f in shown]  # report order kept
    everything = reports.select(report.findings, 8)
    assert Severity.INFO not in {f.result.severity for f in everything}
    assert "7 more results not shown (--max-results 2)" in reports.render(
        report, "text", max_results=2
    )
    doc = json.loads(reports.render(report, "json", max_results=2))
    check_json(doc)
    assert (doc["shown"], doc["omitted"], doc["counts"]["total"]) == (2, 7, 9)
    sarif = json.loads(reports.render(report, "sarif", max_results=2))
    check_sarif(sarif)
    (invocation,) = sarif["runs"][0]["invocations"]
    assert "7 more results" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert len(sarif["runs"][0]["results"]) == 2
    root = ET.fromstring(reports.render(report, "junit", max_results=2))
    assert len(root.findall("./testsuite/testcase/failure")) == 2
    assert "7 more results" in reports.render(report, "junit", max_results=2)
    ttl = reports.render(report, "turtle", max_results=2)
    g, node = parse_report(ttl)
    assert len(list(g.objects(node, SHN.result))) == 2
    assert "# 7 more results not shown" in ttl
    gh = github_commands(reports.render(report, "github", max_results=2))
    assert any("7 more results" in c["message"] for c in gh)
    assert len(reports.select(report.findings, 0)) == 0


def test_format_names() -> None:
    with pytest.raises(UsageError, match="--format"):
        reports.render(synthetic([]), "xml")
    assert reports.format_for_output("out/x.sarif") == "sarif"
    assert reports.format_for_output("x.sarif.json") == "sarif"
    assert reports.format_for_output("x.json") == "json"
    assert reports.format_for_output("x.xml") == "junit"
    assert reports.format_for_output("x.ttl") == "turtle"
    assert reports.format_for_output("x.log") is None
