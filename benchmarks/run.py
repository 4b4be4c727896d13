"""Benchmark runner: cica-ld beside the libraries it is built on and the tools it competes with.

``make bench`` runs ``python benchmarks/run.py``. For each size (10k, 100k, 1M triples by default;
``--sizes`` chooses) it generates seeded ORG data shaped like the CICA graph, with 1% injected
defects listed in a manifest (``benchmarks/generate.py``), and times, each in its own process
(wall time, CPU time and peak RSS from ``os.wait4``):

- ``cica-ld query members`` / ``member-count --data FILE`` beside a bare pyoxigraph script and
  rdflib doing the same load and query (``benchmarks/anchors.py``);
- ``cica-ld validate --engine native`` beside the pySHACL CLI, pySHACL on an oxrdflib store and
  pyrudof, all with the repository shapes and ontology; every validator's results are compared
  with the manifest and with each other (focus node, source shape, constraint component, path,
  value);
- ``cica-ld export -f jsonld`` beside rdflib's JSON-LD serializer with the project context;
- ``cica-ld publish``.

Plus the start-up benchmark (issue 2 item 9: median wall time of ``cica-ld query members`` beside
``python -c "import typer, pyoxigraph"``) and the embedded-dataset validation benchmark (issue 4
item 7: ``cica-ld validate`` beside ``pyshacl -s shapes -e ontology data`` on the same files, with
identical results). Each target of the issues is evaluated as met / not met with its ratio.

Runs are bounded: every job has a timeout (recorded as ``timeout > N s``, a lower bound), and jobs
known to be impractical at a size (pySHACL at 1M, publish at 1M) are projected linearly from the
largest size measured instead of run; the anchor of a target (the pySHACL CLI at 100k, pyrudof
at 1M) always runs on the same data, so a timeout there is a measured lower bound. pySHACL run
by ``cica-ld validate --engine pyshacl`` (the reference for identical results) runs up to 100k
with its own timeout (``--pyshacl-max``, ``--pyshacl-timeout``). A command that does not exist
(yet) is recorded as ``not available``; the runner never stops on a failing job.

Results: ``benchmarks/results/<UTC timestamp>.json`` (machine, versions, load, every job, every
check) and ``benchmarks/results/latest.md`` (the tables).

    python benchmarks/run.py                       # everything (~40 min on 2 cores)
    python benchmarks/run.py --sizes 10k,100k      # skip 1M
    python benchmarks/run.py --sizes 10k --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import anchors  # noqa: E402
import generate  # noqa: E402

PY = sys.executable
BIN = Path(PY).parent
XSD_STRING = "^^<http://www.w3.org/2001/XMLSchema#string>"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1M": 1_000_000}
PACKAGES = (
    "cica-ld",
    "pyoxigraph",
    "rdflib",
    "pyshacl",
    "oxrdflib",
    "pyrudof",
    "PyLD",
    "typer",
    "jinja2",
)


# ---------------------------------------------------------------------------------------------
# Measuring one process
# ---------------------------------------------------------------------------------------------


@dataclass
class Job:
    """One measured command (median of `runs` runs when a run is short)."""

    section: str
    name: str
    tool: str
    size: str | None
    status: str  # ok | timeout | error | not available | skipped | projected
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    runs: int = 0
    rc: int | None = None
    load1: float | None = None
    note: str = ""
    cmd: list[str] = field(default_factory=list)
    # projected jobs: the time (or timeout) measured at the smaller size the projection starts
    # from, a lower bound for this size (more data is never validated or parsed faster)
    lower_bound_s: float | None = None

    def time_text(self) -> str:
        if self.status == "ok":
            return f"{self.wall_s:.2f} s"
        if self.status == "timeout":
            return f"timeout > {self.wall_s:.0f} s"
        if self.status == "projected":
            return f"~{self.wall_s:.0f} s (projected)"
        return self.status


def run_once(
    cmd: list[str], timeout: float, stdout: Path | None = None, cwd: Path | None = None
) -> dict:
    """Run `cmd`; return wall, CPU (user+sys), peak RSS of that process, exit code, stderr.

    The process runs in its own session and is killed (with its children) after `timeout`
    seconds. `os.wait4` reports the resource usage of exactly that child.
    """
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(stdout, "wb")) if stdout else subprocess.DEVNULL
        err = stack.enter_context(tempfile.TemporaryFile())
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL
        )
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "rc": proc.returncode,
        "timeout": killed.is_set(),
        "stderr": stderr,
    }


NOT_AVAILABLE_MARKERS = ("No such command", "not available", "No such option")


def measure(
    section: str,
    name: str,
    tool: str,
    size: str | None,
    cmd: list[str],
    *,
    timeout: float,
    ok_codes: tuple[int, ...] = (0,),
    stdout: Path | None = None,
    repeat: int = 1,
    log: bool = True,
) -> Job:
    """Measure `cmd`; repeat (median) while a run takes under 2 s, up to `repeat` runs."""
    load1 = os.getloadavg()[0]
    runs = []
    for _ in range(max(1, repeat)):
        r = run_once(cmd, timeout, stdout)
        runs.append(r)
        if r["timeout"] or r["rc"] not in ok_codes or r["wall"] >= 2.0:
            break
    last = runs[-1]
    job = Job(section, name, tool, size, "ok", cmd=[str(c) for c in cmd], load1=round(load1, 2))
    job.runs = len(runs)
    job.rc = last["rc"]
    if last["timeout"]:
        job.status, job.wall_s = "timeout", timeout
        job.peak_rss_mb = round(last["rss_mb"], 1)
        job.cpu_s = round(last["cpu"], 2)
    elif last["rc"] not in ok_codes:
        msg = last["stderr"].strip().splitlines()
        errors = [m for m in msg if "error" in m.lower()]
        text = (errors or msg or [f"exit {last['rc']}"])[0].strip()
        if last["rc"] == 2 and any(m in last["stderr"] for m in NOT_AVAILABLE_MARKERS):
            job.status = "not available"
        else:
            job.status = "error"
        job.note = text[:300]
    else:
        job.wall_s = round(statistics.median(r["wall"] for r in runs), 3)
        job.cpu_s = round(statistics.median(r["cpu"] for r in runs), 3)
        job.peak_rss_mb = round(max(r["rss_mb"] for r in runs), 1)
    if log:
        rss = f", {job.peak_rss_mb:.0f} MB" if job.peak_rss_mb and job.status == "ok" else ""
        note = f"  [{job.note}]" if job.note else ""
        print(f"  {size or '-':>5} {name:<34} {tool:<28} {job.time_text()}{rss}{note}", flush=True)
    return job


# ---------------------------------------------------------------------------------------------
# Validation results: one normal form for cica-ld JSON, pySHACL reports, pyrudof, the manifest
# ---------------------------------------------------------------------------------------------


def _iri(s: str | None) -> str | None:
    if s is None:
        return None
    return s if s.startswith(("<", '"', "_:")) else f"<{s}>"


def _value(s: str | None) -> str | None:
    if s is not None and s.endswith(XSD_STRING):
        return s[: -len(XSD_STRING)]
    return s


def rows_from_cica_json(path: Path) -> list[tuple]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [
        (
            _iri(r.get("focusNode")),
            _iri(r.get("sourceShape")),
            _iri(r.get("sourceConstraintComponent")),
            _iri(r.get("path")),
            _value(r.get("value")),
        )
        for r in doc.get("results", [])
    ]


def rows_from_anchor_json(path: Path) -> list[tuple]:
    return [
        (a, b, c, d, _value(e)) for a, b, c, d, e in json.loads(path.read_text(encoding="utf-8"))
    ]


def located_from_cica_json(path: Path) -> list[tuple]:
    """(focus, file name, line) of each result: where cica-ld says the focus node stands."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for r in doc.get("results", []):
        loc = r.get("location") or {}
        out.append((_iri(r.get("focusNode")), Path(loc.get("file") or "").name, loc.get("line")))
    return out


def located_from_manifest(path: Path) -> list[tuple]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [(_iri(d["focus"]), doc["file"], d["line"]) for d in doc["defects"]]


def rows_from_manifest(path: Path) -> list[tuple]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [
        (_iri(d["focus"]), _iri(d["shape"]), _iri(d["component"]), _iri(d["path"]))
        for d in doc["defects"]
    ]


def compare(a: list[tuple], b: list[tuple], *, with_value: bool = True) -> dict:
    """Multiset comparison; `with_value=False` compares focus, shape, component, path."""
    ka = Counter(r if with_value else r[:4] for r in a)
    kb = Counter(r if with_value else r[:4] for r in b)
    only_a, only_b = ka - kb, kb - ka
    return {
        "equal": not only_a and not only_b,
        "count_a": sum(ka.values()),
        "count_b": sum(kb.values()),
        "only_a": [list(r) for r in list(only_a.elements())[:5]],
        "only_b": [list(r) for r in list(only_b.elements())[:5]],
    }


# ---------------------------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    target: str
    measured: str
    ratio: float | None
    met: bool | None  # None: could not be evaluated
    note: str = ""


class Suite:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.jobs: list[Job] = []
        self.checks: list[Check] = []
        self.comparisons: list[dict] = []
        self.data: dict[str, dict] = {}
        self.cica = self._cica_command()
        self.available = self._available_commands()

    # -- helpers -------------------------------------------------------------------------------

    def _cica_command(self) -> list[str]:
        exe = BIN / "cica-ld"
        return [str(exe)] if exe.exists() else [PY, "-m", "cica_ld"]

    def _available_commands(self) -> dict[str, bool]:
        found = {}
        for cmd in ("query", "validate", "export", "publish"):
            r = run_once([*self.cica, cmd, "--help"], 60)
            found[cmd] = r["rc"] == 0
        return found

    def job(self, *a, **kw) -> Job:
        j = measure(*a, **kw)
        self.jobs.append(j)
        return j

    def unavailable(self, section: str, name: str, tool: str, size: str | None) -> Job:
        j = Job(section, name, tool, size, "not available", note="command not in this cica-ld")
        print(f"  {size or '-':>5} {name:<34} {tool:<28} not available", flush=True)
        self.jobs.append(j)
        return j

    def skipped(
        self,
        section: str,
        name: str,
        tool: str,
        size: str,
        basis: Job | None,
        factor: float,
        why: str,
    ) -> Job:
        """A job not run at this size: projected linearly from `basis` when it was measured."""
        if basis is not None and basis.status in ("ok", "timeout", "projected") and basis.wall_s:
            j = Job(
                section,
                name,
                tool,
                size,
                "projected",
                wall_s=round(basis.wall_s * factor, 1),
                note=f"{why}; linear projection from {basis.size}"
                + (" (itself a lower bound)" if basis.status == "timeout" else ""),
                lower_bound_s=basis.lower_bound_s if basis.status == "projected" else basis.wall_s,
            )
        else:
            j = Job(section, name, tool, size, "skipped", note=why)
        print(f"  {size:>5} {name:<34} {tool:<28} {j.time_text()}  [{why}]", flush=True)
        self.jobs.append(j)
        return j

    def find(self, name: str, tool: str, size: str | None) -> Job | None:
        for j in self.jobs:
            if j.name == name and j.tool == tool and j.size == size:
                return j
        return None

    def previous(self, name: str, tool: str, size: str) -> Job | None:
        """The same job at the largest smaller size measured in this run."""
        smaller = [s for s in SIZES if SIZES[s] < SIZES[size]]
        for s in sorted(smaller, key=SIZES.get, reverse=True):
            j = self.find(name, tool, s)
            if j is not None and j.status in ("ok", "timeout", "projected"):
                return j
        return None

    def bounded(
        self,
        section: str,
        name: str,
        tool: str,
        size: str,
        cmd: list,
        *,
        timeout: float,
        always: bool = False,
        **kw: Any,
    ) -> Job:
        """Run the job unless the previous size shows it would far exceed its timeout: then
        project it linearly from there (a lower bound when that was a timeout). ``always``:
        run it anyway (the anchor of a target: a timeout on the same data is a measured lower
        bound, which a projection from another size is not)."""
        prev = self.previous(name, tool, size)
        if prev is not None and prev.wall_s and not always:
            factor = SIZES[size] / SIZES[prev.size]
            if prev.status in ("timeout", "projected") or prev.wall_s * factor > 2 * timeout:
                return self.skipped(
                    section,
                    name,
                    tool,
                    size,
                    prev,
                    factor,
                    f"not run: would exceed the {timeout:.0f} s timeout",
                )
        return self.job(section, name, tool, size, cmd, timeout=timeout, **kw)

    def shapes_and_ontology(self) -> tuple[Path, Path]:
        """The repository shapes for data (all of shapes/ but the vocabulary QA shapes) and the
        ontology, each merged into one Turtle file: the pySHACL CLI takes one file of each."""
        shapes, ontology = self.work / "shapes.ttl", self.work / "ontology.ttl"
        if not shapes.exists():
            import rdflib

            g = rdflib.Graph()
            for p in sorted((ROOT / "shapes").glob("*.ttl")):
                if p.name != "vocabulary.ttl":
                    g.parse(p, format="turtle")
            g.serialize(shapes, format="turtle")
            o = rdflib.Graph()
            for p in sorted((ROOT / "ontology").glob("*.ttl")):
                o.parse(p, format="turtle")
            o.serialize(ontology, format="turtle")
        return shapes, ontology

    # -- sections ------------------------------------------------------------------------------

    def startup(self) -> None:
        print("start-up (issue 2 item 9)", flush=True)
        n = self.args.startup_runs
        if not self.available["query"]:
            self.unavailable("startup", "query members (embedded)", "cica-ld", None)
            return
        # an installed wheel has its bytecode compiled by pip; an editable install may not (and
        # with PYTHONDONTWRITEBYTECODE set, would compile the package again at every start)
        subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "cica_ld")], check=False)
        cmds = {
            "cica-ld query members": [*self.cica, "query", "members"],
            "python -c 'import typer, pyoxigraph'": [PY, "-c", "import typer, pyoxigraph"],
            "cica-ld --help": [*self.cica, "--help"],
        }
        walls: dict[str, list[float]] = {k: [] for k in cmds}
        cpus: dict[str, list[float]] = {k: [] for k in cmds}
        rss: dict[str, float] = dict.fromkeys(cmds, 0.0)
        loads = []
        for i in range(n + 2):  # interleaved, so load changes hit all alike; 2 warm-up rounds
            for k, c in cmds.items():
                loads.append(os.getloadavg()[0])
                r = run_once(c, 60)
                if i >= 2 and r["rc"] == 0:
                    walls[k].append(r["wall"])
                    cpus[k].append(r["cpu"])
                    rss[k] = max(rss[k], r["rss_mb"])
        for k, c in cmds.items():
            ok = len(walls[k]) == n
            j = Job(
                "startup",
                k,
                "median of runs",
                None,
                "ok" if ok else "error",
                wall_s=round(statistics.median(walls[k]), 4) if walls[k] else None,
                cpu_s=round(statistics.median(cpus[k]), 4) if cpus[k] else None,
                peak_rss_mb=round(rss[k], 1),
                runs=len(walls[k]),
                load1=round(statistics.median(loads), 2),
                cmd=c,
                note=f"min {min(walls[k]):.3f} s" if walls[k] else "failed",
            )
            self.jobs.append(j)
            print(f"      {k:<40} median {j.time_text()} ({j.runs} runs, {j.note})", flush=True)
        ours = self.find("cica-ld query members", "median of runs", None)
        floor = self.find("python -c 'import typer, pyoxigraph'", "median of runs", None)
        self._ratio_check(
            "start-up: cica-ld query members vs import typer, pyoxigraph (issue 2.9)",
            "<= 2x",
            ours,
            floor,
            2.0,
        )
        if ours is not None and floor is not None and ours.cpu_s and floor.cpu_s:
            c = self.checks[-1]
            c.note = "; ".join(
                x
                for x in (
                    c.note,
                    f"CPU time {ours.cpu_s:.3f} s vs {floor.cpu_s:.3f} s = "
                    f"{ours.cpu_s / floor.cpu_s:.3g}x",
                )
                if x
            )

    def embedded_validate(self) -> None:
        print("validate on the embedded dataset (issue 4 item 7)", flush=True)
        shapes, ontology = self.shapes_and_ontology()
        data = sorted(str(p) for p in (ROOT / "data").glob("*.ttl"))
        t = self.args.timeout
        report = self.work / "embedded-pyshacl.ttl"
        py = self.job(
            "embedded",
            "validate (same files)",
            "pyshacl CLI",
            None,
            [
                str(BIN / "pyshacl"),
                "-s",
                shapes,
                "-e",
                ontology,
                "-f",
                "turtle",
                "-o",
                report,
                *data,
            ],
            timeout=t,
            ok_codes=(0, 1),
            repeat=1,
        )
        ref_rows = None
        if py.status == "ok":
            out = self.work / "embedded-pyshacl.json"
            anchors.pyshacl_report(str(report), str(out))
            ref_rows = rows_from_anchor_json(out)
        if not self.available["validate"]:
            self.unavailable("embedded", "validate (same files)", "cica-ld validate", None)
            return
        ours = []
        for engine in ("default", "native"):
            out = self.work / f"embedded-cica-{engine}.json"
            cmd = [
                *self.cica,
                "validate",
                "--shapes",
                shapes,
                "--ontology",
                ontology,
                "-f",
                "json",
                "-o",
                out,
                *[a for d in data for a in ("--data", d)],
            ]
            if engine != "default":
                cmd += ["--engine", engine]
            tool = "cica-ld validate" + ("" if engine == "default" else f" --engine {engine}")
            j = self.job(
                "embedded",
                "validate (same files)",
                tool,
                None,
                cmd,
                timeout=t,
                ok_codes=(0, 1),
                repeat=3,
            )
            if j.status == "ok" and ref_rows is not None:
                cmp = compare(rows_from_cica_json(out), ref_rows)
                self.comparisons.append({"what": f"embedded data: {tool} vs pySHACL CLI", **cmp})
                j.note = (
                    "results identical to pySHACL"
                    if cmp["equal"]
                    else f"results DIFFER from pySHACL ({cmp['count_a']} vs {cmp['count_b']})"
                )
                ours.append((j, cmp["equal"]))
        j = self.job(
            "embedded",
            "validate (all defaults)",
            "cica-ld validate",
            None,
            [*self.cica, "validate", "-f", "json", "-o", self.work / "embedded-all.json"],
            timeout=t,
            ok_codes=(0, 1),
            repeat=3,
        )
        for j, same in ours:
            self._ratio_check(
                f"embedded validate: {j.tool} vs pySHACL CLI, same files (issue 4.7)",
                "<= 0.5x, identical results",
                j,
                py,
                0.5,
                extra_ok=same,
                extra_note="" if same else "results differ",
            )

    def prepare(self, size: str) -> Path:
        n = SIZES[size]
        path = self.work / f"gen-{size}.ttl"
        t0 = time.perf_counter()
        triples, manifest = generate.write(path, n, seed=self.args.seed, defect_rate=0.01)
        secs = time.perf_counter() - t0
        self.data[size] = {
            "file": path.name,
            "triples": triples,
            "defects": len(manifest),
            "generate_s": round(secs, 2),
            "bytes": path.stat().st_size,
        }
        print(
            f"data {size}: {triples} triples, {len(manifest)} defects, generated in {secs:.1f} s",
            flush=True,
        )
        return path

    def scale(self, size: str) -> None:
        data = self.prepare(size)
        manifest_rows = rows_from_manifest(generate.manifest_path_for(data))
        shapes, ontology = self.shapes_and_ontology()
        t, ta, rep, w = self.args.timeout, self.args.anchor_timeout, self.args.repeat, self.work
        cica, anchor = self.cica, [PY, BENCH / "anchors.py"]

        # query: cica-ld, a bare pyoxigraph script, rdflib ------------------------------------
        for q in ("members", "member-count"):
            name = f"query {q}"
            ours, bare = w / f"q-{q}-{size}.csv", w / f"q-{q}-{size}-ox.csv"
            if self.available["query"]:
                cmd = [*cica, "query", q, "--data", data, "-f", "csv", "-o", ours]
                self.job("query", name, "cica-ld query", size, cmd, timeout=t, repeat=rep)
            else:
                self.unavailable("query", name, "cica-ld query", size)
            cmd = [*anchor, "oxigraph-query", data, q, bare]
            self.job("query", name, "pyoxigraph (bare script)", size, cmd, timeout=t, repeat=rep)
            cmd = [*anchor, "rdflib-query", data, q, w / f"q-{q}-{size}-rdflib.csv"]
            self.bounded("query", name, "rdflib", size, cmd, timeout=ta, repeat=rep)
            if ours.exists() and bare.exists():
                same = sorted(ours.read_text().splitlines()) == sorted(
                    bare.read_text().splitlines()
                )
                self.comparisons.append(
                    {"what": f"{size} {name}: cica-ld vs bare pyoxigraph (CSV rows)", "equal": same}
                )

        # validate: cica-ld, pySHACL CLI, pySHACL on oxrdflib, pyrudof -------------------------
        validators: dict[str, list[tuple]] = {}
        vname = "validate"
        files = ["--data", data, "--shapes", shapes, "--ontology", ontology, "-f", "json"]
        if self.available["validate"]:
            # pySHACL run by cica-ld is the reference for "the same results" (value included);
            # it takes ~11 min at 100k on 2 cores, hours at 1M
            with_pyshacl = SIZES[size] <= SIZES[self.args.pyshacl_max]
            engines = ["native"] + (["pyshacl"] if with_pyshacl else [])
            for engine in engines:
                out = w / f"v-{size}-cica-{engine}.json"
                tool = f"cica-ld validate --engine {engine}"
                cmd = [*cica, "validate", "--engine", engine, *files, "-o", out]
                tmo = max(t, self.args.pyshacl_timeout) if engine == "pyshacl" else t
                j = self.job(
                    "validate", vname, tool, size, cmd, timeout=tmo, ok_codes=(0, 1), repeat=rep
                )
                if j.status == "ok":
                    validators[tool] = rows_from_cica_json(out)
        else:
            self.unavailable("validate", vname, "cica-ld validate", size)
        report = w / f"v-{size}-pyshacl.ttl"
        cmd = [BIN / "pyshacl", "-s", shapes, "-e", ontology, "-f", "turtle", "-o", report, data]
        j = self.bounded(
            "validate",
            vname,
            "pyshacl CLI",
            size,
            cmd,
            timeout=ta,
            ok_codes=(0, 1),
            always=size == "100k",  # the anchor of the 100k target
        )
        if j.status == "ok":
            out = w / f"v-{size}-pyshacl.json"
            anchors.pyshacl_report(str(report), str(out))
            validators["pyshacl CLI"] = rows_from_anchor_json(out)
        for tool, key, tmo in (
            ("pyshacl on oxrdflib store", "pyshacl-oxrdflib", ta),
            ("pyrudof", "pyrudof", ta),
        ):
            out = w / f"v-{size}-{key}.json"
            cmd = [*anchor, key, data, shapes, ontology, out]
            # pyrudof at 1M is the anchor of the 1M target
            always = key == "pyrudof" and size == "1M"
            j = self.bounded("validate", vname, tool, size, cmd, timeout=tmo, always=always)
            if j.status == "ok":
                validators[tool] = rows_from_anchor_json(out)
        for tool, rows in validators.items():
            cmp = compare(rows, manifest_rows, with_value=False)
            what = f"{size}: {tool} vs manifest (focus, shape, component, path)"
            self.comparisons.append({"what": what, **cmp})
            job = self.find(vname, tool, size)
            if job is not None:
                job.note = (
                    "found every injected defect exactly once"
                    if cmp["equal"]
                    else f"{cmp['count_a']} results vs {cmp['count_b']} injected defects"
                )
        # cica-ld's locations: the file and line of each focus node's subject block
        native_json = w / f"v-{size}-cica-native.json"
        if "cica-ld validate --engine native" in validators:
            cmp = compare(
                located_from_cica_json(native_json),
                located_from_manifest(generate.manifest_path_for(data)),
                with_value=False,
            )
            what = f"{size}: cica-ld validate --engine native locations vs manifest (file, line)"
            self.comparisons.append({"what": what, **cmp})
        # engines against each other: pySHACL is the reference (its CLI, else pySHACL run by
        # cica-ld --engine pyshacl); where no pySHACL run finished, pyrudof
        ref_tool = next(
            (
                k
                for k in ("pyshacl CLI", "cica-ld validate --engine pyshacl", "pyrudof")
                if k in validators
            ),
            None,
        )
        for tool, rows in validators.items():
            if ref_tool is not None and tool != ref_tool:
                cmp = compare(rows, validators[ref_tool])
                what = f"{size}: {tool} vs {ref_tool} (focus, shape, component, path, value)"
                self.comparisons.append({"what": what, **cmp})

        # export: cica-ld, rdflib's JSON-LD serializer with the project context ---------------
        ctx = ROOT / "ontology" / "context.jsonld"
        if self.available["export"]:
            cmd = [*cica, "export", "--data", data, "-f", "jsonld", "-o", w / f"e-{size}.jsonld"]
            self.job(
                "export",
                "export JSON-LD",
                "cica-ld export -f jsonld",
                size,
                cmd,
                timeout=t,
                repeat=rep,
            )
        else:
            self.unavailable("export", "export JSON-LD", "cica-ld export -f jsonld", size)
        if ctx.exists():
            cmd = [*anchor, "rdflib-jsonld", data, ctx, w / f"e-{size}-rdflib.jsonld"]
            self.bounded(
                "export",
                "export JSON-LD",
                "rdflib JSON-LD + context",
                size,
                cmd,
                timeout=ta,
                repeat=rep,
            )

        # publish -----------------------------------------------------------------------------
        name, tool = "publish site", "cica-ld publish"
        if not self.available["publish"]:
            self.unavailable("publish", name, tool, size)
        elif SIZES[size] > SIZES[self.args.publish_max]:
            prev = self.previous(name, tool, size)
            factor = SIZES[size] / SIZES[prev.size] if prev else 1.0
            self.skipped(
                "publish",
                name,
                tool,
                size,
                prev,
                factor,
                f"not run above {self.args.publish_max} (a page and 3 documents per "
                "resource: ~4 GB in ~700k files at 1M)",
            )
        else:
            site = w / f"site-{size}"
            self.bounded(
                "publish",
                name,
                tool,
                size,
                # the generated data is CICA-like: its pages under the CICA base IRI
                [
                    *cica,
                    "publish",
                    "--data",
                    data,
                    "--base-iri",
                    "https://w3id.org/cica-ld/",
                    "--out",
                    site,
                ],
                timeout=t,
            )
            shutil.rmtree(site, ignore_errors=True)
        for p in w.glob(f"*-{size}*"):  # outputs of this size; the data stays
            if p.is_file() and not p.name.startswith("gen-"):
                p.unlink()

    # -- targets -------------------------------------------------------------------------------

    def _ratio_check(
        self,
        name: str,
        target: str,
        ours: Job | None,
        base: Job | None,
        limit: float,
        *,
        extra_ok: bool = True,
        extra_note: str = "",
    ) -> None:
        """Met when ours.wall / base.wall <= limit (timeouts of `base` count as lower bounds)."""
        if (
            ours is None
            or base is None
            or ours.status != "ok"
            or not base.wall_s
            or (base.status not in ("ok", "timeout", "projected"))
        ):
            why = []
            for label, j in (("ours", ours), ("anchor", base)):
                if j is None or j.status not in ("ok", "timeout", "projected"):
                    why.append(f"{label}: {j.status if j else 'not measured'}")
            self.checks.append(Check(name, target, "-", None, None, "; ".join(why)))
            return
        ratio = ours.wall_s / base.wall_s
        bound = base.status != "ok"  # the anchor's time is a lower bound or a projection
        met: bool | None = ratio <= limit
        rtext = f"{ratio:.3g}x"
        if bound:
            rtext = f"<= {ratio:.3g}x" if base.status == "timeout" else f"~{ratio:.3g}x"
            if base.status == "projected":
                # decide on the rigorous bound (the time at the smaller size) where it suffices
                floor = base.lower_bound_s
                if floor:
                    rtext += f" (<= {ours.wall_s / floor:.3g}x against the {floor:.0f} s floor)"
                met = True if floor and ours.wall_s / floor <= limit else None
            elif not met:
                met = None  # a lower bound on the anchor decides only in one direction
        measured = f"{ours.time_text()} vs {base.time_text()} = {rtext}"
        self.checks.append(
            Check(
                name,
                target,
                measured,
                round(ratio, 4),
                (met and extra_ok) if met is not None else None,
                "; ".join(
                    x
                    for x in (
                        extra_note,
                        {
                            "timeout": "the anchor timed out: its time is a lower bound",
                            "projected": "the anchor is projected from a smaller size, "
                            "whose time is a floor for this one",
                        }.get(base.status, ""),
                    )
                    if x
                ),
            )
        )

    def evaluate(self) -> None:
        sizes = self.args.size_list
        if "100k" in sizes:
            self._ratio_check(
                "100k validate: cica-ld (native) vs pySHACL CLI (issue 7.2)",
                ">= 30x faster",
                self.find("validate", "cica-ld validate --engine native", "100k"),
                self.find("validate", "pyshacl CLI", "100k"),
                1 / 30,
            )
            self._ratio_check(
                "100k export JSON-LD: cica-ld vs rdflib + context (issue 7.3)",
                "<= 1x",
                self.find("export JSON-LD", "cica-ld export -f jsonld", "100k"),
                self.find("export JSON-LD", "rdflib JSON-LD + context", "100k"),
                1.0,
            )
        if "1M" in sizes:
            ours = self.find("validate", "cica-ld validate --engine native", "1M")
            rudof = self.find("validate", "pyrudof", "1M")
            if ours is not None and ours.status == "ok":
                ok = ours.wall_s <= 15 and ours.peak_rss_mb <= 1536
                self.checks.append(
                    Check(
                        "1M validate: cica-ld (native) time and memory (issue 7.2)",
                        "<= 15 s and <= 1.5 GB",
                        f"{ours.wall_s:.1f} s, {ours.peak_rss_mb:.0f} MB",
                        round(ours.wall_s / 15, 3),
                        ok,
                    )
                )
            else:
                self.checks.append(
                    Check(
                        "1M validate: cica-ld (native) time and memory (issue 7.2)",
                        "<= 15 s and <= 1.5 GB",
                        "-",
                        None,
                        None,
                        f"native engine: {ours.status if ours else 'not measured'}",
                    )
                )
            self._ratio_check(
                "1M validate: cica-ld (native) vs pyrudof time (issue 7.2)",
                "<= 0.5x",
                ours,
                rudof,
                0.5,
            )
            if (
                ours is not None
                and rudof is not None
                and ours.status == "ok"
                and rudof.status in ("ok", "timeout")
                and rudof.peak_rss_mb
            ):
                # a pyrudof run stopped at its timeout had reached at least that peak
                r = ours.peak_rss_mb / rudof.peak_rss_mb
                stopped = rudof.status == "timeout"
                self.checks.append(
                    Check(
                        "1M validate: cica-ld (native) vs pyrudof peak memory (issue 7.2)",
                        "< 0.5x",
                        f"{ours.peak_rss_mb:.0f} MB vs "
                        f"{'>= ' if stopped else ''}{rudof.peak_rss_mb:.0f} MB = "
                        f"{'<= ' if stopped else ''}{r:.3g}x",
                        round(r, 4),
                        True if r < 0.5 else (None if stopped else False),
                        "pyrudof was stopped at its timeout: its peak so far is a lower bound"
                        if stopped
                        else "",
                    )
                )
            for q in ("members", "member-count"):
                self._ratio_check(
                    f"1M query {q}: cica-ld vs bare pyoxigraph (issue 7.3)",
                    "<= 1.3x",
                    self.find(f"query {q}", "cica-ld query", "1M"),
                    self.find(f"query {q}", "pyoxigraph (bare script)", "1M"),
                    1.3,
                )
            # issue 7.4 (indicator): peak memory of each cica-ld command at 1M beside a bare
            # pyoxigraph process holding the same graph once
            bare = self.find("query members", "pyoxigraph (bare script)", "1M")
            if bare is not None and bare.status == "ok":
                for j in self.jobs:
                    if j.size == "1M" and j.tool.startswith("cica-ld") and j.status == "ok":
                        r = j.peak_rss_mb / bare.peak_rss_mb
                        self.checks.append(
                            Check(
                                f"1M memory: {j.tool} ({j.name}) vs one pyoxigraph copy"
                                " (issue 7.4)",
                                "< 2x (no two full copies)",
                                f"{j.peak_rss_mb:.0f} MB vs {bare.peak_rss_mb:.0f} MB = {r:.3g}x",
                                round(r, 4),
                                r < 2.0,
                                "indicator: peak RSS, not a proof",
                            )
                        )
        for c in self.comparisons:
            if c["what"].split(": ", 1)[-1].startswith("cica-ld validate") and "count_a" in c:
                self.checks.append(
                    Check(
                        f"same results: {c['what']} (issues 4.6, 7.2)",
                        "identical",
                        f"{c['count_a']} vs {c['count_b']}",
                        None,
                        c["equal"],
                    )
                )


# ---------------------------------------------------------------------------------------------
# Machine, rendering, main
# ---------------------------------------------------------------------------------------------


def machine() -> dict:
    info: dict = {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            versions[p] = None
    info["packages"] = versions
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["git_commit"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    return info


def render(doc: dict) -> str:
    m = doc["machine"]
    lines = [
        "# cica-ld benchmark results",
        "",
        f"Run {m['date_utc']} on {m.get('cpu', '?')}, {m['nproc']} cores, "
        f"{m.get('memory_gb', '?')} GB RAM, Python {m['python']}, commit "
        f"{m.get('git_commit', '?')}. Load average (1 min) at start {doc['load_start'][0]:.2f}, "
        f"at end {doc['load_end'][0]:.2f} (the machine is shared: wall times include waiting "
        "for a core; CPU time is user + system of the measured process).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v) + ".",
        "",
        f"Command: `{doc['command']}`; total {doc['total_s'] / 60:.1f} min.",
        "",
        "## Targets",
        "",
        "| check | target | measured | met |",
        "|---|---|---|---|",
    ]
    for c in doc["checks"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[c["met"]]
        note = f" ({c['note']})" if c["note"] else ""
        lines.append(f"| {c['name']} | {c['target']} | {c['measured']}{note} | {met} |")
    lines += [
        "",
        "## Data",
        "",
        "| size | triples | injected defects | file | generated in |",
        "|---|---|---|---|---|",
    ]
    for size, d in doc["data"].items():
        lines.append(
            f"| {size} | {d['triples']} | {d['defects']} | "
            f"{d['bytes'] / 1e6:.1f} MB | {d['generate_s']} s |"
        )
    lines += [
        "",
        "## Jobs",
        "",
        "Median of up to 3 runs for jobs under 2 s; one run otherwise.",
        "",
        "| section | size | job | tool | wall | CPU | peak RSS | load | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for j in doc["jobs"]:
        cpu = f"{j['cpu_s']:.2f} s" if j["cpu_s"] is not None else ""
        rss = f"{j['peak_rss_mb']:.0f} MB" if j["peak_rss_mb"] else ""
        load = f"{j['load1']:.1f}" if j["load1"] is not None else ""
        jt = Job(**{k: j[k] for k in Job.__dataclass_fields__})
        lines.append(
            f"| {j['section']} | {j['size'] or '-'} | {j['name']} | {j['tool']} | "
            f"{jt.time_text()} | {cpu} | {rss} | {load} | {j['note']} |"
        )
    lines += ["", "## Result comparisons", "", "| comparison | equal | counts |", "|---|---|---|"]
    for c in doc["comparisons"]:
        counts = f"{c['count_a']} / {c['count_b']}" if "count_a" in c else ""
        lines.append(f"| {c['what']} | {'yes' if c['equal'] else '**no**'} | {counts} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="10k,100k,1M", help="comma-separated: 1k, 10k, 100k, 1M")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=300.0, help="per job, seconds (300)")
    p.add_argument(
        "--anchor-timeout",
        type=float,
        default=180.0,
        help="per pySHACL / rdflib run, seconds (180); a timeout is recorded as a lower bound",
    )
    p.add_argument("--repeat", type=int, default=3, help="runs of a job under 2 s (median)")
    p.add_argument("--startup-runs", type=int, default=21)
    p.add_argument(
        "--publish-max",
        default="100k",
        choices=list(SIZES),
        help="largest size to publish (larger sizes are projected)",
    )
    p.add_argument(
        "--pyshacl-max",
        default="100k",
        choices=list(SIZES),
        help="largest size at which cica-ld validate --engine pyshacl runs (the reference)",
    )
    p.add_argument(
        "--pyshacl-timeout",
        type=float,
        default=1500.0,
        help="per cica-ld validate --engine pyshacl run, seconds (1500)",
    )
    p.add_argument("--skip", default="", help="comma-separated sections: startup,embedded,scale")
    p.add_argument("--quick", action="store_true", help="7 start-up runs, 1 run per job")
    p.add_argument("--workdir", type=Path, help="keep generated data and outputs here")
    p.add_argument("--no-record", action="store_true", help="do not write benchmarks/results/")
    args = p.parse_args(argv)
    args.size_list = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in args.size_list:
        if s not in SIZES:
            p.error(f"unknown size {s!r} (choose from {', '.join(SIZES)})")
    if args.quick:
        args.startup_runs, args.repeat = 7, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    t0 = time.perf_counter()
    load_start = os.getloadavg()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cica-ld-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    suite = Suite(args, work)
    print(f"cica-ld commands available: {suite.available}; work dir {work}", flush=True)
    try:
        if "startup" not in skip:
            suite.startup()
        if "embedded" not in skip:
            suite.embedded_validate()
        if "scale" not in skip:
            for size in sorted(args.size_list, key=SIZES.get):
                print(f"scale {size}", flush=True)
                suite.scale(size)
        suite.evaluate()
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    doc = {
        "command": "python benchmarks/run.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "load_start": load_start,
        "load_end": os.getloadavg(),
        "total_s": round(time.perf_counter() - t0, 1),
        "available": suite.available,
        "data": suite.data,
        "jobs": [asdict(j) for j in suite.jobs],
        "checks": [asdict(c) for c in suite.checks],
        "comparisons": suite.comparisons,
    }
    md = render(doc)
    print()
    print(md)
    if not args.no_record:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = doc["machine"]["date_utc"].replace(":", "-")
        (RESULTS / f"{stamp}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        (RESULTS / "latest.md").write_text(md, encoding="utf-8")
        print(f"wrote {RESULTS / (stamp + '.json')} and {RESULTS / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
