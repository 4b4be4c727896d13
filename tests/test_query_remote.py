"""`cica-ld query --endpoint` against a real `oxigraph serve` on loopback (no mocks).

The fixture data is loaded into the server through its Graph Store endpoint (`/store`) and
into an embedded store by our loader; every query must give the same answer both ways
(results compared parsed, graphs compared after RDFC-1.0 canonicalization).
"""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import OxigraphServer, free_port
from typer.testing import CliRunner

from cica_ld import endpoint as ep
from cica_ld.cli import app
from cica_ld.errors import EndpointError, UsageError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = FIXTURES / "query" / "data"
CATALOGUE = FIXTURES / "query" / "catalogue"
EX = "https://example.org/ns#"

pytestmark = pytest.mark.slow


#: The fixture data as an Oxigraph store keeps it (its literals canonical): what the local runs
#: query, so that both sides answer over the same terms (cica-ld itself keeps literals as
#: written, test_literal_fidelity.py; the server keeps values, see test_remote_store_keeps_values)
CANONICAL: list[Path] = []


@pytest.fixture(scope="module")
def server(
    oxigraph_module_server: OxigraphServer, tmp_path_factory: pytest.TempPathFactory
) -> OxigraphServer:
    """The module's Oxigraph server, holding the fixture data (loaded by the Graph Store
    Protocol: Turtle into the default graph, TriG with its named graph)."""
    folder = tmp_path_factory.mktemp("canonical-data")
    for f, fmt in (
        (DATA / "org.ttl", ox.RdfFormat.TURTLE),
        (DATA / "extra.trig", ox.RdfFormat.TRIG),
    ):
        held = ox.Store()
        held.load(path=str(f), format=fmt, base_iri=f.resolve().as_uri())
        held.dump(str(folder / f.name), format=ox.RdfFormat.TRIG)
    CANONICAL[:] = [folder]
    store = oxigraph_module_server.store_url
    with httpx.Client(timeout=30) as client:
        r = client.put(
            f"{store}?default",
            content=(DATA / "org.ttl").read_bytes(),
            headers={"Content-Type": "text/turtle"},
        )
        assert r.status_code in (200, 201, 204), r.text
        r = client.post(
            store,
            content=(DATA / "extra.trig").read_bytes(),
            headers={"Content-Type": "application/trig"},
        )
        assert r.status_code in (200, 201, 204), r.text
    return oxigraph_module_server


def cli(*args: str):
    return CliRunner().invoke(app, ["query", *args, "--catalogue", str(CATALOGUE)])


def local(*args: str):
    return cli(*args, "--data", str(CANONICAL[0] if CANONICAL else DATA))


def remote(server: OxigraphServer, *args: str):
    return cli(*args, "--endpoint", server.query_url, "--timeout", "20")


def parsed(out: str, fmt: str):
    """A comparable form of an answer: a sorted list of solutions, a boolean, or a graph."""
    data = out.encode("utf-8")
    if fmt in ("json", "xml", "tsv"):
        answer = ox.parse_query_results(data, format=getattr(ox.QueryResultsFormat, fmt.upper()))
        if isinstance(answer, ox.QueryBoolean):
            return bool(answer)
        names = [v.value for v in answer.variables]
        return names, sorted(str([(n, s[n]) for n in names]) for s in answer)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        return rows[0], sorted(rows[1:])
    if fmt in ("turtle", "ntriples", "jsonld", "rdfxml"):
        rdf = {
            "turtle": ox.RdfFormat.TURTLE,
            "ntriples": ox.RdfFormat.N_TRIPLES,
            "jsonld": ox.RdfFormat.JSON_LD,
            "rdfxml": ox.RdfFormat.RDF_XML,
        }[fmt]
        ds = ox.Dataset(ox.parse(data, format=rdf))
        ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        return set(ds)
    return out  # table: our own rendering, the same text both ways


SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) }"
CASES = [
    # (query arguments, formats)
    (["members", "--param", "date=2005-01-01"], ["table", "csv", "tsv", "json", "xml"]),
    (["members", "--param", "date=1990-01-01"], ["table", "json"]),
    (["members"], ["json"]),
    ([SELECT_ALL], ["json", "xml", "tsv", "csv"]),
    (["count"], ["table", "json"]),
    (["state", "-p", "state=<https://example.org/id/gamma>"], ["table", "json", "xml"]),
    (["is-member", "-p", "state=<https://example.org/id/beta>"], ["table", "json", "xml"]),
    (["is-member", "-p", "state=<https://example.org/id/nobody>"], ["table", "json", "xml"]),
    (["memberships"], ["turtle", "ntriples", "jsonld", "rdfxml"]),
    (["CONSTRUCT WHERE { ?s ?p ?o }"], ["turtle", "ntriples", "jsonld", "rdfxml"]),
    ([f"DESCRIBE ?s WHERE {{ ?s <{EX}iso> ?iso }}"], ["ntriples"]),
    ([f"SELECT ?pop WHERE {{ ?s <{EX}population> ?pop }}"], ["json"]),  # a named graph
]


@pytest.mark.parametrize(
    ("args", "fmt"), [(args, fmt) for args, fmts in CASES for fmt in fmts], ids=str
)
def test_local_and_remote_answers_are_equal(server: OxigraphServer, args, fmt):
    here = local(*args, "-f", fmt)
    there = remote(server, *args, "-f", fmt)
    assert here.exit_code == 0, here.stderr
    assert there.exit_code == 0, there.stderr
    assert parsed(there.stdout, fmt) == parsed(here.stdout, fmt)


def test_remote_store_keeps_values_where_cica_ld_keeps_the_written_form(server: OxigraphServer):
    """The fixture writes `12.50`; the Oxigraph server stores the value (12.5), cica-ld's own
    store answers with the literal as written."""
    q = f"SELECT ?b WHERE {{ ?s <{EX}budget> ?b }}"
    here = cli(q, "--data", str(DATA), "-f", "json")
    there = remote(server, q, "-f", "json")
    value = [json.loads(r.stdout)["results"]["bindings"][0]["b"]["value"] for r in (here, there)]
    assert value == ["12.50", "12.5"]


def test_remote_answers_are_not_empty(server: OxigraphServer):
    """Guards the equality test against two empty answers."""
    out = remote(server, "members", "-p", "date=2005-01-01", "-f", "json")
    rows = json.loads(out.stdout)["results"]["bindings"]
    assert [r["iso"]["value"] for r in rows] == ["AL", "BE"]
    out = remote(server, "count", "-f", "csv")
    assert int(out.stdout.split()[1]) > 40


def test_remote_output_file(server: OxigraphServer, tmp_path: Path):
    out = tmp_path / "m.tsv"
    r = remote(server, "members", "-p", "date=2005-01-01", "-o", str(out))
    assert r.exit_code == 0, r.stderr
    answer = ox.parse_query_results(out.read_bytes(), format=ox.QueryResultsFormat.TSV)
    assert [s["iso"].value for s in answer] == ["AL", "BE"]


def test_library_select_ask_construct(server: OxigraphServer):
    sols = ep.select(server.query_url, f"SELECT ?i WHERE {{ ?s <{EX}iso> ?i }} ORDER BY ?i")
    assert [s["i"].value for s in sols] == ["AL", "BE", "GA"]
    assert ep.ask(server.query_url, "ASK { ?s ?p ?o }") is True
    triples = ep.construct(server.query_url, f"CONSTRUCT WHERE {{ ?s <{EX}iso> ?i }}")
    assert len(triples) == 3


# --- failures: exit 3 with a one-line message ---------------------------------------------------


def test_unreachable_endpoint_is_exit_3():
    r = cli("count", "--endpoint", f"http://127.0.0.1:{free_port()}/query", "--timeout", "5")
    assert r.exit_code == 3
    assert "cannot connect to" in r.stderr
    assert "Traceback" not in r.stderr


def test_http_error_carries_the_servers_message(server: OxigraphServer):
    r = cli("count", "--endpoint", f"{server.base}/no-such-service")
    assert r.exit_code == 3
    assert "HTTP 404" in r.stderr
    assert "is not supported by this server" in r.stderr  # Oxigraph's own words


def test_server_failing_inside_a_200_answer_is_exit_3(server: OxigraphServer):
    """Oxigraph reports a failed SERVICE call inside a 200 answer; we must not pass it on."""
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"
    for fmt in ("json", "table"):
        r = remote(server, query, "--allow-service", "-f", fmt)
        assert r.exit_code == 3, (fmt, r.stdout)
        assert "not allowed" in r.stderr  # the server's explanation
        assert r.stdout == ""


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/query"
    finally:
        stop.set()
        thread.join(timeout=5)
        for c in held:
            c.close()
        sock.close()


def test_timeout_is_exit_3(silent_server: str):
    start = time.monotonic()
    r = cli("count", "--endpoint", silent_server, "--timeout", "0.5")
    assert r.exit_code == 3
    assert "no answer within 0.5 s" in r.stderr
    assert time.monotonic() - start < 10


def test_library_timeout_raises_endpoint_error(silent_server: str):
    with pytest.raises(EndpointError, match="no answer within"):
        ep.sparql_query(silent_server, "ASK {}", accept=ep.RESULTS_JSON, timeout=0.3)


@pytest.mark.parametrize("url", ["localhost:7878/query", "ftp://example.org/q", "http://", "x"])
def test_bad_endpoint_url_is_exit_2(url: str):
    r = cli("count", "--endpoint", url)
    assert r.exit_code == 2
    assert "--endpoint needs an http:// or https:// URL" in r.stderr
    with pytest.raises(UsageError):
        ep.check_url(url)


def test_query_errors_are_caught_before_sending(silent_server: str):
    """Malformed SPARQL and updates are exit 2 without contacting the endpoint (which would
    time out here)."""
    r = cli("SELECT * WHERE { ?s ?p }", "--endpoint", silent_server, "--timeout", "30")
    assert r.exit_code == 2 and "SPARQL syntax error" in r.stderr
    r = cli("DROP ALL", "--endpoint", silent_server, "--timeout", "30")
    assert r.exit_code == 2 and "refused" in r.stderr
