"""`cica-ld load` at scale, at small sizes: chunks cut by blank-node closure, a chunk failing once
is retried and reported, a load that failed resumes without sending a chunk twice. Against a
real `oxigraph serve` behind a loopback proxy that fails chosen requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from _proxy import Proxy, running
from conftest import OxigraphServer
from typer.testing import CliRunner

from cica_ld import graphstore
from cica_ld.cli import app
from cica_ld.errors import EndpointError

pytestmark = pytest.mark.slow
EX = "http://example.org/"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["load", *args])


def with_blank_nodes(tmp_path: Path, n: int = 60) -> Path:
    """n people, each with an address (a blank node) and, for every third, a chain of two
    blank nodes; plus IRI-only triples between them."""
    lines = []
    for i in range(n):
        lines.append(f'<{EX}p{i}> <{EX}name> "P {i}" .')
        lines.append(f'<{EX}p{i}> <{EX}address> [ <{EX}city> "C{i % 7}" ; <{EX}no> {i} ] .')
        if i % 3 == 0:
            lines.append(f'<{EX}p{i}> <{EX}knows> [ <{EX}via> [ <{EX}label> "chain {i}" ] ] .')
    p = tmp_path / "people.ttl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def store_graph(server: OxigraphServer) -> set[ox.Quad]:
    r = httpx.get(server.store_url + "?default", headers={"Accept": "application/n-triples"})
    r.raise_for_status()
    ds = ox.Dataset(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def file_graph(path: Path) -> set[ox.Quad]:
    ds = ox.Dataset(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def triples_in_store(server: OxigraphServer) -> int:
    r = httpx.post(
        server.query_url,
        data={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    return int(json.loads(r.content)["results"]["bindings"][0]["n"]["value"])


def test_chunks_keep_each_blank_node_in_one_chunk(tmp_path: Path) -> None:
    path = with_blank_nodes(tmp_path)
    files = graphstore.check_files([(path, "turtle")])
    chunks = list(graphstore.chunks(files, chunk_triples=7))
    assert len(chunks) > 10
    where: dict[str, set[int]] = {}
    for i, chunk in enumerate(chunks):
        for t in chunk:
            for label in graphstore._blank_nodes(t):
                where.setdefault(label, set()).add(i)
    assert where and all(len(v) == 1 for v in where.values())
    assert sum(len(c) for c in chunks) == files[0].triples
    # the same input gives the same chunks (sizes), what resuming relies on
    again = list(graphstore.chunks(graphstore.check_files([(path, "turtle")]), chunk_triples=7))
    assert [len(c) for c in again] == [len(c) for c in chunks]


def test_a_chunked_load_with_blank_nodes_is_the_same_graph(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    path = with_blank_nodes(tmp_path)
    res = cli("--endpoint", oxigraph_server.store_url, "-d", str(path), "--chunk-triples", "5")
    assert res.exit_code == 0, res.output
    assert store_graph(oxigraph_server) == file_graph(path)


def test_a_chunk_failing_once_is_retried_and_reported(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    path = with_blank_nodes(tmp_path)
    with running(Proxy(oxigraph_server.base, fail=lambda n: 503 if n == 3 else None)) as proxy:
        res = cli(
            "--endpoint", proxy.base + "/store", "-d", str(path), "--chunk-triples", "20",
            "--replace",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "chunk 3 (" in res.stderr and "HTTP 503" in res.stderr
        assert "retry 1/3 in 1 s" in res.stderr
        assert "1 retried" in res.stderr
        statuses = [s[3] for s in proxy.seen]
        assert statuses.count(503) == 1 and statuses[2] == 503
        assert [s[0] for s in proxy.seen][:2] == ["PUT", "POST"]
    assert store_graph(oxigraph_server) == file_graph(path)


def test_retries_give_up_and_a_client_error_is_not_retried(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    path = with_blank_nodes(tmp_path, 10)
    files = [(path, "turtle")]
    waits: list[float] = []
    notices: list[str] = []
    with running(Proxy(oxigraph_server.base, fail=lambda n: 502)) as proxy:
        with pytest.raises(EndpointError, match="chunk 1 failed after 3 attempts"):
            graphstore.upload(
                proxy.base + "/store", files, retries=2, backoff=0.5, sleep=waits.append,
                notice=notices.append,
            )  # fmt: skip
        assert waits == [0.5, 1.0]  # doubling
        assert len(notices) == 2 and "retry 2/2" in notices[1]
    with running(Proxy(oxigraph_server.base, fail=lambda n: 400)) as proxy:
        with pytest.raises(EndpointError, match="HTTP 400"):
            graphstore.upload(proxy.base + "/store", files, sleep=waits.append)
        assert len(proxy.seen) == 1


def test_a_failed_load_resumes_without_duplicates(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    path = with_blank_nodes(tmp_path)
    state = tmp_path / "state"
    args = [
        "-d", str(path), "--chunk-triples", "20", "--retries", "0", "--state-dir", str(state),
    ]  # fmt: skip
    # the store goes away at the 4th request
    with running(Proxy(oxigraph_server.base, fail=lambda n: 503 if n >= 4 else None)) as proxy:
        res = cli("--endpoint", proxy.base + "/store", *args)
        assert res.exit_code == 3
        assert "chunk 4 failed" in res.stderr
        assert "the 3 chunk(s) done are recorded in" in res.stderr
        assert "run the same command again to resume" in res.stderr
        assert len(proxy.forwarded) == 3
        assert len(list(state.glob("load-*.json"))) == 1
        assert triples_in_store(oxigraph_server) == 3 * 20  # the chunks done are in the store
        # the same command again, the store back: the 3 chunks done are not sent again
        proxy.fail = lambda n: None
        proxy.seen.clear()
        res = cli("--endpoint", proxy.base + "/store", *args)
        assert res.exit_code == 0, res.output
        assert "resuming: 3 chunk(s)" in res.stderr
        assert "3 done before, skipped" in res.stderr
        second = proxy.forwarded
    total = len(
        list(graphstore.chunks(graphstore.check_files([(path, "turtle")]), chunk_triples=20))
    )
    assert len(second) == total - 3
    assert store_graph(oxigraph_server) == file_graph(path)  # blank nodes not doubled
    assert not list(state.glob("load-*.json"))  # a complete load forgets its state


def test_a_changed_input_does_not_resume(tmp_path: Path, oxigraph_server: OxigraphServer) -> None:
    path = with_blank_nodes(tmp_path, 30)
    state = tmp_path / "state"
    files = [(path, "turtle")]
    with running(Proxy(oxigraph_server.base, fail=lambda n: 503 if n >= 2 else None)) as proxy:
        url = proxy.base + "/store"
        with pytest.raises(EndpointError):
            graphstore.upload(url, files, chunk_triples=10, retries=0, state_dir=state)
        assert len(list(state.glob("load-*.json"))) == 1
        path.write_text(path.read_text() + f"<{EX}new> <{EX}p> 1 .\n", encoding="utf-8")
        proxy.fail = lambda n: None
        notices: list[str] = []
        result = graphstore.upload(
            url, files, chunk_triples=10, state_dir=state, notice=notices.append
        )
        assert result.skipped == 0 and not notices
    assert store_graph(oxigraph_server) == file_graph(path)


def test_restart_forgets_the_recorded_chunks(
    tmp_path: Path, oxigraph_server: OxigraphServer
) -> None:
    path = with_blank_nodes(tmp_path, 30)
    state = tmp_path / "state"
    args = ["-d", str(path), "--chunk-triples", "10", "--retries", "0", "--state-dir", str(state)]
    with running(Proxy(oxigraph_server.base, fail=lambda n: 503 if n >= 3 else None)) as proxy:
        assert cli("--endpoint", proxy.base + "/store", "--replace", *args).exit_code == 3
        proxy.fail = lambda n: None
        proxy.seen.clear()
        res = cli("--endpoint", proxy.base + "/store", "--replace", "--restart", *args)
        assert res.exit_code == 0, res.output
        assert "skipped" not in res.stderr
        assert proxy.seen[0][0] == "PUT"  # from the start again
    assert store_graph(oxigraph_server) == file_graph(path)
