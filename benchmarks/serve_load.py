"""Load benchmark for `cica-ld serve`: concurrent clients on loopback for a bounded time.

Starts the real server (`python -m cica_ld serve --port 0 --quiet`) on the embedded dataset,
then runs CLIENTS concurrent keep-alive clients (asyncio, a minimal HTTP/1.1 client: see
Connection) for DURATION seconds. Each client loops
over a mixed workload: half SPARQL queries (every named query of the catalogue with its
defaults bound, POSTed as application/sparql-query, results as SPARQL JSON) and half resource
fetches (a random /id/... resource in Turtle, JSON-LD or N-Triples by Accept). It records
throughput, p50/p90/p99 latency (overall and per kind), errors (any non-2xx answer or
transport error; must be zero) and the peak resident memory (VmHWM) of the server process and
of its query workers. Clients and server share the machine, so the numbers are a floor.

    .venv/bin/python benchmarks/serve_load.py                   # 32 clients, 20 s
    .venv/bin/python benchmarks/serve_load.py --clients 8 --duration 5 --output /tmp/x.json

The result goes to benchmarks/results/serve-load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "serve-load.json"
ACCEPTS = ("text/turtle", "application/ld+json", "application/n-triples")

#: Used when the catalogue holds no query yet (plain ORG + Time, like the named ones).
FALLBACK_QUERIES = {
    "memberships": """PREFIX org: <http://www.w3.org/ns/org#>
SELECT ?member ?role WHERE { ?m a org:Membership ; org:member ?member ; org:role ?role }""",
    "labels": """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?label LIMIT 100""",
    "count-by-class": """SELECT ?c (COUNT(*) AS ?n) WHERE { ?s a ?c }
GROUP BY ?c ORDER BY DESC(?n)""",
}


def workload_queries() -> dict[str, str]:
    """Every named query of the catalogue, parameters at their defaults (or the fallback set)."""
    from cica_ld import catalogue
    from cica_ld import query as q

    out: dict[str, str] = {}
    for name, named in catalogue.catalogue().items():
        if any(p.required for p in named.params):
            continue
        out[name] = q.prepare(q.resolve_query(name)).text
    return out or dict(FALLBACK_QUERIES)


def workload_resources() -> list[str]:
    """The paths of every resource the embedded dataset describes under /id/."""
    from cica_ld import dataset

    store = dataset.load().store
    base = "https://w3id.org/cica-ld/"
    rows = store.query(
        f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{base}id/')) }}",
        use_default_graph_as_union=True,
    )
    return sorted("/" + r["s"].value[len(base) :] for r in rows)


def start_server(workers: int | None) -> tuple[subprocess.Popen[bytes], str]:
    args = [sys.executable, "-m", "cica_ld", "serve", "--port", "0", "--quiet"]
    if workers is not None:
        args += ["--workers", str(workers)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    found: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode(errors="replace")
            sys.stderr.write(line)
            m = re.search(r"serving \d+ triples at (http://\S+/) ", line)
            if m:
                found.append(m.group(1))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 120
    while not found and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"cica-ld serve exited with {proc.returncode}")
        time.sleep(0.05)
    if not found:
        proc.kill()
        raise SystemExit("cica-ld serve did not start")
    return proc, found[0]


def children(pid: int) -> list[int]:
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    httpx costs ~3 ms of CPU per request on this machine, about twice what the server spends;
    on 2 shared cores that would measure the client. This one reads the status line, headers
    and a Content-Length or chunked body, and nothing more (it talks only to our server)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed by the server")
        status = int(status_line.split()[1])
        got: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            got[k.strip().lower()] = v.strip()
        if "content-length" in got:
            data = await self.reader.readexactly(int(got["content-length"]))
        elif got.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        else:
            data = await self.reader.read()
            self.close()
        if got.get("connection", "").lower() == "close":
            self.close()
        return status, got, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def client_loop(
    conn: Connection,
    rng: random.Random,
    queries: list[tuple[str, str]],
    resources: list[str],
    stop_at: float,
    samples: list[tuple[str, float, int]],
    errors: list[str],
) -> None:
    while time.monotonic() < stop_at:
        if rng.random() < 0.5:
            name, text = rng.choice(queries)
            kind, what = "query", f"query {name}"
            args: tuple[Any, ...] = (
                "POST",
                "/sparql",
                {
                    "Content-Type": "application/sparql-query",
                    "Accept": "application/sparql-results+json",
                },
                text.encode(),
            )
        else:
            path = rng.choice(resources)
            kind, what = "resource", f"GET {path}"
            args = ("GET", path, {"Accept": rng.choice(ACCEPTS)})
        start = time.perf_counter()
        try:
            status, _headers, body = await conn.request(*args)
            if status == 200 and kind == "query" and rng.random() < 0.1:
                json.loads(body)  # spot-check that answers are whole SPARQL JSON
        except Exception as exc:  # transport errors count as errors
            status = 0
            errors.append(f"{what}: {type(exc).__name__}: {exc}")
            conn.close()
        elapsed = time.perf_counter() - start
        if status and not 200 <= status < 300:
            errors.append(f"{what}: HTTP {status}")
        samples.append((kind, elapsed, status))
    conn.close()


async def drive(
    url: str, clients: int, duration: float, queries: dict[str, str], resources: list[str]
) -> tuple[list[tuple[str, float, int]], list[str], float]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    samples: list[tuple[str, float, int]] = []
    errors: list[str] = []
    warm = Connection(host, port)
    for text in queries.values():  # warm up: each query once
        status, _, _ = await warm.request(
            "POST", "/sparql", {"Content-Type": "application/sparql-query"}, text.encode()
        )
        if status != 200:
            errors.append(f"warm-up query: HTTP {status}")
    warm.close()
    start = time.monotonic()
    stop_at = start + duration
    items = list(queries.items())
    await asyncio.gather(
        *(
            client_loop(
                Connection(host, port), random.Random(i), items, resources, stop_at, samples,
                errors,
            )
            for i in range(clients)
        )
    )  # fmt: skip
    return samples, errors, time.monotonic() - start


def summarise(samples: list[tuple[str, float, int]]) -> dict[str, Any]:
    lat = [s[1] * 1000 for s in samples]
    return {
        "requests": len(samples),
        "latency_ms": {
            "p50": round(percentile(lat, 50), 2),
            "p90": round(percentile(lat, 90), 2),
            "p99": round(percentile(lat, 99), 2),
            "max": round(max(lat), 2) if lat else 0,
            "mean": round(statistics.fmean(lat), 2) if lat else 0,
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=None, help="server --workers (default: its own)")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args()

    queries = workload_queries()
    resources = workload_resources()
    load_before = os.getloadavg()[0]
    proc, url = start_server(args.workers)
    try:
        time.sleep(0.5)
        workers = children(proc.pid)
        samples, errors, wall = asyncio.run(
            drive(url, args.clients, args.duration, queries, resources)
        )
        main_peak = peak_rss_mb(proc.pid)
        worker_peaks = [peak_rss_mb(pid) for pid in children(proc.pid)]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    from cica_ld import __version__

    result = {
        "benchmark": "serve-load",
        "cica_ld_version": __version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_avg_1m_before": round(load_before, 2),
            "note": "clients and server share the machine (loopback)",
        },
        "config": {
            "clients": args.clients,
            "duration_s": args.duration,
            "server_workers": len(workers),
            "mix": "50% named queries (POST application/sparql-query, SPARQL JSON), "
            "50% /id/ resources (Turtle, JSON-LD or N-Triples by Accept)",
            "queries": sorted(queries),
            "resources": len(resources),
        },
        "results": {
            "wall_s": round(wall, 2),
            "throughput_rps": round(len(samples) / wall, 1) if wall else 0,
            "errors": len(errors),
            "error_examples": sorted(set(errors))[:5],
            **summarise(samples),
            "by_kind": {
                kind: summarise([s for s in samples if s[0] == kind])
                for kind in ("query", "resource")
            },
            "peak_rss_mb": {
                "server": round(main_peak, 1),
                "workers": [round(w, 1) for w in worker_peaks],
                "total": round(main_peak + sum(worker_peaks), 1),
            },
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    from cica_ld.io import atomic_write

    atomic_write(args.output, json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["results"], indent=2))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
