"""Any IRI as a severity (SHACL 2.1.4), kept in every report format, and ``--fail-on`` naming
one. Only the IRIs sh:Info, sh:Warning and sh:Violation are those levels (``other:Info`` is a
custom severity, not sh:Info); a custom severity counts at the violation level. Fixtures:
tests/fixtures/shacl-results/severity-*.ttl (schema.org).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pyoxigraph
import pytest
from conftest import FIXTURES, ROOT
from typer.testing import CliRunner

from cica_ld import reports, validation
from cica_ld.cli import app
from cica_ld.shacl_model import Severity

HERE = FIXTURES / "shacl-results"
SHAPES = HERE / "severity-shapes.ttl"
DATA = HERE / "severity-data.ttl"
NAMED = HERE / "severity-data-named.ttl"  # only the ex:Blocker constraint is met
SH = "http://www.w3.org/ns/shacl#"
BLOCKER = "http://example.org/shapes#Blocker"
OTHER_INFO = "http://example.org/other#Info"
SCHEMA = json.loads((ROOT / "docs" / "validation-report.schema.json").read_text())
SARIF_SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


def test_only_the_three_shacl_iris_are_levels() -> None:
    assert Severity.from_iri(f"<{SH}Info>") is Severity.INFO
    assert Severity.from_iri(SH + "Warning") is Severity.WARNING
    assert Severity.from_iri(OTHER_INFO) is Severity.VIOLATION
    assert Severity.from_iri("http://example.org/x#Warning") is Severity.VIOLATION


@pytest.fixture(scope="module", params=["native", "pyshacl"])
def report(request) -> validation.ValidationReport:
    return validation.validate([DATA], [SHAPES], engine=request.param)


def _by_shape(report: validation.ValidationReport) -> dict[str, str]:
    return {r.source_shape.rsplit("#", 1)[-1][:-1]: r.severity_term for r in report.results}


def test_engines_keep_the_severity_iri(report: validation.ValidationReport) -> None:
    assert _by_shape(report) == {
        "ProductShape-name": f"<{BLOCKER}>",
        "ProductShape-sku": f"<{OTHER_INFO}>",
        "ProductShape-description": f"<{SH}Warning>",
    }
    levels = {r.severity_term: r.severity for r in report.results}
    assert levels[f"<{BLOCKER}>"] is levels[f"<{OTHER_INFO}>"] is Severity.VIOLATION


def test_turtle_report_states_the_severity_as_the_shape_does(
    report: validation.ValidationReport,
) -> None:
    store = pyoxigraph.Store()
    store.load(reports.render(report, "turtle").encode(), format=pyoxigraph.RdfFormat.TURTLE)
    rows = store.query(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?s ?sev WHERE { "
        "?r a sh:ValidationResult ; sh:sourceShape ?s ; sh:resultSeverity ?sev }"
    )
    found = {str(r["s"]).rsplit("#", 1)[-1][:-1]: str(r["sev"]) for r in rows}
    assert found == _by_shape(report)


def test_text_and_json_name_the_custom_severity(report: validation.ValidationReport) -> None:
    text = reports.render(report, "text")
    assert ": ex:Blocker: a product needs a name [ex:ProductShape-name]" in text
    assert ": other:Info: a product should have a SKU" in text
    assert ": warning: a product should have a description" in text
    assert "2 violations (1 other:Info, 1 ex:Blocker), 1 warning, 0 info" in text
    doc = json.loads(reports.render(report, "json"))
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    got = {r["sourceShapeName"]: (r["severity"], r["resultSeverity"]) for r in doc["results"]}
    assert got == {
        "ex:ProductShape-name": ("violation", f"<{BLOCKER}>"),
        "ex:ProductShape-sku": ("violation", f"<{OTHER_INFO}>"),
        "ex:ProductShape-description": ("warning", f"<{SH}Warning>"),
    }
    assert doc["failOnSeverity"] == f"<{SH}Violation>"


def test_sarif_junit_github_map_custom_severities_to_error_and_keep_the_iri(
    report: validation.ValidationReport,
) -> None:
    sarif = json.loads(reports.render(report, "sarif"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    name = results["ex:ProductShape-name/sh:minCount"]
    assert name["level"] == "error"
    assert name["message"]["text"].startswith("[severity ex:Blocker] a product needs a name")
    assert name["properties"]["resultSeverity"] == f"<{BLOCKER}>"
    assert results["ex:ProductShape-sku/sh:minCount"]["level"] == "error"
    assert results["ex:ProductShape-description/sh:minCount"]["level"] == "warning"

    junit = ET.fromstring(reports.render(report, "junit"))
    failures = {f.get("type"): f.get("message") for f in junit.iter("failure")}
    assert failures["ex:Blocker"] == "[severity ex:Blocker] a product needs a name"
    assert failures["warning"] == "a product should have a description"

    github = reports.render(report, "github").splitlines()
    blocker = [line for line in github if "a product needs a name" in line]
    assert len(blocker) == 1 and blocker[0].startswith("::error ")
    assert "::[severity ex:Blocker] a product needs a name" in blocker[0]


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", *args])


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_custom_severities_fail_the_run_at_any_level(engine: str) -> None:
    """With NAMED the ex:Blocker constraint is met; other:Info (a custom severity, not sh:Info)
    counts as a violation, so the default --fail-on violation fails the run."""
    args = ["--data", str(NAMED), "--shapes", str(SHAPES), "--engine", engine]
    result = cli(*args)
    assert result.exit_code == 1, result.stdout
    assert "other:Info: a product should have a SKU" in result.stdout
    assert "does not conform" in result.stdout


@pytest.mark.parametrize(
    ("fail_on", "data", "code"),
    [
        (BLOCKER, DATA, 1),  # an ex:Blocker result
        (f"<{BLOCKER}>", NAMED, 0),  # no ex:Blocker result: the others do not fail the run
        (OTHER_INFO, NAMED, 1),
        (f"{SH}Warning", NAMED, 1),  # the level: warnings and above (custom ones too)
        ("sh:Info", NAMED, 1),
        ("WARNING", NAMED, 1),
    ],
)
def test_fail_on_takes_an_iri(fail_on: str, data, code: int) -> None:
    result = cli("--data", str(data), "--shapes", str(SHAPES), "--fail-on", fail_on, "-f", "json")
    assert result.exit_code == code, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["passed"] is (code == 0)


def test_fail_on_a_custom_iri_is_reported() -> None:
    result = cli("--data", str(NAMED), "--shapes", str(SHAPES), "--fail-on", BLOCKER)
    assert result.exit_code == 0
    assert "passes (no result of severity --fail-on ex:Blocker)" in result.stdout
    doc = json.loads(
        cli(
            "--data", str(NAMED), "--shapes", str(SHAPES), "--fail-on", BLOCKER, "-f", "json"
        ).stdout
    )
    assert doc["failOnSeverity"] == f"<{BLOCKER}>"
    assert doc["failOn"] == "violation"


@pytest.mark.parametrize("bad", ["ex:Blocker", "severe", "http://example.org/a b"])
def test_fail_on_refuses_what_is_no_level_and_no_iri(bad: str) -> None:
    result = cli("--data", str(DATA), "--shapes", str(SHAPES), "--fail-on", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith("cica-ld: error: unknown severity")
    assert "Traceback" not in result.stderr
