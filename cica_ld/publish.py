"""Publishing: a static linked-data site for every resource under the base IRI.

:func:`build_site` renders, from a store holding the vocabulary and the data (as
:func:`cica_ld.dataset.load` returns it), a dict of files:

* for every IRI under the base IRI (``https://w3id.org/cica-ld/id/kazakhstan`` ->
  ``id/kazakhstan``): an HTML page for people (label, description, memberships, a table of
  properties with links, incoming links, the sources cited, and the resource's JSON-LD embedded
  with schema.org terms beside ORG) and documents for machines (``.ttl``, ``.jsonld``, ``.nt``:
  the resource's concise bounded description);
* ``index.html``; ``ontology.html`` (+ ``.ttl``/``.jsonld``/``.nt``/``.rdf``: the vocabulary
  with each class and property, its label, definition and usage count); ``shapes.html`` (+
  documents); ``dataset.html`` (+ documents: the DCAT and VoID description with counts and the
  Wikidata linkset); ``dumps/`` (the whole dataset in four formats); ``context.jsonld``;
* ``.htaccess`` and ``nginx.conf`` (content negotiation), ``sitemap.xml``, ``robots.txt``,
  ``.nojekyll``, ``404.html``, ``style.css``.

Links between pages are relative, so the site works under any path and from a local folder.
``base_url`` (``--base-url``) is where the site is hosted: it sets the absolute URLs the site
states about itself (canonical links, sitemap, download URLs in the dataset description). The
identifiers (IRIs) never change. Output is deterministic: no timestamps, everything sorted.

That is the embedded CICA dataset's site (:data:`CICA_SITE`). A site of the user's data
(:func:`user_site`, what ``publish --data`` builds) has only the user's triples: no vocabulary
or shapes pages unless given, no ``context.jsonld``, its base IRI given or inferred
(:func:`infer_base_iri`), its title, description, licence and dump names from the data or the
options, and no CICA name in any file.

The per-resource functions (:func:`resource_graph`, :func:`render_resource_html`,
:func:`render_index_html`, :func:`dataset_description`) take a store and are what
``cica-ld serve`` uses to answer one request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import posixpath
import re
import shutil
import stat
import tempfile
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cica_ld import __version__, dates, io, vocabularies
from cica_ld.dcat_ap import AVAILABILITY, PUBLISHER_TYPE, Publication
from cica_ld.errors import InputError, UsageError
from cica_ld.jsonld import BASE_IRI

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.progress import Progress

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
TIME = "http://www.w3.org/2006/time#"
SH = "http://www.w3.org/ns/shacl#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SCHEMA = "https://schema.org/"
VANN = "http://purl.org/vocab/vann/"
WIKIDATA = "http://www.wikidata.org/entity/"
CICA = BASE_IRI + "ontology#"

RDF_TYPE = RDF + "type"
#: Site documents that are not resources (a resource IRI mapping to one of them gets no page).
RESERVED = frozenset(
    {
        "index",
        "404",
        "dataset",
        "ontology",
        "shapes",
        "search",
        "context",
        "dumps",
        "sitemap",
        "robots",
        "style",
        "nginx",
        "w3id",
    }
)
#: Formats of the per-resource documents: suffix -> export format.
RESOURCE_DOCS = {".ttl": "turtle", ".jsonld": "jsonld", ".nt": "ntriples", ".rdf": "rdfxml"}
#: The full dumps: file name -> export format.
DUMPS = {
    "cica-ld.ttl": "turtle",
    "cica-ld.nt": "ntriples",
    "cica-ld.jsonld": "jsonld",
    "cica-ld.rdf": "rdfxml",
}
DEFAULT_TITLE = "CICA knowledge graph"
DEFAULT_DESCRIPTION = (
    "A linked-data knowledge graph about the Conference on Interaction and Confidence-Building "
    "Measures in Asia (CICA): its member, observer and partner states and organisations with "
    "dated W3C ORG memberships, the chair terms, summits and ministerial meetings with what they "
    "adopted, the Secretariat, and every fact derived from a cited source."
)

#: What the CICA site says about its dataset (schema.org keywords and creator).
CICA_KEYWORDS = ("CICA", "Asia", "intergovernmental organisation", "W3C ORG", "linked data")
CICA_CREATOR = "cica-ld developers"
#: What the project, as the CICA site's publisher, states of its dataset for DCAT-AP (its own
#: statements, not CICA facts; ``publish --availability`` and ``--publisher-type`` replace
#: them): the dumps' planned availability is EXPERIMENTAL (the EU table's "available for an
#: experimental period": the vocabulary is at version 0.1.0 and the dumps change with every
#: release), and the publisher, the "cica-ld developers", are private individuals (ADMS
#: PrivateIndividual(s): no company, authority or registered organisation publishes it).
CICA_PUBLICATION = Publication(
    availability=AVAILABILITY + "EXPERIMENTAL",
    publisher_type=PUBLISHER_TYPE + "PrivateIndividual(s)",
)


@dataclass(frozen=True)
class SiteInfo:
    """What a site says about itself and its dataset.

    :data:`CICA_SITE` is the embedded CICA dataset's site: its title and description, dumps
    named ``cica-ld.*``, the project's JSON-LD context (``context.jsonld``, and the JSON-LD
    documents compacted with it), its schema.org keywords and creator, and cica-ld credited
    in every page. A site of the user's data (:func:`user_site`) has none of
    that: its title, description, licence, publisher and keywords come from the data (or
    the options), its JSON-LD documents use a context of standard prefixes only.
    """

    title: str = "Linked data"
    description: str = ""
    #: The dumps are ``dumps/<name>.ttl`` (``.nt``, ``.jsonld``, ``.rdf``).
    name: str = "cica-ld"
    #: The embedded CICA site (project context, keywords, creator, "cica-ld" in the pages).
    cica: bool = False
    license: str | None = None
    publisher: str | None = None
    keywords: tuple[str, ...] = ()
    #: The language tags of ``title`` and of ``description`` (None: plain literals).
    language: str | None = None
    description_language: str | None = None
    #: The documentation pages the site has of its own: ``ontology`` (the vocabulary) and
    #: ``shapes`` (:func:`build_site` sets them from what it is given).
    documented: frozenset[str] = frozenset()
    #: What the publisher states beyond the data (DCAT-AP dates, availability, types,
    #: geometry of the spatial coverage): the publish options, on the CICA site over
    #: :data:`CICA_PUBLICATION`.
    publication: Publication = field(default_factory=Publication)

    def dumps(self) -> dict[str, str]:
        """The dump files: name -> export format."""
        return {f"{self.name}{suffix}": fmt for suffix, fmt in _DUMP_SUFFIXES.items()}

    def reserved(self, rel: str, *, vocabulary: bool = False, shapes: bool = False) -> bool:
        """Whether the site path ``rel`` is taken by the site's own documents (a resource
        there gets no page). On the CICA site: every path whose first segment is one of
        :data:`RESERVED`. On a site of the user's data only what would clash with a file the
        site writes: a path that is one of those names (``ontology`` and ``shapes`` only when
        the site has those pages, never ``context``), ``dumps/...`` and ``index/...`` (the
        index documents), and ``ontology/...`` and ``shapes/...`` (the version documents of
        the vocabulary and shapes); so ``dataset/bus-stops`` gets its page."""
        first = rel.split("/", 1)[0]
        if self.cica:
            return first in RESERVED
        names = RESERVED - {"context"}
        names -= set() if vocabulary else {"ontology"}
        names -= set() if shapes else {"shapes"}
        return (
            rel in names
            or first in ("dumps", "index")
            or (vocabulary and first == "ontology")
            or (shapes and first == "shapes")
        )


_DUMP_SUFFIXES = {".ttl": "turtle", ".nt": "ntriples", ".jsonld": "jsonld", ".rdf": "rdfxml"}
#: The formats of the dumps, each a ``dcat:Distribution`` of the dataset.
DUMP_FORMATS: tuple[str, ...] = tuple(_DUMP_SUFFIXES.values())

#: The embedded CICA dataset's site.
CICA_SITE = SiteInfo(
    title=DEFAULT_TITLE,
    description=DEFAULT_DESCRIPTION,
    name="cica-ld",
    cica=True,
    keywords=CICA_KEYWORDS,
    language="en",
    description_language="en",
    documented=frozenset({"ontology", "shapes"}),
    publication=CICA_PUBLICATION,
)

_SEGMENT = re.compile(r"^[A-Za-z0-9_~][A-Za-z0-9._~-]*$")
#: The longest path segment that gets a page: file systems take names of 255 bytes at most,
#: and a page's files add an extension (``.jsonld``) and, while written, a temporary suffix.
#: A longer one is skipped with a warning naming its IRI, like any other unsafe name.
MAX_SEGMENT = 200
_LABEL_PROPS = (SKOS + "prefLabel", RDFS + "label", DCT + "title", FOAF + "name", SCHEMA + "name")
_DESCRIPTION_PROPS = (SKOS + "definition", DCT + "description", RDFS + "comment")
_DATE_PROPS = (
    TIME + "inXSDDate",
    TIME + "inXSDgYearMonth",
    TIME + "inXSDgYear",
    TIME + "inXSDDateTimeStamp",
    TIME + "inXSDDateTime",
)


# ---------------------------------------------------------------------------------------------
# IRIs, paths and links
# ---------------------------------------------------------------------------------------------


def normalize_base(url: str, *, option: str = "--base-url") -> str:
    """``url`` with a trailing slash; a :class:`UsageError` naming ``option`` unless it is an
    http(s) URL."""
    hint = f"give {option} like https://example.org/data/"
    if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", url or ""):
        raise UsageError(f"not an http(s) URL: {url!r}", hint=hint)
    import urllib.parse

    import pyoxigraph

    try:  # what the pages and the server later parse: a bad host, port or %-escape
        parts = urllib.parse.urlsplit(url)
        _ = parts.port, parts.hostname
        pyoxigraph.NamedNode(url)
        url.encode("utf-8")
    except (ValueError, UnicodeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(f"not a valid http(s) URL: {url!r} ({reason})", hint=hint) from None
    return url if url.endswith("/") else url + "/"


def resource_path(iri: str, base_iri: str = BASE_IRI) -> str | None:
    """The site path (without extension) of the document describing ``iri``, or None.

    ``https://w3id.org/cica-ld/id/kazakhstan`` -> ``id/kazakhstan``; a hash IRI maps to the
    document of the IRI before ``#``; the base IRI itself to ``index``. None for IRIs outside
    the base or whose path cannot be a safe file name.
    """
    doc = iri.split("#", 1)[0]
    if not doc.startswith(base_iri):
        return None
    rel = doc[len(base_iri) :]
    if rel == "":
        return "index"
    parts = rel.split("/")
    if all(_SEGMENT.match(p) and p not in (".", "..") and len(p) <= MAX_SEGMENT for p in parts):
        return rel
    return None


def _fragment(iri: str) -> str:
    return iri.split("#", 1)[1] if "#" in iri else ""


def infer_base_iri(store: pyoxigraph.Store) -> str:
    """The base IRI of the user's data when ``--base-iri`` is not given: of the http(s) IRIs
    that are subjects, those on the most common host (scheme and authority; ties: the
    alphabetically first), and their longest common prefix that ends with ``/``. So
    ``http://example.org/people/alice`` and ``http://example.org/org/acme`` give
    ``http://example.org/``; a lone ``http://example.org/ns#Thing`` gives
    ``http://example.org/``. A :class:`UsageError` naming ``--base-iri`` when no subject is
    an http(s) IRI."""
    import pyoxigraph

    by_host: dict[str, set[str]] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        s = q.subject
        if isinstance(s, pyoxigraph.NamedNode):
            found = re.match(r"^https?://[^/?#\s]+", s.value)
            if found:
                by_host.setdefault(found.group(0), set()).add(s.value.split("#", 1)[0])
    if not by_host:
        raise UsageError(
            "cannot tell the base IRI of the data: no subject is an http(s) IRI",
            hint="name the IRI prefix the pages are made for with --base-iri",
        )
    host = min(by_host, key=lambda h: (-len(by_host[h]), h))
    iris = sorted(by_host[host])
    first, last = iris[0], iris[-1]  # sorted: their common prefix is everyone's
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    common = first[:n]
    cut = common.rfind("/")
    return common[: cut + 1] if cut >= len(host) else host + "/"


def default_name(paths: Sequence[str | Path] | None, title: str) -> str:
    """The dumps' name for the user's data: the stem of the one data file or folder named,
    else a slug of ``title``."""
    if paths is not None and len(paths) == 1:
        stem = Path(paths[0]).resolve().stem
        slug = re.sub(r"[^A-Za-z0-9._~-]+", "-", stem).strip("-.")
        if slug and _SEGMENT.match(slug):
            return slug
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "dataset"


#: Classes whose instance in the user's data is the dataset itself, in order of preference.
_DATASET_CLASSES = (
    DCAT + "Catalog",
    VOID + "Dataset",
    DCAT + "Dataset",
    SCHEMA + "Dataset",
    "http://schema.org/Dataset",
)


def user_site(
    store: pyoxigraph.Store,
    paths: Sequence[str | Path] | None = None,
    *,
    title: str | None = None,
    name: str | None = None,
) -> SiteInfo:
    """The :class:`SiteInfo` of a site of the user's data: title ``title``, else the title or
    label of the dataset the data describes (a ``dcat:Catalog``, ``void:Dataset``,
    ``dcat:Dataset`` or ``schema:Dataset`` in it; one that no other dataset lists as its
    ``dcat:dataset`` or ``void:subset`` first), else the stem of the data file; its
    description, licence, publisher and keywords from the same node if it states them;
    dumps named ``name``, else :func:`default_name`."""
    g = _Graph(store)
    node = _dataset_node(g)
    found = _best_literal(g, node, _LABEL_PROPS) if node else None
    fallback = Path(paths[0]).resolve().stem if paths else "Linked data"
    chosen = title or (found.value if found is not None else fallback)
    described = _best_literal(g, node, _DESCRIPTION_PROPS) if node else None
    # the language of the data's own title (and description) where it has one
    language = found.language if found is not None and not title else None
    if name is not None:
        _check_name(name)

    def iri(prop: str) -> str | None:
        if node is None:
            return None
        vals = [o.value for o in g.objects(node, prop) if isinstance(o, g.ox.NamedNode)]
        return vals[0] if vals else None

    keywords: tuple[str, ...] = ()
    if node is not None:
        words = {o.value for o in g.objects(node, DCAT + "keyword") if isinstance(o, g.ox.Literal)}
        words |= {
            o.value for o in g.objects(node, SCHEMA + "keywords") if isinstance(o, g.ox.Literal)
        }
        keywords = tuple(sorted(words))
    return SiteInfo(
        title=chosen,
        description=described.value if described is not None else "",
        name=name or default_name(paths, chosen),
        cica=False,
        license=iri(DCT + "license") or iri(SCHEMA + "license"),
        publisher=iri(DCT + "publisher") or iri(SCHEMA + "publisher"),
        keywords=keywords,
        language=language,
        description_language=described.language if described is not None else None,
    )


def _best_literal(g: _Graph, node: str, props: Sequence[str]) -> Any:
    """The literal :meth:`_Graph.literal` picks (the term itself, with its language)."""
    for p in props:
        lits = [o for o in g.objects(node, p) if isinstance(o, g.ox.Literal)]
        if lits:
            return sorted(lits, key=lambda x: (_lang_rank(x.language), x.value))[0]
    return None


def _check_name(name: str) -> None:
    """A :class:`UsageError` naming ``--name`` unless ``name`` can name the dump files."""
    if not (_SEGMENT.match(name) and name not in (".", "..")):
        raise UsageError(
            f"not a file name for the dumps: {name!r}",
            hint="give --name letters, digits, '.', '_', '-' or '~' (e.g. --name my-data)",
        )


def _dataset_node(g: _Graph) -> str | None:
    """The IRI of the dataset the data describes itself as (see :func:`user_site`)."""
    listed = {
        o.value
        for p in (DCAT + "dataset", VOID + "subset")
        for q in g.store.quads_for_pattern(None, g.nn(p), None, None)
        for o in [q.object]
        if isinstance(o, g.ox.NamedNode)
    }
    for cls in _DATASET_CLASSES:
        nodes = [s.value for s in g.subjects(RDF_TYPE, cls) if isinstance(s, g.ox.NamedNode)]
        if nodes:
            return min(nodes, key=lambda n: (n in listed, n))
    return None


class _Graph:
    """Read helpers over a pyoxigraph store (all graphs), with label and date caches."""

    def __init__(self, store: pyoxigraph.Store, base_iri: str = BASE_IRI) -> None:
        import pyoxigraph

        self.ox = pyoxigraph
        self.store = store
        self.base_iri = base_iri
        self._labels: dict[str, str | None] = {}
        self._spans: dict[Any, Any] = {}  # node -> dates.Span (the dates pages show)
        self._temporal: dict[Any, bool] = {}  # node -> is a W3C Time instant or interval
        self._described: dict[str, list[Any]] = {}  # the last few resource_graph()s
        # (IRI, page folder, site pages) -> the link from a page in that folder (_Page.href)
        self._hrefs: dict[tuple[str, str, frozenset[str] | None], str | None] = {}
        self._schema_nodes: dict[Any, list[Any]] = {}  # node -> its schema.org types, name

    def described(self, iri: str) -> list[Any]:
        """:func:`resource_graph` of ``iri``, kept for the few resources last asked for (a
        resource's page and its documents ask for it three times)."""
        found = self._described.get(iri)
        if found is None:
            if len(self._described) >= 8:
                self._described.clear()
            found = self._described[iri] = resource_graph(self.store, iri)
        return found

    def nn(self, iri: str) -> Any:
        return self.ox.NamedNode(iri)

    def bound_caches(self, limit: int) -> None:
        """Empty the caches once they hold more than ``limit`` nodes (memory stays bounded
        when one graph renders many pages)."""
        if (
            len(self._labels) + len(self._spans) + len(self._temporal) + len(self._schema_nodes)
            > limit
        ):
            self._labels.clear()
            self._spans.clear()
            self._temporal.clear()
            self._schema_nodes.clear()
        self._described.clear()

    def objects(self, s: Any, p: str) -> list[Any]:
        subject = self.nn(s) if isinstance(s, str) else s
        found = {q.object for q in self.store.quads_for_pattern(subject, self.nn(p), None, None)}
        # (most properties have one value or none: nothing to sort)
        return list(found) if len(found) < 2 else sorted(found, key=_term_key)

    def subjects(self, p: str, o: Any) -> list[Any]:
        obj = self.nn(o) if isinstance(o, str) else o
        found = {q.subject for q in self.store.quads_for_pattern(None, self.nn(p), obj, None)}
        return list(found) if len(found) < 2 else sorted(found, key=_term_key)

    def out(self, s: Any) -> list[Any]:
        subject = self.nn(s) if isinstance(s, str) else s
        return list(self.store.quads_for_pattern(subject, None, None, None))

    def incoming(self, o: Any) -> list[Any]:
        obj = self.nn(o) if isinstance(o, str) else o
        return list(self.store.quads_for_pattern(None, None, obj, None))

    def types(self, s: Any) -> list[str]:
        return [t.value for t in self.objects(s, RDF_TYPE) if isinstance(t, self.ox.NamedNode)]

    def literal(self, s: Any, props: Sequence[str]) -> str | None:
        """The best literal of the first property that has one: English, then untagged."""
        for p in props:
            lits = [o for o in self.objects(s, p) if isinstance(o, self.ox.Literal)]
            if lits:
                return sorted(lits, key=lambda x: (_lang_rank(x.language), x.value))[0].value
        return None

    def label(self, iri: str) -> str | None:
        if iri not in self._labels:
            self._labels[iri] = self.literal(iri, _LABEL_PROPS)
        return self._labels[iri]

    def description(self, iri: str) -> str | None:
        return self.literal(iri, _DESCRIPTION_PROPS)

    def date(self, instant: Any) -> str | None:
        """The date of a W3C Time instant; for an uncertain instant, its window in words."""
        for p in _DATE_PROPS:
            for o in self.objects(instant, p):
                if isinstance(o, self.ox.Literal):
                    return o.value
        windows = self.subjects(TIME + "inside", instant)
        texts = []
        for w in windows:
            lo = self._bound(w, TIME + "hasBeginning")
            hi = self._bound(w, TIME + "hasEnd")
            if lo and hi:
                texts.append(f"between {lo} and {hi}")
            elif hi:
                texts.append(f"by {hi}")
            elif lo:
                texts.append(f"from {lo}")
        return " and ".join(texts) or None

    def _bound(self, window: Any, p: str) -> str | None:
        for b in self.objects(window, p):
            for dp in _DATE_PROPS:
                for o in self.objects(b, dp):
                    return o.value
        return None

    def when(self, node: Any) -> tuple[str | None, str | None]:
        """(begin, end) dates of an interval, or (date, None) of an instant."""
        begins = self.objects(node, TIME + "hasBeginning")
        ends = self.objects(node, TIME + "hasEnd")
        if begins or ends:
            return (
                self.date(begins[0]) if begins else None,
                self.date(ends[0]) if ends else None,
            )
        return self.date(node), None


def _lang_rank(lang: str | None) -> int:
    return 0 if lang == "en" else 1 if not lang else 2


_KIND_ORDER = {"NamedNode": 0, "BlankNode": 1, "Literal": 2}


def _term_key(t: Any) -> tuple[int, str, str]:
    kind = t.__class__.__name__
    if kind == "NamedNode":  # the most frequent, first
        return 0, t.value, ""
    if kind == "Literal":
        return 2, t.value, f"{t.datatype.value}@{t.language or ''}"
    return _KIND_ORDER.get(kind, 3), getattr(t, "value", str(t)), ""


# ---------------------------------------------------------------------------------------------
# Resource graphs (concise bounded descriptions)
# ---------------------------------------------------------------------------------------------


def resource_graph(store: pyoxigraph.Store, iri: str) -> list[pyoxigraph.Triple]:
    """The concise bounded description of ``iri``: its triples, and those of the blank nodes
    they reach (recursively), sorted. For the document of a hash namespace (an IRI ``X`` with
    subjects ``X#...``) use :func:`document_graph`."""
    import pyoxigraph

    seen: set[Any] = set()
    todo = [pyoxigraph.NamedNode(iri)]
    out: set[Any] = set()
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        for q in store.quads_for_pattern(s, None, None, None):
            out.add(pyoxigraph.Triple(q.subject, q.predicate, q.object))
            if isinstance(q.object, pyoxigraph.BlankNode):
                todo.append(q.object)
    return sorted(out, key=_triple_key)


def _triple_key(t: Any) -> tuple[Any, ...]:
    return (
        _term_key(t.subject),
        t.predicate.value != RDF_TYPE,
        t.predicate.value,
        _term_key(t.object),
    )


def document_graph(
    store: pyoxigraph.Store,
    doc_iri: str,
    subjects: Iterable[str],
    *,
    incoming: bool = True,
    limit: int | None = None,
    more: str | None = None,
    g: _Graph | None = None,
) -> list[Any]:
    """The union of the descriptions of ``subjects`` (the resources one document describes),
    and (``incoming``) the links to them with their subjects' labels (:func:`incoming_graph`,
    at most ``limit`` links, ``more`` naming where the rest are). ``g``: a :class:`_Graph` of
    ``store`` whose descriptions to reuse."""
    subjects = list(subjects) or [doc_iri]
    out: set[Any] = set()
    for s in subjects:
        out.update(
            g.described(s) if g is not None and g.store is store else resource_graph(store, s)
        )
    if incoming:
        out.update(
            incoming_graph(
                store, subjects, limit=MAX_INCOMING if limit is None else limit, more=more
            )
        )
    return sorted(out, key=_triple_key)


#: At most this many incoming links (triples ``?s ?p <iri>``) go into a resource's documents
#: (``cica-ld publish`` and ``cica-ld serve``): a hub such as a class every resource is typed
#: with would otherwise carry the dataset. Past it, the document links (``rdfs:seeAlso``) to
#: where the rest are: the N-Triples dump (publish) or a SPARQL CONSTRUCT URL (serve).
MAX_INCOMING = 1000
#: Labels copied for the subjects of incoming links (the first one present, every language):
#: the same order as everywhere on the site, so a document names a resource one way.
INCOMING_LABEL_PROPS = _LABEL_PROPS


def incoming_graph(
    store: pyoxigraph.Store,
    iris: Iterable[str],
    *,
    limit: int = MAX_INCOMING,
    more: str | None = None,
) -> list[pyoxigraph.Triple]:
    """The links to ``iris`` that a crawler can follow back, as Pubby and LodView show them:
    every triple ``?s ?p <iri>`` whose subject is an IRI other than the ``iris`` themselves
    (links from blank nodes belong to their owner's description), and the labels of those
    subjects (``skos:prefLabel``, ``rdfs:label``, ``dcterms:title``, ``foaf:name``,
    ``schema:name``: each value of the first that the subject has).

    At most ``limit`` links (taken in the store's index order, which depends only on the
    data, so the result is the same on every run); when there are more and ``more`` is given,
    the triple ``<iri> rdfs:seeAlso <more>`` says where the rest are."""
    import pyoxigraph

    own = [pyoxigraph.NamedNode(i) for i in dict.fromkeys(iris)]
    mine = set(own)
    links: set[Any] = set()
    truncated = False
    for node in own:
        for q in store.quads_for_pattern(None, None, node, None):
            if not isinstance(q.subject, pyoxigraph.NamedNode) or q.subject in mine:
                continue
            t = pyoxigraph.Triple(q.subject, q.predicate, q.object)
            if t in links:
                continue
            if len(links) >= limit:
                truncated = True
                break
            links.add(t)
        if truncated:
            break
    out = set(links)
    for s in {t.subject for t in links}:
        out.update(_label_triples(store, s))
    if truncated and more is not None:
        out.add(
            pyoxigraph.Triple(
                own[0], pyoxigraph.NamedNode(RDFS + "seeAlso"), pyoxigraph.NamedNode(more)
            )
        )
    return sorted(out, key=_triple_key)


def _label_triples(store: pyoxigraph.Store, s: Any) -> list[pyoxigraph.Triple]:
    """The label triples of ``s`` as written: every literal of the first of
    :data:`INCOMING_LABEL_PROPS` it has."""
    import pyoxigraph

    for p in INCOMING_LABEL_PROPS:
        labels = [
            pyoxigraph.Triple(q.subject, q.predicate, q.object)
            for q in store.quads_for_pattern(s, pyoxigraph.NamedNode(p), None, None)
            if isinstance(q.object, pyoxigraph.Literal)
        ]
        if labels:
            return labels
    return []


#: Resources listed by each of the site's index documents (``index/1``, ``index/2``, ...).
INDEX_PAGE_SIZE = 1000
HYDRA = "http://www.w3.org/ns/hydra/core#"


def _hydra_collection(base_iri: str, pages: Sequence[Sequence[str]]) -> list[Any]:
    """The Hydra collection of the resources the index documents list, ``<base>#resources``:
    a ``hydra:Collection`` with its ``hydra:totalItems``."""
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    coll = nn(base_iri + "#resources")
    total = pyoxigraph.Literal(
        str(sum(len(p) for p in pages)), datatype=nn(XSD + "nonNegativeInteger")
    )
    return [
        pyoxigraph.Triple(coll, nn(RDF_TYPE), nn(HYDRA + "Collection")),
        pyoxigraph.Triple(coll, nn(HYDRA + "totalItems"), total),
    ]


def index_documents(
    store: pyoxigraph.Store,
    base_iri: str = BASE_IRI,
    *,
    site: SiteInfo = CICA_SITE,
    page_size: int | None = None,
    docs: Mapping[str, list[str]] | None = None,
) -> list[list[str]]:
    """The resources the root document lists, in pages of ``page_size``: every IRI under
    ``base_iri`` with a document of its own (as :func:`site_resources` finds them, without
    the site's own documents and hash IRIs, whose document is listed by its own IRI), sorted.
    It reads the whole store (seconds at a million triples): compute it once and pass it as
    ``listing`` to :func:`index_graph`, :func:`index_page_graph` and
    :func:`render_index_page_html`. ``docs``: :func:`site_resources` if already found."""
    page_size = INDEX_PAGE_SIZE if page_size is None else page_size
    docs = site_resources(store, base_iri) if docs is None else docs
    vocabulary, shapes = "ontology" in site.documented, "shapes" in site.documented
    listed = sorted(
        base_iri + rel
        for rel in docs
        if rel != "index" and not site.reserved(rel, vocabulary=vocabulary, shapes=shapes)
    )
    return [listed[i : i + page_size] for i in range(0, len(listed), page_size)]


def index_graph(
    store: pyoxigraph.Store,
    base_iri: str = BASE_IRI,
    *,
    site: SiteInfo = CICA_SITE,
    page_size: int | None = None,
    listing: Sequence[Sequence[str]] | None = None,
) -> list[pyoxigraph.Triple]:
    """What the root document (the base IRI: ``index.ttl``, ``/`` of ``cica-ld serve``) adds
    to the dataset description so that a crawler reaches every resource: the dataset
    ``rdfs:seeAlso`` each index document ``<base>index/N`` (see :func:`index_page_graph`),
    and the vocabulary and shapes documents when the site has them; and, for Hydra clients,
    the collection of those resources (:func:`_hydra_collection`) with its first page as
    ``hydra:view``."""
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    ds = nn(base_iri + "dataset")
    see = nn(RDFS + "seeAlso")
    out = [pyoxigraph.Triple(nn(base_iri), see, ds)]
    pages = (
        listing
        if listing is not None
        else index_documents(store, base_iri, site=site, page_size=page_size)
    )
    for n in range(1, len(pages) + 1):
        out.append(pyoxigraph.Triple(ds, see, nn(f"{base_iri}index/{n}")))
    out.extend(_hydra_collection(base_iri, pages))
    if pages:
        first = nn(f"{base_iri}index/1")
        out.append(pyoxigraph.Triple(nn(base_iri + "#resources"), nn(HYDRA + "view"), first))
    for name in sorted(site.documented):
        out.append(pyoxigraph.Triple(ds, see, nn(base_iri + name)))
    return sorted(set(out), key=_triple_key)


def index_page_graph(
    store: pyoxigraph.Store,
    base_iri: str,
    n: int,
    *,
    site: SiteInfo = CICA_SITE,
    page_size: int | None = None,
    listing: Sequence[Sequence[str]] | None = None,
) -> list[pyoxigraph.Triple] | None:
    """Index document ``<base>index/N`` (N from 1): it is ``dcterms:isPartOf`` the dataset,
    ``rdfs:seeAlso`` each resource of its page, with the resource's labels as written (see
    :func:`_label_triples`); and in Hydra's terms, a ``hydra:PartialCollectionView`` of the
    collection (:func:`_hydra_collection`) whose ``hydra:member`` are those resources, with
    ``hydra:first``, ``hydra:last``, ``hydra:previous`` and ``hydra:next`` to the other index
    documents. None past the last page."""
    import pyoxigraph

    pages = (
        listing
        if listing is not None
        else index_documents(store, base_iri, site=site, page_size=page_size)
    )
    if not 1 <= n <= len(pages):
        return None
    nn = pyoxigraph.NamedNode
    doc = nn(f"{base_iri}index/{n}")
    see = nn(RDFS + "seeAlso")
    out = [pyoxigraph.Triple(doc, nn(DCT + "isPartOf"), nn(base_iri + "dataset"))]
    coll = nn(base_iri + "#resources")
    out.extend(_hydra_collection(base_iri, pages))
    out.append(pyoxigraph.Triple(coll, nn(HYDRA + "view"), doc))
    out.append(pyoxigraph.Triple(doc, nn(RDF_TYPE), nn(HYDRA + "PartialCollectionView")))
    links = {"first": 1, "last": len(pages), "previous": n - 1, "next": n + 1}
    for rel, m in links.items():
        if 1 <= m <= len(pages):
            out.append(pyoxigraph.Triple(doc, nn(HYDRA + rel), nn(f"{base_iri}index/{m}")))
    for iri in pages[n - 1]:
        out.append(pyoxigraph.Triple(doc, see, nn(iri)))
        out.append(pyoxigraph.Triple(coll, nn(HYDRA + "member"), nn(iri)))
        out.extend(_label_triples(store, nn(iri)))
    return sorted(set(out), key=_triple_key)


def with_reference_labels(store: pyoxigraph.Store, triples: Sequence[Any]) -> list[Any]:
    """``triples`` plus the labels of the IRIs they refer to (objects that are no subject of
    ``triples``; not classes): for each, its values of the first of the label properties
    (``skos:prefLabel``, ``rdfs:label``, ``dcterms:title``, ``foaf:name``, ``schema:name``)
    it has. So a document names what it links to, and its JSON-LD frames each reference with
    its label (:func:`cica_ld.jsonld.embed_labels`)."""
    import pyoxigraph

    subjects = {t.subject for t in triples}
    out = set(triples)
    done: set[Any] = set()
    for t in triples:
        o = t.object
        if (
            not isinstance(o, pyoxigraph.NamedNode)
            or t.predicate.value == RDF_TYPE
            or o in subjects
            or o in done
        ):
            continue
        done.add(o)
        out.update(_label_triples(store, o))
    return sorted(out, key=_triple_key)


def _quads(triples: Sequence[Any]) -> list[Any]:
    import pyoxigraph

    return [pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples]


def export_document(
    quads: Sequence[Any],
    fmt: str,
    *,
    site: SiteInfo | None = None,
    whole: bool = False,
    stable: bool = False,
    used: Mapping[str, str] | None = None,
) -> bytes:
    """``quads`` in ``fmt``. JSON-LD stands alone (no remote context, so any loader reads it
    offline): on the CICA site (or ``site`` None) compacted with the CICA context, inlined
    (pruned to the terms the document uses); else with a context of the standard prefixes the
    quads use, and every value an array (no term can be declared a set there). A document
    frames each reference to a labelled node with its label; ``whole`` (the dumps): flat,
    the whole context inlined. JSON-LD only: ``stable``, the quads are
    :func:`cica_ld.jsonld.stable_quads` output already; ``used``, the prefixes of
    :data:`cica_ld.export.PREFIXES` they use, if known."""
    from cica_ld import export, jsonld

    if fmt != "jsonld":
        return export.export(quads, fmt)
    if site is None or site.cica:
        doc = jsonld.standalone_document(quads, framed=not whole, prune=not whole, stable=stable)
        return jsonld.dumps(doc)
    if used is None:
        used = export._used_prefixes(quads, export.PREFIXES)
    ctx = {p: ns for p, ns in used.items() if not ns.startswith(BASE_IRI)}
    doc = jsonld.standalone_document(
        quads, ctx, compact_arrays=False, framed=not whole, prune=False, stable=stable
    )
    return jsonld.dumps(doc)


# ---------------------------------------------------------------------------------------------
# Templates and view models
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    """The templates' environment. The page parts rendered most are Python functions, globals
    of every template: ``term(v)`` and ``terms(vs)`` (:func:`_term_html`), a link titled with
    its IRI, then its date and note; ``property_table(rows)`` and ``membership_table(groups,
    other_heading)``, a resource's properties and memberships as tables;
    ``machine_readable(docs, jsonld)``, a page's links to its documents and its JSON-LD."""
    import jinja2

    class Environment(jinja2.Environment):
        # the page views are dicts: ``row.property`` looks the key up first (Jinja tries the
        # attribute first, and the AttributeError it catches for every dict key costs more
        # than the rest of the lookup); no template asks a dict for one of its methods
        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

    env = Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # the templates are the package's: not looked at again each page
    )
    env.filters["compact"] = compact
    env.globals["term"] = _term_html
    env.globals["terms"] = _terms_html
    env.globals["property_table"] = _property_table_html
    env.globals["membership_table"] = _membership_table_html
    env.globals["machine_readable"] = _machine_readable_html
    return env


def _view(v: Any, key: str) -> Any:
    return v[key] if isinstance(v, dict) else getattr(v, key)


def _term_html(v: Any) -> Any:
    """A term view (:meth:`_Page.link`) as HTML: its text, a link where it has an ``href``
    (titled with its IRI), its date and its note. What the ``term`` macro wrote, without
    Jinja's macro call per value."""
    values = [_view(v, k) for k in _TERM_KEYS]
    # the classes too: a Markup value (a date's HTML) is equal to the str it is not escaped as
    key = (*values, *[x.__class__ for x in values])
    out = _TERM_HTML.get(key)
    if out is None:
        if len(_TERM_HTML) >= _TERM_HTML_LIMIT:
            _TERM_HTML.clear()
        out = _TERM_HTML[key] = _term_html_of(*values)
    return out


#: What a term view's HTML depends on, and the HTML of those seen (the same links are on
#: page after page: a page's properties, types, sources); bounded.
_TERM_KEYS = ("href", "text", "iri", "date", "note")
_TERM_HTML: dict[tuple[Any, ...], Any] = {}
_TERM_HTML_LIMIT = 8192


def _term_html_of(href: Any, text: Any, iri: Any, date: Any, note: Any) -> Any:
    from markupsafe import Markup, escape

    text = escape(text)
    if href:
        title = f' title="{escape(iri)}"' if iri else ""
        out = f'<a href="{escape(href)}"{title}>{text}</a>'
    else:
        out = str(text)
    if date:
        out += f' <span class="date">{escape(date)}</span>'
    if note:
        out += f' <span class="note">{escape(note)}</span>'
    return Markup(out)


def _terms_html(vs: Iterable[Any]) -> Any:
    """Term views as HTML, joined by ", "."""
    from markupsafe import Markup

    return Markup(", ".join(_term_html(v) for v in vs))


def _property_table_html(rows: Sequence[Any]) -> Any:
    """A resource's properties as an HTML table: a row for each property, a list item for
    each value, a blank node's own rows nested in its item. What the ``property_table`` macro
    wrote (a page's hottest template part after the links), without a macro call per
    table."""
    from markupsafe import Markup

    out = [
        '<table class="properties">\n<thead><tr><th>Property</th><th>Value</th></tr></thead>\n'
        "<tbody>\n"
    ]
    for row in rows:
        out.append(
            f'<tr>\n<td class="property">{_term_html(_view(row, "property"))}</td>\n'
            '<td class="value">\n<ul class="values">\n'
        )
        for v in _view(row, "objects"):
            nested = _view(v, "nested")
            inner = _property_table_html(nested) if nested else ""
            out.append(f"<li>{_term_html(v)}{inner}</li>\n")
        out.append("</ul>\n</td>\n</tr>\n")
    out.append("</tbody>\n</table>\n")
    return Markup("".join(out))


def _membership_table_html(groups: Sequence[Any], other_heading: str) -> Any:
    """Memberships grouped by role as HTML tables (``other_heading``: the column of the other
    side, "Who" or "In"). What the ``membership_table`` macro wrote."""
    from markupsafe import Markup, escape

    heading = escape(other_heading)
    out = []
    for group in groups:
        rows = _view(group, "rows")
        out.append(
            f'<h3>{escape(_view(group, "role"))} <span class="count">({len(rows)})</span></h3>\n'
            f'<table class="memberships">\n<thead><tr><th>{heading}</th><th>From</th>'
            "<th>To</th><th>Membership</th><th>Sources</th></tr></thead>\n<tbody>\n"
        )
        for r in rows:
            posts = _view(r, "posts")
            note = f' <span class="note">({_terms_html(posts)})</span>' if posts else ""
            out.append(
                f'<tr>\n<td data-label="{heading}">{_terms_html(_view(r, "others"))}{note}</td>\n'
                f'<td class="date" data-label="From">{escape(_view(r, "from"))}</td>\n'
                f'<td class="date" data-label="To">{escape(_view(r, "to"))}</td>\n'
                f'<td data-label="Membership">{_term_html(_view(r, "membership"))}</td>\n'
                f'<td data-label="Sources">{_terms_html(_view(r, "sources"))}</td>\n</tr>\n'
            )
        out.append("</tbody>\n</table>\n")
    return Markup("".join(out))


_DOC_MEDIA_TYPES = {
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}


def _machine_readable_html(docs: Sequence[Any], jsonld: str) -> Any:
    """A page's machine-readable side in its ``<head>``: a ``rel="alternate"`` link to each of
    its documents, and its JSON-LD for search engines (``jsonld``: ready for ``<script>``,
    :func:`script_json`)."""
    from markupsafe import Markup, escape

    links = "".join(
        f'<link rel="alternate" type="{escape(_DOC_MEDIA_TYPES[_view(d, "format")])}" '
        f'href="{escape(_view(d, "href"))}">\n'
        for d in docs
    )
    return Markup(f'{links}<script type="application/ld+json">\n{jsonld}\n</script>')


def _render(template: str, **values: Any) -> str:
    return _environment().get_template(template).render(version=__version__, **values)


@dataclass
class _Page:
    """What a page needs to make links: its own path and the site around it."""

    path: str  # e.g. "id/kazakhstan" (no extension)
    g: _Graph
    base_url: str
    pages: frozenset[str] | None = None  # site paths that have pages (None: every mappable)
    site: SiteInfo = CICA_SITE

    def has(self, rel: str) -> bool:
        """Whether the site has its documentation page ``rel`` (``ontology``, ``shapes``);
        not a resource of the user's data that happens to have that path."""
        return rel in self.site.documented and (self.pages is None or rel in self.pages)

    @property
    def root(self) -> str:
        return "../" * self.path.count("/")

    def href(self, iri: str) -> str | None:
        """A relative link to the page of ``iri`` if the site has one, else ``iri`` itself for
        http(s) IRIs, else None. Kept in ``g`` for the next page in the same folder."""
        hrefs = self.g._hrefs
        key = (iri, self.path.rpartition("/")[0], self.pages)
        if key in hrefs:
            return hrefs[key]
        if len(hrefs) >= _HREF_LIMIT:
            hrefs.clear()
        found = hrefs[key] = self._href(iri)
        return found

    def _href(self, iri: str) -> str | None:
        rel = resource_path(iri, self.g.base_iri)
        if rel is not None and (self.pages is None or rel in self.pages):
            frag = _fragment(iri)
            target = "index.html" if rel == "index" else f"{rel}.html"
            here = posixpath.dirname(self.path) or "."
            return _relpath(target, here) + (f"#{frag}" if frag else "")
        if iri.startswith(("http://", "https://")):
            return iri
        return None

    def url(self, rel: str) -> str:
        return self.base_url + rel

    def link(self, term: Any) -> dict[str, Any]:
        """A view of an RDF term: text, href, and a note (datatype or language)."""
        return {"date": None, "nested": None, **self._link(term)}

    def _link(self, term: Any) -> dict[str, Any]:
        ox = self.g.ox
        if isinstance(term, ox.NamedNode):
            iri = term.value
            text = self.g.label(iri) or vocabularies.label(iri) or compact(iri)
            return {"text": text, "href": self.href(iri), "iri": iri, "note": ""}
        if isinstance(term, ox.BlankNode):
            return {"text": f"_:{term.value}", "href": None, "iri": "", "note": "blank node"}
        if isinstance(term, ox.Literal):
            if term.language:
                note = f"@{term.language}"
            elif term.datatype.value == XSD + "string":
                note = ""
            else:
                note = compact(term.datatype.value)
            href = term.value if term.datatype.value == XSD + "anyURI" else None
            return {"text": term.value, "href": href, "iri": "", "note": note}
        return {"text": str(term), "href": None, "iri": "", "note": ""}


#: The most links a :class:`_Graph` keeps (:meth:`_Page.href`).
_HREF_LIMIT = 8192


@functools.lru_cache(maxsize=4096)
def _relpath(target: str, here: str) -> str:
    """``posixpath.relpath(target, here)`` for site paths (relative, "." the root), without
    its two ``os.getcwd()`` calls; a path with an empty, "." or ".." segment goes to it."""
    to = target.split("/")
    at = [] if here == "." else here.split("/")
    if any(part in _ODD_SEGMENTS for part in (*to, *at)):
        return posixpath.relpath(target, here)
    common = 0
    while common < min(len(to), len(at)) and to[common] == at[common]:
        common += 1
    return "/".join([".."] * (len(at) - common) + to[common:]) or "."


_ODD_SEGMENTS = frozenset({"", ".", ".."})


@functools.lru_cache(maxsize=8192)  # a page asks it for every link: the same IRIs again
def compact(iri: str) -> str:
    """``prefix:local`` with the project prefixes where one applies, else the IRI."""
    from cica_ld.export import PREFIXES

    best = iri
    for p, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            candidate = f"{p}:{iri[len(ns) :]}"
            if len(candidate) < len(best):
                best = candidate
    return best


#: Blank-node values nest their rows this deep on a page; deeper ones show as their label
#: (a long RDF list is a chain of blank nodes as deep as it is long).
MAX_NESTED_ROWS = 32


def _property_rows(
    page: _Page,
    triples: Sequence[Any],
    subject: Any,
    *,
    depth: int = 0,
    index: dict[Any, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows (property, values) for one subject; blank-node values nest their own rows (down to
    :data:`MAX_NESTED_ROWS` levels)."""
    ox = page.g.ox
    if index is None:
        index = {}
        for t in triples:
            index.setdefault(t.subject, []).append(t)
    by_pred: dict[str, list[Any]] = {}
    for t in index.get(subject, ()):
        by_pred.setdefault(t.predicate.value, []).append(t.object)
    rows = []
    for p in sorted(by_pred, key=lambda p: (p != RDF_TYPE, compact(p))):
        values = []
        for o in sorted(set(by_pred[p]), key=_term_key):
            v = page.link(o)
            if isinstance(o, ox.BlankNode) and depth < MAX_NESTED_ROWS:
                v["nested"] = _property_rows(page, triples, o, depth=depth + 1, index=index)
            if not isinstance(o, ox.Literal):
                _date_of_value(page.g, p, o, v)
            values.append(v)
        rows.append({"property": page.link(ox.NamedNode(p)), "objects": values})
    return rows


#: Properties whose value is a W3C Time instant or interval even when it is not typed as one.
_TIME_LINKS = frozenset(
    {
        ORG + "memberDuring",
        TIME + "hasTime",
        TIME + "hasBeginning",
        TIME + "hasEnd",
        TIME + "inside",
        TIME + "intervalMeets",
        TIME + "intervalMetBy",
    }
)
#: Properties that make a resource an instant or an interval with a date of its own.
_OWN_TIME_PROPS = frozenset({*dates.DATE_PROPS, TIME + "hasBeginning", TIME + "hasEnd"})
#: Datatypes of literals shown as dates.
_DATE_TYPES = frozenset(
    XSD + t for t in ("date", "gYearMonth", "gYear", "dateTime", "dateTimeStamp")
)


def _is_temporal(g: _Graph, prop: str, node: Any) -> bool:
    """Whether ``node`` (the value of ``prop``) is a W3C Time instant or interval."""
    if prop in _TIME_LINKS or node in g._spans:
        return True
    found = g._temporal.get(node)
    if found is None:
        found = g._temporal[node] = any(t.startswith(TIME) for t in g.types(node))
    return found


def _span(g: _Graph, node: Any) -> dates.Span:
    """:func:`dates.span` of ``node``, once per page."""
    found = g._spans.get(node)
    if found is None:
        found = g._spans[node] = dates.span(g, node)
    return found


def _span_html(span: dates.Span) -> Any:
    """A :class:`dates.Span` as HTML: its text with each date in a ``<time>`` element."""
    from markupsafe import Markup, escape

    # (f-strings of escaped parts: what Markup.format gives, without its Formatter)
    def one(d: dates.DateView | None) -> Any:
        if d is None:
            return Markup("")
        if d.value and d.precision not in ("", "window"):
            return Markup(f'<time datetime="{escape(d.value)}">{escape(d.text)}</time>')
        if d.precision == "window" and not span.instant:
            return escape("a date " + d.text)
        return escape(d.text)

    b, e = span.begin, span.end
    if span.instant:
        return one(b)
    if b and e:
        if b.value and b.value == e.value:
            return one(b)
        return Markup(f"{one(b)} to {one(e)}")
    if b:
        rest = " (end not dated)" if span.has_end else ""
        return Markup(f"from {one(b)}{rest}")
    if e:
        return Markup(f"until {one(e)}")
    return Markup("")


def _date_of_value(g: _Graph, prop: str, node: Any, view: dict[str, Any]) -> None:
    """Put the date of a time-valued ``node`` into its link ``view`` (shown beside it, or
    instead of a label that only repeats the date as written)."""
    if not _is_temporal(g, prop, node):
        return
    span = _span(g, node)
    if not span.dated:
        return
    if span.instant and span.begin is not None and view["text"] == span.begin.value:
        view["text"] = span.begin.text
        return
    view["date"] = _span_html(span)


def _dates(page: _Page, triples: Sequence[Any], subject: Any) -> list[dict[str, Any]]:
    """The dates a page shows at its top: the resource's own (an instant or interval), then
    each time-valued property (``When`` for time:hasTime), then each date literal."""
    g = page.g
    ox = g.ox
    rows: list[dict[str, Any]] = []
    # the resource's own date, looked up only if it may be an instant or an interval
    preds = {t.predicate.value for t in triples if t.subject == subject}
    maybe_own = bool(preds & _OWN_TIME_PROPS) or any(
        t.object.value.startswith(TIME)
        for t in triples
        if t.subject == subject and t.predicate.value == RDF_TYPE and hasattr(t.object, "value")
    )
    own = dates.span(g, subject) if maybe_own else dates.Span(None, None)
    if own.dated:
        rows.append({"name": "Date" if own.instant else "Interval", "html": _span_html(own)})
    own_props = set(dates.DATE_PROPS) if own.instant and own.dated else set()
    seen: set[tuple[str, Any]] = set()
    for t in triples:
        if t.subject != subject or t.predicate.value in own_props:
            continue
        p, o = t.predicate.value, t.object
        if (p, o) in seen:
            continue
        seen.add((p, o))
        html = None
        if isinstance(o, ox.Literal):
            if o.datatype.value in _DATE_TYPES:
                d = dates.parse(o.value)
                if d is not None:
                    html = _span_html(dates.Span(d, None, instant=True))
        elif p not in (TIME + "hasBeginning", TIME + "hasEnd") and _is_temporal(g, p, o):
            span = _span(g, o)
            if span.dated:
                html = _span_html(span)
        if html:
            name = "When" if p == TIME + "hasTime" else page.link(t.predicate)["text"]
            rows.append({"name": name[:1].upper() + name[1:], "html": html})
    return rows


def _memberships(page: _Page, iri: str, link_prop: str, other_prop: str) -> list[dict[str, Any]]:
    """Memberships that point at ``iri`` with ``link_prop`` (org:organization or org:member),
    as rows: the other party, role, post, from, to, sources."""
    g = page.g
    rows = []
    for m in g.subjects(link_prop, iri):
        if ORG + "Membership" not in g.types(m):
            continue
        others = g.objects(m, other_prop)
        roles = g.objects(m, ORG + "role")
        interval = g.objects(m, ORG + "memberDuring")
        begin, end = g.when(interval[0]) if interval else (None, None)
        span = _span(g, interval[0]) if interval else dates.Span(None, None)
        rows.append(
            {
                "membership": page.link(m),
                "others": [page.link(o) for o in others],
                "roles": [page.link(r) for r in roles],
                "posts": [page.link(p) for p in g.objects(m, CICA + "post")],
                "begin": begin or "",
                "end": end or "",
                "from": _span_html(dates.Span(span.begin, None, instant=True)),
                "to": _span_html(dates.Span(span.end, None, instant=True)),
                "span": span,
                "sources": [page.link(s) for s in _cited(g, m)],
            }
        )
    rows.sort(
        key=lambda r: (
            [x["text"] for x in r["roles"]],
            _date_key(r["begin"]),
            [x["text"] for x in r["others"]],
            r["membership"]["iri"],
        )
    )
    return rows


def _period(row: dict[str, Any], label: str) -> Any:
    """A membership row as a :class:`cica_ld.charts.Period`, None without a dated beginning."""
    from cica_ld import charts

    span = row["span"]
    b = span.begin
    if b is None or b.start is None or b.end is None:
        return None
    end = None
    e = span.end
    if e is not None and e.start is not None and e.end is not None:
        end = (e.start, e.end)
    elif span.has_end:
        end = None  # an end not dated: drawn as open, said in the text
    return charts.Period(
        label=label,
        text=span.text(),
        begin=(b.start, b.end),
        end=end,
        href=row["membership"]["href"],
    )


def _charts(page: _Page, iri: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures of an organisation's page (from its memberships, ``rows``): a chart of
    memberships over time by role, and a timeline of the terms of each of its posts (an
    org:Post the membership points at, or whose org:role it has, with org:postIn ``iri``)."""
    from cica_ld import charts

    g = page.g
    ox = g.ox
    post_roles = {}
    for post in g.subjects(ORG + "postIn", iri):
        for r in g.objects(post, ORG + "role"):
            post_roles.setdefault(r, post)
    series: dict[str, list[Any]] = {}
    terms: dict[Any, list[Any]] = {}
    undated = 0
    for r in rows:
        m = g.nn(r["membership"]["iri"])
        post = None
        for q in g.out(m):
            if (
                q.predicate.value != RDF_TYPE
                and isinstance(q.object, ox.NamedNode)
                and ORG + "Post" in g.types(q.object)
            ):
                post = q.object
                break
        if post is None:
            for role in g.objects(m, ORG + "role"):
                post = post_roles.get(role, post)
        who = ", ".join(o["text"] for o in r["others"]) or r["membership"]["text"]
        period = _period(r, who)
        if post is not None:
            if period is not None:
                terms.setdefault(post, []).append(period)
            continue
        if period is None:
            undated += 1
            continue
        role = ", ".join(x["text"] for x in r["roles"]) or "(no role)"
        series.setdefault(role, []).append(period)
    figures = []
    name = g.label(iri) or compact(iri)
    if sum(len(v) for v in series.values()) >= 2:
        order = sorted(
            series,
            key=lambda k: (_ROLE_ORDER.index(k) if k in _ROLE_ORDER else len(_ROLE_ORDER), k),
        )
        title = f"Memberships of {name} over time"
        figures.append(
            {
                "id": "chart-memberships",
                "title": title,
                "svg": charts.membership_chart(
                    {k: series[k] for k in order},
                    title=title,
                    ident="chart-memberships",
                    undated=undated,
                ),
                "caption": "Solid lines: memberships certainly held; lighter bands: held "
                "at some time in that span (a date known only to a year, a month or a window)."
                + (f" {undated} without a dated beginning are not counted." if undated else ""),
            }
        )
    for n, post in enumerate(sorted(terms, key=_term_key)):
        label = g.label(post.value) or compact(post.value)
        ident = f"timeline-{n + 1}"
        title = f"Terms of {label}"
        figures.append(
            {
                "id": ident,
                "title": title,
                "svg": charts.timeline(terms[post], title=title, ident=ident),
                "caption": "One bar per term; lighter parts: a beginning or end known only "
                "to a year, a month or a window. Each bar links to the term's page.",
            }
        )
    return figures


_ISO_DATE = re.compile(r"\d{4}(?:-\d{2}){0,2}")
_ROLE_ORDER = ("member", "observer", "partner")


def _date_key(text: str) -> str:
    """A sort key for a date text: its first ISO date (``between 1992-10-05 and ...``)."""
    found = _ISO_DATE.search(text or "")
    return found.group(0) if found else "9999"


def _group_by_role(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        key = ", ".join(x["text"] for x in r["roles"]) or "(no role)"
        groups.setdefault(key, []).append(r)

    def order(key: str) -> tuple[int, str]:
        return (_ROLE_ORDER.index(key) if key in _ROLE_ORDER else len(_ROLE_ORDER), key)

    return [{"role": k, "rows": groups[k]} for k in sorted(groups, key=order)]


#: How a fact node cites its sources: entities by prov:wasDerivedFrom, activities (events) by
#: dcterms:source (PROV-O makes prov:Activity disjoint with prov:Entity, the former's domain).
SOURCE_LINKS = (PROV + "wasDerivedFrom", DCT + "source")


def _cited(g: Any, node: Any) -> list[Any]:
    """The sources ``node`` cites, by either link."""
    return [src for link in SOURCE_LINKS for src in g.objects(node, link)]


def _sources(page: _Page, nodes: Iterable[Any]) -> list[dict[str, Any]]:
    g = page.g
    found: set[Any] = set()
    for n in nodes:
        found.update(_cited(g, n))
    out = []
    for s in sorted(found, key=_term_key):
        if not isinstance(s, g.ox.NamedNode):
            continue
        out.append(
            {
                "link": page.link(s),
                "title": g.literal(s, (DCT + "title",)) or g.label(s.value) or s.value,
                "publisher": g.literal(s, (DCT + "publisher",)) or "",
                "date": g.literal(s, (DCT + "date",)) or "",
                "urls": [o.value for o in g.objects(s, FOAF + "page") if hasattr(o, "value")],
            }
        )
    out.sort(key=lambda x: (x["title"].lower(), x["link"]["iri"]))
    return out


def _incoming(page: _Page, iri: str) -> list[dict[str, Any]]:
    """The page's incoming links: at most :data:`MAX_INCOMING` (the documents' cap), sorted;
    :func:`_incoming_more` says whether there are more."""
    g = page.g
    uniq: dict[tuple[str, str, str], dict[str, Any]] = {}
    keys: set[tuple[Any, Any]] = set()
    for q in g.store.quads_for_pattern(None, None, g.nn(iri), None):
        if (q.subject, q.predicate) in keys:
            continue
        if len(keys) >= MAX_INCOMING:
            break
        keys.add((q.subject, q.predicate))
        r = {"subject": page.link(q.subject), "property": page.link(q.predicate)}
        uniq[(r["subject"]["text"], r["subject"]["iri"], r["property"]["iri"])] = r
    return [uniq[k] for k in sorted(uniq)]


def _incoming_more(page: _Page, iri: str, shown: int) -> dict[str, Any] | None:
    """Where the rest of the incoming links are (the N-Triples dump) when the page shows
    ``shown`` and that is the cap; else None."""
    if shown < MAX_INCOMING:
        return None
    seen = set()
    for q in page.g.store.quads_for_pattern(None, None, page.g.nn(iri), None):
        seen.add((q.subject, q.predicate))
        if len(seen) > MAX_INCOMING:
            return {"limit": MAX_INCOMING, "href": f"{page.root}dumps/{page.site.name}.nt"}
    return None


# ---------------------------------------------------------------------------------------------
# schema.org beside ORG: the JSON-LD embedded in each page
# ---------------------------------------------------------------------------------------------

_SCHEMA_TYPES: dict[str, str] = {
    CICA + "State": "Country",
    CICA + "IntergovernmentalOrganization": "GovernmentOrganization",
    ORG + "FormalOrganization": "Organization",
    ORG + "Organization": "Organization",
    ORG + "OrganizationalUnit": "Organization",
    FOAF + "Person": "Person",
    CICA + "Event": "Event",
    CICA + "Meeting": "Event",
    CICA + "Summit": "Event",
    CICA + "MinisterialMeeting": "Event",
    CICA + "SeniorOfficialsCommitteeMeeting": "Event",
    CICA + "Document": "CreativeWork",
    CICA + "Source": "CreativeWork",
    CICA + "Claim": "Claim",
    CICA + "Initiative": "Project",
    CICA + "City": "City",
    CICA + "Place": "Place",
    ORG + "Membership": "OrganizationRole",
    SKOS + "Concept": "DefinedTerm",
    SKOS + "ConceptScheme": "DefinedTermSet",
    OWL + "Class": "DefinedTerm",
    OWL + "ObjectProperty": "DefinedTerm",
    OWL + "DatatypeProperty": "DefinedTerm",
}

#: The context of the embedded JSON-LD: schema.org as the vocabulary, the project prefixes
#: for ORG and the rest. Inline (search engines fetch no context); offline-readable.
EMBED_CONTEXT: dict[str, Any] = {
    "@vocab": SCHEMA,
    "cica": CICA,
    "cicaid": BASE_IRI + "id/",
    "dcterms": DCT,
    "foaf": FOAF,
    "org": ORG,
    "owl": OWL,
    "prov": PROV,
    "rdfs": RDFS,
    "skos": SKOS,
    "time": TIME,
    "wd": WIKIDATA,
    "xsd": XSD,
}


def schema_graph(
    store: pyoxigraph.Store,
    iri: str,
    page_url: str,
    *,
    g: _Graph | None = None,
    sort: bool = True,
) -> list[Any]:
    """schema.org triples for ``iri`` (and the role nodes of its memberships), derived from
    ORG, W3C Time, PROV and the labels: what search engines read. ``g``: a :class:`_Graph` of
    ``store`` to reuse (its label cache), else a new one; ``sort=False``: in no order (for a
    caller that sorts them with others)."""
    import pyoxigraph

    if g is None or g.store is not store:
        g = _Graph(store)
    nn = pyoxigraph.NamedNode
    lit = pyoxigraph.Literal
    out: list[Any] = []
    s = nn(iri)

    def add(subj: Any, prop: str, obj: Any) -> None:
        out.append(pyoxigraph.Triple(subj, nn(SCHEMA + prop), obj))

    def describe(node: Any, *, url: str | None = None) -> None:
        # a node's types, name and sameAs: the same on every page that names it (the state
        # and the organisation of each membership page), kept in g
        found = g._schema_nodes.get(node)
        if found is None:
            found = g._schema_nodes[node] = schema_node(node)
        out.extend(found)
        if url:
            add(node, "mainEntityOfPage", nn(url))

    def schema_node(node: Any) -> list[Any]:
        triples = []
        types = g.types(node)
        found = {_SCHEMA_TYPES[t] for t in types if t in _SCHEMA_TYPES}
        specific = found - {"Organization", "Thing"}
        stypes = sorted(specific or found) or ["Thing"]
        for t in stypes:
            triples.append(pyoxigraph.Triple(node, nn(RDF_TYPE), nn(SCHEMA + t)))
        name = g.label(node.value)
        if name:
            triples.append(pyoxigraph.Triple(node, nn(SCHEMA + "name"), lit(name)))
        for same in g.objects(node, OWL + "sameAs"):
            if isinstance(same, pyoxigraph.NamedNode):
                triples.append(pyoxigraph.Triple(node, nn(SCHEMA + "sameAs"), same))
        return triples

    describe(s, url=page_url)
    desc = g.description(iri)
    if desc:
        add(s, "description", lit(desc))
    types = set(g.types(s))
    schema_types = {
        t.object.value.removeprefix(SCHEMA)
        for t in out
        if t.subject == s and t.predicate.value == RDF_TYPE
    }
    # schema:citation is a CreativeWork's; any other Thing is the subject of its sources
    cites = "citation" if schema_types & _CREATIVE_WORKS else "subjectOf"
    for src in _cited(g, s):
        add(s, cites, src)
    for page in g.objects(s, FOAF + "page") + g.objects(s, FOAF + "homepage"):
        add(s, "url", page)
    if CICA + "Source" in types:
        publisher = g.literal(s, (DCT + "publisher",))
        if publisher:
            p = pyoxigraph.BlankNode("publisher")
            out.append(pyoxigraph.Triple(p, nn(RDF_TYPE), nn(SCHEMA + "Organization")))
            add(p, "name", lit(publisher))
            add(s, "publisher", p)
        date = g.literal(s, (DCT + "date",))
        if date:
            add(s, "datePublished", lit(date))
    if types & {
        CICA + t
        for t in (
            "Event",
            "Meeting",
            "Summit",
            "MinisterialMeeting",
            "SeniorOfficialsCommitteeMeeting",
        )
    }:
        for t in g.objects(s, TIME + "hasTime"):
            begin, end = g.when(t)
            if begin and not begin.startswith(("between", "by", "from")):
                add(s, "startDate", lit(begin))
            if end and not end.startswith(("between", "by", "from")):
                add(s, "endDate", lit(end))
        for place in g.objects(s, PROV + "atLocation"):
            add(s, "location", place)
            describe(place)
        for host in g.objects(s, CICA + "host"):
            add(s, "organizer", host)
            describe(host)
    for nat in g.objects(s, CICA + "nationality"):
        add(s, "nationality", nat)
        describe(nat)

    def role(m: Any, link: str, other_prop: str, other_link: str) -> None:
        describe(m)
        _role_details(g, add, lit, m)
        for other in g.objects(m, other_prop):
            add(m, other_link, other)
            describe(other)
        add(s, link, m)

    if ORG + "Membership" in types:
        for member in g.objects(s, ORG + "member"):
            add(s, "member", member)
            describe(member)
        for org in g.objects(s, ORG + "organization"):
            add(s, "memberOf", org)
            describe(org)
    for m in g.subjects(ORG + "organization", s):
        role(m, "member", ORG + "member", "member")
    for m in g.subjects(ORG + "member", s):
        if schema_types & _AGENTS:
            role(m, "memberOf", ORG + "organization", "memberOf")
        else:
            # a Country (a Place) is no schema:memberOf's subject: the organisation has the
            # role as a member, and the role has the country (schema.org's Role pattern)
            describe(m)
            for org in g.objects(m, ORG + "organization"):
                add(org, "member", m)
                describe(org)
            add(m, "member", s)
            _role_details(g, add, lit, m)
    return sorted(set(out), key=_triple_key) if sort else list(set(out))


#: schema.org's CreativeWork and the subtypes the pages use: the Things schema:citation is for.
_CREATIVE_WORKS = frozenset({"CreativeWork", "Claim", "DefinedTermSet"})
#: The types schema:memberOf applies to (Person, Organization and its subtypes).
_AGENTS = frozenset({"Person", "Organization", "GovernmentOrganization", "Project"})


def _role_details(g: _Graph, add: Any, lit: Any, m: Any) -> None:
    """A membership role's name and dates (schema:roleName, startDate, endDate)."""
    import pyoxigraph

    for r in g.objects(m, ORG + "role"):
        name = g.label(r.value) if isinstance(r, pyoxigraph.NamedNode) else None
        if name:
            add(m, "roleName", lit(name))
    interval = g.objects(m, ORG + "memberDuring")
    if interval:
        begin, end = g.when(interval[0])
        if begin and not begin.startswith(("between", "by", "from")):
            add(m, "startDate", lit(begin))
        if end and not end.startswith(("between", "by", "from")):
            add(m, "endDate", lit(end))


def embed_context(site: SiteInfo = CICA_SITE) -> dict[str, Any]:
    """The context of a page's embedded JSON-LD: :data:`EMBED_CONTEXT`, without the CICA
    prefixes on a site of the user's data."""
    if site.cica:
        return EMBED_CONTEXT
    return {k: v for k, v in EMBED_CONTEXT.items() if not v.startswith(BASE_IRI)}


def embedded_jsonld(
    store: pyoxigraph.Store,
    iri: str,
    page_url: str,
    *,
    site: SiteInfo = CICA_SITE,
    described: Sequence[Any] | None = None,
    g: _Graph | None = None,
) -> str:
    """The JSON-LD for a page's ``<script type="application/ld+json">``: the resource's
    description in its own vocabularies plus schema.org, safe to put inside a script element.
    ``described``: :func:`resource_graph` of ``iri``, if known; ``g``: a :class:`_Graph` of
    ``store`` to reuse."""
    import pyoxigraph

    from cica_ld import jsonld

    if described is None:
        described = resource_graph(store, iri)
    triples = set(described) | set(schema_graph(store, iri, page_url, g=g, sort=False))
    quads = [pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples]
    doc = jsonld.compact_expanded(
        jsonld.expand_quads(jsonld.stable_quads(quads)), embed_context(site)
    )
    return script_json(doc)


def script_json(doc: Any) -> str:
    """JSON text that can sit inside ``<script>``: ``<``, ``>`` and ``&`` escaped."""
    from cica_ld.jsonld import canonical_order

    text = _indent_1(canonical_order(doc))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _indent_1(doc: Any) -> str:
    """``json.dumps(doc, indent=1, ensure_ascii=False)``, written by orjson: its 2-space
    indented text with each line's indent halved (a JSON string holds no raw newline, so
    every line break is the layout's)."""
    import orjson

    try:
        text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode("utf-8")
    except TypeError:  # what orjson does not write (an integer past 64 bits): json does
        return json.dumps(doc, indent=1, ensure_ascii=False)
    return _halve_indent(text)


def _halve_indent(text: str) -> str:
    """Each line's indent (of 2-space steps) halved. By whole-text replaces, deepest first: a
    line done is marked (``\n\0``: no JSON text holds a raw NUL) so that a shallower
    replace does not take it again; then the marks go."""
    depth = 0
    while f"\n{'  ' * (depth + 1)}" in text:
        depth += 1
    if not depth:
        return text
    for d in range(depth, 0, -1):
        text = text.replace(f"\n{'  ' * d}", f"\n\0{' ' * d}")
    return text.replace("\0", "")


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


def _head(page: _Page, title: str, *, description: str = "", jsonld: str = "") -> dict[str, Any]:
    """What ``base.html`` puts in ``<head>``: the title, canonical URL, the meta description
    and OpenGraph tags (``description``: the page's, else one naming the site), and the
    page's schema.org JSON-LD (``jsonld``, pages that do not embed their own)."""
    site = page.site
    summary = " ".join(description.split())
    if not summary:
        summary = f"{title}: {site.title}." if title != site.title else site.title
    if len(summary) > _SUMMARY_CHARS:
        summary = summary[: _SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return {
        "description": summary,
        "og_type": "website" if page.path == "index" else "article",
        "jsonld": jsonld,
        "title": title,
        "root": page.root,
        "canonical": page.url(("index" if page.path == "index" else page.path) + ".html"),
        # the CICA site names cica-ld; a site of the user's data names only its dataset
        "site_name": "cica-ld" if site.cica else site.title,
        "credit": site.cica,
        "vocabulary": page.has("ontology"),
        "shapes": page.has("shapes"),
        "base_iri": page.g.base_iri,
        "lang": site.language or "",
    }


#: The longest meta description (search engines show about this much).
_SUMMARY_CHARS = 300


def _page_jsonld(doc: dict[str, Any]) -> str:
    """A page's schema.org JSON-LD (``@vocab`` schema.org), ready for ``<script>``."""
    return script_json({"@context": {"@vocab": SCHEMA}, **doc})


def render_resource_html(
    store: pyoxigraph.Store,
    iri: str,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
    g: _Graph | None = None,
) -> str:
    """The HTML page of one resource (``pages``: the site paths that have pages, for links;
    None means every IRI under the base has one, as when ``cica-ld serve`` answers). ``g``: a
    :class:`_Graph` of ``store`` and ``base_iri`` to reuse (its label cache), else a new one."""
    path = resource_path(iri, base_iri)
    if path is None:
        raise InputError(f"{iri} is not under the base IRI {base_iri}")
    if g is None or g.store is not store or g.base_iri != base_iri:
        g = _Graph(store, base_iri)
    page = _Page(path=path, g=g, base_url=normalize_base(base_url), pages=pages, site=site)
    triples = g.described(iri)
    subject = g.nn(iri)
    label = g.label(iri) or compact(iri)
    description = g.description(iri) or ""
    types = g.types(iri)
    as_org = _memberships(page, iri, ORG + "organization", ORG + "member")
    as_member = _memberships(page, iri, ORG + "member", ORG + "organization")
    membership_nodes = [g.nn(r["membership"]["iri"]) for r in as_org + as_member]
    page_url = page.url(path + ".html")
    incoming = _incoming(page, iri)
    figures = _charts(page, iri, as_org) if as_org else []
    return _render(
        "resource.html",
        head=_head(page, label, description=description),
        iri=iri,
        label=label,
        types=[page.link(g.nn(t)) for t in types],
        description=description,
        dates=_dates(page, triples, subject),
        figures=figures,
        members=_group_by_role(as_org),
        memberships=_group_by_role(as_member),
        properties=_property_rows(page, triples, subject),
        incoming=incoming,
        incoming_more=_incoming_more(page, iri, len(incoming)),
        sources=_sources(page, [subject, *membership_nodes]),
        docs=[
            {"href": f"{path.rsplit('/', 1)[-1]}{suffix}", "format": fmt, "suffix": suffix}
            for suffix, fmt in RESOURCE_DOCS.items()
        ],
        jsonld=embedded_jsonld(store, iri, page_url, site=site, described=triples, g=g),
    )


#: Index sections, in order: (heading, class IRIs).
INDEX_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Intergovernmental organisations", (CICA + "IntergovernmentalOrganization",)),
    ("States", (CICA + "State",)),
    ("Bodies and units", (ORG + "OrganizationalUnit",)),
    ("Organisations", (ORG + "FormalOrganization", ORG + "Organization")),
    ("People", (FOAF + "Person",)),
    ("Posts", (ORG + "Post", CICA + "ChairPost", CICA + "HeadOfSecretariatPost")),
    ("Summits", (CICA + "Summit",)),
    ("Ministerial meetings", (CICA + "MinisterialMeeting",)),
    ("Senior Officials Committee meetings", (CICA + "SeniorOfficialsCommitteeMeeting",)),
    ("Meetings and events", (CICA + "Meeting", CICA + "Event")),
    ("Documents", (CICA + "Document",)),
    ("Decisions", (CICA + "Decision",)),
    ("Initiatives", (CICA + "Initiative",)),
    ("Memberships and terms", (ORG + "Membership",)),
    ("Statistics", (CICA + "MemberCount", CICA + "DatedStatistic")),
    ("Claims", (CICA + "Claim",)),
    ("Places", (CICA + "City", CICA + "Place")),
    ("Sites", (ORG + "Site",)),
    ("Concepts", (SKOS + "ConceptScheme", SKOS + "Concept")),
    ("Sources", (CICA + "Source",)),
    ("Intervals", (TIME + "ProperInterval", TIME + "Interval")),
    ("Instants", (CICA + "UncertainInstant", TIME + "Instant")),
)


def site_resources(store: pyoxigraph.Store, base_iri: str = BASE_IRI) -> dict[str, list[str]]:
    """Site path -> the IRIs its document describes, for every IRI under ``base_iri`` that
    occurs in the store as a subject or object (predicates are documented in the vocabulary
    page)."""
    import pyoxigraph

    found: set[str] = set()
    for q in store.quads_for_pattern(None, None, None, None):
        for t in (q.subject, q.object, q.graph_name):
            if isinstance(t, pyoxigraph.NamedNode) and t.value.startswith(base_iri):
                found.add(t.value)
    docs: dict[str, list[str]] = {}
    for iri in sorted(found):
        rel = resource_path(iri, base_iri)
        if rel is not None:
            docs.setdefault(rel, []).append(iri)
    return docs


def render_index_html(
    store: pyoxigraph.Store,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    title: str | None = None,
    description: str | None = None,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
    docs: Mapping[str, list[str]] | None = None,
) -> str:
    """The index page: every resource with a page, grouped by class (``title`` and
    ``description``: the site's unless given; ``docs``: :func:`site_resources` if already
    found)."""
    title = site.title if title is None else title
    description = site.description if description is None else description
    g = _Graph(store, base_iri)
    page = _Page(path="index", g=g, base_url=normalize_base(base_url), pages=pages, site=site)
    docs = site_resources(store, base_iri) if docs is None else docs
    has_vocabulary, has_shapes = page.has("ontology"), page.has("shapes")
    entries: dict[str, list[dict[str, Any]]] = {}
    for rel, iris in docs.items():
        if site.reserved(rel, vocabulary=has_vocabulary, shapes=has_shapes) or (
            pages is not None and rel not in pages
        ):
            continue
        if not site.cica and all("#" in i for i in iris):
            # a document of hash IRIs only (the user's ontology#Term): listed by its own IRI
            iris = [base_iri + ("" if rel == "index" else rel)]
        for iri in iris:
            if "#" in iri:
                continue
            types = set(g.types(iri))
            heading = "Other resources"
            for name, classes in INDEX_GROUPS:
                if types & set(classes):
                    heading = name
                    break
            entries.setdefault(heading, []).append(page.link(g.nn(iri)))
    order = [name for name, _ in INDEX_GROUPS] + ["Other resources"]
    groups = [
        {
            "heading": name,
            "id": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
            "entries": sorted(entries[name], key=lambda e: (e["text"].lower(), e["iri"])),
            "collapsed": name in ("Intervals", "Instants", "Memberships and terms"),
        }
        for name in order
        if name in entries
    ]
    return _render(
        "index.html",
        head=_head(
            page,
            title,
            description=description,
            jsonld=_page_jsonld(
                {
                    "@type": "WebSite",
                    "@id": page.url("index.html"),
                    "name": title,
                    "description": description,
                    "url": page.url("index.html"),
                    "mainEntity": {
                        "@type": "Dataset",
                        "@id": base_iri + "dataset",
                        "name": title,
                        "url": page.url("dataset.html"),
                    },
                }
            ),
        ),
        title=title,
        description=description,
        groups=groups,
        count=sum(len(x["entries"]) for x in groups),
        dumps=[{"href": f"dumps/{name}", "format": fmt} for name, fmt in site.dumps().items()],
        vocabulary=page.has("ontology"),
        shapes=page.has("shapes"),
        context=site.cica,
    )


def render_index_page_html(
    store: pyoxigraph.Store,
    n: int,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
    page_size: int | None = None,
    listing: Sequence[Sequence[str]] | None = None,
) -> str | None:
    """The page of index document ``index/N`` for people (the resources it lists, linked);
    None past the last page."""
    chunks = (
        listing
        if listing is not None
        else index_documents(store, base_iri, site=site, page_size=page_size)
    )
    if not 1 <= n <= len(chunks):
        return None
    g = _Graph(store, base_iri)
    page = _Page(path="index", g=g, base_url=normalize_base(base_url), pages=pages, site=site)
    entries = sorted(
        (page.link(g.nn(iri)) for iri in chunks[n - 1]), key=lambda e: (e["text"].lower(), e["iri"])
    )
    first = sum(len(c) for c in chunks[: n - 1]) + 1
    title = f"{site.title}: resources {first} to {first + len(entries) - 1}"
    html = _render(
        "index.html",
        head=_head(page, title),
        title=title,
        description="",
        groups=[
            {"heading": "Resources", "id": "resources", "entries": entries, "collapsed": False}
        ],
        count=len(entries),
        dumps=[{"href": f"dumps/{name}", "format": fmt} for name, fmt in site.dumps().items()],
        vocabulary=page.has("ontology"),
        shapes=page.has("shapes"),
        context=site.cica,
    )
    rel = f"index/{n}"
    html = html.replace(page.url("index.html"), page.url(rel + ".html"))
    return _rebase_html(html, rel)


#: The global search-index.js assigns the index to (read by search.js).
SEARCH_GLOBAL = "SITE_SEARCH_INDEX"
_ALT_PROPS = (SKOS + "altLabel", SKOS + "prefLabel", RDFS + "label", FOAF + "name", SCHEMA + "name")


def search_index(
    store: pyoxigraph.Store,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
    vocabulary: pyoxigraph.Store | None = None,
    docs: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The client-side search index: every resource with a page (and, with ``vocabulary``,
    every term of the vocabulary page) as ``[label, href from the site root, kind, other
    names]``, sorted by href; ``kind`` is the label of its class (the site's own first).
    ``docs``: :func:`site_resources` of the store, if the caller has it."""
    g = _Graph(store, base_iri)
    page = _Page(path="index", g=g, base_url=base_iri, pages=pages, site=site)
    has_vocabulary, has_shapes = page.has("ontology"), page.has("shapes")
    items: dict[str, list[str]] = {}
    docs = site_resources(store, base_iri) if docs is None else docs
    for rel, iris in docs.items():
        if site.reserved(rel, vocabulary=has_vocabulary, shapes=has_shapes) or (
            pages is not None and rel not in pages
        ):
            continue
        main = [i for i in iris if "#" not in i] or [base_iri + ("" if rel == "index" else rel)]
        for iri in main:
            href = page.href(iri)
            if href is None or "://" in href:
                continue
            items[href] = _search_item(page, iri, href)
    if vocabulary is not None and has_vocabulary:
        vg = _Graph(vocabulary, base_iri)
        vpage = _Page(path="index", g=vg, base_url=base_iri, pages=pages, site=site)
        onto = base_iri + "ontology#"
        for q in vocabulary.quads_for_pattern(None, g.nn(RDF_TYPE), None, None):
            iri = getattr(q.subject, "value", "")
            if iri.startswith(onto) and len(iri) > len(onto):
                href = f"ontology.html#{_fragment(iri)}"
                items.setdefault(href, _search_item(vpage, iri, href))
    return {
        "fields": ["label", "href", "kind", "names"],
        "items": [items[h] for h in sorted(items)],
    }


def _search_item(page: _Page, iri: str, href: str) -> list[str]:
    g = page.g
    label = g.label(iri) or compact(iri)
    # the site's own classes first (cica:State before org:FormalOrganization)
    types = sorted(g.types(iri), key=lambda t: not t.startswith(g.base_iri))
    kind = page.link(g.nn(types[0]))["text"] if types else ""
    kind = kind[:1].upper() + kind[1:]
    names = {
        o.value
        for p in _ALT_PROPS
        for o in g.objects(iri, p)
        if isinstance(o, g.ox.Literal) and o.value != label
    }
    return [label, href, kind, " ".join(sorted(names))]


def search_files(index: dict[str, Any]) -> dict[str, bytes]:
    """The files of the search: the index as JSON (``search-index.json``) and as a script
    (``search-index.js``, so it loads from ``file://`` too), and ``search.js``."""
    text = json.dumps(index, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    script = text.replace("<", "\\u003c")
    return {
        "search-index.json": (text + "\n").encode("utf-8"),
        "search-index.js": f"window.{SEARCH_GLOBAL} = {script};\n".encode(),
        "search.js": (TEMPLATES_DIR / "search.js").read_bytes(),
    }


def render_search_html(
    store: pyoxigraph.Store,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
    count: int = 0,
) -> str:
    """The search page (``search.html``): a box and the results, found by ``search.js`` in
    ``search-index.js`` (``count``: the resources indexed)."""
    page = _Page("search", _Graph(store, base_iri), normalize_base(base_url), pages, site)
    return _render("search.html", head=_head(page, "Search"), count=count)


# ---------------------------------------------------------------------------------------------
# Vocabulary and shapes documentation
# ---------------------------------------------------------------------------------------------


def _usage(store: pyoxigraph.Store) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """(instances per class, triples per property, uses as object per IRI) in the store."""
    import pyoxigraph

    classes: dict[str, set[Any]] = {}
    props: dict[str, int] = {}
    objects: dict[str, int] = {}
    for q in store.quads_for_pattern(None, None, None, None):
        p = q.predicate.value
        props[p] = props.get(p, 0) + 1
        if isinstance(q.object, pyoxigraph.NamedNode):
            if p == RDF_TYPE:
                classes.setdefault(q.object.value, set()).add(q.subject)
            else:
                objects[q.object.value] = objects.get(q.object.value, 0) + 1
    return {c: len(s) for c, s in classes.items()}, props, objects


def render_vocabulary_html(
    vocabulary: pyoxigraph.Store,
    data: pyoxigraph.Store,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
) -> str:
    """The vocabulary page: the ontology header, then every class, property and concept of
    the vocabulary's own namespace with label, definition, hierarchy and usage count in
    ``data``; then the external terms the data uses, with their counts."""
    g = _Graph(vocabulary, base_iri)
    page = _Page(path="ontology", g=g, base_url=normalize_base(base_url), pages=pages, site=site)
    instances, prop_uses, object_uses = _usage(data)
    ontologies = [s for s in g.subjects(RDF_TYPE, OWL + "Ontology")]
    onto = ontologies[0].value if ontologies else base_iri + "ontology"
    namespace = onto + "#"
    header = {
        "iri": onto,
        "title": g.literal(onto, (DCT + "title", RDFS + "label")) or "Vocabulary",
        "description": g.literal(onto, (DCT + "description", RDFS + "comment")) or "",
        "version": g.literal(onto, (OWL + "versionInfo",)) or "",
        "version_iri": [page.link(o) for o in g.objects(onto, OWL + "versionIRI")],
        "license": [page.link(o) for o in g.objects(onto, DCT + "license")],
        "creator": g.literal(onto, (DCT + "creator",)) or "",
        "prefix": g.literal(onto, (VANN + "preferredNamespacePrefix",)) or "",
        "namespace": g.literal(onto, (VANN + "preferredNamespaceUri",)) or namespace,
    }

    def term(iri: str, kind: str) -> dict[str, Any]:
        local = _fragment(iri) or iri.rsplit("/", 1)[-1]
        if kind == "class":
            count = instances.get(iri, 0)
        elif kind == "concept":
            count = object_uses.get(iri, 0)
        else:
            count = prop_uses.get(iri, 0)
        rel = []
        for label, p in (
            ("subclass of", RDFS + "subClassOf"),
            ("subproperty of", RDFS + "subPropertyOf"),
            ("domain", RDFS + "domain"),
            ("range", RDFS + "range"),
            ("disjoint with", OWL + "disjointWith"),
            ("in scheme", SKOS + "inScheme"),
        ):
            values = [page.link(o) for o in g.objects(iri, p)]
            if values:
                rel.append({"label": label, "objects": values})
        return {
            "id": local,
            "iri": iri,
            "compact": compact(iri),
            "label": g.label(iri) or local,
            "definition": g.literal(iri, (SKOS + "definition", RDFS + "comment")) or "",
            "relations": rel,
            "count": count,
        }

    def own(class_iri: str) -> list[str]:
        return sorted(
            s.value
            for s in g.subjects(RDF_TYPE, class_iri)
            if isinstance(s, g.ox.NamedNode) and s.value.startswith(namespace)
        )

    concept_iris = set(own(SKOS + "Concept")) | set(own(SKOS + "ConceptScheme"))
    sections = [
        {
            "id": "classes",
            "heading": "Classes",
            "count_label": "instances",
            "terms": [term(i, "class") for i in own(OWL + "Class")],
        },
        {
            "id": "object-properties",
            "heading": "Object properties",
            "count_label": "triples",
            "terms": [term(i, "property") for i in own(OWL + "ObjectProperty")],
        },
        {
            "id": "datatype-properties",
            "heading": "Datatype properties",
            "count_label": "triples",
            "terms": [term(i, "property") for i in own(OWL + "DatatypeProperty")],
        },
        {
            "id": "concepts",
            "heading": "Concept schemes and concepts",
            "count_label": "uses as a value",
            "terms": [term(i, "concept") for i in sorted(concept_iris)],
        },
    ]
    declared = {t["iri"] for s in sections for t in s["terms"]}
    external_classes = sorted(c for c in instances if not c.startswith(namespace))
    external_props = sorted(p for p in prop_uses if not p.startswith(namespace))
    external = [
        {"link": page.link(g.nn(c)), "kind": "class", "count": instances[c]}
        for c in external_classes
    ] + [
        {"link": page.link(g.nn(p)), "kind": "property", "count": prop_uses[p]}
        for p in external_props
    ]
    return _render(
        "vocabulary.html",
        head=_head(
            page,
            header["title"],
            description=header["description"],
            jsonld=_page_jsonld(
                {
                    "@type": "DefinedTermSet",
                    "@id": onto,
                    "name": header["title"],
                    "description": header["description"],
                    "url": page.url("ontology.html"),
                    **({"version": header["version"]} if header["version"] else {}),
                    "hasDefinedTerm": [
                        {"@type": "DefinedTerm", "@id": t["iri"], "name": t["label"]}
                        for s in sections
                        for t in s["terms"]
                    ],
                }
            ),
        ),
        header=header,
        sections=sections,
        external=external,
        undeclared=sorted(
            i
            for i in set(instances) | set(prop_uses)
            if i.startswith(namespace) and i not in declared
        ),
        docs=[{"href": f"ontology{s}", "format": f} for s, f in VOCAB_DOCS.items()],
        context=site.cica,
    )


VOCAB_DOCS = {".ttl": "turtle", ".jsonld": "jsonld", ".nt": "ntriples", ".rdf": "rdfxml"}

_SHAPE_SKIP = frozenset(
    {
        RDF_TYPE,
        RDFS + "label",
        RDFS + "comment",
        RDFS + "isDefinedBy",
        SH + "property",
        SH + "sparql",
        SH + "message",
        SH + "severity",
        SH + "path",
        SH + "name",
        SH + "description",
    }
)


def render_shapes_html(
    shapes: pyoxigraph.Store,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
) -> str:
    """The shapes page: each node shape with its targets, constraints, property shapes
    (path, constraints, message, severity) and SPARQL constraints."""
    from cica_ld.shacl_model import path_to_sparql

    g = _Graph(shapes, base_iri)
    page = _Page(path="shapes", g=g, base_url=normalize_base(base_url), pages=pages, site=site)
    ox = g.ox

    def nt(t: Any) -> str:
        return f"<{t.value}>" if isinstance(t, ox.NamedNode) else str(t)

    def objects_nt(s: str, p: str) -> list[str]:
        node = ox.NamedNode(s[1:-1]) if s.startswith("<") else ox.BlankNode(s[2:])
        return [nt(o) for o in g.objects(node, p)]

    def path_text(node: Any) -> str:
        text = path_to_sparql(nt(node), objects_nt)
        return re.sub(r"<([^>]+)>", lambda m: compact(m.group(1)), text)

    def list_items(node: Any) -> list[Any]:
        out: list[Any] = []
        seen: set[Any] = set()
        while node not in seen and not (
            isinstance(node, ox.NamedNode) and node.value == RDF + "nil"
        ):
            seen.add(node)
            first = g.objects(node, RDF + "first")
            if not first:
                break
            out.append(first[0])
            rest = g.objects(node, RDF + "rest")
            if not rest:
                break
            node = rest[0]
        return out

    def inline(o: Any, depth: int = 0) -> str:
        """Text for a term; a blank node (a nested shape, a list) written out in full."""
        if not isinstance(o, ox.BlankNode) or depth > 5:
            return page.link(o)["text"] if not isinstance(o, ox.BlankNode) else "[ ... ]"
        if g.objects(o, RDF + "first"):
            return "( " + " ".join(inline(i, depth + 1) for i in list_items(o)) + " )"
        parts = sorted(
            f"{compact(q.predicate.value)} {inline(q.object, depth + 1)}" for q in g.out(o)
        )
        return "[ " + " ; ".join(parts) + " ]"

    def value_view(o: Any) -> dict[str, Any]:
        if isinstance(o, ox.BlankNode):
            return {
                "date": None,
                "nested": None,
                "text": inline(o),
                "href": None,
                "iri": "",
                "note": "",
            }
        return page.link(o)

    def constraints(node: Any) -> list[dict[str, Any]]:
        rows = []
        by_p: dict[str, list[Any]] = {}
        for q in g.out(node):
            if q.predicate.value not in _SHAPE_SKIP:
                by_p.setdefault(q.predicate.value, []).append(q.object)
        for p in sorted(by_p, key=compact):
            rows.append(
                {
                    "name": compact(p),
                    "objects": sorted(
                        (value_view(o) for o in by_p[p]), key=lambda v: (v["text"], v["iri"])
                    ),
                }
            )
        return rows

    def severity(node: Any) -> str:
        sev = g.objects(node, SH + "severity")
        return compact(sev[0].value).removeprefix("sh:") if sev else "Violation"

    def sparql(node: Any) -> list[dict[str, Any]]:
        out = []
        for c in g.objects(node, SH + "sparql"):
            out.append(
                {
                    "link": page.link(c),
                    "id": _fragment(c.value) if isinstance(c, ox.NamedNode) else "",
                    "message": g.literal(c, (SH + "message",)) or "",
                    "severity": severity(c),
                    "select": g.literal(c, (SH + "select", SH + "ask")) or "",
                    "comment": g.literal(c, (RDFS + "comment",)) or "",
                }
            )
        return out

    node_shapes = []
    for s in g.subjects(RDF_TYPE, SH + "NodeShape"):
        props = []
        for ps in g.objects(s, SH + "property"):
            paths = g.objects(ps, SH + "path")
            props.append(
                {
                    "link": page.link(ps),
                    "id": _fragment(ps.value) if isinstance(ps, ox.NamedNode) else "",
                    "path": path_text(paths[0]) if paths else "",
                    "constraints": constraints(ps),
                    "message": g.literal(ps, (SH + "message",)) or "",
                    "severity": severity(ps),
                }
            )
        props.sort(key=lambda p: (p["path"], p["link"]["iri"]))
        iri = s.value if isinstance(s, ox.NamedNode) else ""
        node_shapes.append(
            {
                "id": _fragment(iri),
                "iri": iri,
                "label": g.label(iri) if iri else str(s),
                "comment": g.literal(s, (RDFS + "comment", SH + "description")) or "",
                "message": g.literal(s, (SH + "message",)) or "",
                "severity": severity(s),
                "constraints": constraints(s),
                "properties": props,
                "sparql": sparql(s),
            }
        )
    node_shapes.sort(key=lambda n: (n["label"] or "").lower())
    ontologies = g.subjects(RDF_TYPE, OWL + "Ontology")
    onto = ontologies[0].value if ontologies else base_iri + "shapes"
    header = {
        "iri": onto,
        "title": g.literal(onto, (DCT + "title", RDFS + "label")) or "SHACL shapes",
        "description": g.literal(onto, (DCT + "description", RDFS + "comment")) or "",
        "version": g.literal(onto, (OWL + "versionInfo",)) or "",
    }
    shapes_doc = {
        "@type": "CreativeWork",
        "@id": onto,
        "name": header["title"],
        "description": header["description"],
        "url": page.url("shapes.html"),
        "encodingFormat": "text/turtle",
        **({"version": header["version"]} if header["version"] else {}),
    }
    return _render(
        "shapes.html",
        head=_head(
            page, "Shapes", description=header["description"], jsonld=_page_jsonld(shapes_doc)
        ),
        header=header,
        shapes=node_shapes,
        docs=[{"href": f"shapes{s}", "format": f} for s, f in RESOURCE_DOCS.items()],
    )


# ---------------------------------------------------------------------------------------------
# The dataset description: DCAT + VoID
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """A downloadable file of the dataset: its site path, export format and size in bytes
    (None when it is not known: ``cica-ld serve`` makes its dumps on request)."""

    path: str
    format: str
    size: int | None = None


#: The EU Publications Office's authority tables DCAT-AP takes its values from.
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
#: Export format -> the EU file-type of its files (``dcterms:format``, as DCAT-AP wants it).
EU_FILE_TYPES: dict[str, str] = {
    "turtle": EU_AUTHORITY + "file-type/RDF_TURTLE",
    "ntriples": EU_AUTHORITY + "file-type/RDF_N_TRIPLES",
    "nquads": EU_AUTHORITY + "file-type/RDF_N_QUADS",
    "trig": EU_AUTHORITY + "file-type/RDF_TRIG",
    "jsonld": EU_AUTHORITY + "file-type/JSON_LD",
    "rdfxml": EU_AUTHORITY + "file-type/RDF_XML",
}
#: Format -> how a distribution's description names it.
_FORMAT_NAMES = {
    "turtle": "Turtle",
    "ntriples": "N-Triples",
    "nquads": "N-Quads",
    "trig": "TriG",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF/XML",
}
VCARD = "http://www.w3.org/2006/vcard/ns#"
#: What the CICA site's DCAT-AP description says beyond the counts (see the README, "The
#: dataset description"): the language of its texts, its theme and spatial coverage (EU
#: vocabulary), its publisher and contact point (the project's
#: name, as the vocabulary's dcterms:publisher gives it, and the homepage pyproject.toml names).
CICA_LANGUAGE = EU_AUTHORITY + "language/ENG"
CICA_THEMES = (EU_AUTHORITY + "data-theme/INTR",)
CICA_THEME_TAXONOMY = EU_AUTHORITY + "data-theme"
CICA_SPATIAL = (EU_AUTHORITY + "continent/ASIA",)
CICA_HOMEPAGE = "https://w3id.org/cica-ld"


def dataset_description(
    store: pyoxigraph.Store,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    title: str | None = None,
    description: str | None = None,
    distributions: Sequence[Distribution] = (),
    license_iri: str | None = None,
    site: SiteInfo = CICA_SITE,
) -> list[pyoxigraph.Triple]:
    """The DCAT and VoID description of the data in ``store``: a ``dcat:Dataset`` and
    ``void:Dataset`` with counts (triples, entities, classes, properties, distinct subjects
    and objects), class and property partitions, the vocabularies used, the linkset to
    Wikidata (``owl:sameAs``), and one ``dcat:Distribution`` per dump.

    ``title`` and ``description`` default to the site's; the licence and publisher are the
    site's (on the CICA site, the licence of the CICA vocabulary). Only the CICA site states
    that the data conforms to the CICA vocabulary, names an example resource, and always
    lists the Wikidata linkset; a site of the user's data lists it when there are links."""
    import pyoxigraph

    from cica_ld.export import MEDIA_TYPES, PREFIXES

    base_url = normalize_base(base_url)
    title = site.title if title is None else title
    description = site.description if description is None else description
    nn = pyoxigraph.NamedNode
    integer = nn(XSD + "integer")
    ds = nn(base_iri + "dataset")
    out: list[Any] = []
    language = site.language

    def add(s: Any, p: str, o: Any) -> None:
        out.append(pyoxigraph.Triple(s, nn(p), o))

    def num(n: int) -> Any:
        return pyoxigraph.Literal(str(n), datatype=integer)

    def text(v: str, lang: str | None = language) -> Any:
        return pyoxigraph.Literal(v, language=lang) if lang else pyoxigraph.Literal(v)

    triples = 0
    subjects: set[Any] = set()
    objects: set[Any] = set()
    entities: set[str] = set()
    classes: dict[str, set[Any]] = {}
    props: dict[str, int] = {}
    links = 0
    for q in store.quads_for_pattern(None, None, None, None):
        triples += 1
        subjects.add(q.subject)
        objects.add(q.object)
        p = q.predicate.value
        props[p] = props.get(p, 0) + 1
        if isinstance(q.subject, pyoxigraph.NamedNode) and q.subject.value.startswith(base_iri):
            entities.add(q.subject.value)
        if p == RDF_TYPE and isinstance(q.object, pyoxigraph.NamedNode):
            classes.setdefault(q.object.value, set()).add(q.subject)
        if (
            p == OWL + "sameAs"
            and isinstance(q.object, pyoxigraph.NamedNode)
            and q.object.value.startswith(WIKIDATA)
        ):
            links += 1
    if license_iri is None:
        license_iri = site.license
    if license_iri is None and site.cica:
        for q in store.quads_for_pattern(None, nn(DCT + "license"), None, None):
            if (
                isinstance(q.subject, pyoxigraph.NamedNode)
                and q.subject.value == base_iri + "ontology"
            ):
                license_iri = q.object.value
    add(ds, RDF_TYPE, nn(DCAT + "Dataset"))
    add(ds, RDF_TYPE, nn(VOID + "Dataset"))
    add(ds, DCT + "title", text(title))
    if description:
        add(ds, DCT + "description", text(description, site.description_language))
    if license_iri:
        add(ds, DCT + "license", nn(license_iri))
    if site.publisher:
        add(ds, DCT + "publisher", nn(site.publisher))
    if site.cica:
        add(ds, DCT + "conformsTo", nn(base_iri + "ontology"))
    add(ds, DCAT + "landingPage", nn(base_url + "index.html"))
    add(nn(base_url + "index.html"), RDF_TYPE, nn(FOAF + "Document"))
    add(ds, FOAF + "homepage", nn(base_url + "index.html"))
    add(ds, VOID + "uriSpace", text(base_iri, None))
    add(ds, VOID + "triples", num(triples))
    add(ds, VOID + "entities", num(len(entities)))
    add(ds, VOID + "classes", num(len(classes)))
    add(ds, VOID + "properties", num(len(props)))
    add(ds, VOID + "distinctSubjects", num(len(subjects)))
    add(ds, VOID + "distinctObjects", num(len(objects)))
    for example in ("id/cica",) if site.cica else ():
        if base_iri + example in entities:
            add(ds, VOID + "exampleResource", nn(base_iri + example))
    vocabularies = set()
    for iri in list(props) + list(classes):
        for ns in PREFIXES.values():
            if iri.startswith(ns) and iri != ns:
                vocabularies.add(ns)
    for ns in sorted(vocabularies):
        add(ds, VOID + "vocabulary", nn(ns))
    for c in sorted(classes):
        part = nn(f"{base_iri}dataset#class-{_slug(c)}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", nn(c))
        add(part, VOID + "entities", num(len(classes[c])))
    for p in sorted(props):
        part = nn(f"{base_iri}dataset#property-{_slug(p)}")
        add(ds, VOID + "propertyPartition", part)
        add(part, VOID + "property", nn(p))
        add(part, VOID + "triples", num(props[p]))
    linkset = nn(base_iri + "dataset#wikidata-links")
    wikidata = nn(base_iri + "dataset#wikidata")
    if not site.cica and links == 0:
        linkset = None
    if linkset is not None:
        _wikidata_linkset(add, text, num, ds, linkset, wikidata, links)
    for d in distributions:
        node = nn(f"{base_iri}dataset#dump-{d.format}")
        url = nn(base_url + d.path)
        media = MEDIA_TYPES[d.format]
        add(ds, DCAT + "distribution", node)
        add(ds, VOID + "dataDump", url)
        add(node, RDF_TYPE, nn(DCAT + "Distribution"))
        add(node, DCT + "title", text(f"{title} ({media})"))
        add(node, DCT + "description", text(f"The whole dataset in {_FORMAT_NAMES[d.format]}."))
        add(node, DCAT + "downloadURL", url)
        add(node, DCAT + "accessURL", url)
        add(node, DCAT + "mediaType", nn(f"https://www.iana.org/assignments/media-types/{media}"))
        add(node, DCT + "format", nn(EU_FILE_TYPES[d.format]))
        if d.size is not None:
            add(
                node,
                DCAT + "byteSize",
                pyoxigraph.Literal(str(d.size), datatype=nn(XSD + "nonNegativeInteger")),
            )
        if license_iri:
            add(node, DCT + "license", nn(license_iri))
        if site.publication.availability:
            add(node, DCATAP + "availability", nn(site.publication.availability))
    if site.cica:
        _dcat_ap(add, text, store, ds, base_iri, base_url, license_iri, site)
        declared: Any = nn(base_iri + "ontology")  # the vocabulary header: the dataset's dates
        publisher = nn(base_iri + "dataset#publisher")
        spatial = [nn(p) for p in CICA_SPATIAL]
        catalog = nn(base_iri + "dataset#catalog")
    else:
        own = _dataset_node(_Graph(store))
        declared = nn(own) if own else None
        spatial = _own_dcat_ap(add, store, ds, declared, [site.publisher, license_iri])
        publisher = nn(site.publisher) if site.publisher else None
        catalog = None
    _publisher_statements(
        add, store, site.publication, ds, catalog, declared, publisher, license_iri, spatial
    )
    return sorted(set(out), key=_triple_key)


DCATAP = "http://data.europa.eu/r5r/"
#: What a site of the user's data repeats in its description of what the data states of its
#: own dataset node (:func:`user_site`'s): DCAT-AP's recommended properties of a dataset.
_OWN_DCAT_AP = (
    DCAT + "contactPoint",
    DCAT + "keyword",
    DCAT + "theme",
    DCT + "spatial",
    DCT + "temporal",
    DCT + "language",
)


def _own_dcat_ap(
    add: Any, store: pyoxigraph.Store, ds: Any, node: Any, described: Sequence[str | None]
) -> list[Any]:
    """What the user's data states of its dataset ``node`` (:data:`_OWN_DCAT_AP`), stated of
    ``ds``, with what the data says of those values, of the publisher and of the licence
    (``described``): their own triples, and those of the blank nodes they lead to. Returns the
    spatial coverage (``dct:spatial`` values)."""
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    todo: list[Any] = [nn(i) for i in described if i]
    spatial: list[Any] = []
    for prop in _OWN_DCAT_AP if node is not None else ():
        for q in store.quads_for_pattern(node, nn(prop), None, None):
            add(ds, prop, q.object)
            if not isinstance(q.object, pyoxigraph.Literal):
                todo.append(q.object)
            if prop == DCT + "spatial" and q.object not in spatial:
                spatial.append(q.object)
    seen: set[Any] = set()
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        for q in store.quads_for_pattern(s, None, None, None):
            add(s, q.predicate.value, q.object)
            if isinstance(q.object, pyoxigraph.BlankNode):
                todo.append(q.object)
    return spatial


def _declared_date(store: pyoxigraph.Store, node: Any, props: Sequence[str]) -> Any:
    """The first ``xsd:date`` or ``xsd:dateTime`` the data states of ``node`` by one of
    ``props`` (in that order; the earliest of several), as written; None without one."""
    import pyoxigraph

    for prop in props if node is not None else ():
        found = [
            q.object
            for q in store.quads_for_pattern(node, pyoxigraph.NamedNode(prop), None, None)
            if isinstance(q.object, pyoxigraph.Literal)
            and q.object.datatype.value in (XSD + "date", XSD + "dateTime")
        ]
        if found:
            return min(found, key=lambda o: o.value)
    return None


def _publisher_statements(
    add: Any,
    store: pyoxigraph.Store,
    pub: Publication,
    ds: Any,
    catalog: Any,
    declared: Any,
    publisher: Any,
    license_iri: str | None,
    spatial: Sequence[Any],
) -> None:
    """The DCAT-AP properties the publisher states (``pub``, the publish options) or the data
    declares of itself (``declared``: the vocabulary header on the CICA site, the data's
    dataset node on a site of the user's data): the issue and modification dates of the
    dataset and the catalogue (``--issued``, else the data's ``dcterms:issued``, else its
    ``dcterms:created``; ``--modified``, else ``dcterms:modified``), the publisher's and the
    licence's type (``--license-type``, else the type the licence's own text states,
    :data:`cica_ld.dcat_ap.KNOWN_LICENCE_TYPES`), and the geometry of the spatial coverage
    (``--spatial-bbox``, ``--spatial-centroid``: of the one ``dct:spatial``, or of a
    ``dataset#spatial-coverage`` location when the dataset states none). A
    :class:`UsageError` when an option has nothing to describe."""
    import pyoxigraph

    from cica_ld import dcat_ap

    nn = pyoxigraph.NamedNode

    def date(value: str | None) -> Any:
        if value is None:
            return None
        dt = XSD + ("dateTime" if dcat_ap.is_datetime(value) else "date")
        return pyoxigraph.Literal(value, datatype=nn(dt))

    issued = date(pub.issued) or _declared_date(store, declared, (DCT + "issued", DCT + "created"))
    modified = date(pub.modified) or _declared_date(store, declared, (DCT + "modified",))
    for node in (ds, catalog):
        if node is not None and issued is not None:
            add(node, DCT + "issued", issued)
        if node is not None and modified is not None:
            add(node, DCT + "modified", modified)
    if pub.publisher_type:
        if publisher is None:
            raise UsageError(
                "--publisher-type: the dataset has no publisher to describe (state the "
                "dct:publisher of the dataset node in the data)"
            )
        add(publisher, RDF_TYPE, nn(FOAF + "Agent"))
        add(publisher, DCT + "type", nn(pub.publisher_type))
    if pub.license_type and not license_iri:
        raise UsageError(
            "--license-type: the dataset has no licence to describe (state the dct:license "
            "of the dataset node in the data)"
        )
    types = pub.license_type or dcat_ap.KNOWN_LICENCE_TYPES.get(license_iri or "", ())
    for t in types:
        add(nn(license_iri or ""), RDF_TYPE, nn(DCT + "LicenseDocument"))
        add(nn(license_iri or ""), DCT + "type", nn(t))
    if pub.bbox is None and pub.centroid is None:
        return
    if len(spatial) > 1:
        names = ", ".join(str(s) for s in spatial)
        raise UsageError(
            f"--spatial-bbox/--spatial-centroid: the dataset has {len(spatial)} spatial "
            f"coverages ({names}); they describe one"
        )
    if spatial:
        place = spatial[0]
    else:
        place = nn(ds.value + "#spatial-coverage")
        add(ds, DCT + "spatial", place)
    add(place, RDF_TYPE, nn(DCT + "Location"))
    wkt = nn(dcat_ap.WKT_LITERAL)
    if pub.bbox is not None:
        add(place, DCAT + "bbox", pyoxigraph.Literal(pub.bbox, datatype=wkt))
    if pub.centroid is not None:
        add(place, DCAT + "centroid", pyoxigraph.Literal(pub.centroid, datatype=wkt))


def _dcat_ap(
    add: Any,
    text: Any,
    store: pyoxigraph.Store,
    ds: Any,
    base_iri: str,
    base_url: str,
    license_iri: str | None,
    site: SiteInfo,
) -> None:
    """What DCAT-AP 3 asks of the CICA site's description beyond DCAT and VoID: a catalogue,
    the publisher and contact point, keywords, theme, spatial and temporal coverage (the
    span of the dates in the data), and the classes its ranges expect of our own nodes."""
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    catalog = nn(base_iri + "dataset#catalog")
    publisher = nn(base_iri + "dataset#publisher")
    contact = nn(base_iri + "dataset#contact-point")
    period = nn(base_iri + "dataset#temporal-coverage")
    home = nn(base_url + "index.html")
    name = _vocabulary_publisher(store, base_iri) or CICA_CREATOR
    add(catalog, RDF_TYPE, nn(DCAT + "Catalog"))
    add(catalog, DCT + "title", text(f"{site.title} catalogue"))
    add(catalog, DCT + "description", text(f"The catalogue of the {site.title}: one dataset."))
    add(catalog, DCAT + "dataset", ds)
    add(catalog, DCT + "publisher", publisher)
    add(catalog, FOAF + "homepage", home)
    add(catalog, DCT + "language", nn(CICA_LANGUAGE))
    add(catalog, DCAT + "themeTaxonomy", nn(CICA_THEME_TAXONOMY))
    for place in CICA_SPATIAL:
        add(catalog, DCT + "spatial", nn(place))
    if license_iri:
        add(catalog, DCT + "license", nn(license_iri))
    add(home, RDF_TYPE, nn(FOAF + "Document"))
    add(publisher, RDF_TYPE, nn(FOAF + "Agent"))
    add(publisher, FOAF + "name", pyoxigraph.Literal(name))
    add(publisher, FOAF + "homepage", nn(CICA_HOMEPAGE))
    add(ds, DCT + "publisher", publisher)
    add(ds, DCAT + "contactPoint", contact)
    add(contact, RDF_TYPE, nn(VCARD + "Kind"))
    add(contact, VCARD + "fn", pyoxigraph.Literal(name))
    add(contact, VCARD + "hasURL", nn(CICA_HOMEPAGE))
    for keyword in site.keywords:
        add(ds, DCAT + "keyword", text(keyword))
    for theme in CICA_THEMES:
        add(ds, DCAT + "theme", nn(theme))
    add(ds, DCT + "language", nn(CICA_LANGUAGE))
    for place in CICA_SPATIAL:
        add(ds, DCT + "spatial", nn(place))
    span = _date_span(store)
    if span is not None:
        add(ds, DCT + "temporal", period)
        add(period, RDF_TYPE, nn(DCT + "PeriodOfTime"))
        add(period, DCAT + "startDate", span[0])
        add(period, DCAT + "endDate", span[1])
    add(nn(base_iri + "ontology"), RDF_TYPE, nn(DCT + "Standard"))
    add(nn(base_url + "index.html"), RDF_TYPE, nn(FOAF + "Document"))


def _vocabulary_publisher(store: pyoxigraph.Store, base_iri: str) -> str | None:
    import pyoxigraph

    onto = pyoxigraph.NamedNode(base_iri + "ontology")
    for q in store.quads_for_pattern(onto, pyoxigraph.NamedNode(DCT + "publisher"), None, None):
        if isinstance(q.object, pyoxigraph.Literal):
            return q.object.value
    return None


_SPAN_DATATYPES = {XSD + "date": 10, XSD + "gYearMonth": 7, XSD + "gYear": 4}


def _date_span(store: pyoxigraph.Store) -> tuple[Any, Any] | None:
    """The earliest and the latest W3C Time instant of the data (``time:inXSDDate``,
    ``inXSDgYearMonth``, ``inXSDgYear``), as written: the data's temporal coverage."""
    import pyoxigraph

    found: list[Any] = []
    for prop in (TIME + "inXSDDate", TIME + "inXSDgYearMonth", TIME + "inXSDgYear"):
        for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(prop), None, None):
            o = q.object
            dt = getattr(getattr(o, "datatype", None), "value", None)
            if isinstance(o, pyoxigraph.Literal) and len(o.value) == _SPAN_DATATYPES.get(dt):
                found.append(o)
    if not found:
        return None
    # compare at the precision written: "2002" < "2002-06" < "2002-06-04"
    return min(found, key=lambda o: o.value), max(found, key=lambda o: o.value)


def _wikidata_linkset(
    add: Any, text: Any, num: Any, ds: Any, linkset: Any, wikidata: Any, links: int
) -> None:
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    add(ds, VOID + "subset", linkset)
    add(linkset, RDF_TYPE, nn(VOID + "Linkset"))
    add(linkset, DCT + "title", text("Links to Wikidata", "en"))
    add(linkset, VOID + "linkPredicate", nn(OWL + "sameAs"))
    add(linkset, VOID + "subjectsTarget", ds)
    add(linkset, VOID + "objectsTarget", wikidata)
    add(linkset, VOID + "triples", num(links))
    add(wikidata, RDF_TYPE, nn(VOID + "Dataset"))
    add(wikidata, DCT + "title", text("Wikidata", "en"))
    add(wikidata, FOAF + "homepage", nn("https://www.wikidata.org/"))
    add(wikidata, VOID + "uriSpace", text(WIKIDATA, None))


def _slug(iri: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", compact(iri)).strip("-")


_IANA = "https://www.iana.org/assignments/media-types/"


def _media_type(g: _Graph, distribution: Any) -> str:
    """A distribution's media type (``text/turtle``), from its ``dcat:mediaType`` IRI."""
    for o in g.objects(distribution, DCAT + "mediaType"):
        return o.value.removeprefix(_IANA)
    return g.literal(distribution, (DCT + "format",)) or ""


def dataset_schema_jsonld(
    description: Sequence[Any],
    base_iri: str = BASE_IRI,
    base_url: str = BASE_IRI,
    *,
    site: SiteInfo = CICA_SITE,
) -> str:
    """schema.org ``Dataset`` JSON-LD (for search engines) from a DCAT description; keywords
    and creator are the site's (none unless the CICA site's or the data states them)."""
    import pyoxigraph

    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in description)
    g = _Graph(store, base_iri)
    ds = base_iri + "dataset"
    doc: dict[str, Any] = {
        "@context": {"@vocab": SCHEMA},
        "@type": "Dataset",
        "@id": ds,
        "name": g.literal(ds, (DCT + "title",)) or site.title,
        "description": g.literal(ds, (DCT + "description",)) or "",
        "url": normalize_base(base_url) + "dataset.html",
        "isAccessibleForFree": True,
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": _media_type(g, d),
                "contentUrl": g.objects(d, DCAT + "downloadURL")[0].value,
            }
            for d in g.objects(ds, DCAT + "distribution")
        ],
    }
    if site.keywords:
        doc["keywords"] = list(site.keywords)
    if site.cica:
        doc["creator"] = {"@type": "Organization", "name": CICA_CREATOR}
    publishers = g.objects(ds, DCT + "publisher")
    if publishers and not site.cica:
        doc["publisher"] = {"@id": publishers[0].value}
    licenses = g.objects(ds, DCT + "license")
    if licenses:
        doc["license"] = licenses[0].value
    return script_json(doc)


def render_dataset_html(
    description: Sequence[Any],
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
) -> str:
    """The dataset page: title, counts, distributions, linkset, class and property partitions."""
    import pyoxigraph

    store = pyoxigraph.Store()
    store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in description)
    g = _Graph(store, base_iri)
    page = _Page(path="dataset", g=g, base_url=normalize_base(base_url), pages=pages, site=site)
    ds = base_iri + "dataset"

    def one(s: str, p: str) -> str:
        vals = g.objects(s, p)
        return vals[0].value if vals else ""

    counts = [
        (name, one(ds, VOID + key))
        for name, key in (
            ("triples", "triples"),
            ("entities", "entities"),
            ("classes", "classes"),
            ("properties", "properties"),
            ("distinct subjects", "distinctSubjects"),
            ("distinct objects", "distinctObjects"),
        )
    ]
    dists = [
        {
            "title": one(d.value, DCT + "title"),
            "url": one(d.value, DCAT + "downloadURL"),
            "href": one(d.value, DCAT + "downloadURL").removeprefix(page.base_url),
            "format": _media_type(g, d),
            "size": one(d.value, DCAT + "byteSize"),
        }
        for d in g.objects(ds, DCAT + "distribution")
    ]
    linksets = [
        {
            "title": one(x.value, DCT + "title"),
            "predicate": compact(one(x.value, VOID + "linkPredicate")),
            "triples": one(x.value, VOID + "triples"),
        }
        for x in g.objects(ds, VOID + "subset")
    ]
    classes = sorted(
        (
            {
                "link": page.link(g.nn(one(p.value, VOID + "class"))),
                "count": int(one(p.value, VOID + "entities")),
            }
            for p in g.objects(ds, VOID + "classPartition")
        ),
        key=lambda r: (-r["count"], r["link"]["text"].lower()),
    )
    properties = sorted(
        (
            {
                "link": page.link(g.nn(one(p.value, VOID + "property"))),
                "count": int(one(p.value, VOID + "triples")),
            }
            for p in g.objects(ds, VOID + "propertyPartition")
        ),
        key=lambda r: (-r["count"], r["link"]["text"].lower()),
    )
    return _render(
        "dataset.html",
        head=_head(
            page, one(ds, DCT + "title") or "Dataset", description=one(ds, DCT + "description")
        ),
        iri=ds,
        title=one(ds, DCT + "title"),
        description=one(ds, DCT + "description"),
        license=[page.link(o) for o in g.objects(ds, DCT + "license")],
        counts=counts,
        distributions=dists,
        linksets=linksets,
        vocabularies=[page.link(o) for o in g.objects(ds, VOID + "vocabulary")],
        classes=classes,
        properties=properties,
        docs=[{"href": f"dataset{s}", "format": f} for s, f in RESOURCE_DOCS.items()],
        jsonld=dataset_schema_jsonld(description, base_iri, page.base_url, site=site),
    )


# ---------------------------------------------------------------------------------------------
# Content negotiation rules, sitemap
# ---------------------------------------------------------------------------------------------


# The negotiation the host rules do is the one of ``cica-ld serve`` (cica_ld.server.negotiate):
# each representation gets the q-value of the most specific Accept range that names it
# (``text/turtle``, then ``text/*``, then ``*/*``; an alias only when named exactly), the
# highest q wins, a tie goes to the earlier in CONNEG_FORMATS, and q=0 (or no matching range)
# refuses: 406. Neither Apache nor nginx rules can compare numbers, so each q-value is written
# with four digits (``q=0.5`` -> ``0500``, q=1 -> ``1000``) and two of them are compared by a
# regular expression with back-references (:func:`_greater_pattern`).

#: The representations of a document in the order of preference of ``cica-ld serve`` (Turtle
#: first, so ``*/*`` gets data): (suffix, media type, aliases counted only when named exactly).
CONNEG_FORMATS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (".ttl", "text/turtle", ("application/x-turtle",)),
    (".html", "text/html", ("application/xhtml+xml",)),
    (".jsonld", "application/ld+json", ("application/json",)),
    (".nt", "application/n-triples", ("text/plain",)),
    (".rdf", "application/rdf+xml", ()),
)

#: How a q-value is written after ``q=`` (a regex) -> its four digits (``{1}``: group 1).
_QVALUES = (
    (r"1(?:\.0{0,3})?", "1000"),
    (r"0(?:\.0{0,3})?", "0000"),
    (r"0\.(\d)", "0{1}00"),
    (r"0\.(\d\d)", "0{1}0"),
    (r"0\.(\d\d\d)", "0{1}"),
)


def _range_patterns(media: str) -> list[tuple[str, str]]:
    """(regex over the Accept header, four-digit q) for the range ``media`` (``*/*``,
    ``text/*`` or a type): one per way of writing its q, then one without a q (q=1)."""
    head = rf"(?:^|,)\s*{re.escape(media)}\s*"
    out = [(rf"{head}(?:;[^,]*?)?;\s*q\s*=\s*{value}\s*(?:[;,]|$)", q) for value, q in _QVALUES]
    out.append((rf"{head}(?:;(?!\s*q\s*=)[^,;]*)*(?:,|$)", "1000"))
    return out


def _q_ranges(media: str) -> list[tuple[str, str]]:
    """The patterns that set the q of ``media``, least specific range first (a later match
    overrides an earlier one): ``*/*``, ``type/*``, the type itself."""
    kind = media.split("/")[0]
    return [p for m in ("*/*", f"{kind}/*", media) for p in _range_patterns(m)]


def _greater_pattern() -> str:
    """A regex matching ``AAAA...,BBBB`` when the four digits BBBB are greater than AAAA: at
    the first digit where they differ, BBBB's is greater."""
    return "|".join(rf"^(\d*){d}[^,]*,\{d + 1}[{d + 1}-9]" for d in range(9))


def _q_name(suffix: str, alias: int = 0) -> str:
    return f"LD_Q{alias or ''}_{suffix[1:].upper()}"


def apache_negotiation() -> str:
    """mod_rewrite rules that leave the chosen representation in the environment variable
    ``LD_CHOICE`` as ``QQQQ.suffix`` (``0000.ttl`` when the Accept header refuses every
    one); used by the site's ``.htaccess`` and by ``w3id.htaccess``."""
    greater = _greater_pattern()

    def q_rules(var: str, patterns: Sequence[tuple[str, str]]) -> list[str]:
        out = []
        for regex, q in patterns:
            out.append(f'RewriteCond %{{HTTP_ACCEPT}} "{regex}" [NC]')
            out.append(f"RewriteRule ^ - [E={var}:{q.replace('{1}', '%1')}]")
        return out

    zero = ",".join(f"E={_q_name(s)}:0000" for s, _, _ in CONNEG_FORMATS)
    one = ",".join(f"E={_q_name(s)}:1000" for s, _, _ in CONNEG_FORMATS)
    lines = [
        f"RewriteRule ^ - [{zero}]",
        "# no Accept header, or an empty one: anything goes",
        'RewriteCond %{HTTP_ACCEPT} "^\\s*$"',
        f"RewriteRule ^ - [{one}]",
    ]
    for suffix, media, aliases in CONNEG_FORMATS:
        var = _q_name(suffix)
        lines.append(f"# {media}: the q of */*, then of {media.split('/')[0]}/*, then of {media}")
        lines += q_rules(var, _q_ranges(media))
        for n, alias in enumerate(aliases, 1):
            avar = _q_name(suffix, n)
            lines.append(f"# {alias}, named exactly, counts for {media}")
            lines.append(f"RewriteRule ^ - [E={avar}:0000]")
            lines += q_rules(avar, _range_patterns(alias))
            lines.append(f'RewriteCond "%{{ENV:{var}}},%{{ENV:{avar}}}" "{greater}"')
            lines.append(f"RewriteRule ^ - [E={var}:%{{ENV:{avar}}}]")
    first = CONNEG_FORMATS[0][0]
    lines.append("# the highest q wins; a tie goes to the earlier one")
    lines.append(f"RewriteRule ^ - [E=LD_CHOICE:%{{ENV:{_q_name(first)}}}{first}]")
    for suffix, _, _ in CONNEG_FORMATS[1:]:
        lines.append(f'RewriteCond "%{{ENV:LD_CHOICE}},%{{ENV:{_q_name(suffix)}}}" "{greater}"')
        lines.append(f"RewriteRule ^ - [E=LD_CHOICE:%{{ENV:{_q_name(suffix)}}}{suffix}]")
    return "\n".join(lines)


def nginx_negotiation() -> str:
    """nginx ``map`` blocks (for the ``http`` block) that set ``$ld_suffix`` to the suffix of
    the chosen representation, empty when the Accept header refuses every one."""
    greater = _greater_pattern()

    def q_map(var: str, patterns: Sequence[tuple[str, str]], empty: str) -> str:
        # nginx takes the first regex that matches: the most specific range first
        body = [f'    ""  {empty};']
        for regex, q in reversed(patterns):
            # nginx map values take named captures only
            regex = regex.replace(r"\.(\d", r"\.(?<ld_q>\d")
            body.append(f'    "~*{regex}"  "{q.replace("{1}", "${ld_q}")}";')
        body.append("    default  0000;")
        return f"map $http_accept ${var} {{\n" + "\n".join(body) + "\n}"

    def greater_map(a: str, b: str, out: str, then: str) -> str:
        return f'map "{a},{b}" ${out} {{\n    "~{greater}"  "{then}";\n    default  "{a}";\n}}'

    blocks = []
    for suffix, media, aliases in CONNEG_FORMATS:
        var = _q_name(suffix).lower()
        blocks.append(q_map(var + "_range", _q_ranges(media), "1000"))
        current = f"${var}_range"
        for n, _alias in enumerate(aliases, 1):
            avar = _q_name(suffix, n).lower()
            blocks.append(q_map(avar, _range_patterns(aliases[n - 1]), "0000"))
            blocks.append(greater_map(current, f"${avar}", var, f"${avar}"))
            current = f"${var}"
        if current != f"${var}":
            blocks.append(f'map "{current}" ${var} {{\n    default  "{current}";\n}}')
    first = CONNEG_FORMATS[0][0]
    choice = "$" + _q_name(first).lower()
    current = f"{choice}{first}"
    for n, (suffix, _, _) in enumerate(CONNEG_FORMATS[1:], 1):
        var = "$" + _q_name(suffix).lower()
        blocks.append(greater_map(current, var, f"ld_choice{n}", f"{var}{suffix}"))
        current = f"$ld_choice{n}"
    blocks.append(
        f'map "{current}" $ld_suffix {{\n    "~^0000"  "";\n'
        f'    "~^[0-9]{{4}}(?<ld_s>[.].+)$"  $ld_s;\n}}'
    )
    return "\n".join(blocks)


def htaccess(base_path: str = "/") -> str:
    """Apache rules for the site hosted under the URL path ``base_path``: each document path
    answers with the representation its Accept header prefers (Turtle, HTML, JSON-LD,
    N-Triples, RDF/XML: :data:`CONNEG_FORMATS`), 406 when it accepts none."""
    return _render("htaccess.txt", base_path=base_path, negotiation=apache_negotiation())


def nginx_conf(base_path: str = "/") -> str:
    """An nginx snippet doing the same content negotiation under ``base_path``."""
    return _render("nginx.conf.txt", base_path=base_path, negotiation=nginx_negotiation())


def w3id_htaccess(base_iri: str, base_url: str) -> str:
    """The w3id.org rules for ``base_iri``: 303 See Other to the representation at
    ``base_url`` that the Accept header prefers (negotiated as :func:`htaccess` does)."""
    return _render(
        "w3id.htaccess.txt",
        base_iri=base_iri,
        base_url=base_url,
        name=base_iri.rstrip("/").rsplit("/", 1)[-1],
        negotiation=apache_negotiation(),
    )


def sitemap(urls: Iterable[str]) -> str:
    return _render("sitemap.xml", urls=sorted(set(urls)))


# ---------------------------------------------------------------------------------------------
# The whole site
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A built site: file path (relative, ``/``-separated) -> content, plus what was left out."""

    files: dict[str, bytes]
    pages: tuple[str, ...]
    skipped: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class PublishResult:
    """What :func:`write_site` wrote."""

    out: Path
    files: int
    bytes: int
    pages: int
    skipped: tuple[str, ...]
    kept: tuple[str, ...] = ()


def _version_docs(store: pyoxigraph.Store | None, base_iri: str, folder: str) -> list[str]:
    """The site paths under ``folder`` of the ``owl:versionIRI``s ``store`` states."""
    import pyoxigraph

    if store is None:
        return []
    return sorted(
        rel
        for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(OWL + "versionIRI"), None, None)
        if isinstance(q.object, pyoxigraph.NamedNode)
        for rel in [resource_path(q.object.value, base_iri)]
        if rel is not None and rel.startswith(folder)
    )


def build_site(
    store: pyoxigraph.Store,
    *,
    vocabulary: pyoxigraph.Store | None = None,
    shapes: pyoxigraph.Store | None = None,
    base_url: str = BASE_IRI,
    base_iri: str = BASE_IRI,
    title: str | None = None,
    description: str | None = None,
    site: SiteInfo = CICA_SITE,
    progress: Progress | None = None,
) -> Site:
    """Render the static site for the data in ``store`` (vocabulary included, as
    :func:`cica_ld.dataset.load` gives it); ``vocabulary`` (if given) is documented in
    ``ontology.html`` and ``shapes`` (if given) in ``shapes.html``. ``site`` says what the site
    says about itself (:data:`CICA_SITE`, or :func:`user_site` for the user's data: no CICA
    context, names or keywords); ``title`` and ``description`` override the site's.
    ``progress`` counts the resources rendered.

    The whole site is built in memory (what the tests and small sites want);
    :func:`cica_ld.streaming.publish_streamed` writes the same files as it renders them, in
    worker processes, for sites of any size."""
    plan = plan_site(
        store,
        vocabulary=vocabulary,
        shapes=shapes,
        base_url=base_url,
        base_iri=base_iri,
        title=title,
        description=description,
        site=site,
    )
    return site_of(plan, progress)


def site_of(plan: SitePlan, progress: Progress | None = None) -> Site:
    """The site of ``plan`` in memory (:func:`build_site`)."""
    files: dict[str, bytes] = {}
    if progress is not None:
        progress.stage("rendering resource pages", total=len(plan.resource_docs))
    g = _Graph(plan.store, plan.base_iri)
    for rel, iris in plan.resource_items():
        if progress is not None:
            progress.advance()
        files.update(resource_files(plan, rel, iris, g=g))
        g.bound_caches(GRAPH_CACHE_LIMIT)
    html = [f"{rel}.html" for rel in plan.resource_docs]
    for rel, content in site_files(plan, html):
        files[rel] = content
    return Site(
        files=dict(sorted(files.items())),
        pages=tuple(sorted(plan.pages)),
        skipped=tuple(sorted(plan.skipped)),
    )


#: A :class:`_Graph` that renders many pages empties its caches past this many nodes.
GRAPH_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class SitePlan:
    """What every file of a site is rendered from (:func:`plan_site`): the stores (blank
    node labels made stable), the site's bases and self-description, its paths."""

    store: Any
    vocabulary: Any
    shapes: Any
    base_url: str
    base_iri: str
    site: SiteInfo
    docs: dict[str, list[str]]  # site path -> the IRIs its document describes
    resource_docs: dict[str, list[str]]  # those that get a resource page
    pages: frozenset[str]
    skipped: frozenset[str]
    version_docs: list[str]
    shape_version_docs: list[str]
    index_docs: list[list[str]]

    def resource_items(self) -> list[tuple[str, list[str]]]:
        """The resource pages to render, ``(path, IRIs)``, sorted by path."""
        return sorted(self.resource_docs.items())


def plan_site(
    store: pyoxigraph.Store,
    *,
    vocabulary: pyoxigraph.Store | None = None,
    shapes: pyoxigraph.Store | None = None,
    base_url: str = BASE_IRI,
    base_iri: str = BASE_IRI,
    title: str | None = None,
    description: str | None = None,
    site: SiteInfo = CICA_SITE,
) -> SitePlan:
    """The :class:`SitePlan` of :func:`build_site` (same arguments)."""
    import pyoxigraph

    base_url = normalize_base(base_url)
    site = dataclasses.replace(
        site,
        title=site.title if title is None else title,
        description=site.description if description is None else description,
        documented=frozenset(
            name
            for name, store_ in (("ontology", vocabulary), ("shapes", shapes))
            if store_ is not None
        ),
    )
    store = _stable_store(store)
    vocabulary = _stable_store(vocabulary) if vocabulary is not None else None
    shapes = _stable_store(shapes) if shapes is not None else None
    docs = site_resources(store, base_iri)
    special = {"index", "ontology", "shapes", "dataset"}
    # the version IRIs (ontology/0.1.0, shapes/0.1.0) get the vocabulary's and the shapes'
    # documents too
    version_docs = _version_docs(vocabulary, base_iri, "ontology/")
    shape_version_docs = _version_docs(shapes, base_iri, "shapes/")
    index_docs = index_documents(store, base_iri, site=site, docs=docs)
    has_vocabulary, has_shapes = vocabulary is not None, shapes is not None
    resource_docs = {
        rel: iris
        for rel, iris in docs.items()
        if not site.reserved(rel, vocabulary=has_vocabulary, shapes=has_shapes)
    }
    skipped = {
        t.value
        for q in store.quads_for_pattern(None, None, None, None)
        for t in (q.subject, q.object)
        if isinstance(t, pyoxigraph.NamedNode)
        and t.value.startswith(base_iri)
        and resource_path(t.value, base_iri) is None
    }
    skipped |= {
        iri
        for rel, iris in docs.items()
        if rel not in resource_docs
        and rel not in special
        and rel not in version_docs
        and rel not in shape_version_docs
        for iri in iris
    }
    pages = frozenset(
        [*resource_docs, "index", "dataset", *version_docs, *shape_version_docs]
        + [f"index/{n}" for n in range(1, len(index_docs) + 1)]
        + (["ontology"] if vocabulary is not None else [])
        + (["shapes"] if shapes is not None else [])
    )
    return SitePlan(
        store=store,
        vocabulary=vocabulary,
        shapes=shapes,
        base_url=base_url,
        base_iri=base_iri,
        site=site,
        docs=docs,
        resource_docs=resource_docs,
        pages=pages,
        skipped=frozenset(skipped),
        version_docs=version_docs,
        shape_version_docs=shape_version_docs,
        index_docs=index_docs,
    )


def resource_files(
    plan: SitePlan, rel: str, iris: Sequence[str], *, g: _Graph | None = None
) -> list[tuple[str, bytes]]:
    """The files of the resource page ``rel`` describing ``iris``: the HTML page and its
    documents (:data:`RESOURCE_DOCS`). ``g`` (a :class:`_Graph` of ``plan.store``) lends its
    label cache across pages."""
    store, base_iri, site = plan.store, plan.base_iri, plan.site
    main = [i for i in iris if "#" not in i]
    iri = main[0] if main else base_iri + rel
    if "#" in "".join(iris) and not main:
        iri = iris[0]
    out = [
        (
            f"{rel}.html",
            render_resource_html(
                store, iri, plan.base_url, base_iri=base_iri, pages=plan.pages, site=site, g=g
            ).encode("utf-8"),
        )
    ]
    # links past MAX_INCOMING: in the N-Triples dump
    triples = with_reference_labels(
        store,
        document_graph(store, base_iri + rel, iris, more=f"{base_iri}dumps/{site.name}.nt", g=g),
    )
    docs = _documents(triples, site)
    out.extend((f"{rel}{suffix}", docs[fmt]) for suffix, fmt in RESOURCE_DOCS.items())
    return out


def _documents(triples: Sequence[Any], site: SiteInfo) -> dict[str, bytes]:
    """``triples`` in each format of :data:`RESOURCE_DOCS`: the bytes :func:`export_document`
    gives each, the triples sorted (blank nodes labelled) and their prefixes found once for
    all of them."""
    from cica_ld import export, jsonld

    quads = jsonld.stable_quads(_quads(triples))
    used = export._used_prefixes(quads, export.PREFIXES)
    fmts = list(RESOURCE_DOCS.values())
    out = export.export_documents(quads, [f for f in fmts if f != "jsonld"], stable=True, used=used)
    if "jsonld" in fmts:
        out["jsonld"] = export_document(quads, "jsonld", site=site, stable=True, used=used)
    return out


class DumpStream:
    """A whole-data dump of ``store`` in ``fmt`` (:meth:`write_to` a file, streamed; or
    ``bytes()`` of it): the bytes :func:`export_document` gives for all the quads
    (``whole``), written subject by subject (JSON-LD: one node object at a time,
    :class:`cica_ld.jsonld.CompactNodeWriter`; what it does not handle, in memory).
    ``size`` is its length once written."""

    def __init__(self, store: Any, fmt: str, site: SiteInfo) -> None:
        self.store, self.fmt, self.site = store, fmt, site
        self.size: int | None = None

    def write_to(self, f: Any) -> None:
        """Write the dump to the binary file ``f`` (anything with ``write``)."""
        from cica_ld import export

        counted = _Counting(f)
        if self.fmt == "rdfxml":
            export.write_rdfxml(self.store, counted)
        else:
            for chunk in self._chunks():
                counted.write(chunk)
        self.size = counted.size

    def _chunks(self) -> Iterator[bytes]:
        from cica_ld import export

        store, fmt = self.store, self.fmt
        if fmt == "turtle":
            return export.turtle_chunks(store)
        if fmt == "jsonld":
            return self._jsonld_chunks()
        return export.export_chunks(store, fmt)

    def _jsonld_chunks(self) -> Iterator[bytes]:
        import itertools

        from cica_ld import export, jsonld
        from cica_ld.progress import NO_PROGRESS

        store = self.store
        writer = None
        try:
            if self.site.cica:
                writer = jsonld.CompactNodeWriter("inline")
            else:  # as export_document: the standard prefixes used, every value an array
                used = export.store_prefixes(store, export.PREFIXES)
                ctx = {p: ns for p, ns in used.items() if not ns.startswith(BASE_IRI)}
                writer = jsonld.CompactNodeWriter(jsonld.prefix_context(ctx), compact_arrays=False)
        except ValueError:
            writer = None
        plan = export._default_graph_plan(store, NO_PROGRESS) if writer is not None else None
        if writer is not None and plan is not None and plan.subjects:
            keyed = sorted(((writer.sort_key(s), s) for s in plan.subjects), key=lambda k: k[0])
            if not any(a[0] == b[0] for a, b in itertools.pairwise(keyed)):
                order = [s for _, s in keyed]
                del keyed
                return export._stream_jsonld(plan, order, writer, NO_PROGRESS)
        # what the streaming compactor does not handle: the whole document in memory
        quads = export.all_quads(store)
        return iter((export_document(quads, "jsonld", site=self.site, whole=True),))

    def __bytes__(self) -> bytes:
        import io as _io

        buf = _io.BytesIO()
        self.write_to(buf)
        return buf.getvalue()


class _Counting:
    """A binary file that counts the bytes written through it."""

    def __init__(self, f: Any) -> None:
        self.f, self.size = f, 0

    def write(self, data: bytes) -> int:
        self.f.write(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        flush = getattr(self.f, "flush", None)
        if flush is not None:
            flush()


def site_files(
    plan: SitePlan, resource_html: Iterable[str], *, streamed: bool = False
) -> Iterator[tuple[str, Any]]:
    """Every file of the site but the resource pages' (:func:`resource_files`), one at a time.
    ``resource_html``: the resource pages' file names (the sitemap lists them). Each file is
    bytes; with ``streamed`` a dump is a :class:`DumpStream` instead, which the caller writes
    (:meth:`DumpStream.write_to`) before asking for the next file."""
    html_pages = list(resource_html)
    for rel, content in _site_files(plan):
        if isinstance(content, DumpStream) and not streamed:
            content = bytes(content)
        if rel.endswith(".html") and rel != "404.html":
            html_pages.append(rel)
        yield rel, content
    base_url = plan.base_url
    yield (
        "sitemap.xml",
        sitemap(base_url + ("" if p == "index.html" else p) for p in sorted(html_pages)).encode(
            "utf-8"
        ),
    )
    yield "robots.txt", f"User-agent: *\nAllow: /\nSitemap: {base_url}sitemap.xml\n".encode()


def _site_files(plan: SitePlan) -> Iterator[tuple[str, bytes]]:
    from cica_ld import export, jsonld

    store, vocabulary, shapes = plan.store, plan.vocabulary, plan.shapes
    base_url, base_iri, site, pages = plan.base_url, plan.base_iri, plan.site, plan.pages
    version_docs, shape_version_docs = plan.version_docs, plan.shape_version_docs
    index_docs, docs = plan.index_docs, plan.docs
    # vocabulary, shapes, context
    if vocabulary is not None:
        vocab_quads = export.all_quads(vocabulary)
        vocab_html = render_vocabulary_html(
            vocabulary, store, base_url, base_iri=base_iri, pages=pages, site=site
        )
        for rel in ["ontology", *version_docs]:
            html = vocab_html if rel == "ontology" else _rebase_html(vocab_html, rel)
            yield f"{rel}.html", html.encode("utf-8")
            for suffix, fmt in VOCAB_DOCS.items():
                yield f"{rel}{suffix}", export_document(vocab_quads, fmt, site=site)
    if shapes is not None:
        shapes_html = render_shapes_html(
            shapes, base_url, base_iri=base_iri, pages=pages, site=site
        )
        shape_quads = export.all_quads(shapes)
        for rel in ["shapes", *shape_version_docs]:
            html = shapes_html if rel == "shapes" else _rebase_html(shapes_html, rel)
            yield f"{rel}.html", html.encode("utf-8")
            for suffix, fmt in RESOURCE_DOCS.items():
                yield f"{rel}{suffix}", export_document(shape_quads, fmt, site=site)
    if site.cica:
        yield "context.jsonld", jsonld.context_path().read_bytes()

    # dumps (streamed: the consumer writes each, then its size is known) and the dataset
    # description
    distributions = []
    for name, fmt in site.dumps().items():
        dump = DumpStream(store, fmt, site)
        yield f"dumps/{name}", dump
        if dump.size is None:  # the consumer did not write it: as bytes
            bytes(dump)
        assert dump.size is not None
        distributions.append(Distribution(f"dumps/{name}", fmt, dump.size))
    desc = dataset_description(
        store, base_url, base_iri=base_iri, distributions=distributions, site=site
    )
    written = _documents(desc, site)
    for suffix, fmt in RESOURCE_DOCS.items():
        yield f"dataset{suffix}", written[fmt]
    yield (
        "dataset.html",
        render_dataset_html(desc, base_url, base_iri=base_iri, pages=pages, site=site).encode(
            "utf-8"
        ),
    )
    # the root document (the base IRI) and the index documents: what a crawler starts from
    root = sorted(
        set(desc) | set(index_graph(store, base_iri, site=site, listing=index_docs)),
        key=_triple_key,
    )
    written = _documents(root, site)
    for suffix, fmt in RESOURCE_DOCS.items():
        yield f"index{suffix}", written[fmt]
    for n in range(1, len(index_docs) + 1):
        listing = index_page_graph(store, base_iri, n, site=site, listing=index_docs) or []
        written = _documents(listing, site)
        for suffix, fmt in RESOURCE_DOCS.items():
            yield f"index/{n}{suffix}", written[fmt]
        html = render_index_page_html(
            store, n, base_url, base_iri=base_iri, pages=pages, site=site, listing=index_docs
        )
        yield f"index/{n}.html", (html or "").encode("utf-8")

    # index and the files around it
    yield (
        "index.html",
        render_index_html(
            store, base_url, base_iri=base_iri, pages=pages, site=site, docs=docs
        ).encode("utf-8"),
    )
    index = search_index(
        store, base_iri=base_iri, pages=pages, site=site, vocabulary=vocabulary, docs=docs
    )
    count = len(index["items"])
    yield from search_files(index).items()
    del index
    yield (
        "search.html",
        render_search_html(
            store, base_url, base_iri=base_iri, pages=pages, site=site, count=count
        ).encode("utf-8"),
    )
    yield (
        "404.html",
        render_not_found_html(store, base_url, base_iri=base_iri, pages=pages, site=site).encode(
            "utf-8"
        ),
    )
    yield "style.css", (TEMPLATES_DIR / "style.css").read_bytes()
    yield ".htaccess", htaccess(urlsplit(base_url).path or "/").encode("utf-8")
    yield "nginx.conf", nginx_conf(urlsplit(base_url).path or "/").encode("utf-8")
    if base_url != base_iri and base_iri.startswith("https://w3id.org/"):
        yield "w3id.htaccess", w3id_htaccess(base_iri, base_url).encode("utf-8")
    yield ".nojekyll", b""


def render_not_found_html(
    store: pyoxigraph.Store,
    base_url: str = BASE_IRI,
    *,
    base_iri: str = BASE_IRI,
    pages: frozenset[str] | None = None,
    site: SiteInfo = CICA_SITE,
) -> str:
    """The 404 page. A host serves it at any depth, so its links are from the site's root
    path (``/`` or the path of ``base_url``), not relative."""
    page = _Page("404", _Graph(store, base_iri), normalize_base(base_url), pages, site)
    head = _head(page, "Not found")
    head["root"] = urlsplit(page.base_url).path or "/"
    css = (TEMPLATES_DIR / "style.css").read_text(encoding="utf-8")
    return _render("404.html", head=head, css=css)


def _stable_store(store: pyoxigraph.Store) -> pyoxigraph.Store:
    """``store`` itself, or a copy with RDFC-1.0 blank node labels if it has blank nodes (so
    pages that show blank nodes are the same on every run)."""
    import pyoxigraph

    from cica_ld.jsonld import stable_quads
    from cica_ld.lexical import exact_store

    blank = pyoxigraph.BlankNode
    if not any(  # read as a stream: no list of every quad where there is no blank node
        isinstance(q.subject, blank) or isinstance(q.object, blank)
        for q in store.quads_for_pattern(None, None, None, None)
    ):
        return store
    # literals as written stay so
    return exact_store(stable_quads(store.quads_for_pattern(None, None, None, None)))


def _rebase_html(html: str, rel: str) -> str:
    """The vocabulary page moved from ``ontology`` to ``rel`` (deeper): relative links fixed."""
    prefix = "../" * rel.count("/")
    return re.sub(
        r'(href|src)="(?!https?:|#|mailto:)([^"]*)"',
        lambda m: f'{m.group(1)}="{prefix}{m.group(2)}"',
        html,
    )


SITE_MARKER = ".cica-ld-site"

#: At most this many files are named when a publish refuses files in its way.
_SHOWN = 3


@dataclass(frozen=True)
class SiteFolder:
    """The ``--out`` folder as :func:`check_out` found it.

    ``real`` is the folder written (the end of a symbolic link chain: a link stays a link and
    its target is written through); ``owned`` maps each file a previous publish wrote there
    (from its manifest, ``.cica-ld-site``) to its recorded size and SHA-256 (``None`` when an
    older cica-ld wrote the marker without a list); ``exists`` says whether the folder is there.
    """

    given: Path
    real: Path
    exists: bool
    owned: Mapping[str, tuple[int, str] | None]
    listed: bool = True


def read_manifest(folder: str | Path) -> dict[str, tuple[int, str] | None] | None:
    """The files a previous ``publish`` wrote into ``folder`` (path relative to it -> size and
    SHA-256), ``{}`` for a marker without a list, ``None`` when there is no marker."""
    marker = Path(folder) / SITE_MARKER
    try:
        text = marker.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the site manifest: {exc}", path=marker) from None
    try:
        doc = json.loads(text)
    except ValueError:
        return {}  # the one-line marker of cica-ld before 0.x: no list of files
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        raise InputError('not a site manifest (no "files" object)', path=marker)
    owned: dict[str, tuple[int, str] | None] = {}
    for rel, entry in files.items():
        if not isinstance(rel, str) or not _safe_rel(rel):
            raise InputError(f"site manifest names a path outside the site: {rel!r}", path=marker)
        ok = isinstance(entry, dict) and isinstance(entry.get("bytes"), int)
        owned[rel] = (entry["bytes"], str(entry.get("sha256", ""))) if ok else None
    return owned


def _listed(folder: Path) -> bool:
    """Whether the marker in ``folder`` is a manifest (a list of files, maybe empty)."""
    try:
        return isinstance(json.loads((folder / SITE_MARKER).read_text(encoding="utf-8")), dict)
    except (OSError, ValueError):
        return False


def _safe_rel(rel: str) -> bool:
    """Whether ``rel`` names a file below the site folder (no ``..``, not absolute)."""
    parts = rel.split("/")
    return bool(rel) and not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def check_out(
    out: str | Path, *, force: bool = False, inputs: Iterable[str | Path] = ()
) -> SiteFolder:
    """Check the ``--out`` folder before any work and return what is there.

    ``out`` may be missing (its parent must exist), an empty folder, a folder a previous
    publish wrote (it holds the manifest ``.cica-ld-site``), or, with ``force``, any other
    folder (its files stay). A symbolic link to a folder is written through. Refused with
    :class:`InputError`: a file, a non-empty folder without the manifest (unless ``force``),
    and a folder that is, holds or lies inside one of ``inputs`` (the files and folders the
    command reads), or a file of the previous site that is an input.
    """
    given = Path(out)
    try:
        real = Path(os.path.realpath(given))
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise InputError(f"cannot write: {why}", path=given) from None
    link = f" (a link to {real})" if given.is_symlink() else ""
    exists = real.is_dir()
    if not exists:
        if real.exists() or real.is_symlink():
            raise InputError(f"is a file{link}, expected a folder for the site", path=given)
        if not real.parent.is_dir():
            raise InputError(f"cannot write{link}: the parent folder does not exist", path=given)
    owned = read_manifest(real) if exists else None
    listed = owned is None or bool(owned) or _listed(real)
    folder = SiteFolder(given, real, exists, owned or {}, listed)
    _check_not_an_input(folder, inputs)
    if owned is None and exists and any(real.iterdir()) and not force:
        raise InputError(
            f"the folder{link} is not empty and was not written by cica-ld publish",
            path=given,
            hint="choose a new or empty folder for --out, or add --force to write the site "
            "into it (its files stay)",
        )
    return folder


def _check_not_an_input(folder: SiteFolder, inputs: Iterable[str | Path]) -> None:
    """Raise :class:`InputError` if the site folder and one of ``inputs`` overlap."""
    for raw in inputs:
        try:
            src = Path(os.path.realpath(raw))
            is_dir = src.is_dir()
            if not src.exists():
                continue  # a missing input is reported when the command reads it
        except (OSError, ValueError):
            continue
        inside = src == folder.real or folder.real in src.parents
        if is_dir and (inside or src in folder.real.parents):
            where = (
                "is"
                if src == folder.real
                else "is inside"
                if src in folder.real.parents
                else ("holds")
            )
            raise InputError(
                f"{where} the input folder {raw}; cica-ld never writes over its input (and would "
                "read its own pages as data on the next run)",
                path=folder.given,
                hint="write the site to a folder outside the input folders",
            )
        if not is_dir and inside and src.relative_to(folder.real).as_posix() in folder.owned:
            raise InputError(
                f"holds the input {raw}, a file of the previous site that publish would replace; "
                "cica-ld never writes over its input",
                path=folder.given,
                hint="copy the input out of the site folder first",
            )


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _unchanged(path: Path, record: tuple[int, str] | None) -> bool:
    """Whether the file at ``path`` is still as the previous publish wrote it."""
    if record is None:  # a marker without a list: the file was the site's
        return path.is_file() and not path.is_symlink()
    size, digest = record
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size != size:
            return False
        return _sha256(path.read_bytes()) == digest
    except OSError:
        return False


def _manifest(files: Mapping[str, bytes]) -> bytes:
    return _manifest_of({rel: (len(b), _sha256(b)) for rel, b in files.items()})


def _manifest_chunks(
    files: Mapping[str, tuple[int, str | bytes]], skip: Container[str] = ()
) -> Iterator[bytes]:
    """:func:`_manifest_of` of the files not in ``skip``, as chunks (the same bytes once
    joined), written entry by entry: at a million files the whole document and its text
    would be several hundred MB. A SHA-256 is its hex text or its 32 bytes."""
    generator = f"cica-ld {__version__} publish"
    comment = (
        "the files cica-ld publish wrote here; a new run replaces or deletes only "
        "these (and only if unchanged)"
    )
    yield f'{{\n "comment": {json.dumps(comment)},\n "files": {{'.encode()
    parts: list[str] = []
    first = True
    for rel in sorted(files):
        if rel in skip:
            continue
        n, digest = files[rel]
        if isinstance(digest, bytes):
            digest = digest.hex()
        parts.append(
            f'{"" if first else ","}\n  {json.dumps(rel)}: {{\n   "bytes": {json.dumps(n)},'
            f'\n   "sha256": {json.dumps(digest)}\n  }}'
        )
        first = False
        if len(parts) >= 4096:
            yield "".join(parts).encode()
            parts = []
    close = "}" if first else "\n }"
    parts.append(f'{close},\n "generator": {json.dumps(generator)}\n}}\n')
    yield "".join(parts).encode()


def _manifest_of(files: Mapping[str, tuple[int, str]]) -> bytes:
    """The manifest of the files (path -> size and SHA-256) a publish wrote."""
    doc = {
        "generator": f"cica-ld {__version__} publish",
        "comment": "the files cica-ld publish wrote here; a new run replaces or deletes only "
        "these (and only if unchanged)",
        "files": {rel: {"bytes": n, "sha256": digest} for rel, (n, digest) in files.items()},
    }
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("utf-8")


def make_staging(real: Path, given: Path | str, *, created: bool) -> tuple[Path, Any]:
    """The staging folder of a publish into the folder ``real`` (``given``: as the user
    named it), made with signals held back (``created``: ``real`` is made first, and removed
    again if the staging folder cannot be). Returns the folder and the held signals: the
    caller releases them (:func:`cica_ld.io.release_signals`) first thing in the ``try``
    that removes the staging folder, so no signal falls in between and leaves it behind."""
    held = io.hold_signals()
    try:
        if created:
            real.mkdir()
        staging = Path(tempfile.mkdtemp(prefix=f"{SITE_MARKER}.", suffix=".tmp", dir=real))
    except OSError as exc:
        io.release_signals(held)
        if created:
            with contextlib.suppress(OSError):
                real.rmdir()
        raise InputError(f"cannot write: {exc.strerror or exc}", path=given) from None
    return staging, held


def write_site(
    site: Site,
    out: str | Path,
    progress: Progress | None = None,
    *,
    force: bool = False,
    inputs: Iterable[str | Path] = (),
) -> PublishResult:
    """Write ``site`` to the folder ``out`` (checked by :func:`check_out` with ``force`` and
    ``inputs``), touching only the files it owns.

    A file of the site replaces a file the previous publish wrote (listed in the manifest
    ``.cica-ld-site`` and unchanged since); a file of the previous site that the new one does
    not have is deleted. Every other file stays as it is: a ``.git``, a ``CNAME``, a file the
    user changed (then kept, and named in ``PublishResult.kept`` if the site no longer has it).
    A file of the user's where the site needs one is refused (:class:`InputError`), unless it
    already has the same content. The new files are first written to a hidden folder inside
    ``out``, then moved in with signals held back (a failure rolls the move back), so a
    failed or interrupted publish leaves the previous site as it was.
    """
    folder = check_out(out, force=force, inputs=inputs)
    real, given = folder.real, folder.given
    replace, same, stale, kept = _plan(site, folder)
    if progress is not None:
        progress.stage("writing files", total=len(site.files))
    created = not folder.exists
    staging, held = make_staging(real, given, created=created)
    try:
        io.release_signals(held)
        try:
            new = staging / "new"
            for rel, content in site.files.items():
                if progress is not None:
                    progress.advance()
                if rel in same:
                    continue
                path = new / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            (staging / SITE_MARKER).write_bytes(
                _manifest({r: c for r, c in site.files.items() if r not in same})
            )
            with io.signals_held():
                _commit(real, staging, replace=replace, stale=stale, files=site.files, same=same)
        except OSError as exc:
            raise InputError(f"cannot write the site: {exc.strerror or exc}", path=given) from None
    finally:
        with io.signals_held(), contextlib.suppress(OSError):  # a signal now would leave it
            shutil.rmtree(staging)
        if created:
            with contextlib.suppress(OSError):
                real.rmdir()  # only if nothing got in (a failed first publish)
    return PublishResult(
        out=given,
        files=len(site.files),
        bytes=sum(len(c) for c in site.files.values()),
        pages=sum(1 for p in site.files if p.endswith(".html")),
        skipped=site.skipped,
        kept=kept,
    )


def _plan(site: Site, folder: SiteFolder) -> tuple[list[str], set[str], list[str], tuple[str, ...]]:
    """What writing ``site`` into ``folder`` does: the previous site's files it replaces, the
    user's files that already have the site's content (left alone), the previous site's files
    it deletes, and those it keeps because they were changed. Raises :class:`InputError` when
    a file of the user's (or a changed one) is where the site writes."""
    real, given = folder.real, folder.given
    owned = folder.owned
    if not folder.listed:  # a marker of an older cica-ld: the files at the site's paths were its
        owned = {rel: None for rel in site.files if (real / rel).is_file()}
    # what is where the site's files go: the previous site's (replaced), the user's (refused,
    # unless already the same), a folder in the way (refused)
    replace: list[str] = []
    same: set[str] = set()
    conflicts: list[str] = []
    folders: set[str] = set()
    absent: dict[str, bool] = {}  # top folder -> not there (nothing below it to look at)
    for rel in site.files:  # the content read only where a file is already there
        top, sep, _ = rel.partition("/")
        if sep:
            if top not in absent:
                where = real / top
                absent[top] = not (where.exists() or where.is_symlink())
            if absent[top]:
                continue
        path = real / rel
        parent = rel
        while "/" in parent:  # the folders of rel, nearest first (Path(rel).parents)
            parent = parent.rpartition("/")[0]
            if parent in folders:
                break
            folders.add(parent)
            where = real / parent
            if (where.exists() or where.is_symlink()) and not where.is_dir():
                if parent in owned and _unchanged(where, owned[parent]):
                    continue  # a file of the previous site, deleted below
                conflicts.append(parent)
        if not (path.exists() or path.is_symlink()):
            continue
        if rel in owned and _unchanged(path, owned[rel]):
            replace.append(rel)
        elif path.is_file() and not path.is_symlink() and path.read_bytes() == site.files[rel]:
            same.add(rel)  # the user's copy is already right: left alone, not claimed
        else:
            conflicts.append(rel)
    if conflicts:
        shown = ", ".join(sorted(set(conflicts))[:_SHOWN])
        more = len(set(conflicts)) - _SHOWN
        raise InputError(
            f"files that cica-ld publish did not write (or that were changed since) are where "
            f"the site's files go: {shown}{f' and {more} more' if more > 0 else ''}",
            path=given,
            hint="move them out of the folder, then run again (publish never overwrites them)",
        )
    stale = [
        rel
        for rel in sorted(owned)
        if rel not in site.files and owned[rel] is not None and (real / rel).exists()
    ]
    kept = tuple(rel for rel in stale if not _unchanged(real / rel, owned[rel]))
    stale = [rel for rel in stale if rel not in kept]
    return replace, same, stale, kept


def _commit(
    real: Path,
    staging: Path,
    *,
    replace: Sequence[str],
    stale: Sequence[str],
    files: Mapping[str, bytes],
    same: set[str],
) -> None:
    """Move the staged site into ``real``: the previous site's files to replace or delete go
    to ``staging/old`` first, then the new ones in, then the manifest. On an error every move
    is undone and the error raised."""
    old = staging / "old"
    moved: list[tuple[Path, Path]] = []  # (from, to), in order
    made: list[Path] = []
    try:
        for rel in [*replace, *stale]:
            dest = old / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(real / rel, dest)
            moved.append((real / rel, dest))
        whole: dict[str, bool] = {}  # top folder -> moved in one piece (not at ``real``)
        for rel in [*files, SITE_MARKER]:
            if rel in same:
                continue
            top, sep, _ = rel.partition("/")
            if sep:
                if top not in whole:
                    dest = real / top
                    whole[top] = not (dest.exists() or dest.is_symlink())
                    if whole[top]:  # a new folder: moved whole (no file of it is `same`)
                        os.replace(staging / "new" / top, dest)
                        moved.append((staging / "new" / top, dest))
                if whole[top]:
                    continue
            dest = real / rel
            for parent in reversed(dest.parents):
                if parent != real and real in parent.parents and not parent.is_dir():
                    parent.mkdir()
                    made.append(parent)
            os.replace(staging / ("new" if rel != SITE_MARKER else "") / rel, dest)
            moved.append((staging / ("new" if rel != SITE_MARKER else "") / rel, dest))
    except BaseException:
        for src, dest in reversed(moved):
            with contextlib.suppress(OSError):
                os.replace(dest, src)
        for parent in reversed(made):
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    for rel in stale:  # folders left empty by the deleted files go too
        for parent in Path(rel).parents:
            if str(parent) == ".":
                break
            try:
                (real / parent).rmdir()
            except OSError:
                break


def publish(
    out: str | Path,
    *,
    data: Sequence[str | Path] | None = None,
    input_format: str | None = None,
    ontology: Sequence[str | Path] | None = None,
    shapes: Sequence[str | Path] | None = None,
    base_url: str | None = None,
    base_iri: str | None = None,
    title: str | None = None,
    name: str | None = None,
    progress: Progress | None = None,
    context_map: Mapping[str, Any] | None = None,
    force: bool = False,
    publication: Mapping[str, Any] | None = None,
    jobs: int | None = None,
    chunk: int | None = None,
) -> PublishResult:
    """Load the data, build the site, write it to ``out`` as it is rendered (worker processes
    render the resource pages: ``jobs`` of them, ``chunk`` pages a task; see
    :func:`cica_ld.streaming.publish_streamed`; the same files as :func:`build_site` and
    :func:`write_site`). ``publication``: the publisher's
    DCAT-AP statements the options give (:func:`cica_ld.dcat_ap.publication`'s fields), over
    the site's (:data:`CICA_PUBLICATION` on the CICA site, none on a site of the user's data).
    ``progress`` is told the stages; ``context_map`` serves remote JSON-LD contexts of the
    files from local copies; ``force`` writes into a non-empty folder that no publish wrote
    (see :func:`write_site`). ``out`` is checked first (:func:`check_out`): it never is,
    holds or lies inside an input.

    Without ``data``: the embedded CICA dataset's site (its vocabulary and shapes
    documented, the CICA base IRI, title, context and dump names). With ``data``: a site of
    exactly that data and nothing else: no CICA vocabulary, shapes or JSON-LD context
    (``ontology`` and ``shapes``, if given, are documented and the ontology is loaded with
    the data), pages for the IRIs under ``base_iri`` (default: :func:`infer_base_iri`),
    title, description and dump names from the data or the options (:func:`user_site`).
    ``base_url`` (where the site is hosted) defaults to the base IRI.
    """
    import pyoxigraph

    from cica_ld import dataset
    from cica_ld.lexical import exact_store

    if name is not None:
        _check_name(name)
    if base_iri is not None:
        base_iri = normalize_base(base_iri, option="--base-iri")
    if base_url is not None:
        base_url = normalize_base(base_url)
    mine = data is not None
    inputs = [
        *(data if mine else [dataset.bundled_dir(k) for k in ("ontology", "data", "shapes")]),
        *(ontology or ()),
        *(shapes or ()),
    ]
    check_out(out, force=force, inputs=inputs)
    ds = dataset.load(
        data,
        input_format=input_format,
        include_ontology=not mine or ontology is not None,
        ontology=ontology,
        progress=progress,
        context_map=context_map,
    )
    store: Any = ds.store
    if ds.as_written:  # literals kept as written (cica_ld.lexical): read them decoded
        from cica_ld.lexical import AsWrittenStore

        store = AsWrittenStore(ds.store)

    def store_of(files: Sequence[Path]) -> Any:
        if not files:
            return None
        return exact_store(q for f in files for q in dataset.parse_file(f, context_map=context_map))

    if ontology is not None:
        vocab = store_of(dataset.expand_paths(ontology))
    else:
        vocab = None if mine else store_of(dataset.bundled_files("ontology"))
    if shapes is not None:
        shape_store = store_of(dataset.expand_paths(shapes))
    else:
        shape_store = None if mine else store_of(dataset.bundled_files("shapes"))
    if mine:
        base_iri = base_iri or infer_base_iri(store)
        info = user_site(store, data, title=title, name=name)
    else:
        base_iri = base_iri or BASE_IRI
        info = dataclasses.replace(
            CICA_SITE, title=title or CICA_SITE.title, name=name or "cica-ld"
        )
    if publication:
        stated = dataclasses.replace(info.publication, **publication)
        info = dataclasses.replace(info, publication=stated)
    if progress is not None:
        progress.stage("building the site")
    plan = plan_site(
        store,
        vocabulary=vocab if vocab is not None or mine else pyoxigraph.Store(),
        shapes=shape_store,
        base_url=base_url or base_iri,
        base_iri=base_iri,
        site=info,
    )
    from cica_ld.streaming import publish_streamed

    return publish_streamed(
        plan, out, progress=progress, force=force, inputs=inputs, jobs=jobs, chunk=chunk
    )
