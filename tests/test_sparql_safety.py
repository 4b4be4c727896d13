"""Read-only and no-SERVICE, decided as pyoxigraph parses the query (issue 15, item 1).

A loopback HTTP server started here counts the requests it receives: it stands for the
"internal" endpoint a SERVICE call or a LOAD would reach. A refused query must cause zero
requests; a query that pyoxigraph would send to it must be refused. The fuzz test builds
queries from escaped IRIs, comments, strings and nesting around SERVICE, INSERT and LOAD, and
compares the check with what pyoxigraph itself does with the same text.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cica_ld import query as q
from cica_ld import server
from cica_ld.cli import app
from cica_ld.errors import InputError, QuerySyntaxError, UnsafeQueryError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sparql-safety"
DATA = FIXTURES / "people.ttl"
SHAPES_SERVICE = FIXTURES / "shapes-service.ttl"
ANSWER = b'{"head":{"vars":["s","p","o"]},"results":{"bindings":[{}]}}'


class Counter:
    """A loopback SPARQL-ish endpoint that answers every request with one empty solution and
    counts what it received (served by a daemon thread, shut down by the fixture)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                counter.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(ANSWER)))
                self.end_headers()
                self.wfile.write(ANSWER)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/internal"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        return len(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Counter]:
    c = Counter()
    try:
        yield c
    finally:
        c.close()


def the_bypass(url: str) -> str:
    """The reported bypass: pyoxigraph decodes ``\\u003A`` inside the IRI, so the quote after it
    is part of the IRI and SERVICE is a keyword; a reader that stops the IRI at the backslash
    sees a string running to the final comment, and no SERVICE."""
    return f"SELECT * WHERE {{ BIND(<urn\\u003Ax'> AS ?x) SERVICE <{url}> {{?s ?p ?o}} }} #'"


def pyoxigraph_calls(text: str, endpoint: Counter) -> bool:
    """Whether pyoxigraph, left alone with ``text`` on an empty store, sends a request (runs a
    SERVICE as a query, or a LOAD or SERVICE as an update)."""
    before = endpoint.count()
    store = pyoxigraph.Store()
    try:
        answer = store.query(text, prefixes=q.DEFAULT_PREFIXES)
        if not isinstance(answer, pyoxigraph.QueryBoolean):
            list(answer)
    except SyntaxError:
        with contextlib.suppress(SyntaxError, OSError, RuntimeError, ValueError):
            store.update(text)
    except (OSError, RuntimeError, ValueError):
        pass
    return endpoint.count() > before


def is_update(text: str) -> bool:
    """Whether pyoxigraph parses ``text`` as a SPARQL Update (run on a throwaway empty store;
    a LOAD or SERVICE in it reaches only the loopback counter)."""
    try:
        pyoxigraph.Store().update(text)
    except SyntaxError:
        return False
    except (OSError, RuntimeError, ValueError):
        return True
    return True


# ---------------------------------------------------------------------------------------------
# The reported reproductions
# ---------------------------------------------------------------------------------------------


def test_escaped_iri_does_not_hide_service_from_the_check(endpoint: Counter) -> None:
    text = the_bypass(endpoint.url)
    assert pyoxigraph_calls(text, endpoint)  # the finding: pyoxigraph runs this SERVICE
    before = endpoint.count()
    with pytest.raises(UnsafeQueryError, match="SERVICE"):
        q.prepare(text)
    assert endpoint.count() == before


def test_cli_refuses_the_bypass_without_a_request(endpoint: Counter) -> None:
    before = endpoint.count()
    result = CliRunner().invoke(app, ["query", the_bypass(endpoint.url), "--data", str(DATA)])
    assert result.exit_code == 2, result.stderr
    assert "SERVICE" in result.stderr and "--allow-service" in result.stderr
    assert endpoint.count() == before


def test_server_refuses_the_bypass_with_403_and_no_request(endpoint: Counter) -> None:
    store = pyoxigraph.Store()
    before = endpoint.count()
    req = server.QueryRequest(query=the_bypass(endpoint.url))
    answer = server.execute_query(store, req, timeout=5, max_results=10)
    assert answer.status == 403
    assert b"SERVICE" in answer.body
    assert endpoint.count() == before


def test_allow_service_still_refuses_a_hidden_update(endpoint: Counter) -> None:
    hidden = (
        f"PREFIX x: <urn\\u003Ax'> INSERT DATA {{ <urn:a> <urn:b> <urn:c> }} ; "
        f"INSERT {{ }} WHERE {{ SERVICE <{endpoint.url}> {{ }} }} #'"
    )
    before = endpoint.count()
    with pytest.raises(InputError):
        q.prepare(hidden, allow_service=True)
    assert endpoint.count() == before


def test_allow_service_lets_a_service_query_through(endpoint: Counter) -> None:
    text = the_bypass(endpoint.url)
    prepared = q.prepare(text, allow_service=True)
    assert prepared.uses_service
    before = endpoint.count()
    q.execute(prepared, pyoxigraph.Store())  # the user allowed it: the call is made
    assert endpoint.count() > before


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { ?s ?p 'web service' }",
        "SELECT * WHERE { ?s a <http://schema.org/Service> }",
        "PREFIX schema: <http://schema.org/> SELECT ?service WHERE { ?service a schema:Service }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/> {}",
        'SELECT * WHERE { ?s ?p "\\u0053ERVICE" }',
    ],
)
def test_service_only_as_text_is_not_refused(text: str) -> None:
    assert q.prepare(text).uses_service is False


def test_an_escaped_keyword_is_not_a_keyword_for_pyoxigraph() -> None:
    """``\\u0053ERVICE`` outside a string is not SPARQL to pyoxigraph: a syntax error, no call."""
    with pytest.raises(InputError):
        q.prepare("SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")


def test_bound_parameters_are_checked_in_the_text_that_runs() -> None:
    prepared = q.prepare("SELECT ?s WHERE { ?s ?p ?o }", ["s=<http://x/SERVICE>"])
    assert "SERVICE" in prepared.text and not prepared.uses_service


def test_a_syntax_error_near_service_is_refused_not_run() -> None:
    with pytest.raises(UnsafeQueryError, match="cannot be shown"):
        q.check_safety("SELECT * WHERE { ?s ?p 'service' ")
    with pytest.raises(QuerySyntaxError):
        q.check_safety("SELECT * WHERE { ?s ?p 'service' ", allow_service=True)


# ---------------------------------------------------------------------------------------------
# Shapes: neither engine runs a SERVICE of sh:select
# ---------------------------------------------------------------------------------------------


def _shapes(tmp_path: Path, url: str, *, trick: bool) -> Path:
    bind = "BIND(<urn\\\\u003Ax'> AS ?x) " if trick else ""
    tail = " #'" if trick else ""
    body = f"SELECT $this WHERE {{ {bind}SERVICE <{url}> {{ $this ?p ?o }} }}{tail}"
    text = SHAPES_SERVICE.read_text(encoding="utf-8").replace("QUERY", body)
    out = tmp_path / "shapes.ttl"
    out.write_text(text, encoding="utf-8")
    return out


@pytest.mark.parametrize("engine", ["native", "pyshacl"])
@pytest.mark.parametrize("trick", [False, True])
def test_validate_never_runs_service_of_a_shape(
    tmp_path: Path, endpoint: Counter, engine: str, trick: bool
) -> None:
    shapes = _shapes(tmp_path, endpoint.url, trick=trick)
    before = endpoint.count()
    result = CliRunner().invoke(
        app, ["validate", "--data", str(DATA), "--shapes", str(shapes), "--engine", engine]
    )
    assert result.exit_code == 2, result.stderr
    assert "SERVICE" in result.stderr
    assert endpoint.count() == before


def test_pyshacl_is_not_handed_shapes_that_call_service(endpoint: Counter) -> None:
    """Straight to the pySHACL path (no shapes graph check first): refused by cica-ld's own
    check on rdflib's parse, whatever pySHACL would make of it."""
    from cica_ld import validation

    shapes = pyoxigraph.Store()
    text = (
        SHAPES_SERVICE.read_text(encoding="utf-8")
        .replace("QUERY", f"SELECT $this WHERE {{ SERVICE <{endpoint.url}> {{ $this ?p ?o }} }}")
        .encode()
    )
    shapes.load(text, pyoxigraph.RdfFormat.TURTLE)
    data = pyoxigraph.Store()
    data.load(DATA.read_bytes(), pyoxigraph.RdfFormat.TURTLE)
    before = endpoint.count()
    with pytest.raises(InputError, match="calls SERVICE: refused, validation never fetches"):
        validation.validate_with_pyshacl(data, shapes, None)  # our check, before pySHACL's
    assert endpoint.count() == before


# ---------------------------------------------------------------------------------------------
# Fuzz: whatever pyoxigraph would send out, the check refuses (and the check sends nothing)
# ---------------------------------------------------------------------------------------------

KEYWORDS = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "\\u0053ERVICE", "SERV\\u0049CE"]
DECOYS = [
    "BIND(<urn\\u003Ax'> AS ?x)",
    'BIND(<urn\\u003Ax"> AS ?x)',
    "BIND(<urn\\U0000003Ax'> AS ?x)",
    'BIND("\\u0022 SERVICE" AS ?y)',
    "BIND('''x ' SERVICE''' AS ?y)",
    "BIND('it''s' AS ?y)",
    "?s <http://x/SERVICE> ?o .",
    "?s <urn\\u0027x> ?o .",
    "# a comment ' SERVICE\n",
    "# <urn:x>\n",
    "FILTER(?s != 'service')",
    'BIND("#" AS ?h)',
    "OPTIONAL { ?s ?p ?o }",
    "{ ?s ?p ?o } UNION { ?a ?b ?c }",
    "",
]
TAILS = ["", " #'", ' #"', " # '''", "\n# }"]


@st.composite
def hostile(draw: st.DrawFn, url: str) -> str:
    """A query or update with a SERVICE, INSERT or LOAD among decoys, nested a few levels."""
    iri = draw(st.sampled_from([url, url.replace(":", "\\u003A", 1), url.replace("/", "\\u002F")]))
    kind = draw(st.sampled_from(["service", "service", "insert", "load", "delete"]))
    decoys = draw(st.lists(st.sampled_from(DECOYS), max_size=3))
    if kind == "service":
        core = f"{draw(st.sampled_from(KEYWORDS))} <{iri}> {{ ?s ?p ?o }}"
    else:
        core = "?s ?p ?o"
    inner = " ".join([*decoys[:1], core, *decoys[1:]])
    for _ in range(draw(st.integers(0, 3))):
        inner = draw(
            st.sampled_from(["{{ {} }}", "OPTIONAL {{ {} }}", "{{ {} }} UNION {{ }}"])
        ).format(inner)
    form = draw(st.sampled_from(["SELECT * WHERE", "ASK", "CONSTRUCT { ?s ?p ?o } WHERE"]))
    head = draw(
        st.sampled_from(["", "PREFIX x: <urn\\u003Ax'> ", "# ' SERVICE\n", "BASE <urn:b> "])
    )
    if kind == "insert":
        text = f"{head}INSERT {{ <urn:a> <urn:b> <urn:c> }} WHERE {{ {inner} }}"
    elif kind == "delete":
        text = f"{head}DELETE WHERE {{ {inner} }}"
    elif kind == "load":
        text = f"{head}LOAD <{iri}>"
    else:
        text = f"{head}{form} {{ {inner} }}"
    return text + draw(st.sampled_from(TAILS))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_refused_whenever_pyoxigraph_would_run_it(endpoint: Counter, data: st.DataObject):
    text = data.draw(hostile(endpoint.url))
    before = endpoint.count()
    try:
        info = q.analyse(text)
        refused = False
    except InputError:
        refused = True
    assert endpoint.count() == before, f"the check itself sent a request: {text!r}"
    if pyoxigraph_calls(text, endpoint):
        assert refused, f"pyoxigraph sends a request for {text!r} and the check let it pass"
    if not refused:
        assert not info.uses_service
        assert not is_update(text), text
        answer = server.execute_query(
            pyoxigraph.Store(), server.QueryRequest(query=text), timeout=5, max_results=5
        )
        assert answer.status != 403
    before = endpoint.count()
    answer = server.execute_query(
        pyoxigraph.Store(), server.QueryRequest(query=text), timeout=5, max_results=5
    )
    assert endpoint.count() == before, f"the server sent a request for {text!r}"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_allow_service_never_lets_an_update_through(
    endpoint: Counter, data: st.DataObject
) -> None:
    text = data.draw(hostile(endpoint.url))
    before = endpoint.count()
    try:
        q.analyse(text, allow_service=True)
    except InputError:
        assert endpoint.count() == before
        return
    assert endpoint.count() == before, f"the check itself sent a request: {text!r}"
    assert not is_update(text), f"pyoxigraph reads {text!r} as an update and the check let it pass"


def test_rdflib_queries_run_for_pyshacl_refuse_service(endpoint: Counter) -> None:
    """The backstop while pySHACL runs: whatever text it builds, rdflib's parse of it decides
    (here ``\\u0053ERVICE``, which rdflib decodes to the keyword before parsing)."""
    import rdflib

    from cica_ld import validation

    graph = rdflib.Graph()
    before = endpoint.count()
    with validation._sparql_parsed_once():
        for text in (
            f"SELECT * WHERE {{ SERVICE <{endpoint.url}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ \\u0053ERVICE <{endpoint.url}> {{ ?s ?p ?o }} }}",
        ):
            with pytest.raises(InputError, match="calls SERVICE"):
                graph.query(text)
        assert list(graph.query("SELECT * WHERE { ?s ?p 'service' }")) == []
    assert endpoint.count() == before
