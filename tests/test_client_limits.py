"""The HTTP client's limits (issue 15, item 5): a total deadline for ``--timeout``, a cap on
the size of an answer, and no redirect unless ``--follow-redirects``.

Each test runs against a tiny HTTP server on 127.0.0.1 (http.server in a daemon thread): it
drips an answer a byte at a time, sends a body larger than the cap, or redirects. Every loop
is bounded, and the server stops when the test ends.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cica_ld import endpoint as ep
from cica_ld.cli import app
from cica_ld.errors import EndpointError

DATA = Path(__file__).resolve().parent / "fixtures" / "sparql-safety" / "people.ttl"
ANSWER = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"urn:x"}}]}}'
DRIP_BYTES = 60  # at most this many bytes, one every DRIP_EVERY seconds: ends by itself
DRIP_EVERY = 0.1


class Server:
    """Answers every GET/POST/PUT with ``handler(self)``; counts the requests by path."""

    def __init__(self, handler: Callable[[http.server.BaseHTTPRequestHandler], None]) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                outer.paths.append(self.path)
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                # the client may give up: what the deadline and the cap are for
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(handler: Callable[[http.server.BaseHTTPRequestHandler], None]) -> Server:
        servers.append(Server(handler))
        return servers[-1]

    try:
        yield start
    finally:
        for s in servers:
            s.close()


def drip_body(h: http.server.BaseHTTPRequestHandler) -> None:
    """Headers at once, then the body a byte per DRIP_EVERY s (each read is quick)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/sparql-results+json")
    h.send_header("Content-Length", str(DRIP_BYTES))
    h.end_headers()
    for _ in range(DRIP_BYTES):
        h.wfile.write(b" ")
        h.wfile.flush()
        time.sleep(DRIP_EVERY)


def drip_headers(h: http.server.BaseHTTPRequestHandler) -> None:
    """The status line, then one header byte per DRIP_EVERY s: the headers never end in time."""
    h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(DRIP_BYTES):
        h.wfile.write(b"a")
        h.wfile.flush()
        time.sleep(DRIP_EVERY)


def big(size: int, *, declared: bool) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def handler(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/sparql-results+json")
        if declared:
            h.send_header("Content-Length", str(size))
        else:
            h.send_header("Connection", "close")
        h.end_headers()
        chunk = b" " * 65536
        sent = 0
        while sent < size:
            h.wfile.write(chunk[: size - sent])
            sent += len(chunk)

    return handler


def redirect(target: str) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def handler(h: http.server.BaseHTTPRequestHandler) -> None:
        if h.path.startswith("/moved"):
            h.send_response(302)
            h.send_header("Location", target)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/sparql-results+json")
        h.send_header("Content-Length", str(len(ANSWER)))
        h.end_headers()
        h.wfile.write(ANSWER)

    return handler


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


# ---------------------------------------------------------------------------------------------
# A total deadline
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("handler", [drip_body, drip_headers], ids=["body", "headers"])
def test_timeout_is_a_total_deadline_against_a_slow_drip(serve, handler) -> None:
    """Each read is fast (0.1 s apart, far under the timeout), yet the whole answer would take
    6 s: with --timeout 1 the request ends near 1 s."""
    server = serve(handler)
    start = time.monotonic()
    with pytest.raises(
        EndpointError, match=r"no answer within 1 s \(the deadline of the whole request\)"
    ):
        ep.sparql_query(server.url + "/sparql", "ASK {}", accept=ep.RESULTS_JSON, timeout=1)
    assert time.monotonic() - start < 3


def test_cli_query_endpoint_timeout_exit_3(serve) -> None:
    server = serve(drip_body)
    start = time.monotonic()
    result = cli("query", "ASK {}", "--endpoint", server.url + "/sparql", "--timeout", "1")
    assert result.exit_code == 3, result.stderr
    assert (
        "no answer within 1 s (the deadline of the whole request)" in result.stderr
        and "--timeout" in result.stderr
    )
    assert time.monotonic() - start < 3


def test_cli_validate_endpoint_timeout_exit_3(serve) -> None:
    server = serve(drip_body)
    start = time.monotonic()
    result = cli("validate", "--endpoint", server.url + "/sparql", "--timeout", "1")
    assert result.exit_code == 3, result.stderr
    assert "no answer within 1 s (the deadline of the whole request)" in result.stderr
    assert time.monotonic() - start < 5


# ---------------------------------------------------------------------------------------------
# A cap on the size of an answer
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_an_answer_over_the_cap_is_refused(serve, declared: bool) -> None:
    server = serve(big(3_000_000, declared=declared))
    with ep.limits(max_bytes=1_000_000), pytest.raises(EndpointError) as info:
        ep.sparql_query(server.url + "/sparql", "ASK {}", accept=ep.RESULTS_JSON, timeout=10)
    assert "larger than 1 MB (--max-response)" in str(info.value)


def test_an_answer_under_the_cap_is_read(serve) -> None:
    server = serve(redirect("unused"))
    with ep.limits(max_bytes=len(ANSWER)):
        got = ep.sparql_query(server.url + "/sparql", "ASK {}", accept=ep.RESULTS_JSON)
    assert got.content == ANSWER


def test_cli_max_response_exit_3_names_the_option(serve) -> None:
    server = serve(big(3_000_000, declared=False))
    result = cli(
        "query", "SELECT * { ?s ?p ?o }", "--endpoint", server.url + "/sparql",
        "--max-response", "1", "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 3, result.stderr
    assert "larger than 1 MB (--max-response)" in result.stderr


def test_default_cap_is_documented_value() -> None:
    assert ep.DEFAULT_MAX_BYTES == 256_000_000
    assert ep.Limits().max_bytes == ep.DEFAULT_MAX_BYTES


# ---------------------------------------------------------------------------------------------
# Redirects only with --follow-redirects
# ---------------------------------------------------------------------------------------------


def test_a_redirect_is_not_followed_by_default(serve) -> None:
    target = serve(redirect("unused"))
    origin = serve(redirect(target.url + "/sparql"))
    with pytest.raises(EndpointError, match=r"redirects \(HTTP 302\) to .*: not followed"):
        ep.sparql_query(origin.url + "/moved", "ASK {}", accept=ep.RESULTS_JSON, timeout=5)
    assert target.paths == []


def test_cli_redirect_exit_3_then_followed_with_the_flag(serve) -> None:
    target = serve(redirect("unused"))
    origin = serve(redirect(target.url + "/sparql"))
    args = ["query", "SELECT ?s { ?s ?p ?o }", "--endpoint", origin.url + "/moved", "-f", "csv"]
    refused = cli(*args)
    assert refused.exit_code == 3, refused.stderr
    assert "--follow-redirects" in refused.stderr
    assert target.paths == []
    followed = cli(*args, "--follow-redirects")
    assert followed.exit_code == 0, followed.stderr
    assert target.paths == ["/sparql"]
    assert followed.stdout.splitlines() == ["s", "urn:x"]


def test_load_does_not_follow_a_redirect(serve) -> None:
    target = serve(redirect("unused"))
    origin = serve(redirect(target.url + "/store"))
    result = cli("load", "--endpoint", origin.url + "/moved", "--data", str(DATA))
    assert result.exit_code == 3, result.stderr
    assert "not followed" in result.stderr
    assert target.paths == []
