"""SHACL-SPARQL prefixes (SHACL 5.2.1) and SHACL-AF (targets, rules, functions, expressions):
what both engines run, and what they refuse (exit 2, naming the shape and the feature) rather
than ignore. SKOS, FOAF, schema.org and DCAT fixtures under tests/fixtures/shacl-af/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from cica_ld.cli import app

AF = FIXTURES / "shacl-af"
ENGINES = ["native", "pyshacl"]


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", *args, "--no-ontology"])


def run(data: Path, shapes: Path, engine: str, *more: str):
    return cli("--data", str(data), "--shapes", str(shapes), "--engine", engine, *more)


def keys(result) -> set[tuple]:
    """(focus node, source shape, component, value) of each result of a JSON report."""
    return {
        (r["focusNode"], r["sourceShape"], r["sourceConstraintComponent"], r["value"])
        for r in json.loads(result.stdout)["results"]
    }


def one_error_line(result) -> str:
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------
# sh:prefixes / owl:imports / sh:declare (SHACL 5.2.1)

SKOS = "http://www.w3.org/2004/02/skos/core#"
TOPICS = "http://example.org/topics/"
SPARQL = "http://www.w3.org/ns/shacl#SPARQLConstraintComponent"


@pytest.mark.parametrize("engine", ENGINES)
def test_prefixes_declared_through_owl_imports_are_used(engine: str) -> None:
    result = run(AF / "prefixes-data.ttl", AF / "prefixes-imports-shapes.ttl", engine, "-f", "json")
    assert result.exit_code == 1, result.stderr
    assert keys(result) == {
        (
            f"<{TOPICS}lakes>",
            "<http://example.org/shapes/topics#BroaderInSchemeShape>",
            SPARQL,
            "<http://example.com/other/water>",
        )
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_conflicting_prefix_declarations_are_a_shapes_error(engine: str) -> None:
    shapes = AF / "prefixes-conflict-shapes.ttl"
    result = run(AF / "prefixes-data.ttl", shapes, engine)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"cica-ld: error: {shapes}:23:1: invalid shapes graph: ex:ConflictShape")
    assert "the prefix topics: is declared twice with different namespaces" in line
    assert "<http://example.org/topics/>" in line and "<http://example.org/other-topics/>" in line


@pytest.mark.parametrize("engine", ENGINES)
def test_undeclared_prefix_names_where_it_is_used_and_the_import_not_followed(
    engine: str,
) -> None:
    shapes = AF / "prefixes-unloaded-shapes.ttl"
    result = run(AF / "prefixes-data.ttl", shapes, engine)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"cica-ld: error: {shapes}:11:1: invalid shapes graph: ex:BroaderShape")
    used = f"sh:select uses the prefix skos: which is declared nowhere (used at {shapes}:19:23;"
    assert used in line
    assert "owl:imports <http://example.org/vocabularies/skos-prefixes> was not followed" in line
    assert "ENCODE_FOR_URI" not in line
