"""Running SPARQL queries: what QUERY names, safety checks, parameters, execution, rendering.

The pipeline behind ``cica-ld query`` (each step usable on its own):

1. :func:`resolve_query` turns QUERY into text: a named query of the catalogue, a ``.rq`` file,
   inline SPARQL, or ``-`` (text given by the caller, read from stdin by the CLI).
2. :func:`analyse` reads the query's tokens: its form (SELECT, ASK, CONSTRUCT, DESCRIBE), its
   prefixes and variables. A SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE,
   COPY, WITH) is refused, and so is SERVICE unless allowed; an undeclared prefix is reported at
   its line and column. The tokens are only a first look: :func:`check_safety` decides on
   pyoxigraph's own parse that the text is a query and whether it calls SERVICE (without ever
   letting it evaluate one), so an escape or comment the tokens read differently cannot hide
   an update or a SERVICE call.
3. :func:`prepare` checks the syntax (pyoxigraph's parser; malformed SPARQL is reported at line
   and column), turns ``--param NAME=VALUE`` into RDF terms (:func:`parse_param_value`) and binds
   them with a VALUES block of serialized terms at the start of the WHERE group: a value is
   never pasted into the query as text, so it cannot inject SPARQL. The same query text runs
   locally and on an endpoint, so both give the same answers.
4. :func:`execute` runs it on a pyoxigraph store (the default graph is the union of all graphs);
   :func:`fetch` sends it to a SPARQL endpoint (:mod:`cica_ld.endpoint`).
5. :func:`render` writes the answer: ``table`` (aligned, prefixes abbreviated), ``csv``, ``tsv``,
   ``json`` (SPARQL 1.1 Query Results JSON), ``xml`` (SPARQL Query Results XML); for graphs
   ``turtle``, ``ntriples``, ``jsonld``, ``rdfxml``. ASK gives ``true``/``false``.

Nothing here imports rdflib: pyoxigraph parses, runs and serializes.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cica_ld import catalogue as _catalogue
from cica_ld import namespaces as _namespaces
from cica_ld.errors import (
    EndpointError,
    InputError,
    InternalError,
    QuerySyntaxError,
    UnsafeQueryError,
    UsageError,
)

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.endpoint import EndpointResponse

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

#: Prefixes every query may use without declaring them (a query's own PREFIX wins); also the
#: abbreviations of the table format and of Turtle output.
DEFAULT_PREFIXES: dict[str, str] = _namespaces.PREFIXES

RESULT_FORMATS: tuple[str, ...] = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS: tuple[str, ...] = ("turtle", "ntriples", "jsonld", "rdfxml")
FORMATS: tuple[str, ...] = RESULT_FORMATS + GRAPH_FORMATS

#: ``--output`` extension -> format, for SELECT/ASK and for CONSTRUCT/DESCRIBE answers.
RESULT_EXTENSIONS = {
    ".txt": "table",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".srj": "json",
    ".xml": "xml",
    ".srx": "xml",
}
GRAPH_EXTENSIONS = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".jsonld": "jsonld",
    ".json-ld": "jsonld",
    ".json": "jsonld",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
    ".xml": "rdfxml",
}

#: Media type requested from an endpoint for each format (``table`` is rendered from JSON).
MEDIA_TYPES = {
    "table": "application/sparql-results+json",
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)

# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = r"(?:[^\W\d_](?:[\w.\-]*[\w\-])?)"
_PN_LOCAL = rf"(?:(?:[\w:]|{_PLX})(?:(?:[\w.:\-]|{_PLX})*(?:[\w:\-]|{_PLX}))?)"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
  | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
  | (?P<bnode>_:[\w](?:[\w.\-]*[\w\-])?)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>"""
    + _PN_PREFIX
    + "?:"
    + _PN_LOCAL
    + r"""?)
  | (?P<word>[^\W\d]\w*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_PNAME_FULL = re.compile(rf"^({_PN_PREFIX})?:({_PN_LOCAL})?$")
_PN_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Token:
    """A lexical token of a query: its kind, text and where it starts (offset, line, column)."""

    kind: str
    text: str
    start: int
    line: int
    column: int


def tokenize(text: str) -> list[Token]:
    """The significant tokens of ``text`` (no whitespace or comments), with positions.

    An unterminated string shows up as an ``other`` token holding just its quote.
    """
    out: list[Token] = []
    line, line_start = 1, 0
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "other"
        start = m.start()
        if kind not in ("ws", "comment"):
            out.append(Token(kind, m.group(), start, line, start - line_start + 1))
        newlines = m.group().count("\n")
        if newlines:
            line += newlines
            line_start = m.start() + m.group().rfind("\n") + 1
    return out


#: Tokens that nest what follows one level deeper in the parse. Path operators (``/``, a single
#: ``|``, ``^`` before an IRI) count a level each: a property path's cost grows fast with its
#: length (pyoxigraph: 200 steps 1.8 s, 400 steps 10 s). Expression operators and
#: ``UNION``/``MINUS``/``OPTIONAL`` count a tenth of a level: a chain of them is cheap to a
#: point (1,000 ``||`` in 1.6 s, 1,000 ``UNION``s in 2.3 s, 3,000 ``||`` in 22 s, a flat
#: 8,000-term sum crashes the parser), and real queries chain a few hundred (a long ``||``
#: filter, a ``VALUES`` list of negative numbers).
_PATH_OPS = frozenset("/|^")
_CHAINING = frozenset("/|^!+-*=<>&") | {"UNION", "MINUS", "OPTIONAL"}
_CHAIN_WEIGHT = 0.1
_OPEN, _CLOSE = "{([", "})]"


_PAIRS = frozenset({"||", "&&", "!=", "<=", ">=", "^^"})


def _chain_weights(toks: Sequence[Token]) -> list[float]:
    """What each token adds to its level's chaining weight: 0 for a token that does not chain
    and for the second character of ``||``, ``&&``, ``!=``, ``<=``, ``>=``, ``^^`` (the
    tokenizer splits them); ``^^`` (a literal's datatype) adds nothing at all; path operators
    (a single ``|``, ``/``, ``^``) a level; other operators and ``UNION``/``MINUS``/``OPTIONAL``
    :data:`_CHAIN_WEIGHT`."""
    out = [0.0] * len(toks)
    skip = False
    for i, t in enumerate(toks):
        if skip:
            skip = False
            continue
        if t.kind == "word":
            out[i] = _CHAIN_WEIGHT if t.text.upper() in _CHAINING else 0.0
            continue
        if t.kind != "other" or t.text not in _CHAINING:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if (
            nxt is not None
            and nxt.kind == "other"
            and nxt.start == t.start + 1
            and t.text + nxt.text in _PAIRS
        ):
            skip = True
            out[i] = 0.0 if t.text == "^" else _CHAIN_WEIGHT
        else:
            out[i] = 1.0 if t.text in _PATH_OPS else _CHAIN_WEIGHT
    return out


def nesting_depth(
    text: str, tokens: Sequence[Token] | None = None, *, limit: int | None = None
) -> tuple[int, Token | None]:
    """An upper bound on how deep a parser recurses on the query ``text``; and the opening
    token of the innermost group deeper than ``limit`` (None if there is none, or it is the
    query's top level).

    Each bracket (``{``, ``(``, ``[``) opens a level; within a level, path operators and (a
    tenth of a level each, see :data:`_CHAIN_WEIGHT`) expression operators, ``UNION``,
    ``MINUS`` and ``OPTIONAL`` nest the rest deeper (a chain ``a/b/c`` or ``1+1+1`` is a tree
    as deep as it is long). The depth of a group is 1 + its chaining weight + the depth of its
    deepest group, rounded up. One linear pass over the tokens.
    """
    import math

    toks = tokenize(text) if tokens is None else tokens
    # per open level: [chaining weight, deepest child, opening token]
    stack: list[list[Any]] = [[0.0, 0.0, None]]
    deepest = 0.0
    over: Token | None = None
    found = False

    def close() -> None:
        nonlocal deepest, over, found
        ops, child, opener = stack.pop()
        depth = 1 + ops + child
        deepest = max(deepest, depth)
        if limit is not None and math.ceil(depth - 1e-9) > limit and not found:
            over, found = opener, True
        if stack:
            stack[-1][1] = max(stack[-1][1], depth)

    for t, weight in zip(toks, _chain_weights(toks), strict=True):
        if t.kind == "other" and t.text in _OPEN:
            stack.append([0.0, 0.0, t])
        elif t.kind == "other" and t.text in _CLOSE:
            if len(stack) > 1:
                close()
        else:
            stack[-1][0] += weight
    while stack:
        close()
    return math.ceil(deepest - 1e-9), over


def check_nesting(
    text: str,
    *,
    origin: str = "<query>",
    limit: int | None = None,
    tokens: Sequence[Token] | None = None,
) -> None:
    """Refuse a query nested deeper than ``limit`` (default: the ``CICA_LD_MAX_NESTING``
    bound, 100) before any parser sees it: pyoxigraph's recursive parser crashes the process
    (a segmentation fault) on a query nested a few thousand deep and takes minutes on chains
    of a few hundred. Raises :class:`QuerySyntaxError` at the deepest group, naming the limit.
    Every path that parses SPARQL calls it (queries, ``--param`` values bound into them,
    shapes' ``sh:select``/``sh:ask``, the server's requests)."""
    from cica_ld import limits

    limit = limits.current().nesting if limit is None else limit
    if len(text) <= limit:  # cannot nest deeper than it is long
        return
    depth, opener = nesting_depth(text, tokens, limit=limit)
    if depth > limit:
        err = limits.nesting_error(
            f" (about {depth}: brackets plus chained operators)",
            what="the query",
            limit=limit,
        )
        raise QuerySyntaxError(
            err.detail,
            path=origin,
            line=opener.line if opener is not None else None,
            column=opener.column if opener is not None else None,
            hint=err.hint,
        )


# ---------------------------------------------------------------------------------------------
# Resolving QUERY
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuerySource:
    """The text of a query and where it came from (``origin`` is used in error messages)."""

    text: str
    origin: str
    path: Path | None = None
    named: _catalogue.NamedQuery | None = None


def resolve_query(
    spec: str,
    *,
    catalogue_dir: Path = _catalogue.QUERIES_DIR,
    stdin: str | bytes | None = None,
) -> QuerySource:
    """What QUERY names: ``-`` (the text in ``stdin``), a named query, a file, or SPARQL text.

    A name of the catalogue wins over a file of the same name in the current folder; write
    ``./name`` for the file. Something that looks like a name but is none raises
    :class:`InputError` listing the close matches.
    """
    if spec == "-":
        if stdin is None:
            raise UsageError("QUERY is '-' but no query text was given on stdin")
        if isinstance(stdin, bytes):
            text = _catalogue.decode_utf8(stdin, path="<stdin>")
        else:
            text = stdin.removeprefix("\ufeff")
        return QuerySource(text=text, origin="<stdin>")
    if not spec.strip():
        raise QuerySyntaxError(
            "the query is empty",
            path="<query>",
            hint="give SPARQL text, a .rq file, - for stdin, or a name from 'cica-ld queries'",
        )
    if _catalogue.is_query_name(spec):
        named_path = Path(catalogue_dir) / f"{spec}.rq"
        if _is_file(named_path):
            named = _catalogue.load_named(named_path)
            origin = str(named.path)
            return QuerySource(text=named.text, origin=origin, path=named.path, named=named)
    if _looks_like_sparql(spec):
        return QuerySource(text=spec, origin="<query>")
    path = Path(spec)
    if _is_dir(path):
        raise InputError("is a folder, expected a .rq query file", path=path)
    if _is_file(path):
        return QuerySource(text=_catalogue.read_query_file(path), origin=str(path), path=path)
    if path.suffix.lower() in (".rq", ".sparql") or "/" in spec or "\\" in spec:
        raise InputError("no such query file", path=path)
    if _catalogue.is_query_name(spec):
        _catalogue.get(spec, catalogue_dir)  # raises: unknown name, with close matches
    raise UsageError(
        f"QUERY {spec!r} is neither a named query, a query file nor SPARQL text",
        hint="run 'cica-ld queries' for the named queries",
    )


def _looks_like_sparql(spec: str) -> bool:
    return any(c.isspace() for c in spec) or "{" in spec


def _is_file(p: Path) -> bool:
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except (OSError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# Analysis: form, prefixes, safety
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryInfo:
    """What the tokens of a query say: its form, declared prefixes, variables, SERVICE use."""

    form: str
    prefixes: Mapping[str, str]
    variables: frozenset[str]
    uses_service: bool
    undeclared_defaults: tuple[str, ...] = ()
    tokens: tuple[Token, ...] = field(default=(), repr=False)


def analyse(text: str, *, origin: str = "<query>", allow_service: bool = False) -> QueryInfo:
    """Read the tokens of a query; refuse updates (and SERVICE unless ``allow_service``).

    Raises :class:`UnsafeQueryError` for an update or a forbidden SERVICE,
    :class:`QuerySyntaxError` for an empty query, an unterminated string or an undeclared
    prefix, each at its line and column.
    """
    tokens = tokenize(text)
    if not tokens:
        raise QuerySyntaxError(
            "the query is empty: no SPARQL, only spaces or comments", path=origin
        )
    check_nesting(text, origin=origin, tokens=tokens)
    for t in tokens:
        if t.kind == "word":
            kw = t.text.upper()
            if kw in UPDATE_KEYWORDS:
                raise UnsafeQueryError(
                    f"SPARQL Update ({kw}) is refused: queries are read-only",
                    path=origin,
                    line=t.line,
                    column=t.column,
                )
            if kw == "SERVICE" and not allow_service:
                raise UnsafeQueryError(
                    "SERVICE (a call to another endpoint) is refused",
                    path=origin,
                    line=t.line,
                    column=t.column,
                    hint="add --allow-service to let the query call other endpoints",
                )
        elif t.kind == "other" and t.text in "'\"":
            raise QuerySyntaxError("unterminated string", path=origin, line=t.line, column=t.column)
    prefixes: dict[str, str] = {}
    i = 0
    while (
        i < len(tokens)
        and tokens[i].kind == "word"
        and tokens[i].text.upper()
        in (
            "PREFIX",
            "BASE",
        )
    ):
        if tokens[i].text.upper() == "BASE":
            i += 2
            continue
        if i + 2 < len(tokens) and tokens[i + 1].kind == "pname" and tokens[i + 2].kind == "iri":
            prefixes[tokens[i + 1].text[:-1]] = tokens[i + 2].text[1:-1]
        i += 3
    form = tokens[i].text.upper() if i < len(tokens) and tokens[i].kind == "word" else ""
    if form not in QUERY_FORMS:
        form = ""
    undeclared: list[str] = []
    for t in tokens[i:]:
        if t.kind != "pname":
            continue
        prefix = t.text.split(":", 1)[0]
        if prefix in prefixes:
            continue
        if prefix in DEFAULT_PREFIXES:
            if prefix not in undeclared:
                undeclared.append(prefix)
            continue
        raise QuerySyntaxError(
            f"undefined prefix '{prefix}:'",
            path=origin,
            line=t.line,
            column=t.column,
            hint=f"declare it: PREFIX {prefix}: <...>",
        )
    variables = frozenset(t.text[1:] for t in tokens if t.kind == "var")
    uses_service = check_safety(text, origin=origin, allow_service=allow_service, tokens=tokens)
    return QueryInfo(
        form=form,
        prefixes=prefixes,
        variables=variables,
        uses_service=uses_service,
        undeclared_defaults=tuple(undeclared),
        tokens=tuple(tokens),
    )


def _letter(c: str) -> str:
    codes = "|".join(f"{ord(x):02x}" for x in (c.lower(), c.upper()))
    return rf"(?:{c}|\\u00(?:{codes})|\\U000000(?:{codes}))"


#: "service" in any case, each letter as itself or as a ``\\u``/``\\U`` escape (pyoxigraph
#: decodes escapes in IRIs and strings, rdflib everywhere): every place a SERVICE keyword
#: could be, and more.
_SERVICE_SPELLINGS = re.compile("".join(_letter(c) for c in "service"), re.IGNORECASE)


def service_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` spells "service" (any case, letters possibly escaped): a superset of its
    SERVICE keywords (strings, IRIs, comments and names included)."""
    return [m.span() for m in _SERVICE_SPELLINGS.finditer(text)]


def without_service(text: str, spans: Sequence[tuple[int, int]] | None = None) -> str:
    """``text`` with every spelling of "service" replaced by as many ``q`` letters.

    The result can contain no SERVICE keyword, so a parser may evaluate it safely; and it
    parses if and only if no spelling was a keyword (a bare ``qqqqqqq`` is never valid SPARQL,
    while inside a string, IRI, comment or name letters stay letters): so a parser that accepts
    it has seen no SERVICE in ``text``. Positions (and so error line:column) are unchanged.
    """
    out, last = [], 0
    for start, end in service_spans(text) if spans is None else spans:
        out += [text[last:start], "q" * (end - start)]
        last = end
    out.append(text[last:])
    return "".join(out)


def service_free(text: str) -> bool:
    """Whether pyoxigraph's parser shows that the query ``text`` makes no SERVICE call (it
    spells no "service", or parses with each spelling neutralised, see :func:`without_service`).
    False also for an update or a syntax error where "service" is spelled. Never runs SERVICE.
    A query nested too deep raises :class:`QuerySyntaxError` (:func:`check_nesting`)."""
    check_nesting(text)
    spans = service_spans(text)
    return not spans or _pyoxigraph_error(without_service(text, spans)) is None


def _service_as_graph(text: str, tokens: Sequence[Token]) -> tuple[str, Token | None]:
    """``text`` with each SERVICE [SILENT] keyword the tokens show replaced by GRAPH (the same
    shape: a graph name then a group) and every other spelling of "service" by ``q`` letters;
    and the first SERVICE token."""
    chars = list(without_service(text))
    first = None
    for i, t in enumerate(tokens):
        if t.kind == "word" and t.text.upper() == "SERVICE":
            first = first or t
            chars[t.start : t.start + len(t.text)] = "GRAPH".ljust(len(t.text))
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.kind == "word" and nxt.text.upper() == "SILENT":
                chars[nxt.start : nxt.start + len(nxt.text)] = " " * len(nxt.text)
    return "".join(chars), first


def _pyoxigraph_error(text: str) -> str | None:
    """pyoxigraph's syntax error for the query ``text`` (an update is one), or None.

    Evaluates ``text`` on an empty store: only call it on text without SERVICE.
    """
    import pyoxigraph

    try:
        pyoxigraph.Store().query(text, prefixes=DEFAULT_PREFIXES)
    except SyntaxError as exc:
        return str(exc.msg or exc)
    except (OSError, RuntimeError, ValueError):  # evaluation on an empty store: it parsed
        return None
    return None


def check_safety(
    text: str,
    *,
    origin: str = "<query>",
    allow_service: bool = False,
    tokens: Sequence[Token] | None = None,
) -> bool:
    """Decide with pyoxigraph's parser that ``text`` is a query (not an update) and whether it
    calls SERVICE; refuse SERVICE unless ``allow_service``. Returns whether it uses SERVICE.

    The check never lets pyoxigraph evaluate a SERVICE: it parses :func:`without_service`
    (which has none); if that fails where the text spells "service", it parses the text with
    those SERVICE keywords turned into GRAPH, which only parses as a query when they were the
    keywords. The own tokens only say where to look; a disagreement with pyoxigraph refuses.
    Raises :class:`UnsafeQueryError` or :class:`QuerySyntaxError`.
    """
    check_nesting(text, origin=origin, tokens=tokens)
    spans = service_spans(text)
    error = _pyoxigraph_error(without_service(text, spans))
    if error is None:
        return False
    if not spans:
        raise _query_syntax_error(text, error, origin)
    as_graph, first = _service_as_graph(text, tokenize(text) if tokens is None else tokens)
    graph_error = _pyoxigraph_error(as_graph) if first is not None else error
    if graph_error is None and allow_service:
        return True
    if graph_error is None and first is not None:
        raise UnsafeQueryError(
            "SERVICE (a call to another endpoint) is refused",
            path=origin,
            line=first.line,
            column=first.column,
            hint="add --allow-service to let the query call other endpoints",
        )
    located = _query_syntax_error(text, graph_error or error, origin)
    if allow_service:
        raise located
    raise UnsafeQueryError(
        f"SERVICE (a call to another endpoint) is refused: the query spells 'service' and "
        f"does not parse, so it cannot be shown to make no SERVICE call ({located.detail})",
        path=origin,
        line=located.line,
        column=located.column,
        hint="fix the syntax error; add --allow-service to let the query call other endpoints",
    )


_PYOX_ERROR = re.compile(r"^error at (\d+):(\d+):\s*(.*)$", re.DOTALL)


def check_syntax(text: str, *, origin: str = "<query>") -> None:
    """Parse ``text`` with pyoxigraph (on an empty store); a syntax error raises
    :class:`QuerySyntaxError` at its line and column.

    Do not call it on a query with SERVICE: an ASK query is evaluated at once.
    """
    import pyoxigraph

    check_nesting(text, origin=origin)
    try:
        pyoxigraph.Store().query(text, prefixes=DEFAULT_PREFIXES)
    except SyntaxError as exc:
        raise _query_syntax_error(text, str(exc.msg or exc), origin) from None
    except (OSError, RuntimeError, ValueError) as exc:  # evaluation on an empty store
        raise QuerySyntaxError(f"SPARQL error: {_one_line(exc)}", path=origin) from None


def _query_syntax_error(text: str, message: str, origin: str) -> QuerySyntaxError:
    """A pyoxigraph parse error at a line and column of ``text``.

    pyoxigraph reports the furthest position its parser reached (in bytes, one character past
    where it stopped), which is reliable for most errors: we report the start of the token
    there, in characters. When that is the last token of the query, the parser ran to the end
    and the mistake usually lies earlier: then rdflib's SPARQL parser (imported on this error
    path only) locates the construct that does not parse.
    """
    m = _PYOX_ERROR.match(message.strip())
    if not m:
        return QuerySyntaxError(f"SPARQL syntax error: {_one_line(message)}", path=origin)
    line, byte_col, detail = int(m.group(1)), int(m.group(2)), _one_line(m.group(3))
    column = byte_col
    tokens = tokenize(text)
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        raw = lines[line - 1].encode("utf-8")
        char_col = len(raw[: max(byte_col - 1, 0)].decode("utf-8", "replace")) + 1
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + char_col - 1
        stuck = [t for t in tokens if t.start <= offset - 1]
        column = char_col
        if stuck:
            line, column = stuck[-1].line, stuck[-1].column
            if len(stuck) == len(tokens):
                earlier = _rdflib_location(text)
                if earlier is not None and (earlier[0], earlier[1]) < (line, column):
                    near = next(
                        (t.text for t in tokens if (t.line, t.column) >= earlier), "end of query"
                    )
                    return QuerySyntaxError(
                        f"SPARQL syntax error near {near[:30]!r}",
                        path=origin,
                        line=earlier[0],
                        column=earlier[1],
                    )
    return QuerySyntaxError(f"SPARQL syntax error: {detail}", path=origin, line=line, column=column)


def _rdflib_location(text: str) -> tuple[int, int] | None:
    """(line, column) where rdflib's SPARQL parser fails on ``text``, or None."""
    try:
        from pyparsing import ParseException
        from rdflib.plugins.sparql.parser import parseQuery
    except ImportError:  # pragma: no cover - rdflib is a dependency
        return None
    try:
        parseQuery(text)
    except ParseException as exc:
        return int(exc.lineno), int(exc.col)
    except Exception:  # only a second opinion on where the error is
        return None
    return None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_IRI_RE = re.compile(r'^<([^<>"{}|^`\\\x00-\x20]*)>$')
_QUOTED_RE = re.compile(
    r'^"((?:[^"\\]|\\.)*)"(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^(\S+))?$', re.DOTALL
)
_STRING_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'"}
_STRING_ESCAPES["\\"] = "\\"


def parse_param_value(
    value: str,
    prefixes: Mapping[str, str] | None = None,
    *,
    today: _dt.date | None = None,
) -> pyoxigraph.NamedNode | pyoxigraph.Literal:
    """The RDF term a ``--param`` value stands for.

    ``2024-05-01`` (an ISO date) -> ``xsd:date``; ``today`` -> today as ``xsd:date``;
    ``42`` -> ``xsd:integer``; ``<https://...>`` or ``prefix:local`` (a prefix of the query or a
    default one) -> IRI; ``"text"``, ``"text"@en`` or ``"lex"^^xsd:decimal`` -> that literal;
    anything else -> a plain string (``xsd:string``). Raises :class:`UsageError` for a bad date
    or IRI.
    """
    _no_surrogates(value, value)
    try:
        return _param_term(value, prefixes, today)
    except ValueError as exc:  # pyoxigraph refused the term: a bad value, not a bug
        raise UsageError(f"bad --param value {value!r}: {_one_line(exc)}") from None


def _no_surrogates(text: str, value: str) -> None:
    for c in text:
        if 0xD800 <= ord(c) <= 0xDFFF:
            raise UsageError(
                f"the --param value {value!r} holds {c!r}, a lone surrogate (half of a UTF-16 "
                "pair), which is no Unicode character",
                hint="write the character itself, or its \\U00XXXXXX escape",
            )


def _param_term(
    value: str, prefixes: Mapping[str, str] | None, today: _dt.date | None
) -> pyoxigraph.NamedNode | pyoxigraph.Literal:
    import pyoxigraph

    known = {**DEFAULT_PREFIXES, **(prefixes or {})}
    if value == "today":
        return _typed((today or _dt.date.today()).isoformat(), "date")
    if _DATE_RE.match(value):
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"{value!r} looks like a date but is not a valid one") from None
        return _typed(value, "date")
    if _INT_RE.match(value):
        return _typed(str(int(value)), "integer")
    if value.startswith("<") and value.endswith(">"):
        return _iri(value[1:-1])
    m = _PNAME_FULL.match(value)
    if m and (m.group(1) or "") in known:
        local = _PN_ESCAPE.sub(r"\1", m.group(2) or "")
        return _iri(known[m.group(1) or ""] + local)
    m = _QUOTED_RE.match(value)
    if m:
        lexical = re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", _unescape, m.group(1))
        _no_surrogates(lexical, value)
        if m.group(2):
            return pyoxigraph.Literal(lexical, language=m.group(2))
        if m.group(3):
            dt = parse_param_value(m.group(3), prefixes)
            if not isinstance(dt, pyoxigraph.NamedNode):
                raise UsageError(f"the datatype of {value!r} is not an IRI")
            return _literal(lexical, dt)
        return pyoxigraph.Literal(lexical)
    return pyoxigraph.Literal(value)


def _unescape(m: re.Match[str]) -> str:
    esc = m.group(1)
    if esc[0] in "uU" and len(esc) > 1:
        try:
            return chr(int(esc[1:], 16))
        except (ValueError, OverflowError):
            raise UsageError(f"bad escape \\{esc} in a --param literal") from None
    if esc in _STRING_ESCAPES:
        return _STRING_ESCAPES[esc]
    raise UsageError(f"bad escape \\{esc} in a --param literal")


def _typed(lexical: str, xsd_type: str) -> pyoxigraph.Literal:
    import pyoxigraph

    return pyoxigraph.Literal(lexical, datatype=pyoxigraph.NamedNode(XSD + xsd_type))


def _literal(lexical: str, datatype: pyoxigraph.NamedNode) -> pyoxigraph.Literal:
    import pyoxigraph

    try:
        return pyoxigraph.Literal(lexical, datatype=datatype)
    except ValueError as exc:
        raise UsageError(f"bad literal {lexical!r}: {exc}") from None


def _iri(iri: str) -> pyoxigraph.NamedNode:
    import pyoxigraph

    if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", iri):
        raise UsageError(f"<{iri}> is not an absolute IRI")
    if not _IRI_RE.match(f"<{iri}>"):
        raise UsageError(f"<{iri}> is not a valid IRI (no spaces, quotes, braces or <>)")
    try:
        return pyoxigraph.NamedNode(iri)
    except ValueError as exc:
        raise UsageError(f"<{iri}> is not a valid IRI: {exc}") from None


def split_param(item: str) -> tuple[str, str]:
    """``NAME=VALUE`` -> (name, value); the name may be written ``?name`` or ``$name``."""
    name, sep, value = item.partition("=")
    name = name.strip().lstrip("?$")
    if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        raise UsageError(f"--param {item!r} is not NAME=VALUE", hint="e.g. --param date=2024-01-01")
    return name, value


# ---------------------------------------------------------------------------------------------
# Preparing: syntax check and binding
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedQuery:
    """A checked query ready to run: the SPARQL text to send (parameters bound by VALUES),
    its form, the prefixes for rendering, and the bound terms."""

    text: str
    form: str
    origin: str
    prefixes: Mapping[str, str]
    bindings: Mapping[str, Any] = field(default_factory=dict)
    uses_service: bool = False


def prepare(
    source: QuerySource | str,
    params: Sequence[str] | Mapping[str, str] = (),
    *,
    allow_service: bool = False,
    today: _dt.date | None = None,
) -> PreparedQuery:
    """Check a query and bind its parameters (``NAME=VALUE`` strings or a name -> value map).

    For a named query, parameters must be those its header declares; missing ones take their
    default, and a required one that is missing is an error. For other queries, each parameter
    must name a variable of the query.
    """
    if isinstance(source, str):
        source = QuerySource(text=source, origin="<query>")
    text, origin = source.text, source.origin
    info = analyse(text, origin=origin, allow_service=allow_service)
    if not info.uses_service:
        check_syntax(text, origin=origin)
    if not info.form:
        raise QuerySyntaxError(
            "not a SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)", path=origin
        )
    values = _param_values(source, info, params)
    prefixes = {**DEFAULT_PREFIXES, **info.prefixes}
    bindings: dict[str, Any] = {}
    for name, value in values.items():
        try:
            bindings[name] = parse_param_value(value, info.prefixes, today=today)
        except UsageError as exc:
            raise UsageError(f"--param {name}: {exc.detail}", hint=exc.hint) from None
    run_text = _bind(text, info, bindings, origin) if bindings else text
    if info.undeclared_defaults:  # the default prefixes the query relies on, for other servers
        decls = " ".join(f"PREFIX {p}: <{DEFAULT_PREFIXES[p]}>" for p in info.undeclared_defaults)
        run_text = f"{decls} {run_text}"
    if run_text != text:  # what runs is checked too (bound values, added prefixes)
        try:
            check_safety(run_text, origin=origin, allow_service=allow_service)
            if bindings and not info.uses_service:
                check_syntax(run_text, origin=origin)
        except QuerySyntaxError as exc:
            if not bindings:
                raise
            raise UsageError(
                f"cannot bind {', '.join('?' + n for n in bindings)} in this query: {exc.detail}",
                hint="a parameter must not also be set by BIND or VALUES in the query",
            ) from None
    return PreparedQuery(
        text=run_text,
        form=info.form,
        origin=origin,
        prefixes=prefixes,
        bindings=bindings,
        uses_service=info.uses_service,
    )


def _param_values(
    source: QuerySource, info: QueryInfo, params: Sequence[str] | Mapping[str, str]
) -> dict[str, str]:
    given: dict[str, str] = {}
    pairs = params.items() if isinstance(params, Mapping) else (split_param(p) for p in params)
    for name, value in pairs:
        if name in given:
            raise UsageError(f"--param {name} given twice")
        given[name] = value
    named = source.named
    if named is not None:
        declared = {p.name: p for p in named.params}
        for name in given:
            if name not in declared:
                listed = ", ".join(declared) or "none"
                raise UsageError(
                    f"query {named.name!r} has no parameter {name!r} (its parameters: {listed})"
                )
        out: dict[str, str] = {}
        for p in named.params:
            if p.name in given:
                out[p.name] = given[p.name]
            elif p.default is not None:
                out[p.name] = p.default
            else:
                raise UsageError(
                    f"query {named.name!r} needs --param {p.name}=..."
                    + (f" ({p.description})" if p.description else "")
                )
        return out
    for name in given:
        if name not in info.variables:
            raise UsageError(f"--param {name}: the query has no variable ?{name}")
    return given


def _bind(text: str, info: QueryInfo, bindings: Mapping[str, Any], origin: str) -> str:
    """``text`` with a VALUES block for ``bindings`` at the start of its WHERE group (or, when
    the query has no group to put it in, as the trailing VALUES clause)."""
    block = values_block(bindings)
    tokens = list(info.tokens)
    brace = _where_group(tokens, info.form)
    if brace is not None:
        open_tok = tokens[brace]
        nxt = tokens[brace + 1] if brace + 1 < len(tokens) else None
        at = open_tok.start + 1
        if nxt is not None and nxt.kind == "word" and nxt.text.upper() == "SELECT":
            close = _matching_brace(tokens, brace)  # the group is a subquery: wrap it
            end = tokens[close].start
            return f"{text[:at]} {block} {{{text[at:end]}}} {text[end:]}"
        return f"{text[:at]} {block} {text[at:]}"
    depth = 0
    for t in tokens:
        if t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
        elif depth == 0 and t.kind == "word" and t.text.upper() == "VALUES":
            raise UsageError(
                "cannot bind parameters: the query has no WHERE group and already ends with VALUES",
                hint=f"bind the variables in {origin} itself",
            )
    return f"{text}\n{block}\n"


def _where_group(tokens: list[Token], form: str) -> int | None:
    """Index of the ``{`` that opens the WHERE group, or None."""
    start = next(
        (i for i, t in enumerate(tokens) if t.kind == "word" and t.text.upper() == form), None
    )
    if start is None:
        return None
    i = start + 1
    if form == "CONSTRUCT":
        if i < len(tokens) and tokens[i].text == "{":
            i = _matching_brace(tokens, i) + 1
        else:
            return None  # CONSTRUCT WHERE { triples }: only triples may go in that group
    parens = 0
    for j in range(i, len(tokens)):
        t = tokens[j].text
        if t == "(":
            parens += 1
        elif t == ")":
            parens -= 1
        elif t == "{" and parens == 0 and tokens[j].kind == "other":
            return j
    return None


def _matching_brace(tokens: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].kind != "other":
            continue
        if tokens[j].text == "{":
            depth += 1
        elif tokens[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def values_block(bindings: Mapping[str, Any]) -> str:
    """``VALUES (?a ?b) { (t1 t2) }`` for RDF terms, each serialized by pyoxigraph and checked
    to read back as exactly that term (so no value can change the query around it)."""
    import pyoxigraph

    names = list(bindings)
    terms = [bindings[n] for n in names]
    for n in names:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n):
            raise UsageError(f"bad variable name {n!r}")
    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(map(str, terms))}) }}"
    try:
        rows = list(pyoxigraph.Store().query(f"SELECT * {{ {block} }}"))
    except SyntaxError as exc:  # pragma: no cover - pyoxigraph serializes terms correctly
        raise InternalError(f"a bound value does not serialize as one term: {exc}") from None
    if len(rows) != 1 or any(rows[0][n] != t for n, t in zip(names, terms, strict=True)):
        raise InternalError("a bound value did not read back as the same term")  # pragma: no cover
    return block


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryResult:
    """The answer to a query: SELECT ``solutions`` (a pyoxigraph iterator, read once), an ASK
    ``boolean``, or CONSTRUCT/DESCRIBE ``triples``; ``prefixes`` for rendering."""

    form: str
    solutions: Any = None
    boolean: bool | None = None
    triples: tuple[Any, ...] | None = None
    prefixes: Mapping[str, str] = field(default_factory=dict)
    origin: str = "<query>"
    uses_service: bool = False

    @property
    def variables(self) -> tuple[str, ...]:
        if self.solutions is None:
            return ()
        return tuple(v.value for v in self.solutions.variables)


def _result(prepared: PreparedQuery, **parts: Any) -> QueryResult:
    return QueryResult(
        form=prepared.form,
        prefixes=prepared.prefixes,
        origin=prepared.origin,
        uses_service=prepared.uses_service,
        **parts,
    )


def execute(
    prepared: PreparedQuery, store: pyoxigraph.Store, *, restore: Any = None
) -> QueryResult:
    """Run a prepared query on ``store``, with the union of all graphs as the default graph.

    ``restore`` (a term -> term function, e.g. a loaded dataset's
    :meth:`~cica_ld.lexical.Lexicon.restore`) gives the terms of the answer back as the input
    wrote them (see :mod:`cica_ld.lexical`).
    """
    import pyoxigraph

    try:
        answer = store.query(
            prepared.text, use_default_graph_as_union=True, prefixes=DEFAULT_PREFIXES
        )
        if isinstance(answer, pyoxigraph.QueryBoolean):
            return _result(prepared, boolean=bool(answer))
        if isinstance(answer, pyoxigraph.QuerySolutions):
            if restore is not None:
                from cica_ld.lexical import restore_solutions

                answer = restore_solutions(answer, restore)
            return _result(prepared, solutions=answer)
        if restore is not None:
            from cica_ld.lexical import restore_triples

            return _result(prepared, triples=restore_triples(answer, restore))
        return _result(prepared, triples=tuple(answer))
    except SyntaxError as exc:
        raise _query_syntax_error(prepared.text, str(exc.msg or exc), prepared.origin) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise _evaluation_error(prepared.origin, prepared.uses_service, exc) from None


def _evaluation_error(
    origin: str, uses_service: bool, exc: BaseException
) -> InputError | EndpointError:
    message = _one_line(exc)
    if uses_service:  # most likely a SERVICE call failed: another endpoint
        return EndpointError(f"{origin}: query failed (SERVICE call?): {message}")
    return InputError(f"query failed: {message}", path=origin)


def fetch(
    prepared: PreparedQuery, endpoint: str, fmt: str, *, timeout: float = 30.0
) -> EndpointResponse:
    """Send a prepared query to a SPARQL endpoint, asking for ``fmt``'s media type first."""
    from cica_ld import endpoint as ep

    ep.check_url(endpoint)
    if prepared.form == "ASK":
        primary = MEDIA_TYPES["xml"] if fmt == "xml" else MEDIA_TYPES["json"]
        accept = primary
    elif prepared.form == "SELECT":
        primary = MEDIA_TYPES[fmt]
        accept = primary if fmt in ("table", "json") else f"{primary}, {MEDIA_TYPES['json']};q=0.5"
    else:
        primary = MEDIA_TYPES[fmt]
        fallback = MEDIA_TYPES["ntriples"]
        accept = primary if fmt == "ntriples" else f"{primary}, {fallback};q=0.5"
    return ep.sparql_query(endpoint, prepared.text, accept=accept, timeout=timeout)


def remote_result(prepared: PreparedQuery, response: EndpointResponse) -> QueryResult:
    """An endpoint's answer as a :class:`QueryResult` (parsed by pyoxigraph)."""
    import pyoxigraph

    from cica_ld import endpoint as ep

    if prepared.form in ("SELECT", "ASK"):
        answer = ep.parse_results(response)
        if isinstance(answer, pyoxigraph.QueryBoolean):
            return _result(prepared, boolean=bool(answer))
        return _result(prepared, solutions=answer)
    triples = tuple(ep.parse_graph(response))
    return _result(prepared, triples=triples)


def run(
    prepared: PreparedQuery,
    fmt: str,
    *,
    store: pyoxigraph.Store | None = None,
    endpoint: str | None = None,
    timeout: float = 30.0,
    restore: Any = None,
    width: int | None = None,
) -> bytes:
    """Run a prepared query on ``store`` or ``endpoint`` and render it in ``fmt``.

    An endpoint's answer in exactly the requested media type is passed through unchanged;
    any other answer is parsed and rendered here. ``width`` fits a table to that many columns
    (see :func:`render_table`).
    """
    fmt = check_format(fmt, prepared.form)
    if endpoint is not None:
        response = fetch(prepared, endpoint, fmt, timeout=timeout)
        if fmt != "table" and prepared.form != "ASK" and response.media_type == MEDIA_TYPES[fmt]:
            if fmt != "csv":  # CSV is lossy: pyoxigraph cannot read it back
                remote_result(prepared, response)  # a server may fail in the middle of a 200
            return response.content
        return render(remote_result(prepared, response), fmt, width=width)
    if store is None:
        raise ValueError("run() needs a store or an endpoint")
    return render(execute(prepared, store, restore=restore), fmt, width=width)


# ---------------------------------------------------------------------------------------------
# Formats and rendering
# ---------------------------------------------------------------------------------------------


def check_format(fmt: str, form: str) -> str:
    """``fmt`` if it suits a query of ``form``, else :class:`UsageError` naming the right ones."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    allowed = GRAPH_FORMATS if graph else RESULT_FORMATS
    name = format_name(fmt, form)
    if name not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"use --format {'|'.join(allowed)}")
    if name not in allowed:
        kind = "a graph" if graph else ("a boolean" if form == "ASK" else "a table of results")
        raise UsageError(
            f"a {form} query gives {kind}: format {fmt!r} does not apply",
            hint=f"use --format {'|'.join(allowed)}",
        )
    return name


def format_name(fmt: str, form: str) -> str:
    """The format ``fmt`` names for a query of ``form``, in any case: for a graph
    (CONSTRUCT, DESCRIBE) the aliases of :func:`cica_ld.dataset.format_name` apply (``ttl``,
    ``nt``, ``json-ld``, and ``json``, ``xml`` as for an output file's extension); for results,
    ``json`` and ``xml`` are the SPARQL results formats."""
    from cica_ld import dataset

    key = fmt.strip().lower()
    if form not in ("CONSTRUCT", "DESCRIBE") and key in RESULT_FORMATS:
        return key
    return dataset.format_name(fmt)


def choose_format(fmt: str | None, output: Path | None, form: str) -> str:
    """The output format: ``fmt`` if given, else from ``output``'s extension, else the default
    (``table``, or ``turtle`` for CONSTRUCT/DESCRIBE)."""
    graph = form in ("CONSTRUCT", "DESCRIBE")
    if fmt is not None:
        return check_format(fmt, form)
    if output is not None and output.suffix:
        table = GRAPH_EXTENSIONS if graph else RESULT_EXTENSIONS
        chosen = table.get(output.suffix.lower())
        if chosen is None:
            known = ", ".join(sorted(table))
            raise UsageError(
                f"cannot tell the output format from the extension {output.suffix!r} "
                f"(for a {form} query: {known})",
                hint="name it with --format",
            )
        return chosen
    return "turtle" if graph else "table"


def render(result: QueryResult, fmt: str, *, width: int | None = None) -> bytes:
    """The answer in ``fmt`` (see the module docstring), as bytes ending with a newline where
    the format has lines; ``width`` fits a table to that many columns (:func:`render_table`)."""
    import pyoxigraph

    fmt = check_format(fmt, result.form)
    if result.boolean is not None:
        if fmt in ("json", "xml"):  # pyoxigraph's serializer, on a boolean of the same value
            fmt_obj = getattr(pyoxigraph.QueryResultsFormat, fmt.upper())
            same = pyoxigraph.Store().query("ASK {}" if result.boolean else "ASK {FILTER(false)}")
            return _ensure_newline(same.serialize(format=fmt_obj))
        return b"true\n" if result.boolean else b"false\n"
    if result.triples is not None:
        return _render_graph(result, fmt)
    try:  # solutions are computed while they are read
        if fmt == "table":
            return render_table(result, width=width).encode("utf-8")
        fmt_obj = getattr(pyoxigraph.QueryResultsFormat, fmt.upper())
        return _ensure_newline(result.solutions.serialize(format=fmt_obj))
    except (OSError, RuntimeError, ValueError) as exc:
        raise _evaluation_error(result.origin, result.uses_service, exc) from None


def _ensure_newline(data: bytes) -> bytes:
    return data if not data or data.endswith(b"\n") else data + b"\n"


_RDF_FORMAT_NAMES = {
    "turtle": "TURTLE",
    "ntriples": "N_TRIPLES",
    "jsonld": "JSON_LD",
    "rdfxml": "RDF_XML",
}


def _render_graph(result: QueryResult, fmt: str) -> bytes:
    import pyoxigraph

    triples = result.triples or ()
    rdf_format = getattr(pyoxigraph.RdfFormat, _RDF_FORMAT_NAMES[fmt])
    prefixes = None
    if fmt in ("turtle", "rdfxml"):
        prefixes = _used_prefixes(triples, result.prefixes)
    data = pyoxigraph.serialize(triples, format=rdf_format, prefixes=prefixes)
    return _ensure_newline(data or b"")


def _used_prefixes(triples: Sequence[Any], prefixes: Mapping[str, str]) -> dict[str, str]:
    import pyoxigraph

    iris: set[str] = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, pyoxigraph.NamedNode):
                iris.add(term.value)
            elif isinstance(term, pyoxigraph.Literal):
                iris.add(term.datatype.value)
    return {
        p: ns for p, ns in sorted(prefixes.items()) if ns and any(i.startswith(ns) for i in iris)
    }


def abbreviate(iri: str, prefixes: Mapping[str, str]) -> str:
    """``prefix:local`` for an IRI in a known namespace (longest match), else ``<iri>``."""
    best = ""
    best_prefix = ""
    for prefix, ns in prefixes.items():
        if ns and iri.startswith(ns) and len(ns) > len(best):
            local = iri[len(ns) :]
            if local == "" or re.match(rf"^{_PN_LOCAL}$", local):
                best, best_prefix = ns, prefix
    if best:
        return f"{best_prefix}:{iri[len(best) :]}"
    return f"<{iri}>"


def term_text(term: Any, prefixes: Mapping[str, str]) -> str:
    """How the table shows a term: IRIs abbreviated, literals by their text, blank nodes
    ``_:id``, literals of a non-XSD datatype as ``"text"^^type``."""
    import pyoxigraph

    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        return abbreviate(term.value, prefixes)
    if isinstance(term, pyoxigraph.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, pyoxigraph.Literal):
        dt = term.datatype.value
        if term.language or dt.startswith(XSD) or dt.startswith(RDF):
            return term.value
        return f'"{term.value}"^^{abbreviate(dt, prefixes)}'
    if isinstance(term, pyoxigraph.Triple):
        parts = (term_text(x, prefixes) for x in (term.subject, term.predicate, term.object))
        return f"<< {' '.join(parts)} >>"
    return str(term)


_CONTROL = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _cell(text: str) -> str:
    text = text.translate(_CONTROL)
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def char_width(c: str) -> int:
    """Columns a character takes in a terminal: 2 for wide East Asian characters (CJK, full
    width forms), 0 for combining marks and format characters, else 1."""
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian characters count two, combining
    marks none)."""
    return sum(char_width(c) for c in text)


ELLIPSIS = "\u2026"
#: The gap between two columns of the table.
_GAP = 2
#: A column narrowed to fit the width keeps at least this many columns of its text.
_MIN_COLUMN = 3


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` display columns, ending with "…" where it was cut (a
    wide character is never split; combining marks stay with their base character)."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = char_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + ELLIPSIS


def fit_widths(widths: Sequence[int], total: int) -> list[int]:
    """Column widths that fit a table into ``total`` display columns (gaps included): columns
    narrower than an equal share keep their width, the wider ones share what is left equally
    (each keeps at least a few columns, so a very narrow terminal still gets a readable table,
    wider than asked)."""
    natural = list(widths)
    if not natural:
        return natural
    budget = total - _GAP * (len(natural) - 1)
    if sum(natural) <= budget:
        return natural
    fitted = list(natural)
    wide = sorted(range(len(natural)), key=lambda i: natural[i])
    while wide:
        share = budget // len(wide)
        if natural[wide[0]] > share:
            break
        budget -= natural[wide.pop(0)]
    if wide:
        share, extra = divmod(max(budget, 0), len(wide))
        for n, i in enumerate(sorted(wide)):
            fitted[i] = max(min(_MIN_COLUMN, natural[i]), share + (1 if n < extra else 0))
    return fitted


def render_table(result: QueryResult, *, width: int | None = None) -> str:
    """SELECT solutions as an aligned text table with a row count.

    Columns are aligned by display width (a CJK character takes two columns). With ``width``
    (the terminal's, or ``--width``) the lines are fitted to that many columns: the widest
    columns are narrowed and their cells cut with "…"; ``None`` or 0 never cuts.
    """
    variables = result.variables
    rows = [
        [_cell(term_text(solution[v], result.prefixes)) for v in variables]
        for solution in result.solutions
    ]
    header = list(variables)
    widths = [display_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    if width:
        widths = fit_widths(widths, width)

    def line(cells: Sequence[str]) -> str:
        cut = [truncate(c, widths[i]) for i, c in enumerate(cells)]
        padded = [c + " " * (widths[i] - display_width(c)) for i, c in enumerate(cut)]
        return (" " * _GAP).join(padded).rstrip()

    out = []
    if header:
        out.append(line(header))
        out.append((" " * _GAP).join("-" * w for w in widths))
    out.extend(line(r) for r in rows)
    out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out) + "\n"
