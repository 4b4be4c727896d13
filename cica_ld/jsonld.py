"""JSON-LD: compaction with the project context, framing, reading back, all offline.

The bundled context (``ontology/context.jsonld``, published as :data:`CONTEXT_URL`) and the
bundled frames (``cica_ld/frames/*.jsonld``) travel with the package. The JSON-LD processor
(PyLD) gets a document loader that serves the bundled contexts, and the local copies of remote
contexts a *context map* names (``--context-map URL=FILE``, :func:`load_context_map`), and
refuses every other URL: an input that needs an unknown remote context is an
:class:`~cica_ld.errors.InputError` naming it. Nothing is ever fetched.

Output can use the user's own context instead of the project's (:func:`output_context`: a
context file, or a context URL served from the context map).

Output is deterministic: blank nodes get their RDFC-1.0 canonical labels, subjects and values
are sorted, and :func:`dumps` writes sorted keys, so the same graph gives the same bytes.

PyLD is imported inside the functions that need it (``cica-ld --help`` must stay light).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _encode_string
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cica_ld.errors import InputError, UsageError
from cica_ld.limits import check_json_nesting

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

#: The base IRI of everything the project publishes.
BASE_IRI = "https://w3id.org/cica-ld/"
#: Where the project's JSON-LD context is published (never fetched: it is bundled).
CONTEXT_URL = BASE_IRI + "context.jsonld"
#: ``--context`` modes: reference the context by URL, or inline it into the document.
CONTEXT_MODES: tuple[str, ...] = ("url", "inline")

FRAMES_DIR = Path(__file__).resolve().parent / "frames"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_TYPE = RDF + "type"
_XSD_STRING = XSD + "string"
_RDF_LANGSTRING = RDF + "langString"


# ---------------------------------------------------------------------------------------------
# Bundled documents and the offline document loader
# ---------------------------------------------------------------------------------------------


def context_path() -> Path:
    """The bundled context file (``ontology/context.jsonld`` in a checkout, or in the wheel)."""
    from cica_ld.dataset import bundled_dir

    return bundled_dir("ontology") / "context.jsonld"


@functools.lru_cache(maxsize=1)
def _context_text() -> str:
    return context_path().read_text(encoding="utf-8")


def load_context() -> dict[str, Any]:
    """The project context document (``{"@context": {...}}``), a fresh copy each call."""
    return json.loads(_context_text())


def bundled_documents() -> dict[str, dict[str, Any]]:
    """Every document the loader serves, by URL: the project context (also over http)."""
    ctx = load_context()
    return {CONTEXT_URL: ctx, "http://" + CONTEXT_URL.removeprefix("https://"): ctx}


@functools.lru_cache(maxsize=1)
def _bundled_documents_read_only() -> dict[str, dict[str, Any]]:
    """:func:`bundled_documents` parsed once, for callers that only read them."""
    return bundled_documents()


def served_documents(
    context_map: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """The documents the loader serves: the bundled ones plus ``context_map`` (URL ->
    context document, from :func:`load_context_map`; a mapped URL wins over a bundled one)."""
    docs = bundled_documents()
    if context_map:
        docs.update(context_map)
    return docs


# ---------------------------------------------------------------------------------------------
# Context documents of the user's own: --context-map URL=FILE, --context FILE|URL
# ---------------------------------------------------------------------------------------------

# a URL scheme: two characters at least, so that a Windows drive (C:) stays a file name
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
_MAP_EXAMPLE = "--context-map https://schema.org/=schemaorg-context.jsonld"


def is_url(value: str) -> bool:
    """Whether ``value`` is an absolute URL (has a scheme), not a file name."""
    return bool(_SCHEME.match(value))


def read_context_document(path: str | Path, *, flag: str = "--context") -> dict[str, Any]:
    """A JSON-LD context document (a JSON object with ``@context``) read from a file.

    A missing or unreadable file, invalid JSON, or JSON that is not a context document is an
    :class:`InputError` naming the file (and ``flag``, the option that named it).
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such file (named by {flag})", path=p) from None
    except IsADirectoryError:
        raise InputError(
            f"is a folder, expected a context file (named by {flag})", path=p
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"not UTF-8 text, expected a JSON-LD context ({flag})", path=p) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot read ({flag}): {reason}", path=p) from None
    check_json_nesting(text, path=p)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"JSON syntax error in the context file ({flag}): {exc.msg}",
            path=p,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    if not isinstance(doc, dict) or "@context" not in doc:
        raise InputError(
            f"not a JSON-LD context document ({flag}): expected a JSON object with @context",
            path=p,
        )
    if not isinstance(doc["@context"], (dict, list, str)):
        raise InputError(f"the @context must be an object, an array or a URL ({flag})", path=p)
    return doc


def load_context_map(specs: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    """Parse ``--context-map URL=FILE`` values into URL -> context document.

    The URL is what documents name in ``@context`` (exactly: ``https://schema.org/`` and
    ``https://schema.org`` are two URLs); FILE is a local copy of that context document,
    read now. A spec is split at its last ``=`` (URLs may have ``=`` in their query). A
    malformed spec or a URL mapped twice is a :class:`UsageError`; a bad file an
    :class:`InputError`.
    """
    out: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    for spec in specs or ():
        url, sep, file = spec.rpartition("=")
        if not sep or not url or not file:
            raise UsageError(
                f"--context-map {spec!r}: expected URL=FILE", hint=f"e.g. {_MAP_EXAMPLE}"
            )
        if not is_url(url):
            raise UsageError(
                f"--context-map {spec!r}: {url!r} is not an absolute URL",
                hint=f"e.g. {_MAP_EXAMPLE}",
            )
        if url in files and files[url] != file:
            raise UsageError(f"--context-map: {url} is mapped twice ({files[url]}, {file})")
        files[url] = file
        out[url] = read_context_document(file, flag="--context-map")
    return out


@dataclass(frozen=True)
class OutputContext:
    """The context of JSON-LD output.

    ``ref`` is what the output's ``@context`` says: a URL, a context object (or array), or
    ``{}`` for none (full IRIs). ``documents`` are what the loader serves to resolve it.
    ``mode``: ``"url"`` or ``"inline"`` (the project context), ``"user"`` (``--context``
    FILE or URL), ``"prefixes"`` (a context made of the input's prefixes).
    """

    ref: Any
    mode: str
    documents: Mapping[str, dict[str, Any]] = field(default_factory=bundled_documents)


def output_context(
    context: str, context_map: Mapping[str, dict[str, Any]] | None = None
) -> OutputContext:
    """The :class:`OutputContext` of a ``--context`` value.

    ``"url"`` / ``"inline"``: the project context, by its URL or inlined. A URL: the user's
    context by reference, resolved only through ``context_map`` (or the bundled documents);
    an unmapped URL is a :class:`UsageError` naming it and ``--context-map``. Anything else is
    a file holding a context document, whose ``@context`` is inlined into the output.
    """
    documents = served_documents(context_map)
    if context in CONTEXT_MODES:
        ref = _context_ref(context)
        if isinstance(ref, dict):
            ref = ref["@context"]
        return OutputContext(ref=ref, mode=context, documents=documents)
    if is_url(context):
        if context not in documents:
            raise UsageError(
                f"--context {context}: a remote context, and cica-ld never fetches one",
                hint=f"serve it from a local copy with --context-map {context}=FILE",
            )
        return OutputContext(ref=context, mode="user", documents=documents)
    if not Path(context).exists():
        raise UsageError(
            f"unknown context mode {context!r}: neither url, inline, a URL nor a file",
            hint="use --context url, --context inline, --context FILE or --context URL",
        )
    doc = read_context_document(context, flag="--context")
    return OutputContext(ref=doc["@context"], mode="user", documents=documents)


def prefix_context(prefixes: Mapping[str, str]) -> OutputContext:
    """An :class:`OutputContext` made of prefixes (name -> namespace), exactly those given."""
    return OutputContext(ref=dict(prefixes), mode="prefixes")


class RefusingLoader:
    """A PyLD document loader that serves bundled documents and refuses everything else.

    ``refused`` lists the URLs it was asked for and refused, in order, so the caller can name
    them in an :class:`InputError` (PyLD wraps loader errors in its own).
    """

    def __init__(self, documents: Mapping[str, dict[str, Any]] | None = None) -> None:
        # served as deep copies (below): the bundled ones can be the shared parsed copy
        self.documents = dict(_bundled_documents_read_only() if documents is None else documents)
        self.refused: list[str] = []

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        from pyld.jsonld import JsonLdError

        doc = self.documents.get(url)
        if doc is None:
            self.refused.append(url)
            raise JsonLdError(
                f"refusing to load {url}: cica-ld never fetches remote documents",
                "jsonld.LoadDocumentError",
                {"url": url},
                code="loading document failed",
            )
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": copy.deepcopy(doc),
        }


def _unknown_context_error(url: str, *, path: str | Path | None = None) -> InputError:
    return InputError(
        f"needs the remote @context {url}, which is not bundled (cica-ld never fetches remote "
        "documents)",
        path=path,
        hint=f"serve it from a local copy with --context-map {url}=FILE, or inline it",
    )


def _pyld_call(fn: Callable[..., Any], *args: Any, loader: RefusingLoader, what: str) -> Any:
    """Call a PyLD function; turn its errors into :class:`InputError` (naming refused URLs)."""
    from pyld.jsonld import JsonLdError

    try:
        return fn(*args)
    except JsonLdError as exc:
        if loader.refused:
            raise _unknown_context_error(loader.refused[0]) from None
        raise InputError(f"{what}: {_jsonld_message(exc)}") from None


def _jsonld_message(exc: Exception) -> str:
    parts = []
    seen = 0
    while exc is not None and seen < 5:
        code = getattr(exc, "code", None)
        msg = str(getattr(exc, "message", "") or exc).splitlines()[0]
        parts.append(f"{msg} ({code})" if code else msg)
        exc = getattr(exc, "cause", None)
        seen += 1
    return "; ".join(dict.fromkeys(parts))


# ---------------------------------------------------------------------------------------------
# Reading JSON-LD input: bundled contexts inlined, unknown remote contexts refused
# ---------------------------------------------------------------------------------------------


def resolve_contexts(
    data: bytes, path: str | Path | None = None, *, documents: Mapping[str, Any] | None = None
) -> bytes:
    """A JSON-LD document with every bundled remote context replaced by its content.

    Used by the loader before pyoxigraph parses JSON-LD (pyoxigraph loads no remote context).
    An ``@context`` (or ``@import``) that names any other URL raises :class:`InputError`
    naming the URL, with its line and column. Returns ``data`` unchanged when it references
    no remote context, so parse errors keep their positions.
    """
    try:
        text = data.decode("utf-8")
        check_json_nesting(text, path=path)
        doc = json.loads(text)
    except UnicodeDecodeError:
        return data  # the loader reports invalid UTF-8 itself
    except json.JSONDecodeError as exc:
        raise InputError(
            f"JSON syntax error: {exc.msg}", path=path, line=exc.lineno, column=exc.colno
        ) from None
    served = bundled_documents() if documents is None else dict(documents)
    changed = False
    resolving: list[str] = []

    def contexts(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            ctx = served.get(value)
            if ctx is None:
                line, col = _locate(text, value)
                err = _unknown_context_error(value)
                raise InputError(err.detail, path=path, line=line, column=col, hint=err.hint)
            changed = True
            if value in resolving:  # a context that includes itself
                raise InputError(f"the remote @context {value} includes itself", path=path)
            resolving.append(value)  # a served context may name other remote contexts
            try:
                return contexts(copy.deepcopy(ctx.get("@context", {})))
            finally:
                resolving.pop()
        if isinstance(value, list):
            return [contexts(v) for v in value]
        if isinstance(value, dict):
            out = {}
            imported = None
            for k, v in value.items():
                if k == "@import" and isinstance(v, str):
                    imported = contexts(v)
                    continue
                out[k] = walk(v) if isinstance(v, (dict, list)) else v
            return [imported, out] if imported is not None else out
        return value

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, dict):
            return {k: (contexts(v) if k == "@context" else walk(v)) for k, v in node.items()}
        return node

    resolved = walk(doc)
    if not changed:
        return data
    return json.dumps(resolved, ensure_ascii=False).encode("utf-8")


def _locate(text: str, value: str) -> tuple[int | None, int | None]:
    i = text.find(json.dumps(value)[1:-1])
    if i < 0:
        return None, None
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1)  # the column of the opening quote (1-based)


def to_quads(
    doc: Any, *, base_iri: str | None = None, documents: Mapping[str, Any] | None = None
) -> list[pyoxigraph.Quad]:
    """Read a JSON-LD document (parsed JSON, ``str`` or ``bytes``) into quads with PyLD.

    Only bundled contexts are served; anything else raises :class:`InputError` naming it.
    """
    import pyoxigraph
    from pyld import jsonld

    if isinstance(doc, (bytes, str)):
        check_json_nesting(doc)
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"JSON syntax error: {exc.msg}", line=exc.lineno, column=exc.colno
            ) from None
    loader = RefusingLoader(documents)
    options: dict[str, Any] = {"documentLoader": loader, "format": "application/n-quads"}
    if base_iri:
        options["base"] = base_iri
    nquads = _pyld_call(jsonld.to_rdf, doc, options, loader=loader, what="JSON-LD error")
    return list(pyoxigraph.parse(nquads.encode("utf-8"), format=pyoxigraph.RdfFormat.N_QUADS))


# ---------------------------------------------------------------------------------------------
# From pyoxigraph quads to expanded JSON-LD (deterministic)
# ---------------------------------------------------------------------------------------------


def stable_quads(quads: Iterable[pyoxigraph.Quad]) -> list[pyoxigraph.Quad]:
    """The quads with blank nodes given stable labels (RDFC-1.0 within a work budget, see
    :mod:`cica_ld.blanknodes`), sorted.

    Without blank nodes the quads are only sorted (canonicalization is skipped: it is the
    expensive part).
    """
    import pyoxigraph

    qs = list(quads)
    if any(
        isinstance(q.subject, pyoxigraph.BlankNode)
        or isinstance(q.object, pyoxigraph.BlankNode)
        or isinstance(q.graph_name, pyoxigraph.BlankNode)
        for q in qs
    ):
        from cica_ld.blanknodes import relabel

        qs = relabel(qs)
    qs.sort(key=quad_sort_key)
    return qs


def quad_sort_key(q: pyoxigraph.Quad) -> tuple[str, str, int, str, str]:
    """Sort order for output: graph, subject, rdf:type first, predicate, object."""
    return (
        "" if q.graph_name.__class__.__name__ == "DefaultGraph" else str(q.graph_name),
        str(q.subject),
        0 if q.predicate.value == _RDF_TYPE else 1,
        q.predicate.value,
        str(q.object),
    )


def _node_id(term: Any) -> str:
    import pyoxigraph

    if isinstance(term, pyoxigraph.NamedNode):
        return term.value
    if isinstance(term, pyoxigraph.BlankNode):
        return "_:" + term.value
    raise InputError(
        f"JSON-LD cannot express this RDF term: {term} (RDF 1.2 triple terms are not supported)"
    )


def _object_value(term: Any) -> dict[str, str]:
    import pyoxigraph

    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            if getattr(term, "direction", None):
                raise InputError(f"JSON-LD export does not support directional literals: {term}")
            return {"@value": term.value, "@language": term.language}
        dt = term.datatype.value
        if dt == _XSD_STRING:
            return {"@value": term.value}
        return {"@value": term.value, "@type": dt}
    return {"@id": _node_id(term)}


def expand_quads(quads: Iterable[pyoxigraph.Quad]) -> list[dict[str, Any]]:
    """Expanded JSON-LD for quads, like JSON-LD's RDF-to-object conversion (``fromRdf``).

    ``rdf:type`` becomes ``@type``; literals become value objects (xsd:string without
    ``@type``; no native JSON numbers or booleans, so nothing is lost); named graphs become
    ``@graph`` of their graph node. RDF lists are kept as ``rdf:first``/``rdf:rest`` triples
    (the same graph). Pass :func:`stable_quads` output for deterministic order.
    """
    import pyoxigraph

    graphs: dict[str, dict[str, dict[str, Any]]] = {}
    for q in quads:
        g = "" if isinstance(q.graph_name, pyoxigraph.DefaultGraph) else _node_id(q.graph_name)
        nodes = graphs.get(g)
        if nodes is None:
            nodes = graphs[g] = {}
        s = _node_id(q.subject)
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": s}
        p = q.predicate.value
        o = q.object
        if p == _RDF_TYPE and not isinstance(o, pyoxigraph.Literal):
            types = node.get("@type")
            if types is None:
                node["@type"] = [_node_id(o)]
            elif _node_id(o) not in types:
                types.append(_node_id(o))
            continue
        values = node.get(p)
        if values is None:
            node[p] = [_object_value(o)]
        else:
            values.append(_object_value(o))
    default = graphs.pop("", {})
    for g in sorted(graphs):
        graph_node = default.get(g)
        if graph_node is None:
            graph_node = default[g] = {"@id": g}
        graph_node["@graph"] = [graphs[g][s] for s in sorted(graphs[g])]
    return [default[s] for s in sorted(default)]


# ---------------------------------------------------------------------------------------------
# Compaction and framing
# ---------------------------------------------------------------------------------------------


class _NotSimple(Exception):
    """The context or the input uses a feature :class:`SimpleCompactor` does not handle."""


_GEN_DELIMS = tuple(":/?#[]@")
_TERM_KEYS = frozenset({"@id", "@type", "@language", "@reverse", "@protected", "@container"})


def _is_set_container(d: Mapping[str, Any]) -> bool:
    """Whether a term definition has ``@container: @set`` (``_NotSimple`` for any other)."""
    container = d.get("@container")
    if container is None:
        return False
    if container == "@set" or container == ["@set"]:
        return True
    raise _NotSimple(f"container {container}")


class SimpleCompactor:
    """JSON-LD compaction for flat, RDF-derived input and a *simple* context, fast.

    A simple context has prefixes, keyword aliases, at most one term per IRI, terms with
    ``@type`` (``@id`` or a datatype) or ``@language`` coercion, ``@container: @set`` (on a
    term or on the ``@type`` alias: the value is always an array), reverse terms, a default
    ``@language`` and optionally ``@vocab``: no other containers, scoped contexts, ``@nest``,
    ``@base`` or ``@import``. Values may be embedded node objects
    (:func:`embed_labels`), compacted as nodes. For such a context and the output of
    :func:`expand_quads` it gives exactly what the JSON-LD 1.1 compaction algorithm (PyLD)
    gives, up to the order of keys and arrays (the tests compare the two); anything else
    raises ``_NotSimple`` so the caller falls back to PyLD. ``compact_arrays=False`` gives
    every property value as an array (``@type`` stays a string for one type, as in PyLD).
    """

    def __init__(self, ctx: Mapping[str, Any], *, compact_arrays: bool = True) -> None:
        self.default_language: str | None = None
        self.vocab: str | None = None
        self.compact_arrays = compact_arrays
        self.type_set = False
        raw: dict[str, Any] = {}
        aliases: dict[str, list[str]] = {"@id": [], "@type": []}
        for key, value in ctx.items():
            if isinstance(value, dict) and value.get("@id") in ("@id", "@type"):
                if set(value) - {"@id", "@container", "@protected"}:
                    raise _NotSimple(key)
                if _is_set_container(value):
                    if value["@id"] != "@type":
                        raise _NotSimple(key)
                    self.type_set = True
                aliases[value["@id"]].append(key)
                continue
            if key == "@language":
                if value is not None and (not isinstance(value, str) or value != value.lower()):
                    raise _NotSimple(key)
                self.default_language = value
            elif key == "@vocab":
                if not isinstance(value, str) or ":" not in value:
                    raise _NotSimple(key)
                self.vocab = value
            elif key in ("@version", "@protected"):
                continue
            elif key.startswith("@"):
                raise _NotSimple(key)
            elif value in ("@id", "@type"):
                aliases[value].append(key)
            elif isinstance(value, (str, dict)):
                raw[key] = value
            else:
                raise _NotSimple(key)
        if any(len(v) > 1 for v in aliases.values()):
            raise _NotSimple("several aliases for one keyword")
        self.id_key = (aliases["@id"] or ["@id"])[0]
        self.type_key = (aliases["@type"] or ["@type"])[0]
        self.prefixes: list[tuple[str, str]] = []
        self.terms: dict[str, dict[str, Any]] = {}
        by_iri: dict[str, str] = {}
        for term, value in raw.items():
            d = {"@id": value} if isinstance(value, str) else dict(value)
            if set(d) - _TERM_KEYS or ":" in term:
                raise _NotSimple(term)
            if "@reverse" in d:
                continue  # never selected for RDF-derived input (no @reverse in it)
            iri = self._expand(d.get("@id"), raw)
            if not iri or iri.startswith("@"):
                raise _NotSimple(term)
            if iri in by_iri:
                raise _NotSimple(f"two terms for {iri}")
            by_iri[iri] = term
            coercion = d.get("@type")
            if coercion is not None:
                if coercion == "@vocab" or "@language" in d:
                    raise _NotSimple(term)
                coercion = coercion if coercion == "@id" else self._expand(coercion, raw)
            self.terms[term] = {
                "iri": iri,
                "type": coercion,
                "has_language": "@language" in d,
                "language": d.get("@language"),
                "set": _is_set_container(d),
            }
            if isinstance(value, str) and iri.endswith(_GEN_DELIMS):
                self.prefixes.append((term, iri))
        self.by_iri = by_iri
        self._cache: dict[tuple[str, bool, bool], str] = {}

    @staticmethod
    def _expand(value: Any, raw: Mapping[str, Any]) -> str | None:
        if not isinstance(value, str):
            return None
        if value.startswith("@"):
            return value
        prefix, sep, suffix = value.partition(":")
        if sep and not suffix.startswith("//") and prefix in raw:
            ns = raw[prefix]
            ns = ns if isinstance(ns, str) else ns.get("@id")
            if isinstance(ns, str) and ":" in ns:
                return ns + suffix
        if sep:
            return value
        raise _NotSimple(f"relative IRI {value}")

    def iri(self, iri: str, *, vocab: bool, terms: bool = True) -> str:
        """Compact ``iri`` (``terms=False``: a property whose values no term matched)."""
        key = (iri, vocab, terms)
        out = self._cache.get(key)
        if out is None:
            if len(self._cache) >= _COMPACTOR_CACHE_LIMIT:  # bounded: a publish compacts
                self._cache.clear()  # every IRI of the data with one compactor
            out = self._cache[key] = self._compact_iri(iri, vocab, terms)
        return out

    def _compact_iri(self, iri: str, vocab: bool, terms: bool) -> str:
        if vocab and terms:
            term = self.by_iri.get(iri)
            if term is not None:
                d = self.terms[term]
                # PyLD/jsonld.js select for a null value as for a node reference
                if d["type"] == "@id" or (d["type"] is None and not d["has_language"]):
                    return term
        if vocab and self.vocab and iri.startswith(self.vocab) and len(iri) > len(self.vocab):
            suffix = iri[len(self.vocab) :]
            if suffix not in self.terms:
                return suffix
        best: str | None = None
        for name, ns in self.prefixes:
            if iri.startswith(ns) and iri != ns:
                candidate = f"{name}:{iri[len(ns) :]}"
                if candidate in self.terms:
                    continue
                if best is None or (len(candidate), candidate) < (len(best), best):
                    best = candidate
        return best or iri

    def _select(self, prop: str, value: dict[str, Any]) -> dict[str, Any] | None:
        term = self.by_iri.get(prop)
        if term is None:
            return None
        d = self.terms[term]
        if "@id" in value:
            ok = d["type"] == "@id" or (d["type"] is None and not d["has_language"])
        elif "@type" in value:
            ok = d["type"] == value["@type"] or (d["type"] is None and not d["has_language"])
        elif "@language" in value:
            ok = d["type"] is None and (
                not d["has_language"] or d["language"] == value["@language"].lower()
            )
        else:
            ok = d["type"] is None and (not d["has_language"] or d["language"] is None)
        return {"term": term, **d} if ok else None

    def _value(self, d: dict[str, Any] | None, value: dict[str, Any]) -> Any:
        if "@id" in value and len(value) > 1:  # an embedded node object
            return self.node(value)
        if "@id" in value:
            ref = self.iri(value["@id"], vocab=False)
            return ref if d is not None and d["type"] == "@id" else {self.id_key: ref}
        if "@type" in value:
            if d is not None and d["type"] == value["@type"]:
                return value["@value"]
            return {"@value": value["@value"], self.type_key: self.iri(value["@type"], vocab=True)}
        language = d["language"] if d is not None and d["has_language"] else self.default_language
        if "@language" in value:
            if language is not None and value["@language"].lower() == language:
                return value["@value"]
            return {"@value": value["@value"], "@language": value["@language"]}
        if language is None:
            return value["@value"]
        return {"@value": value["@value"]}

    def node(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, values in node.items():
            if key == "@id":
                out[self.id_key] = self.iri(values, vocab=False)
            elif key == "@type":
                types = [self.iri(t, vocab=True) for t in values]
                # compactArrays does not apply to @type (the JSON-LD API): only @set does
                out[self.type_key] = types[0] if len(types) == 1 and not self.type_set else types
            elif key == "@graph":
                out["@graph"] = [self.node(n) for n in values]
            elif key.startswith("@"):
                raise _NotSimple(key)
            else:
                for value in values:
                    if "@language" in value and value["@language"] != value["@language"].lower():
                        raise _NotSimple("language tag in upper case")
                    d = self._select(key, value)
                    name = d["term"] if d is not None else self.iri(key, vocab=True, terms=False)
                    if name in (self.id_key, self.type_key) or name.startswith("@"):
                        raise _NotSimple(name)
                    compacted = self._value(d, value)
                    if name in out:
                        prev = out[name]
                        out[name] = (
                            [*prev, compacted] if isinstance(prev, list) else [prev, compacted]
                        )
                    elif (d is not None and d["set"]) or not self.compact_arrays:
                        out[name] = [compacted]
                    else:
                        out[name] = compacted
        return out


#: The IRIs a :class:`SimpleCompactor` keeps compacted (emptied past it).
_COMPACTOR_CACHE_LIMIT = 50_000


@functools.lru_cache(maxsize=8)
def _simple_compactor(ctx_json: str, compact_arrays: bool = True) -> SimpleCompactor | None:
    try:
        return SimpleCompactor(json.loads(ctx_json), compact_arrays=compact_arrays)
    except _NotSimple:
        return None


def compact_expanded(
    expanded: list[dict[str, Any]],
    ctx: Any,
    *,
    engine: str = "auto",
    documents: Mapping[str, dict[str, Any]] | None = None,
    compact_arrays: bool = True,
) -> dict[str, Any]:
    """Compact expanded JSON-LD (from :func:`expand_quads`) with ``ctx`` (a URL or an object).

    ``engine``: ``"auto"`` (the fast :class:`SimpleCompactor` when the context allows it, else
    PyLD), ``"pyld"`` or ``"fast"`` (fails if the context is not simple). The result always
    has ``@graph``, and no ``@context`` when ``ctx`` is empty. ``documents``: what the loader
    serves (default: the bundled documents). ``compact_arrays=False``: every value is an
    array (for a context without terms, where no ``@container: @set`` can say so).
    """
    from pyld import jsonld

    loader = RefusingLoader(documents)
    if engine != "pyld":
        inner = _inner_context(ctx, loader)
        compactor = (
            _simple_compactor(json.dumps(inner, sort_keys=True), compact_arrays)
            if inner is not None
            else None
        )
        if compactor is not None:
            try:
                nodes = [compactor.node(n) for n in expanded]
                return {"@graph": nodes} if ctx == {} else {"@context": ctx, "@graph": nodes}
            except _NotSimple:
                if engine == "fast":
                    raise InputError("the input needs the full JSON-LD compaction") from None
        elif engine == "fast":
            raise InputError("the context is not simple enough for the fast compactor")
    options = {
        "documentLoader": loader,
        "skipExpansion": True,
        "base": None,
        "compactArrays": compact_arrays,
    }
    doc = _pyld_call(jsonld.compact, expanded, ctx, options, loader=loader, what="compaction")
    return _with_graph(doc)


def _inner_context(ctx: Any, loader: RefusingLoader) -> dict[str, Any] | None:
    """The context as one object (a URL is resolved by the bundled loader), or None."""
    if isinstance(ctx, str):
        doc = loader.documents.get(ctx)
        if doc is None:
            raise _unknown_context_error(ctx)
        ctx = doc.get("@context")
    elif isinstance(ctx, dict) and "@context" in ctx:
        ctx = ctx["@context"]
    return ctx if isinstance(ctx, dict) else None


def _context_ref(context: str) -> Any:
    if context == "url":
        return CONTEXT_URL
    if context == "inline":
        return load_context()
    raise InputError(
        f"unknown context mode {context!r}", hint=f"use --context {' or '.join(CONTEXT_MODES)}"
    )


def compact(
    quads: Iterable[pyoxigraph.Quad],
    *,
    context: str | OutputContext = "url",
    engine: str = "auto",
) -> dict[str, Any]:
    """The quads as one compacted JSON-LD document.

    ``context`` is ``"url"`` (``"@context": CONTEXT_URL``) or ``"inline"`` (the project
    context object itself), or an :class:`OutputContext` (:func:`output_context`: the
    user's). The nodes are always under ``@graph``. ``engine`` as in :func:`compact_expanded`.
    """
    out = output_context(context) if isinstance(context, str) else context
    expanded = expand_quads(stable_quads(quads))
    return compact_expanded(expanded, out.ref, engine=engine, documents=out.documents)


def _with_graph(doc: dict[str, Any]) -> dict[str, Any]:
    """``{"@context": c, "@graph": [...]}`` whether compaction produced @graph or one node."""
    if "@graph" in doc and set(doc) <= {"@context", "@graph"}:
        return doc
    ctx = doc.pop("@context", None)
    out: dict[str, Any] = {} if ctx is None else {"@context": ctx}
    out["@graph"] = [doc] if doc else []
    return out


def frame_names() -> list[str]:
    """The names of the bundled frames (``cica_ld/frames/NAME.jsonld``), sorted."""
    return sorted(p.stem for p in FRAMES_DIR.glob("*.jsonld"))


def load_frame(name_or_path: str | Path) -> dict[str, Any]:
    """A bundled frame by name, or a frame file; bad JSON is an :class:`InputError`."""
    candidate = FRAMES_DIR / f"{name_or_path}.jsonld"
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and "/" not in name_or_path and candidate.is_file():
        path = candidate
    elif not path.is_file():
        raise InputError(
            f"unknown frame {str(name_or_path)!r}: neither a bundled frame nor a file",
            hint=f"use --frame with one of: {', '.join(frame_names())}, or a frame file",
        )
    try:
        frame_text = path.read_text(encoding="utf-8")
        check_json_nesting(frame_text, path=path)
        frame = json.loads(frame_text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"JSON syntax error: {exc.msg}", path=path, line=exc.lineno, column=exc.colno
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read frame: {exc}", path=path) from None
    if not isinstance(frame, dict):
        raise InputError("a frame must be a JSON object", path=path)
    return frame


def frame(
    quads: Iterable[pyoxigraph.Quad],
    frame_doc: Mapping[str, Any],
    *,
    context: str | OutputContext = "url",
    node_id: str | None = None,
    context_map: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The quads framed by ``frame_doc`` (JSON-LD 1.1 framing with PyLD).

    The frame is read with its own ``@context``. With ``context="inline"`` a frame whose
    ``@context`` is the project context URL gets the context object instead; with a user
    :class:`OutputContext` the framed tree is compacted again with that context (the
    frame's own context still says what the frame means). ``node_id`` restricts the
    top-level matches to one node (a full IRI, or a compact IRI of the frame's context or
    the user's); the result is then that node object, not a ``@graph``. A ``node_id`` that
    is no subject of the quads is an :class:`InputError` naming it. Defaults:
    ``@omitDefault`` (no nulls for absent properties), ``@graph`` always present when more
    than one node may match. ``context_map`` serves remote contexts the frame names.
    """
    from pyld import jsonld

    fr = copy.deepcopy(dict(frame_doc))
    ctx = fr.get("@context")
    user = None
    if isinstance(context, OutputContext):
        if context.mode in CONTEXT_MODES:
            context = context.mode
        else:
            user = context
    if user is not None:
        documents = {**served_documents(context_map), **user.documents}
    else:
        documents = served_documents(context_map)
        if context == "inline":
            fr["@context"] = _inline_context_refs(ctx)
        elif context != "url":
            _context_ref(context)  # raises the usage error
    stable = stable_quads(quads)
    loader = RefusingLoader(documents)
    if node_id is not None:
        scope = (
            [ctx, user.ref]
            if user is not None and ctx is not None
            else (user.ref if user is not None else ctx)
        )
        fr["@id"] = _check_subject(node_id, scope, stable, loader)
    expanded = expand_quads(stable)
    options = {
        "documentLoader": loader,
        "omitDefault": True,
        "omitGraph": node_id is not None,
        "base": None,
    }
    out = _pyld_call(jsonld.frame, expanded, fr, options, loader=loader, what="framing")
    if user is None or out.get("@context") == user.ref:
        return out
    # the framed tree is read with the frame's context and compacted with the user's
    options = {"documentLoader": loader, "base": None, "graph": node_id is None}
    return _pyld_call(jsonld.compact, out, user.ref, options, loader=loader, what="compaction")


def _check_subject(
    node_id: str, ctx: Any, quads: list[pyoxigraph.Quad], loader: RefusingLoader
) -> str:
    """``node_id`` expanded with ``ctx`` (a compact IRI becomes an IRI); an
    :class:`InputError` naming it when it is no subject of ``quads``."""
    from pyld import jsonld

    iri = node_id
    if not node_id.startswith("_:"):
        probe = {"@id": node_id, "urn:cica-ld:probe": "x"}
        if ctx is not None:
            probe["@context"] = ctx
        options = {"documentLoader": loader, "base": None}
        expanded = _pyld_call(jsonld.expand, probe, options, loader=loader, what="--id")
        iri = expanded[0]["@id"] if expanded else node_id
    if not any(_node_id(q.subject) == iri for q in quads):
        named = node_id if iri == node_id else f"{node_id} ({iri})"
        raise InputError(
            f"--id {named} is not a subject in the data: nothing to frame",
            hint="give the IRI of a node the data describes",
        )
    return iri


def _inline_context_refs(ctx: Any) -> Any:
    if isinstance(ctx, str) and ctx in bundled_documents():
        return bundled_documents()[ctx]["@context"]
    if isinstance(ctx, list):
        return [_inline_context_refs(c) for c in ctx]
    return ctx


# ---------------------------------------------------------------------------------------------
# Stand-alone documents: references framed with their label, the context inlined and pruned
# ---------------------------------------------------------------------------------------------

#: The properties that name a node: a reference shows the node's values of these beside its IRI.
LABEL_PROPERTIES: frozenset[str] = frozenset(
    {
        "http://www.w3.org/2004/02/skos/core#prefLabel",
        "http://www.w3.org/2000/01/rdf-schema#label",
        "http://purl.org/dc/terms/title",
        "http://xmlns.com/foaf/0.1/name",
        "https://schema.org/name",
    }
)


def embed_labels(expanded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Expanded JSON-LD (from :func:`expand_quads`) with references framed with their label.

    A *label node* is a top-level node that has nothing but labels (:data:`LABEL_PROPERTIES`).
    Every reference to one (``{"@id": X}``, in any node of the default graph) becomes a copy
    of it (``{"@id": X, label: ...}``) and the label node leaves the top level (it stays there
    if nothing refers to it). The graph is the same: a node described in two places is one
    node, and its triples are a set.
    """
    labels = {n["@id"]: n for n in expanded if len(n) > 1 and set(n) - {"@id"} <= LABEL_PROPERTIES}
    if not labels:
        return expanded
    used: set[str] = set()
    out = []
    for node in expanded:
        if node["@id"] in labels:
            out.append(node)
            continue
        framed: dict[str, Any] = {}
        for key, values in node.items():
            if key.startswith("@"):
                framed[key] = values
                continue
            framed[key] = []
            for v in values:
                target = labels.get(v["@id"]) if set(v) == {"@id"} else None
                if target is None:
                    framed[key].append(v)
                else:
                    used.add(v["@id"])
                    # a copy (a label node is its @id and lists of value objects of
                    # strings, from expand_quads: two levels deep; deepcopy costs more)
                    framed[key].append(
                        {k: w if k == "@id" else [dict(x) for x in w] for k, w in target.items()}
                    )
        out.append(framed)
    return [n for n in out if n["@id"] not in used]


def prune_context(doc: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the context object ``ctx`` that the compacted ``doc`` uses: its keyword
    settings (``@language``, ``@version``...), the terms it names (keys, types, values) and
    the prefixes of its compact IRIs and of those terms' definitions. ``doc`` compacted with
    ``ctx`` reads back, with the pruned context, to the same graph (the tests check it)."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k != "@context":
                    names.add(k)
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            names.add(value)

    walk(doc)
    keep: dict[str, Any] = {k: v for k, v in ctx.items() if k.startswith("@")}
    todo = list(names)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        prefix, sep, rest = name.partition(":")
        if sep and not rest.startswith("//") and prefix in ctx:
            todo.append(prefix)
        if name not in ctx or name.startswith("@"):
            continue
        definition = ctx[name]
        keep[name] = definition
        parts = definition.values() if isinstance(definition, dict) else [definition]
        todo.extend(p for p in parts if isinstance(p, str))
    return {k: keep[k] for k in ctx if k in keep}


def standalone_document(
    quads: Iterable[pyoxigraph.Quad],
    ctx: Mapping[str, Any] | None = None,
    *,
    compact_arrays: bool = True,
    framed: bool = True,
    prune: bool = True,
    stable: bool = False,
) -> dict[str, Any]:
    """A JSON-LD document that needs nothing else: its context inlined (``ctx``, default the
    project context's object; with ``prune``, only what the document uses); with ``framed``,
    its references framed with their label (:func:`embed_labels`). ``compact_arrays`` as in
    :func:`compact_expanded`; ``stable``: the quads are :func:`stable_quads` output already."""
    full = load_context()["@context"] if ctx is None else dict(ctx)
    expanded = expand_quads(quads if stable else stable_quads(quads))
    if framed:
        expanded = embed_labels(expanded)
    doc = compact_expanded(expanded, full, compact_arrays=compact_arrays)
    if "@context" in doc:
        doc["@context"] = prune_context(doc, full) if prune else full
    return doc


# ---------------------------------------------------------------------------------------------
# Deterministic serialization
# ---------------------------------------------------------------------------------------------

_ORDERED_KEYS = frozenset({"@list", "@context"})


def canonical_order(
    doc: Any,
    *,
    ordered: frozenset[str] = frozenset(),
    documents: Mapping[str, dict[str, Any]] | None = None,
) -> Any:
    """A copy of a JSON-LD document in canonical order.

    Object keys: ``@context``, then ``@id`` and ``@type`` (or their aliases), then the rest
    sorted. Arrays: ``@graph`` and other arrays of node objects sorted by ``@id``, other
    arrays by their canonical JSON text; ``@list`` and ``@context`` arrays, and those of the
    ``ordered`` keys (terms with ``@container: @list``), keep their order. ``documents``
    resolve a context URL for its keyword aliases (default: the bundled documents).
    """
    id_keys, type_keys = _keyword_aliases(doc, documents)
    first = ("@context", *id_keys, *type_keys)
    return _order(doc, None, ordered | _ORDERED_KEYS, id_keys, first)


def _keyword_aliases(
    doc: Any, documents: Mapping[str, dict[str, Any]] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids, types = ["@id"], ["@type"]
    ctx = doc.get("@context") if isinstance(doc, dict) else None
    served = _bundled_documents_read_only() if documents is None else documents
    for c in ctx if isinstance(ctx, list) else [ctx]:
        if isinstance(c, str) and isinstance(served.get(c), dict):
            c = served[c].get("@context")
        if isinstance(c, dict):
            ids += sorted(k for k, v in c.items() if _alias_of(v) == "@id")
            types += sorted(k for k, v in c.items() if _alias_of(v) == "@type")
    return tuple(ids), tuple(types)


def _alias_of(definition: Any) -> Any:
    """The keyword a term definition aliases (``"@id"``, ``{"@id": "@type", ...}``), if any."""
    if isinstance(definition, dict):
        return definition.get("@id") if "@reverse" not in definition else None
    return definition


def _order(
    value: Any,
    key: str | None,
    ordered: frozenset[str],
    id_keys: tuple[str, ...],
    first: tuple[str, ...],
) -> Any:
    if isinstance(value, dict):
        keys = [k for k in first if k in value] + sorted(k for k in value if k not in first)
        out = {}
        for k in keys:
            v = value[k]
            # (a string, number or null is itself: not a call for each)
            if k != "@context" and v.__class__ not in _SCALARS:
                v = _order(v, k, ordered, id_keys, first)
            out[k] = v
        return out
    if isinstance(value, list):
        items = [
            v if v.__class__ in _SCALARS else _order(v, None, ordered, id_keys, first)
            for v in value
        ]
        if key in ordered or len(items) < 2:
            return items
        ids = [_id_of(v, id_keys) for v in items]
        if None not in ids and len(set(ids)) == len(ids):
            # node objects with distinct ids: the id decides (as in _sort_key), no JSON text
            return [v for _, v in sorted(zip(ids, items, strict=True), key=lambda p: p[0])]
        return sorted(items, key=lambda v: _sort_key(v, id_keys))
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _id_of(value: Any, id_keys: tuple[str, ...]) -> str | None:
    """The id :func:`_sort_key` sorts a node object by (None: not one with an id)."""
    if isinstance(value, dict):
        for k in id_keys:
            if isinstance(value.get(k), str):
                return value[k]
    return None


def _sort_key(value: Any, id_keys: tuple[str, ...]) -> tuple[int, str, str]:
    if isinstance(value, dict):
        for k in id_keys:
            if isinstance(value.get(k), str):
                return (0, value[k], json.dumps(value, sort_keys=True, ensure_ascii=False))
        return (1, "", json.dumps(value, sort_keys=True, ensure_ascii=False))
    return (2, "", json.dumps(value, sort_keys=True, ensure_ascii=False))


def dumps(
    doc: Any,
    *,
    ordered: frozenset[str] = frozenset(),
    documents: Mapping[str, dict[str, Any]] | None = None,
) -> bytes:
    """Deterministic JSON text: :func:`canonical_order`, 2-space indent, UTF-8."""
    ordered_doc = canonical_order(doc, ordered=ordered, documents=documents)
    import orjson  # the same text as json.dumps(indent=2, ensure_ascii=False), ~10x faster

    try:
        return orjson.dumps(ordered_doc, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:  # what orjson does not write (an integer past 64 bits): json does
        text = json.dumps(ordered_doc, indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Streaming: one node object at a time, the same bytes as dumps(compact(...))
# ---------------------------------------------------------------------------------------------

#: The compactor's IRI cache is emptied when it grows past this (subject IRIs rarely repeat).
_STREAM_CACHE_LIMIT = 200_000
#: The indentation of a node object inside ``"@graph": [...]`` at ``indent=2``.
_NODE_INDENT = "    "


class CompactNodeWriter:
    """Compacted JSON-LD, written one node object at a time.

    For the quads of the default graph, ``head`` + the :meth:`render` of each subject's
    quads, sorted by :meth:`sort_key` and joined by ``",\\n"``, + ``tail`` are the bytes
    :func:`dumps` gives for :func:`compact` of all the quads (with blank nodes already
    canonical), without ever building the whole document. ``context`` as in :func:`compact`.
    Raises ``ValueError`` when the context is not one :class:`SimpleCompactor` handles (then
    use :func:`compact`).
    """

    def __init__(
        self, context: str | OutputContext = "url", *, compact_arrays: bool = True
    ) -> None:
        self._compact_arrays = compact_arrays
        out = output_context(context) if isinstance(context, str) else context
        ctx = out.ref
        inner = _inner_context(ctx, RefusingLoader(out.documents))
        try:
            self._compactor = SimpleCompactor(inner) if inner is not None else None
        except _NotSimple:
            self._compactor = None
        if self._compactor is None:
            raise ValueError("the context is not simple enough to stream")
        skeleton: dict[str, Any] = {"@graph": []} if ctx == {} else {"@context": ctx, "@graph": []}
        self._id_keys, type_keys = _keyword_aliases(skeleton, out.documents)
        self._first = ("@context", *self._id_keys, *type_keys)
        self._keys = frozenset((*self._id_keys, *type_keys))
        if self._compactor.id_key not in self._id_keys:  # pragma: no cover - by construction
            raise ValueError("the context's @id alias is not known")
        marker = "\x00cica-ld node\x00"
        skeleton["@graph"] = [marker]
        text = json.dumps(canonical_order(skeleton), indent=2, ensure_ascii=False)
        placeholder = _NODE_INDENT + json.dumps(marker)
        head, sep, tail = text.partition(placeholder)
        if not sep:  # pragma: no cover - json.dumps always writes the marker so
            raise ValueError("cannot find the node position in the document skeleton")
        self.head = head
        self.tail = tail + "\n"

    def sort_key(self, subject: pyoxigraph.NamedNode | pyoxigraph.BlankNode) -> str:
        """The compacted ``@id`` of a subject: the order of node objects in ``@graph``.

        :func:`canonical_order` sorts node objects by their ``@id`` first; when two subjects
        share a compacted ``@id`` (only possible for IRIs that look like compact IRIs), the
        order needs the whole node, and the caller must not stream.
        """
        return self._compactor.iri(_node_id(subject), vocab=False)

    def render(self, quads: list[pyoxigraph.Quad]) -> str:
        """One subject's node object, as it stands inside the whole document (indented).

        ``quads`` are all the quads of one subject in the default graph, blank nodes
        canonical. Raises ``ValueError`` if the compactor meets a feature it does not handle
        (the whole document then needs :func:`compact`).
        """
        compactor = self._compactor
        if len(compactor._cache) > _STREAM_CACHE_LIMIT:
            compactor._cache.clear()
        # no need to sort the quads: canonical_order sorts every array of the node
        (node,) = expand_quads(quads)
        try:
            compacted = compactor.node(node)
        except _NotSimple as exc:
            raise ValueError(f"the node needs the full JSON-LD compaction: {exc}") from None
        if not self._compact_arrays:  # every property's value an array (as compactArrays false)
            keys = self._keys
            compacted = {
                k: v if isinstance(v, list) or k in keys or k.startswith("@") else [v]
                for k, v in compacted.items()
            }
        ordered = _order(compacted, None, _ORDERED_KEYS, self._id_keys, self._first)
        return _NODE_INDENT + _dumps_indented(ordered, _NODE_INDENT)


def _dumps_indented(value: Any, indent: str) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` for a value nested at ``indent``.

    The standard library's encoder is pure Python as soon as ``indent`` is given; this does
    the same for the strings, objects and arrays of a node object with the C string encoder
    (anything else goes through ``json.dumps``).
    """
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + "  "
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)
            items.append(f"{inner}{_encode_string(k)}: {_dumps_indented(v, inner)}")
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        inner = indent + "  "
        items = [inner + _dumps_indented(v, inner) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)
