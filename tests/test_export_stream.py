"""Streamed export: `export_chunks` gives exactly the bytes of the in-memory `export`.

- Compacted JSON-LD (both --context modes), N-Triples and N-Quads of a default graph are
  streamed subject by subject; the bytes equal `export.export` (the in-memory reference) for
  the embedded dataset, the publish fixture (a blank node), generated benchmark data and
  random graphs (blank nodes, languages, datatypes, odd strings). The streamed runs have
  `export.export` replaced by a function that fails, so they cannot quietly fall back.
- The blank-node claim it rests on: canonicalizing (RDFC-1.0) only the quads that mention a
  blank node gives the labels canonicalizing the whole graph gives.
- What is not streamed (named graphs, a frame, a list of quads, triple terms, directional
  literals, two subjects with one compacted @id, a context the fast compactor cannot handle)
  still gives the in-memory bytes or error.
- The streaming atomic writer: an error or an interrupt mid-stream leaves no temporary file
  and the old target untouched; the CLI writes through it and to stdout chunk by chunk.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from _publish_support import MINI
from conftest import ROOT, Recorder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cica_ld import dataset, export, io, jsonld
from cica_ld.cli import app
from cica_ld.errors import InputError

STREAMED = [("jsonld", "url"), ("jsonld", "inline"), ("ntriples", "url"), ("nquads", "url")]
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
EX = "http://example.org/"
ID = "https://w3id.org/cica-ld/id/"
CICA = "https://w3id.org/cica-ld/ontology#"


def _load_generator() -> Any:
    name = "cica_bench_generate"  # the name tests/test_generator.py loads it under
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _no_in_memory(*args: Any, **kwargs: Any) -> bytes:
    raise AssertionError("export_chunks fell back to the in-memory export")


def _streamed(monkeypatch: pytest.MonkeyPatch, data: Any, fmt: str, context: str) -> bytes:
    """The bytes of export_chunks, with the in-memory path made to fail."""
    with monkeypatch.context() as m:
        m.setattr(export, "export", _no_in_memory)
        return b"".join(export.export_chunks(data, fmt, context=context))


def _fallback(monkeypatch: pytest.MonkeyPatch, data: Any, fmt: str, **kw: Any) -> bytes:
    """The bytes of export_chunks, asserting it used the in-memory export."""
    calls = []
    real = export.export

    def spy(*args: Any, **kwargs: Any) -> bytes:
        calls.append(args)
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(export, "export", spy)
        out = b"".join(export.export_chunks(data, fmt, **kw))
    assert len(calls) == 1, "expected the in-memory export"
    return out


def _store(quads: list[ox.Quad]) -> ox.Store:
    store = ox.Store()
    store.extend(quads)
    return store


# ---------------------------------------------------------------------------------------------
# Streamed bytes == in-memory bytes
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_ds() -> dataset.LoadedDataset:
    return dataset.load()


@pytest.mark.parametrize(("fmt", "context"), STREAMED)
def test_embedded_dataset_streams_the_in_memory_bytes(
    default_ds: dataset.LoadedDataset, fmt: str, context: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = export.export(default_ds, fmt, context=context)
    assert _streamed(monkeypatch, default_ds, fmt, context) == expected


@pytest.mark.parametrize(("fmt", "context"), STREAMED)
def test_blank_node_fixture_streams_the_in_memory_bytes(
    fmt: str, context: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = dataset.load([MINI], include_ontology=False)
    assert any(isinstance(q.subject, ox.BlankNode) for q in ds.store)
    expected = export.export(ds, fmt, context=context)
    assert b"_:c14n0" in expected
    assert _streamed(monkeypatch, ds, fmt, context) == expected


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_data_streams_the_in_memory_bytes(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = _load_generator()
    path = tmp_path / "gen.ttl"
    gen.write(path, 4_000, seed=seed, defect_rate=0.01)
    ds = dataset.load([path], include_ontology=False)
    for fmt, context in STREAMED:
        expected = export.export(ds, fmt, context=context)
        chunks = []
        with monkeypatch.context() as m:
            m.setattr(export, "export", _no_in_memory)
            m.setattr(export, "CHUNK_CHARS", 4096)  # many chunks, so the joins are exercised
            m.setattr(export, "_BATCH_TRIPLES", 100)
            chunks = list(export.export_chunks(ds, fmt, context=context))
        assert len(chunks) > 10, fmt
        assert b"".join(chunks) == expected, (fmt, context)


# Random graphs: terms from small pools so subjects share objects and blank nodes connect.
_IRIS = [
    ID + "a",
    ID + "b",
    ID + "zz",
    CICA + "State",
    EX + "s",
    EX + "é",
    "urn:x:1",
    "https://w3id.org/cica-ld/id/",  # the namespace itself: not compacted to "cicaid:"
]
_PREDICATES = [
    RDF + "type",
    "http://www.w3.org/2000/01/rdf-schema#label",  # "label", default language en
    CICA + "about",  # @type @id
    CICA + "address",  # @language null
    "http://purl.org/dc/terms/created",  # @type xsd:date
    "http://www.w3.org/2004/02/skos/core#altLabel",
    EX + "p",  # no term, no prefix
    "http://www.w3.org/ns/org#member",
]
_BLANKS = ["b0", "b1", "b2", "b3"]
_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1F600), max_size=6
)
_literals = st.one_of(
    st.builds(ox.Literal, _texts),
    st.builds(
        lambda v, lang: ox.Literal(v, language=lang),
        _texts,
        st.sampled_from(["en", "EN-GB", "kk", "ru-cyrl"]),
    ),
    st.builds(
        lambda v, dt: ox.Literal(v, datatype=ox.NamedNode(dt)),
        _texts,
        st.sampled_from([XSD + "date", XSD + "integer", XSD + "string", EX + "dt"]),
    ),
)
_iris = st.sampled_from(_IRIS).map(ox.NamedNode)
_blanks = st.sampled_from(_BLANKS).map(ox.BlankNode)
_subjects = st.one_of(_iris, _blanks)
_objects = st.one_of(_iris, _blanks, _literals)
_quads = st.lists(
    st.builds(
        lambda s, p, o: ox.Quad(s, ox.NamedNode(p), o),
        _subjects,
        st.sampled_from(_PREDICATES),
        _objects,
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quads=_quads)
def test_random_graphs_stream_the_in_memory_bytes(quads: list[ox.Quad]) -> None:
    store = _store(quads)
    for fmt, context in STREAMED:
        expected = export.export(store, fmt, context=context)
        real = export.export
        export.export = _no_in_memory  # hypothesis tests cannot use the monkeypatch fixture
        try:
            got = b"".join(export.export_chunks(store, fmt, context=context))
        finally:
            export.export = real
        assert got == expected, (fmt, context)


def test_stream_order_is_by_compacted_id_not_by_iri(monkeypatch: pytest.MonkeyPatch) -> None:
    # <https://w3id.org/cica-ld/id/b> compacts to "cicaid:b", which sorts after
    # <http://example.org/z> ("http://..."): the order of the compacted @graph
    p = ox.NamedNode(EX + "p")
    quads = [
        ox.Quad(ox.NamedNode(ID + "b"), p, ox.Literal("1")),
        ox.Quad(ox.NamedNode(EX + "z"), p, ox.Literal("2")),
        ox.Quad(ox.BlankNode("x"), p, ox.Literal("3")),
    ]
    store = _store(quads)
    doc = json.loads(_streamed(monkeypatch, store, "jsonld", "url"))
    assert [n["id"] for n in doc["@graph"]] == ["_:c14n0", "cicaid:b", "http://example.org/z"]
    assert _streamed(monkeypatch, store, "jsonld", "url") == export.export(store, "jsonld")


# ---------------------------------------------------------------------------------------------
# The claim: canonicalizing only the quads with a blank node gives the full graph's labels
# ---------------------------------------------------------------------------------------------


def _has_blank(q: ox.Quad) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)


def _canonical(quads: list[ox.Quad]) -> set[ox.Quad]:
    ds = ox.Dataset(quads)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def _check_subset_claim(quads: list[ox.Quad]) -> None:
    full = _canonical(quads)
    subset = _canonical([q for q in quads if _has_blank(q)])
    assert {q for q in full if _has_blank(q)} == subset
    assert {q for q in full if not _has_blank(q)} == {q for q in quads if not _has_blank(q)}


@settings(max_examples=200, deadline=None)
@given(quads=_quads)
def test_subset_canonicalization_gives_the_full_labels(quads: list[ox.Quad]) -> None:
    _check_subset_claim(quads)


def test_subset_canonicalization_on_symmetric_blank_nodes() -> None:
    # the hard cases of RDFC-1.0: indistinguishable blank nodes (a cycle, two identical
    # stars), told apart only by the IRI quads around them, which the subset does not have
    p, q = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")
    b = [ox.BlankNode(f"n{i}") for i in range(6)]
    a = ox.NamedNode(EX + "a")
    cycle = [ox.Quad(b[i], p, b[(i + 1) % 3]) for i in range(3)]
    stars = [ox.Quad(b[3], p, a), ox.Quad(b[4], p, a), ox.Quad(a, q, b[5])]
    iri_only = [ox.Quad(a, p, ox.Literal("x")), ox.Quad(a, q, ox.NamedNode(EX + "c"))]
    for quads in (cycle, stars, cycle + stars + iri_only, [*cycle, ox.Quad(a, q, b[0])]):
        _check_subset_claim(quads)
        full = _canonical(quads)
        labels = {
            t.value for q in full for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)
        }
        assert labels and all(v.startswith("c14n") for v in labels)


# ---------------------------------------------------------------------------------------------
# What is not streamed still gives the in-memory result
# ---------------------------------------------------------------------------------------------

TRIG = (
    b"@prefix ex: <http://example.org/> .\n"
    b"ex:a ex:p ex:b . _:d ex:p ex:a .\n"
    b'ex:g1 { ex:a ex:p "one"@en . _:x ex:q ex:a . }\n'
)


@pytest.mark.parametrize("fmt", ["jsonld", "ntriples", "nquads", "turtle"])
def test_named_graphs_fall_back(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ox.Store()
    store.load(TRIG, format=ox.RdfFormat.TRIG)
    expected = export.export(store, fmt)
    assert _fallback(monkeypatch, store, fmt) == expected


def test_frame_and_quad_lists_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = dataset.load([MINI], include_ontology=False)
    expected = export.export(ds, "jsonld", frame="organisation", context="inline")
    assert _fallback(monkeypatch, ds, "jsonld", frame="organisation", context="inline") == expected
    quads = export.all_quads(ds)
    assert _fallback(monkeypatch, quads, "jsonld") == export.export(quads, "jsonld")


def test_two_subjects_with_one_compacted_id_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # the IRI <cicaid:x> (scheme "cicaid") and <https://w3id.org/cica-ld/id/x> both write "id":
    # "cicaid:x"; canonical_order then orders them by their whole JSON
    p = ox.NamedNode(EX + "p")
    store = _store(
        [
            ox.Quad(ox.NamedNode("cicaid:x"), p, ox.Literal("2")),
            ox.Quad(ox.NamedNode(ID + "x"), p, ox.Literal("1")),
        ]
    )
    assert _fallback(monkeypatch, store, "jsonld") == export.export(store, "jsonld")


def test_triple_terms_and_directional_literals_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    a, p, b = ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "b")
    triple_term = _store([ox.Quad(a, p, ox.Triple(a, p, b)), ox.Quad(b, p, a)])
    directional = _store(
        [ox.Quad(a, p, ox.Literal("x", language="en", direction=ox.BaseDirection.RTL))]
    )
    for store in (triple_term, directional):
        # N-Triples can write both: the same bytes as in memory
        assert _fallback(monkeypatch, store, "ntriples") == export.export(store, "ntriples")
        # JSON-LD cannot: the same error as in memory, before any chunk
        with pytest.raises(InputError) as expected:
            export.export(store, "jsonld")
        with pytest.raises(InputError) as got:
            _fallback(monkeypatch, store, "jsonld")
        assert got.value.detail == expected.value.detail


def test_a_context_the_fast_compactor_cannot_handle_falls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a language container makes the context "not simple": compaction needs PyLD
    ctx = jsonld.load_context()["@context"]
    ctx["altLabel"] = {"@id": "skos:altLabel", "@container": "@language"}
    monkeypatch.setattr(jsonld, "_context_ref", lambda context: {"@context": ctx})
    with pytest.raises(ValueError):
        jsonld.CompactNodeWriter("inline")
    ds = dataset.load([MINI], include_ontology=False)
    expected = export.export(ds, "jsonld", context="inline")
    assert _fallback(monkeypatch, ds, "jsonld", context="inline") == expected


def test_empty_graph_and_bad_context_mode() -> None:
    empty = ox.Store()
    for fmt in ("jsonld", "ntriples"):
        assert b"".join(export.export_chunks(empty, fmt)) == export.export(empty, fmt)
    for fmt in ("jsonld", "ntriples"):
        with pytest.raises(InputError, match="context mode"):
            export.export_chunks(dataset.load([MINI], include_ontology=False), fmt, context="x")


# ---------------------------------------------------------------------------------------------
# The streaming atomic writer
# ---------------------------------------------------------------------------------------------


def _failing_chunks(exc: BaseException) -> Iterator[bytes]:
    yield b"new content, part 1\n"
    yield b"new content, part 2\n"
    raise exc


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt(), OSError(5, "mine")])
def test_error_mid_stream_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, exc: BaseException
) -> None:
    target = tmp_path / "out.jsonld"
    target.write_bytes(b"old\n")
    with pytest.raises(type(exc)) as raised:
        io.atomic_write_chunks(target, _failing_chunks(exc))
    assert raised.value is exc  # passed on unchanged (an OSError of the producer is not ours)
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonld"]


def test_streamed_write_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o640)
    n = io.atomic_write_chunks(target, iter([b"a", b"", b"bc\n"]))
    assert n == 4
    assert target.read_bytes() == b"abc\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nt"]


def test_streamed_write_errors_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder does not exist"):
        io.atomic_write_chunks(tmp_path / "missing" / "out.nt", iter([b"x"]))
    with pytest.raises(InputError, match="is a folder"):
        io.atomic_write_chunks(tmp_path, iter([b"x"]))
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_still_writes_text_and_bytes(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    io.atomic_write(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    io.atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------


def test_cli_streams_to_a_file_and_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = dataset.load([MINI], include_ontology=False)
    # with --data and no --context: the prefixes of the file (export(context=None))
    expected = {fmt: export.export(ds, fmt, context=None) for fmt in ("jsonld", "ntriples")}
    runner = CliRunner()
    with monkeypatch.context() as m:
        m.setattr(export, "export", _no_in_memory)
        m.setattr(export, "CHUNK_CHARS", 64)
        for fmt, suffix in (("jsonld", "jsonld"), ("ntriples", "nt")):
            out = tmp_path / f"out.{suffix}"
            result = runner.invoke(app, ["export", "--data", str(MINI), "-o", str(out)])
            assert result.exit_code == 0, result.output
            assert out.read_bytes() == expected[fmt]
            assert result.stderr == ""  # a fast run prints no progress
            result = runner.invoke(app, ["export", "--data", str(MINI), "-f", fmt])
            assert result.exit_code == 0, result.output
            assert result.stdout_bytes == expected[fmt]


def test_cli_error_mid_stream_keeps_the_old_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonld"
    out.write_text("old\n")
    real = export.export_chunks

    def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        chunks = real(*args, **kwargs)
        yield next(chunks)
        raise InputError("cannot go on")

    monkeypatch.setattr(export, "export_chunks", broken)
    monkeypatch.setattr(export, "CHUNK_CHARS", 64)
    result = CliRunner().invoke(app, ["export", "--data", str(MINI), "-o", str(out)])
    assert result.exit_code == 2
    assert "cannot go on" in result.stderr
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonld"]


@pytest.mark.parametrize("fmt", ["jsonld", "ntriples"])
def test_streaming_counts_every_subject_it_writes(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = dataset.load([MINI], include_ontology=False)
    subjects = {str(q.subject) for q in ds.store}
    monkeypatch.setattr(export, "_PROGRESS_EVERY", 2)  # counted in steps and in a remainder
    rec = Recorder()
    b"".join(export.export_chunks(ds, fmt, progress=rec))
    writing = rec.stages[-1]
    assert writing[0].startswith("writing ")
    assert writing[1] == writing[2] == len(subjects)


def test_in_memory_export_says_so() -> None:
    ds = dataset.load([MINI], include_ontology=False)
    rec = Recorder()
    b"".join(export.export_chunks(ds, "turtle", progress=rec))
    assert [s[0] for s in rec.stages] == ["exporting turtle in memory"]
