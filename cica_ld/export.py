"""Export and conversion: a dataset to JSON-LD, Turtle, N-Triples, N-Quads, TriG or RDF/XML.

Every format is deterministic: the same graph gives the same bytes (blank nodes get labels
that depend only on the graph, RDFC-1.0 within a work budget, see :mod:`cica_ld.blanknodes`;
triples are sorted, prefixes are sorted). Turtle and TriG are
written in the project's house style (prefixes sorted, one subject block per resource,
``a`` first, 4-space indent, the closing ``.`` on its own line). Triple-only formats (Turtle,
N-Triples, RDF/XML) get the union of all graphs.

:func:`export` builds the output in memory. :func:`export_chunks` gives the same bytes in
chunks and, for a store whose quads are all in the default graph, streams JSON-LD (compacted),
N-Triples and N-Quads subject by subject, so a big graph is never held twice: blank nodes are
relabelled by canonicalizing only the quads that mention them (RDFC-1.0 labels depend on
nothing else), everything else is read from the store one subject at a time.

JSON-LD is compacted (or framed) with the project context, or with the user's own
(``context``: a context file or a URL served from ``context_map``), or, for ``context=None``,
with a context made of the prefixes the input files declare (:func:`source_prefixes`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cica_ld import namespaces as _namespaces
from cica_ld.dataset import format_name
from cica_ld.errors import InputError, InternalError, UsageError
from cica_ld.lexical import decode, decode_quads

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.dataset import LoadedDataset
    from cica_ld.jsonld import OutputContext
    from cica_ld.progress import Progress

#: Export format names, in the order the help lists them.
FORMATS: tuple[str, ...] = ("jsonld", "turtle", "ntriples", "nquads", "trig", "rdfxml")
#: Formats that keep named graphs.
QUAD_FORMATS = frozenset({"jsonld", "nquads", "trig"})
#: Output file extension -> format (for ``--output`` without ``--format``).
EXTENSIONS: dict[str, str] = {
    ".jsonld": "jsonld",
    ".json-ld": "jsonld",
    ".json": "jsonld",
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".trig": "trig",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
    ".xml": "rdfxml",
}
#: Format -> media type.
MEDIA_TYPES: dict[str, str] = {
    "jsonld": "application/ld+json",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "rdfxml": "application/rdf+xml",
}
#: Format -> usual file extension.
SUFFIXES: dict[str, str] = {
    "jsonld": ".jsonld",
    "turtle": ".ttl",
    "ntriples": ".nt",
    "nquads": ".nq",
    "trig": ".trig",
    "rdfxml": ".rdf",
}

#: The project prefixes (Turtle, TriG, RDF/XML, and the names the JSON-LD context uses).
PREFIXES: dict[str, str] = _namespaces.PREFIXES

_RDF_TYPE = PREFIXES["rdf"] + "type"
_XSD_STRING = PREFIXES["xsd"] + "string"
# A conservative subset of Turtle's PN_LOCAL: what we abbreviate; anything else stays <...>.
_LOCAL = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)?$")


def format_for_output(path: str | Path | None, fmt: str | None, default: str = "jsonld") -> str:
    """The export format: ``fmt`` if given, else from the output file's extension."""
    if fmt is not None:
        name = format_name(fmt)
        if name not in FORMATS:
            raise UsageError(
                f"unknown export format {fmt!r}",
                hint=f"use --format with one of: {', '.join(FORMATS)}",
            )
        return name
    if path is not None:
        suffix = Path(path).suffix
        found = EXTENSIONS.get(suffix.lower())
        if found is None:
            raise UsageError(
                f"cannot tell the export format from the extension {suffix or '(none)'!r}",
                path=path,
                hint=f"name the format with --format ({', '.join(FORMATS)})",
            )
        return found
    return default


def all_quads(data: LoadedDataset | pyoxigraph.Store | Iterable[pyoxigraph.Quad]) -> list[Any]:
    """Every quad of a loaded dataset, a store, or an iterable of quads."""
    store = getattr(data, "store", data)
    if hasattr(store, "quads_for_pattern"):
        quads = store.quads_for_pattern(None, None, None, None)
        return list(decode_quads(quads) if _as_written(data) else quads)
    return list(store)


def _as_written(data: Any) -> bool:
    """Whether ``data`` (a loaded dataset) holds literals as surrogates, to decode on output."""
    return bool(getattr(data, "as_written", 0))


def export(
    data: LoadedDataset | pyoxigraph.Store | Iterable[pyoxigraph.Quad],
    fmt: str = "jsonld",
    *,
    context: str | OutputContext | None = "url",
    frame: str | Path | Mapping[str, Any] | None = None,
    node_id: str | None = None,
    prefixes: Mapping[str, str] | None = None,
    context_map: Mapping[str, dict[str, Any]] | None = None,
) -> bytes:
    """Serialize ``data`` in ``fmt`` (one of :data:`FORMATS`), deterministically.

    JSON-LD is compacted with ``context``: ``"url"`` or ``"inline"`` (the project context),
    a context file or a context URL (the user's, a URL served from ``context_map``, see
    :func:`cica_ld.jsonld.output_context`), or ``None`` (the prefixes the loaded files
    declare, :func:`source_prefixes`; none for a store or quads). Or it is framed with
    ``frame`` (a bundled frame name, a frame file, or a frame object; read with its own
    context, the output compacted with a user ``context``); ``node_id`` selects one
    top-level node of the frame (an :class:`InputError` when it is no subject of the data).
    """
    from cica_ld import jsonld

    fmt = _check_options(fmt, frame, node_id)
    out_ctx = _output_context(data, fmt, context, context_map, framed=frame is not None)
    quads = all_quads(data)
    if fmt == "jsonld":
        if frame is not None:
            frame_doc = frame if isinstance(frame, Mapping) else jsonld.load_frame(frame)
            doc = jsonld.frame(
                quads, frame_doc, context=out_ctx, node_id=node_id, context_map=context_map
            )
        else:
            doc = jsonld.compact(quads, context=out_ctx)
        return jsonld.dumps(doc, documents=out_ctx.documents)
    quads = jsonld.stable_quads(quads)
    if fmt not in QUAD_FORMATS:
        quads = _as_triples(quads)
    pref = dict(PREFIXES if prefixes is None else prefixes)
    if fmt == "turtle":
        return turtle(quads, pref).encode("utf-8")
    if fmt == "trig":
        return turtle(quads, pref, trig=True).encode("utf-8")
    return _oxigraph_serialize(quads, fmt, pref)


def _output_context(
    data: Any,
    fmt: str,
    context: Any,
    context_map: Mapping[str, dict[str, Any]] | None,
    *,
    framed: bool = False,
) -> Any:
    """The :class:`~cica_ld.jsonld.OutputContext` of a JSON-LD export (checked for others)."""
    from cica_ld import jsonld

    if isinstance(context, jsonld.OutputContext):
        return context
    if fmt != "jsonld":
        if context is not None and context not in jsonld.CONTEXT_MODES:
            jsonld.output_context(context, context_map)  # an unknown mode: its UsageError
            raise UsageError("--context FILE|URL applies to JSON-LD output (--format jsonld)")
        return None
    if context is None:
        if framed:  # the frame's own context
            return jsonld.output_context("url", context_map)
        sources = getattr(data, "sources", None) or []
        return jsonld.prefix_context(source_prefixes(sources, context_map=context_map))
    return jsonld.output_context(context, context_map)


#: Prefixes are namespaces: a JSON-LD 1.1 term is a prefix only when its IRI ends with one of
#: these (a gen-delim character).
_PREFIX_ENDS = tuple(":/?#[]@")


def source_prefixes(
    sources: Iterable[Any], *, context_map: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, str]:
    """The prefixes the source files declare, as JSON-LD prefixes (name -> namespace).

    ``sources`` are :class:`~cica_ld.dataset.SourceFile` (path and format) in load order;
    each file is parsed again and its parser's final prefixes taken (Turtle, TriG and N3
    ``@prefix``/``PREFIX``, RDF/XML ``xmlns:``, a JSON-LD file's context prefixes). Exact and
    deterministic: in load order the first declaration of a name, and of a namespace, wins;
    the empty prefix (no JSON-LD term can be empty) and namespaces not ending in ``/``, ``#``,
    ``:``, ``?``, ``[``, ``]`` or ``@`` (no JSON-LD 1.1 prefix) are left out. Sorted by name.
    """
    import pyoxigraph

    from cica_ld import dataset, jsonld

    names: dict[str, str] = {}
    namespaces: set[str] = set()
    for src in sources:
        if src.format in ("ntriples", "nquads"):
            continue
        fmt = pyoxigraph.RdfFormat.from_media_type(dataset.MEDIA_TYPES[src.format])
        base = Path(src.path).resolve().as_uri()
        try:
            if src.format == "jsonld":
                raw = Path(src.path).read_bytes()
                docs = jsonld.served_documents(context_map)
                text = jsonld.resolve_contexts(raw, src.path, documents=docs)
                parser = pyoxigraph.parse(text, format=fmt, base_iri=base)
            else:
                parser = pyoxigraph.parse(path=str(src.path), format=fmt, base_iri=base)
            for _ in parser:
                pass
        except (OSError, SyntaxError, ValueError, InputError):  # pragma: no cover - loaded once
            continue
        for name, ns in parser.prefixes.items():
            if not name or not ns.endswith(_PREFIX_ENDS) or name in names or ns in namespaces:
                continue
            names[name] = ns
            namespaces.add(ns)
    return dict(sorted(names.items()))


def _check_options(fmt: str, frame: Any, node_id: str | None) -> str:
    fmt = format_for_output(None, fmt)
    if fmt != "jsonld" and (frame is not None or node_id is not None):
        raise UsageError("--frame and --id need --format jsonld")
    if node_id is not None and frame is None:
        raise UsageError("--id selects a node of a frame: give --frame too")
    return fmt


# ---------------------------------------------------------------------------------------------
# Streaming export: one subject at a time, the same bytes as export()
# ---------------------------------------------------------------------------------------------

#: Formats :func:`export_chunks` can stream (JSON-LD only compacted, without a frame).
STREAM_FORMATS = frozenset({"jsonld", "ntriples", "nquads"})
#: A chunk is yielded once this many characters are ready.
CHUNK_CHARS = 1 << 18
#: Triples serialized by pyoxigraph per call (N-Triples, N-Quads).
_BATCH_TRIPLES = 20_000
#: Subjects written between two progress steps.
_PROGRESS_EVERY = 1_000

# Quads needing more than the store: blank nodes (to canonicalize), RDF 1.2 triple terms and
# directional literals (which the in-memory path handles or reports).
_SPECIAL_QUADS = (
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o "
    'FILTER(!isIRI(?s) || !(isIRI(?o) || isLiteral(?o)) || LANGDIR(?o) != "") }'
)
_IRI_SUBJECTS = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }"


class _DefaultGraphPlan:
    """The subjects of a store's default graph and their quads, blank nodes canonical.

    Quads that mention a blank node are copied into a :class:`pyoxigraph.Dataset` and
    relabelled there (:func:`cica_ld.blanknodes.relabel`): the labels depend only on those
    quads, so they are the labels relabelling the whole graph gives. Every other quad stays
    in the store.
    """

    def __init__(
        self,
        store: Any,
        blank: Any | None,
        mixed: set[Any],
        subjects: list[Any],
        *,
        as_written: bool = False,
    ):
        self.store = store
        self.blank = blank  # the canonicalized quads with a blank node (decoded)
        self.mixed = mixed  # IRI subjects with a blank-node object
        self.subjects = subjects  # IRI subjects (from the store) + canonical blank subjects
        self.as_written = as_written  # the store holds surrogates: decode its quads

    def quads(self, subject: Any) -> list[Any]:
        """Every quad of ``subject`` (in no particular order)."""
        import pyoxigraph

        if isinstance(subject, pyoxigraph.BlankNode):
            return list(self.blank.quads_for_subject(subject))
        found = self.store.quads_for_pattern(subject, None, None, pyoxigraph.DefaultGraph())
        if self.as_written:
            found = decode_quads(found)
        if subject not in self.mixed:
            return list(found)
        out = [q for q in found if not isinstance(q.object, pyoxigraph.BlankNode)]
        out += self.blank.quads_for_subject(subject)
        return out


def _default_graph_plan(data: Any, progress: Progress) -> _DefaultGraphPlan | None:
    """A plan to stream ``data`` subject by subject, or None (then export in memory).

    None when ``data`` is not a store, has quads in a named graph, or has RDF 1.2 triple
    terms or directional literals.
    """
    import pyoxigraph

    store = getattr(data, "store", data)
    if not isinstance(store, pyoxigraph.Store):
        return None
    if store.query("ASK { GRAPH ?g { ?s ?p ?o } }"):
        return None
    progress.stage("finding blank nodes")
    try:
        rows = store.query(_SPECIAL_QUADS)
    except SyntaxError:  # pragma: no cover - a pyoxigraph without RDF 1.2's LANGDIR
        return None
    node_types = (pyoxigraph.NamedNode, pyoxigraph.BlankNode)
    blank: Any = pyoxigraph.Dataset()
    for row in rows:
        s, p, o = row[0], row[1], row[2]
        if not isinstance(s, node_types) or not isinstance(o, (*node_types, pyoxigraph.Literal)):
            return None
        if isinstance(o, pyoxigraph.Literal) and getattr(o, "direction", None):
            return None
        blank.add(pyoxigraph.Quad(s, p, decode(o)))
    mixed: set[Any] = set()
    blank_subjects: set[Any] = set()
    if len(blank):
        from cica_ld.blanknodes import relabel

        progress.stage(f"canonicalizing the {len(blank)} triples with blank nodes")
        blank = pyoxigraph.Dataset(relabel(blank))
        for q in blank:
            if isinstance(q.subject, pyoxigraph.BlankNode):
                blank_subjects.add(q.subject)
            else:
                mixed.add(q.subject)
    progress.stage("listing the subjects")
    subjects = [row[0] for row in store.query(_IRI_SUBJECTS)]
    subjects += blank_subjects
    return _DefaultGraphPlan(store, blank, mixed, subjects, as_written=_as_written(data))


def export_chunks(
    data: LoadedDataset | pyoxigraph.Store | Iterable[pyoxigraph.Quad],
    fmt: str = "jsonld",
    *,
    context: str | OutputContext | None = "url",
    frame: str | Path | Mapping[str, Any] | None = None,
    node_id: str | None = None,
    prefixes: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    context_map: Mapping[str, dict[str, Any]] | None = None,
) -> Iterator[bytes]:
    """What :func:`export` returns, as chunks of bytes (joined: the very same bytes).

    Compacted JSON-LD, N-Triples and N-Quads of a store (or loaded dataset) with only a
    default graph are streamed: the work is done subject by subject and chunks come as they
    are ready, so no second copy of the graph is built. Everything else (a frame, named
    graphs, RDF 1.2 triple terms, directional literals, a list of quads, other formats) is
    exported in memory and comes as one chunk. Option errors and the work before the first
    chunk happen here, before anything is returned. ``progress`` (a
    :class:`~cica_ld.progress.Progress`) is told the stages and counts the subjects written.
    ``context`` and ``context_map`` as in :func:`export`; a context the streaming compactor
    does not handle (containers, scoped contexts...) is exported in memory.
    """
    from cica_ld.progress import NO_PROGRESS

    progress = NO_PROGRESS if progress is None else progress
    fmt = _check_options(fmt, frame, node_id)
    out_ctx: Any = context
    if fmt in STREAM_FORMATS and frame is None:
        out_ctx = _output_context(data, fmt, context, context_map)
        stream = _stream(data, fmt, out_ctx, progress)
        if stream is not None:
            return stream
    progress.stage(f"exporting {fmt} in memory")
    payload = export(
        data,
        fmt,
        context=out_ctx,
        frame=frame,
        node_id=node_id,
        prefixes=prefixes,
        context_map=context_map,
    )
    return iter((payload,))


def _stream(data: Any, fmt: str, context: Any, progress: Progress) -> Iterator[bytes] | None:
    from cica_ld import jsonld

    writer = None
    if fmt == "jsonld":
        try:
            writer = jsonld.CompactNodeWriter(context)
        except ValueError:  # a context the fast compactor does not handle: in memory
            return None
    plan = _default_graph_plan(data, progress)
    if plan is None or not plan.subjects:
        return None
    progress.stage(f"ordering {len(plan.subjects)} subjects")
    if writer is None:
        order = sorted(plan.subjects, key=str)
        return _stream_lines(plan, order, fmt, progress)
    keyed = sorted(((writer.sort_key(s), s) for s in plan.subjects), key=lambda k: k[0])
    if any(a[0] == b[0] for a, b in itertools.pairwise(keyed)):
        return None  # two subjects with one compacted @id: the order needs the whole nodes
    order = [s for _, s in keyed]
    del keyed
    return _stream_jsonld(plan, order, writer, progress)


def _stream_jsonld(
    plan: _DefaultGraphPlan, order: list[Any], writer: Any, progress: Progress
) -> Iterator[bytes]:
    parts = [writer.head]
    size = 0
    total = len(order)
    progress.stage("writing JSON-LD (subjects)", total=total)
    for i, subject in enumerate(order):
        try:
            text = writer.render(plan.quads(subject))
        except ValueError as exc:  # pragma: no cover - not with the bundled context
            raise InternalError(f"streamed JSON-LD export: {exc}") from None
        if i:
            parts.append(",\n")
        parts.append(text)
        size += len(text)
        if size >= CHUNK_CHARS:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
        if (i + 1) % _PROGRESS_EVERY == 0:
            progress.advance(_PROGRESS_EVERY)
    parts.append(writer.tail)
    yield "".join(parts).encode("utf-8")
    progress.advance(total % _PROGRESS_EVERY)


def _stream_lines(
    plan: _DefaultGraphPlan, order: list[Any], fmt: str, progress: Progress
) -> Iterator[bytes]:
    import pyoxigraph

    def key(q: Any) -> tuple[int, str, str]:  # quad_sort_key within one subject
        return (0 if q.predicate.value == _RDF_TYPE else 1, q.predicate.value, str(q.object))

    rdf_format = pyoxigraph.RdfFormat.from_media_type(MEDIA_TYPES[fmt])
    batch: list[Any] = []
    total = len(order)
    name = "N-Quads" if fmt == "nquads" else "N-Triples"
    progress.stage(f"writing {name} (subjects)", total=total)
    for i, subject in enumerate(order):
        quads = sorted(plan.quads(subject), key=key)
        batch += quads if fmt == "nquads" else (q.triple for q in quads)
        if len(batch) >= _BATCH_TRIPLES:
            yield _serialize(batch, rdf_format, fmt)
            batch = []
        if (i + 1) % _PROGRESS_EVERY == 0:
            progress.advance(_PROGRESS_EVERY)
    if batch:
        yield _serialize(batch, rdf_format, fmt)
    progress.advance(total % _PROGRESS_EVERY)


def _serialize(items: list[Any], rdf_format: Any, fmt: str) -> bytes:
    import pyoxigraph

    try:
        return pyoxigraph.serialize(items, format=rdf_format)
    except (ValueError, TypeError) as exc:  # pragma: no cover - special terms are not streamed
        raise InputError(f"cannot write {fmt}: {exc}") from None


def _as_triples(quads: list[Any]) -> list[Any]:
    """Quads moved to the default graph (union of graphs), deduplicated, sorted."""
    import pyoxigraph

    from cica_ld.jsonld import quad_sort_key

    if all(isinstance(q.graph_name, pyoxigraph.DefaultGraph) for q in quads):
        return quads
    seen = {pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads}
    return sorted(seen, key=quad_sort_key)


def export_documents(
    quads: Iterable[Any],
    fmts: Iterable[str],
    *,
    stable: bool = False,
    used: Mapping[str, str] | None = None,
) -> dict[str, bytes]:
    """``{fmt: export(quads, fmt)}`` for RDF formats other than JSON-LD (the same bytes each),
    the quads sorted and the prefixes they use found once for all the formats. ``stable``:
    the quads are :func:`cica_ld.jsonld.stable_quads` of what to export already; ``used``:
    :func:`_used_prefixes` of them with :data:`PREFIXES`, if known."""
    from cica_ld import jsonld

    ordered = list(quads) if stable else jsonld.stable_quads(quads)
    triples: list[Any] | None = None
    out: dict[str, bytes] = {}
    for fmt in fmts:
        fmt = _check_options(fmt, None, None)
        if fmt == "jsonld":
            raise ValueError("export_documents: not for JSON-LD")
        items = ordered
        if fmt not in QUAD_FORMATS:
            if triples is None:
                triples = _as_triples(ordered)
            items = triples
        if used is None and fmt in ("turtle", "trig", "rdfxml"):
            used = _used_prefixes(items, PREFIXES)
        if fmt == "turtle":
            out[fmt] = turtle(items, PREFIXES, used=used).encode("utf-8")
        elif fmt == "trig":
            out[fmt] = turtle(items, PREFIXES, trig=True, used=used).encode("utf-8")
        else:
            out[fmt] = _oxigraph_serialize(items, fmt, PREFIXES, used=used)
    return out


def _oxigraph_serialize(
    quads: list[Any],
    fmt: str,
    prefixes: Mapping[str, str],
    *,
    used: Mapping[str, str] | None = None,
) -> bytes:
    import pyoxigraph

    rdf_format = pyoxigraph.RdfFormat.from_media_type(MEDIA_TYPES[fmt])
    items = quads if fmt == "nquads" else [q.triple for q in quads]
    if fmt != "rdfxml":
        used = None
    elif used is None:
        used = _used_prefixes(quads, prefixes)
    try:
        return pyoxigraph.serialize(items, format=rdf_format, prefixes=used)
    except (ValueError, TypeError) as exc:
        raise InputError(f"cannot write {fmt}: {exc}") from None


#: (prefixes) -> IRI -> the prefix whose namespace starts it (None: none does): what
#: :func:`_used_prefixes` found before (a publish asks it for every document). Bounded.
_PREFIX_OF: dict[tuple[tuple[str, str], ...], dict[str, str | None]] = {}
_PREFIX_CACHE_LIMIT = 50_000


def _used_prefixes(quads: Iterable[Any], prefixes: Mapping[str, str]) -> dict[str, str]:
    """The prefixes whose namespace starts at least one IRI of the quads."""
    key = tuple(prefixes.items())
    known = _PREFIX_OF.get(key)
    if known is None or len(known) > _PREFIX_CACHE_LIMIT:
        if len(_PREFIX_OF) > 16:
            _PREFIX_OF.clear()
        known = _PREFIX_OF[key] = {}
    namespaces: list[tuple[str, str]] | None = None
    used: dict[str, str] = {}
    for q in quads:
        for t in (
            q.subject,
            q.predicate,
            q.object,
            q.graph_name,
            getattr(q.object, "datatype", None),
        ):
            value = getattr(t, "value", None)
            if t is None or value is None or t.__class__.__name__ != "NamedNode":
                continue
            if value in known:
                p = known[value]
            else:
                if namespaces is None:
                    namespaces = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
                p = known[value] = next((p for p, ns in namespaces if value.startswith(ns)), None)
            if p is not None:
                used[p] = prefixes[p]
    return {p: used[p] for p in sorted(used)}


class _TermWriter:
    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.namespaces = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        self.cache: dict[str, str] = {}

    def iri(self, value: str) -> str:
        out = self.cache.get(value)
        if out is None:
            if len(self.cache) >= _PREFIX_CACHE_LIMIT:  # bounded (a streamed dump's writer
                self.cache.clear()  # sees every IRI of the data)
            out = f"<{value}>"
            for p, ns in self.namespaces:
                if value.startswith(ns) and _LOCAL.match(value[len(ns) :]):
                    out = f"{p}:{value[len(ns) :]}"
                    break
            self.cache[value] = out
        return out

    def term(self, t: Any) -> str:
        import pyoxigraph

        if isinstance(t, pyoxigraph.NamedNode):
            return self.iri(t.value)
        if isinstance(t, pyoxigraph.BlankNode):
            return str(t)
        if isinstance(t, pyoxigraph.Literal):
            quoted = str(pyoxigraph.Literal(t.value))
            if t.language:
                return str(t)
            if t.datatype.value == _XSD_STRING:
                return quoted
            return f"{quoted}^^{self.iri(t.datatype.value)}"
        raise InputError(f"cannot write this RDF term in Turtle: {t}")


def turtle(
    quads: list[Any],
    prefixes: Mapping[str, str],
    *,
    trig: bool = False,
    used: Mapping[str, str] | None = None,
) -> str:
    """House-style Turtle (or TriG) for quads sorted by :func:`cica_ld.jsonld.quad_sort_key`.
    ``used``: the prefixes of ``prefixes`` the quads use, if known (:func:`_used_prefixes`)."""
    import pyoxigraph

    if used is None:
        used = _used_prefixes(quads, prefixes)
    w = _TermWriter(used)
    out: list[str] = [f"@prefix {p}: <{ns}> ." for p, ns in used.items()]
    graph: Any = None
    subject: Any = None
    predicate: Any = None
    indent = ""

    def close_subject() -> None:
        if subject is not None:
            out[-1] += " ;"
            out.append(f"{indent}.")

    for q in quads:
        g = None if isinstance(q.graph_name, pyoxigraph.DefaultGraph) else q.graph_name
        if trig and g != graph:
            close_subject()
            subject = None
            if graph is not None:
                out.append("}")
            graph = g
            if g is not None:
                out += ["", f"{w.term(g)} {{"]
                indent = "    "
        if q.subject != subject:
            close_subject()
            subject, predicate = q.subject, None
            out += ["", f"{indent}{w.term(subject)}"]
        obj = w.term(q.object)
        if q.predicate == predicate:
            out[-1] += f" , {obj}"
        else:
            if predicate is not None:
                out[-1] += " ;"
            predicate = q.predicate
            pred = "a" if q.predicate.value == _RDF_TYPE else w.term(q.predicate)
            out.append(f"{indent}    {pred} {obj}")
    close_subject()
    if trig and graph is not None:
        out.append("}")
    return "\n".join(out) + "\n"


def _subject_quads(plan: _DefaultGraphPlan) -> Iterator[list[Any]]:
    """Each subject's quads in :func:`cica_ld.jsonld.quad_sort_key` order, subjects in that
    order too: the order :func:`export` sorts the whole graph in, one subject at a time."""

    def key(q: Any) -> tuple[int, str, str]:
        return (0 if q.predicate.value == _RDF_TYPE else 1, q.predicate.value, str(q.object))

    for subject in sorted(plan.subjects, key=str):
        yield sorted(plan.quads(subject), key=key)


def store_prefixes(store: Any, prefixes: Mapping[str, str]) -> dict[str, str]:
    """:func:`_used_prefixes` of every quad of ``store``, read as a stream."""
    return _used_prefixes(store.quads_for_pattern(None, None, None, None), prefixes)


def turtle_chunks(store: Any, prefixes: Mapping[str, str] | None = None) -> Iterator[bytes]:
    """The bytes :func:`export` gives for ``store`` in Turtle, as chunks, written subject by
    subject (the whole graph is never held). A store :func:`export_chunks` would not stream
    (named graphs, RDF 1.2 terms) is exported in memory, as one chunk."""
    from cica_ld.progress import NO_PROGRESS

    pref = dict(PREFIXES if prefixes is None else prefixes)
    plan = _default_graph_plan(store, NO_PROGRESS)
    if plan is None or not plan.subjects:
        yield export(store, "turtle", prefixes=pref)
        return
    used = store_prefixes(store, pref)
    w = _TermWriter(used)
    head = "\n".join(f"@prefix {p}: <{ns}> ." for p, ns in used.items())
    parts = [head]  # "\n".join of every line, as turtle() writes: a subject's, "\n" first
    started = bool(head)
    size = 0
    for quads in _subject_quads(plan):
        lines = ["", w.term(quads[0].subject)]
        predicate = None
        for q in quads:
            obj = w.term(q.object)
            if q.predicate == predicate:
                lines[-1] += f" , {obj}"
            else:
                if predicate is not None:
                    lines[-1] += " ;"
                predicate = q.predicate
                pred = "a" if predicate.value == _RDF_TYPE else w.term(predicate)
                lines.append(f"    {pred} {obj}")
        lines[-1] += " ;"
        lines.append(".")
        text = "\n".join(lines)
        parts.append("\n" + text if started else text)
        started = True
        size += len(text)
        if size >= CHUNK_CHARS:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
    parts.append("\n")
    yield "".join(parts).encode("utf-8")


def write_rdfxml(store: Any, out: Any, prefixes: Mapping[str, str] | None = None) -> None:
    """Write to the binary file ``out`` the bytes :func:`export` gives for ``store`` in
    RDF/XML, the triples streamed subject by subject into the serializer."""
    import pyoxigraph

    from cica_ld.progress import NO_PROGRESS

    pref = dict(PREFIXES if prefixes is None else prefixes)
    plan = _default_graph_plan(store, NO_PROGRESS)
    if plan is None or not plan.subjects:
        out.write(export(store, "rdfxml", prefixes=pref))
        return
    used = store_prefixes(store, pref)
    triples = (q.triple for quads in _subject_quads(plan) for q in quads)
    try:
        pyoxigraph.serialize(triples, out, format=pyoxigraph.RdfFormat.RDF_XML, prefixes=used)
    except (ValueError, TypeError) as exc:
        raise InputError(f"cannot write rdfxml: {exc}") from None
