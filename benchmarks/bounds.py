"""What the hostile inputs of issue 15 (item 3) cost now: each small input through the CLI.

Each job runs ``cica-ld`` once in a child process with a memory ceiling (``RLIMIT_AS``, 3 GiB)
and a timeout (120 s), and records the exit code, wall time and peak RSS (``os.wait4``). The
inputs (FOAF-like, generated in a temporary folder):

* ``laughs.rdf``: the 710-byte RDF/XML "billion laughs" (10^9 bytes of entity expansion);
* ``deep.rq``: a SELECT nested 3,000 groups deep (12 kB);
* ``deep.jsonld``: JSON-LD nested 1,000 objects deep;
* ``list-800.ttl``: an RDF list of 800 look-alike items (export, publish);
* ``nested-list.ttl``: lists nested 20,000 deep (40 kB) (export);
* ``knot-9.ttl``: 9 blank nodes all linked to each other (1.1 kB) (export).

    python benchmarks/bounds.py [--label NAME]

writes ``benchmarks/results/bounds[-NAME]-<UTC time>.json`` and ``bounds[-NAME].md``. To
measure an older version, put its source first on the path:
``git archive main | tar -x -C /tmp/old && PYTHONPATH=/tmp/old python benchmarks/bounds.py
--label main``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CEILING = 3 << 30
TIMEOUT = 120.0
EX = "@prefix ex: <http://example.org/> .\n"


def _inputs(folder: Path) -> dict[str, Path]:
    decls = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 9)]
    files = {
        "laughs.rdf": '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n'
        + "\n".join(decls)
        + '\n]>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/s">'
        "<ex:p>&a8;</ex:p></rdf:Description></rdf:RDF>\n",
        "deep.rq": "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
        "deep.jsonld": '{"@context": {"@vocab": "http://example.org/"}, "@id": "http://example.org/s",'
        ' "p": ' + '{"p": ' * 1000 + '"x"' + "}" * 1000 + "}",
        "list-800.ttl": EX + "ex:s ex:p (" + ' "x"' * 800 + " ) .\n",
        "nested-list.ttl": EX + "ex:s ex:p " + "(" * 20000 + ")" * 20000 + " .\n",
        "knot-9.ttl": EX
        + "".join(f"_:b{i} ex:p _:b{j} .\n" for i in range(9) for j in range(9) if i != j),
        "people.ttl": EX + 'ex:alice ex:name "Alice" .\n',
    }
    out = {}
    for name, text in files.items():
        (folder / name).write_text(text)
        out[name] = folder / name
    return out


def _run(args: list[str], cwd: Path) -> dict[str, object]:
    def ceiling() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CEILING, CEILING))

    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cica_ld", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=ceiling,
        cwd=cwd,  # not this checkout: ``-m`` puts the working folder first on the path
    )
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > TIMEOUT:
            proc.kill()
            timed_out = True
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    return {
        "exit": "timeout" if timed_out else code,
        "seconds": round(wall, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "message": err.strip().splitlines()[0][:160] if err.strip() else "",
    }


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--label", default="", help="a name for the results (e.g. main)")
    label = parser.parse_args().label
    suffix = f"-{label}" if label else ""
    with tempfile.TemporaryDirectory(prefix="cica-bounds-") as tmp:
        folder = Path(tmp)
        f = _inputs(folder)
        jobs = {
            "query laughs.rdf": ["query", "ASK {}", "--data", str(f["laughs.rdf"])],
            "export laughs.rdf": ["export", "--data", str(f["laughs.rdf"]), "-f", "nt"],
            "query deep.rq": ["query", str(f["deep.rq"]), "--data", str(f["people.ttl"])],
            "export deep.jsonld": ["export", "--data", str(f["deep.jsonld"]), "-f", "nt"],
            "export list-800.ttl": ["export", "--data", str(f["list-800.ttl"]), "-f", "nt"],
            "publish list-800.ttl": [
                "publish", "--data", str(f["list-800.ttl"]), "--out", str(folder / "site"),
            ],
            "export nested-list.ttl": ["export", "--data", str(f["nested-list.ttl"]), "-f", "nt"],
            "export knot-9.ttl": ["export", "--data", str(f["knot-9.ttl"]), "-f", "nt"],
        }  # fmt: skip
        results = {}
        for name, args in jobs.items():
            results[name] = _run(args, folder)
            print(name, results[name], flush=True)
    import cica_ld

    print("cica_ld from", Path(cica_ld.__file__).parent, flush=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"bounds{suffix}-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# Hostile inputs (issue 15, item 3){' - ' + label if label else ''}",
        "",
        f"Run {stamp} by `python benchmarks/bounds.py` (one run each, 3 GiB ceiling, "
        f"{TIMEOUT:g} s timeout).",
        "",
        "| job | exit | seconds | peak MB | message |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        msg = str(r["message"]).replace("|", "\\|")
        lines.append(f"| {name} | {r['exit']} | {r['seconds']} | {r['peak_mb']} | {msg} |")
    (out / f"bounds{suffix}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
