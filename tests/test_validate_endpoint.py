"""Validation of data that lives in a SPARQL store: ``cica_ld.shacl.validate_endpoint`` and
``cica-ld validate --endpoint``, against a real ``oxigraph serve`` on loopback (no mocks).

Data goes into the server through its Graph Store endpoint (``/store``); the engine reads it
back with SPARQL SELECT queries only. Results must equal those of the embedded engine on the
same data, and the conforming repository data must conform.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, OxigraphServer, free_port
from typer.testing import CliRunner

from cica_ld import dataset
from cica_ld.cli import app
from cica_ld.errors import EndpointError
from cica_ld.shacl import validate, validate_endpoint

pytestmark = pytest.mark.slow


def _store(paths: list[Path]):  # -> pyoxigraph.Store
    from cica_ld.validation import load_graph

    return load_graph(paths).store


@cache
def shapes_and_ontology():
    shapes = _store(dataset.bundled_files("shapes"))
    ontology = _store([p for p in dataset.bundled_files("ontology") if p.suffix == ".ttl"])
    return shapes, ontology


def put(server: OxigraphServer, files: list[Path]) -> None:
    """Replace the server's default graph with the files (PUT the first, POST the others)."""
    for i, f in enumerate(files):
        method = "PUT" if i == 0 else "POST"
        resp = httpx.request(
            method,
            f"{server.store_url}?default",
            content=f.read_bytes(),
            headers={"Content-Type": "text/turtle"},
            timeout=30,
        )
        assert resp.status_code in (200, 201, 204), resp.text


@cache
def generated(tmp_dir: str) -> tuple[Path, list[dict]]:
    path = ROOT / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("cica_bench_generate_ep", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cica_bench_generate_ep", module)
    spec.loader.exec_module(module)
    out = Path(tmp_dir) / "broken.ttl"
    _n, defects = module.write(out, 2000, seed=7, defect_rate=0.05)
    return out, defects


@pytest.fixture
def broken(tmp_path: Path) -> tuple[Path, list[dict]]:
    return generated(str(tmp_path))


def test_repository_data_conforms_at_the_endpoint(oxigraph_server: OxigraphServer) -> None:
    put(oxigraph_server, dataset.bundled_files("data"))
    shapes, ontology = shapes_and_ontology()
    assert validate_endpoint(oxigraph_server.query_url, shapes, ontology) == []


def test_broken_data_gives_the_same_results_as_the_embedded_store(
    oxigraph_server: OxigraphServer, broken: tuple[Path, list[dict]]
) -> None:
    path, defects = broken
    put(oxigraph_server, [path])
    shapes, ontology = shapes_and_ontology()
    remote = {r.key() for r in validate_endpoint(oxigraph_server.query_url, shapes, ontology)}
    local = {r.key() for r in validate(_store([path]), shapes, ontology)}
    assert remote == local
    assert {(f"<{d['focus']}>", f"<{d['shape']}>") for d in defects} <= {
        (k[0], k[1]) for k in remote
    }


def test_cli_validate_endpoint_exit_codes_and_json(
    oxigraph_server: OxigraphServer, broken: tuple[Path, list[dict]]
) -> None:
    runner = CliRunner()
    put(oxigraph_server, dataset.bundled_files("data"))
    ok = runner.invoke(app, ["validate", "--endpoint", oxigraph_server.query_url])
    assert ok.exit_code == 0, ok.output

    path, defects = broken
    put(oxigraph_server, [path])
    bad = runner.invoke(
        app, ["validate", "--endpoint", oxigraph_server.query_url, "--format", "json"]
    )
    assert bad.exit_code == 1, bad.output
    doc = json.loads(bad.stdout)
    text = json.dumps(doc)
    for d in defects:
        assert d["focus"] in text


def test_unreachable_endpoint_is_an_endpoint_error() -> None:
    shapes, ontology = shapes_and_ontology()
    url = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(EndpointError):
        validate_endpoint(url, shapes, ontology, timeout=5)
    result = CliRunner().invoke(app, ["validate", "--endpoint", url, "--timeout", "5"])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
