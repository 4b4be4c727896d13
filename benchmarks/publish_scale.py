"""``cica-ld publish`` at scale (issue 14.3): wall time, CPU time, peak memory of the process
tree, files and bytes written, at 10k, 100k and 1M triples of the generated data.

    .venv/bin/python benchmarks/publish_scale.py --sizes 10k,100k,1M
    .venv/bin/python benchmarks/publish_scale.py --sizes 10k --no-record      # a smoke run

The data is ``benchmarks/generate.py``'s (seed 1, 1% defects, as ``benchmarks/run.py`` makes
it), published under the CICA base IRI as ``run.py``'s publish job does. Each run is one
``cica-ld publish`` process in its own session; measured:

- wall time; CPU time (user + system of the process and of its worker processes, which it
  waits for: ``os.wait4``);
- peak memory of the process tree, sampled every 0.5 s: the sum of the processes' resident
  sets (RSS: pages the workers share with the parent copy-on-write are counted once per
  process, so this overstates what the tree uses) and the sum of their proportional sets
  (PSS: a shared page split between the processes sharing it); and ``ru_maxrss`` of the
  parent (the largest single process);
- the files and bytes of the site; the 1-minute load average (``/proc/loadavg``) before and
  after (the machine may be shared: wall times include waiting for a core).

Targets: 1M in at most 90 s and under 1.5 GB (peak RSS of the tree); 100k at least 5x faster
than the recorded 87.68 s (``benchmarks/results/latest.md``, 2026-11-29). Results: JSON in
``benchmarks/results/publish-scale-<UTC time>.json`` and the table in
``benchmarks/results/publish-scale.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from benchmarks import generate  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
#: The recorded publish times before streaming (benchmarks/results/latest.md, 2026-11-29).
BEFORE = {"10k": (10.20, 89), "100k": (87.68, 405)}
TARGET_1M_S, TARGET_1M_MB, TARGET_100K_SPEEDUP = 90.0, 1536.0, 5.0


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError):
                    kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                    todo.extend(int(k) for k in kids)
    return out


def _kb(path: str, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Peak summed RSS and PSS (MB) and the most processes of the tree under ``pid``."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.rss, self.pss, self.procs = pid, 0.0, 0.0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _tree(self.pid)
            rss = sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids) / 1024
            pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids) / 1024
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self.procs = max(self.procs, len(pids))
            self.stop.wait(0.5)


def measure(cmd: list[str], timeout: float, cwd: Path | None = None) -> dict:
    load0 = load()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    sampler = Sampler(proc.pid)
    sampler.start()
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
        sampler.stop.set()
        sampler.join()
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode("utf-8", "replace")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_tree_mb": round(sampler.rss, 1),
        "peak_pss_tree_mb": round(sampler.pss, 1),
        "maxrss_one_process_mb": round(usage.ru_maxrss / 1024, 1),
        "processes": sampler.procs,
        "rc": os.waitstatus_to_exitcode(status),
        "stderr": err[-2000:],
        "load_before": load0,
        "load_after": load(),
    }


def site_size(folder: Path) -> tuple[int, int]:
    files = total = 0
    for dirpath, _, names in os.walk(folder):
        for n in names:
            files += 1
            total += os.lstat(os.path.join(dirpath, n)).st_size
    return files, total


def create_probe(folder: Path, n: int = 2000) -> float:
    """Microseconds to create (and write 4 KB into) each of ``n`` new files in a new folder
    under ``folder``: what a file costs the file system now. On the Firecracker VMs of this
    machine class it was 23 us on a fresh folder and 500-600 us for minutes after a few ten
    thousand files had been deleted, the difference between a 100k publish of 18.7 s and of
    48 s. The files stay until the end of the run (deleting them would slow what follows)."""
    probe = folder / f"probe-{time.time_ns()}"
    probe.mkdir(parents=True)
    data = b"x" * 4096
    start = time.perf_counter()
    for i in range(n):
        fd = os.open(probe / f"f{i}.html", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return round((time.perf_counter() - start) / n * 1e6, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10k,100k,1M")
    ap.add_argument("--work", type=Path, default=None, help="folder for data and sites")
    ap.add_argument("--jobs", type=int, default=None, help="--jobs of publish (default: its own)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--note", default="", help="what else ran on the machine")
    ap.add_argument(
        "--checkout",
        type=Path,
        default=None,
        help="run the cica-ld of this copy of the repository (python -m cica_ld with it first "
        "on PYTHONPATH; e.g. a `git archive` of the commit measured), not the installed one",
    )
    args = ap.parse_args()
    work = (args.work or Path(tempfile.mkdtemp(prefix="publish-scale-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cli = [str(Path(sys.executable).with_name("cica-ld"))]
    if not Path(cli[0]).exists() or args.checkout is not None:
        cli = [sys.executable, "-m", "cica_ld"]
    if args.checkout is not None:
        os.environ["PYTHONPATH"] = str(args.checkout.resolve())
    commit = (args.checkout / "COMMIT").read_text().strip() if args.checkout else ""
    commit = (
        commit
        or subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    )
    runs = []
    for size in args.sizes.split(","):
        data = work / f"gen-{size}.ttl"
        if not data.exists():
            generate.write(data, SIZES[size], seed=1, defect_rate=0.01)
        site = work / f"site-{size}"
        shutil.rmtree(site, ignore_errors=True)
        cmd = [*cli, "publish", "--data", str(data), "--base-iri", "https://w3id.org/cica-ld/"]
        cmd += ["--out", str(site)] + ([] if args.jobs is None else ["--jobs", str(args.jobs)])
        created_us = create_probe(work / "probes")
        # `python -m` puts the working folder first on sys.path: run in the checkout, so that
        # its cica_ld is the one measured (not a cica_ld in the folder the script runs from)
        r = measure(cmd, args.timeout, cwd=args.checkout.resolve() if args.checkout else None)
        r["files"], r["bytes"] = site_size(site) if site.exists() else (0, 0)
        r["size"], r["triples"] = size, SIZES[size]
        r["file_create_us_before"] = created_us
        shutil.rmtree(site, ignore_errors=True)
        runs.append(r)
        print(
            f"{size}: {r['wall_s']} s wall, {r['cpu_s']} s CPU, tree RSS {r['peak_rss_tree_mb']}"
            f" MB (PSS {r['peak_pss_tree_mb']} MB), {r['files']} files, {r['bytes']} bytes,"
            f" load {r['load_before']} -> {r['load_after']}, a file created in {created_us} us"
            f" before, rc {r['rc']}",
            flush=True,
        )
    shutil.rmtree(work / "probes", ignore_errors=True)
    by = {r["size"]: r for r in runs}
    targets = []
    if "1M" in by:
        r = by["1M"]
        ok = r["rc"] == 0 and r["wall_s"] <= TARGET_1M_S and r["peak_rss_tree_mb"] < TARGET_1M_MB
        targets.append(
            {
                "check": "1M publish: time and memory (issue 14.3)",
                "target": "<= 90 s and < 1.5 GB (peak RSS of the process tree)",
                "measured": f"{r['wall_s']} s, {r['peak_rss_tree_mb']:.0f} MB "
                f"(PSS {r['peak_pss_tree_mb']:.0f} MB)",
                "met": ok,
            }
        )
    if "100k" in by:
        r = by["100k"]
        speedup = BEFORE["100k"][0] / r["wall_s"]
        targets.append(
            {
                "check": "100k publish vs the recorded 87.68 s (issue 14.3)",
                "target": ">= 5x faster",
                "measured": f"{r['wall_s']} s = {speedup:.2f}x faster",
                "met": r["rc"] == 0 and speedup >= TARGET_100K_SPEEDUP,
            }
        )
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    doc = {
        "time": stamp,
        "commit": commit,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "note": args.note,
        "runs": runs,
        "targets": targets,
    }
    print(json.dumps(targets, indent=1))
    if not args.no_record:
        (BENCH / "results" / f"publish-scale-{stamp}.json").write_text(
            json.dumps(doc, indent=1) + "\n"
        )
        write_md(doc)
    return 0


TITLE = "# cica-ld publish at scale (issue 14.3)"


def write_md(doc: dict) -> None:
    """The run as a section of ``publish-scale.md``, above the runs recorded before."""
    lines = [
        f"## Run {doc['time']}, commit {doc['commit']} (`publish-scale-{doc['time']}.json`)",
        "",
        f"{doc['machine']['cpus']} cores, Python {doc['machine']['python']}. Command: "
        f"`python benchmarks/publish_scale.py`. {doc['note']}",
        "",
        "| size | wall | CPU (incl. workers) | peak RSS of the tree | peak PSS of the tree | "
        "largest process | processes | files | bytes | load before / after | a file created "
        "before (probe) | before streaming (latest.md) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in doc["runs"]:
        before = BEFORE.get(r["size"])
        was = f"{before[0]} s, {before[1]} MB" if before else "projected ~877 s (not run)"
        lines.append(
            f"| {r['size']} | {r['wall_s']} s | {r['cpu_s']} s | {r['peak_rss_tree_mb']:.0f} MB "
            f"| {r['peak_pss_tree_mb']:.0f} MB | {r['maxrss_one_process_mb']:.0f} MB | "
            f"{r['processes']} | {r['files']:,} | {r['bytes'] / 1e6:,.0f} MB | "
            f"{r['load_before']} / {r['load_after']} | "
            f"{r.get('file_create_us_before', '?')} us | {was} |"
        )
    lines += ["", "| check | target | measured | met |", "|---|---|---|---|"]
    for t in doc["targets"]:
        lines.append(
            f"| {t['check']} | {t['target']} | {t['measured']} | {'yes' if t['met'] else 'no'} |"
        )
    md = BENCH / "results" / "publish-scale.md"
    before = md.read_text() if md.exists() else TITLE + "\n"
    title, _, earlier = before.partition("\n")
    md.write_text(f"{title or TITLE}\n\n" + "\n".join(lines) + "\n\n" + earlier.lstrip("\n"))


if __name__ == "__main__":
    raise SystemExit(main())
