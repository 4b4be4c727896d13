"""`cica-ld serve`: the SPARQL 1.1 Protocol endpoint and the linked-data resources.

The app runs in-process through httpx's ASGI transport (with its lifespan, so the query
worker processes really start); one test starts the real `cica-ld serve` on a loopback port.
Every response body is read by a real parser: json, xml.etree, csv, pyoxigraph.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from cica_ld import server
from cica_ld.cli import app as cli_app

BASE = "https://w3id.org/cica-ld/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS = "http://purl.org/dc/terms/"
ID = BASE + "id/"
ONTO = BASE + "ontology"
EX = "http://example.org/"
SR = "{http://www.w3.org/2005/sparql-results#}"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
GRAPH = ox.NamedNode(EX + "graph")


def nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def build_store(filler: int = 0) -> ox.Store:
    """A small store with every kind of term the serializers must get right."""
    s = ox.Store()
    alpha, beta = nn(ID + "alpha"), nn(ID + "beta")
    label = nn("http://www.w3.org/2000/01/rdf-schema#label")
    b = ox.BlankNode("addr")
    quads = [
        ox.Quad(alpha, nn(RDF_TYPE), nn(ONTO + "#State")),
        ox.Quad(alpha, label, ox.Literal("Alpha", language="en")),
        ox.Quad(alpha, label, ox.Literal("Альфа", language="ru")),
        ox.Quad(alpha, nn(EX + "count"), ox.Literal("42", datatype=nn(XSD + "integer"))),
        ox.Quad(alpha, nn(EX + "since"), ox.Literal("1992-10-05", datatype=nn(XSD + "date"))),
        ox.Quad(alpha, nn(EX + "note"), ox.Literal('a "quoted", comma\nnew line\tand tab')),
        ox.Quad(alpha, nn(EX + "address"), b),
        ox.Quad(b, nn(EX + "city"), ox.Literal("Astana")),
        ox.Quad(alpha, nn(EX + "partner"), beta),
        ox.Quad(beta, nn(RDF_TYPE), nn(ONTO + "#State")),
        ox.Quad(beta, label, ox.Literal("Beta", language="en")),
        ox.Quad(beta, nn(EX + "inGraph"), ox.Literal("only in a named graph"), GRAPH),
        ox.Quad(nn(ONTO), nn(RDF_TYPE), nn("http://www.w3.org/2002/07/owl#Ontology")),
        ox.Quad(nn(ONTO + "#State"), label, ox.Literal("State", language="en")),
        ox.Quad(nn(ONTO + "#member"), label, ox.Literal("member", language="en")),
    ]
    for i in range(filler):
        quads.append(ox.Quad(nn(f"{EX}filler/{i}"), nn(EX + "n"), ox.Literal(str(i))))
    s.extend(quads)
    return s


class AppClient:
    """A synchronous client for an ASGI app: httpx.ASGITransport on an event loop in a thread,
    with the app's lifespan entered (the query workers start) and left on close."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._lifespan = app.router.lifespan_context(app)
        self.call(self._lifespan.__aenter__())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=60
        )

    def call(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.call(self.client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def gather(self, *requests: tuple[str, dict[str, Any]]) -> list[httpx.Response]:
        """Send GET requests concurrently; the answers in order."""

        async def run() -> list[httpx.Response]:
            return list(await asyncio.gather(*(self.client.get(url, **kw) for url, kw in requests)))

        return self.call(run())

    def close(self) -> None:
        self.call(self.client.aclose())
        self.call(self._lifespan.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return build_store(filler=30)


@pytest.fixture(scope="module")
def client(store: ox.Store) -> Iterator[AppClient]:
    app = server.create_app(store, workers=1, query_timeout=5, max_results=20)
    c = AppClient(app)
    try:
        yield c
    finally:
        c.close()


def q(client: AppClient, query: str, accept: str | None = None, **params: str) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return client.get("/sparql", params={"query": query, **params}, headers=headers)


def _row(sol: Any) -> tuple[Any, ...]:
    # blank node labels are local to a result set: compare them as "some blank node"
    return tuple("_:" if isinstance(t, ox.BlankNode) else t for t in sol)


def direct(store: ox.Store, query: str) -> set[tuple[Any, ...]]:
    """The solutions of ``query`` on the store itself, as a set of tuples of terms."""
    res = store.query(query, use_default_graph_as_union=True)
    return {_row(sol) for sol in res}


def parsed(body: bytes, fmt: ox.QueryResultsFormat) -> set[tuple[Any, ...]]:
    return {_row(sol) for sol in ox.parse_query_results(body, format=fmt)}


SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!STRSTARTS(STR(?s), 'http://example.org/')) }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), STR(cicaid:))) }"
PREFIX = f"PREFIX cicaid: <{ID}>\n"

# ---------------------------------------------------------------------------------------------
# Content negotiation (unit)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("text/csv", "csv"),
        ("application/json", "json"),
        ("text/xml", "xml"),
        ("text/*", "csv"),
        ("text/csv;q=0.5, text/tab-separated-values", "tsv"),
        ("application/sparql-results+xml;q=0.9, */*;q=0.1", "xml"),
        ("*/*;q=0.5, text/csv;q=0", "json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),
        ("image/png", None),
        ("text/csv;q=0", None),
    ],
)
def test_negotiate_picks_by_q_and_specificity(accept: str | None, expected: str | None) -> None:
    fmt = server.negotiate(accept, server.SOLUTION_FORMATS)
    assert (fmt.name if fmt else None) == expected


def test_read_only_check_sees_through_comments_strings_and_names() -> None:
    assert server.check_read_only("PREFIX x: <http://x/>\n# hi\nINSERT DATA { x:a x:b x:c }")
    assert server.check_read_only("  delete where { ?s ?p ?o }")
    assert server.check_read_only("SELECT * { SERVICE <http://x/sparql> { ?s ?p ?o } }")
    assert server.check_read_only("SELECT * { service <http://x/sparql> { ?s ?p ?o } }")
    assert server.check_read_only("SELECT ?service { ?service ?p 'SERVICE' } # SERVICE") is None
    assert (
        server.check_read_only("PREFIX service: <http://x/> SELECT * { ?s service:p ?o }") is None
    )
    assert server.check_read_only("SELECT * { ?s <http://x/SERVICE> ?o }") is None
    assert server.check_read_only("SELECT ('''\nINSERT''' AS ?x) {}") is None


# ---------------------------------------------------------------------------------------------
# SPARQL protocol: formats
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
        ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
        ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
    ],
)
def test_select_results_parse_to_the_store_answers(
    client: AppClient, store: ox.Store, accept: str, fmt: ox.QueryResultsFormat
) -> None:
    r = q(client, SELECT, accept)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    assert parsed(r.content, fmt) == direct(store, SELECT)
    assert "accept" in r.headers["vary"].lower()


def test_select_json_is_sparql_results_json(client: AppClient) -> None:
    r = q(client, PREFIX + "SELECT ?l ?n WHERE { cicaid:alpha ?p ?l OPTIONAL { ?x <x:y> ?n } }")
    doc = json.loads(r.content)
    assert doc["head"]["vars"] == ["l", "n"]
    values = {json.dumps(b["l"], sort_keys=True) for b in doc["results"]["bindings"]}
    assert json.dumps({"type": "literal", "value": "Альфа", "xml:lang": "ru"}) in {
        json.dumps(json.loads(v)) for v in values
    }
    assert {"type": "literal", "value": "42", "datatype": XSD + "integer"} in [
        b["l"] for b in doc["results"]["bindings"]
    ]
    assert {"type": "uri", "value": ONTO + "#State"} in [b["l"] for b in doc["results"]["bindings"]]
    assert all(set(b) == {"l"} for b in doc["results"]["bindings"])  # unbound ?n left out
    bnodes = [b["l"] for b in doc["results"]["bindings"] if b["l"]["type"] == "bnode"]
    assert len(bnodes) == 1


def test_select_xml_parses_with_elementtree(client: AppClient) -> None:
    r = q(
        client, PREFIX + "SELECT ?o WHERE { cicaid:alpha ?p ?o }", "application/sparql-results+xml"
    )
    root = ET.fromstring(r.content)
    assert [v.get("name") for v in root.iter(SR + "variable")] == ["o"]
    langs = {
        (lit.text, lit.get("{http://www.w3.org/XML/1998/namespace}lang"))
        for lit in root.iter(SR + "literal")
    }
    assert ("Альфа", "ru") in langs
    assert ('a "quoted", comma\nnew line\tand tab', None) in langs
    assert len(list(root.iter(SR + "result"))) == 8


def test_select_csv_parses_with_csv_module(client: AppClient, store: ox.Store) -> None:
    r = q(client, PREFIX + "SELECT ?p ?o WHERE { cicaid:alpha ?p ?o }", "text/csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert rows[0] == ["p", "o"]
    assert [EX + "note", 'a "quoted", comma\nnew line\tand tab'] in rows[1:]
    assert [EX + "count", "42"] in rows[1:]
    assert len(rows) == 1 + 8
    assert r.content.count(b"\r\n") >= 9  # RFC 4180 line ends


def test_format_parameter_overrides_accept(client: AppClient) -> None:
    r = q(
        client,
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
        "application/sparql-results+json",
        format="csv",
    )
    assert r.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(
    "accept", ["application/sparql-results+json", "application/sparql-results+xml"]
)
def test_ask(client: AppClient, accept: str) -> None:
    yes = q(client, PREFIX + "ASK { cicaid:alpha ?p ?o }", accept)
    no = q(client, PREFIX + "ASK { cicaid:nobody ?p ?o }", accept)
    fmt = ox.QueryResultsFormat.JSON if "json" in accept else ox.QueryResultsFormat.XML
    assert bool(ox.parse_query_results(yes.content, format=fmt)) is True
    assert bool(ox.parse_query_results(no.content, format=fmt)) is False


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_construct_results_parse_to_the_same_graph(
    client: AppClient, store: ox.Store, accept: str, fmt: ox.RdfFormat
) -> None:
    r = q(client, PREFIX + CONSTRUCT, accept)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(accept)
    got = canonical(ox.parse(r.content, format=fmt))
    want = canonical(store.query(PREFIX + CONSTRUCT, use_default_graph_as_union=True))
    assert got == want
    assert len(got) == 11


def canonical(items: Any) -> set[ox.Quad]:
    ds = ox.Dataset()
    for t in items:
        ds.add(ox.Quad(t.subject, t.predicate, t.object) if isinstance(t, ox.Triple) else t)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def test_construct_default_is_turtle(client: AppClient) -> None:
    r = q(client, PREFIX + CONSTRUCT)
    assert r.headers["content-type"].startswith("text/turtle")
    assert len(list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))) == 11


def test_unsupported_accept_is_406_naming_the_formats(client: AppClient) -> None:
    r = q(client, "SELECT * WHERE { ?s ?p ?o }", "image/png")
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text
    r = q(client, PREFIX + CONSTRUCT, "text/csv")
    assert r.status_code == 406
    assert "text/turtle" in r.text


def test_post_form_and_sparql_query_give_the_same_answer(
    client: AppClient, store: ox.Store
) -> None:
    h = {"accept": "application/sparql-results+json"}
    form = client.post("/sparql", data={"query": SELECT}, headers=h)
    raw = client.post(
        "/sparql",
        content=SELECT.encode(),
        headers={**h, "content-type": "application/sparql-query"},
    )
    want = direct(store, SELECT)
    assert parsed(form.content, ox.QueryResultsFormat.JSON) == want
    assert parsed(raw.content, ox.QueryResultsFormat.JSON) == want


def test_oversized_post_is_413_even_when_chunked(client: AppClient) -> None:
    big = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * (server.MAX_BODY_BYTES + 10)
    ctype = {"content-type": "application/sparql-query"}
    assert client.post("/sparql", content=big, headers=ctype).status_code == 413

    async def chunks() -> Any:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    assert client.post("/sparql", content=chunks(), headers=ctype).status_code == 413


def test_post_with_another_content_type_is_415(client: AppClient) -> None:
    r = client.post("/sparql", content=b"SELECT * {}", headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert "application/sparql-query" in r.text


def test_graph_parameters_choose_the_dataset(client: AppClient) -> None:
    query = "SELECT ?o WHERE { ?s <http://example.org/inGraph> ?o }"
    union = q(client, query)
    assert len(json.loads(union.content)["results"]["bindings"]) == 1
    default_only = client.get(
        "/sparql", params={"query": query, "default-graph-uri": EX + "nothing"}
    )
    assert json.loads(default_only.content)["results"]["bindings"] == []
    named = client.get(
        "/sparql",
        params={
            "query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": EX + "graph",
        },
    )
    gs = {b["g"]["value"] for b in json.loads(named.content)["results"]["bindings"]}
    assert gs == {EX + "graph"}


# ---------------------------------------------------------------------------------------------
# Read-only, malformed queries
# ---------------------------------------------------------------------------------------------


def test_updates_are_refused_and_change_nothing(client: AppClient, store: ox.Store) -> None:
    before = len(store)
    update = f"INSERT DATA {{ <{EX}x> <{EX}y> <{EX}z> }}"
    answers = [
        client.post(
            "/sparql",
            content=update.encode(),
            headers={"content-type": "application/sparql-update"},
        ),
        client.post("/sparql", data={"update": update}),
        client.get("/sparql", params={"update": update}),
        q(client, update),
        q(client, "PREFIX e: <http://e/>\nDELETE WHERE { ?s ?p ?o }"),
        q(client, "DROP ALL"),
        q(client, "LOAD <http://example.org/data.ttl>"),
    ]
    for r in answers:
        assert r.status_code == 403, (r.status_code, r.text)
        assert "read-only" in r.text
    assert len(store) == before
    count = q(client, f"ASK {{ <{EX}x> ?p ?o }}")
    assert json.loads(count.content)["boolean"] is False


def test_service_is_refused(client: AppClient) -> None:
    r = q(client, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert r.status_code == 403
    assert "SERVICE" in r.text


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("SELECT * WHERE { ?s ?p }", "1:"),
        ("SELECT * WHERE {\n  ?s ?p ?o .\n  FILTER(\n}", "4:"),
        ("SELECT * WHERE { ?s undeclared:p ?o }", "Prefix not found"),
    ],
)
def test_malformed_query_is_400_with_the_parser_message(
    client: AppClient, query: str, where: str
) -> None:
    r = q(client, query)
    assert r.status_code == 400
    assert r.text.startswith("malformed query:")
    assert where in r.text


def test_empty_or_repeated_query_is_400(client: AppClient) -> None:
    assert client.get("/sparql", params={"query": " "}).status_code == 400
    r = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert r.status_code == 400


# ---------------------------------------------------------------------------------------------
# Result cap
# ---------------------------------------------------------------------------------------------


def test_result_cap_truncates_and_says_so(client: AppClient) -> None:
    over = q(client, "SELECT ?s WHERE { ?s ?p ?o }", "application/sparql-results+json")
    rows = json.loads(over.content)["results"]["bindings"]
    assert len(rows) == 20
    assert over.headers["x-sparql-maxrows"] == "20"
    under = q(client, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 20")
    assert len(json.loads(under.content)["results"]["bindings"]) == 20
    assert "x-sparql-maxrows" not in under.headers
    graph = q(client, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    assert len(list(ox.parse(graph.content, format=ox.RdfFormat.N_TRIPLES))) == 20
    assert graph.headers["x-sparql-maxrows"] == "20"


# ---------------------------------------------------------------------------------------------
# Timeout: a runaway query is cut with 503 and the server keeps serving
# ---------------------------------------------------------------------------------------------

#: a four-way cross join of 315 triples: ~10^10 rows, hours of work
RUNAWAY_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
RUNAWAY_ROWS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?a"
#: a three-way cross join (31 million rows) whose solutions pyoxigraph produces lazily
RUNAWAY_LAZY = "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_runaway_query_is_cut_by_killing_the_worker_and_the_server_keeps_serving() -> None:
    app = server.create_app(build_store(filler=300), workers=2, query_timeout=1.0)
    c = AppClient(app)
    try:
        pool = app.state.executor
        pids_before = set(pool.pids)
        start = time.monotonic()
        slow, quick = c.gather(
            ("/sparql", {"params": {"query": RUNAWAY_COUNT}}),
            ("/sparql", {"params": {"query": "ASK { ?s ?p ?o }"}}),
        )
        elapsed = time.monotonic() - start
        assert slow.status_code == 503
        assert "time limit of 1 s" in slow.text
        assert elapsed < 15
        # the other worker answered meanwhile
        assert quick.status_code == 200
        assert json.loads(quick.content)["boolean"] is True
        assert pool.stats.killed == 1
        # the killed worker is replaced; the next queries answer
        for _ in range(3):
            after = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
            assert after.status_code == 200
            assert json.loads(after.content)["results"]["bindings"][0]["n"]["value"] == "315"
        deadline = time.monotonic() + 30
        while len(pool.pids) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(pool.pids) == 2
        assert set(pool.pids) != pids_before
        # a blocking sort is cut the same way
        assert c.get("/sparql", params={"query": RUNAWAY_ROWS}).status_code == 503
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    finally:
        c.close()


def test_lazy_runaway_is_cut_inside_the_worker_without_killing_it() -> None:
    # no row cap in the way: the deadline, checked per solution, must stop it
    app = server.create_app(
        build_store(filler=300), workers=1, query_timeout=0.3, max_results=10**8
    )
    c = AppClient(app)
    try:
        pool = app.state.executor
        pids = set(pool.pids)
        r = c.get("/sparql", params={"query": RUNAWAY_LAZY})
        assert r.status_code == 503
        assert pool.stats.killed == 0
        assert set(pool.pids) == pids
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    finally:
        c.close()


def test_in_process_threads_cut_lazy_runaways_too() -> None:
    app = server.create_app(
        build_store(filler=300), workers=0, query_timeout=0.3, max_results=10**8
    )
    c = AppClient(app)
    try:
        start = time.monotonic()
        assert c.get("/sparql", params={"query": RUNAWAY_LAZY}).status_code == 503
        assert time.monotonic() - start < 10
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# Service description, resources, dataset description, CORS
# ---------------------------------------------------------------------------------------------


def test_service_description_is_turtle_describing_the_endpoint(client: AppClient) -> None:
    r = client.get("/sparql")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = ox.Store()
    g.load(r.content, format=ox.RdfFormat.TURTLE)
    svc = nn("http://testserver/sparql")
    assert ox.Quad(svc, nn(RDF_TYPE), nn(SD + "Service")) in g
    assert ox.Quad(svc, nn(SD + "endpoint"), svc) in g
    formats = {q.object.value for q in g.quads_for_pattern(svc, nn(SD + "resultFormat"), None)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats
    assert ox.Quad(svc, nn(SD + "supportedLanguage"), nn(SD + "SPARQL11Query")) in g


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_resource_by_accept(client: AppClient, store: ox.Store, accept: str, fmt: Any) -> None:
    r = client.get("/id/alpha", headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(accept)
    assert r.headers["vary"].lower().startswith("accept")
    got = canonical(ox.parse(r.content, format=fmt))
    # the description, and the labels of the resources it links to
    from cica_ld.publish import with_reference_labels

    want = canonical(with_reference_labels(store, server.describe(store, ID + "alpha")))
    assert got == want
    subjects = {t.subject for t in got}
    assert nn(ID + "alpha") in subjects
    # the blank-node address travels with the resource
    assert any(t.predicate == nn(EX + "city") for t in got)
    assert {t.predicate.value for t in got if t.subject == nn(ID + "beta")} == {RDFS_LABEL}


def test_resource_jsonld_is_compacted_with_the_inline_project_context(client: AppClient) -> None:
    from cica_ld import jsonld

    r = client.get("/id/alpha", headers={"accept": "application/ld+json"})
    doc = json.loads(r.content)
    # inlined (stands alone): the project context's terms the document uses, as they are there
    full = jsonld.load_context()["@context"]
    assert isinstance(doc["@context"], dict) and doc["@context"]
    assert all(full[k] == v for k, v in doc["@context"].items())
    ids = {node.get("id") for node in doc["@graph"]}
    assert "cicaid:alpha" in ids  # compact IRIs, short keys
    assert canonical(jsonld.to_quads(doc, documents={})) == canonical(
        ox.parse(
            client.get("/id/alpha", headers={"accept": "application/n-triples"}).content,
            format=ox.RdfFormat.N_TRIPLES,
        )
    )


def test_the_project_context_is_served_at_its_path(client: AppClient) -> None:
    from cica_ld import jsonld

    r = client.get("/context.jsonld")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    assert json.loads(r.content) == jsonld.load_context()


def test_resource_description_includes_named_graph_triples(client: AppClient) -> None:
    r = client.get("/id/beta", headers={"accept": "application/n-triples"})
    triples = list(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))
    assert any(t.predicate == nn(EX + "inGraph") for t in triples)


@pytest.mark.parametrize(
    ("url", "media_type", "location"),
    [
        ("/id/alpha?format=ttl", "text/turtle", "/id/alpha.ttl"),
        ("/id/alpha?format=jsonld", "application/ld+json", "/id/alpha.jsonld"),
        ("/id/alpha?format=nt", "application/n-triples", "/id/alpha.nt"),
        ("/id/alpha.ttl", "text/turtle", "/id/alpha.ttl"),
        ("/id/alpha.nt", "application/n-triples", "/id/alpha.nt"),
        ("/id/alpha.jsonld", "application/ld+json", "/id/alpha.jsonld"),
    ],
)
def test_resource_by_format_parameter_or_suffix(
    client: AppClient, url: str, media_type: str, location: str
) -> None:
    r = client.get(url, headers={"accept": "text/turtle;q=0.1, application/rdf+xml"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media_type)
    assert r.headers["content-location"] == location


def test_unknown_resource_is_404_and_bad_accept_406(client: AppClient) -> None:
    assert client.get("/id/nobody").status_code == 404
    assert client.get("/id/nobody.ttl").status_code == 404
    assert client.get("/nowhere/at/all").status_code == 404
    r = client.get("/id/alpha", headers={"accept": "image/png"})
    assert r.status_code == 406
    assert client.get("/id/alpha?format=png").status_code == 406


def test_hash_namespace_document_serves_its_terms(client: AppClient) -> None:
    r = client.get("/ontology", headers={"accept": "application/n-triples"})
    assert r.status_code == 200
    subjects = {t.subject.value for t in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)}
    assert subjects == {ONTO, ONTO + "#State", ONTO + "#member"}


def test_dataset_description_at_well_known_void_and_index(
    client: AppClient, store: ox.Store
) -> None:
    ds = nn(BASE + "dataset")
    for url in ("/.well-known/void", "/", "/dataset", "/dataset.ttl"):
        r = client.get(url, headers={"accept": "text/turtle"})
        assert r.status_code == 200, url
        g = ox.Store()
        g.load(r.content, format=ox.RdfFormat.TURTLE)
        assert ox.Quad(ds, nn(RDF_TYPE), nn(VOID + "Dataset")) in g, url
        assert ox.Quad(ds, nn(RDF_TYPE), nn("http://www.w3.org/ns/dcat#Dataset")) in g, url
        triples = next(g.quads_for_pattern(ds, nn(VOID + "triples"), None)).object
        assert int(triples.value) == len({(q.subject, q.predicate, q.object) for q in store})
        endpoint = next(g.quads_for_pattern(ds, nn(VOID + "sparqlEndpoint"), None))
        assert endpoint.object == nn("http://testserver/sparql")


def test_dataset_lists_the_distributions_it_serves(client: AppClient) -> None:
    """/dataset names each dump the server answers, with its media type and EU file type;
    each download URL answers with the whole dataset in that format."""
    dcat = "http://www.w3.org/ns/dcat#"
    r = client.get("/dataset", headers={"accept": "text/turtle"})
    g = ox.Store()
    g.load(r.content, format=ox.RdfFormat.TURTLE)
    dists = [
        q.object for q in g.quads_for_pattern(nn(BASE + "dataset"), nn(dcat + "distribution"), None)
    ]
    assert len(dists) == 4
    for d in dists:
        (url,) = [q.object.value for q in g.quads_for_pattern(d, nn(dcat + "downloadURL"), None)]
        (fmt,) = [q.object.value for q in g.quads_for_pattern(d, nn(DCTERMS + "format"), None)]
        assert fmt.startswith("http://publications.europa.eu/resource/authority/file-type/")
        (media,) = [q.object.value for q in g.quads_for_pattern(d, nn(dcat + "mediaType"), None)]
        got = client.get(url.removeprefix("http://testserver"))
        assert got.status_code == 200, url
        assert got.headers["content-type"].startswith(media.rsplit("/media-types/", 1)[1])


def test_base_url_sets_the_urls_the_server_states(store: ox.Store) -> None:
    app = server.create_app(store, workers=0, base_url="https://data.example.org/cica")
    c = AppClient(app)
    try:
        sd = c.get("/sparql")
        g = ox.Store()
        g.load(sd.content, format=ox.RdfFormat.TURTLE)
        svc = nn("https://data.example.org/cica/sparql")
        assert ox.Quad(svc, nn(SD + "endpoint"), svc) in g
        void = c.get("/.well-known/void", headers={"accept": "application/n-triples"})
        assert b"<https://data.example.org/cica/sparql>" in void.content
    finally:
        c.close()


def test_other_base_iri_maps_paths_onto_it() -> None:
    s = ox.Store()
    s.add(ox.Quad(nn(EX + "things/t1"), nn(EX + "p"), ox.Literal("one")))
    app = server.create_app(s, workers=0, base_iri=EX)
    c = AppClient(app)
    try:
        r = c.get("/things/t1", headers={"accept": "application/n-triples"})
        assert r.status_code == 200
        assert [q.triple for q in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)] == [
            ox.Triple(nn(EX + "things/t1"), nn(EX + "p"), ox.Literal("one"))
        ]
        assert c.get("/id/alpha").status_code == 404
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# The pages of `cica-ld publish`, served
# ---------------------------------------------------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        if tag == "a" and d.get("href"):
            self.links.append(str(d["href"]))
        if tag == "link" and d.get("rel") == "stylesheet" and d.get("href"):
            self.links.append(str(d["href"]))
        self._in_title = tag == "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def page(body: bytes) -> _Links:
    parser = _Links()
    parser.feed(body.decode("utf-8"))
    return parser


def test_browsers_get_the_html_page(client: AppClient) -> None:
    for url in ("/id/alpha", "/id/alpha.html", "/id/alpha?format=html"):
        r = client.get(url, headers={"accept": BROWSER})
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["content-location"] == "/id/alpha.html"
        assert "Alpha" in page(r.content).title
    # curl's */* gets data, not the page
    r = client.get("/id/alpha", headers={"accept": "*/*"})
    assert r.headers["content-type"].startswith("text/turtle")


def test_site_pages_are_served(client: AppClient) -> None:
    for url in ("/", "/index.html", "/dataset.html", "/ontology.html", "/shapes.html"):
        r = client.get(url, headers={"accept": BROWSER})
        assert r.status_code == 200, url
        assert r.headers["content-type"].startswith("text/html"), url
    css = client.get("/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    index = page(client.get("/", headers={"accept": BROWSER}).content)
    assert "id/alpha.html" in index.links
    assert "id/beta.html" in index.links


def test_dump_is_the_whole_dataset(client: AppClient, store: ox.Store) -> None:
    r = client.get("/dumps/cica-ld.nt")
    assert r.status_code == 200
    got = canonical(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))
    assert got == canonical(q.triple for q in store)


@pytest.mark.slow
def test_crawl_of_the_served_site_finds_no_broken_link() -> None:
    """Follow every relative link from the index of the real dataset (pages and documents)."""
    from urllib.parse import urljoin, urlsplit

    from cica_ld import dataset

    app = server.create_app(dataset.load(), workers=0)
    c = AppClient(app)
    try:
        seen: set[str] = set()
        todo = ["/index.html"]
        broken: list[str] = []
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            r = c.get(url, headers={"accept": BROWSER})
            if r.status_code != 200:
                broken.append(f"{url}: {r.status_code}")
                continue
            if not r.headers["content-type"].startswith("text/html"):
                continue
            for href in page(r.content).links:
                target = urljoin("http://testserver" + url, href)
                parts = urlsplit(target)
                if parts.netloc != "testserver":
                    continue
                todo.append(parts.path)
        assert not broken, broken[:10]
        assert len(seen) > 100
        assert "/id/kazakhstan.html" in seen
        assert "/id/kazakhstan.ttl" in seen
    finally:
        c.close()


def test_cors_lets_browser_clients_query(client: AppClient) -> None:
    pre = client.request(
        "OPTIONS",
        "/sparql",
        headers={
            "origin": "https://yasgui.org",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, accept",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "access-control-allow-private-network" not in pre.headers
    pna = client.request(
        "OPTIONS",
        "/sparql",
        headers={
            "origin": "https://yasgui.org",
            "access-control-request-method": "GET",
            "access-control-request-private-network": "true",
        },
    )
    assert pna.status_code == 200
    assert pna.headers["access-control-allow-private-network"] == "true"
    r = client.get("/sparql", params={"query": "ASK {}"}, headers={"origin": "https://yasgui.org"})
    assert r.headers["access-control-allow-origin"] == "*"


def test_create_app_rejects_bad_settings(store: ox.Store) -> None:
    with pytest.raises(ValueError):
        server.create_app(store, query_timeout=0)
    with pytest.raises(ValueError):
        server.create_app(store, max_results=0)


# ---------------------------------------------------------------------------------------------
# CLI: --get in-process, and the real server as a subprocess
# ---------------------------------------------------------------------------------------------

runner = CliRunner()


def test_get_answers_one_request_and_exits_0(tmp_path: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(f"<{ID}x> <{EX}p> 'hello' .\n", encoding="utf-8")
    res = runner.invoke(
        cli_app,
        ["serve", "--data", str(data), "--workers", "0", "--get", "/id/x",
         "--accept", "application/n-triples", "--base-iri", "https://w3id.org/cica-ld/"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    triples = [q.triple for q in ox.parse(res.stdout_bytes, format=ox.RdfFormat.N_TRIPLES)]
    assert ox.Triple(nn(ID + "x"), nn(EX + "p"), ox.Literal("hello")) in triples


def test_get_runs_a_query_through_the_worker_pool(tmp_path: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(f"<{ID}x> <{EX}p> 'hello' .\n", encoding="utf-8")
    res = runner.invoke(
        cli_app, ["serve", "--data", str(data), "--workers", "1", "--get",
                  f"/sparql?query=SELECT ?o {{ <{ID}x> ?p ?o }}"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout_bytes)
    assert [b["o"]["value"] for b in doc["results"]["bindings"]] == ["hello"]


def test_get_exits_1_on_404_with_the_message(tmp_path: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(f"<{ID}x> <{EX}p> 'hello' .\n", encoding="utf-8")
    res = runner.invoke(
        cli_app, ["serve", "--data", str(data), "--workers", "0", "--get", "/id/nobody"]
    )
    assert res.exit_code == 1
    assert "HTTP 404" in res.stderr
    assert res.stdout == ""


def test_serve_bad_data_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> \n", encoding="utf-8")
    res = runner.invoke(cli_app, ["serve", "--data", str(bad), "--get", "/"])
    assert res.exit_code == 2
    assert "bad.ttl:" in res.stderr
    assert "Traceback" not in res.output


def _start_serve(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cica_ld", "serve", "--port", "0", "--quiet", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode(errors="replace")
            lines.append(line)
            m = re.search(r"serving \d+ triples at (http://\S+/) ", line)
            if m:
                found.append(m.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while not found and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if not found:
        proc.kill()
        proc.wait()
        pytest.fail("cica-ld serve did not start: " + "".join(lines))
    return proc, found[0]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.mark.slow
def test_real_server_on_a_loopback_port_answers_queries_and_resources() -> None:
    from cica_ld import dataset

    proc, url = _start_serve("--workers", "1")
    try:
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, timeout=30) as http:
            r = http.post(
                "sparql",
                content=b"SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                headers={"content-type": "application/sparql-query", "accept": "text/csv"},
            )
            assert r.status_code == 200
            rows = list(csv.reader(io.StringIO(r.text)))
            expected = len({q.triple for q in dataset.load().store})
            assert rows == [["n"], [str(expected)]]
            org = http.get("id/cica", headers={"accept": "text/turtle"})
            assert org.status_code == 200
            triples = list(ox.parse(org.content, format=ox.RdfFormat.TURTLE))
            assert any(t.subject == nn(ID + "cica") for t in triples)
            assert http.get("id/not-a-thing").status_code == 404
    finally:
        _stop(proc)
    assert proc.returncode is not None


def test_port_in_use_is_a_usage_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = runner.invoke(cli_app, ["serve", "--workers", "0", "--port", str(port)])
    assert res.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr


def test_render_cache_evicts_least_recently_used_by_bytes() -> None:
    cache = server.RenderCache(max_bytes=100)
    cache.put(("a", "turtle"), b"x" * 20)
    cache.put(("b", "turtle"), b"y" * 20)
    assert cache.get(("a", "turtle")) == b"x" * 20  # a is now the most recent
    for i in range(4):
        cache.put((f"c{i}", "turtle"), b"z" * 20)
    assert cache.bytes <= 100
    assert cache.get(("b", "turtle")) is None  # the least recently used went first
    assert cache.get(("a", "turtle")) == b"x" * 20
    cache.put(("huge", "turtle"), b"h" * 60)  # over a quarter of the budget: not kept
    assert cache.get(("huge", "turtle")) is None


def test_an_iri_only_pointed_at_has_a_page_but_an_unknown_one_is_404() -> None:
    s = ox.Store()
    s.add(ox.Quad(nn(ID + "x"), nn(EX + "p"), nn(ID + "only-object")))
    c = AppClient(server.create_app(s, workers=0))
    try:
        r = c.get("/id/only-object", headers={"accept": "application/n-triples"})
        assert r.status_code == 200
        # nothing said about it: its document is the link to it
        assert [q.triple for q in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)] == [
            ox.Triple(nn(ID + "x"), nn(EX + "p"), nn(ID + "only-object"))
        ]
        assert c.get("/id/only-object", headers={"accept": BROWSER}).status_code == 200
        assert c.get("/id/nowhere").status_code == 404
    finally:
        c.close()
