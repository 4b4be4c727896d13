"""`cica-ld serve`: a read-only SPARQL 1.1 Protocol endpoint and a linked-data server.

The app (:func:`create_app`) is a Starlette application served by uvicorn (:func:`run`):

* ``/sparql``: the SPARQL 1.1 Protocol. ``GET ?query=``, ``POST`` form-encoded (``query=``) or
  ``application/sparql-query``; ``default-graph-uri`` / ``named-graph-uri`` are honoured.
  Results by ``Accept`` (or ``?format=``): SPARQL JSON, XML, CSV, TSV for SELECT/ASK; Turtle,
  N-Triples, JSON-LD, RDF/XML for CONSTRUCT/DESCRIBE; anything else is ``406``. ``GET /sparql``
  without a query returns the SPARQL service description (``sd:Service``, Turtle by default).
  Read-only: an update (``application/sparql-update``, an ``update=`` field, or update text sent as
  a query) gets ``403``; so does ``SERVICE`` (the server never fetches from the network). A
  malformed query gets ``400`` with the parser's message.
* **Timeout.** Each query runs in a worker *process* (a pool of ``workers``; each worker holds its
  own copy of the dataset). Inside the worker, a deadline is checked on every solution while
  iterating (pyoxigraph iterates lazily), which cuts most runaway queries (a huge cross join)
  cleanly. Work pyoxigraph does before the first solution (ORDER BY, GROUP BY, COUNT over a
  cross join) cannot be interrupted from Python, so the server waits ``timeout + grace`` seconds
  and then kills the worker and starts a new one. Either way the client gets ``503`` and the
  server keeps serving. With ``workers=0`` queries run in threads of the server process instead:
  the per-solution deadline still applies, but a blocking runaway query keeps its thread busy
  until pyoxigraph returns (the client still gets ``503`` at the hard deadline).
* **Result cap.** At most ``max_results`` solutions (or triples) are returned; a truncated
  response carries the header ``X-SPARQL-MaxRows: N`` (the convention Virtuoso uses). An
  answer is at most ``max_response_bytes`` (fewer solutions, ``X-SPARQL-MaxBytes: N``).
* **Under load.** A query whose client hangs up is stopped (its worker killed; a spare takes
  its place); at most ``max_queue`` queries wait for a worker (then ``503`` + ``Retry-After``);
  a worker that dies is replaced, never reused; large answers go out in chunks and a client
  that stops reading is dropped; ``/dumps/`` files are made once, in the background, and
  streamed. :func:`run` adds what uvicorn lacks (:class:`ConnectionGuard`): a deadline to send
  a request, a bound on open connections (the oldest idle one goes first), ``414`` for long
  URLs, and a grace period on SIGTERM.
* ``/id/...`` and every other path under the base IRI: the resource with that IRI
  (``base_iri`` + path; a hash IRI's terms are served with their document, so ``/ontology``
  holds the vocabulary), by content negotiation: Turtle (the default for ``*/*``), the HTML page
  of ``cica-ld publish`` (browsers ask for text/html), JSON-LD (compacted with the project
  context, inlined), N-Triples, RDF/XML; ``?format=`` overrides ``Accept``; a file suffix as in
  the published site (``/id/cica.ttl``, ``/id/cica.html``) names the document directly. The
  server answers ``200`` directly (no 303 round trip) with ``Vary: Accept`` and a
  ``Content-Location`` naming the document served; ``404`` for an IRI the data does not
  describe. Rendered documents are cached (the data never changes while serving).
* The rest of the published site, rendered on request: ``/`` (the index page, or the dataset
  description in RDF), ``/dataset`` (DCAT/VoID, with ``void:sparqlEndpoint``), the vocabulary
  and shapes pages (``/ontology.html``, ``/shapes.html``), ``/dumps/...``, ``/context.jsonld``,
  ``/style.css``; ``/.well-known/void`` is the dataset description in RDF.
* CORS is open (``*``, no credentials) so browser clients such as YASGUI can query it.

The vocabulary and shapes pages and ``/context.jsonld`` are the CICA site's; a site of the
user's data (``site=``, :func:`site_for`) serves exactly its data, with the names and dumps
:func:`cica_ld.publish.user_site` gives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_attr

from cica_ld import namespaces as _namespaces

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from cica_ld.dataset import LoadedDataset

#: The base IRI of the CICA knowledge graph (resources live under ``id/``).
DEFAULT_BASE_IRI = "https://w3id.org/cica-ld/"
DEFAULT_QUERY_TIMEOUT = 10.0
DEFAULT_MAX_RESULTS = 10_000
#: Extra seconds a worker gets past the timeout before it is killed.
KILL_GRACE = 1.0
#: Largest request body (a POSTed query) accepted.
MAX_BODY_BYTES = 1_000_000
#: Largest answer to a query, in bytes (``--max-response-mb``): past it, fewer solutions are
#: returned and the response carries ``X-SPARQL-MaxBytes``.
DEFAULT_MAX_RESPONSE_BYTES = 16_000_000
#: Queries that may wait for a busy worker (``--max-queue``); one more gets 503 + Retry-After.
DEFAULT_MAX_QUEUE = 16
#: Longest request target (path and query string) accepted; longer is 414.
MAX_URL_BYTES = 16_384
#: Largest request head (request line and headers) read before the connection is dropped.
MAX_HEAD_BYTES = 65_536
#: Seconds a client has to send a whole request (head and body) once it starts one, or to
#: start its first one after connecting (``--header-timeout``).
DEFAULT_HEADER_TIMEOUT = 10.0
#: Seconds an idle keep-alive connection stays open between requests (``--idle-timeout``).
DEFAULT_IDLE_TIMEOUT = 5.0
#: Seconds a response may wait for the client to read the next chunk before it is dropped.
SEND_TIMEOUT = 30.0
#: Seconds the server waits for open requests when told to stop (SIGTERM, Ctrl-C).
SHUTDOWN_GRACE = 5.0
#: Bytes sent per chunk of a large response (a client that stops reading holds at most this
#: much in the server's buffers, besides the answer itself).
CHUNK_BYTES = 65_536

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"

#: Prefixes used when serializing Turtle.
PREFIXES: dict[str, str] = _namespaces.PREFIXES


# --------------------------------------------------------------------------------------------
# Formats and content negotiation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """A representation the server can produce: a short name, its media type, aliases."""

    name: str
    media_type: str
    aliases: tuple[str, ...] = ()
    suffix: str = ""
    #: names accepted by ``?format=``
    keys: tuple[str, ...] = ()
    charset: bool = False

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


RESULTS_JSON = Format(
    "json", "application/sparql-results+json", ("application/json",), ".srj", ("json", "srj")
)
RESULTS_XML = Format(
    "xml",
    "application/sparql-results+xml",
    ("application/xml", "text/xml"),
    ".srx",
    ("xml", "srx"),
)
RESULTS_CSV = Format("csv", "text/csv", (), ".csv", ("csv",), charset=True)
RESULTS_TSV = Format("tsv", "text/tab-separated-values", (), ".tsv", ("tsv",), charset=True)
TURTLE = Format("turtle", "text/turtle", ("application/x-turtle",), ".ttl", ("turtle", "ttl"))
NTRIPLES = Format(
    "ntriples", "application/n-triples", ("text/plain",), ".nt", ("ntriples", "nt", "n-triples")
)
JSONLD = Format(
    "jsonld", "application/ld+json", ("application/json",), ".jsonld", ("jsonld", "json-ld")
)
RDFXML = Format("rdfxml", "application/rdf+xml", (), ".rdf", ("rdfxml", "rdf", "rdf-xml"))
HTML = Format(
    "html", "text/html", ("application/xhtml+xml",), ".html", ("html", "htm"), charset=True
)

#: Offers, in server preference order (the first wins when the client has no preference).
SOLUTION_FORMATS: tuple[Format, ...] = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV)
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)


def parse_accept(header: str) -> list[tuple[str, str, float]]:
    """An ``Accept`` header as ``(type, subtype, q)`` ranges (lower-case; q clamped to 0..1)."""
    ranges: list[tuple[str, str, float]] = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        if mt == "*":
            mt = "*/*"
        if mt.count("/") != 1:
            continue
        q = 1.0
        for f in fields[1:]:
            key, _, value = f.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        t, s = mt.split("/")
        ranges.append((t, s, q))
    return ranges


def negotiate(accept: str | None, offers: Sequence[Format]) -> Format | None:
    """The offer the ``Accept`` header prefers (RFC 9110: most specific range decides each
    offer's q; ties go to the server's order), or None if it accepts none of them. An offer's
    aliases (``application/json`` for SPARQL JSON) count only when named exactly."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best: Format | None = None
    best_q = 0.0
    for offer in offers:
        offer_q = 0.0
        for mt in (offer.media_type, *offer.aliases):
            t, s = mt.split("/")
            alias = mt != offer.media_type
            q, spec = 0.0, -1
            for rt, rs, rq in ranges:
                if rt == t and rs == s:
                    sp = 2
                elif alias:  # an alias counts only when named exactly
                    continue
                elif rt == t and rs == "*":
                    sp = 1
                elif rt == "*" and rs == "*":
                    sp = 0
                else:
                    continue
                if sp > spec or (sp == spec and rq > q):
                    spec, q = sp, rq
            offer_q = max(offer_q, q)
        if offer_q > best_q:
            best, best_q = offer, offer_q
    return best


def format_by_key(key: str, offers: Sequence[Format]) -> Format | None:
    """The offer a ``?format=`` value names (a short name or a media type), or None."""
    k = key.strip().lower()
    for f in offers:
        if k in f.keys or k == f.media_type or k in f.aliases:
            return f
    return None


def _not_acceptable_message(offers: Sequence[Format], what: str) -> str:
    names = ", ".join(f"{f.media_type} (format={f.keys[0]})" for f in offers)
    return f"cannot serve {what} in the requested format; available: {names}"


# --------------------------------------------------------------------------------------------
# SPARQL results serialization (our own, so that results can be capped at max_results rows)
# --------------------------------------------------------------------------------------------


def _term_json(term: Any) -> dict[str, Any]:
    import pyoxigraph

    if isinstance(term, pyoxigraph.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, pyoxigraph.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, pyoxigraph.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if getattr(term, "direction", None) is not None:
                out["its:dir"] = str(term.direction.value).lower()
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, pyoxigraph.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _term_json(term.subject),
                "predicate": _term_json(term.predicate),
                "object": _term_json(term.object),
            },
        }
    raise TypeError(f"unexpected RDF term {term!r}")


def _term_xml(term: Any) -> str:
    import pyoxigraph

    if isinstance(term, pyoxigraph.NamedNode):
        return f"<uri>{_xml_escape(term.value)}</uri>"
    if isinstance(term, pyoxigraph.BlankNode):
        return f"<bnode>{_xml_escape(term.value)}</bnode>"
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            attr = f" xml:lang={_xml_attr(term.language)}"
        elif term.datatype.value != XSD_STRING:
            attr = f" datatype={_xml_attr(term.datatype.value)}"
        else:
            attr = ""
        return f"<literal{attr}>{_xml_escape(term.value)}</literal>"
    if isinstance(term, pyoxigraph.Triple):
        return (
            f"<triple><subject>{_term_xml(term.subject)}</subject>"
            f"<predicate>{_term_xml(term.predicate)}</predicate>"
            f"<object>{_term_xml(term.object)}</object></triple>"
        )
    raise TypeError(f"unexpected RDF term {term!r}")


def _term_csv(term: Any) -> str:
    import pyoxigraph

    if term is None:
        return ""
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, (pyoxigraph.NamedNode, pyoxigraph.Literal)):
        return term.value
    return str(term)


def _solutions_json(variables: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """SPARQL JSON written as text directly (several times faster than building dicts for
    json.dumps), each distinct term encoded once."""
    from json.encoder import encode_basestring as enc

    import pyoxigraph

    named, blank, literal = pyoxigraph.NamedNode, pyoxigraph.BlankNode, pyoxigraph.Literal
    cache: dict[Any, str] = {}

    def text(term: Any) -> str:
        out = cache.get(term)
        if out is not None:
            return out
        kind = type(term)
        if kind is named:
            out = '{"type":"uri","value":' + enc(term.value) + "}"
        elif kind is blank:
            out = '{"type":"bnode","value":' + enc(term.value) + "}"
        elif kind is literal and not term.language:
            dt = term.datatype.value
            extra = "" if dt == XSD_STRING else ',"datatype":' + enc(dt)
            out = '{"type":"literal","value":' + enc(term.value) + extra + "}"
        else:  # language-tagged literals (maybe with a direction), triple terms
            out = json.dumps(_term_json(term), ensure_ascii=False, separators=(",", ":"))
        cache[term] = out
        return out

    keys = [enc(v) + ":" for v in variables]
    parts = [
        '{"head":{"vars":[' + ",".join(enc(v) for v in variables) + ']},"results":{"bindings":['
    ]
    first = True
    for row in rows:
        body = ",".join(k + text(t) for k, t in zip(keys, row, strict=True) if t is not None)
        parts.append(("{" if first else ",{") + body + "}")
        first = False
    parts.append("]}}")
    return "".join(parts).encode("utf-8")


def serialize_solutions(
    variables: Sequence[str], rows: Iterable[Sequence[Any]], fmt: Format
) -> bytes:
    """SELECT results (``rows`` of terms or None, in ``variables`` order) in a results format."""
    if fmt is RESULTS_JSON:
        return _solutions_json(variables, rows)
    if fmt is RESULTS_XML:
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<sparql xmlns="{SPARQL_RESULTS_NS}">\n<head>',
            *(f"<variable name={_xml_attr(v)}/>" for v in variables),
            "</head>\n<results>\n",
        ]
        for row in rows:
            parts.append("<result>")
            for v, t in zip(variables, row, strict=True):
                if t is not None:
                    parts.append(f"<binding name={_xml_attr(v)}>{_term_xml(t)}</binding>")
            parts.append("</result>\n")
        parts.append("</results>\n</sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt is RESULTS_CSV:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_term_csv(t) for t in row])
        return buf.getvalue().encode("utf-8")
    if fmt is RESULTS_TSV:
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines.extend("\t".join("" if t is None else str(t) for t in row) for row in rows)
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"not a SPARQL results format: {fmt.name}")


def serialize_boolean(value: bool, fmt: Format) -> bytes:
    """An ASK result. CSV and TSV have no boolean form in the standard; like Jena, we write a
    single column ``_askResult``."""
    if fmt is RESULTS_JSON:
        return json.dumps({"head": {}, "boolean": value}).encode("utf-8")
    if fmt is RESULTS_XML:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sparql xmlns="{SPARQL_RESULTS_NS}">\n<head></head>\n'
            f"<boolean>{'true' if value else 'false'}</boolean>\n</sparql>\n"
        ).encode()
    if fmt is RESULTS_CSV:
        return f"_askResult\r\n{'true' if value else 'false'}\r\n".encode()
    if fmt is RESULTS_TSV:
        return f"?_askResult\n{'true' if value else 'false'}\n".encode()
    raise ValueError(f"not a SPARQL results format: {fmt.name}")


def serialize_triples(triples: Iterable[pyoxigraph.Triple], fmt: Format) -> bytes:
    """Triples in an RDF format (pyoxigraph's serializers)."""
    import pyoxigraph

    rdf_format = pyoxigraph.RdfFormat.from_media_type(fmt.media_type)
    if rdf_format is None:  # pragma: no cover - the offers are all known to pyoxigraph
        raise ValueError(f"not an RDF format: {fmt.name}")
    items = list(triples)
    prefixes = _used_prefixes(items) if fmt in (TURTLE, RDFXML) else None
    return pyoxigraph.serialize(items, format=rdf_format, prefixes=prefixes)


def _used_prefixes(triples: Sequence[pyoxigraph.Triple]) -> dict[str, str]:
    """The entries of :data:`PREFIXES` whose namespace some IRI in ``triples`` uses."""
    import pyoxigraph

    iris: set[str] = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, pyoxigraph.NamedNode):
                iris.add(term.value)
            elif isinstance(term, pyoxigraph.Literal):
                iris.add(term.datatype.value)
    return {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in iris)}


# --------------------------------------------------------------------------------------------
# Query execution (the same function runs in worker processes and in-process)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryRequest:
    """One SPARQL protocol request: the query, how to answer it, and its RDF dataset."""

    query: str
    accept: str | None = None
    format: str | None = None
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryResponse:
    """An HTTP answer to a query: status, media type, body, and whether it was capped."""

    status: int
    content_type: str
    body: bytes
    truncated: bool = False
    count: int = 0
    #: cut short by the byte cap (``max_bytes``) rather than the row cap
    byte_capped: bool = False
    #: seconds a client should wait before retrying (a 503 of a full queue)
    retry_after: int | None = None

    @classmethod
    def error(cls, status: int, message: str, *, retry_after: int | None = None) -> QueryResponse:
        return cls(
            status,
            "text/plain; charset=utf-8",
            (message.rstrip() + "\n").encode(),
            retry_after=retry_after,
        )


def check_read_only(query: str) -> str | None:
    """Why ``query`` must be refused (an update, or SERVICE), or None if it may run.

    :func:`cica_ld.query.analyse` decides on pyoxigraph's parse
    (:func:`~cica_ld.query.check_safety`): a query it cannot show to be SERVICE-free is
    refused; other problems it finds are left to the SPARQL parser.
    """
    from cica_ld import query as _query
    from cica_ld.errors import InputError, UnsafeQueryError

    try:
        _query.analyse(query, origin="query")
    except UnsafeQueryError as exc:
        if "SERVICE" in exc.detail:
            return "SERVICE is not allowed: this endpoint never fetches data from the network"
        return (
            f"this endpoint is read-only: {exc.detail}; "
            "load data with `cica-ld serve --data FILE` instead"
        )
    except InputError:
        return None
    return None


def _dataset_kwargs(req: QueryRequest) -> dict[str, Any]:
    import pyoxigraph

    if not req.default_graph_uris and not req.named_graph_uris:
        return {"use_default_graph_as_union": True}
    kwargs: dict[str, Any] = {}
    if req.default_graph_uris:
        kwargs["default_graph"] = [pyoxigraph.NamedNode(u) for u in req.default_graph_uris]
    else:
        kwargs["use_default_graph_as_union"] = True
    if req.named_graph_uris:
        kwargs["named_graphs"] = [pyoxigraph.NamedNode(u) for u in req.named_graph_uris]
    return kwargs


def _timeout_message(timeout: float) -> str:
    return (
        f"query cancelled: it ran longer than the server's time limit of {timeout:g} s "
        "(cica-ld serve --query-timeout); narrow it with LIMIT or more selective patterns"
    )


def execute_query(
    store: pyoxigraph.Store,
    req: QueryRequest,
    *,
    timeout: float,
    max_results: int,
    restore: Callable[[Any], Any] | None = None,
    max_bytes: int | None = None,
) -> QueryResponse:
    """Run one query on ``store`` and serialize the answer: never raises for bad input.

    Checks the deadline on every solution (or triple) while iterating, and stops after
    ``max_results`` of them (``truncated``), or as soon as the answer would pass ``max_bytes``
    bytes (``truncated`` and ``byte_capped``: the body is a complete document of the solutions
    that fit). ``restore`` gives each term of the answer back as the input wrote it
    (:meth:`cica_ld.lexical.Lexicon.restore`).
    """
    import pyoxigraph

    start = time.monotonic()
    deadline = start + timeout
    from cica_ld.errors import InputError
    from cica_ld.query import check_nesting

    try:  # before pyoxigraph's recursive parser (a query nested 3,000 deep crashes it)
        check_nesting(req.query, origin="query")
    except InputError as exc:
        return QueryResponse.error(400, str(exc))
    refusal = check_read_only(req.query)
    if refusal:
        return QueryResponse.error(403, refusal)
    try:
        kwargs = _dataset_kwargs(req)
    except ValueError as exc:
        return QueryResponse.error(400, f"invalid graph IRI: {exc}")
    try:
        result = store.query(req.query, **kwargs)
    except SyntaxError as exc:
        return QueryResponse.error(400, f"malformed query: {exc.msg or exc}")
    except OSError as exc:
        return QueryResponse.error(500, f"query failed: {exc}")
    except ValueError as exc:
        return QueryResponse.error(400, f"query failed: {exc}")

    if isinstance(result, pyoxigraph.QueryBoolean):
        fmt = _choose(req, SOLUTION_FORMATS)
        if fmt is None:
            return QueryResponse.error(406, _not_acceptable_message(SOLUTION_FORMATS, "ASK"))
        return QueryResponse(200, fmt.content_type, serialize_boolean(bool(result), fmt), count=1)

    graph = isinstance(result, pyoxigraph.QueryTriples)
    offers = GRAPH_FORMATS if graph else SOLUTION_FORMATS
    fmt = _choose(req, offers)
    if fmt is None:
        what = "CONSTRUCT/DESCRIBE results" if graph else "SELECT results"
        return QueryResponse.error(406, _not_acceptable_message(offers, what))
    items: list[Any] = []
    truncated = byte_capped = False
    size = 0  # the answer's size so far, estimated from the terms' N-Triples forms
    budget = max_bytes if max_bytes is not None else -1
    try:
        if graph:
            for triple in result:
                if len(items) >= max_results:
                    truncated = True
                    break
                if restore is not None:
                    triple = pyoxigraph.Triple(
                        restore(triple.subject), triple.predicate, restore(triple.object)
                    )
                if budget >= 0:
                    size += len(str(triple)) + 2
                    if size > budget:
                        truncated = byte_capped = True
                        break
                items.append(triple)
                if time.monotonic() > deadline:
                    return QueryResponse.error(503, _timeout_message(timeout))
        else:
            variables = [v.value for v in result.variables]
            for solution in result:
                if len(items) >= max_results:
                    truncated = True
                    break
                row = tuple(solution)
                if restore is not None:
                    row = tuple(None if t is None else restore(t) for t in row)
                if budget >= 0:
                    # a binding costs some 40 bytes of markup in SPARQL JSON and XML
                    size += sum(8 if t is None else len(str(t)) + 40 for t in row)
                    if size > budget:
                        truncated = byte_capped = True
                        break
                items.append(row)
                if time.monotonic() > deadline:
                    return QueryResponse.error(503, _timeout_message(timeout))
    except OSError as exc:
        return QueryResponse.error(500, f"query failed: {exc}")
    except (ValueError, TypeError) as exc:  # e.g. a SERVICE the engine refuses
        return QueryResponse.error(400, f"query failed: {exc}")

    def render(part: Sequence[Any]) -> bytes:
        return serialize_triples(part, fmt) if graph else serialize_solutions(variables, part, fmt)

    body = render(items)
    # the estimate is close, not exact (escaping, format overhead): cut until the body fits
    while budget >= 0 and len(body) > budget and items:
        keep = min(len(items) - 1, int(len(items) * budget / len(body) * 0.95))
        items = items[: max(keep, 0)]
        truncated = byte_capped = True
        body = render(items)
    return QueryResponse(
        200,
        fmt.content_type,
        body,
        truncated=truncated,
        count=len(items),
        byte_capped=byte_capped,
    )


def _choose(req: QueryRequest, offers: Sequence[Format]) -> Format | None:
    if req.format:
        return format_by_key(req.format, offers)
    return negotiate(req.accept, offers)


# --------------------------------------------------------------------------------------------
# Executors: a pool of worker processes (hard timeout), or threads in this process
# --------------------------------------------------------------------------------------------


def _watch_parent(interval: float = 1.0) -> None:
    """Exit this worker when the server process is gone, even in the middle of a query
    (pyoxigraph releases the GIL while it evaluates, so this thread gets to run)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_entry(argv: Sequence[str]) -> None:
    """The worker process's entry point: ``FD DUMP TIMEOUT MAX_RESULTS MAX_BYTES [as-written]``."""
    from multiprocessing.connection import Connection

    fd, dump_path, timeout, max_results, max_bytes, *rest = argv
    as_written = bool(rest) and rest[0] == "as-written"
    _worker_main(
        Connection(int(fd)),
        dump_path,
        float(timeout),
        int(max_results),
        as_written=as_written,
        max_bytes=int(max_bytes) if int(max_bytes) > 0 else None,
    )


def _worker_main(
    conn: Any,
    dump_path: str,
    timeout: float,
    max_results: int,
    *,
    as_written: bool = False,
    max_bytes: int | None = None,
) -> None:
    """A query worker: load the dataset dump, then answer requests until told to stop.
    ``as_written``: the dump has literals the store changes; answers give them back."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server; it stops us
    _watch_parent()
    import pyoxigraph

    store = pyoxigraph.Store()
    restore = None
    try:
        store.bulk_load(path=dump_path, format=pyoxigraph.RdfFormat.N_QUADS)
        if as_written:
            from cica_ld.lexical import lexicon_of

            quads = pyoxigraph.parse(path=dump_path, format=pyoxigraph.RdfFormat.N_QUADS)
            lexicon = lexicon_of(quads)
            restore = lexicon.restore if lexicon else None
        # warm up (imports, the query checker) before the first client's query
        execute_query(store, QueryRequest("ASK { }"), timeout=timeout, max_results=1)
        conn.send(("ready", os.getpid()))
    except (OSError, EOFError):  # the server stopped while this worker was starting
        return
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):
            return
        if req is None:
            return
        try:
            resp = execute_query(
                store,
                req,
                timeout=timeout,
                max_results=max_results,
                restore=restore,
                max_bytes=max_bytes,
            )
        except Exception as exc:  # a bug: answer 500, keep the worker
            resp = QueryResponse.error(500, f"internal error: {type(exc).__name__}: {exc}")
        try:
            conn.send(resp)
        except (BrokenPipeError, OSError):
            return


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Any


@dataclass
class PoolStats:
    """What the pool has done (for tests and the benchmark)."""

    queries: int = 0
    #: queries cut at the hard deadline (the worker killed; threads: left running)
    killed: int = 0
    started: int = 0
    #: queries refused with 503 because every worker was busy and the queue full
    rejected: int = 0
    #: queries stopped because their client hung up
    cancelled: int = 0
    #: workers that died while answering (a crash), replaced
    crashed: int = 0


def _busy_message(queue: int) -> str:
    return (
        f"the server is busy: every query worker is in use and {queue} more queries are "
        "waiting (cica-ld serve --max-queue, --workers); retry shortly"
    )


def _crash_message(code: int | None) -> str:
    import signal

    how = "exited"
    if code is not None and code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    elif code is not None:
        how = f"exited with code {code}"
    return (
        f"query failed: the query worker {how} while running it (a crash in the query "
        "engine); the worker has been replaced"
    )


#: Seconds a 503 of a full queue tells the client to wait (``Retry-After``).
RETRY_AFTER = 2


class QueryExecutor:
    """Runs queries for the app; subclasses decide where.

    ``run`` may be cancelled (the client hung up): the query is then stopped if the executor
    can stop it, and its place is given to the next request.
    """

    timeout: float
    max_results: int
    max_queue: int = DEFAULT_MAX_QUEUE
    stats: PoolStats

    async def start(self) -> None:  # pragma: no cover - trivial
        return None

    async def close(self) -> None:  # pragma: no cover - trivial
        return None

    async def run(self, req: QueryRequest) -> QueryResponse:  # pragma: no cover
        raise NotImplementedError


class InlineExecutor(QueryExecutor):
    """Queries in threads of the server process: soft (per-solution) deadline only. A query
    whose client hangs up is not stopped (pyoxigraph cannot be interrupted from Python) but
    runs to its deadline; it still counts against the queue until then."""

    THREADS = 8

    def __init__(
        self,
        store: pyoxigraph.Store,
        *,
        timeout: float,
        max_results: int,
        restore: Callable[[Any], Any] | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.store = store
        self.restore = restore
        self.timeout = timeout
        self.max_results = max_results
        self.max_queue = max_queue
        self.max_bytes = max_bytes
        self._threads = ThreadPoolExecutor(
            max_workers=self.THREADS, thread_name_prefix="cica-query"
        )
        self._in_flight = 0  # queries running or waiting for a thread (their threads' count)
        self.stats = PoolStats()

    async def run(self, req: QueryRequest) -> QueryResponse:
        loop = asyncio.get_running_loop()
        if self._in_flight >= self.THREADS + self.max_queue:
            self.stats.rejected += 1
            return QueryResponse.error(503, _busy_message(self.max_queue), retry_after=RETRY_AFTER)
        self.stats.queries += 1
        self._in_flight += 1
        fut = loop.run_in_executor(
            self._threads,
            lambda: execute_query(
                self.store,
                req,
                timeout=self.timeout,
                max_results=self.max_results,
                restore=self.restore,
                max_bytes=self.max_bytes,
            ),
        )

        def finished(_: Any) -> None:
            self._in_flight -= 1

        fut.add_done_callback(finished)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), self.timeout + KILL_GRACE)
        except asyncio.TimeoutError:
            self.stats.killed += 1  # not killed: the thread runs on, but the client is answered
            return QueryResponse.error(503, _timeout_message(self.timeout))
        except asyncio.CancelledError:
            self.stats.cancelled += 1  # the thread runs on to its deadline
            raise

    async def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


class ProcessPoolExecutor(QueryExecutor):
    """A pool of worker processes, each with its own copy of the dataset.

    A worker that overruns ``timeout + KILL_GRACE`` is killed and replaced; so is one whose
    client hung up (the query stops at once), and one that died (a crash in the engine): a
    worker is reused only after it answered. ``spares`` more workers are kept started and idle
    so that a killed worker's place is taken at once, not after a fresh one has loaded the
    data. Requests wait for a free worker (the wait does not count against the timeout), at
    most ``max_queue`` of them; one more is answered 503 with ``Retry-After``.
    """

    def __init__(
        self,
        store: pyoxigraph.Store,
        *,
        workers: int,
        timeout: float,
        max_results: int,
        start_timeout: float = 300.0,
        as_written: bool = False,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        spares: int = 1,
    ) -> None:
        self.store = store
        self.as_written = as_written
        self.spares = max(0, spares)
        self._spare: list[_Worker] = []
        self.size = max(1, workers)
        self.timeout = timeout
        self.max_results = max_results
        self.max_queue = max_queue
        self.max_bytes = max_bytes
        self.start_timeout = start_timeout
        self.stats = PoolStats()
        self._tmp: str | None = None
        self._dump: str | None = None
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._waiting = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._exchanges: Any = None

    async def start(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        import anyio.to_thread

        # threads of our own that wait for the workers' answers (one per worker, and spares
        # for workers being replaced), apart from the threads that render pages
        self._exchanges = ThreadPoolExecutor(
            max_workers=2 * self.size + 2, thread_name_prefix="cica-query"
        )
        self._tmp = tempfile.mkdtemp(prefix="cica-ld-serve-")
        self._dump = os.path.join(self._tmp, "dataset.nq")
        await anyio.to_thread.run_sync(self._dump_store)
        self._idle = asyncio.Queue()
        workers = await asyncio.gather(
            *(anyio.to_thread.run_sync(self._spawn) for _ in range(self.size))
        )
        for w in workers:
            self._idle.put_nowait(w)
        # the spares start in the background: the server answers meanwhile
        for _ in range(self.spares):
            self._background(self._add_spare())

    async def _add_spare(self) -> None:
        import anyio.to_thread

        try:
            new = await anyio.to_thread.run_sync(self._spawn)
        except Exception:  # pragma: no cover - serve without a spare
            return
        if self._closing:
            await anyio.to_thread.run_sync(self._retire, new)
        else:
            self._spare.append(new)

    def _background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dump_store(self) -> None:
        import pyoxigraph

        assert self._dump is not None
        self.store.dump(self._dump, format=pyoxigraph.RdfFormat.N_QUADS)

    def _spawn(self) -> _Worker:
        """Start one worker: a fresh interpreter running :func:`_worker_entry`.

        Not ``multiprocessing.Process``: its spawn mode re-imports the caller's ``__main__``,
        which breaks scripts without a ``__main__`` guard; a plain subprocess does not.
        """
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_parent, env.get("PYTHONPATH", "")) if p
        )
        code = "import sys; from cica_ld.server import _worker_entry; _worker_entry(sys.argv[1:])"
        args = [
            str(theirs.fileno()),
            str(self._dump),
            repr(self.timeout),
            str(self.max_results),
            str(self.max_bytes or 0),
        ]
        if self.as_written:
            args.append("as-written")
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        conn = Connection(ours.detach())
        if not conn.poll(self.start_timeout):
            proc.kill()
            proc.wait()
            raise RuntimeError("a query worker did not start in time")
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            code_ = proc.wait()
            raise RuntimeError(f"a query worker failed to start (exit {code_})") from None
        if msg[0] != "ready":  # pragma: no cover - defensive
            raise RuntimeError(f"unexpected message from a query worker: {msg!r}")
        worker = _Worker(proc, conn)
        with self._lock:
            self._all.add(worker)
            self.stats.started += 1
        return worker

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers in service (not the spares)."""
        with self._lock:
            spare = {id(w) for w in self._spare}
            return [w.process.pid for w in self._all if id(w) not in spare]

    @property
    def spare_pids(self) -> list[int]:
        """The process ids of the spare workers."""
        return [w.process.pid for w in list(self._spare)]

    @property
    def waiting(self) -> int:
        """Requests waiting for a free worker."""
        return self._waiting

    def _exchange(self, worker: _Worker, req: QueryRequest) -> tuple[str, QueryResponse | None]:
        """Send ``req`` to ``worker`` and wait up to the hard deadline: ``("ok", answer)``,
        ``("overrun", None)``, or ``("died", None)`` when the worker is gone."""
        try:
            worker.conn.send(req)
            if not worker.conn.poll(self.timeout + KILL_GRACE):
                return "overrun", None
            return "ok", worker.conn.recv()
        except (EOFError, OSError):
            return "died", None

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        with contextlib.suppress(Exception):
            worker.process.kill()
            worker.process.wait(5)
        with contextlib.suppress(Exception):
            worker.conn.close()

    def _exit_code(self, worker: _Worker) -> int | None:
        import subprocess

        try:
            return worker.process.wait(2)
        except subprocess.TimeoutExpired:
            return None

    async def _replace(self, worker: _Worker, *, spare: bool) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self._retire, worker)
        if self._closing:
            return
        try:
            new = await anyio.to_thread.run_sync(self._spawn)
        except Exception:  # pragma: no cover - keep serving with a smaller pool
            return
        if self._closing:
            await anyio.to_thread.run_sync(self._retire, new)
        elif spare:
            self._spare.append(new)
        elif self._idle is not None:
            self._idle.put_nowait(new)

    def _replace_later(self, worker: _Worker) -> None:
        """Kill ``worker`` now; a spare takes its place at once if there is one, and a fresh
        worker is started in the background (to be the new spare, or to take the place)."""
        with contextlib.suppress(Exception):
            worker.process.kill()
        spare = bool(self._spare) and self._idle is not None
        if spare:
            assert self._idle is not None
            self._idle.put_nowait(self._spare.pop())
        self._background(self._replace(worker, spare=spare))

    async def run(self, req: QueryRequest) -> QueryResponse:
        if self._idle is None:
            raise RuntimeError("the query pool is not started (run the app with its lifespan)")
        if self._idle.empty() and self._waiting >= self.max_queue:
            self.stats.rejected += 1
            return QueryResponse.error(503, _busy_message(self.max_queue), retry_after=RETRY_AFTER)
        self._waiting += 1
        try:
            worker = await self._idle.get()
        finally:
            self._waiting -= 1
        self.stats.queries += 1
        loop = asyncio.get_running_loop()
        try:
            outcome, resp = await loop.run_in_executor(self._exchanges, self._exchange, worker, req)
        except asyncio.CancelledError:
            # the client hung up: stop its query by killing the worker; a fresh one follows
            self.stats.cancelled += 1
            self._replace_later(worker)
            raise
        if outcome == "ok" and worker.process.poll() is None and resp is not None:
            self._idle.put_nowait(worker)
            return resp
        if outcome == "overrun":
            self.stats.killed += 1
            resp = QueryResponse.error(503, _timeout_message(self.timeout))
        else:
            self.stats.crashed += 1
            code = await loop.run_in_executor(self._exchanges, self._exit_code, worker)
            resp = QueryResponse.error(500, _crash_message(code))
        # never reused: replaced in the background; this request is answered now
        self._replace_later(worker)
        return resp

    async def close(self) -> None:
        import anyio.to_thread

        self._closing = True
        if self._tasks:  # workers being started: let them finish, to stop them too
            await asyncio.wait(set(self._tasks), timeout=min(self.start_timeout, 10))
        with self._lock:
            workers = list(self._all)
        for w in workers:
            with contextlib.suppress(Exception):
                w.conn.send(None)
        for w in workers:
            await anyio.to_thread.run_sync(_join_or_kill, w)
        with self._lock:
            self._all.clear()
        self._spare.clear()
        if self._exchanges is not None:
            self._exchanges.shutdown(wait=False, cancel_futures=True)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _join_or_kill(worker: _Worker) -> None:
    import subprocess

    try:
        worker.process.wait(2)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait(5)
    with contextlib.suppress(Exception):
        worker.conn.close()


# --------------------------------------------------------------------------------------------
# Resources: the description of an IRI under the base
# --------------------------------------------------------------------------------------------


def describe(
    store: pyoxigraph.Store,
    iri: str,
    *,
    hash_subjects: Iterable[Any] = (),
    incoming: bool = True,
    limit: int | None = None,
    more: str | None = None,
) -> list[pyoxigraph.Triple]:
    """The triples that describe ``iri``: every triple with it as subject (in any graph) and
    the blank nodes they reach (a concise bounded description), plus the same for each of
    ``hash_subjects`` (the ``iri#...`` terms a document IRI such as ``/ontology`` holds);
    and (``incoming``) the links to them with their subjects' labels, at most ``limit``
    (default :data:`cica_ld.publish.MAX_INCOMING`), ``more`` naming where the rest are
    (:func:`cica_ld.publish.incoming_graph`). Sorted, without duplicates."""
    import pyoxigraph

    hash_subjects = list(hash_subjects)
    pub = _publish_module() if incoming else None
    if pub is not None:
        links = pub.incoming_graph(
            store,
            [iri, *(h.value for h in hash_subjects)],
            limit=pub.MAX_INCOMING if limit is None else limit,
            more=more,
        )
        own = describe(store, iri, hash_subjects=hash_subjects, incoming=False)
        return sorted(set(own) | set(links), key=str)

    seen: set[pyoxigraph.Triple] = set()
    todo: list[Any] = [pyoxigraph.NamedNode(iri), *hash_subjects]
    visited: set[Any] = set()
    while todo:
        s = todo.pop()
        if s in visited:
            continue
        visited.add(s)
        for q in store.quads_for_pattern(s, None, None, None):
            t = pyoxigraph.Triple(q.subject, q.predicate, q.object)
            if t not in seen:
                seen.add(t)
                if isinstance(q.object, pyoxigraph.BlankNode):
                    todo.append(q.object)
    return sorted(seen, key=str)


def _mentioned(store: pyoxigraph.Store, iri: str) -> bool:
    """Whether ``iri`` occurs in the data as an object or a graph name (a resource the site
    has a page for even when nothing is said about it, like ``cica-ld publish``)."""
    import pyoxigraph

    node = pyoxigraph.NamedNode(iri)
    for _ in store.quads_for_pattern(None, None, node, None):
        return True
    for _ in store.quads_for_pattern(None, None, None, node):
        return True
    return False


class RenderCache:
    """Rendered resource documents by (IRI, format), least recently used first out.

    The served dataset never changes, so a rendered document stays right; the cache only
    bounds the cost of rendering (JSON-LD compaction and HTML take milliseconds)."""

    def __init__(self, max_bytes: int = 64_000_000) -> None:
        from collections import OrderedDict

        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple[str, ...], body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= len(old)
            self._items[key] = body
            self.bytes += len(body)
            while self.bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= len(dropped)


class _HashIndex:
    """Document IRI -> its ``#`` subjects under the base (built once, on first use)."""

    def __init__(self, store: pyoxigraph.Store, base_iri: str) -> None:
        self.store = store
        self.base_iri = base_iri
        self._map: dict[str, list[Any]] | None = None
        self._lock = threading.Lock()

    def get(self, iri: str) -> list[Any]:
        with self._lock:
            if self._map is None:
                self._map = self._build()
        return self._map.get(iri, [])

    def _build(self) -> dict[str, list[Any]]:
        import pyoxigraph

        q = (
            "SELECT DISTINCT ?s ?base WHERE { ?s ?p ?o "
            "FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?base) && CONTAINS(STR(?s), '#')) }"
        )
        subs = {pyoxigraph.Variable("base"): pyoxigraph.Literal(self.base_iri)}
        out: dict[str, list[Any]] = {}
        for sol in self.store.query(q, substitutions=subs, use_default_graph_as_union=True):
            s = sol["s"]
            out.setdefault(s.value.split("#", 1)[0], []).append(s)
        return out


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


@dataclass
class ServerConfig:
    """The settings a running app uses (exposed as ``app.state.config``)."""

    base_iri: str = DEFAULT_BASE_IRI
    base_url: str | None = None
    query_timeout: float = DEFAULT_QUERY_TIMEOUT
    max_results: int = DEFAULT_MAX_RESULTS
    workers: int = 2
    triples: int = 0
    max_queue: int = DEFAULT_MAX_QUEUE
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    extra: dict[str, Any] = field(default_factory=dict)
    #: What the pages say about the site (:class:`cica_ld.publish.SiteInfo`); None: the CICA
    #: site (its vocabulary, shapes and JSON-LD context, ``dumps/cica-ld.*``).
    site: Any = None

    @property
    def cica(self) -> bool:
        """Whether this serves the embedded CICA dataset's site."""
        return self.site is None or bool(self.site.cica)


def default_workers() -> int:
    """Worker processes by default: one per CPU, between 1 and 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _with_slash(url: str) -> str:
    return url if url.endswith(("/", "#")) else url + "/"


def create_app(
    dataset: LoadedDataset | pyoxigraph.Store,
    *,
    base_url: str | None = None,
    base_iri: str = DEFAULT_BASE_IRI,
    query_timeout: float = DEFAULT_QUERY_TIMEOUT,
    max_results: int = DEFAULT_MAX_RESULTS,
    workers: int | None = None,
    cors: bool = True,
    site: Any = None,
    max_queue: int = DEFAULT_MAX_QUEUE,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Starlette:
    """The Starlette app serving ``dataset`` (see the module docstring for the routes).

    ``site`` (a :class:`cica_ld.publish.SiteInfo`) is what the pages, dumps and dataset
    description say about the site; None is the CICA site. A site of the user's data
    (:func:`cica_ld.publish.user_site`) serves no CICA vocabulary or shapes page, no CICA
    JSON-LD context, and compacts JSON-LD with standard prefixes only.

    ``base_iri`` is the IRI prefix the paths map onto (``/id/x`` -> ``base_iri + "id/x"``).
    ``base_url`` is where clients reach the server (behind a proxy, say), used for the absolute
    URLs it states about itself (service description, dataset description, canonical links);
    None takes it from each request. ``workers`` worker processes run the queries (default:
    :func:`default_workers`); ``0`` runs them in threads of this process (no hard timeout).
    At most ``max_queue`` queries wait for a busy worker (one more gets ``503`` with
    ``Retry-After``); an answer is at most ``max_response_bytes`` bytes (fewer solutions, and
    the header ``X-SPARQL-MaxBytes``). Workers start with the app's lifespan: :func:`run`,
    :func:`fetch`, or an ASGI client that runs the lifespan.
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.routing import Route

    store = getattr(dataset, "store", dataset)
    if getattr(dataset, "as_written", 0):
        # literals kept as written (cica_ld.lexical): documents and pages read them through a
        # view that decodes them; SPARQL runs on pyoxigraph's values and restores them
        from cica_ld.lexical import AsWrittenStore

        store = AsWrittenStore(store)
    if query_timeout <= 0:
        raise ValueError("query_timeout must be positive")
    if max_results < 1:
        raise ValueError("max_results must be at least 1")
    if max_queue < 0:
        raise ValueError("max_queue must be 0 or more")
    if max_response_bytes < 1:
        raise ValueError("max_response_bytes must be positive")
    n_workers = default_workers() if workers is None else workers
    executor: QueryExecutor
    as_written = getattr(dataset, "as_written", 0) > 0
    if n_workers == 0:
        sparql_store, restore = store, None
        if as_written:
            from cica_ld.lexical import values_copy

            sparql_store, lexicon = values_copy(store.store)
            restore = lexicon.restore if lexicon else None
        executor = InlineExecutor(
            sparql_store,
            timeout=query_timeout,
            max_results=max_results,
            restore=restore,
            max_queue=max_queue,
            max_bytes=max_response_bytes,
        )
    else:
        executor = ProcessPoolExecutor(
            store,
            workers=n_workers,
            timeout=query_timeout,
            max_results=max_results,
            as_written=as_written,
            max_queue=max_queue,
            max_bytes=max_response_bytes,
        )
    config = ServerConfig(
        base_iri=_with_slash(base_iri),
        base_url=_with_slash(base_url) if base_url else None,
        query_timeout=query_timeout,
        max_results=max_results,
        workers=n_workers,
        triples=len(store),
        site=site,
        max_queue=max_queue,
        max_response_bytes=max_response_bytes,
    )
    handlers = _Handlers(store, config, executor)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await executor.start()
        try:
            yield
        finally:
            await executor.close()
            handlers.close()

    middleware = [Middleware(_RequestLimits)]
    if cors:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
                allow_headers=["*"],
                expose_headers=[
                    "X-SPARQL-MaxRows",
                    "X-SPARQL-MaxBytes",
                    "Content-Location",
                    "Vary",
                    "Retry-After",
                ],
                max_age=600,
                # Chrome's Private Network Access: a page from the web (YASGUI) may query us
                allow_private_network=True,
            )
        )
    routes = [
        Route("/sparql", handlers.sparql, methods=["GET", "POST"], name="sparql"),
        Route("/.well-known/void", handlers.void, methods=["GET"], name="void"),
        Route("/{path:path}", handlers.site, methods=["GET"], name="site"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.config = config
    app.state.executor = executor
    app.state.handlers = handlers
    app.state.store = store
    return app


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import Response

    return Response(
        message.rstrip() + "\n",
        status_code=status,
        media_type="text/plain; charset=utf-8",
        headers=headers,
    )


class _Handlers:
    def __init__(
        self, store: pyoxigraph.Store, config: ServerConfig, executor: QueryExecutor
    ) -> None:
        self.store = store
        self.config = config
        self.executor = executor
        self.hashes = _HashIndex(store, config.base_iri)
        self.cache = RenderCache()
        #: bytes of query answers being sent now; past the budget, large answers wait (503)
        self.sending = 0
        self.sending_budget = 8 * config.max_response_bytes
        self._dump_dir: str | None = None
        self._dump_jobs: dict[str, asyncio.Future[Path]] = {}
        self._dump_procs: set[Any] = set()
        self._listing: list[list[str]] | None = None
        self._listing_lock = threading.Lock()

    def close(self) -> None:
        """Stop the dump processes still running; remove the files the app made."""
        for proc in list(self._dump_procs):
            with contextlib.suppress(OSError):
                proc.kill()
        if self._dump_dir:
            shutil.rmtree(self._dump_dir, ignore_errors=True)
            self._dump_dir = None
        self._dump_jobs.clear()

    def listing(self, pub: Any) -> list[list[str]]:
        """The resources of the index documents (:func:`cica_ld.publish.index_documents`),
        computed once: it reads the whole store."""
        with self._listing_lock:
            if self._listing is None:
                site = _site(self.config, pub)
                self._listing = pub.index_documents(self.store, self.config.base_iri, site=site)
            return self._listing

    # ---- /sparql ---------------------------------------------------------------------------

    async def sparql(self, request: Request) -> Response:
        from starlette.requests import ClientDisconnect

        try:
            return await self._sparql(request)
        except ClientDisconnect:  # the client left while sending its query: nobody to answer
            return _text(400, "the client disconnected")

    async def _sparql(self, request: Request) -> Response:
        params = request.query_params
        if request.method == "GET":
            queries = params.getlist("query")
            if not queries:
                if "update" in params:
                    return _text(403, _READ_ONLY)
                return self._service_description(request)
            if len(queries) > 1:
                return _text(400, "give exactly one query parameter")
            query = queries[0]
            default_graphs = params.getlist("default-graph-uri")
            named_graphs = params.getlist("named-graph-uri")
        else:
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
                return _text(413, f"request body larger than {MAX_BODY_BYTES} bytes")
            default_graphs = params.getlist("default-graph-uri")
            named_graphs = params.getlist("named-graph-uri")
            if ctype == "application/sparql-update":
                return _text(403, _READ_ONLY)
            if ctype == "application/sparql-query":
                body = await _read_body(request)
                if body is None:
                    return _text(413, f"request body larger than {MAX_BODY_BYTES} bytes")
                try:
                    query = body.decode("utf-8")
                except UnicodeDecodeError:
                    return _text(400, "the query is not valid UTF-8")
            elif ctype == "application/x-www-form-urlencoded":
                body = await _read_body(request)
                if body is None:
                    return _text(413, f"request body larger than {MAX_BODY_BYTES} bytes")
                try:
                    fields = parse_qsl(
                        body.decode("ascii"), keep_blank_values=True, errors="strict"
                    )
                except (UnicodeDecodeError, ValueError):
                    return _text(400, "the form is not valid URL-encoded UTF-8")
                form: dict[str, list[str]] = {}
                for k, v in fields:
                    form.setdefault(k, []).append(v)
                if "update" in form:
                    return _text(403, _READ_ONLY)
                queries = form.get("query", [])
                if len(queries) != 1:
                    return _text(400, "give exactly one query field in the form")
                query = queries[0]
                default_graphs += form.get("default-graph-uri", [])
                named_graphs += form.get("named-graph-uri", [])
            else:
                return _text(
                    415,
                    "POST a query as application/sparql-query or as the query field of "
                    f"application/x-www-form-urlencoded (got {ctype or 'no content type'!r})",
                )
        if not query.strip():
            return _text(400, "the query is empty")
        req = QueryRequest(
            query=query,
            accept=request.headers.get("accept"),
            format=params.get("format"),
            default_graph_uris=tuple(default_graphs),
            named_graph_uris=tuple(named_graphs),
        )
        resp = await _unless_disconnected(self.executor.run(req), request.receive)
        if resp is None:  # the client hung up; its query was stopped
            return _text(503, "the client disconnected; the query was cancelled")
        return self._query_response(resp)

    def _query_response(self, resp: QueryResponse) -> Response:
        from starlette.responses import Response

        headers = {"Vary": "Accept", "Cache-Control": "no-store"}
        if resp.byte_capped:
            headers["X-SPARQL-MaxBytes"] = str(self.config.max_response_bytes)
        elif resp.truncated:
            headers["X-SPARQL-MaxRows"] = str(self.config.max_results)
        if resp.retry_after is not None:
            headers["Retry-After"] = str(resp.retry_after)
        size = len(resp.body)
        if size <= CHUNK_BYTES:
            return Response(
                resp.body, status_code=resp.status, media_type=resp.content_type, headers=headers
            )
        if self.sending + size > self.sending_budget:
            # clients that do not read their answers must not pile them up in memory
            return _text(
                503,
                "the server is busy sending other large answers; retry shortly",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        self.sending += size

        def sent() -> None:
            self.sending -= size

        return _streamed_response(
            resp.body,
            status_code=resp.status,
            media_type=resp.content_type,
            headers=headers,
            on_done=sent,
        )

    def _service_description(self, request: Request) -> Response:
        endpoint = self._public(request) + "sparql"
        fmt = _choose(
            QueryRequest("", request.headers.get("accept"), request.query_params.get("format")),
            GRAPH_FORMATS,
        )
        if fmt is None:
            return _text(406, _not_acceptable_message(GRAPH_FORMATS, "the service description"))
        triples = service_description(
            endpoint,
            triples=self.config.triples,
            void_url=self._public(request) + ".well-known/void",
        )
        body = serialize_triples(triples, fmt)
        return _rdf_response(body, fmt, headers={"Vary": "Accept"})

    # ---- the site: resources, pages, documents --------------------------------------------

    def _public(self, request: Request) -> str:
        """The server's public base URL (``--base-url``, else from the request)."""
        return self.config.base_url or str(request.base_url)

    async def site(self, request: Request) -> Response:
        import anyio.to_thread

        path = request.path_params.get("path", "")
        pub = _publish_module()
        if pub is not None and path.startswith("dumps/") and path[6:] in self._dumps(pub):
            return await self._dump(path[6:], pub)
        problem = _iri_problem(self.config.base_iri + path)
        if problem is not None:
            return _text(400, f"the path {_shown_path(path)} does not name a valid IRI: {problem}")
        return await anyio.to_thread.run_sync(self._site_sync, request)

    async def void(self, request: Request) -> Response:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self._dataset_doc, request, None, GRAPH_FORMATS)

    def _site_sync(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        pub = _publish_module()
        base = self.config.base_iri
        if path in ("", "index", "index.html"):
            forced = HTML if path == "index.html" else None
            if forced and pub is None:
                return _text(404, "no HTML pages: the publishing module is not installed")
            return self._dataset_doc(request, forced, _page_offers())
        if path == "context.jsonld":
            from cica_ld import jsonld

            # the published JSON-LD context, bundled (the CICA site's only)
            if base + path == jsonld.CONTEXT_URL and self.config.cica:
                body = jsonld.dumps(jsonld.load_context())
                return _rdf_response(body, JSONLD, headers={"Cache-Control": "max-age=3600"})
        if pub is not None and path == "style.css":
            from starlette.responses import Response

            css = (Path(pub.__file__).parent / "templates" / "style.css").read_bytes()
            return Response(css, media_type="text/css; charset=utf-8")
        if pub is not None and path in _SEARCH_FILES:
            return self._search(request, path, pub)
        name, forced = _split_suffix(path)
        if forced is HTML and pub is None:
            return _text(404, "no HTML pages: the publishing module is not installed")
        if name == "dataset":
            return self._dataset_doc(request, forced, _page_offers())
        version = None
        if pub is not None and base == pub.BASE_IRI and self.config.cica:
            # the vocabulary's and the shapes' version IRIs (ontology/0.1.0) answer as they do
            version, name = name, _version_paths(base).get(name, name)
            version = version if version != name else None
        if (
            pub is not None
            and name in ("ontology", "shapes")
            and base == pub.BASE_IRI
            and self.config.cica
        ):
            page = self._site_page(request, name, forced, version=version)
            if page is not None:
                return page
        if pub is not None and name.startswith("index/") and name[6:].isdigit():
            page = self._index_page(request, int(name[6:]), forced, pub)
            if page is not None:
                return page
        iri = base + name
        # the CICA vocabulary document is the vocabulary, not every use of its terms
        incoming = not (self.config.cica and name == "ontology")
        more = self._incoming_query(request, iri)
        triples = describe(
            self.store, iri, hash_subjects=self.hashes.get(iri), incoming=incoming, more=more
        )
        if not triples and forced is not None and not _mentioned(self.store, iri):
            # an IRI that itself ends like a suffix
            iri, forced = base + path, None
            more = self._incoming_query(request, iri)
            triples = describe(self.store, iri, hash_subjects=self.hashes.get(iri), more=more)
        if not triples and not _mentioned(self.store, iri):
            return self._not_found(request, pub, f"no resource {iri} in this dataset")
        return self._resource(request, iri, triples, forced)

    def _incoming_query(self, request: Request, iri: str) -> str:
        """The URL of the SPARQL query for every link to ``iri`` (where the links past
        :data:`cica_ld.publish.MAX_INCOMING` are)."""
        from urllib.parse import quote

        query = f"CONSTRUCT {{ ?s ?p <{iri}> }} WHERE {{ ?s ?p <{iri}> }}"
        return self._public(request) + "sparql?query=" + quote(query, safe="")

    def _index_page(
        self, request: Request, n: int, forced: Format | None, pub: Any
    ) -> Response | None:
        """Index document ``/index/N`` (:func:`cica_ld.publish.index_page_graph`), None past
        the last one."""
        site = _site(self.config, pub)
        base = self.config.base_iri
        listing = self.listing(pub)
        triples = pub.index_page_graph(self.store, base, n, site=site, listing=listing)
        if triples is None:
            return None
        fmt = self._choose_format(request, forced, _page_offers(), f"<{base}index/{n}>")
        if not isinstance(fmt, Format):
            return fmt
        public = self._public(request)
        key = (f"<index/{n}>", fmt.name, public)
        body = self.cache.get(key)
        if body is None:
            if fmt is HTML:
                html = pub.render_index_page_html(
                    self.store, n, public, base_iri=base, site=site, listing=listing
                )
                body = html.encode("utf-8")
            elif fmt is JSONLD:
                body = _render_jsonld(triples, self.config.site)
            else:
                body = serialize_triples(triples, fmt)
            self.cache.put(key, body)
        headers = {"Vary": "Accept", "Content-Location": f"/index/{n}{fmt.suffix}"}
        return _rdf_response(body, fmt, headers=headers)

    def _not_found(self, request: Request, pub: Any, message: str) -> Response:
        """404: the site's styled page for a browser (one that asks for HTML), else the
        message as text."""
        accept = request.headers.get("accept", "")
        if pub is None or "text/html" not in accept:
            return _text(404, message)
        from starlette.responses import Response

        html = pub.render_not_found_html(
            self.store,
            self._public(request),
            base_iri=self.config.base_iri,
            site=_site(self.config, pub),
        )
        return Response(
            html,
            status_code=404,
            media_type="text/html; charset=utf-8",
        )

    def _search(self, request: Request, path: str, pub: Any) -> Response:
        """The client-side search: its page, index (JSON and script) and script, as
        ``publish`` writes them, built from the served data on first use."""
        from starlette.responses import Response

        public = self._public(request)
        key = ("<search>", path, public)
        body = self.cache.get(key)
        if body is None:
            site = _site(self.config, pub)
            # every resource the site has a page of, the vocabulary's terms too (publish's)
            vocabulary = _bundled_store("ontology") if "ontology" in site.documented else None
            index = pub.search_index(
                self.store, base_iri=self.config.base_iri, site=site, vocabulary=vocabulary
            )
            files = pub.search_files(index)
            files["search.html"] = pub.render_search_html(
                self.store,
                public,
                base_iri=self.config.base_iri,
                site=site,
                count=len(index["items"]),
            ).encode("utf-8")
            for name, data in files.items():
                self.cache.put(("<search>", name, public), data)
            body = files[path]
        return Response(body, media_type=_SEARCH_FILES[path])

    def _choose_format(
        self, request: Request, forced: Format | None, offers: Sequence[Format], what: str
    ) -> Format | Response:
        if forced is not None:
            return forced
        key = request.query_params.get("format")
        fmt = (
            format_by_key(key, offers) if key else negotiate(request.headers.get("accept"), offers)
        )
        if fmt is None:
            return _text(406, _not_acceptable_message(offers, what), headers={"Vary": "Accept"})
        return fmt

    def _resource(
        self, request: Request, iri: str, triples: list[Any], forced: Format | None
    ) -> Response:
        fmt = self._choose_format(request, forced, _page_offers(), f"<{iri}>")
        if not isinstance(fmt, Format):
            return fmt
        public = self._public(request)
        headers = {"Vary": "Accept", "Content-Location": self._local_path(iri) + fmt.suffix}
        key = (iri, fmt.name, public)
        body = self.cache.get(key)
        if body is None:
            pub = _publish_module()
            if pub is not None and fmt is not HTML:  # name what the document links to
                triples = pub.with_reference_labels(self.store, triples)
            if fmt is HTML:
                body = _render_html(self.store, iri, public, self.config)
            elif fmt is JSONLD:
                body = _render_jsonld(triples, self.config.site)
            else:
                body = serialize_triples(triples, fmt)
            self.cache.put(key, body)
        return _rdf_response(body, fmt, headers=headers)

    def _local_path(self, iri: str) -> str:
        return "/" + iri[len(self.config.base_iri) :].split("#", 1)[0]

    def _dataset_doc(
        self, request: Request, forced: Format | None, offers: Sequence[Format]
    ) -> Response:
        """The dataset description (DCAT/VoID) in RDF, or the index / dataset page in HTML."""
        fmt = self._choose_format(request, forced, offers, "the dataset description")
        if not isinstance(fmt, Format):
            return fmt
        public = self._public(request)
        endpoint = public + "sparql"
        path = request.url.path.strip("/")
        page = "index" if path in ("", "index", "index.html") else "dataset"
        key = (f"<{page}>", fmt.name, public)
        body = self.cache.get(key)
        if body is None:
            triples = self._description(public, endpoint)
            pub = _publish_module()
            site = _site(self.config, pub)
            if page == "index" and pub is not None:
                # the root document: the description and the index documents (a crawler's start)
                triples = sorted(
                    set(triples)
                    | set(
                        pub.index_graph(
                            self.store, self.config.base_iri, site=site, listing=self.listing(pub)
                        )
                    ),
                    key=str,
                )
            if fmt is HTML and page == "index":
                html = pub.render_index_html(
                    self.store, public, base_iri=self.config.base_iri, site=site
                )
                body = html.encode("utf-8")
            elif fmt is HTML:
                html = pub.render_dataset_html(
                    triples, public, base_iri=self.config.base_iri, site=site
                )
                body = html.encode("utf-8")
            elif fmt is JSONLD:
                body = _render_jsonld(triples, self.config.site)
            else:
                body = serialize_triples(triples, fmt)
            self.cache.put(key, body)
        return _rdf_response(body, fmt, headers={"Vary": "Accept"})

    def _description(self, public: str, endpoint: str) -> list[Any]:
        import pyoxigraph

        pub = _publish_module()
        if pub is None:
            return dataset_description(self.store, base_iri=self.config.base_iri, endpoint=endpoint)
        site = _site(self.config, pub)
        # the dumps it serves (made on request: no size stated)
        dumps = [pub.Distribution(f"dumps/{name}", fmt) for name, fmt in site.dumps().items()]
        triples = pub.dataset_description(
            self.store, public, base_iri=self.config.base_iri, distributions=dumps, site=site
        )
        ds = pyoxigraph.NamedNode(self.config.base_iri + "dataset")
        triples.append(
            pyoxigraph.Triple(ds, pyoxigraph.NamedNode(_VOID + "sparqlEndpoint"),
                              pyoxigraph.NamedNode(endpoint))
        )  # fmt: skip
        return triples

    def _site_page(
        self, request: Request, name: str, forced: Format | None, *, version: str | None = None
    ) -> Response | None:
        """The vocabulary or shapes page (HTML); None lets RDF requests fall through to the
        resource (the ontology's hash terms) or to 404 (shapes are not in the dataset).
        ``version``: the version path asked for (``ontology/0.1.0``), whose page it is."""
        fmt = forced
        if fmt is None:
            key = request.query_params.get("format")
            offers = _page_offers()
            fmt = (
                format_by_key(key, offers)
                if key
                else negotiate(request.headers.get("accept"), offers)
            )
        if fmt is None:
            return _text(
                406, _not_acceptable_message(_page_offers(), f"<{self.config.base_iri}{name}>"),
                headers={"Vary": "Accept"},
            )  # fmt: skip
        if fmt is not HTML:
            if name == "shapes":
                triples = _bundled_store("shapes").quads_for_pattern(None, None, None, None)
                body = serialize_triples([q.triple for q in triples], fmt)
                return _rdf_response(body, fmt, headers={"Vary": "Accept"})
            return None
        public = self._public(request)
        key = (f"<{version or name}>", "html", public)
        body = self.cache.get(key)
        if body is None:
            pub = _publish_module()
            base = self.config.base_iri
            if name == "ontology":
                html = pub.render_vocabulary_html(
                    _bundled_store("ontology"), self.store, public, base_iri=base
                )
            else:
                html = pub.render_shapes_html(_bundled_store("shapes"), public, base_iri=base)
            if version is not None:
                html = pub._rebase_html(html, version)
            body = html.encode("utf-8")
            self.cache.put(key, body)
        return _rdf_response(body, HTML, headers={"Vary": "Accept"})

    def _dumps(self, pub: Any) -> dict[str, str]:
        """The dump files the site offers: name -> export format."""
        return _site(self.config, pub).dumps()

    async def _dump(self, name: str, pub: Any) -> Response:
        """A dump file, written once (the data never changes while serving) to a file of the
        app's and streamed from there. Concurrent requests wait for the same computation,
        which runs in a daemon thread (it holds no request thread, and never delays exit),
        and with query workers in a process of its own (it holds no lock the server needs,
        and its memory goes back when it is done)."""
        fmt_name = self._dumps(pub)[name]
        fmt = next(f for f in (*GRAPH_FORMATS,) if f.name == fmt_name)
        job = self._dump_jobs.get(name)
        if job is None:
            job = _in_daemon_thread(functools.partial(self._write_dump, name, fmt_name, pub))
            self._dump_jobs[name] = job
        try:
            path = await asyncio.shield(job)
        except Exception as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return _text(500, f"cannot produce the dump {name}: {detail}")
        return _streamed_response(
            path,
            media_type=fmt.content_type,
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    def _write_dump(self, name: str, fmt_name: str, pub: Any) -> Path:
        with _DUMP_DIR_LOCK:
            if self._dump_dir is None:
                self._dump_dir = tempfile.mkdtemp(prefix="cica-ld-dumps-")
            folder = Path(self._dump_dir)
            source = folder / ".dataset.nq"
            if self.config.workers > 0 and not source.exists():
                import pyoxigraph

                tmp = folder / ".dataset.nq.tmp"
                pyoxigraph.serialize(
                    iter(self.store), output=tmp, format=pyoxigraph.RdfFormat.N_QUADS
                )
                os.replace(tmp, source)
        target = folder / name
        site = _site(self.config, pub)
        with _DUMP_WORK_LOCK:  # one dump at a time: they are background work
            if self.config.workers > 0:
                _export_in_subprocess(source, fmt_name, site, target, self._dump_procs)
            else:
                body = pub.export_document(list(self.store), fmt_name, site=site, whole=True)
                _write_atomically(target, body)
        return target


async def _read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The request body, or None as soon as it grows past ``limit`` (chunked uploads too)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


_DUMP_DIR_LOCK = threading.Lock()
_DUMP_WORK_LOCK = threading.Lock()


def _write_atomically(target: Path, body: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, target)


def _export_in_subprocess(
    source: Path, fmt_name: str, site: Any, target: Path, running: set[Any]
) -> None:
    """Write ``target``: the N-Quads file ``source`` exported as ``fmt_name`` for ``site``
    (:func:`cica_ld.publish.export_document`), by a fresh interpreter (:func:`_dump_entry`),
    kept in ``running`` while it runs (so that the server can stop it). Raises RuntimeError
    with the child's last line of error when it fails."""
    import pickle
    import subprocess
    import sys

    site_file = target.with_name(f".{target.name}.site")
    site_file.write_bytes(pickle.dumps(site))
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    code = "import sys; from cica_ld.server import _dump_entry; _dump_entry(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(source), fmt_name, str(site_file), str(target)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    running.add(proc)
    try:
        _, err = proc.communicate()
    finally:
        running.discard(proc)
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"the export exited with {proc.returncode}")


def _dump_entry(argv: Sequence[str]) -> None:
    """The dump process's entry point: ``SOURCE.nq FORMAT SITE.pickle TARGET``."""
    import pickle
    import sys

    import pyoxigraph

    _watch_parent()
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the server and its query workers come first
    source, fmt_name, site_file, target = argv
    from cica_ld import publish

    try:
        site = pickle.loads(Path(site_file).read_bytes())
        quads = list(pyoxigraph.parse(path=source, format=pyoxigraph.RdfFormat.N_QUADS))
        body = publish.export_document(quads, fmt_name, site=site, whole=True)
        _write_atomically(Path(target), body)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        sys.stderr.write(f"{type(exc).__name__}: {first}\n")
        sys.exit(1)


async def _unless_disconnected(work: Any, receive: Callable[[], Any]) -> Any | None:
    """Await ``work`` (a coroutine) unless the client hangs up first: then cancel it (the
    executor stops the query) and return None. ``receive`` is the request's ASGI receive; the
    request body must already have been read."""

    async def gone() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(gone())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


def _iri_problem(iri: str) -> str | None:
    """Why ``iri`` is not a valid IRI (pyoxigraph's word), or None."""
    import pyoxigraph

    try:
        pyoxigraph.NamedNode(iri)
    except ValueError as exc:
        return str(exc)
    return None


def _shown_path(path: str) -> str:
    """``path`` for a message: percent-encoded where it is not printable ASCII."""
    from urllib.parse import quote

    return "/" + quote(path, safe="/:@!$&'()*+,;=-._~")


def _in_daemon_thread(fn: Callable[[], Any]) -> asyncio.Future[Any]:
    """Run ``fn`` in a daemon thread of its own; a future of this loop for its result."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    def target() -> None:
        try:
            value, ok = fn(), True
        except Exception as exc:
            value, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(settle, ok, value)

    threading.Thread(target=target, name="cica-ld-dump", daemon=True).start()
    return fut


@functools.lru_cache(maxsize=1)
def _streamed_response_class() -> type:
    from starlette.responses import Response

    class StreamedResponse(Response):
        """A body (bytes, or a file) sent in chunks of :data:`CHUNK_BYTES`: the server holds
        no second copy in its socket buffers, and a client that reads nothing for
        :data:`SEND_TIMEOUT` seconds is dropped. ``on_done`` runs when sending ends."""

        def __init__(
            self,
            source: bytes | Path,
            *,
            status_code: int = 200,
            media_type: str | None = None,
            headers: dict[str, str] | None = None,
            on_done: Callable[[], None] | None = None,
        ) -> None:
            super().__init__(b"", status_code=status_code, media_type=media_type, headers=headers)
            size = len(source) if isinstance(source, bytes) else source.stat().st_size
            self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"] + [
                (b"content-length", str(size).encode())
            ]
            self.source = source
            self.on_done = on_done

        def _chunks(self) -> Iterator[bytes]:
            if isinstance(self.source, bytes):
                view = memoryview(self.source)
                for i in range(0, len(view), CHUNK_BYTES):
                    yield bytes(view[i : i + CHUNK_BYTES])
                return
            with open(self.source, "rb") as f:
                while chunk := f.read(CHUNK_BYTES):
                    yield chunk

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": self.raw_headers,
                    }
                )
                if scope.get("method") != "HEAD":
                    for chunk in self._chunks():
                        message = {"type": "http.response.body", "body": chunk, "more_body": True}
                        try:
                            await asyncio.wait_for(send(message), SEND_TIMEOUT)
                        except asyncio.TimeoutError:
                            return  # the client stopped reading: the connection is dropped
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                if self.on_done is not None:
                    self.on_done()

    return StreamedResponse


def _streamed_response(source: bytes | Path, **kwargs: Any) -> Response:
    """A :class:`StreamedResponse` (defined on first use: starlette is imported lazily)."""
    return _streamed_response_class()(source, **kwargs)


class _RequestLimits:
    """ASGI middleware: ``414`` for a request target longer than :data:`MAX_URL_BYTES`; a
    request cancelled by the server's shutdown ends quietly (``503`` if nothing was sent)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if target > MAX_URL_BYTES:
            response = _text(414, _too_long_message())
            await response(scope, receive, send)
            return
        started = False

        async def watched(message: Any) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except asyncio.CancelledError:
            # the server stops (SIGTERM) and cancels the requests still open after its grace
            # period: answer those that can be, without a traceback in the log
            if not started:
                with contextlib.suppress(Exception):
                    await _text(503, "the server is shutting down")(scope, receive, send)


def _too_long_message() -> str:
    return (
        f"the request URL is longer than {MAX_URL_BYTES} bytes; "
        "POST a long query (application/sparql-query) instead"
    )


_READ_ONLY = (
    "this endpoint is read-only: SPARQL Update is not accepted; "
    "load data with `cica-ld serve --data FILE` instead"
)


def _rdf_response(body: bytes, fmt: Format, headers: dict[str, str] | None = None) -> Response:
    from starlette.responses import Response

    return Response(body, media_type=fmt.content_type, headers=headers)


def _publish_module() -> Any | None:
    """The publishing module (HTML pages, DCAT/VoID), if this installation has it."""
    try:
        from cica_ld import publish
    except ImportError:  # pragma: no cover - it ships with cica-ld
        return None
    return publish


def _page_offers() -> tuple[Format, ...]:
    """What a resource or page can be served as, in server preference order (Turtle first, so
    ``*/*`` gets data; browsers name text/html and get the page)."""
    if _publish_module() is not None:
        return (TURTLE, HTML, JSONLD, NTRIPLES, RDFXML)
    return (TURTLE, JSONLD, NTRIPLES, RDFXML)


#: Path suffix -> the format it names (``/id/cica.ttl``).
SUFFIXES: dict[str, Format] = {f.suffix: f for f in (HTML, TURTLE, JSONLD, NTRIPLES, RDFXML)}


@functools.lru_cache(maxsize=4)
def _version_paths(base_iri: str) -> dict[str, str]:
    """The paths of the bundled vocabulary's and shapes' version IRIs -> ``ontology`` or
    ``shapes`` (``ontology/0.1.0`` -> ``ontology``)."""
    import pyoxigraph

    out: dict[str, str] = {}
    for kind in ("ontology", "shapes"):
        versions = _bundled_store(kind).quads_for_pattern(
            None, pyoxigraph.NamedNode("http://www.w3.org/2002/07/owl#versionIRI"), None, None
        )
        for q in versions:
            value = q.object.value
            if value.startswith(base_iri + kind + "/"):
                out[value[len(base_iri) :]] = kind
    return out


def _split_suffix(path: str) -> tuple[str, Format | None]:
    for suffix, fmt in SUFFIXES.items():
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)], fmt
    return path, None


@functools.lru_cache(maxsize=4)
def _bundled_store(kind: str) -> pyoxigraph.Store:
    """The bundled ontology or shapes in a store of their own (for the documentation pages)."""
    from cica_ld import dataset

    return dataset.load(dataset.bundled_files(kind), include_ontology=False).store


def site_for(
    store: pyoxigraph.Store, data: Sequence[str | Path] | None, base_iri: str | None
) -> tuple[Any, str]:
    """The site and base IRI ``cica-ld serve`` uses: without ``data`` the CICA site and
    ``base_iri`` or the CICA base IRI; with ``data`` a site of the user's data
    (:func:`cica_ld.publish.user_site`) and ``base_iri`` or the one inferred from the data
    (:func:`cica_ld.publish.infer_base_iri`)."""
    pub = _publish_module()
    if not data:
        return None, base_iri or DEFAULT_BASE_IRI
    if pub is None:  # pragma: no cover - it ships with cica-ld
        return None, base_iri or DEFAULT_BASE_IRI
    if base_iri is not None:
        base_iri = pub.normalize_base(base_iri, option="--base-iri")
    return pub.user_site(store, data), base_iri or pub.infer_base_iri(store)


#: The files of the client-side search (:func:`cica_ld.publish.search_files`): media types.
_SEARCH_FILES = {
    "search.html": "text/html; charset=utf-8",
    "search-index.json": "application/json",
    "search-index.js": "text/javascript; charset=utf-8",
    "search.js": "text/javascript; charset=utf-8",
}


def _site(config: ServerConfig, pub: Any) -> Any:
    """The site the config serves (the CICA site unless told otherwise; None without the
    publishing module)."""
    if config.site is not None:
        return config.site
    return pub.CICA_SITE if pub is not None else None


def _render_html(store: pyoxigraph.Store, iri: str, public: str, config: ServerConfig) -> bytes:
    publish = _publish_module()
    assert publish is not None
    out = publish.render_resource_html(
        store, iri, public, base_iri=config.base_iri, site=_site(config, publish)
    )
    return out.encode("utf-8")


def _render_jsonld(triples: Sequence[Any], site: Any = None) -> bytes:
    """Triples as JSON-LD compacted with the project context, inlined so the document stands
    alone (a client needs nothing else, online or not); on a site of the user's data
    (``site`` not the CICA one), with a context of the standard prefixes they use."""
    import pyoxigraph

    from cica_ld import jsonld

    quads = [pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in triples]
    pub = _publish_module()
    if pub is not None:  # the site's documents: context inlined, references framed
        return pub.export_document(quads, "jsonld", site=site)
    return jsonld.dumps(jsonld.compact(quads, context="inline"))


# --------------------------------------------------------------------------------------------
# Descriptions: SPARQL service description and VoID
# --------------------------------------------------------------------------------------------

_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS_NS = "http://www.w3.org/ns/formats/"
_VOID = "http://rdfs.org/ns/void#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_DCTERMS = "http://purl.org/dc/terms/"


def service_description(
    endpoint: str, *, triples: int, void_url: str | None = None
) -> list[pyoxigraph.Triple]:
    """The SPARQL 1.1 service description of the endpoint at ``endpoint`` (``sd:Service``)."""
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    svc = nn(endpoint)
    ds = pyoxigraph.BlankNode("defaultDataset")
    graph = pyoxigraph.BlankNode("defaultGraph")
    out = [
        pyoxigraph.Triple(svc, nn(_RDF_TYPE), nn(_SD + "Service")),
        pyoxigraph.Triple(svc, nn(_SD + "endpoint"), svc),
        pyoxigraph.Triple(svc, nn(_SD + "supportedLanguage"), nn(_SD + "SPARQL11Query")),
        pyoxigraph.Triple(svc, nn(_SD + "feature"), nn(_SD + "UnionDefaultGraph")),
        pyoxigraph.Triple(svc, nn(_SD + "defaultDataset"), ds),
        pyoxigraph.Triple(ds, nn(_RDF_TYPE), nn(_SD + "Dataset")),
        pyoxigraph.Triple(ds, nn(_SD + "defaultGraph"), graph),
        pyoxigraph.Triple(graph, nn(_RDF_TYPE), nn(_SD + "Graph")),
        pyoxigraph.Triple(
            graph,
            nn(_VOID + "triples"),
            pyoxigraph.Literal(
                str(triples), datatype=nn("http://www.w3.org/2001/XMLSchema#integer")
            ),
        ),
    ]
    for name in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
    ):
        out.append(pyoxigraph.Triple(svc, nn(_SD + "resultFormat"), nn(_FORMATS_NS + name)))
    if void_url:
        out.append(pyoxigraph.Triple(ds, nn(_RDF_TYPE), nn(_VOID + "Dataset")))
        out.append(
            pyoxigraph.Triple(ds, nn("http://www.w3.org/2000/01/rdf-schema#seeAlso"), nn(void_url))
        )
    return out


def dataset_description(
    store: pyoxigraph.Store, *, base_iri: str, endpoint: str
) -> list[pyoxigraph.Triple]:
    """A minimal VoID description (counts computed from the store), used when the publishing
    module (the full DCAT/VoID description) is not installed."""
    import pyoxigraph

    nn = pyoxigraph.NamedNode
    integer = nn("http://www.w3.org/2001/XMLSchema#integer")
    ds = nn(base_iri + "dataset")

    def count(q: str) -> pyoxigraph.Literal:
        sol = next(iter(store.query(q, use_default_graph_as_union=True)))
        return pyoxigraph.Literal(sol["n"].value, datatype=integer)

    out = [
        pyoxigraph.Triple(ds, nn(_RDF_TYPE), nn(_VOID + "Dataset")),
        pyoxigraph.Triple(ds, nn(_VOID + "sparqlEndpoint"), nn(endpoint)),
        pyoxigraph.Triple(ds, nn(_VOID + "uriSpace"), pyoxigraph.Literal(base_iri)),
        pyoxigraph.Triple(ds, nn(_VOID + "triples"), count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")),
        pyoxigraph.Triple(
            ds,
            nn(_VOID + "distinctSubjects"),
            count("SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }"),
        ),
        pyoxigraph.Triple(
            ds, nn(_VOID + "properties"), count("SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }")
        ),
        pyoxigraph.Triple(
            ds, nn(_VOID + "classes"), count("SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }")
        ),
    ]
    return out


# --------------------------------------------------------------------------------------------
# Running: uvicorn, or one request in-process
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """The answer to one in-process request (``cica-ld serve --get``)."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def fetch(app: Starlette, path: str, *, accept: str | None = None) -> FetchResult:
    """Answer one GET request for ``path`` in-process (httpx's ASGI transport), with the app's
    lifespan (worker start and stop) around it."""
    return asyncio.run(fetch_async(app, path, accept=accept))


async def fetch_async(app: Starlette, path: str, *, accept: str | None = None) -> FetchResult:
    """:func:`fetch` for callers that already run an event loop."""
    import httpx

    if not path.startswith("/"):
        path = "/" + path
    headers = {"accept": accept} if accept else {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            resp = await client.get(path, headers=headers, follow_redirects=False)
            return FetchResult(resp.status_code, dict(resp.headers), resp.content)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names a loopback interface."""
    import ipaddress

    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> Any:
    """A listening TCP socket on ``host:port`` (port 0: any free port).

    Raises :class:`~cica_ld.errors.UsageError` when the address is taken or not ours.
    """
    import socket

    from cica_ld.errors import UsageError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    family, socktype, proto, _, addr = infos[0]
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only then,
    # and without it Nagle + delayed ACK add ~40 ms to keep-alive requests
    sock = socket.socket(family, socktype, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (0 picks a free one)",
        ) from None
    sock.set_inheritable(True)
    return sock


#: Connections served at once by default (fewer if the process may open fewer files).
DEFAULT_MAX_CONNECTIONS = 1000
#: File descriptors kept for the server's own use (worker sockets, files being sent, logs).
FD_RESERVE = 64


def raise_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit (at most 65,536) and
    return the soft limit now in force (a large number where there is no such limit)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return 1 << 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65_536 if hard == resource.RLIM_INFINITY else min(hard, 65_536)
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if soft == resource.RLIM_INFINITY else soft


def default_max_connections(file_limit: int) -> int:
    """Connections the server keeps open at once: :data:`DEFAULT_MAX_CONNECTIONS`, or fewer
    so that each may also have a file open without reaching ``file_limit``."""
    return max(8, min(DEFAULT_MAX_CONNECTIONS, (file_limit - FD_RESERVE) // 2))


class ConnectionGuard:
    """What uvicorn does not bound, for the connections of one server: how long a client may
    take to send a request (``header_timeout``, head and body, from its first byte or from
    connecting), how many connections are open (``max_connections``: past it the oldest idle
    connection is closed to make room, one that never completed a request first, then a
    kept-alive one; the new one is answered ``503`` when none is idle), and the length of a
    request target still being received (``414``)."""

    def __init__(self, *, max_connections: int, header_timeout: float) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if header_timeout <= 0:
            raise ValueError("header_timeout must be positive")
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.open: dict[Any, None] = {}  # the connections' protocols, oldest first
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0

    def admit(self, proto: Any) -> bool:
        if len(self.open) >= self.max_connections:
            idle = [p for p in self.open if p.waiting_for_request()]
            victim = next((p for p in idle if not p.served), idle[0] if idle else None)
            if victim is None:
                self.refused += 1
                proto.refuse()
                return False
            self.evicted += 1
            self.open.pop(victim, None)
            victim.transport.close()
        self.open[proto] = None
        return True

    def forget(self, proto: Any) -> None:
        self.open.pop(proto, None)

    def protocol(self) -> type:
        """uvicorn's h11 protocol, bounded by this guard (``uvicorn.Config(http=...)``)."""
        import h11
        from uvicorn.protocols.http.h11_impl import H11Protocol

        guard = self

        class GuardedH11Protocol(H11Protocol):
            _deadline: asyncio.TimerHandle | None = None
            _received = False
            served = 0  # requests answered on this connection

            def connection_made(self, transport: Any) -> None:
                super().connection_made(transport)
                if guard.admit(self):
                    self._arm()

            def connection_lost(self, exc: Exception | None) -> None:
                guard.forget(self)
                self._disarm()
                super().connection_lost(exc)

            def data_received(self, data: bytes) -> None:
                self._received = True
                super().data_received(data)
                if self.transport.is_closing():
                    self._disarm()
                    return
                state = self.conn.their_state
                if state is h11.IDLE:  # part of a request head: the clock runs
                    self._arm()
                    pending = self.conn.trailing_data[0]
                    if len(pending) > MAX_URL_BYTES and b"\n" not in pending[: MAX_URL_BYTES + 16]:
                        self._reply(414, _too_long_message())
                elif state is not h11.SEND_BODY:  # the whole request is in
                    self._disarm()

            def on_response_complete(self) -> None:
                self.served += 1
                super().on_response_complete()

            def waiting_for_request(self) -> bool:
                """Whether no request is being answered (idle, or still sending its head)."""
                return self.conn.their_state is h11.IDLE and (
                    self.cycle is None or self.cycle.response_complete
                )

            def refuse(self) -> None:
                self._reply(503, "too many connections; retry shortly", retry_after=True)

            def _arm(self) -> None:
                if self._deadline is None:
                    self._deadline = self.loop.call_later(guard.header_timeout, self._expire)

            def _disarm(self) -> None:
                if self._deadline is not None:
                    self._deadline.cancel()
                    self._deadline = None

            def _expire(self) -> None:
                self._deadline = None
                receiving = self.conn.their_state in (h11.IDLE, h11.SEND_BODY)
                if self.transport.is_closing() or not receiving:
                    return
                guard.timed_out += 1
                answering = self.cycle is not None and not self.cycle.response_complete
                if self._received and not answering:
                    self._reply(408, "the request was not received in time")
                    return
                self.transport.close()

            def _reply(self, status: int, message: str, *, retry_after: bool = False) -> None:
                """Answer without h11 (the request may be incomplete) and close."""
                import http

                body = (message + "\n").encode()
                head = [
                    f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
                    "content-type: text/plain; charset=utf-8",
                    f"content-length: {len(body)}",
                    "connection: close",
                ]
                if retry_after:
                    head.append(f"retry-after: {RETRY_AFTER}")
                self._disarm()
                self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                self.transport.close()

        return GuardedH11Protocol


def _log_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's errors (a failed accept, say) as one log line each, no traceback."""
    import logging

    exc = context.get("exception")
    extra = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    logging.getLogger("uvicorn.error").error("%s%s", context.get("message", "error"), extra)


def run(
    app: Starlette,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: bool = True,
    on_ready: Callable[[str], None] | None = None,
    max_connections: int | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
) -> None:
    """Serve ``app`` with uvicorn until interrupted. ``on_ready`` gets the base URL once the
    server listens (with the real port when ``port`` is 0).

    Connections are bounded by a :class:`ConnectionGuard`: ``max_connections`` open at once
    (default :func:`default_max_connections` of the open-file limit, which is first raised to
    its hard limit), ``header_timeout`` seconds to send a request, ``idle_timeout`` seconds
    of keep-alive between requests. On SIGTERM or Ctrl-C, open requests get
    :data:`SHUTDOWN_GRACE` seconds to finish.
    """
    import uvicorn

    if idle_timeout <= 0:
        raise ValueError("idle_timeout must be positive")
    files = raise_file_limit()
    guard = ConnectionGuard(
        max_connections=max_connections or default_max_connections(files),
        header_timeout=header_timeout,
    )
    sock = bind(host, port)
    real_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        access_log=access_log,
        log_level="info" if access_log else "warning",
        lifespan="on",
        server_header=False,
        http=guard.protocol(),
        timeout_keep_alive=idle_timeout,  # type: ignore[arg-type]
        timeout_graceful_shutdown=SHUTDOWN_GRACE,  # type: ignore[arg-type]
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
    )
    server = uvicorn.Server(config)
    app.state.connections = guard
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{real_port}/"
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        asyncio.get_running_loop().set_exception_handler(_log_loop_errors)
        await original(sockets=sockets)
        if server.started and on_ready is not None:
            on_ready(url)

    server.startup = startup  # type: ignore[method-assign]
    try:
        with _hang_up_stops(server):
            server.run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def _hang_up_stops(server: Any) -> Iterator[None]:
    """While ``server`` runs, SIGHUP shuts it down gracefully as SIGTERM does (uvicorn handles
    only SIGINT and SIGTERM), then is raised again once the previous handler is back, as
    uvicorn does for those. A SIGHUP that is ignored (``nohup``) stays ignored."""
    import signal
    import threading

    sighup = getattr(signal, "SIGHUP", None)
    if sighup is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(sighup)
    if previous is signal.SIG_IGN:
        yield
        return
    caught: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        caught.append(signum)
        server.handle_exit(signum, frame)

    signal.signal(sighup, stop)
    try:
        yield
    finally:
        signal.signal(sighup, previous)
    if caught:
        signal.raise_signal(sighup)


__all__ = [
    "DEFAULT_BASE_IRI",
    "FetchResult",
    "Format",
    "QueryRequest",
    "QueryResponse",
    "create_app",
    "describe",
    "execute_query",
    "fetch",
    "negotiate",
    "run",
    "serialize_solutions",
    "service_description",
]
