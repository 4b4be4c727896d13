"""`cica-ld serve` under hostile clients (issue 15, item 4): abandoned queries, a full queue,
huge answers, unread answers, dump floods, crashed workers, paths that are not IRIs, long
URLs, idle and slow connections, too many connections.

Most tests drive the ASGI app in-process (with its lifespan, so the query workers really
start), some with a hand-made ASGI ``receive``/``send`` to play a client that hangs up or stops
reading. The connection limits live in uvicorn's protocol, so those tests start the real
`cica-ld serve` on a loopback port. The data is a small FOAF graph under example.org.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
import pytest

from cica_ld import server

EX = "http://example.org/"
PEOPLE = EX + "people/"
FOAF = "http://xmlns.com/foaf/0.1/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: a four-way cross join: hours of work before the first solution
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = "ASK { ?s ?p ?o }"


def nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def people_store(n: int = 100, note: int = 0) -> ox.Store:
    """``n`` foaf:Person, each with a name and, with ``note`` > 0, a note of that length."""
    s = ox.Store()
    quads = []
    for i in range(n):
        p = nn(f"{PEOPLE}p{i}")
        quads.append(ox.Quad(p, nn(RDF_TYPE), nn(FOAF + "Person")))
        quads.append(ox.Quad(p, nn(FOAF + "name"), ox.Literal(f"Person {i}")))
        if note:
            quads.append(ox.Quad(p, nn(EX + "note"), ox.Literal(f"{i:06d}" + "x" * note)))
    s.extend(quads)
    return s


def write_people(path: Path, n: int = 100) -> Path:
    lines = [f"@prefix foaf: <{FOAF}> ."]
    for i in range(n):
        lines.append(f'<{PEOPLE}p{i}> a foaf:Person ; foaf:name "Person {i}" .')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class App:
    """The app with its lifespan entered, on an event loop in a thread."""

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

    @property
    def pool(self) -> Any:
        return self.app.state.executor

    def call(self, coro: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.call(self.client.get(url, **kw))

    def close(self) -> None:
        self.call(self.client.aclose())
        self.call(self._lifespan.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@contextlib.contextmanager
def running(app: Any) -> Iterator[App]:
    a = App(app)
    try:
        yield a
    finally:
        a.close()


def scope_for(path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


async def hang_up_after(app: Any, path: str, query: bytes, delay: float) -> list[Any]:
    """A GET whose client disconnects ``delay`` seconds after sending it; what was sent."""
    sent: list[Any] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(delay)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope_for(path, query), receive, send)
    return sent


def sparql_qs(query: str) -> bytes:
    return urlencode({"query": query}).encode()


# ---------------------------------------------------------------------------------------------
# A query whose client hung up is stopped; its worker is replaced
# ---------------------------------------------------------------------------------------------


def test_a_query_whose_client_hung_up_is_stopped_and_its_worker_replaced() -> None:
    app = server.create_app(people_store(100), workers=1, query_timeout=60)
    with running(app) as a:
        before = set(a.pool.pids)
        # the client leaves 0.3 s after asking; without cancellation this waits 61 s
        sent = a.call(hang_up_after(app, "/sparql", sparql_qs(RUNAWAY), 0.3), timeout=20)
        assert a.pool.stats.cancelled == 1
        assert sent == [] or sent[0]["status"] == 503
        # the one worker was killed and replaced: the next query is answered
        r = a.get("/sparql", params={"query": ASK}, timeout=20)
        assert r.status_code == 200
        assert json.loads(r.content)["boolean"] is True
        assert not (set(a.pool.pids) & before)


def test_a_cancelled_wait_in_the_queue_gives_its_place_up() -> None:
    app = server.create_app(people_store(100), workers=1, query_timeout=60, max_queue=1)
    with running(app) as a:
        running_q = a.submit(hang_up_after(app, "/sparql", sparql_qs(RUNAWAY), 1.0))
        _wait_for(lambda: a.pool.stats.queries == 1)
        queued = a.submit(hang_up_after(app, "/sparql", sparql_qs(RUNAWAY), 0.3))
        queued.result(20)
        running_q.result(20)
        assert a.pool.waiting == 0
        assert a.get("/sparql", params={"query": ASK}, timeout=20).status_code == 200


def _wait_for(cond: Any, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# Bounded queue: 503 with Retry-After
# ---------------------------------------------------------------------------------------------


def test_a_full_queue_answers_503_with_retry_after() -> None:
    app = server.create_app(people_store(100), workers=1, query_timeout=1.0, max_queue=1)
    with running(app) as a:
        slow = [a.submit(a.client.get("/sparql", params={"query": RUNAWAY})) for _ in range(2)]
        _wait_for(lambda: a.pool.stats.queries == 1 and a.pool.waiting == 1)
        busy = a.get("/sparql", params={"query": ASK})
        assert busy.status_code == 503
        assert busy.headers["retry-after"].isdigit()
        assert "--max-queue" in busy.text
        assert busy.text.count("\n") == 1
        assert a.pool.stats.rejected == 1
        assert [f.result(30).status_code for f in slow] == [503, 503]  # their own timeouts
        assert a.get("/sparql", params={"query": ASK}).status_code == 200


def test_threads_have_a_bounded_queue_too() -> None:
    app = server.create_app(people_store(30), workers=0, query_timeout=5.0, max_queue=0)
    with running(app) as a:
        ex = a.pool
        ex._in_flight = ex.THREADS  # every thread busy
        busy = a.get("/sparql", params={"query": ASK})
        assert busy.status_code == 503
        assert "retry-after" in busy.headers
        ex._in_flight = 0
        assert a.get("/sparql", params={"query": ASK}).status_code == 200


# ---------------------------------------------------------------------------------------------
# Byte cap beside the row cap
# ---------------------------------------------------------------------------------------------

CAP = 5_000


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT ?s ?o WHERE { ?s ?p ?o }", "application/sparql-results+json"),
        ("SELECT ?s ?o WHERE { ?s ?p ?o }", "application/sparql-results+xml"),
        ("SELECT ?s ?o WHERE { ?s ?p ?o }", "text/csv"),
        ("SELECT ?s ?o WHERE { ?s ?p ?o }", "text/tab-separated-values"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/ld+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/rdf+xml"),
    ],
)
def test_answers_stop_at_the_byte_cap_as_complete_documents(query: str, accept: str) -> None:
    store = people_store(60, note=200)  # ~ 20 kB of N-Triples
    app = server.create_app(store, workers=0, max_response_bytes=CAP)
    with running(app) as a:
        r = a.get("/sparql", params={"query": query}, headers={"accept": accept})
        assert r.status_code == 200
        assert len(r.content) <= CAP
        assert r.headers["x-sparql-maxbytes"] == str(CAP)
        n = _count(r.content, accept)
        assert 0 < n < len(store)
        # the same query under a cap it fits is whole and says nothing
        app2 = server.create_app(store, workers=0, max_response_bytes=10**7)
        with running(app2) as b:
            whole = b.get("/sparql", params={"query": query}, headers={"accept": accept})
            assert "x-sparql-maxbytes" not in whole.headers
            assert _count(whole.content, accept) > n


def _count(body: bytes, accept: str) -> int:
    results = {
        "application/sparql-results+json": ox.QueryResultsFormat.JSON,
        "application/sparql-results+xml": ox.QueryResultsFormat.XML,
        "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    }
    if accept == "text/csv":
        import csv
        import io

        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        assert rows[0] == ["s", "o"]
        return len(rows) - 1
    if accept in results:
        return len(list(ox.parse_query_results(body, format=results[accept])))
    if accept == "application/ld+json":
        import pyld.jsonld

        return len(pyld.jsonld.to_rdf(json.loads(body))["@default"])
    return len(list(ox.parse(body, format=ox.RdfFormat.from_media_type(accept))))


def test_one_term_larger_than_the_cap_gives_an_empty_capped_answer() -> None:
    big = "SELECT ?x WHERE { ?s ?p ?o BIND(CONCAT(?o, ?o, ?o, ?o, ?o, ?o, ?o, ?o) AS ?x) }"
    app = server.create_app(people_store(5, note=2_000), workers=1, max_response_bytes=CAP)
    with running(app) as a:
        r = a.get("/sparql", params={"query": big})
        assert r.status_code == 200
        assert len(r.content) <= CAP
        assert r.headers["x-sparql-maxbytes"] == str(CAP)
        rows = json.loads(r.content)["results"]["bindings"]
        assert all(len(row.get("x", {}).get("value", "")) <= CAP for row in rows)


async def never_read(app: Any, path: str, query: bytes, state: dict[str, Any]) -> None:
    """A client that asks, takes the head, then never reads the body."""
    stuck = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not state.get("asked"):
            state["asked"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
            return
        await stuck.wait()  # the body never drains

    await app(scope_for(path, query), receive, send)


def test_unread_answers_are_bounded_then_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "SEND_TIMEOUT", 1.0)
    cap = 100_000
    store = people_store(400, note=300)  # each full answer is cut at the cap
    app = server.create_app(store, workers=0, max_response_bytes=cap)
    big = sparql_qs("SELECT ?s ?o WHERE { ?s ?p ?o }")
    with running(app) as a:
        states = [{} for _ in range(9)]
        held = [a.submit(never_read(app, "/sparql", big, st)) for st in states[:8]]
        _wait_for(lambda: all(st.get("status") == 200 for st in states[:8]))
        # eight answers of up to 100 kB are held for readers that do not read: the ninth waits
        extra = a.get("/sparql", params={"query": "SELECT ?s ?o WHERE { ?s ?p ?o }"})
        assert extra.status_code == 503
        assert "retry-after" in extra.headers
        for f in held:
            f.result(20)  # given up after SEND_TIMEOUT
        again = a.get("/sparql", params={"query": "SELECT ?s ?o WHERE { ?s ?p ?o }"})
        assert again.status_code == 200


# ---------------------------------------------------------------------------------------------
# Dumps: computed once, streamed, never holding the request threads
# ---------------------------------------------------------------------------------------------


def _user_site_app(store: ox.Store, tmp_path: Path, **kw: Any) -> Any:
    from cica_ld import publish

    site = publish.user_site(store, [tmp_path / "people.ttl"])
    return server.create_app(store, base_iri=PEOPLE, site=site, **kw), site


def test_dumps_are_computed_once_at_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cica_ld import publish

    # the old render cache refused bodies over a quarter of its budget: shrink it so that a
    # small dump is "large" and would be recomputed per request
    monkeypatch.setattr(server.RenderCache.__init__, "__defaults__", (1_000,))
    calls: list[str] = []
    real = publish.export_document

    def counting(quads: Any, fmt: str, **kw: Any) -> bytes:
        calls.append(fmt)
        return real(quads, fmt, **kw)

    monkeypatch.setattr(publish, "export_document", counting)
    store = people_store(50)
    app, site = _user_site_app(store, tmp_path, workers=0)
    name = next(n for n, f in site.dumps().items() if f == "ntriples")
    with running(app) as a:
        bodies = [a.get(f"/dumps/{name}") for _ in range(5)]
    assert all(b.status_code == 200 for b in bodies)
    assert len(bodies[0].content) > 1_000
    triples = {q.triple for q in ox.parse(bodies[0].content, format=ox.RdfFormat.N_TRIPLES)}
    assert triples == {q.triple for q in store}
    assert len({b.content for b in bodies}) == 1
    assert calls == ["ntriples"]


def test_a_flood_of_dump_requests_does_not_hold_up_other_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cica_ld import publish

    release = threading.Event()
    real = publish.export_document

    def slow(quads: Any, fmt: str, **kw: Any) -> bytes:
        release.wait(30)  # a dump that takes long to compute
        return real(quads, fmt, **kw)

    monkeypatch.setattr(publish, "export_document", slow)
    store = people_store(50)
    app, site = _user_site_app(store, tmp_path, workers=0)  # the dumps made in this process
    name = next(iter(site.dumps()))
    with running(app) as a:
        dumps = [a.submit(a.client.get(f"/dumps/{name}")) for _ in range(40)]
        time.sleep(0.3)
        # with every request thread waiting on a dump, these could not be answered
        page = a.get(f"/p{1}", headers={"accept": "application/n-triples"}, timeout=10)
        ask = a.get("/sparql", params={"query": ASK}, timeout=10)
        assert page.status_code == 200
        assert ask.status_code == 200
        assert not any(d.done() for d in dumps)
        release.set()
        assert {d.result(60).status_code for d in dumps} == {200}


def test_with_query_workers_dumps_are_made_by_a_process_of_their_own(tmp_path: Path) -> None:
    store = people_store(50)
    app, site = _user_site_app(store, tmp_path, workers=1)
    inline, _ = _user_site_app(store, tmp_path, workers=0)
    with running(app) as a, running(inline) as b:
        for name in site.dumps():
            r = a.get(f"/dumps/{name}")
            assert r.status_code == 200
            assert r.content == b.get(f"/dumps/{name}").content  # the same bytes
        # made once each: the folder holds one file per dump
        folder = Path(app.state.handlers._dump_dir)
        assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(
            site.dumps()
        )


# ---------------------------------------------------------------------------------------------
# A worker that died is replaced, never reused
# ---------------------------------------------------------------------------------------------


def test_a_crashed_worker_is_replaced_and_the_request_gets_a_one_line_500() -> None:
    app = server.create_app(people_store(100), workers=1, query_timeout=30)
    with running(app) as a:
        (pid,) = a.pool.pids
        fut = a.submit(a.client.get("/sparql", params={"query": RUNAWAY}))
        _wait_for(lambda: a.pool.stats.queries == 1)
        time.sleep(0.3)
        os.kill(pid, signal.SIGSEGV)  # what a crash in the query engine looks like
        r = fut.result(20)
        assert r.status_code == 500
        assert r.text.count("\n") == 1
        assert "SIGSEGV" in r.text
        assert "Traceback" not in r.text
        assert a.pool.stats.crashed == 1
        for _ in range(3):
            ok = a.get("/sparql", params={"query": ASK}, timeout=20)
            assert ok.status_code == 200
        assert pid not in a.pool.pids
        assert len(a.pool.pids) == 1


# ---------------------------------------------------------------------------------------------
# Paths that are not IRIs: 400; over-long URLs: 414
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/p%20q", "/p%3C", "/p%22", "/p%00", "/a%7Bb%7D", "/p%20q.ttl", "/p%5Cq"]
)
def test_paths_that_are_not_iris_are_400_not_500(path: str) -> None:
    app = server.create_app(people_store(5), workers=0, base_iri=PEOPLE)
    with running(app) as a:
        r = a.get(path)
        assert r.status_code == 400
        assert "does not name a valid IRI" in r.text
        assert r.text.count("\n") == 1
        assert a.get("/p1").status_code == 200


def test_over_long_urls_are_414() -> None:
    app = server.create_app(people_store(5), workers=0, base_iri=PEOPLE)
    with running(app) as a:
        r = a.get("/" + "x" * (server.MAX_URL_BYTES + 1))
        assert r.status_code == 414
        long_query = "ASK { ?s ?p ?o } #" + "x" * server.MAX_URL_BYTES
        r = a.get("/sparql", params={"query": long_query})
        assert r.status_code == 414
        assert "POST" in r.text
        posted = a.call(
            a.client.post(
                "/sparql",
                content=long_query.encode(),
                headers={"content-type": "application/sparql-query"},
            )
        )
        assert posted.status_code == 200


# ---------------------------------------------------------------------------------------------
# The real server: connections, header and idle timeouts, no tracebacks
# ---------------------------------------------------------------------------------------------


def _start(
    data: Path, *args: str, files: int | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str, list[str]]:
    def limit() -> None:  # pragma: no cover - runs in the child
        if files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    proc = subprocess.Popen(
        [sys.executable, "-m", "cica_ld", "serve", "--data", str(data), "--port", "0",
         "--quiet", "--workers", "1", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
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
    return proc, found[0], lines


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _addr(url: str) -> tuple[str, int]:
    u = httpx.URL(url)
    return u.host, u.port or 80


@pytest.fixture
def people_file(tmp_path: Path) -> Path:
    return write_people(tmp_path / "people.ttl", 100)


@pytest.mark.slow
def test_idle_connections_beyond_the_file_limit_do_not_lock_clients_out(
    people_file: Path,
) -> None:
    # a small open-file limit stands for the 1,100 idle connections of the finding
    proc, url, lines = _start(people_file, files=160)
    socks: list[socket.socket] = []
    try:
        for _ in range(220):
            s = socket.create_connection(_addr(url), timeout=5)
            socks.append(s)
        time.sleep(0.5)
        with httpx.Client(base_url=url, timeout=10) as http:
            for _ in range(3):
                r = http.get("sparql", params={"query": ASK})
                assert r.status_code == 200
            assert http.get("p%20q").status_code == 400
    finally:
        for s in socks:
            s.close()
        _stop(proc)
    text = "".join(lines)
    assert "Traceback" not in text


@pytest.mark.slow
def test_a_silent_or_slow_client_is_dropped_at_the_header_timeout(people_file: Path) -> None:
    proc, url, lines = _start(
        people_file, "--header-timeout", "0.5", "--idle-timeout", "0.5", "--query-timeout", "1"
    )
    try:
        silent = socket.create_connection(_addr(url), timeout=10)
        assert silent.recv(100) == b""  # closed by the server, nothing sent
        slow = socket.create_connection(_addr(url), timeout=10)
        answer = b""
        for byte in b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n":
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            answer = slow.recv(1000)
        assert answer.startswith(b"HTTP/1.1 408")
        # a kept-alive connection is closed once idle
        kept = socket.create_connection(_addr(url), timeout=10)
        kept.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n")
        first = kept.recv(10_000)
        assert first.startswith(b"HTTP/1.1 200")
        rest = b""
        while chunk := kept.recv(10_000):
            rest += chunk
        assert rest == b"" or b"HTTP/1.1" not in rest
        # a request line too long to be a URL we accept, still being sent: 414
        longline = socket.create_connection(_addr(url), timeout=10)
        longline.sendall(b"GET /" + b"x" * (server.MAX_URL_BYTES + 100))
        assert longline.recv(1000).startswith(b"HTTP/1.1 414")
        # a whole request answered after the header timeout still gets its answer, kept
        # alive or not (here the query's own timeout: 503 after a second)
        closing = socket.create_connection(_addr(url), timeout=10)
        target = "/sparql?" + urlencode({"query": RUNAWAY})
        closing.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert closing.recv(1000).startswith(b"HTTP/1.1 503")
        for s in (silent, slow, kept, longline, closing):
            s.close()
    finally:
        _stop(proc)
    assert "Traceback" not in "".join(lines), "".join(lines)


@pytest.mark.slow
def test_a_real_client_hanging_up_frees_the_only_worker(people_file: Path) -> None:
    proc, url, lines = _start(people_file, "--query-timeout", "60")
    try:
        _wait_for(lambda: len(_children(proc.pid)) == 2)  # the worker and a spare
        children = _children(proc.pid)
        s = socket.create_connection(_addr(url), timeout=10)
        target = "/sparql?" + urlencode({"query": RUNAWAY})
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.5)
        s.close()
        with httpx.Client(base_url=url, timeout=20) as http:
            r = http.get("sparql", params={"query": ASK})
            assert r.status_code == 200
        assert set(children) - set(_children(proc.pid))  # the abandoned one was killed
    finally:
        _stop(proc)
    assert "Traceback" not in "".join(lines), "".join(lines)


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (each thread's: the workers start from threads)."""
    if not Path(f"/proc/{pid}/task/{pid}/children").exists():  # pragma: no cover - not Linux
        pytest.skip("needs /proc/PID/task/TID/children (Linux)")
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


#: Loaded by the server's interpreters (on PYTHONPATH): every dump first spends seconds in C
#: code that holds the GIL (a regular expression backtracking), as the blank-node
#: canonicalisation of the finding did in pyoxigraph.
SLOW_DUMPS = """
import importlib.machinery
import re
import sys


class SlowDumps:
    # patch cica_ld.publish when the server imports it (not before: it must be the server's)
    def find_spec(self, name, path, target=None):
        if name != "cica_ld.publish":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            real = module.export_document

            def slow(*args, **kwargs):
                re.match(r"(a+)+$", "a" * 27 + "b")
                return real(*args, **kwargs)

            module.export_document = slow

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, SlowDumps())
"""


@pytest.mark.slow
def test_sigterm_stops_the_server_during_a_flood_of_dump_requests(tmp_path: Path) -> None:
    data = write_people(tmp_path / "people.ttl", 50)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_DUMPS, encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH")) if p)}
    proc, url, lines = _start(data, env=env)
    socks: list[socket.socket] = []
    try:
        host, port = _addr(url)
        for i in range(40):
            s = socket.create_connection((host, port), timeout=10)
            name = ("people.jsonld", "people.ttl", "people.rdf", "people.nt")[i % 4]
            s.sendall(f"GET /dumps/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(s)
        time.sleep(1.0)
        with httpx.Client(base_url=url, timeout=10) as http:  # the server still answers
            assert http.get("sparql", params={"query": ASK}).status_code == 200
            assert http.get("p1", headers={"accept": "text/turtle"}).status_code in (200, 404)
        proc.terminate()
        # the requests still open get the grace period, then the server stops
        proc.wait(timeout=20)
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in "".join(lines), "".join(lines)
