"""What keeping literals as written costs (issue 12.1), measured at 1M triples.

Two inputs of the same generated CICA-like data (``generate.py``, seed 1, 1% defects):

* ``canonical``: as generated; every literal is in the form pyoxigraph's store keeps, so the
  literal scan finds nothing and the store is loaded once (the common case);
* ``as-written``: the same file with every ``xsd:decimal`` (the member counts) written with a
  fraction (``"56.0"``), which pyoxigraph's store would rewrite to ``"56"``: every such literal
  is kept as a surrogate, and the SPARQL constraints (which compare the counts) run on a copy
  with pyoxigraph's values. The values are the same, so validation finds the same results (the
  script checks the counts are equal): what differs is only what keeping the written form costs.

Jobs: a bare pyoxigraph ``Store.load`` (the floor), ``cica-ld validate`` (native engine),
``cica-ld export -f jsonld`` and ``cica-ld query member-count`` on each input. Wall time, CPU
time and peak RSS of each process (``os.wait4``), one run each. The targets are the recorded
ones of issue 7: 1M validate <= 15 s and <= 1.5 GB; 1M export peak < 2x one pyoxigraph copy.

    python benchmarks/literals.py [--triples 1000000] [--workdir DIR]

writes ``benchmarks/results/literals-<UTC time>.json`` and ``benchmarks/results/literals.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
from run import run_once  # noqa: E402

PY = sys.executable
CICA = [PY, "-m", "cica_ld"]
_DECIMAL = re.compile(rb'"(-?\d+)"\^\^xsd:decimal')


def as_written_variant(src: Path, dst: Path) -> int:
    """``src`` with every integral xsd:decimal written ``N.0``; returns how many were changed."""
    text = src.read_bytes()
    out, n = _DECIMAL.subn(rb'"\1.0"^^xsd:decimal', text)
    dst.write_bytes(out)
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--triples", type=int, default=1_000_000)
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--workdir", type=Path)
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cica-literals-"))
    work.mkdir(parents=True, exist_ok=True)
    canonical = work / "canonical.ttl"
    generate.write(canonical, args.triples, seed=1, defect_rate=0.01)
    variant = work / "as-written.ttl"
    rewritten = as_written_variant(canonical, variant)
    shapes = [f for f in sorted((ROOT / "shapes").glob("*.ttl")) if f.name != "vocabulary.ttl"]
    shape_args = [a for f in shapes for a in ("--shapes", str(f))]
    onto = ["--ontology", str(ROOT / "ontology")]
    floor = (
        "import pyoxigraph, sys; s = pyoxigraph.Store(); "
        "s.load(path=sys.argv[1], format=pyoxigraph.RdfFormat.TURTLE)"
    )
    jobs = []
    for label, data in (("canonical", canonical), ("as-written", variant)):
        d = str(data)
        cmds = {
            "pyoxigraph Store.load (floor)": [PY, "-c", floor, d],
            "cica-ld validate": [
                *CICA, "validate", "--data", d, *shape_args, *onto, "-f", "json",
                "-o", str(work / f"v-{label}.json"),
            ],
            "cica-ld export -f jsonld": [
                *CICA, "export", "--data", d, "-f", "jsonld", "-o", str(work / f"e-{label}.jsonld"),
            ],
            "cica-ld query member-count": [
                *CICA, "query", "member-count", "--data", d, "-f", "csv",
                "-o", str(work / f"q-{label}.csv"),
            ],
        }  # fmt: skip
        for name, cmd in cmds.items():
            r = run_once(cmd, args.timeout)
            job = {
                "input": label,
                "job": name,
                "wall_s": round(r["wall"], 2),
                "cpu_s": round(r["cpu"], 2),
                "peak_rss_mb": round(r["rss_mb"]),
                "rc": r["rc"],
                "timeout": r["timeout"],
                "load1": round(os.getloadavg()[0], 2),
            }
            if r["rc"] not in (0, 1):
                job["stderr"] = r["stderr"][-500:]
            print(json.dumps(job), flush=True)
            jobs.append(job)
    result = {
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triples": args.triples,
        "rewritten_literals": rewritten,
        "results": {
            label: len(json.loads((work / f"v-{label}.json").read_text())["results"])
            for label in ("canonical", "as-written")
            if (work / f"v-{label}.json").exists()
        },
        "cpus": os.cpu_count(),
        "jobs": jobs,
    }
    if not args.no_record:
        out = BENCH / "results"
        stamp = result["when"].replace(":", "-")
        (out / f"literals-{stamp}.json").write_text(json.dumps(result, indent=1) + "\n")
        (out / "literals.md").write_text(render(result))
    print(render(result))
    return 0


def render(result: dict) -> str:
    lines = [
        "# Literals as written: the cost at 1M triples",
        "",
        f"Run {result['when']}, {result['cpus']} CPUs, {result['triples']} triples requested; "
        f"the as-written input has {result['rewritten_literals']} decimals pyoxigraph's store "
        "would rewrite. Validation results (canonical, as-written): "
        f"{result['results'].get('canonical')}, {result['results'].get('as-written')}. "
        "Command: `python benchmarks/literals.py`.",
        "",
        "| input | job | wall | CPU | peak RSS | exit | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for j in result["jobs"]:
        wall = "timeout" if j["timeout"] else f"{j['wall_s']:.2f} s"
        lines.append(
            f"| {j['input']} | {j['job']} | {wall} | {j['cpu_s']:.2f} s | "
            f"{j['peak_rss_mb']} MB | {j['rc']} | {j['load1']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
