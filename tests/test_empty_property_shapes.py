"""``sh:property [ ]`` (a blank node with no triple about it, as the DCAT-AP 3 SHACL files have
them): no shape, ignored with a warning on stderr naming the shape and file:line:column, by
both engines. A value of sh:property with constraints but no sh:path stays an error."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import FIXTURES, ROOT
from typer.testing import CliRunner

from cica_ld import validation
from cica_ld.cli import app

HERE = FIXTURES / "empty-property-shape"
DATA = str(HERE / "data.ttl")
SHAPES = str(HERE / "shapes.ttl")
ENGINES = ("native", "pyshacl")
SCHEMA = json.loads((ROOT / "docs" / "validation-report.schema.json").read_text())


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", *args])


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_property_shape_is_ignored_with_a_warning(engine: str) -> None:
    result = cli("--data", DATA, "--shapes", SHAPES, "--engine", engine, "--format", "json")
    assert result.exit_code == 1, (result.stdout, result.stderr)  # ex:bob has no name
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)  # the warning's kind is one the schema documents
    assert [w["kind"] for w in report["warnings"]] == ["empty-property-shape"]
    results = report["results"]
    assert [(r["focusNode"], r["path"]) for r in results] == [
        ("<http://example.org/people#bob>", "<http://xmlns.com/foaf/0.1/name>")
    ], results
    warnings = [w for w in result.stderr.splitlines() if "empty sh:property" in w]
    assert warnings == [
        f"cica-ld: warning: {SHAPES}:9:17: ex:PersonShape: an empty sh:property [ ] "
        "(no sh:path, no constraint) checks nothing: ignored"
    ], result.stderr
    assert "error" not in result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_property_shape_is_not_counted_as_a_shape(engine: str) -> None:
    report = validation.validate([HERE / "data.ttl"], [HERE / "shapes.ttl"], [], engine=engine)
    assert report.coverage is not None and report.coverage.shapes == 2
    assert [w.kind for w in report.warnings] == ["empty-property-shape"]


@pytest.mark.parametrize("engine", ENGINES)
def test_property_shape_with_constraints_but_no_path_is_still_refused(engine: str) -> None:
    no_path = str(HERE / "no-path.ttl")
    result = cli("--data", DATA, "--shapes", no_path, "--engine", engine)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith(f"cica-ld: error: {no_path}:9:17: invalid shapes graph: ")
    assert "is the value of sh:property but has no sh:path" in result.stderr
