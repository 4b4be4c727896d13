"""Recursive shapes (a shape that reaches itself through sh:property/sh:node) validate with the
native engine and give pySHACL's results: FOAF foaf:knows, schema.org books and authors
(mutual recursion), SKOS skos:broader; through the library and the CLI, each compared with
``pyshacl.validate`` run on the same files (its top-level results, as (focus, source shape,
component, path, value))."""

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
SH = "http://www.w3.org/ns/shacl#"
CASES = ["foaf", "mutual", "skos"]

Key = tuple[str, str, str, str | None, str | None]


def cli(*args: str):
    """``cica-ld validate ARGS --no-ontology``."""
    return CliRunner().invoke(app, ["validate", *args, "--no-ontology"])


def pyshacl_keys(data: Path, shapes: Path) -> set[Key]:
    """pySHACL's own top-level results (``sh:result`` of the report, not nested details)."""
    import pyshacl
    import rdflib

    sh = rdflib.Namespace(SH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pySHACL warns of each recursion it cuts
        _conforms, report, _text = pyshacl.validate(
            rdflib.Graph().parse(data), shacl_graph=rdflib.Graph().parse(shapes)
        )
    out: set[Key] = set()
    for node in report.subjects(rdflib.RDF.type, sh.ValidationReport):
        for r in report.objects(node, sh.result):
            path, value = report.value(r, sh.resultPath), report.value(r, sh.value)
            out.add(
                (
                    validation._nt(report.value(r, sh.focusNode), {}),
                    validation._nt(report.value(r, sh.sourceShape), {}),
                    str(report.value(r, sh.sourceConstraintComponent)),
                    validation._nt(path, {}) if path is not None else None,
                    validation._nt(value, {}) if value is not None else None,
                )
            )
    return out


def native_keys(data: Path, shapes: Path) -> set[Key]:
    report = validation.validate([data], [shapes], [], engine="native")
    return {r.key() for r in report.results}


@pytest.mark.parametrize("case", CASES)
def test_native_engine_gives_pyshacls_results_on_recursive_shapes(case: str) -> None:
    data, shapes = PEOPLE / f"{case}-data.ttl", PEOPLE / f"{case}-shapes.ttl"
    expected = pyshacl_keys(data, shapes)
    assert expected, "the fixture has defects pySHACL reports"
    # some result comes from the recursion: a sh:node failure of a value checked by the shape
    assert any(k[2] == SH + "NodeConstraintComponent" for k in expected)
    assert native_keys(data, shapes) == expected


def test_foaf_defects_seen_through_knows_as_pyshacl_sees_them() -> None:
    keys = native_keys(PEOPLE / "foaf-data.ttl", PEOPLE / "foaf-shapes.ttl")
    p = "http://example.org/people/"
    knows = "<http://example.org/shapes/people#PersonKnowsShape>"
    node = SH + "NodeConstraintComponent"
    nested = {(k[0], k[4]) for k in keys if k[1] == knows and k[2] == node}
    # carol knows dan, who knows erin, whose name is not a string (two steps away)
    assert (f"<{p}carol>", f"<{p}dan>") in nested
    # frank knows gina (no name), who knows frank back: the cycle ends, gina fails
    assert (f"<{p}frank>", f"<{p}gina>") in nested
    # the cycle alice -> bob -> carol -> alice ends; erin is three steps from bob and hugo's
    # chain reaches lea (no name) four steps away: beyond pySHACL's recursion check, which
    # assumes the repeated shape conforms there, so neither bob nor hugo fails
    assert {f for f, _v in nested} == {f"<{p}carol>", f"<{p}frank>"}


def test_cli_validates_recursive_shapes_like_the_pyshacl_engine() -> None:
    data, shapes = PEOPLE / "mutual-data.ttl", PEOPLE / "mutual-shapes.ttl"
    runs = {}
    for engine in ("native", "pyshacl"):
        result = cli("--data", str(data), "--shapes", str(shapes), "--engine", engine, "-f", "json")
        assert result.exit_code == 1, result.stderr
        doc = json.loads(result.stdout)
        runs[engine] = {
            (r["focusNode"], r["sourceShape"], r["sourceConstraintComponent"], r["value"])
            for r in doc["results"]
        }
    assert runs["native"] == runs["pyshacl"]
    assert {(*k[:3], k[4]) for k in pyshacl_keys(data, shapes)} == runs["native"]


def _stores(data: str, shapes: str) -> tuple[pyoxigraph.Store, pyoxigraph.Store]:
    prefixes = "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
    out = []
    for text in (data, shapes):
        store = pyoxigraph.Store()
        store.load((prefixes + text).encode(), format=pyoxigraph.RdfFormat.TURTLE)
        out.append(store)
    return out[0], out[1]


def test_recursion_through_or_is_an_input_error_as_in_pyshacl(tmp_path: Path) -> None:
    # pySHACL does not cut recursion through sh:or alone: it stops, "Validation path too deep"
    shapes_text = (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; "
        "sh:or ( ex:S [ sh:path ex:q ; sh:minCount 1 ] ) ."
    )
    data, shapes = _stores("ex:a ex:p ex:a .", shapes_text)
    with pytest.raises(ShapesError, match="nested too deeply"):
        validate(data, shapes)
    # through the CLI: exit 2, one line, at the shape
    (tmp_path / "d.ttl").write_text("<http://example.org/a> <http://example.org/p> 1 .\n")
    (tmp_path / "s.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\n"
        + shapes_text
        + "\n"
    )
    result = cli("--data", str(tmp_path / "d.ttl"), "--shapes", str(tmp_path / "s.ttl"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f"{tmp_path / 's.ttl'}:3:1: invalid shapes graph: ex:S: the shapes are nested too deeply"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_recursion_cut_by_a_node_inside_or_gives_pyshacls_results() -> None:
    # through a sh:node inside sh:or, pySHACL's recursion check applies: no error, no result
    data, shapes = _stores(
        "ex:a ex:p ex:a .",
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; "
        "sh:or ( [ sh:path ex:p ; sh:node ex:S ] [ sh:path ex:q ; sh:minCount 1 ] ) .",
    )
    assert validate(data, shapes) == []


def test_shapes_outside_a_cycle_are_merged_as_before() -> None:
    # a property shape shared by two targets, no recursion: one unit for both parents
    data, shapes = _stores(
        "ex:a a ex:A . ex:b a ex:B .",
        "ex:SA a sh:NodeShape ; sh:targetClass ex:A ; sh:property ex:P . "
        "ex:SB a sh:NodeShape ; sh:targetClass ex:B ; sh:property ex:P . "
        "ex:P sh:path ex:name ; sh:minCount 1 .",
    )
    from cica_ld.shacl.backend import LocalBackend
    from cica_ld.shacl.engine import Engine

    engine = Engine(LocalBackend(data), shapes)
    prop_units = [u for u in engine.units() if u.shape.node == "<http://example.org/P>"]
    assert len(prop_units) == 1 and prop_units[0].path == ()
    assert {r.focus_node for r in engine.validate()} == {
        "<http://example.org/a>",
        "<http://example.org/b>",
    }


# Recursive shape graphs of each kind pySHACL cuts (sh:node, sh:not, property shapes of
# property shapes, sh:qualifiedValueShape, value-level shapes), on small random graphs.
_HEAD = (
    "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/s#> .\n"
    "@prefix d: <http://example.org/d#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
)
_RECURSIVE = {
    "mutual": "ex:A a sh:NodeShape ; sh:targetClass d:A ; sh:property ex:Ap , ex:An . "
    "ex:An sh:path d:name ; sh:minCount 1 . ex:Ap sh:path d:p ; sh:node ex:B . "
    "ex:B a sh:NodeShape ; sh:property ex:Bq , ex:Bn . ex:Bn sh:path d:name ; sh:maxCount 1 . "
    "ex:Bq sh:path d:q ; sh:node ex:A .",
    "not": "ex:S a sh:NodeShape ; sh:targetClass d:A ; sh:property ex:Sn , ex:Sp . "
    "ex:Sn sh:path d:name ; sh:minCount 1 . ex:Sp sh:path d:p ; sh:not ex:T . "
    "ex:T a sh:NodeShape ; sh:property ex:Tq . ex:Tq sh:path d:q ; sh:node ex:S .",
    "value-level": "ex:S a sh:NodeShape ; sh:targetClass d:A ; sh:property ex:Sp . "
    "ex:Sp sh:path d:p ; sh:node ex:V . ex:V a sh:NodeShape ; sh:nodeKind sh:IRI ; "
    "sh:node ex:W . ex:W a sh:NodeShape ; sh:not ex:X . "
    "ex:X a sh:NodeShape ; sh:node ex:V ; sh:class d:B .",
    "property-of-property": "ex:S a sh:NodeShape ; sh:targetClass d:A ; sh:property ex:P1 . "
    "ex:P1 sh:path d:p ; sh:property ex:P2 . ex:P2 sh:path d:q ; sh:minCount 1 ; sh:node ex:S .",
    "qualified": "ex:S a sh:NodeShape ; sh:targetClass d:A ; sh:property ex:Q , ex:N . "
    "ex:N sh:path d:name ; sh:minCount 1 ; sh:datatype xsd:string . "
    "ex:Q sh:path d:p ; sh:qualifiedValueShape ex:S ; sh:qualifiedMinCount 1 .",
}


@pytest.mark.parametrize("kind", sorted(_RECURSIVE))
def test_random_graphs_agree_with_pyshacl(kind: str, tmp_path: Path) -> None:
    import random

    rnd = random.Random(kind)
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(_HEAD + _RECURSIVE[kind] + "\n")
    reported = 0
    for trial in range(8):
        n = rnd.randint(3, 9)
        lines = [_HEAD]
        for i in range(n):
            if rnd.random() < 0.6:
                lines.append(f"d:n{i} a d:A .")
            if rnd.random() < 0.2:
                lines.append(f"d:n{i} a d:B .")
            for _ in range(rnd.choice([0, 1, 1, 2])):
                lines.append(f'd:n{i} d:name "x{rnd.randint(0, 2)}" .')
            if rnd.random() < 0.1:
                lines.append(f"d:n{i} d:name 5 .")
            for p in ("p", "q"):
                for _ in range(rnd.choice([0, 1, 1, 2])):
                    lines.append(f"d:n{i} d:{p} d:n{rnd.randrange(n)} .")
        data = tmp_path / f"data-{trial}.ttl"
        data.write_text("\n".join(lines) + "\n")
        expected = pyshacl_keys(data, shapes)
        assert native_keys(data, shapes) == expected, data.read_text()
        reported += len(expected)
    assert reported, "the random graphs have results to compare"
