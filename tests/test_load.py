"""`cica-ld load`: the Graph Store Protocol upload, against a real `oxigraph serve` and a real
Virtuoso (`virtuoso-t`, skipped with a reason when it is not installed) on loopback.

After loading the embedded dataset, every named query of the catalogue must answer the same
through `cica-ld query NAME --endpoint URL` as on the embedded store. On Virtuoso the data goes
into a named graph (its default graph is the union of every graph, its own system graphs
included) and the queries name it by the endpoint URL's ``default-graph-uri``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from conftest import VIRTUOSO_PASSWORD, VIRTUOSO_USER, OxigraphServer, VirtuosoServer
from typer.testing import CliRunner

from cica_ld import catalogue, graphstore
from cica_ld import query as query_mod
from cica_ld.cli import app as cli_app
from cica_ld.errors import EndpointError, InputError

runner = CliRunner()
EX = "http://example.org/"
GRAPH = EX + "graph/load-test"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def cli(*args: str) -> Any:
    return runner.invoke(cli_app, list(args))


def sparql(server: Any, query: str) -> list[dict[str, Any]]:
    r = httpx.post(
        server.query_url,
        data={"query": query},
        headers={"accept": "application/sparql-results+json"},
        timeout=30,
    )
    r.raise_for_status()
    return json.loads(r.content)["results"]["bindings"]


def count(server: OxigraphServer, graph: str | None = None) -> int:
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    rows = sparql(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
    return int(rows[0]["n"]["value"])


def distinct_triples(files: list[tuple[Path, str]]) -> set[ox.Triple]:
    out: set[ox.Triple] = set()
    for path, fmt in files:
        out.update(graphstore._triples(path, fmt))  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------------------------------------
# Every named query: the same answers on the store as on the embedded dataset
# ---------------------------------------------------------------------------------------------


class Loaded:
    """A store holding the embedded dataset: the URL to query it and how to count it."""

    def __init__(self, query_url: str, graph: str | None) -> None:
        self.query_url = query_url
        self.graph = graph


EMBEDDED_GRAPH = EX + "graph/embedded-dataset"


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def loaded(request: pytest.FixtureRequest) -> Iterator[Loaded]:
    if request.param == "oxigraph":
        server: OxigraphServer = request.getfixturevalue("oxigraph_module_server")
        res = cli("load", "--endpoint", server.store_url, "--replace")
        assert res.exit_code == 0, res.output
        assert "replaced the default graph" in res.stderr
        yield Loaded(server.query_url, None)
        return
    virtuoso: VirtuosoServer = request.getfixturevalue("virtuoso_server")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CICA_LD_PASSWORD", VIRTUOSO_PASSWORD)
        res = cli(
            "load", "--endpoint", virtuoso.store_url, "--graph", EMBEDDED_GRAPH, "--replace",
            "--user", VIRTUOSO_USER,
        )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"replaced graph <{EMBEDDED_GRAPH}>" in res.stderr
    yield Loaded(virtuoso.query_url_for(EMBEDDED_GRAPH), EMBEDDED_GRAPH)


_GROUP_CONCAT = re.compile(
    r"GROUP_CONCAT\s*\((?:[^()]|\([^()]*\))*?;\s*separator\s*=\s*(\"[^\"]*\"|'[^']*')\s*\)"
    r"\s+AS\s+\?(\w+)",
    re.IGNORECASE,
)


def group_concat_columns(query: str) -> dict[str, str]:
    """Variable -> separator of each GROUP_CONCAT in the query. SPARQL leaves the order of the
    concatenated values undefined, so two correct stores may order them differently."""
    return {m.group(2): m.group(1)[1:-1] for m in _GROUP_CONCAT.finditer(query)}


def _rows(result_json: bytes, concat: dict[str, str] | None = None) -> Any:
    doc = json.loads(result_json)
    if "boolean" in doc:
        return doc["boolean"]
    rows = []
    for b in doc["results"]["bindings"]:
        row = {}
        for k, v in b.items():
            if v["type"] == "bnode":  # blank node labels are local to a result set
                row[k] = ("_:", None)
            elif concat and k in concat:  # compare the concatenated values as a multiset
                row[k] = (sorted(v["value"].split(concat[k])), v.get("datatype"))
            elif v.get("datatype") == XSD_BOOLEAN:  # Virtuoso writes true as 1: one value
                row[k] = ({"1": "true", "0": "false"}.get(v["value"], v["value"]), XSD_BOOLEAN)
            else:
                row[k] = (v["value"], v.get("datatype"))
        rows.append(json.dumps(row, sort_keys=True))
    return sorted(rows)


def _graph(ntriples: bytes) -> set[ox.Quad]:
    ds = ox.Dataset(ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


NAMES = sorted(catalogue.catalogue())


def test_the_catalogue_is_not_empty() -> None:
    assert NAMES


@pytest.mark.parametrize("name", NAMES)
def test_named_query_answers_the_same_through_the_endpoint(loaded: Loaded, name: str) -> None:
    named = catalogue.get(name)
    required = [p.name for p in named.params if p.required]
    if required:
        pytest.skip(f"{name} needs --param {', '.join(required)} (no default to use)")
    form = query_mod.analyse(named.text).form
    fmt = "ntriples" if form in ("CONSTRUCT", "DESCRIBE") else "json"
    local = cli("query", name, "-f", fmt)
    remote = cli("query", name, "-f", fmt, "--endpoint", loaded.query_url)
    assert local.exit_code == 0, local.output
    assert remote.exit_code == 0, remote.output
    if fmt == "json":
        concat = group_concat_columns(named.text)
        want = _rows(local.stdout_bytes, concat)
        assert _rows(remote.stdout_bytes, concat) == want
    else:
        assert _graph(remote.stdout_bytes) == _graph(local.stdout_bytes)


def test_the_store_holds_exactly_the_embedded_dataset(loaded: Loaded) -> None:
    from cica_ld import dataset

    local = {q.triple for q in dataset.load().store}
    rows = sparql(loaded, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(rows[0]["n"]["value"]) == len(local)


# ---------------------------------------------------------------------------------------------
# PUT replaces, POST adds
# ---------------------------------------------------------------------------------------------


def _file(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


def test_post_adds_and_replace_puts(tmp_path: Path, oxigraph_server: OxigraphServer) -> None:
    a = _file(tmp_path, "a.ttl", f"<{EX}a> <{EX}p> 1, 2, 3 .\n")
    b = _file(tmp_path, "b.ttl", f"<{EX}b> <{EX}p> 4, 5 .\n")
    assert graphstore.resolve_files([a]) == [(a, "turtle")]  # --data: nothing added
    url = oxigraph_server.store_url

    res = cli("load", "--endpoint", url, "--graph", GRAPH, "--data", str(a))
    assert res.exit_code == 0, res.output
    assert f"added to graph <{GRAPH}>" in res.stderr
    assert count(oxigraph_server, GRAPH) == 3

    res = cli("load", "--endpoint", url, "--graph", GRAPH, "--data", str(b))
    assert res.exit_code == 0, res.output
    assert count(oxigraph_server, GRAPH) == 5

    res = cli("load", "--endpoint", url, "--graph", GRAPH, "--data", str(b), "--replace")
    assert res.exit_code == 0, res.output
    assert count(oxigraph_server, GRAPH) == 2
    subjects = {
        r["s"]["value"]
        for r in sparql(
            oxigraph_server,
            f"SELECT DISTINCT ?s WHERE {{ GRAPH <{GRAPH}> {{ ?s <{EX}p> ?o }} }}",
        )
    }
    assert subjects == {EX + "b"}
    # the default graph was never touched
    assert count(oxigraph_server) == count(oxigraph_server, GRAPH)  # union default graph
    rows = sparql(oxigraph_server, "SELECT ?g WHERE { GRAPH ?g { } }")
    assert {r["g"]["value"] for r in rows} <= {GRAPH}


def test_named_graphs_of_the_input_go_to_the_target_graph(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    nq = _file(
        tmp_path,
        "q.nq",
        f"<{EX}x> <{EX}p> <{EX}y> <{EX}other> .\n<{EX}x> <{EX}p> <{EX}z> .\n",
    )
    res = cli("load", "--endpoint", oxigraph_server.store_url, "--graph", GRAPH, "--data", str(nq))
    assert res.exit_code == 0, res.output
    rows = sparql(
        oxigraph_server,
        f"SELECT ?o WHERE {{ GRAPH <{GRAPH}> {{ <{EX}x> <{EX}p> ?o }} }}",
    )
    assert {r["o"]["value"] for r in rows} == {EX + "y", EX + "z"}


# ---------------------------------------------------------------------------------------------
# Errors: HTTP errors and unreachable stores are exit 3 with the server's message
# ---------------------------------------------------------------------------------------------


def test_bad_graph_iri_is_exit_3_with_the_server_message(
    oxigraph_server: OxigraphServer,
) -> None:
    res = cli("load", "--endpoint", oxigraph_server.store_url, "--graph", "not an iri")
    assert res.exit_code == 3
    assert "HTTP 400" in res.stderr
    assert "Invalid IRI" in res.stderr  # Oxigraph's own words
    assert "Traceback" not in res.output


def test_wrong_url_is_exit_3_with_the_server_message(oxigraph_server: OxigraphServer) -> None:
    res = cli("load", "--endpoint", oxigraph_server.base + "/no-such-service")
    assert res.exit_code == 3
    assert "HTTP 404" in res.stderr
    assert "not supported by this server" in res.stderr


def test_unreachable_store_is_exit_3() -> None:
    from conftest import free_port

    port = free_port()
    res = cli("load", "--endpoint", f"http://127.0.0.1:{port}/store", "--timeout", "5")
    assert res.exit_code == 3
    assert "cannot connect" in res.stderr


def test_not_an_http_url_is_a_usage_error() -> None:
    res = cli("load", "--endpoint", "ftp://127.0.0.1/store")
    assert res.exit_code == 2


def test_syntax_error_is_exit_2_and_nothing_is_sent(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    good = _file(tmp_path, "good.ttl", f"<{EX}a> <{EX}p> 1 .\n")
    bad = _file(tmp_path, "bad.ttl", f"<{EX}a> <{EX}p> 1 .\n<{EX}a> <{EX}p> \n")
    res = cli(
        "load", "--endpoint", oxigraph_server.store_url, "--data", str(good), "--data", str(bad)
    )
    assert res.exit_code == 2
    assert "bad.ttl:" in res.stderr
    assert count(oxigraph_server) == 0


# ---------------------------------------------------------------------------------------------
# Streaming and progress (library)
# ---------------------------------------------------------------------------------------------


def test_upload_sends_chunks_and_reports_progress(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    from conftest import Recorder

    files = []
    for i in range(3):
        body = "".join(f"<{EX}s{i}-{j}> <{EX}p> {j} .\n" for j in range(250))
        files.append((_file(tmp_path, f"f{i}.ttl", body), "turtle"))
    seen = Recorder()
    result = graphstore.upload(
        oxigraph_server.store_url, files, replace=True, chunk_triples=100, progress=seen
    )
    assert result.triples == 750
    assert result.method == "PUT"
    assert result.chunks == 8  # 750 triples, 100 a chunk: chunks span files
    assert count(oxigraph_server) == 750
    assert seen.stages[0] == ["checking the input files", 3, 3]
    assert seen.stages[1] == ["sending 750 triples", 750, 750]


def test_each_chunk_is_one_request_put_first_when_replacing(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from cica_ld import endpoint

    files = [
        (
            _file(tmp_path, "f.ttl", "".join(f"<{EX}s> <{EX}p> {j} .\n" for j in range(1000))),
            "turtle",
        )
    ]
    calls: list[tuple[str, int]] = []

    def fake_request(method: str, url: str, *, content: Any, **kw: Any) -> Any:
        assert isinstance(content, bytes)  # a body that can be sent again (auth, retries)
        calls.append((method, len(list(ox.parse(content, format=ox.RdfFormat.N_TRIPLES)))))
        return endpoint.EndpointResponse(url, 204, "", b"")

    monkeypatch.setattr(endpoint, "request", fake_request)
    graphstore.upload("http://127.0.0.1:9/store", files, chunk_triples=100, replace=True)
    assert calls == [("PUT", 100)] + [("POST", 100)] * 9
    calls.clear()
    graphstore.upload("http://127.0.0.1:9/store", files, chunk_triples=400)
    assert calls == [("POST", 400), ("POST", 400), ("POST", 200)]


def test_library_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        graphstore.check_files([(tmp_path / "missing.ttl", "turtle")])
    from conftest import free_port

    with pytest.raises(EndpointError):
        graphstore.upload(
            f"http://127.0.0.1:{free_port()}/store",
            [(_file(tmp_path, "x.ttl", f"<{EX}a> <{EX}p> 1 .\n"), "turtle")],
            timeout=5,
        )


def test_group_concat_columns_are_found() -> None:
    q = 'SELECT (GROUP_CONCAT(DISTINCT STR(?x); separator=" | ") AS ?xs) ?y ' \
        "(group_concat(?z ; separator=', ') as ?zs) WHERE {}"  # fmt: skip
    assert group_concat_columns(q) == {"xs": " | ", "zs": ", "}

    def doc(value: str) -> bytes:
        binding = {"xs": {"type": "literal", "value": value}}
        return json.dumps({"head": {"vars": ["xs"]}, "results": {"bindings": [binding]}}).encode()

    assert _rows(doc("b | a"), {"xs": " | "}) == _rows(doc("a | b"), {"xs": " | "})
    assert _rows(doc("b | a"), {"xs": " | "}) != _rows(doc("a | c"), {"xs": " | "})


def test_target_url() -> None:
    assert graphstore.target_url("http://h/store", None) == "http://h/store?default"
    assert (
        graphstore.target_url("http://h/ds/data", "http://e.org/g?x=1")
        == "http://h/ds/data?graph=http%3A%2F%2Fe.org%2Fg%3Fx%3D1"
    )
    assert graphstore.target_url("http://h/x?a=b", None) == "http://h/x?a=b&default"


def test_cli_renders_progress_on_stderr(
    tmp_path: Path, oxigraph_server: OxigraphServer, monkeypatch: Any
) -> None:
    monkeypatch.setenv("CICA_LD_PROGRESS", "always")  # as if stderr were a terminal
    monkeypatch.setenv("CICA_LD_PROGRESS_AFTER", "0")  # and the upload long
    data = _file(tmp_path, "d.ttl", f"<{EX}a> <{EX}p> 1 .\n")
    res = cli("load", "--endpoint", oxigraph_server.store_url, "--data", str(data))
    assert res.exit_code == 0, res.output
    assert re.search(r"cica-ld: sending 1 triples: 1/1", res.stderr), res.stderr
    assert res.stdout == ""  # data to stdout, diagnostics to stderr: nothing on stdout here


def test_jsonld_with_the_project_context_loads_like_the_embedded_loader_reads_it(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    doc = _file(
        tmp_path,
        "x.jsonld",
        '{"@context": "https://w3id.org/cica-ld/context.jsonld", "@id": "cicaid:zz", '
        '"label": "Zed"}',
    )
    res = cli("load", "--endpoint", oxigraph_server.store_url, "--graph", GRAPH, "--data", str(doc))
    assert res.exit_code == 0, res.output
    rows = sparql(
        oxigraph_server,
        f"SELECT ?l WHERE {{ GRAPH <{GRAPH}> {{ <https://w3id.org/cica-ld/id/zz> ?p ?l }} }}",
    )
    assert [(r["l"]["value"], r["l"].get("xml:lang")) for r in rows] == [("Zed", "en")]
