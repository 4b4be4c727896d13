"""`cica-ld load`: push RDF files to any store by the SPARQL 1.1 Graph Store HTTP Protocol.

One request carries the whole dataset: ``PUT`` replaces the target graph (``--replace``),
``POST`` adds to it. The target is the default graph (``?default``) or ``?graph=IRI``. The
body is N-Triples, streamed: each file is parsed lazily and sent in chunks of
``chunk_triples`` triples (HTTP chunked transfer encoding), so memory stays flat whatever the
data size. Named graphs in N-Quads/TriG/JSON-LD inputs are merged into the target graph (the
Graph Store Protocol addresses one graph per request).

Before anything is sent, every file is parsed once to check it and count its triples, so a
syntax error is an input error (exit 2) and the store is left untouched; the count also gives
the progress callback a total. HTTP errors, an unreachable store and timeouts raise
:class:`~cica_ld.errors.EndpointError` (exit 3) with the server's message.

Bulk-loading millions of triples is faster with the store's own loader (``oxigraph load``,
Fuseki's ``tdb2.tdbloader``, QLever's index builder, Virtuoso's ``ld_dir``/``rdf_loader_run``,
GraphDB's ImportRDF): see the README section "When the data outgrows one machine".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cica_ld.errors import InputError

DEFAULT_CHUNK_TRIPLES = 20_000
DEFAULT_TIMEOUT = 120.0
N_TRIPLES = "application/n-triples"


@dataclass(frozen=True)
class LoadFile:
    """One file to send and its RDF format name (see :data:`cica_ld.dataset.MEDIA_TYPES`)."""

    path: Path
    format: str
    triples: int = 0


@dataclass(frozen=True)
class LoadProgress:
    """Where an upload stands (passed to the progress callback after each chunk)."""

    file: Path
    files_done: int
    files_total: int
    triples_sent: int
    triples_total: int
    bytes_sent: int
    elapsed: float


@dataclass(frozen=True)
class LoadResult:
    """A finished upload."""

    url: str
    method: str
    graph: str | None
    files: int
    triples: int
    bytes: int
    seconds: float
    status: int

    @property
    def target(self) -> str:
        return f"graph <{self.graph}>" if self.graph else "the default graph"


ProgressCallback = Callable[[LoadProgress], None]


def resolve_files(
    paths: Sequence[str | Path] | None = None,
    *,
    input_format: str | None = None,
    include_ontology: bool | None = None,
) -> list[tuple[Path, str]]:
    """The files ``cica-ld query`` would load for the same options, with their formats:
    ``paths`` exactly as given (nothing added), or without ``paths`` the embedded CICA
    dataset (the bundled vocabulary and data). ``include_ontology`` forces the bundled
    vocabulary in (True) or out (False); None: only with the embedded data."""
    from cica_ld import dataset

    files: list[tuple[Path, str]] = []
    if include_ontology is None:
        include_ontology = paths is None
    if include_ontology:
        files += [(f, dataset.format_for(f)) for f in dataset.bundled_files("ontology")]
    if paths is None:
        files += [(f, dataset.format_for(f)) for f in dataset.bundled_files("data")]
    else:
        files += [(f, dataset.format_for(f, input_format)) for f in dataset.expand_paths(paths)]
    return files


def _triples(
    path: Path, fmt: str, context_map: Mapping[str, Any] | None = None
) -> Iterator[object]:
    """The triples of one file, parsed lazily (graph names dropped); errors as InputError.
    ``context_map`` serves remote JSON-LD contexts from local copies."""
    import pyoxigraph

    from cica_ld import dataset

    if fmt == "jsonld":
        # JSON-LD is read whole anyway; the loader inlines the bundled project context
        for quad in dataset.parse_file(path, fmt, rename_blank_nodes=True, context_map=context_map):
            yield quad.triple
        return
    rdf_format = pyoxigraph.RdfFormat.from_media_type(dataset.MEDIA_TYPES[fmt])
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError:
        dataset.parse_file(path, fmt)  # raises the loader's own InputError for the path
        raise
    with fh:
        dataset.check_bounds(path, fmt)
        dataset.skip_bom(fh)
        try:
            # fresh blank nodes per file: `_:b1` in two files are two nodes (RDF merge)
            for quad in pyoxigraph.parse(
                fh,
                format=rdf_format,
                base_iri=path.resolve().as_uri(),
                rename_blank_nodes=True,
            ):
                yield quad.triple
        except MemoryError as exc:
            raise dataset.too_big(exc, path, fmt) from None
        except (SyntaxError, ValueError, OSError):
            # re-parse with the loader to get its error, with file, line and column
            dataset.parse_file(path, fmt)
            raise InputError(f"{fmt} error while reading", path=path) from None


def check_files(
    files: Sequence[tuple[Path, str]], *, context_map: Mapping[str, Any] | None = None
) -> list[LoadFile]:
    """Parse every file once (streamed) and count its triples; raise InputError on bad input."""
    out = []
    for path, fmt in files:
        n = sum(1 for _ in _triples(path, fmt, context_map))
        out.append(LoadFile(path, fmt, n))
    return out


def ntriples_chunks(
    files: Sequence[LoadFile],
    *,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    progress: ProgressCallback | None = None,
    context_map: Mapping[str, Any] | None = None,
) -> Iterator[bytes]:
    """The triples of ``files`` as N-Triples, ``chunk_triples`` at a time, file by file."""
    import pyoxigraph

    total = sum(f.triples for f in files)
    sent = 0
    nbytes = 0
    start = time.monotonic()

    def report(f: LoadFile, done: int) -> None:
        if progress is not None:
            progress(
                LoadProgress(
                    f.path, done, len(files), sent, total, nbytes, time.monotonic() - start
                )
            )

    for i, f in enumerate(files):
        batch: list[object] = []
        for triple in _triples(f.path, f.format, context_map):
            batch.append(triple)
            if len(batch) >= chunk_triples:
                data = pyoxigraph.serialize(batch, format=pyoxigraph.RdfFormat.N_TRIPLES)
                sent += len(batch)
                nbytes += len(data)
                batch = []
                yield data
                report(f, i)
        if batch:
            data = pyoxigraph.serialize(batch, format=pyoxigraph.RdfFormat.N_TRIPLES)
            sent += len(batch)
            nbytes += len(data)
            yield data
        report(f, i + 1)


def target_url(endpoint: str, graph: str | None) -> str:
    """The Graph Store Protocol URL for ``graph`` (``?graph=IRI``) or the default graph."""
    sep = "&" if "?" in endpoint else "?"
    if graph is None:
        return f"{endpoint}{sep}default"
    return f"{endpoint}{sep}graph={quote(graph, safe='')}"


def upload(
    endpoint: str,
    files: Sequence[tuple[Path, str]],
    *,
    graph: str | None = None,
    replace: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    progress: ProgressCallback | None = None,
    context_map: Mapping[str, Any] | None = None,
) -> LoadResult:
    """Send ``files`` to the Graph Store at ``endpoint`` in one streamed request.

    ``replace`` uses PUT (the graph ends up holding exactly these triples), otherwise POST
    (the triples are added). ``timeout`` bounds connecting and each wait for the server.
    ``context_map`` serves remote JSON-LD contexts of the files from local copies.
    """
    from cica_ld import endpoint as http

    http.check_url(endpoint)
    checked = check_files(files, context_map=context_map)
    url = target_url(endpoint, graph)
    method = "PUT" if replace else "POST"
    counter = _Counter()
    start = time.monotonic()
    chunks = ntriples_chunks(
        checked, chunk_triples=chunk_triples, progress=progress, context_map=context_map
    )
    body = counter.wrap(chunks)
    resp = http.request(
        method,
        url,
        content=body,
        headers={"Content-Type": N_TRIPLES},
        timeout=timeout,
    )
    return LoadResult(
        url=url,
        method=method,
        graph=graph,
        files=len(checked),
        triples=sum(f.triples for f in checked),
        bytes=counter.bytes,
        seconds=time.monotonic() - start,
        status=resp.status,
    )


class _Counter:
    """Counts the bytes a generator yields."""

    def __init__(self) -> None:
        self.bytes = 0

    def wrap(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for c in chunks:
            self.bytes += len(c)
            yield c


def render_progress(p: LoadProgress) -> str:
    """One progress line: ``sent 40000/120000 triples (33%), file 2/5, 3.1 MB, 1.2 s``."""
    pct = f" ({100 * p.triples_sent / p.triples_total:.0f}%)" if p.triples_total else ""
    return (
        f"sent {p.triples_sent}/{p.triples_total} triples{pct}, file "
        f"{min(p.files_done + 1, p.files_total)}/{p.files_total}, "
        f"{p.bytes_sent / 1e6:.1f} MB, {p.elapsed:.1f} s"
    )


def render_result(r: LoadResult) -> str:
    """The summary line the CLI prints on stderr."""
    verb = "replaced" if r.method == "PUT" else "added to"
    return (
        f"{verb} {r.target} at {r.url}: {r.triples} triples from {r.files} file(s), "
        f"{r.bytes / 1e6:.1f} MB in {r.seconds:.1f} s (HTTP {r.status})"
    )
