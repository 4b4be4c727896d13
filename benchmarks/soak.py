"""Soak benchmark for `cica-ld serve`: 60 s of hostile and legitimate traffic on loopback.

Starts the real server (`python -m cica_ld serve --port 0 --quiet`, on the embedded dataset,
or on generated data of about TRIPLES triples with --triples) and runs, at once, for DURATION
seconds:

* legitimate clients (4, keep-alive, 50-250 ms between requests): named queries of the
  catalogue (POST, SPARQL JSON) and resource pages (/id/..., Turtle, HTML, JSON-LD); every
  answer must be 2xx;
* an abandoning client: a runaway query (a four-way cross join), then a hang-up after
  0.2-1 s, again 0.5-1.5 s later;
* huge answers: a query whose answer would be some 50 MB, read to the end every 2 s (it must
  stop at the byte cap), and by two clients that never read it (each holds its connection
  10 s, then asks again);
* idle connections: 1,100 connections that send nothing, reopened as the server drops them;
* slow clients: request heads sent one byte every half second (slowloris);
* bad paths: /id/a%20b, %3C, %22, %00, a 20 kB URL (must be 400 or 414, never 5xx);
* dump floods: 40 concurrent GETs of the /dumps/ files every 10 s;
* crashing queries: a SPARQL query nested 3,000 deep every 10 s (it crashed the worker).

The hostile clients run in a process of their own (as attackers are other machines), so their
own work does not enter the legitimate clients' latency; all share the machine's cores with the
server. It records the legitimate requests' latency (p50/p99), errors, what the hostile clients got,
the peak resident memory of the server and its query workers together (sampled every 0.2 s),
whether the server crashed or wrote a traceback, and how long it took to stop on SIGTERM
sent in the middle of a dump flood. Targets: legitimate p99 < 2 s, memory < 1 GB, 0 crashes.

    nice .venv/bin/python benchmarks/soak.py                 # 60 s, the embedded dataset
    .venv/bin/python benchmarks/soak.py --duration 10 --triples 100000 --no-record

The result goes to benchmarks/results/soak-<UTC time>.json and a row of
benchmarks/results/soak.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve_load import Connection, percentile, workload_queries  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BASE = "https://w3id.org/cica-ld/"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
#: 811 bytes in the finding (268 MB of answer); here each of the 10,000 rows the row cap lets
#: through is 256 copies of a literal, some 50 MB in all: the byte cap must cut it
HUGE = (
    "SELECT ?s ?x WHERE { ?s ?p ?o . ?t ?q ?r "
    "BIND(CONCAT(STR(?o), STR(?r), STR(?o), STR(?r), STR(?o), STR(?r), STR(?o), STR(?r), "
    "STR(?o), STR(?r), STR(?o), STR(?r), STR(?o), STR(?r), STR(?o), STR(?r)) AS ?y) "
    "BIND(CONCAT(?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y, ?y) AS ?x) }"
)
DEEP = "SELECT * WHERE " + "{ " * 3000 + "?s ?p ?o " + "} " * 3000
BAD_PATHS = ["/id/a%20b", "/id/%3C", "/id/%22x", "/id/%00", "/id/" + "x" * 20_000]
TARGETS = {"legit_p99_s": 2.0, "memory_mb": 1000.0, "crashes": 0}


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def start_server(data: Path | None, workers: int) -> tuple[subprocess.Popen[bytes], str, list[str]]:
    args = [sys.executable, "-m", "cica_ld", "serve", "--port", "0", "--quiet"]
    args += ["--workers", str(workers)]
    if data is not None:
        args += ["--data", str(data), "--base-iri", BASE]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
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
    deadline = time.monotonic() + 300
    while not found and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"cica-ld serve exited with {proc.returncode}: {''.join(lines)}")
        time.sleep(0.05)
    if not found:
        proc.kill()
        raise SystemExit("cica-ld serve did not start")
    return proc, found[0], lines


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parents.items() if pp == p]
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """The peak of the summed RSS of the server and its workers, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_total = 0.0
        self.peak_server = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            pids = _tree(self.pid)
            server = _rss_mb(self.pid)
            total = server + sum(_rss_mb(p) for p in pids if p != self.pid)
            self.peak_server = max(self.peak_server, server)
            self.peak_total = max(self.peak_total, total)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(2)


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


class Soak:
    def __init__(self, url: str, duration: float, seed: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.stop_at = time.monotonic() + duration
        self.rng = random.Random(seed)
        self.legit: list[tuple[str, float, int]] = []
        self.legit_errors: list[str] = []
        self.slowest: list[tuple[float, str]] = []
        self.hostile: dict[str, dict[str, int]] = {}
        self.idle_open = 0
        self.idle_peak = 0
        self.idle_reopened = 0
        self.dump_floods: list[dict[str, Any]] = []

    def live(self) -> bool:
        return time.monotonic() < self.stop_at

    def count(self, kind: str, what: str) -> None:
        d = self.hostile.setdefault(kind, {})
        d[what] = d.get(what, 0) + 1

    async def raw(self, data: bytes, *, read: bool = True, timeout: float = 30) -> bytes:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(data)
            await writer.drain()
            if not read:
                return b""
            return await asyncio.wait_for(reader.read(), timeout)
        finally:
            writer.close()

    # ---- legitimate ---------------------------------------------------------------------

    async def legit_client(self, queries: list[tuple[str, str]], resources: list[str]) -> None:
        conn = Connection(self.host, self.port)
        rng = random.Random(self.rng.random())
        while self.live():
            if rng.random() < 0.5:
                name, text = rng.choice(queries)
                what, args = (
                    f"query {name}",
                    (
                        "POST",
                        "/sparql",
                        {
                            "Content-Type": "application/sparql-query",
                            "Accept": "application/sparql-results+json",
                        },
                        text.encode(),
                    ),
                )
            else:
                path = rng.choice(resources)
                accept = rng.choice(("text/turtle", "text/html", "application/ld+json"))
                what, args = f"GET {path} ({accept})", ("GET", path, {"Accept": accept})
            start = time.perf_counter()
            try:
                status, _, _ = await asyncio.wait_for(conn.request(*args), 60)
            except Exception as exc:
                status = 0
                self.legit_errors.append(f"{what}: {type(exc).__name__}: {exc}")
                conn.close()
            elapsed = time.perf_counter() - start
            if status and not 200 <= status < 300:
                self.legit_errors.append(f"{what}: HTTP {status}")
            self.legit.append((what.split()[0], elapsed, status))
            self.slowest.append((elapsed, what))
            self.slowest = sorted(self.slowest, reverse=True)[:10]
            await asyncio.sleep(rng.uniform(0.05, 0.25))  # people, not a load generator
        conn.close()

    # ---- hostile ------------------------------------------------------------------------

    async def abandoner(self) -> None:
        target = "/sparql?" + urlencode({"query": RUNAWAY})
        while self.live():
            try:
                _reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                await writer.drain()
                await asyncio.sleep(self.rng.uniform(0.2, 1.0))
                writer.close()
                self.count("abandoned", "sent")
            except OSError as exc:
                self.count("abandoned", type(exc).__name__)
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))

    async def huge_reader(self) -> None:
        body = HUGE.encode()
        head = (
            "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        while self.live():
            try:
                got = await self.raw(head + body, timeout=60)
                status = got[9:12].decode(errors="replace")
                capped = b"x-sparql-maxbytes" in got[:2000].lower()
                self.count("huge-read", f"{status}{' capped' if capped else ''}")
                self.hostile.setdefault("huge-read-bytes", {"max": 0})
                self.hostile["huge-read-bytes"]["max"] = max(
                    self.hostile["huge-read-bytes"]["max"], len(got)
                )
            except (OSError, asyncio.TimeoutError) as exc:
                self.count("huge-read", type(exc).__name__)
            await asyncio.sleep(2.0)

    async def huge_unread(self) -> None:
        body = HUGE.encode()
        head = (
            "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        while self.live():
            try:
                _reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(head + body)
                await writer.drain()
                await asyncio.sleep(10)  # never reads
                writer.close()
                self.count("huge-unread", "held 10 s")
            except OSError as exc:
                self.count("huge-unread", type(exc).__name__)

    async def idle_flood(self, n: int) -> None:
        conns: list[Any] = []

        async def one() -> Any:
            try:
                return await asyncio.open_connection(self.host, self.port)
            except OSError:
                return None

        while self.live():
            alive = []
            for c in conns:
                reader, writer = c
                if reader.at_eof() or writer.is_closing():
                    writer.close()
                    self.idle_reopened += 1
                else:
                    alive.append(c)
            conns = alive
            missing = n - len(conns)
            for i in range(0, missing, 100):
                got = await asyncio.gather(*(one() for _ in range(min(100, missing - i))))
                conns += [c for c in got if c is not None]
            self.idle_open = len(conns)
            self.idle_peak = max(self.idle_peak, len(conns))
            await asyncio.sleep(1.0)  # the streams see the server's EOF on their own
        for _, writer in conns:
            writer.close()

    async def slowloris(self) -> None:
        head = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        while self.live():
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                for i in range(len(head)):
                    if not self.live():
                        break
                    writer.write(head[i : i + 1])
                    await writer.drain()
                    await asyncio.sleep(0.5)
                    if reader.at_eof():
                        break
                got = await asyncio.wait_for(reader.read(200), 1)
                self.count("slowloris", got[9:12].decode(errors="replace") or "closed")
                writer.close()
            except (OSError, asyncio.TimeoutError) as exc:
                self.count("slowloris", type(exc).__name__)

    async def bad_paths(self) -> None:
        while self.live():
            path = self.rng.choice(BAD_PATHS)
            try:
                got = await self.raw(
                    f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                )
                self.count("bad-path", got[9:12].decode(errors="replace") or "closed")
            except (OSError, asyncio.TimeoutError) as exc:
                self.count("bad-path", type(exc).__name__)
            await asyncio.sleep(0.2)

    async def crasher(self) -> None:
        body = DEEP.encode()
        head = (
            "POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        while self.live():
            try:
                got = await self.raw(head + body)
                self.count("deep-query", got[9:12].decode(errors="replace") or "closed")
            except (OSError, asyncio.TimeoutError) as exc:
                self.count("deep-query", type(exc).__name__)
            await asyncio.sleep(10)

    async def dump_flood(self, dumps: list[str], n: int = 40) -> dict[str, Any]:
        start = time.monotonic()

        async def one(path: str) -> str:
            try:
                got = await self.raw(
                    f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
                    timeout=120,
                )
                return got[9:12].decode(errors="replace") or "closed"
            except (OSError, asyncio.TimeoutError) as exc:
                return type(exc).__name__

        got = await asyncio.gather(*(one(dumps[i % len(dumps)]) for i in range(n)))
        flood = {"requests": n, "wall_s": round(time.monotonic() - start, 2)}
        for status in got:
            flood[status] = flood.get(status, 0) + 1
        return flood

    async def dump_flooder(self, dumps: list[str]) -> None:
        while self.live():
            self.dump_floods.append(await self.dump_flood(dumps))
            await asyncio.sleep(10)


async def discover(url: str) -> tuple[list[str], list[str]]:
    """Resource paths (by SPARQL) and dump paths (from the dataset description)."""
    parts = urlsplit(url)
    conn = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
    q = (
        f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), '{BASE}id/')) }} "
        "LIMIT 2000"
    )
    status, _, body = await conn.request(
        "POST",
        "/sparql",
        {"Content-Type": "application/sparql-query", "Accept": "text/csv"},
        q.encode(),
    )
    if status != 200:
        raise SystemExit(f"resource discovery failed: HTTP {status}")
    rows = body.decode().splitlines()[1:]
    resources = ["/" + quote(r.strip()[len(BASE) :]) for r in rows if r.strip()]
    status, _, body = await conn.request("GET", "/", {"Accept": "text/html"})
    dumps = sorted(set(re.findall(r'href="[^"]*?(dumps/[^"#?]+)"', body.decode())))
    conn.close()
    return resources, ["/" + d for d in dumps]


async def legit_traffic(url: str, duration: float, seed: int) -> Soak:
    resources, _ = await discover(url)
    queries = list(workload_queries().items())
    s = Soak(url, duration, seed)
    await asyncio.gather(*(s.legit_client(queries, resources) for _ in range(4)))
    return s


async def hostile_traffic(
    url: str, duration: float, idle: int, seed: int, skip: str
) -> dict[str, Any]:
    _, dumps = await discover(url)
    s = Soak(url, duration, seed + 1)
    kinds = {
        "abandoned": [s.abandoner],
        "huge": [s.huge_reader, s.huge_unread, s.huge_unread],
        "idle": [lambda: s.idle_flood(idle)],
        "slowloris": [s.slowloris] * 5,
        "bad-paths": [s.bad_paths],
        "deep": [s.crasher],
        "dumps": [lambda: s.dump_flooder(dumps)] if dumps else [],
    }
    skipped = {k.strip() for k in skip.split(",") if k.strip()}
    tasks = []
    for kind, makers in kinds.items():
        if kind not in skipped:
            tasks += [make() for make in makers]
    s.hostile["dumps"] = {"files": len(dumps)}
    await asyncio.gather(*tasks)
    return {
        "hostile": s.hostile,
        "idle_connections": {
            "peak_open": s.idle_peak,
            "closed_by_server_and_reopened": s.idle_reopened,
        },
        "dump_floods": s.dump_floods,
        "dumps": dumps,
    }


def _hostile_process(url: str, duration: float, idle: int, seed: int, skip: str, conn: Any) -> None:
    """The hostile clients, in a process of their own (as attackers are other machines): their
    work does not delay the legitimate clients' event loop, so it does not enter their
    latency."""
    conn.send(asyncio.run(hostile_traffic(url, duration, idle, seed, skip)))
    conn.close()


def run_soak(
    url: str, duration: float, idle: int, seed: int, hostile: bool, skip: str
) -> tuple[Soak, dict[str, Any]]:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()
    proc = None
    if hostile:
        proc = ctx.Process(
            target=_hostile_process, args=(url, duration, idle, seed, skip, theirs), daemon=True
        )
        proc.start()
    legit = asyncio.run(legit_traffic(url, duration, seed))
    report: dict[str, Any] = {"hostile": {}, "idle_connections": {}, "dump_floods": []}
    if proc is not None:
        if ours.poll(120):
            report = ours.recv()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    if "dumps" not in report:
        report["dumps"] = asyncio.run(discover(url))[1]
    return legit, report


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def stop_during_flood(proc: subprocess.Popen[bytes], url: str, dumps: list[str]) -> float:
    """Seconds from SIGTERM (sent while 40 dump requests are open) to the server's exit."""

    async def go() -> float:
        s = Soak(url, 30, 0)
        flood = asyncio.ensure_future(s.dump_flood(dumps) if dumps else asyncio.sleep(0))
        await asyncio.sleep(0.3)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        while proc.poll() is None and time.monotonic() - start < 60:
            await asyncio.sleep(0.05)
        took = time.monotonic() - start
        flood.cancel()
        return took

    took = asyncio.run(go())
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        return float("inf")
    return took


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.decode().strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument(
        "--triples",
        type=int,
        default=0,
        help="generated data of about this many triples (default 0: the embedded dataset)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", type=int, default=1100, help="idle connections held open")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-record", action="store_true", help="print, write nothing")
    parser.add_argument(
        "--skip", default="", help="hostile kinds to leave out, comma-separated (diagnosis)"
    )
    parser.add_argument(
        "--legit-only", action="store_true", help="the legitimate clients alone (a baseline)"
    )
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="cica-ld-soak-"))
    data = None
    if args.triples:
        from benchmarks.generate import write

        data = tmp / "soak.ttl"
        write(data, args.triples, seed=args.seed)
    load_before = os.getloadavg()[0]
    proc, url, lines = start_server(data, args.workers)
    print(f"soak: server at {url}, {args.duration:g} s", file=sys.stderr)
    try:
        with MemorySampler(proc.pid) as mem:
            result, report = run_soak(
                url, args.duration, args.idle, args.seed, not args.legit_only, args.skip
            )
            alive = proc.poll() is None
            stop_s = stop_during_flood(proc, url, report["dumps"]) if alive else None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = "".join(lines)
    shutil.rmtree(tmp, ignore_errors=True)
    kept = Path(tempfile.gettempdir()) / "cica-ld-soak-stderr.txt"
    kept.write_text(stderr, encoding="utf-8")
    print(f"soak: the server's stderr is in {kept}", file=sys.stderr)
    times = [t for _, t, _ in result.legit]
    crashes = 0 if alive else 1
    out = {
        "benchmark": "soak",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_avg_1m_before": round(load_before, 2),
            "note": "clients and server share the machine (loopback); run under nice",
        },
        "config": {
            "duration_s": args.duration,
            "triples": args.triples or "embedded dataset",
            "workers": args.workers,
            "idle_connections": args.idle,
            "hostile_clients": not args.legit_only,
            "skipped": args.skip,
            "server_defaults": "--max-queue 16, --max-response-mb 16, --header-timeout 10, "
            "--idle-timeout 5, --max-connections 1000",
        },
        "legit": {
            "requests": len(times),
            "errors": len(result.legit_errors),
            "error_examples": result.legit_errors[:10],
            "slowest": [f"{t:.2f} s {what}" for t, what in result.slowest],
            "latency_s": {
                "p50": round(percentile(times, 50), 3),
                "p99": round(percentile(times, 99), 3),
                "max": round(max(times), 3) if times else 0,
            },
            "by_kind": {
                kind: {
                    "requests": len([t for k, t, _ in result.legit if k == kind]),
                    "p99_s": round(percentile([t for k, t, _ in result.legit if k == kind], 99), 3),
                }
                for kind in ("query", "GET")
            },
        },
        "hostile": report["hostile"],
        "idle_connections": report["idle_connections"],
        "dump_floods": report["dump_floods"],
        "server": {
            "peak_rss_mb_server_and_workers": round(mem.peak_total, 1),
            "peak_rss_mb_server": round(mem.peak_server, 1),
            "crashed": not alive,
            "exit_code_after_sigterm": proc.returncode,
            "sigterm_during_dump_flood_exit_s": None if stop_s is None else round(stop_s, 2),
            "tracebacks_in_stderr": stderr.count("Traceback"),
            "stderr_lines": len(stderr.splitlines()),
            "stderr_examples": sorted(set(stderr.splitlines()))[:10],
        },
    }
    p99 = out["legit"]["latency_s"]["p99"]
    out["targets"] = {
        "legit_p99_under_2_s": p99 < TARGETS["legit_p99_s"],
        "memory_under_1_gb": mem.peak_total < TARGETS["memory_mb"],
        "zero_crashes": crashes == 0 and out["server"]["tracebacks_in_stderr"] == 0,
        "zero_legit_errors": not result.legit_errors,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if not args.no_record:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime())
        (RESULTS / f"soak-{stamp}.json").write_text(text + "\n", encoding="utf-8")
        md = RESULTS / "soak.md"
        if not md.exists():
            md.write_text(
                "# `cica-ld serve` soak runs (benchmarks/soak.py)\n\n"
                "| run | duration | data | legit requests | legit p50 | legit p99 "
                "| legit errors | peak RSS (server + workers) | crashes | tracebacks "
                "| SIGTERM exit | targets met |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|\n",
                encoding="utf-8",
            )
        met = all(out["targets"].values())
        row = (
            f"| {out['date']} | {args.duration:g} s | {out['config']['triples']} "
            f"| {len(times)} | {out['legit']['latency_s']['p50']} s | {p99} s "
            f"| {len(result.legit_errors)} | {mem.peak_total:.0f} MB | {crashes} "
            f"| {out['server']['tracebacks_in_stderr']} "
            f"| {out['server']['sigterm_during_dump_flood_exit_s']} s "
            f"| {'yes' if met else 'no'} |\n"
        )
        with md.open("a", encoding="utf-8") as f:
            f.write(row)
    return 0 if all(out["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
