"""Results as SHACL counts them: a multiset, in every report format.

SHACL validates a nested property shape once per evaluation of its parent (a value node that
two parent focus nodes share is validated twice, a property shape under two parents twice),
and gives one result per sh:lessThan pair, per repeated language tag (sh:uniqueLang) and per
constraint (two sh:or, or two sh:xone, of one shape). Those results read the same (same focus
node, path, value, shape, component and message) and are still separate results: the W3C suite
(core/property/property-001, lessThan-002, core/validation-reports/shared) and the DASH suite
expect them all. Fixtures: tests/fixtures/shacl-results/multiset-*.ttl (schema.org, FOAF,
SKOS).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

import pyoxigraph
import pytest
from conftest import FIXTURES

from cica_ld import reports, validation

HERE = FIXTURES / "shacl-results"
SH = "http://www.w3.org/ns/shacl#"
EX = "http://example.org/shapes#"
D = "http://example.org/data#"
SCHEMA = "https://schema.org/"


def _c(name: str) -> str:
    return f"{SH}{name}ConstraintComponent"


#: (focus node, source shape, component) -> how many results SHACL gives
EXPECTED = {
    (f"<{D}shared-address>", f"<{EX}AddressShape-locality>", _c("Datatype")): 2,
    (f"<{D}unnamed-place>", f"<{EX}PlaceShape-name>", _c("MinCount")): 2,
    (f"<{D}acme>", f"<{EX}NameShape>", _c("MinCount")): 2,
    (f"<{D}launch>", f"<{EX}EventShape-start>", _c("LessThan")): 2,
    (f"<{D}colour>", f"<{EX}ConceptShape-prefLabel>", _c("UniqueLang")): 2,
    (f"<{D}book>", f"<{EX}BookShape-isbn>", _c("Or")): 2,
    (f"<{D}book>", f"<{EX}BookShape-pages>", _c("Xone")): 2,
    (f"<{D}book>", f"<{EX}BookShape-title>", _c("Or")): 2,
}


@pytest.fixture(scope="module", params=["native", "pyshacl"])
def report(request) -> validation.ValidationReport:
    return validation.validate(
        [HERE / "multiset-data.ttl"], [HERE / "multiset-shapes.ttl"], engine=request.param
    )


def _keys(results) -> Counter:
    return Counter((r.focus_node, r.source_shape, r.constraint_component) for r in results)


def test_engine_counts_every_evaluation(report: validation.ValidationReport) -> None:
    assert _keys(report.results) == EXPECTED
    # the repeated results are the same result, not variants of it
    full = Counter(
        (r.focus_node, r.source_shape, r.constraint_component, r.path, r.value, r.message)
        for r in report.results
    )
    assert sorted(full.values()) == [2] * len(EXPECTED)


def test_lessthan_and_uniquelang_counts_survive_a_second_look(
    report: validation.ValidationReport,
) -> None:
    """The two sh:lessThan results both name the start date (the value node), one per end date
    it is compared with; the two sh:uniqueLang results have no value."""
    less = [r for r in report.results if r.constraint_component == _c("LessThan")]
    assert [r.value for r in less] == ['"2024-05-01"^^<http://www.w3.org/2001/XMLSchema#date>'] * 2
    unique = [r for r in report.results if r.constraint_component == _c("UniqueLang")]
    assert [r.value for r in unique] == [None, None]


def test_turtle_report_holds_every_result(report: validation.ValidationReport) -> None:
    text = reports.render(report, "turtle")
    store = pyoxigraph.Store()
    store.load(text.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    rows = store.query(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?f ?s ?c WHERE { "
        "?report a sh:ValidationReport ; sh:result ?r . "
        "?r sh:focusNode ?f ; sh:sourceShape ?s ; sh:sourceConstraintComponent ?c }"
    )
    found = Counter((str(r["f"]), str(r["s"]), str(r["c"])[1:-1]) for r in rows)
    assert found == EXPECTED


def test_json_sarif_junit_github_and_text_hold_every_result(
    report: validation.ValidationReport,
) -> None:
    total = sum(EXPECTED.values())
    doc = json.loads(reports.render(report, "json"))
    assert doc["counts"]["total"] == total == len(doc["results"])
    got = Counter(
        (r["focusNode"], r["sourceShape"], r["sourceConstraintComponent"]) for r in doc["results"]
    )
    assert got == EXPECTED
    sarif = json.loads(reports.render(report, "sarif"))
    assert len(sarif["runs"][0]["results"]) == total
    junit = ET.fromstring(reports.render(report, "junit"))
    assert len(junit.findall(".//failure")) == total
    github = reports.render(report, "github").splitlines()
    assert sum(1 for line in github if line.startswith("::error ")) == total
    text = reports.render(report, "text")
    assert f"{total} violations" in text
