"""How much the pages cost: ``build_site`` (rendering only, nothing written) of the same data
with two checkouts of cica-ld, in alternating subprocesses, CPU time (``time.process_time``)
and wall time of each run; the medians and their ratio. CPU time of the rendering alone is
what the pages add; the disk writes of ``publish`` are the same for both and only add noise on
a shared machine.

    python benchmarks/publish_pages.py --before /work/main --after . --triples 10000 --repeat 5

The data is ``benchmarks/generate.py``'s (seed 1, no defects) under the CICA base IRI, as the
``publish`` job of ``benchmarks/run.py`` uses it. Results: printed as JSON and, with
``--record FILE``, written there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent

CHILD = r"""
import sys, time, json
sys.path.insert(0, sys.argv[1])
from cica_ld import publish
from cica_ld import dataset
import pyoxigraph
ds = dataset.load([sys.argv[2]], include_ontology=False)
t0, w0 = time.process_time(), time.perf_counter()
site = publish.build_site(ds.store, vocabulary=pyoxigraph.Store(),
                          base_iri="https://w3id.org/cica-ld/",
                          site=publish.user_site(ds.store, [sys.argv[2]]))
cpu, wall = time.process_time() - t0, time.perf_counter() - w0
print(json.dumps({"cpu": cpu, "wall": wall, "files": len(site.files),
                  "bytes": sum(len(v) for v in site.files.values()),
                  "module": publish.__file__}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="checkout before the change")
    ap.add_argument("--after", default=str(BENCH.parent), help="checkout after the change")
    ap.add_argument("--triples", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--record", help="write the results (JSON) to this file")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"gen-{args.triples}.ttl"
        subprocess.run(
            [sys.executable, str(BENCH / "generate.py"), "--triples", str(args.triples),
             "--seed", "1", "--defects", "0", "-o", str(data)],
            check=True, capture_output=True,
        )  # fmt: skip
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for _ in range(args.repeat):
            for name in ("before", "after"):
                checkout = str(Path(getattr(args, name)).resolve())
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, checkout, str(data)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    sys.exit(f"{name} ({checkout}) failed:\n{out.stderr[-2000:]}")
                runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    result: dict[str, object] = {"triples": args.triples, "repeat": args.repeat, "runs": runs}
    for key in ("cpu", "wall"):
        med = {n: statistics.median(r[key] for r in rs) for n, rs in runs.items()}
        result[f"median_{key}_s"] = med
        result[f"ratio_{key}"] = med["after"] / med["before"]
    text = json.dumps(result, indent=1)
    print(text)
    if args.record:
        Path(args.record).write_text(text + "\n")


if __name__ == "__main__":
    main()
