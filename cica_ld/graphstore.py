"""`cica-ld load`: push RDF files to any store by the SPARQL 1.1 Graph Store HTTP Protocol.

The data goes in chunks, one request each: N-Triples bodies of about ``chunk_triples``
triples. ``--replace`` sends the first chunk with ``PUT`` (the target graph is emptied and
gets it) and the others with ``POST`` (added); without it every chunk is a ``POST``. The
target is the default graph (``?default``) or ``?graph=IRI``. Named graphs in
N-Quads/TriG/JSON-LD inputs are merged into the target graph (the Graph Store Protocol
addresses one graph per request). Memory stays flat whatever the data size, except for the
blank nodes (below).

Blank nodes: a store gives each request its own blank nodes, so ``_:b`` in two chunks would be
two nodes. Chunks are therefore cut by *blank-node closure*: the triples that mention no blank
node stream straight into chunks; those that do are held, per file, grouped by the connected
sets of blank nodes they join (union-find), and sent at the end of the file, each group whole
in one chunk (a group larger than ``chunk_triples`` makes a chunk of its own). The data is
sent unchanged: no skolem IRIs. Memory grows with the blank-node triples of the largest file.

Retries and resuming: a chunk that fails for a reason that may pass (no connection, a timeout,
HTTP 408/429/5xx) is sent again after ``backoff`` seconds, doubling each time, up to
``retries`` times; each retry is reported. With a ``state_dir``, the chunks done are recorded
in a state file named by a key of the inputs (the URL, the method, the chunk size and each
file's SHA-256), so running the same load again after a failure skips them: nothing is sent
twice, and the state file is removed once the load is complete. Chunks without blank nodes are
idempotent anyway (a graph is a set); a retried chunk with blank nodes that the store did apply
before failing (a timeout after its commit) would add its blank-node triples a second time.

Before anything is sent, every file is parsed once to check it and count its triples, so a
syntax error is an input error (exit 2) and the store is left untouched; the count also gives
the progress a total. HTTP errors, an unreachable store and timeouts raise
:class:`~cica_ld.errors.EndpointError` (exit 3) with the server's message.

Bulk-loading millions of triples is faster with the store's own loader (``oxigraph load``,
Fuseki's ``tdb2.tdbloader``, QLever's index builder, Virtuoso's ``ld_dir``/``rdf_loader_run``,
GraphDB's ImportRDF): see the README section "When the data outgrows one machine".
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cica_ld.errors import EndpointError, InputError
from cica_ld.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:  # pragma: no cover
    from cica_ld.endpoint import Credentials

DEFAULT_CHUNK_TRIPLES = 50_000
DEFAULT_TIMEOUT = 120.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 1.0
N_TRIPLES = "application/n-triples"
STATE_VERSION = 1


@dataclass(frozen=True)
class LoadFile:
    """One file to send and its RDF format name (see :data:`cica_ld.dataset.MEDIA_TYPES`)."""

    path: Path
    format: str
    triples: int = 0
    sha256: str = ""


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
    chunks: int = 1
    skipped: int = 0
    retries: int = 0

    @property
    def target(self) -> str:
        return f"graph <{self.graph}>" if self.graph else "the default graph"


#: Receives a line about a retry or a resumed load (the CLI prints it on stderr).
Notice = Callable[[str], None]


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
        out.append(LoadFile(path, fmt, n, _sha256(path)))
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _blank_nodes(triple: Any) -> list[str]:
    """The blank node labels of a triple (quoted triples included)."""
    import pyoxigraph

    out = []
    for term in (triple.subject, triple.object):
        if isinstance(term, pyoxigraph.BlankNode):
            out.append(term.value)
        elif isinstance(term, pyoxigraph.Triple):
            out += _blank_nodes(term)
    return out


class _Closure:
    """Union-find over the blank nodes of one file: the triples of each connected group."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.triples: dict[str, list[Any]] = {}
        self.first: dict[str, int] = {}  # group root -> order of its first triple

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def add(self, triple: Any, labels: list[str], order: int) -> None:
        roots = []
        for label in labels:
            if label not in self.parent:
                self.parent[label] = label
                self.triples[label] = []
                self.first[label] = order
            roots.append(self.find(label))
        root = roots[0]
        for other in roots[1:]:
            if other != root:  # merge the smaller group into the larger
                if len(self.triples[other]) > len(self.triples[root]):
                    root, other = other, root
                self.parent[other] = root
                self.triples[root] += self.triples.pop(other)
                self.first[root] = min(self.first[root], self.first.pop(other))
        self.triples[root].append(triple)

    def groups(self) -> list[list[Any]]:
        """The groups in the order of their first triple (the same on every run)."""
        return [self.triples[r] for r in sorted(self.triples, key=self.first.__getitem__)]


def chunks(
    files: Sequence[LoadFile],
    *,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    context_map: Mapping[str, Any] | None = None,
) -> Iterator[list[Any]]:
    """The triples of ``files`` cut into chunks of about ``chunk_triples``, every blank node's
    triples in one chunk (see the module docstring). The same files give the same chunks."""
    batch: list[Any] = []
    for f in files:
        closure = _Closure()
        for order, triple in enumerate(_triples(f.path, f.format, context_map)):
            labels = _blank_nodes(triple)
            if labels:
                closure.add(triple, labels, order)
                continue
            batch.append(triple)
            if len(batch) >= chunk_triples:
                yield batch
                batch = []
        for group in closure.groups():
            if batch and len(batch) + len(group) > chunk_triples:
                yield batch
                batch = []
            batch += group
            if len(batch) >= chunk_triples:
                yield batch
                batch = []
    if batch:
        yield batch


def target_url(endpoint: str, graph: str | None) -> str:
    """The Graph Store Protocol URL for ``graph`` (``?graph=IRI``) or the default graph."""
    sep = "&" if "?" in endpoint else "?"
    if graph is None:
        return f"{endpoint}{sep}default"
    return f"{endpoint}{sep}graph={quote(graph, safe='')}"


def load_key(url: str, method: str, chunk_triples: int, files: Sequence[LoadFile]) -> str:
    """What identifies a load for resuming: the target, the method, the chunking, the inputs."""
    doc = {
        "version": STATE_VERSION,
        "url": url,
        "method": method,
        "chunk_triples": chunk_triples,
        "files": [[str(f.path.resolve()), f.format, f.sha256] for f in files],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def state_file(state_dir: Path, key: str) -> Path:
    """The state file of the load with ``key`` in ``state_dir``."""
    return Path(state_dir) / f"load-{key[:32]}.json"


def _read_state(path: Path, key: str) -> set[int]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read this load state file ({exc})",
            path=path,
            hint="remove it, or give --restart to start the load over",
        ) from None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return set()
    return {int(i) for i in doc.get("done", [])}


def _write_state(path: Path, key: str, url: str, total: int, done: set[int]) -> None:
    from cica_ld.io import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"key": key, "url": url, "chunks": total, "done": sorted(done)}
    atomic_write(path, json.dumps(doc).encode("utf-8"))


def upload(
    endpoint: str,
    files: Sequence[tuple[Path, str]],
    *,
    graph: str | None = None,
    replace: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES,
    progress: Progress = NO_PROGRESS,
    context_map: Mapping[str, Any] | None = None,
    auth: Credentials | None = None,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    state_dir: Path | None = None,
    restart: bool = False,
    notice: Notice | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> LoadResult:
    """Send ``files`` to the Graph Store at ``endpoint`` in chunks (see the module docstring).

    ``replace``: the graph ends up holding exactly these triples (PUT, then POSTs), otherwise
    they are added (POSTs). ``timeout`` bounds connecting and each wait for the server, per
    request. ``auth``: credentials for a server that asks (Basic or Digest). ``retries`` and
    ``backoff``: how often and after how long (doubling) a chunk that failed for a passing
    reason is sent again. ``state_dir``: where the chunks done are recorded so that the same
    load run again resumes (``restart`` forgets a recorded state). ``notice`` receives a line
    per retry and on resuming; ``progress`` the stages and the triples sent.
    """
    from cica_ld import endpoint as http

    http.check_url(endpoint)
    if chunk_triples < 1:
        raise InputError(f"the chunk size must be at least 1 triple, got {chunk_triples}")
    progress.stage("checking the input files", total=len(files))
    checked = []
    for path, fmt in files:
        checked += check_files([(path, fmt)], context_map=context_map)
        progress.advance()
    url = target_url(endpoint, graph)
    method = "PUT" if replace else "POST"
    total = sum(f.triples for f in checked)
    key = load_key(url, method, chunk_triples, checked)
    state = state_file(state_dir, key) if state_dir is not None else None
    if state is not None and restart:
        state.unlink(missing_ok=True)
    done = _read_state(state, key) if state is not None else set()
    if done and notice is not None:
        notice(f"resuming: {len(done)} chunk(s) of an earlier run of this load are done ({state})")
    start = time.monotonic()
    sent_bytes = 0
    status = 0
    retried = 0
    skipped = 0
    index = -1
    progress.stage(f"sending {total} triples", total=total)
    with http.session(timeout=timeout, auth=auth) as session:
        batches: Iterator[list[Any]] = chunks(
            checked, chunk_triples=chunk_triples, context_map=context_map
        )
        if total == 0:
            batches = iter([[]])  # one empty request: PUT empties the graph, POST checks access
        for index, batch in enumerate(batches):
            if index in done:
                skipped += 1
                progress.advance(len(batch))
                continue
            body = _serialize(batch)
            verb = "PUT" if replace and index == 0 else "POST"
            attempt = 0
            while True:
                try:
                    resp = http.request(
                        verb,
                        url,
                        content=body,
                        headers={"Content-Type": N_TRIPLES},
                        timeout=timeout,
                        session=session,
                    )
                    break
                except EndpointError as exc:
                    if attempt >= retries or not http.retryable(exc):
                        raise _chunk_failed(exc, index, len(done), attempt, state) from None
                    wait = backoff * (2**attempt)
                    attempt += 1
                    retried += 1
                    if notice is not None:
                        notice(
                            f"chunk {index + 1} ({len(batch)} triples) failed: {exc.message}; "
                            f"retry {attempt}/{retries} in {wait:g} s"
                        )
                    sleep(wait)
            status = resp.status
            sent_bytes += len(body)
            done.add(index)
            if state is not None:
                _write_state(state, key, url, index + 1, done)
            progress.advance(len(batch))
    if state is not None:
        state.unlink(missing_ok=True)
    return LoadResult(
        url=url,
        method=method,
        graph=graph,
        files=len(checked),
        triples=total,
        bytes=sent_bytes,
        seconds=time.monotonic() - start,
        status=status,
        chunks=index + 1,
        skipped=skipped,
        retries=retried,
    )


def _serialize(batch: list[Any]) -> bytes:
    import pyoxigraph

    if not batch:
        return b""
    return pyoxigraph.serialize(batch, format=pyoxigraph.RdfFormat.N_TRIPLES)


def _chunk_failed(
    exc: EndpointError, index: int, done: int, attempts: int, state: Path | None
) -> EndpointError:
    tries = f" after {attempts + 1} attempts" if attempts else ""
    where = (
        f"; the {done} chunk(s) done are recorded in {state}: run the same command again to resume"
        if state is not None and done
        else ""
    )
    err = EndpointError(f"chunk {index + 1} failed{tries}: {exc.message}{where}", hint=exc.hint)
    return err


def render_result(r: LoadResult) -> str:
    """The summary line the CLI prints on stderr."""
    verb = "replaced" if r.method == "PUT" else "added to"
    extra = []
    if r.skipped:
        extra.append(f"{r.skipped} done before, skipped")
    if r.retries:
        extra.append(f"{r.retries} retried")
    more = f" ({', '.join(extra)})" if extra else ""
    return (
        f"{verb} {r.target} at {r.url}: {r.triples} triples from {r.files} file(s) in "
        f"{r.chunks} chunk(s){more}, {r.bytes / 1e6:.1f} MB in {r.seconds:.1f} s"
        + (f" (HTTP {r.status})" if r.status else "")
    )
