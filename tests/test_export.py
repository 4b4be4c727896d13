"""`cica-ld export`: every format gives back the same graph, deterministically; house-style
Turtle; named graphs; option errors are exit 2; output written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from _publish_support import MINI, canonical
from typer.testing import CliRunner

from cica_ld import dataset, export
from cica_ld.cli import app

OX_FORMATS = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
    "nquads": pyoxigraph.RdfFormat.N_QUADS,
    "trig": pyoxigraph.RdfFormat.TRIG,
    "rdfxml": pyoxigraph.RdfFormat.RDF_XML,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
}

TRIG = (
    b"@prefix ex: <http://example.org/> .\n"
    b"ex:a ex:p ex:b .\n"
    b'ex:g1 { ex:a ex:p "one"@en . _:x ex:q ex:a . }\n'
    b'ex:g2 { ex:a ex:p ex:b . ex:b ex:r "2"^^<http://www.w3.org/2001/XMLSchema#integer> . }\n'
)


def _read(data: bytes, fmt: str) -> list[Any]:
    if fmt == "jsonld":  # through the loader: the bundled context is served, never fetched
        from cica_ld.jsonld import resolve_contexts

        data = resolve_contexts(data)
    return list(pyoxigraph.parse(data, format=OX_FORMATS[fmt]))


@pytest.fixture(scope="module")
def default_ds() -> dataset.LoadedDataset:
    return dataset.load()


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_every_format_gives_back_the_dataset(default_ds: dataset.LoadedDataset, fmt: str) -> None:
    expected = canonical(export.all_quads(default_ds))
    assert canonical(_read(export.export(default_ds, fmt), fmt)) == expected


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_every_format_is_deterministic_across_loads(fmt: str) -> None:
    # the mini fixture has a blank node: each load names it randomly
    first = export.export(dataset.load([MINI], include_ontology=False), fmt)
    second = export.export(dataset.load([MINI], include_ontology=False), fmt)
    assert first == second
    assert canonical(_read(first, fmt)) == canonical(
        export.all_quads(dataset.load([MINI], include_ontology=False))
    )


def test_turtle_is_in_house_style(default_ds: dataset.LoadedDataset) -> None:
    text = export.export(default_ds, "turtle").decode()
    prefixes = [line for line in text.splitlines() if line.startswith("@prefix")]
    names = [line.split()[1] for line in prefixes]
    assert names == sorted(names) and "cicaid:" in names and "org:" in names
    assert "\t" not in text and not any(line.endswith(" ") for line in text.splitlines())
    blocks = text.split("\n\n")[1:]
    assert blocks
    for block in blocks:
        lines = block.strip("\n").splitlines()
        assert lines[-1] == "."
        assert all(line.startswith("    ") for line in lines[1:-1])
        assert all(line.endswith((" ;", " ,")) or " , " in line for line in lines[1:-1])
    kaz = next(b for b in blocks if b.startswith("cicaid:kazakhstan\n"))
    assert kaz.splitlines()[1].startswith("    a ")
    assert "owl:sameAs wd:Q232" in kaz


def test_named_graphs_are_kept_by_quad_formats_and_merged_by_triple_formats() -> None:
    quads = list(pyoxigraph.parse(TRIG, format=pyoxigraph.RdfFormat.TRIG))
    for fmt in ("nquads", "trig", "jsonld"):
        assert canonical(_read(export.export(quads, fmt), fmt)) == canonical(quads), fmt
    union = {pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads}
    for fmt in ("turtle", "ntriples", "rdfxml"):
        assert canonical(_read(export.export(quads, fmt), fmt)) == canonical(union), fmt


def test_conversion_exports_only_the_given_files(tmp_path: Path) -> None:
    src = tmp_path / "in.trig"
    src.write_bytes(TRIG)
    out = tmp_path / "out.nq"
    result = CliRunner().invoke(app, ["export", "--data", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    back = list(pyoxigraph.parse(out.read_bytes(), format=pyoxigraph.RdfFormat.N_QUADS))
    assert canonical(back) == canonical(pyoxigraph.parse(TRIG, format=pyoxigraph.RdfFormat.TRIG))


def test_format_from_output_extension(tmp_path: Path) -> None:
    runner = CliRunner()
    for suffix, fmt in (
        ("ttl", "turtle"),
        ("nt", "ntriples"),
        ("rdf", "rdfxml"),
        ("jsonld", "jsonld"),
    ):
        out = tmp_path / f"mini.{suffix}"
        result = runner.invoke(app, ["export", "--data", str(MINI), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert canonical(_read(out.read_bytes(), fmt)) == canonical(
            export.all_quads(dataset.load([MINI], include_ontology=False))
        )


def test_stdout_default_is_compacted_jsonld() -> None:
    # with --data, compacted with the file's own prefixes (not the project context)
    result = CliRunner().invoke(app, ["export", "--data", str(MINI)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["@context"]["foaf"] == "http://xmlns.com/foaf/0.1/"
    # the project context when asked for
    result = CliRunner().invoke(app, ["export", "--data", str(MINI), "--context", "url"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["@context"] == "https://w3id.org/cica-ld/context.jsonld"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-f", "yaml"], "unknown export format"),
        (["-o", "{tmp}/out.csv"], "cannot tell the export format"),
        (["-f", "turtle", "--frame", "organisation"], "--frame"),
        (["--frame", "no-such-frame"], "unknown frame"),
        (["--id", "cicaid:cica"], "--id"),
        (["--context", "remote"], "context mode"),
        (["--data", "{tmp}/missing.ttl"], "no such file"),
    ],
)
def test_bad_options_are_exit_2(args: list[str], needle: str, tmp_path: Path) -> None:
    argv = ["export", *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    if "--data" not in argv:
        argv += ["--data", str(MINI)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_frame_from_file_and_bad_frame_json(tmp_path: Path) -> None:
    frame = tmp_path / "f.jsonld"
    frame.write_text(
        json.dumps({"@context": "https://w3id.org/cica-ld/context.jsonld", "type": "Source"})
    )
    runner = CliRunner()
    result = runner.invoke(app, ["export", "--data", str(MINI), "--frame", str(frame)])
    assert result.exit_code == 0, result.output
    ids = {n["id"] for n in json.loads(result.stdout)["@graph"]}
    assert ids and all(i.startswith("cicaid:source-") for i in ids)
    frame.write_text('{"type": ')
    result = runner.invoke(app, ["export", "--data", str(MINI), "--frame", str(frame)])
    assert result.exit_code == 2
    assert f"{frame}:1:" in result.stderr


def test_failed_export_leaves_the_old_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.ttl"
    out.write_text("old\n")
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://e/a> <http://e/p> .\n")
    result = CliRunner().invoke(app, ["export", "--data", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert f"{bad}:1:" in result.stderr
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.ttl", "out.ttl"]


def test_help_ends_with_an_example() -> None:
    result = CliRunner().invoke(app, ["export", "--help"])
    assert result.exit_code == 0
    assert "Example: cica-ld export" in result.stdout
