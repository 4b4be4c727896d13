"""Export and conversion: a dataset to JSON-LD, Turtle, N-Triples, N-Quads, TriG or RDF/XML.

Every format is deterministic: the same graph gives the same bytes (blank nodes get their
RDFC-1.0 canonical labels, triples are sorted, prefixes are sorted). Turtle and TriG are
written in the project's house style (prefixes sorted, one subject block per resource,
``a`` first, 4-space indent, the closing ``.`` on its own line). Triple-only formats (Turtle,
N-Triples, RDF/XML) get the union of all graphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cica_ld import namespaces as _namespaces
from cica_ld.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.dataset import LoadedDataset

#: Export format names, in the order the help lists them.
FORMATS: tuple[str, ...] = ("jsonld", "turtle", "ntriples", "nquads", "trig", "rdfxml")
#: Formats that keep named graphs.
QUAD_FORMATS = frozenset({"jsonld", "nquads", "trig"})
#: Output file extension -> format (for ``--output`` without ``--format``).
EXTENSIONS: dict[str, str] = {
    ".jsonld": "jsonld",
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
        if fmt not in FORMATS:
            raise UsageError(
                f"unknown export format {fmt!r}",
                hint=f"use --format with one of: {', '.join(FORMATS)}",
            )
        return fmt
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
        return list(store.quads_for_pattern(None, None, None, None))
    return list(store)


def export(
    data: LoadedDataset | pyoxigraph.Store | Iterable[pyoxigraph.Quad],
    fmt: str = "jsonld",
    *,
    context: str = "url",
    frame: str | Path | Mapping[str, Any] | None = None,
    node_id: str | None = None,
    prefixes: Mapping[str, str] | None = None,
) -> bytes:
    """Serialize ``data`` in ``fmt`` (one of :data:`FORMATS`), deterministically.

    JSON-LD is compacted with the project context (``context``: ``"url"`` or ``"inline"``),
    or framed with ``frame`` (a bundled frame name, a frame file, or a frame object);
    ``node_id`` selects one top-level node of the frame.
    """
    from cica_ld import jsonld

    fmt = format_for_output(None, fmt)
    if fmt != "jsonld" and (frame is not None or node_id is not None):
        raise UsageError("--frame and --id need --format jsonld")
    if node_id is not None and frame is None:
        raise UsageError("--id selects a node of a frame: give --frame too")
    quads = all_quads(data)
    if fmt == "jsonld":
        if frame is not None:
            frame_doc = frame if isinstance(frame, Mapping) else jsonld.load_frame(frame)
            doc = jsonld.frame(quads, frame_doc, context=context, node_id=node_id)
        else:
            doc = jsonld.compact(quads, context=context)
        return jsonld.dumps(doc)
    if context not in jsonld.CONTEXT_MODES:
        raise UsageError(f"unknown context mode {context!r}", hint="use --context url or inline")
    quads = jsonld.stable_quads(quads)
    if fmt not in QUAD_FORMATS:
        quads = _as_triples(quads)
    pref = dict(PREFIXES if prefixes is None else prefixes)
    if fmt == "turtle":
        return turtle(quads, pref).encode("utf-8")
    if fmt == "trig":
        return turtle(quads, pref, trig=True).encode("utf-8")
    return _oxigraph_serialize(quads, fmt, pref)


def _as_triples(quads: list[Any]) -> list[Any]:
    """Quads moved to the default graph (union of graphs), deduplicated, sorted."""
    import pyoxigraph

    from cica_ld.jsonld import quad_sort_key

    if all(isinstance(q.graph_name, pyoxigraph.DefaultGraph) for q in quads):
        return quads
    seen = {pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in quads}
    return sorted(seen, key=quad_sort_key)


def _oxigraph_serialize(quads: list[Any], fmt: str, prefixes: Mapping[str, str]) -> bytes:
    import pyoxigraph

    rdf_format = pyoxigraph.RdfFormat.from_media_type(MEDIA_TYPES[fmt])
    items = quads if fmt == "nquads" else [q.triple for q in quads]
    used = _used_prefixes(quads, prefixes) if fmt == "rdfxml" else None
    try:
        return pyoxigraph.serialize(items, format=rdf_format, prefixes=used)
    except (ValueError, TypeError) as exc:
        raise InputError(f"cannot write {fmt}: {exc}") from None


def _used_prefixes(quads: Iterable[Any], prefixes: Mapping[str, str]) -> dict[str, str]:
    """The prefixes whose namespace starts at least one IRI of the quads."""
    namespaces = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
    used: dict[str, str] = {}
    seen: set[str] = set()
    for q in quads:
        for t in (
            q.subject,
            q.predicate,
            q.object,
            q.graph_name,
            getattr(q.object, "datatype", None),
        ):
            value = getattr(t, "value", None)
            if t is None or value is None or t.__class__.__name__ != "NamedNode" or value in seen:
                continue
            seen.add(value)
            for p, ns in namespaces:
                if value.startswith(ns):
                    used[p] = ns
                    break
    return {p: used[p] for p in sorted(used)}


class _TermWriter:
    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.namespaces = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        self.cache: dict[str, str] = {}

    def iri(self, value: str) -> str:
        out = self.cache.get(value)
        if out is None:
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


def turtle(quads: list[Any], prefixes: Mapping[str, str], *, trig: bool = False) -> str:
    """House-style Turtle (or TriG) for quads sorted by :func:`cica_ld.jsonld.quad_sort_key`."""
    import pyoxigraph

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
