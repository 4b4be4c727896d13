"""Virtuoso cuts SELECT answers at ResultSetMaxRows rows with a 200 answer and only a header
(``X-SPARQL-MaxRows``) to say so: cica-ld refuses such an answer (exit 3) rather than pass the
partial results on. Against a real Virtuoso started with ResultSetMaxRows = 5."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    VIRTUOSO_PASSWORD,
    VIRTUOSO_USER,
    VirtuosoServer,
    start_virtuoso,
    stop_virtuoso,
)
from typer.testing import CliRunner

from cica_ld import endpoint, graphstore
from cica_ld.cli import app
from cica_ld.errors import EndpointError

pytestmark = pytest.mark.slow
EX = "http://example.org/"
GRAPH = EX + "graph/limits"


@pytest.fixture(scope="module")
def small_virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    folder = tmp_path_factory.mktemp("virtuoso-small")
    server = start_virtuoso(folder, max_rows=5, buffers=2000)
    try:
        data = folder / "ten.ttl"
        data.write_text("".join(f"<{EX}s{i}> <{EX}p> {i} .\n" for i in range(10)))
        graphstore.upload(
            server.store_url,
            [(data, "turtle")],
            graph=GRAPH,
            replace=True,
            auth=endpoint.Credentials(VIRTUOSO_USER, VIRTUOSO_PASSWORD),
        )
        yield server
    finally:
        stop_virtuoso(server)


def test_a_cut_answer_is_refused(small_virtuoso: VirtuosoServer) -> None:
    url = small_virtuoso.query_url_for(GRAPH)
    with pytest.raises(EndpointError, match="cut its answer at 5 rows"):
        endpoint.select(url, "SELECT * WHERE { ?s ?p ?o }")
    res = CliRunner().invoke(app, ["query", "SELECT * WHERE { ?s ?p ?o }", "--endpoint", url])
    assert res.exit_code == 3
    assert "X-SPARQL-MaxRows" in res.stderr and "ResultSetMaxRows" in res.stderr
    assert res.stdout == ""


def test_an_answer_within_the_limit_passes(small_virtuoso: VirtuosoServer, tmp_path: Path) -> None:
    url = small_virtuoso.query_url_for(GRAPH)
    rows = list(endpoint.select(url, "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 4"))
    assert len(rows) == 4
    count = endpoint.select(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert [r["n"].value for r in count] == ["10"]  # the store holds all ten
