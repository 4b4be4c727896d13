"""The published JSON-LD, as a web developer meets it: every document and dump stands alone
(its context inlined, nothing to fetch: `oxigraph load`, rdflib, PyLD and jsonld.js read it
offline), references are framed with their label, a key is always an array or never, and
the same holds for a site of the user's data (with nothing of CICA's in it)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from _publish_support import JS_DIR, canonical, json_nodes, node_and_jsonld_js, read_with_pyld
from conftest import oxigraph_binary
from typer.testing import CliRunner

from cica_ld import dataset, jsonld
from cica_ld.cli import app

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PEOPLE = FIXTURES / "user-data" / "people.ttl"
ID = "https://w3id.org/cica-ld/id/"
LABELS = jsonld.LABEL_PROPERTIES


def _publish(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(app, ["publish", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _publish(tmp_path_factory.mktemp("jsonld-docs") / "site")


@pytest.fixture(scope="module")
def user_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _publish(tmp_path_factory.mktemp("jsonld-user") / "site", "--data", str(PEOPLE))


def _turtle(path: Path) -> set[Any]:
    return canonical(pyoxigraph.parse(path.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE))


def _contexts(value: Any) -> list[Any]:
    return [n["@context"] for n in json_nodes(value) if "@context" in n]


def _sample(site: Path) -> list[Path]:
    """Resource documents of every kind, the vocabulary, the shapes and the dataset."""
    names = ["id/kazakhstan", "id/cica", "ontology", "shapes", "dataset"]
    return [site / f"{n}.jsonld" for n in names] + sorted(site.glob("id/*.jsonld"))[::25]


# ---------------------------------------------------------------------------------------------
# Offline: an inline context, read by every loader with nothing to fetch
# ---------------------------------------------------------------------------------------------


def test_every_published_jsonld_inlines_its_context(site: Path) -> None:
    full = jsonld.load_context()["@context"]
    files = [p for p in site.rglob("*.jsonld") if p.name != "context.jsonld"]
    assert len(files) > 600
    for path in files:
        doc = json.loads(path.read_bytes())
        ctxs = _contexts(doc)
        assert ctxs and all(isinstance(c, dict) for c in ctxs), path  # no URL to fetch
        # the document's context is the project context's terms, unchanged
        assert all(full[k] == v for k, v in doc["@context"].items()), path
    dump = json.loads((site / "dumps" / "cica-ld.jsonld").read_bytes())
    assert dump["@context"] == full


def _oxigraph_load(binary: str, location: Path, path: Path) -> set[Any]:
    """What `oxigraph load` stores from ``path`` (read back with `oxigraph dump`)."""
    proc = subprocess.run(
        [binary, "load", "--location", str(location), "--file", str(path)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()[:500]
    dumped = subprocess.run(
        [binary, "dump", "--location", str(location), "--format", "nq"],
        capture_output=True,
        timeout=300,
        check=True,
    ).stdout
    return canonical(pyoxigraph.parse(dumped, format=pyoxigraph.RdfFormat.N_QUADS))


def test_oxigraph_load_reads_documents_and_dump_offline(site: Path, tmp_path: Path) -> None:
    """`oxigraph load` (which never loads a remote context) reads each JSON-LD document to
    what it stores from the Turtle document (its store writes xsd:nonNegativeInteger as
    xsd:integer, whatever the format, so the comparison is store to store)."""
    binary = oxigraph_binary()
    docs = [*_sample(site)[:5], site / "dumps" / "cica-ld.jsonld"]
    for i, path in enumerate(docs):
        got = _oxigraph_load(binary, tmp_path / f"jsonld-{i}", path)
        expected = _oxigraph_load(binary, tmp_path / f"turtle-{i}", path.with_suffix(".ttl"))
        assert got == expected, path


def test_rdflib_and_pyld_read_documents_with_the_network_refused(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rdflib

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for path in _sample(site):
        expected = _turtle(path.with_suffix(".ttl"))
        g = rdflib.Dataset()
        g.parse(data=path.read_text(encoding="utf-8"), format="json-ld")
        nt = g.serialize(format="nquads").encode("utf-8")
        assert canonical(pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_QUADS)) == expected
        # PyLD with a loader that serves nothing at all
        assert canonical(jsonld.to_quads(path.read_bytes(), documents={})) == expected, path


def _jsonld_js(path: Path) -> set[Any]:
    """jsonld.js with no document served: any remote context would fail the read."""
    node = node_and_jsonld_js()
    proc = subprocess.run(
        [node, str(JS_DIR / "to-nquads.js"), str(path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return canonical(pyoxigraph.parse(proc.stdout, format=pyoxigraph.RdfFormat.N_QUADS))


def test_jsonld_js_reads_documents_and_dump_with_nothing_served(site: Path) -> None:
    for path in [*_sample(site)[:6], site / "dumps" / "cica-ld.jsonld"]:
        assert _jsonld_js(path) == _turtle(path.with_suffix(".ttl")), path


# ---------------------------------------------------------------------------------------------
# Shapes: references framed with their label, sets, dates
# ---------------------------------------------------------------------------------------------


def test_references_are_framed_with_their_label(site: Path) -> None:
    store = dataset.load().store
    doc = json.loads((site / "id" / "kazakhstan.jsonld").read_bytes())
    (node,) = [n for n in doc["@graph"] if n["id"] == "cicaid:kazakhstan"]
    sources = node["wasDerivedFrom"]
    assert isinstance(sources, list) and len(sources) >= 2
    for ref in sources:
        assert set(ref) == {"id", "label"}, ref
        iri = pyoxigraph.NamedNode(ID + ref["id"].removeprefix("cicaid:"))
        label = pyoxigraph.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
        assert ref["label"] in {q.object.value for q in store.quads_for_pattern(iri, label, None)}
    # no label-only node is left at the top level: it is embedded where it is referred to; the
    # other top-level nodes are the resources that link to Kazakhstan (its incoming links)
    linkers = {
        "cicaid:" + q.subject.value.removeprefix(ID)
        for q in store.quads_for_pattern(None, None, pyoxigraph.NamedNode(ID + "kazakhstan"))
        if isinstance(q.subject, pyoxigraph.NamedNode) and q.subject.value.startswith(ID)
    }
    others = [n["id"] for n in doc["@graph"] if n["id"] != "cicaid:kazakhstan"]
    assert len(others) == len(set(others))
    assert set(others) == linkers


def test_a_key_is_always_an_array_or_never_across_documents(site: Path) -> None:
    full = jsonld.load_context()["@context"]
    sets = {t for t, d in full.items() if isinstance(d, dict) and d.get("@container") == "@set"}
    assert "wasDerivedFrom" in sets
    seen: dict[str, set[bool]] = {}
    for path in sorted(site.glob("id/*.jsonld")):
        for node in json_nodes(json.loads(path.read_bytes())["@graph"]):
            if "@value" in node:
                continue
            for key, value in node.items():
                seen.setdefault(key, set()).add(isinstance(value, list))
    # "type" (a plain @type alias, see the README) is the one exception
    mixed = sorted(k for k, kinds in seen.items() if len(kinds) > 1)
    assert mixed == ["type"]
    assert all(seen[k] == {True} for k in sets if k in seen)


def test_dates_in_documents_keep_their_precision_in_one_shape(site: Path) -> None:
    kinds = set()
    for path in sorted(site.glob("id/*.jsonld")):
        for node in json_nodes(json.loads(path.read_bytes())["@graph"]):
            for key in ("inXSDDate", "inXSDgYearMonth", "inXSDgYear", "asOf", "date"):
                if key in node:
                    value = node[key]
                    assert isinstance(value, dict) and set(value) == {"@value", "type"}, path
                    kinds.add((key, value["type"]))
    assert {t for _, t in kinds} == {"xsd:date", "xsd:gYearMonth", "xsd:gYear"}
    assert ("inXSDgYear", "xsd:gYear") in kinds


def test_pruned_context_reads_back_like_the_full_one(site: Path) -> None:
    """A document read with its own (pruned) context and with the whole project context
    gives the same graph: the pruning left out nothing the document needed."""
    full = jsonld.load_context()["@context"]
    for path in _sample(site):
        doc = json.loads(path.read_bytes())
        whole = dict(doc, **{"@context": full})
        assert canonical(read_with_pyld(doc)) == canonical(read_with_pyld(whole)), path


# ---------------------------------------------------------------------------------------------
# A site of the user's data: the same shapes, nothing of CICA's
# ---------------------------------------------------------------------------------------------


def test_user_data_documents_stand_alone_with_nothing_of_cica(user_site: Path) -> None:
    files = sorted(user_site.rglob("*.jsonld"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "w3id.org/cica-ld" not in text and "cica" not in text.lower(), path
        doc = json.loads(text)
        assert all(isinstance(c, dict) for c in _contexts(doc)), path
        assert canonical(jsonld.to_quads(text, documents={})) == _turtle(path.with_suffix(".ttl"))
        # no term can be declared a set in a context of prefixes: every property value is
        # an array (@type too has one shape per number of types, as with the CICA context)
        for node in json_nodes(doc.get("@graph", [])):
            if "@value" in node:
                continue
            for key, value in node.items():
                if key not in ("@id", "@type", "@context"):
                    assert isinstance(value, list), (path, key)


def test_user_data_references_are_framed_with_their_label(user_site: Path) -> None:
    docs = list(user_site.rglob("alice.jsonld"))
    assert len(docs) == 1
    doc = json.loads(docs[0].read_bytes())
    (alice,) = [n for n in doc["@graph"] if n["@id"].endswith("alice")]
    (bob,) = alice["foaf:knows"]
    assert bob["@id"].endswith("people/bob")
    assert {v["@value"] for v in bob["foaf:name"]} == {"Bob Example", "Bob Exemple"}
    (topic,) = alice["foaf:topic_interest"]
    assert topic["skos:prefLabel"] == [{"@value": "Linked data", "@language": "en"}]
