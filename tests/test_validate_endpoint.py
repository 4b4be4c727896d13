"""Validation of data that lives in a SPARQL store: ``cica_ld.shacl.validate_endpoint`` and
``cica-ld validate --endpoint``, against a real ``oxigraph serve`` and a real Virtuoso
(``virtuoso-t``, skipped with a reason when absent) on loopback (no mocks).

Data goes into the server through its Graph Store endpoint (Oxigraph's ``/store``, its default
graph; Virtuoso's ``/sparql-graph-crud-auth`` with Digest authentication, a graph of the test's
own, named to the queries by the endpoint URL's ``default-graph-uri``); the engine reads it
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
from conftest import (
    ROOT,
    VIRTUOSO_PASSWORD,
    VIRTUOSO_USER,
    OxigraphServer,
    VirtuosoServer,
    free_port,
)
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


class Remote:
    """A store the tests put data into and validate through its SPARQL endpoint."""

    def __init__(self, server: OxigraphServer | VirtuosoServer) -> None:
        self.server = server
        self.graph: str | None = None
        if isinstance(server, VirtuosoServer):
            import uuid

            self.graph = f"http://example.org/graph/{uuid.uuid4()}"

    @property
    def query_url(self) -> str:
        if isinstance(self.server, VirtuosoServer):
            assert self.graph is not None
            return self.server.query_url_for(self.graph)
        return self.server.query_url

    def put(self, files: list[Path]) -> None:
        if isinstance(self.server, VirtuosoServer):
            from cica_ld import graphstore
            from cica_ld.endpoint import Credentials

            graphstore.upload(
                self.server.store_url,
                [(f, dataset.format_for(f)) for f in files],
                graph=self.graph,
                replace=True,
                auth=Credentials(VIRTUOSO_USER, VIRTUOSO_PASSWORD),
            )
        else:
            put(self.server, files)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote(request: pytest.FixtureRequest) -> Remote:
    if request.param == "oxigraph":
        return Remote(request.getfixturevalue("oxigraph_server"))
    return Remote(request.getfixturevalue("virtuoso_server"))


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


def test_repository_data_conforms_at_the_endpoint(remote: Remote) -> None:
    remote.put(dataset.bundled_files("data"))
    shapes, ontology = shapes_and_ontology()
    assert validate_endpoint(remote.query_url, shapes, ontology) == []


def test_broken_data_gives_the_same_results_as_the_embedded_store(
    remote: Remote, broken: tuple[Path, list[dict]]
) -> None:
    path, defects = broken
    remote.put([path])
    shapes, ontology = shapes_and_ontology()
    there = {r.key() for r in validate_endpoint(remote.query_url, shapes, ontology)}
    local = {r.key() for r in validate(_store([path]), shapes, ontology)}
    assert there == local
    assert {(f"<{d['focus']}>", f"<{d['shape']}>") for d in defects} <= {
        (k[0], k[1]) for k in there
    }


def test_cli_validate_endpoint_exit_codes_and_json(
    remote: Remote, broken: tuple[Path, list[dict]]
) -> None:
    runner = CliRunner()
    remote.put(dataset.bundled_files("data"))
    ok = runner.invoke(app, ["validate", "--endpoint", remote.query_url])
    assert ok.exit_code == 0, ok.output

    path, defects = broken
    remote.put([path])
    bad = runner.invoke(app, ["validate", "--endpoint", remote.query_url, "--format", "json"])
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


FORMS = ROOT / "tests" / "fixtures" / "endpoint-forms"
SH = "http://www.w3.org/ns/shacl#"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"


@cache
def forms_shapes():
    return _store([FORMS / "shapes.ttl"]), _store([FORMS / "ontology.ttl"])


def _component_and_value(results) -> set[tuple[str, str | None, str | None]]:
    return {(r.key()[2].removeprefix(SH), r.key()[3], r.key()[4]) for r in results}


def test_query_forms_stores_disagree_on_give_the_embedded_results(remote: Remote) -> None:
    """sh:class (EXISTS inside || and &&), sh:in over IRIs, strings, language-tagged strings,
    numbers and booleans, sh:hasValue and sh:closed inside sh:node, and a NOT EXISTS reading
    a variable bound outside it: each form is one Virtuoso 7.2 answered differently before."""
    data = FORMS / "data.ttl"
    remote.put([data])
    shapes, ontology = forms_shapes()
    there = validate_endpoint(remote.query_url, shapes, ontology)
    local = validate(_store([data]), shapes, ontology)
    assert {r.key() for r in there} == {r.key() for r in local}
    book2 = "<http://example.org/book2>"
    assert {r.key()[0] for r in local} == {book2}
    assert _component_and_value(local) == {
        ("ClassConstraintComponent", f"<{SCHEMA}author>", "<http://example.org/notAnAgent>"),
        ("ClassConstraintComponent", f"<{SCHEMA}genre>", "<http://example.org/unknownGenre>"),
        ("InConstraintComponent", f"<{SCHEMA}bookFormat>", f"<{SCHEMA}GraphicNovel>"),
        ("InConstraintComponent", f"<{SCHEMA}inLanguage>", '"EN"'),
        ("InConstraintComponent", f"<{SCHEMA}inLanguage>", '"fr"'),
        ("InConstraintComponent", f"<{SCHEMA}inLanguage>", '"de"@de'),
        ("InConstraintComponent", f"<{SCHEMA}numberOfPages>", '"200"'),
        ("InConstraintComponent", f"<{SCHEMA}numberOfPages>", f'"250"^^<{XSD}integer>'),
        ("NodeConstraintComponent", f"<{SCHEMA}publisher>", "<http://example.org/otherPublisher>"),
        ("SPARQLConstraintComponent", None, book2),
    }


#: Why validation at an endpoint cannot see literals as written (measured: oxigraph serve
#: 0.5.13 and Virtuoso 7.2.5); the embedded store keeps them as written (cica_ld/lexical.py).
CANONICAL = {
    "oxigraph": "oxigraph serve stores a literal as its value (oxigraph#526): "
    '"0200"^^xsd:integer is 200, 200.0 is "200"^^xsd:decimal, "1"^^xsd:boolean is true, so the '
    "terms SHACL compares and reports are not those loaded",
    "virtuoso": 'Virtuoso 7.2 stores a literal as its value ("0200"^^xsd:integer is 200, 200.0 '
    'is "200"^^xsd:decimal, "1"^^xsd:boolean is true) and answers every boolean as 1 or 0 '
    '("0"^^xsd:boolean for false): the terms SHACL compares and reports are not those loaded',
}


@pytest.mark.parametrize("store", ["oxigraph", "virtuoso"])
def test_literals_not_in_canonical_form_are_not_the_allowed_values(
    store: str, request: pytest.FixtureRequest
) -> None:
    """SHACL compares RDF terms: none of these literals is an allowed value. Stores that keep
    values, not lexical forms, cannot give that answer (strict: the day one can, this says so)."""
    request.applymarker(pytest.mark.xfail(strict=True, reason=CANONICAL[store]))
    remote = Remote(request.getfixturevalue(f"{store}_server"))
    data = FORMS / "noncanonical.ttl"
    remote.put([data])
    shapes, ontology = forms_shapes()
    there = validate_endpoint(remote.query_url, shapes, ontology)
    assert {r.key() for r in there} == {r.key() for r in validate(_store([data]), shapes, ontology)}
    assert _component_and_value(there) == {
        ("InConstraintComponent", f"<{SCHEMA}numberOfPages>", f'"0200"^^<{XSD}integer>'),
        ("InConstraintComponent", f"<{SCHEMA}numberOfPages>", f'"200.0"^^<{XSD}decimal>'),
        ("InConstraintComponent", f"<{SCHEMA}isFamilyFriendly>", f'"1"^^<{XSD}boolean>'),
        ("InConstraintComponent", f"<{SCHEMA}isFamilyFriendly>", f'"false"^^<{XSD}boolean>'),
    }


NESTED_DATA = """@prefix ex: <http://example.org/> .
ex:a a ex:Sensor ; ex:reading 1, 2 .
ex:b a ex:Sensor ; ex:reading 5 .
ex:c a ex:Sensor .
"""

NESTED_SHAPES = """@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
ex:LowSensor a sh:NodeShape ;
    sh:targetClass ex:Sensor ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:message "reading below 3" ;
        sh:select '''
            PREFIX ex: <http://example.org/>
            SELECT $this ?low WHERE {
                { SELECT $this ?low WHERE { $this ex:reading ?low } }
                FILTER(?low < 3)
            }''' ] ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:message "highest reading below 4" ;
        sh:select '''
            PREFIX ex: <http://example.org/>
            SELECT $this ?top WHERE {
                { SELECT $this (MAX(?r) AS ?top) WHERE { $this ex:reading ?r } GROUP BY $this }
                FILTER(?top < 4)
            }''' ] .
"""


def test_nested_selects_projecting_this_at_the_endpoint(remote: Remote, tmp_path: Path) -> None:
    """A SHACL-SPARQL constraint whose nested SELECT projects (and groups by) $this: at an
    endpoint $this is substituted in every SELECT's projection as an expression, not as a
    bare IRI (which no SPARQL parser takes: oxigraph serve answered 400 "expected
    DISTINCT"); the results are the embedded engine's."""
    data = tmp_path / "sensors.ttl"
    data.write_text(NESTED_DATA, encoding="utf-8")
    shapes_file = tmp_path / "sensors-shapes.ttl"
    shapes_file.write_text(NESTED_SHAPES, encoding="utf-8")
    remote.put([data])
    shapes = _store([shapes_file])
    empty = _store([])
    local = validate(_store([data]), shapes, empty)
    there = validate_endpoint(remote.query_url, shapes, empty)
    assert sorted(r.key() for r in there) == sorted(r.key() for r in local)
    # ex:a's readings 1 and 2 are low, and its highest (2) is below 4; ex:b and ex:c pass
    assert {r.key()[0] for r in local} == {"<http://example.org/a>"}
    assert len(local) == 3
