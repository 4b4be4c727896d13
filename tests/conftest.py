"""Shared test fixtures: repository paths and a real Oxigraph SPARQL server on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


class Recorder:
    """A :class:`cica_ld.progress.Progress` keeping every stage as ``[text, total, steps]``."""

    def __init__(self) -> None:
        self.stages: list[list] = []

    def stage(self, text: str, total: int | None = None) -> None:
        self.stages.append([text, total, 0])

    def advance(self, steps: int = 1) -> None:
        self.stages[-1][2] += steps


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oxigraph_binary() -> str:
    """The `oxigraph` server binary of the `oxigraph` PyPI package (from the test extra)."""
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "oxigraph"
    )
    if not found:
        pytest.fail("the oxigraph server binary is missing: install the test extra (make test)")
    return found


@dataclass
class OxigraphServer:
    """A running `oxigraph serve` process (stopped by its PID when the fixture ends)."""

    base: str
    process: subprocess.Popen[bytes]

    @property
    def query_url(self) -> str:
        return f"{self.base}/query"

    @property
    def update_url(self) -> str:
        return f"{self.base}/update"

    @property
    def store_url(self) -> str:
        return f"{self.base}/store"


def start_oxigraph(tmp_path: Path, *, union_default_graph: bool = True) -> OxigraphServer:
    port = free_port()
    args = [
        oxigraph_binary(),
        "serve",
        "--location",
        str(tmp_path / "oxigraph-db"),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if union_default_graph:
        args.append("--union-default-graph")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"oxigraph serve exited early: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return OxigraphServer(base=f"http://127.0.0.1:{port}", process=proc)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("oxigraph serve did not start listening within 15 s")


def stop_oxigraph(server: OxigraphServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[OxigraphServer]:
    """An empty Oxigraph server on 127.0.0.1 and a free port, for one test."""
    server = start_oxigraph(tmp_path)
    try:
        yield server
    finally:
        stop_oxigraph(server)


@pytest.fixture(scope="module")
def oxigraph_module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """An Oxigraph server shared by the tests of one module."""
    server = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    try:
        yield server
    finally:
        stop_oxigraph(server)


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the CLI as users do: no CICA_LD_DEBUG tracebacks."""
    monkeypatch.delenv("CICA_LD_DEBUG", raising=False)


def pytest_report_header(config: pytest.Config) -> str:
    return f"cica-ld tests; repository at {ROOT}; CI={os.environ.get('CI', '')}"
