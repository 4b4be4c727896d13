"""Benchmark of the link-carrying documents on generated data (the 1M-triple benchmark path).

Generates CICA-like data (benchmarks/generate.py, seed 1), loads it into a pyoxigraph store and
times, in this one process, what `cica-ld serve` and `cica-ld publish` do per request or per
file: the document of the biggest hub (the resource most triples point at) with the incoming
links capped at MAX_INCOMING, the same without the cap (what a document would carry without
it), the same for the vocabulary document (every rdf:type link points at it), the document
of an ordinary resource, the root document's links (index_graph) and the
first index document (index_page_graph), given the listing of every resource computed once
(index_documents, which reads the whole store). It records wall time, the triples of each document
and the peak resident memory (VmHWM) after each step.

    .venv/bin/python benchmarks/links.py                  # 1M triples
    .venv/bin/python benchmarks/links.py --triples 100000

The result goes to benchmarks/results/links-<size>.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)

    import pyoxigraph

    from benchmarks import generate
    from cica_ld import dataset, publish

    steps: list[dict[str, Any]] = []

    def step(name: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t0
        row = {"step": name, "seconds": round(secs, 3), "peak_rss_mb": round(_hwm_mb(), 1)}
        if isinstance(out, list):
            row["triples"] = len(out)
        steps.append(row)
        print(f"{name}: {secs:.3f} s, {row.get('triples', '-')} triples, {row['peak_rss_mb']} MB")
        return out

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "gen.ttl"
        step("generate", lambda: generate.write(path, args.triples, seed=1))
        store = step("load", lambda: dataset.load([path]).store)
    base = publish.BASE_IRI
    hub_query = (
        "SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "
        f'"{base}id/")) }} GROUP BY ?o ORDER BY DESC(?n) LIMIT 1'
    )
    [row] = step("find the biggest hub (SPARQL)", lambda: list(store.query(hub_query)))
    hub, links = row["o"].value, int(row["n"].value)
    print(f"hub {hub}: {links} incoming links")
    more = base + "dumps/cica-ld.nt"
    step("hub document, capped", lambda: publish.document_graph(store, hub, [hub], more=more))
    step(
        "hub document, not capped",
        lambda: publish.document_graph(store, hub, [hub], limit=10**9, more=more),
    )
    # a vocabulary under the base is a hub of hubs: every rdf:type link to its classes (the
    # CICA site keeps its vocabulary document to the vocabulary; a site of the user's data
    # whose classes are under its base gets these)
    terms_query = (
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), "
        f'"{base}ontology#")) }}'
    )
    terms = [r["s"].value for r in store.query(terms_query)]
    onto = base + "ontology"
    step(
        f"vocabulary document ({len(terms)} terms), capped",
        lambda: publish.document_graph(store, onto, terms, more=more),
    )
    step(
        f"vocabulary document ({len(terms)} terms), not capped",
        lambda: publish.document_graph(store, onto, terms, limit=10**9, more=more),
    )
    one = base + "id/cica"
    step("an ordinary document (id/cica)", lambda: publish.document_graph(store, one, [one]))
    listing = step(
        "the index listing, once (index_documents)", lambda: publish.index_documents(store, base)
    )
    step(
        "root document links (index_graph)",
        lambda: publish.index_graph(store, base, listing=listing),
    )
    step(
        "index document 1 (index_page_graph)",
        lambda: publish.index_page_graph(store, base, 1, listing=listing),
    )
    result = {
        "triples": len(store),
        "hub": hub,
        "hub_incoming_links": links,
        "max_incoming": publish.MAX_INCOMING,
        "index_page_size": publish.INDEX_PAGE_SIZE,
        "python": platform.python_version(),
        "pyoxigraph": pyoxigraph.__version__,
        "machine": platform.machine(),
        "steps": steps,
    }
    size = f"{args.triples // 1000}k" if args.triples < 1_000_000 else f"{args.triples // 10**6}M"
    out = args.output or ROOT / "benchmarks" / "results" / f"links-{size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
