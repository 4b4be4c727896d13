"""JSON-LD contexts of the user's own: --context FILE|URL, --context-map URL=FILE, read offline.

The fixtures (tests/fixtures/user-context/) are schema.org-style, not CICA: ``people.jsonld``
names ``"@context": "https://schema.org/"``, ``schemaorg-context.jsonld`` is a small local copy of
a schema.org-like context (only the terms the fixture uses), ``people.ttl`` the same graph
written by hand. Nothing is ever fetched: every test runs with sockets refused.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from typer.testing import CliRunner

from cica_ld import dataset, export, graphstore, jsonld, validation
from cica_ld.cli import app
from cica_ld.errors import InputError, UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "user-context"
PEOPLE_JSONLD = FIXTURES / "people.jsonld"
PEOPLE_TTL = FIXTURES / "people.ttl"
CONTEXT_FILE = FIXTURES / "schemaorg-context.jsonld"
FRAME = FIXTURES / "person-frame.jsonld"
SHAPES = FIXTURES / "person-shapes.ttl"
SCHEMA_URL = "https://schema.org/"
MAP = f"{SCHEMA_URL}={CONTEXT_FILE}"
ADA = "https://example.org/people/ada"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test: nothing is ever fetched."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a socket connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def canonical(quads: Any) -> set[pyoxigraph.Quad]:
    """Quads as a set after RDFC-1.0 canonicalization, all in the default graph."""
    ds = pyoxigraph.Dataset(pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads)
    ds.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def expected_graph() -> set[pyoxigraph.Quad]:
    return canonical(pyoxigraph.parse(path=str(PEOPLE_TTL), format=pyoxigraph.RdfFormat.TURTLE))


def context_map() -> dict[str, Any]:
    return jsonld.load_context_map([MAP])


def read_back(doc: Any) -> set[pyoxigraph.Quad]:
    """A JSON-LD output read back to a graph, the remote context from the local copy."""
    return canonical(jsonld.to_quads(doc, documents=jsonld.served_documents(context_map())))


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


# ---------------------------------------------------------------------------------------------
# Reading: a remote @context served from its local copy
# ---------------------------------------------------------------------------------------------


def test_schemaorg_jsonld_reads_offline_through_the_context_map() -> None:
    ds = dataset.load([PEOPLE_JSONLD], include_ontology=False, context_map=context_map())
    assert canonical(ds.store) == expected_graph()
    result = cli("export", "--data", str(PEOPLE_JSONLD), "--context-map", MAP, "-f", "nquads")
    assert result.exit_code == 0, result.output
    got = pyoxigraph.parse(result.stdout_bytes, format=pyoxigraph.RdfFormat.N_QUADS)
    assert canonical(got) == expected_graph()


def test_an_unmapped_remote_context_is_refused_naming_it() -> None:
    with pytest.raises(InputError) as err:
        dataset.load([PEOPLE_JSONLD], include_ontology=False)
    assert SCHEMA_URL in str(err.value)
    # a map for another URL does not serve this one (exact URLs)
    other = f"https://schema.org={CONTEXT_FILE}"
    result = cli("query", "--data", str(PEOPLE_JSONLD), "--context-map", other, "ASK {}")
    assert result.exit_code == 2, result.output
    assert f"needs the remote @context {SCHEMA_URL}" in result.stderr
    assert "--context-map" in result.stderr
    assert "Traceback" not in result.output


def test_query_reads_jsonld_with_the_context_map() -> None:
    query = (
        "SELECT ?name WHERE { ?p a <http://schema.org/Person> ; <http://schema.org/name> ?name }"
    )
    argv = ["query", "--data", str(PEOPLE_JSONLD), "-f", "json", query]
    assert cli(*argv).exit_code == 2
    result = cli(*argv, "--context-map", MAP)
    assert result.exit_code == 0, result.output
    names = {b["name"]["value"] for b in json.loads(result.stdout)["results"]["bindings"]}
    assert names == {"Ada Lovelace", "Charles Babbage"}


def test_validate_reads_jsonld_with_the_context_map() -> None:
    argv = ["validate", "--data", str(PEOPLE_JSONLD), "--shapes", str(SHAPES), "--no-ontology"]
    refused = cli(*argv)
    assert refused.exit_code == 2, refused.output
    assert SCHEMA_URL in refused.stderr
    result = cli(*argv, "--context-map", MAP, "-f", "json")
    assert result.exit_code == 1, result.output  # Charles has no birth date: one violation
    report = json.loads(result.stdout)
    focus = [r["focusNode"] for r in report["results"]]
    assert focus == ["<https://example.org/people/charles>"]
    # the library: the data graph is the people graph
    rep = validation.validate(
        [PEOPLE_JSONLD], [SHAPES], [], fail_on="violation", context_map=context_map()
    )
    assert len(rep.findings) == 1
    graph = validation.load_graph([PEOPLE_JSONLD], context_map=context_map())
    assert canonical(graph.store) == expected_graph()


def test_serve_reads_jsonld_with_the_context_map() -> None:
    get = "/sparql?query=SELECT (COUNT(*) AS ?n) { ?s <http://schema.org/name> ?o }"
    argv = ["serve", "--data", str(PEOPLE_JSONLD), "--get", get, "--accept", "text/csv"]
    assert cli(*argv).exit_code == 2
    result = cli(*argv, "--context-map", MAP)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["n", "3"]


def test_publish_reads_jsonld_with_the_context_map(tmp_path: Path) -> None:
    argv = ["publish", "--data", str(PEOPLE_JSONLD), "--out", str(tmp_path / "site")]
    refused = cli(*argv)
    assert refused.exit_code == 2, refused.output
    assert SCHEMA_URL in refused.stderr
    result = cli(*argv, "--context-map", MAP)
    assert result.exit_code == 0, result.output
    dumps = sorted((tmp_path / "site").rglob("*.nt"))
    assert dumps, "no N-Triples dump written"
    published: set[pyoxigraph.Quad] = set()
    for f in dumps:
        published |= canonical(pyoxigraph.parse(path=str(f), format=pyoxigraph.RdfFormat.N_TRIPLES))
    names = {q.object.value for q in published if q.predicate.value == "http://schema.org/name"}
    assert names == {"Ada Lovelace", "Charles Babbage", "Analytical Engine Society"}


def test_load_reads_jsonld_with_the_context_map(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[bytes] = []

    class Response:
        status = 204

    def request(method: str, url: str, *, content: bytes, **kwargs: Any) -> Response:
        sent.append(content)  # one chunk per request (the people graph is one chunk)
        return Response()

    monkeypatch.setattr("cica_ld.endpoint.request", request)
    endpoint = "http://127.0.0.1:7878/store"
    refused = cli("load", "--endpoint", endpoint, "--data", str(PEOPLE_JSONLD))
    assert refused.exit_code == 2, refused.output
    assert SCHEMA_URL in refused.stderr
    assert sent == []  # refused before anything is sent
    result = cli("load", "--endpoint", endpoint, "--data", str(PEOPLE_JSONLD), "--context-map", MAP)
    assert result.exit_code == 0, result.output
    # the library, without the vocabulary: exactly the people graph is sent
    sent.clear()
    graphstore.upload(endpoint, [(PEOPLE_JSONLD, "jsonld")], context_map=context_map())
    got = pyoxigraph.parse(sent[0], format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert canonical(got) == expected_graph()


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("no-equals-sign", "expected URL=FILE"),
        (f"schema.org={CONTEXT_FILE}", "is not an absolute URL"),
        (f"{SCHEMA_URL}=", "expected URL=FILE"),
        (f"{SCHEMA_URL}={{tmp}}/missing.jsonld", "missing.jsonld: no such file"),
        (f"{SCHEMA_URL}={FIXTURES}/not-json.jsonld", "not-json.jsonld:1:48: JSON syntax error"),
        (f"{SCHEMA_URL}={PEOPLE_TTL}", "JSON syntax error"),
        (f"{SCHEMA_URL}={{tmp}}/list.json", "not a JSON-LD context document"),
    ],
)
def test_a_bad_context_map_is_exit_2_with_a_clear_message(
    tmp_path: Path, spec: str, needle: str
) -> None:
    (tmp_path / "list.json").write_text('["not", "a", "context"]')
    spec = spec.replace("{tmp}", str(tmp_path))
    for command in (["query", "ASK {}"], ["export"]):
        result = cli(*command, "--data", str(PEOPLE_TTL), "--context-map", spec)
        assert result.exit_code == 2, result.output
        assert needle in result.stderr
        assert result.stderr.startswith("cica-ld: error: ")
        assert "Traceback" not in result.output


def test_a_url_mapped_twice_is_a_usage_error(tmp_path: Path) -> None:
    copy = tmp_path / "copy.jsonld"
    copy.write_text(CONTEXT_FILE.read_text())
    with pytest.raises(UsageError, match="mapped twice"):
        jsonld.load_context_map([MAP, f"{SCHEMA_URL}={copy}"])
    # a URL with '=' in its query: split at the last '='
    cmap = jsonld.load_context_map([f"https://example.org/ctx?v=1={CONTEXT_FILE}"])
    assert list(cmap) == ["https://example.org/ctx?v=1"]


# ---------------------------------------------------------------------------------------------
# Writing: compaction and framing with the user's context
# ---------------------------------------------------------------------------------------------


def test_export_with_a_context_file_inlines_it() -> None:
    result = cli("export", "--data", str(PEOPLE_TTL), "--context", str(CONTEXT_FILE))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["@context"] == json.loads(CONTEXT_FILE.read_text())["@context"]
    ada = next(n for n in doc["@graph"] if n.get("id") == ADA)
    assert ada["name"] == "Ada Lovelace"  # the context's terms and aliases are used
    assert ada["type"] == "Person"
    assert ada["birthDate"] == "1815-12-10"  # typed by the term
    assert canonical(jsonld.to_quads(doc)) == expected_graph()


def test_export_with_a_context_url_references_it() -> None:
    argv = ["export", "--data", str(PEOPLE_TTL), "--context", SCHEMA_URL]
    result = cli(*argv, "--context-map", MAP)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["@context"] == SCHEMA_URL
    ada = next(n for n in doc["@graph"] if n.get("id") == ADA)
    assert ada["worksFor"] == "https://example.org/org/engine"
    assert read_back(doc) == expected_graph()
    # and a JSON-LD file that names the URL reads back through the same map
    assert canonical(dataset.parse_file(PEOPLE_JSONLD, context_map=context_map())) == read_back(doc)


def test_an_unmapped_context_url_for_export_is_refused() -> None:
    result = cli("export", "--data", str(PEOPLE_TTL), "--context", SCHEMA_URL)
    assert result.exit_code == 2, result.output
    assert SCHEMA_URL in result.stderr
    assert f"--context-map {SCHEMA_URL}=FILE" in result.stderr
    assert "Traceback" not in result.output


def test_a_user_context_needs_jsonld_output() -> None:
    argv = ["export", "--data", str(PEOPLE_TTL), "--context", str(CONTEXT_FILE), "-f", "turtle"]
    result = cli(*argv)
    assert result.exit_code == 2, result.output
    assert "applies to JSON-LD output" in result.stderr


def test_framed_with_a_context_url_and_one_id() -> None:
    argv = ["export", "--data", str(PEOPLE_JSONLD), "--context-map", MAP, "--frame", str(FRAME)]
    result = cli(*argv, "--context", SCHEMA_URL, "--id", ADA)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["@context"] == SCHEMA_URL
    assert doc["id"] == ADA
    assert doc["worksFor"]["name"] == "Analytical Engine Society"  # embedded by the frame
    assert doc["address"]["addressLocality"] == "London"
    # every triple of the data is reachable from Ada: the tree is the whole graph
    assert read_back(doc) == expected_graph()


def test_framed_with_a_context_file() -> None:
    argv = ["export", "--data", str(PEOPLE_JSONLD), "--context-map", MAP, "--frame", str(FRAME)]
    result = cli(*argv, "--context", str(CONTEXT_FILE))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["@context"] == json.loads(CONTEXT_FILE.read_text())["@context"]
    people = {n["id"]: n for n in doc["@graph"]}
    assert set(people) == {ADA, "https://example.org/people/charles"}  # the frame's @type
    for person in people.values():
        assert person["worksFor"]["type"] == "Organization"  # embedded (@always)
    assert read_back(doc) == expected_graph()


def test_frame_id_not_in_the_data_is_exit_2_naming_it() -> None:
    argv = ["export", "--data", str(PEOPLE_JSONLD), "--context-map", MAP, "--frame", str(FRAME)]
    missing = "https://example.org/people/nobody"
    result = cli(*argv, "--id", missing)
    assert result.exit_code == 2, result.output
    assert f"--id {missing} is not a subject in the data" in result.stderr
    assert result.stdout == ""
    # a compact IRI is named as given and expanded (by the frame's context)
    result = cli(*argv, "--id", "schema:Nobody")
    assert result.exit_code == 2, result.output
    assert "--id schema:Nobody (http://schema.org/Nobody) is not a subject" in result.stderr
    # an IRI that is only an object (never described) is not a subject either
    result = cli(*argv, "--id", "https://www.wikidata.org/wiki/Q7259")
    assert result.exit_code == 2, result.output
    # a subject of the data is framed
    assert cli(*argv, "--id", ADA).exit_code == 0


# ---------------------------------------------------------------------------------------------
# The default with --data: the input's own prefixes, never the CICA context
# ---------------------------------------------------------------------------------------------


def test_export_of_data_defaults_to_the_input_prefixes() -> None:
    result = cli("export", "--data", str(PEOPLE_TTL))
    assert result.exit_code == 0, result.output
    assert "cica" not in result.stdout
    doc = json.loads(result.stdout)
    assert doc["@context"] == {
        "ex": "https://example.org/people/",
        "exorg": "https://example.org/org/",
        "schema": "http://schema.org/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
    ids = {n["@id"] for n in doc["@graph"]}
    assert {"ex:ada", "ex:charles", "exorg:engine"} <= ids
    assert canonical(jsonld.to_quads(doc)) == expected_graph()


def test_the_prefix_context_is_exact_and_deterministic(tmp_path: Path) -> None:
    a = tmp_path / "a.ttl"
    a.write_text(
        "@prefix : <http://a.example/> .\n"  # empty prefix: no JSON-LD term
        "@prefix dc: <http://purl.org/dc/terms/> .\n"
        "@prefix x: <http://x.example/ns_> .\n"  # no gen-delim at the end: no JSON-LD prefix
        ":s dc:title x:o .\n"
    )
    b = tmp_path / "b.ttl"
    b.write_text(
        "@prefix dc: <http://purl.org/dc/elements/1.1/> .\n"  # a name taken by a.ttl
        "@prefix dct: <http://purl.org/dc/terms/> .\n"  # a namespace taken by a.ttl
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<http://a.example/t> dc:creator skos:Concept .\n"
    )
    expected = {"dc": "http://purl.org/dc/terms/", "skos": "http://www.w3.org/2004/02/skos/core#"}
    ds = dataset.load([a, b], include_ontology=False)
    assert export.source_prefixes(ds.sources) == expected
    # the files in the other order: the first declaration still wins
    ds_ba = dataset.load([b, a], include_ontology=False)
    assert export.source_prefixes(ds_ba.sources) == {
        "dc": "http://purl.org/dc/elements/1.1/",
        "dct": "http://purl.org/dc/terms/",
        "skos": "http://www.w3.org/2004/02/skos/core#",
    }
    doc = json.loads(export.export(ds, "jsonld", context=None))
    assert doc["@context"] == expected
    assert canonical(jsonld.to_quads(doc)) == canonical(ds.store)
    assert export.export(ds, "jsonld", context=None) == export.export(
        dataset.load([a, b], include_ontology=False), "jsonld", context=None
    )


def test_no_prefixes_means_no_context_and_full_iris(tmp_path: Path) -> None:
    nt = tmp_path / "people.nt"
    graph = pyoxigraph.parse(path=str(PEOPLE_TTL), format=pyoxigraph.RdfFormat.TURTLE)
    nt.write_bytes(pyoxigraph.serialize(graph, format=pyoxigraph.RdfFormat.N_TRIPLES))
    result = cli("export", "--data", str(nt))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert "@context" not in doc
    assert ADA in {n["@id"] for n in doc["@graph"]}
    assert canonical(jsonld.to_quads(doc)) == expected_graph()


# ---------------------------------------------------------------------------------------------
# Streaming with a user context
# ---------------------------------------------------------------------------------------------


def _no_in_memory(*args: Any, **kwargs: Any) -> bytes:
    raise AssertionError("export_chunks fell back to the in-memory export")


@pytest.mark.parametrize("context", [SCHEMA_URL, str(CONTEXT_FILE), None])
def test_a_simple_user_context_streams_the_bytes_of_the_in_memory_export(
    monkeypatch: pytest.MonkeyPatch, context: str | None
) -> None:
    cmap = context_map()
    ds = dataset.load([PEOPLE_TTL], include_ontology=False)
    expected = export.export(ds, "jsonld", context=context, context_map=cmap)
    with monkeypatch.context() as m:
        m.setattr(export, "export", _no_in_memory)
        m.setattr(export, "CHUNK_CHARS", 64)
        chunks = list(export.export_chunks(ds, "jsonld", context=context, context_map=cmap))
    assert len(chunks) > 1
    assert b"".join(chunks) == expected
    # the fast compactor gives what the JSON-LD compaction algorithm (PyLD) gives
    out = jsonld.output_context(context, cmap) if context else None
    if out is not None:
        slow = jsonld.compact(export.all_quads(ds), context=out, engine="pyld")
        assert json.loads(expected) == jsonld.canonical_order(slow, documents=out.documents)


def test_a_user_context_the_streaming_writer_cannot_handle_is_exported_in_memory(
    tmp_path: Path,
) -> None:
    ctx = json.loads(CONTEXT_FILE.read_text())
    # a scoped context: not what the streaming compactor handles
    ctx["@context"]["knows"] = {"@id": "schema:knows", "@type": "@id", "@context": {}}
    path = tmp_path / "with-scoped-context.jsonld"
    path.write_text(json.dumps(ctx))
    out = jsonld.output_context(str(path))
    with pytest.raises(ValueError):
        jsonld.CompactNodeWriter(out)
    ds = dataset.load([PEOPLE_TTL], include_ontology=False)
    data = b"".join(export.export_chunks(ds, "jsonld", context=str(path)))
    doc = json.loads(data)
    ada = next(n for n in doc["@graph"] if n.get("id") == ADA)
    assert ada["knows"] == "https://example.org/people/charles"
    assert canonical(jsonld.to_quads(doc)) == expected_graph()


def test_a_user_context_with_set_containers_is_streamed_as_in_memory(tmp_path: Path) -> None:
    ctx = json.loads(CONTEXT_FILE.read_text())
    ctx["@context"]["knows"] = {"@id": "schema:knows", "@type": "@id", "@container": "@set"}
    path = tmp_path / "with-container.jsonld"
    path.write_text(json.dumps(ctx))
    jsonld.CompactNodeWriter(jsonld.output_context(str(path)))  # streams: no ValueError
    ds = dataset.load([PEOPLE_TTL], include_ontology=False)
    data = b"".join(export.export_chunks(ds, "jsonld", context=str(path)))
    assert data == export.export(ds, "jsonld", context=str(path))
    doc = json.loads(data)
    ada = next(n for n in doc["@graph"] if n.get("id") == ADA)
    assert ada["knows"] == ["https://example.org/people/charles"]  # the @set container
    assert canonical(jsonld.to_quads(doc)) == expected_graph()


def test_a_mapped_context_may_name_another_mapped_context(tmp_path: Path) -> None:
    outer = tmp_path / "outer.jsonld"
    outer.write_text(json.dumps({"@context": [SCHEMA_URL, {"ex": "https://example.org/people/"}]}))
    doc = tmp_path / "doc.jsonld"
    doc.write_text(json.dumps({"@context": "https://example.org/ctx", "id": "ex:ada", "name": "A"}))
    specs = [MAP, f"https://example.org/ctx={outer}"]
    quads = dataset.parse_file(doc, context_map=jsonld.load_context_map(specs))
    assert [(q.subject.value, q.predicate.value, q.object.value) for q in quads] == [
        (ADA, "http://schema.org/name", "A")
    ]
    # the inner URL not mapped: refused, naming it
    with pytest.raises(InputError, match=f"needs the remote @context {SCHEMA_URL}"):
        dataset.parse_file(doc, context_map=jsonld.load_context_map(specs[1:]))
