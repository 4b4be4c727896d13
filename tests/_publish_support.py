"""Helpers shared by the publishing tests (JSON-LD, export, publish): graph comparison and
reading JSON-LD back with PyLD and with jsonld.js (node), both strictly offline."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "publish-mini"
JS_DIR = Path(__file__).resolve().parent / "js"
CONTEXT_URL = "https://w3id.org/cica-ld/context.jsonld"
CONTEXT_FILE = ROOT / "ontology" / "context.jsonld"


def canonical(quads: Iterable[Any]) -> set[Any]:
    """The quads as a set after RDFC-1.0 canonicalization (blank node labels made canonical)."""
    ds = pyoxigraph.Dataset(list(quads))
    ds.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return set(ds)


def parse(data: bytes, fmt: pyoxigraph.RdfFormat) -> list[Any]:
    return list(pyoxigraph.parse(data, format=fmt))


def parse_turtle(data: bytes) -> list[Any]:
    return parse(data, pyoxigraph.RdfFormat.TURTLE)


def read_with_pyld(doc: bytes | str | dict[str, Any]) -> list[Any]:
    """The quads of a JSON-LD document as PyLD reads it (our offline loader)."""
    from cica_ld import jsonld

    return jsonld.to_quads(doc)


def node_and_jsonld_js() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (CI has it): jsonld.js round trip not run")
    if not (JS_DIR / "node_modules" / "jsonld" / "package.json").is_file():
        pytest.skip("jsonld.js is not installed: run `npm ci` in tests/js (make test does)")
    return node


def read_with_jsonld_js(doc: bytes, tmp_path: Path) -> list[Any]:
    """The quads of a JSON-LD document as jsonld.js reads it, serving only the bundled context."""
    node = node_and_jsonld_js()
    path = tmp_path / "doc-for-jsonld-js.jsonld"
    path.write_bytes(doc)
    proc = subprocess.run(
        [node, str(JS_DIR / "to-nquads.js"), str(path), f"{CONTEXT_URL}={CONTEXT_FILE}"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return parse(proc.stdout, pyoxigraph.RdfFormat.N_QUADS)


def json_nodes(value: Any) -> Iterable[dict[str, Any]]:
    """Every JSON object in a parsed JSON document (depth first)."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from json_nodes(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_nodes(v)


def load_json(data: bytes) -> Any:
    return json.loads(data)
