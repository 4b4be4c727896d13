"""Prefixes in SHACL-SPARQL queries: a query without ``sh:prefixes`` may use the ``@prefix``
lines of the shapes file it is written in; ``sh:prefixes``/``sh:declare`` win where both
declare a prefix; a prefix declared nowhere is exit 2 naming the prefix, the shape and its
file:line. DCAT and FOAF fixtures, through the library and the CLI, compared with pySHACL
(which resolves such prefixes by the data graph's bindings: it is given the shapes file's)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pyoxigraph
import pytest
from conftest import FIXTURES
from typer.testing import CliRunner

from cica_ld import validation
from cica_ld.cli import app
from cica_ld.shacl import ShapesError, validate

PEOPLE = FIXTURES / "shacl-people"
DCAT_DATA = PEOPLE / "dcat-data.ttl"
DCAT_SHAPES = PEOPLE / "dcat-shapes.ttl"
SH = "http://www.w3.org/ns/shacl#"
D = "http://example.org/catalogue/"
S = "http://example.org/shapes/dcat#"


def cli(*args: str):
    return CliRunner().invoke(app, ["validate", *args, "--no-ontology"])


def file_prefixes(path: Path) -> dict[str, str]:
    parser = pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
    for _ in parser:
        pass
    return dict(parser.prefixes)


def pyshacl_keys(data: Path, shapes: Path) -> set[tuple]:
    import pyshacl
    import rdflib

    sh = rdflib.Namespace(SH)
    data_g = rdflib.Graph().parse(data)
    for name, ns in file_prefixes(shapes).items():  # pySHACL looks for prefixes there
        data_g.bind(name, ns, override=True, replace=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _c, report, _t = pyshacl.validate(data_g, shacl_graph=rdflib.Graph().parse(shapes))
    out = set()
    for node in report.subjects(rdflib.RDF.type, sh.ValidationReport):
        for r in report.objects(node, sh.result):
            value = report.value(r, sh.value)
            out.add(
                (
                    validation._nt(report.value(r, sh.focusNode), {}),
                    validation._nt(report.value(r, sh.sourceShape), {}),
                    str(report.value(r, sh.sourceConstraintComponent)),
                    validation._nt(value, {}) if value is not None else None,
                )
            )
    return out


def test_select_uses_the_shapes_files_prefixes_as_pyshacl_does() -> None:
    report = validation.validate([DCAT_DATA], [DCAT_SHAPES], [], engine="native")
    keys = {(r.focus_node, r.source_shape, r.constraint_component, r.value) for r in report.results}
    assert keys == pyshacl_keys(DCAT_DATA, DCAT_SHAPES)
    sparql = SH + "SPARQLConstraintComponent"
    # dcat: and dct: come from the file's @prefix lines
    assert (f"<{D}weather>", f"<{S}DatasetShape>", sparql, f"<{D}weather-api>") in keys
    assert (f"<{D}rivers>", f"<{S}TitledShape>", sparql, f"<{D}rivers>") in keys


def test_sh_prefixes_win_over_the_files_prefix() -> None:
    report = validation.validate([DCAT_DATA], [DCAT_SHAPES], [], engine="native")
    drafts = {
        r.focus_node for r in report.results if r.source_constraint == f"<{S}DeclaredPrefixWins>"
    }
    # voc: is http://example.org/vocab# by sh:declare (the file binds it elsewhere): only
    # d:weather has that status "draft"; d:rivers is "draft" in the file's namespace
    assert drafts == {f"<{D}weather>"}


def test_cli_both_engines_agree_on_file_prefixes() -> None:
    runs = {}
    for engine in ("native", "pyshacl"):
        result = cli(
            "--data", str(DCAT_DATA), "--shapes", str(DCAT_SHAPES), "--engine", engine, "-f", "json"
        )
        assert result.exit_code == 1, result.stderr
        runs[engine] = {
            (r["focusNode"], r["sourceShape"], r["sourceConstraintComponent"], r["value"])
            for r in json.loads(result.stdout)["results"]
        }
    assert runs["native"] == runs["pyshacl"] == pyshacl_keys(DCAT_DATA, DCAT_SHAPES)


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_undeclared_prefix_is_an_input_error_naming_it(engine: str) -> None:
    shapes = PEOPLE / "undeclared-shapes.ttl"
    result = cli("--data", str(PEOPLE / "foaf-data.ttl"), "--shapes", str(shapes), "-e", engine)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"cica-ld: error: {shapes}:5:1: invalid shapes graph: ")
    assert "ex:FriendlyShape: sh:select uses the prefix foaf: which is declared nowhere" in lines[0]


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
def test_undeclared_prefix_in_a_validator_names_it(engine: str) -> None:
    shapes = PEOPLE / "undeclared-validator-shapes.ttl"
    result = cli("--data", str(PEOPLE / "foaf-data.ttl"), "--shapes", str(shapes), "-e", engine)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"cica-ld: error: {shapes}:6:1: invalid shapes graph: ")
    assert "ex:HasTypeComponent: sh:ask of validator" in result.stderr
    assert "uses the prefix schema: which is declared nowhere" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_each_query_uses_the_prefixes_of_its_own_file(tmp_path: Path) -> None:
    head = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/s#> .\n"
    for name, ns in (("a", "http://example.org/one#"), ("b", "http://example.org/two#")):
        (tmp_path / f"{name}.ttl").write_text(
            head + f"@prefix v: <{ns}> .\n"
            f"ex:{name} a sh:NodeShape ; sh:targetSubjectsOf <{ns}p> ; sh:sparql [\n"
            '  sh:select "SELECT $this WHERE { $this v:p 1 }" ] .\n'
        )
    data = tmp_path / "data.ttl"
    data.write_text(
        "<http://example.org/x> <http://example.org/one#p> 1 .\n"
        "<http://example.org/y> <http://example.org/two#p> 2 .\n"
        "<http://example.org/z> <http://example.org/two#p> 1 .\n"
    )
    report = validation.validate([data], [tmp_path / "a.ttl", tmp_path / "b.ttl"], [])
    assert {(r.focus_node, r.source_shape) for r in report.results} == {
        ("<http://example.org/x>", "<http://example.org/s#a>"),
        ("<http://example.org/z>", "<http://example.org/s#b>"),
    }


def test_library_takes_the_prefixes_as_a_mapping() -> None:
    data, shapes = pyoxigraph.Store(), pyoxigraph.Store()
    data.load(DCAT_DATA.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    shapes.load(DCAT_SHAPES.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    with pytest.raises(ShapesError, match="uses the prefix dcat: which is declared nowhere"):
        validate(data, shapes)
    results = validate(data, shapes, shapes_prefixes=file_prefixes(DCAT_SHAPES))
    assert len(results) == 3


def test_library_names_an_undeclared_prefix_of_a_validator() -> None:
    data, shapes = pyoxigraph.Store(), pyoxigraph.Store()
    data.load((PEOPLE / "foaf-data.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    path = PEOPLE / "undeclared-validator-shapes.ttl"
    shapes.load(path.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    with pytest.raises(ShapesError, match="uses the prefix schema: which is declared nowhere") as e:
        validate(data, shapes, shapes_prefixes=file_prefixes(path))
    assert e.value.shape == "<http://example.org/shapes/validator#HasTypeComponent>"
    # declared by the caller, it is used: alice is no schema:Thing
    results = validate(data, shapes, shapes_prefixes={"schema": "https://schema.org/"})
    assert [r.focus_node for r in results] == ["<http://example.org/people/alice>"]
