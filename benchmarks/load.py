"""Load and validate at scale: `cica-ld load` against the stores' own bulk loaders, and
`cica-ld validate` (embedded and --endpoint) at 10M triples beside pyrudof (issue 14, items 2, 4).

For each size (1M, 10M triples of benchmarks/generate.py data, seed 1, clean):

- Oxigraph: `cica-ld load --endpoint .../store --replace` into a fresh `oxigraph serve`, then
  the count of triples the store holds; anchor: `oxigraph load --location DIR --file F` into a
  fresh folder (the store's bulk loader).
- Virtuoso (Debian's virtuoso-opensource 7): `cica-ld load --endpoint .../sparql-graph-crud-auth
  --graph G --user dba` (HTTP Digest; the password from CICA_LD_PASSWORD) into a fresh
  database, then the count; anchor: `ld_dir` + `rdf_loader_run()` + `checkpoint` by isql-vt.
- At the largest size: `cica-ld validate --endpoint` against each loaded store, and
  `cica-ld validate` on the file (embedded) beside pyrudof (benchmarks/anchors.py).

Each job's wall time, CPU time and peak RSS (the client's, os.wait4) are recorded, and for
servers their own peak RSS (VmHWM). Run it once, niced, on a quiet machine:

    nice -n 10 .venv/bin/python benchmarks/load.py --sizes 1M,10M

Results: benchmarks/results/load-<UTC time>.json and benchmarks/results/load.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results"
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
GRAPH = "http://example.org/bench/graph"


def _module(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


run = _module("cica_bench_run", ROOT / "benchmarks" / "run.py")
sys.path.insert(0, str(ROOT / "tests"))
import conftest  # noqa: E402  (the tests' server fixtures: the same ini, the same ports logic)


def vmhwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def count(url: str, graph: str | None = None) -> int:
    import httpx

    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    r = httpx.post(
        url,
        data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=600,
    )
    r.raise_for_status()
    return int(json.loads(r.content)["results"]["bindings"][0]["n"]["value"])


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = Path(args.work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.jobs: list[dict] = []
        stamp = time.strftime("%Y-%m-%dT%H-%M-%SZ", time.gmtime())
        self.out = RESULTS / f"load-{stamp}.json"
        self.started = time.time()

    def record(self, job: dict) -> dict:
        job["load1"] = round(os.getloadavg()[0], 2)
        job["loadavg"] = [round(x, 2) for x in os.getloadavg()]
        self.jobs.append(job)
        print(json.dumps(job), flush=True)
        self.save()
        return job

    def save(self) -> None:
        doc = {
            "machine": run.machine(),
            "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
            "defects": self.args.defects,
            "minutes": round((time.time() - self.started) / 60, 1),
            "jobs": self.jobs,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(doc, indent=2) + "\n")
        (RESULTS / self.args.md).write_text(render(doc))

    def measure(self, section: str, size: str, tool: str, cmd: list, **kw: Any) -> dict:
        env = kw.pop("env", None)
        timeout = kw.pop("timeout", self.args.timeout)
        old = dict(os.environ)
        if env:
            os.environ.update(env)
        try:
            r = run.run_once([str(c) for c in cmd], timeout, kw.pop("stdout", None))
        finally:
            os.environ.clear()
            os.environ.update(old)
        status = "timeout" if r["timeout"] else ("ok" if r["rc"] in kw.get("ok", (0,)) else "error")
        job = {
            "runner_rss_mb": round(vmhwm_mb(os.getpid()) or 0, 1),
            "section": section,
            "size": size,
            "tool": tool,
            "status": status,
            "rc": r["rc"],
            "wall_s": round(r["wall"], 2),
            "cpu_s": round(r["cpu"], 2),
            "peak_rss_mb": round(r["rss_mb"], 1),
        }
        if status != "ok":
            job["note"] = " ".join(r["stderr"].split())[-400:]
        return job

    def data(self, size: str) -> Path:
        rate = self.args.defects
        name = f"gen-{size.lower()}" + (f"-defects{rate:g}" if rate else "")
        path = Path(self.args.data) / f"{name}.ttl"
        if not path.exists():
            gen = _module("cica_bench_generate", ROOT / "benchmarks" / "generate.py")
            gen.write(path, SIZES[size], seed=1, defect_rate=rate)
        return path

    # -- validate --endpoint on stores loaded by their own bulk loaders ----------------------
    def bulk_validate(self, size: str, path: Path, expected: int) -> None:
        """Each store filled by its bulk loader (the anchor job), then `validate --endpoint`
        against it: the HTTP load of 10M takes far longer than the validation measured."""
        if "oxigraph" in self.args.validate_stores:
            folder = self.work / f"oxigraph-bulk-{size}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            cmd = [conftest.oxigraph_binary(), "load", "--location", folder / "oxigraph-db"]
            cmd += ["--file", path]
            self.record(self.measure("load", size, "oxigraph load (bulk loader, anchor)", cmd))
            server = conftest.start_oxigraph(folder, union_default_graph=False)
            try:
                self.jobs[-1]["triples_in_store"] = count(server.query_url)
                self.jobs[-1]["triples_expected"] = expected
                self.validate_endpoint(size, "oxigraph serve", server.query_url)
                self.jobs[-1]["server_peak_rss_mb"] = vmhwm_mb(server.process.pid)
                self.save()
            finally:
                conftest.stop_oxigraph(server)
                shutil.rmtree(folder, ignore_errors=True)
        if "virtuoso" in self.args.validate_stores and conftest.virtuoso_binary() is not None:
            ini = {"buffers": self.args.virtuoso_buffers, "extra_dirs": str(path.parent)}
            folder = self.work / f"virtuoso-bulk-{size}"
            shutil.rmtree(folder, ignore_errors=True)
            server = conftest.start_virtuoso(folder, **ini)
            try:
                self.virtuoso_bulk_load(size, path, server, folder, expected)
                self.validate_endpoint(size, "virtuoso", server.query_url_for(GRAPH))
                self.jobs[-1]["server_peak_rss_mb"] = vmhwm_mb(server.process.pid)
                self.save()
            finally:
                conftest.stop_virtuoso(server)
                shutil.rmtree(folder, ignore_errors=True)

    def triples(self, path: Path) -> int:
        """The generator's own count (its manifest); each store's count is checked against it.
        Not counted here: whatever this process holds, its children's peak RSS would include
        (Linux carries the RSS at fork into a child's ru_maxrss)."""
        manifest = path.with_suffix(".manifest.json")
        if not manifest.exists():
            manifest = path.resolve().with_suffix(".manifest.json")
        return int(json.loads(manifest.read_text())["triples"])

    # -- Oxigraph ------------------------------------------------------------------------------
    def oxigraph(self, size: str, path: Path, expected: int, validate: bool) -> None:
        folder = self.work / f"oxigraph-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        server = conftest.start_oxigraph(folder, union_default_graph=False)
        try:
            cmd = [BIN / "cica-ld", "load", "--endpoint", server.store_url, "--data", path]
            cmd += ["--replace", "--state-dir", self.work / "state", "--timeout", "600"]
            job = self.measure("load", size, "cica-ld load -> oxigraph serve", cmd)
            job["server_peak_rss_mb"] = vmhwm_mb(server.process.pid)
            job["triples_in_store"] = count(server.query_url)
            job["triples_expected"] = expected
            self.record(job)
            if validate and "oxigraph" in self.args.validate_stores:
                self.validate_endpoint(size, "oxigraph serve", server.query_url)
                self.jobs[-1]["server_peak_rss_mb"] = vmhwm_mb(server.process.pid)
                self.save()
        finally:
            conftest.stop_oxigraph(server)
            shutil.rmtree(folder, ignore_errors=True)
        bulk = self.work / f"oxigraph-bulk-{size}"
        shutil.rmtree(bulk, ignore_errors=True)
        oxi = conftest.oxigraph_binary()
        cmd = [oxi, "load", "--location", bulk, "--file", path]
        job = self.measure("load", size, "oxigraph load (bulk loader, anchor)", cmd)
        self.record(job)
        shutil.rmtree(bulk, ignore_errors=True)

    # -- Virtuoso ------------------------------------------------------------------------------
    def virtuoso(self, size: str, path: Path, expected: int, validate: bool) -> None:
        if conftest.virtuoso_binary() is None:
            self.record({"section": "load", "size": size, "tool": "virtuoso", "status": "n/a"})
            return
        ini = {"buffers": self.args.virtuoso_buffers, "extra_dirs": str(path.parent)}
        folder = self.work / f"virtuoso-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        server = conftest.start_virtuoso(folder, **ini)
        try:
            cmd = [BIN / "cica-ld", "load", "--endpoint", server.store_url, "--graph", GRAPH]
            cmd += ["--data", path, "--replace", "--user", conftest.VIRTUOSO_USER]
            cmd += ["--state-dir", self.work / "state", "--timeout", "600"]
            env = {"CICA_LD_PASSWORD": conftest.VIRTUOSO_PASSWORD}
            job = self.measure("load", size, "cica-ld load -> virtuoso (digest)", cmd, env=env)
            job["server_peak_rss_mb"] = vmhwm_mb(server.process.pid)
            job["triples_in_store"] = count(server.query_url, GRAPH)
            job["triples_expected"] = expected
            self.record(job)
            if validate and "virtuoso" in self.args.validate_stores:
                self.validate_endpoint(size, "virtuoso", server.query_url_for(GRAPH))
        finally:
            conftest.stop_virtuoso(server)
            shutil.rmtree(folder, ignore_errors=True)
        folder = self.work / f"virtuoso-bulk-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        server = conftest.start_virtuoso(folder, **ini)
        try:
            self.virtuoso_bulk_load(size, path, server, folder, expected)
        finally:
            conftest.stop_virtuoso(server)
            shutil.rmtree(folder, ignore_errors=True)

    def virtuoso_bulk_load(
        self, size: str, path: Path, server: Any, folder: Path, expected: int
    ) -> None:
        """Time Virtuoso's own bulk loader (``ld_dir`` + ``rdf_loader_run()`` + ``checkpoint``
        through ``isql-vt``) filling ``server`` with ``path``, and record it as the anchor."""
        script = folder / "bulk.sql"
        script.write_text(
            f"ld_dir('{path.parent}', '{path.name}', '{GRAPH}');\nrdf_loader_run();\ncheckpoint;\n"
        )
        isql = shutil.which("isql-vt") or "isql-vt"
        cmd = [
            "sh", "-c",
            f'"{isql}" 127.0.0.1:{server.sql_port} {conftest.VIRTUOSO_USER} '
            f'{conftest.VIRTUOSO_PASSWORD} < "{script}"',
        ]  # fmt: skip
        job = self.measure("load", size, "virtuoso ld_dir + rdf_loader_run (anchor)", cmd)
        job["server_peak_rss_mb"] = vmhwm_mb(server.process.pid)
        job["triples_in_store"] = count(server.query_url, GRAPH)
        job["triples_expected"] = expected
        self.record(job)

    # -- validation ----------------------------------------------------------------------------
    def shapes_and_ontology(self) -> tuple[Path, Path]:
        b = run.Suite.__new__(run.Suite)
        b.work = self.work
        return run.Suite.shapes_and_ontology(b)

    def validate_endpoint(self, size: str, store: str, url: str) -> None:
        shapes, ontology = self.shapes_and_ontology()
        out = self.work / f"v-{size}-endpoint-{store.split()[0]}.json"
        cmd = [BIN / "cica-ld", "validate", "--endpoint", url, "--shapes", shapes]
        cmd += ["--ontology", ontology, "-f", "json", "-o", out, "--timeout", "900"]
        job = self.measure(
            "validate", size, f"cica-ld validate --endpoint ({store})", cmd, ok=(0, 1),
            timeout=self.args.validate_timeout,
        )  # fmt: skip
        if job["status"] == "ok":
            job["results"] = len(run.rows_from_cica_json(out))
            embedded = self.work / f"v-{size}-embedded.json"
            if embedded.exists():  # the same results as the embedded validation?
                job["same_as_embedded"] = _same_rows(out, embedded)
        self.record(job)

    def validate_embedded(self, size: str, path: Path) -> None:
        shapes, ontology = self.shapes_and_ontology()
        out = self.work / f"v-{size}-embedded.json"
        cmd = [BIN / "cica-ld", "validate", "--data", path, "--shapes", shapes]
        cmd += ["--ontology", ontology, "-f", "json", "-o", out]
        job = self.measure(
            "validate", size, "cica-ld validate (embedded)", cmd, ok=(0, 1),
            timeout=self.args.validate_timeout,
        )  # fmt: skip
        if job["status"] == "ok":
            job["results"] = len(run.rows_from_cica_json(out))
        job["target"] = "<= 150 s and <= 10 GB"
        job["met"] = job["status"] == "ok" and job["wall_s"] <= 150 and job["peak_rss_mb"] <= 10_000
        self.record(job)
        out = self.work / f"v-{size}-pyrudof.json"
        cmd = [sys.executable, ROOT / "benchmarks" / "anchors.py", "pyrudof", path, shapes]
        cmd += [ontology, out]
        job = self.measure(
            "validate", size, "pyrudof (anchor)", cmd, timeout=self.args.pyrudof_timeout
        )
        if job["status"] == "ok":
            job["results"] = len(run.rows_from_anchor_json(out))
        self.record(job)


def _same_rows(a: Path, b: Path) -> bool:
    """Whether two cica-ld JSON reports hold the same results (focus, shape, component, path,
    value), as multisets."""
    from collections import Counter

    rows = (run.rows_from_cica_json(p) for p in (a, b))
    return Counter(map(repr, next(rows))) == Counter(map(repr, next(rows)))


def render(doc: dict, title: str = "") -> str:
    m = doc["machine"]
    lines = [
        f"## {title}" if title else "# Load and validate at scale (issue 14)",
        "",
        f"Run on {m.get('cpu', '?')}, {m.get('nproc', '?')} cores, {m.get('memory_gb', '?')} GB "
        f"RAM, commit {m.get('git_commit', '?')}, {m.get('date_utc', '')}, shared machine (load "
        "average in the table). Command: "
        f"`{doc['command']}`, {doc['minutes']} min. Data: benchmarks/generate.py, seed 1, "
        + (f"{doc['defects']:g} defect rate." if doc.get("defects") else "clean."),
        "",
        "Client peak RSS is the process's ru_maxrss (os.wait4), which on Linux includes the "
        "runner's own RSS at fork (runner_rss_mb in the JSON, about 60-100 MB): a floor for "
        "small clients.",
        "",
        "| section | size | tool | status | wall | CPU | client peak RSS | server peak RSS | "
        "triples in store / expected | results | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for j in doc["jobs"]:
        stored = ""
        if "triples_in_store" in j:
            stored = f"{j['triples_in_store']} / {j['triples_expected']}"
        server = j.get("server_peak_rss_mb")
        status = j["status"] + (f" ({j['note'][:160]})" if j.get("note") else "")
        if "met" in j:
            status += f"; target {j['target']}: {'met' if j['met'] else 'missed'}"
        if "same_as_embedded" in j:
            status += "; same results as embedded" if j["same_as_embedded"] else "; DIFFERENT"
        lines.append(
            f"| {j['section']} | {j['size']} | {j['tool']} | {status} | {j.get('wall_s', '-')} s "
            f"| {j.get('cpu_s', '-')} s | {j.get('peak_rss_mb', '-')} MB | "
            f"{f'{server:.0f} MB' if server else '-'} | {stored} | {j.get('results', '')} | "
            f"{j.get('load1', '')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1M,10M")
    p.add_argument("--stores", default="oxigraph,virtuoso")
    p.add_argument("--validate-at", default="10M", help="size of the validate jobs ('' for none)")
    p.add_argument("--validate-stores", default="oxigraph,virtuoso")
    p.add_argument("--data", default="/tmp/cica-ld-bench-data")
    p.add_argument("--work", default="/tmp/cica-ld-bench-load")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--validate-timeout", type=float, default=900)
    p.add_argument("--pyrudof-timeout", type=float, default=300)
    p.add_argument(
        "--render",
        nargs="+",
        metavar="JSON",
        help="write load.md from these recorded runs (in order) and exit",
    )
    p.add_argument("--virtuoso-buffers", type=int, default=250_000, help="8 kB pages (~2 GB)")
    p.add_argument("--md", default="load.md", help="the markdown file in benchmarks/results/")
    p.add_argument("--defects", type=float, default=0.0, help="defect rate of the data (0)")
    p.add_argument(
        "--validate-only",
        action="store_true",
        help="only the validate jobs at --validate-at: embedded, pyrudof, and --endpoint on "
        "stores filled by their bulk loaders (no cica-ld load jobs)",
    )
    args = p.parse_args(argv)
    if args.render:
        docs = [json.loads(Path(f).read_text()) for f in args.render]
        text = "\n".join(
            render(d, f"Run {i + 1}: {Path(f).name}")
            for i, (d, f) in enumerate(zip(docs, args.render, strict=True))
        )
        (RESULTS / "load.md").write_text("# Load and validate at scale (issue 14)\n\n" + text)
        return 0
    Path(args.data).mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    if args.validate_only:
        size = args.validate_at
        path = bench.data(size)
        bench.validate_embedded(size, path)
        bench.bulk_validate(size, path, bench.triples(path))
        print(f"results: {bench.out} and {RESULTS / args.md}")
        return 0
    for size in args.sizes.split(","):
        path = bench.data(size)
        expected = bench.triples(path)
        validate = size == args.validate_at
        if validate:  # first: the embedded target matters most
            bench.validate_embedded(size, path)
        if "oxigraph" in args.stores:
            bench.oxigraph(size, path, expected, validate)
        if "virtuoso" in args.stores:
            bench.virtuoso(size, path, expected, validate)
    print(f"results: {bench.out} and {RESULTS / 'load.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
