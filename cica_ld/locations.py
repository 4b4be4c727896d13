"""Source locations of RDF terms: the file, line and column where a node's description begins.

pyoxigraph parses without positions, so this module reads the files again, lazily, and only for
the terms asked about (the focus nodes of validation results):

* an IRI: where its first subject block begins (the subject token of the first statement about
  it, in load order); if it is never a subject, where it is first used as an object;
* a blank node: where the triple that points at it has it as object (the ``[`` or ``(`` that
  opens it, or its ``_:label``); a blank node nothing points at: where it stands as a subject.

Turtle and TriG are read by a small lexer and recursive-descent reader that knows statement
structure (``@prefix``/``@base``/``PREFIX``/``BASE``, strings of every kind, comments, nested
``[]`` and ``()``, graph blocks) and resolves prefixed names and relative IRIs as the parser did.
Labelled blank nodes keep their labels through pyoxigraph's parse; anonymous ones are matched to
the parsed quads through the triple that points at them (its subject, predicate and, among
siblings, the node's own content, re-parsed with pyoxigraph). N-Triples and N-Quads are read line
by line. JSON-LD and RDF/XML get the file alone (the first file that mentions the node).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_TYPE = f"<{RDF}type>"
_RDF_FIRST = f"<{RDF}first>"
_RDF_REST = f"<{RDF}rest>"

LINE_FORMATS = frozenset({"turtle", "trig", "ntriples", "nquads", "n3"})


@dataclass(frozen=True, order=True)
class Location:
    """Where a node stands in a source file: ``line`` and ``column`` are 1-based (columns count
    Unicode code points); both are ``None`` when only the file is known."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


# --------------------------------------------------------------------------------------------
# IRI resolution (RFC 3986, section 5.2), as the parser resolves relative IRIs against the base

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.S)


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./") or path.startswith("/./"):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if out:
                out.pop()
        elif path == "/..":
            path = "/"
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            start = 1 if path.startswith("/") else 0
            cut = path.find("/", start)
            if cut < 0:
                cut = len(path)
            out.append(path[:cut])
            path = path[cut:]
    return "".join(out)


def resolve_iri(base: str | None, ref: str) -> str:
    """Resolve the relative reference ``ref`` against ``base`` (RFC 3986 section 5.2.2)."""
    if _SCHEME.match(ref) or not base:
        return ref  # an absolute IRI is kept as written (as the parser keeps it)
    bm = _IRI_PARTS.match(base)
    rm = _IRI_PARTS.match(ref)
    assert bm is not None and rm is not None
    b_scheme, b_auth, b_path, b_query, _ = bm.groups()
    _, r_auth, r_path, r_query, r_frag = rm.groups()
    if r_auth is not None:
        auth, path, query = r_auth, _remove_dot_segments(r_path), r_query
    else:
        auth = b_auth
        if r_path == "":
            path = b_path
            query = r_query if r_query is not None else b_query
        else:
            if r_path.startswith("/"):
                path = _remove_dot_segments(r_path)
            else:
                if b_auth is not None and b_path == "":
                    merged = "/" + r_path
                else:
                    cut = b_path.rfind("/")
                    merged = b_path[: cut + 1] + r_path
                path = _remove_dot_segments(merged)
            query = r_query
    return _recompose(b_scheme, auth, path, query, r_frag)


def _recompose(
    scheme: str | None, auth: str | None, path: str, query: str | None, frag: str | None
) -> str:
    out = ""
    if scheme is not None:
        out += scheme + ":"
    if auth is not None:
        out += "//" + auth
    out += path
    if query is not None:
        out += "?" + query
    if frag is not None:
        out += "#" + frag
    return out


_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_LOCAL_ESC = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")


def _unescape_uchar(text: str) -> str:
    if "\\" not in text:
        return text
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


# --------------------------------------------------------------------------------------------
# The Turtle / TriG reader

_TOKEN = re.compile(
    r"""[ \t\r\n\ufeff]*(?:
      (?P<comment>\#[^\r\n]*)
    | (?P<lstr>\"\"\"(?:[^"\\]|\\[\s\S]|"(?!""))*\"\"\"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*''')
    | (?P<str>"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<at>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<punct>\^\^|[\[\](){},;])
    | (?P<dot>\.(?![0-9]))
    | (?P<word>(?:\\.|[^\s"'<>\#\[\](){},;\\^])+)
    | (?P<end>\Z)
    )""",
    re.X,
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


class _Unsupported(Exception):
    """The reader met syntax it does not follow (e.g. RDF 1.2 triple terms): no positions."""


@dataclass
class _Anon:
    """An anonymous blank node of the document: ``[ ... ]``, or one node of a ``( ... )`` list."""

    id: int
    offset: int  # where it opens ('[' or '(' or, for list nodes after the first, the item)
    end: int  # end of the text span to re-parse (exclusive); only meaningful for roots
    kind: str  # "bnode" | "list" | "label" (a `_:label` in the text)
    top: bool  # a statement's subject: its span is the whole statement
    snapshot: tuple[dict[str, str], str | None]  # prefixes and base in effect
    label: str | None = None  # for kind "label": the `_:label` as written


@dataclass
class FileScan:
    """What one reading of a file found (offsets into its text)."""

    path: Path
    text: str
    format: str
    subjects: dict[str, int] = field(default_factory=dict)  # key -> first subject offset
    objects: dict[str, int] = field(default_factory=dict)  # wanted key -> first object offset
    label_objects: dict[str, int] = field(default_factory=dict)  # _:label -> first as object
    # anonymous nodes: (parent, predicate key) -> children in document order, where parent is
    # ("n", key) for a named subject, ("a", id) for an anonymous one, ("top", "") for none
    children: dict[tuple[str, str], list[_Anon]] = field(default_factory=dict)
    anon_count: int = 0
    supported: bool = True
    _line_starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), 1-based, of a character offset."""
        if self._line_starts is None:
            starts = [0]
            text = self.text
            i = text.find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = text.find("\n", i + 1)
            self._line_starts = starts
        idx = bisect.bisect_right(self._line_starts, offset) - 1
        col = offset - self._line_starts[idx] + 1
        if idx == 0 and self.text.startswith("\ufeff"):
            col -= 1
        return idx + 1, col


class _TurtleReader:
    """Recursive-descent reader of Turtle/TriG statements that records where nodes stand."""

    def __init__(self, scan: FileScan, base: str | None, want: frozenset[str], anon: bool) -> None:
        self.scan = scan
        self.text = scan.text
        self.pos = 1 if self.text.startswith("\ufeff") else 0
        self.base = base
        self.prefixes: dict[str, str] = {}
        self.want = want
        self.anon = anon
        self.trig = scan.format == "trig"
        self._peeked: tuple[str, str, int] | None = None
        self._cache: dict[str, str] = {}

    # -- tokens
    def _next_raw(self) -> tuple[str, str, int]:
        text = self.text
        while True:
            m = _TOKEN.match(text, self.pos)
            if m is None:
                raise _Unsupported(f"unexpected character at offset {self.pos}")
            kind = m.lastgroup
            assert kind is not None
            start = m.start(kind)
            self.pos = m.end()
            if kind == "comment":
                continue
            value = m.group(kind)
            if kind == "word" and value.endswith("."):
                # a name never ends with an unescaped '.': it ends the statement (`:o.`)
                n = len(value)
                while n > 0 and value[n - 1] == "." and not (n >= 2 and value[n - 2] == "\\"):
                    n -= 1
                self.pos -= len(value) - n
                value = value[:n]
                if not value:
                    return "dot", ".", start
            return kind, value, start

    def next(self) -> tuple[str, str, int]:
        if self._peeked is not None:
            tok, self._peeked = self._peeked, None
            return tok
        return self._next_raw()

    def peek(self) -> tuple[str, str, int]:
        if self._peeked is None:
            self._peeked = self._next_raw()
        return self._peeked

    def expect(self, value: str) -> None:
        kind, val, _ = self.next()
        if val != value or kind not in ("punct", "dot"):
            raise _Unsupported(f"expected {value!r}, found {val!r}")

    # -- terms
    def key(self, kind: str, value: str) -> str | None:
        """The N-Triples form of a named term token (IRI, prefixed name, ``a``, ``_:label``);
        ``None`` for literals."""
        if kind == "iri":
            cached = self._cache.get(value)
            if cached is None:
                iri = resolve_iri(self.base, _unescape_uchar(value[1:-1]))
                cached = self._cache[value] = f"<{iri}>"
            return cached
        if kind != "word":
            return None
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        if value == "a":
            return _RDF_TYPE
        if value.startswith("_:"):
            return value
        if value in ("true", "false") or _NUMBER.match(value):
            return None
        colon = value.find(":")
        if colon < 0:
            raise _Unsupported(f"unknown word {value!r}")
        ns = self.prefixes.get(value[:colon])
        if ns is None:
            raise _Unsupported(f"undeclared prefix in {value!r}")
        local = value[colon + 1 :]
        if "\\" in local:
            local = _PN_LOCAL_ESC.sub(r"\1", local)
        cached = self._cache[value] = f"<{ns}{local}>"
        return cached

    # -- grammar
    def read(self) -> None:
        while True:
            kind, value, start = self.next()
            if kind == "end":
                return
            low = value.lower()
            if kind == "at" and value == "@prefix":
                self._prefix()
                self.expect(".")
            elif kind == "at" and value == "@base":
                self._base()
                self.expect(".")
            elif kind == "word" and low == "prefix":
                self._prefix()
            elif kind == "word" and low == "base":
                self._base()
            elif self.trig and kind == "word" and low == "graph":
                self._graph_label(*self.next())
                self._graph_block()
            elif self.trig and kind == "punct" and value == "{":
                self._graph_block(opened=True)
            else:
                if self.trig and self._is_graph_label(kind, value):
                    self._graph_label(kind, value, start)
                    self._graph_block()
                    continue
                self._triples(kind, value, start)
                self.expect(".")

    def _prefix(self) -> None:
        kind, name, _ = self.next()
        if kind != "word" or not name.endswith(":"):
            raise _Unsupported("bad prefix declaration")
        kind, iri, _ = self.next()
        if kind != "iri":
            raise _Unsupported("bad prefix IRI")
        prefixes = dict(self.prefixes)  # copy: snapshots taken earlier stay as they were
        prefixes[name[:-1]] = resolve_iri(self.base, _unescape_uchar(iri[1:-1]))
        self.prefixes = prefixes
        self._cache = {}

    def _base(self) -> None:
        kind, iri, _ = self.next()
        if kind != "iri":
            raise _Unsupported("bad base IRI")
        self.base = resolve_iri(self.base, _unescape_uchar(iri[1:-1]))
        self._cache = {}

    def _is_graph_label(self, kind: str, value: str) -> bool:
        if kind == "iri" or (kind == "word" and value != "a"):
            nk, nv, _ = self.peek()
            return nk == "punct" and nv == "{"
        if kind == "punct" and value == "[":
            nk, nv, _ = self.peek()
            if nk == "punct" and nv == "]":
                # `[] { ... }` names a graph with a blank node; `[] :p :o .` is a statement
                save_pos, save_peek = self.pos, self._peeked
                self.next()
                after = self.peek()
                self.pos, self._peeked = save_pos, save_peek
                return after[0] == "punct" and after[1] == "{"
        return False

    def _graph_label(self, kind: str, value: str, start: int) -> None:
        if kind == "punct" and value == "[":
            self.expect("]")
        elif kind not in ("iri", "word"):
            raise _Unsupported("bad graph name")

    def _graph_block(self, opened: bool = False) -> None:
        if not opened:
            self.expect("{")
        while True:
            kind, value, start = self.next()
            if kind == "punct" and value == "}":
                return
            if kind == "end":
                raise _Unsupported("unclosed graph block")
            self._triples(kind, value, start)
            kind, value, _ = self.next()
            if kind == "punct" and value == "}":
                return
            if kind != "dot":
                raise _Unsupported(f"expected '.' or '}}', found {value!r}")

    def _triples(self, kind: str, value: str, start: int) -> None:
        """A statement: its subject (already read as the token given) and what follows."""
        if kind == "punct" and value == "[":
            node = self._new_anon(start, "bnode", ("top", ""), "")
            parent = ("a", str(node.id)) if node is not None else ("x", "")
            nk, nv, _ = self.peek()
            if not (nk == "punct" and nv == "]"):
                self._pol(parent)
            if self.next()[1] != "]":
                raise _Unsupported("expected ']'")
            nk, nv, _ = self.peek()
            if not (nk == "dot" or (nk == "punct" and nv == "}")):
                self._pol(parent)
            if node is not None:
                node.end = self._last_end()
        elif kind == "punct" and value == "(":
            node, parent = self._collection(start, ("top", ""), "")
            self._pol(parent)
            if node is not None:
                node.end = self._last_end()
        else:
            key = self.key(kind, value)
            if key is None:
                raise _Unsupported(f"a literal cannot be a subject: {value!r}")
            first = key not in self.scan.subjects
            if first:
                self.scan.subjects[key] = start
            if key.startswith("_:"):
                if first:
                    self._new_anon(start, "label", ("top", ""), "", label=key)
                self._pol(("l", key))
            else:
                self._pol(("n", key))

    def _last_end(self) -> int:
        # the end of the token just read (pos, unless a token was peeked since)
        return self.pos if self._peeked is None else self._peeked[2]

    def _new_anon(
        self,
        offset: int,
        kind: str,
        parent: tuple[str, str],
        pred: str,
        label: str | None = None,
    ) -> _Anon | None:
        if not self.anon:
            return None
        node = _Anon(
            label=label,
            id=self.scan.anon_count,
            offset=offset,
            end=offset,
            kind=kind,
            top=parent[0] == "top",
            snapshot=(self.prefixes, self.base),
        )
        self.scan.anon_count += 1
        self.scan.children.setdefault((parent[0] + ":" + parent[1], pred), []).append(node)
        return node

    def _pol(self, parent: tuple[str, str]) -> None:
        """predicateObjectList: verb objectList (';' (verb objectList)?)*"""
        while True:
            kind, value, _ = self.next()
            pred = self.key(kind, value)
            if pred is None:
                raise _Unsupported(f"bad predicate {value!r}")
            while True:
                self._object(parent, pred)
                nk, nv, _ = self.peek()
                if nk == "punct" and nv == ",":
                    self.next()
                    continue
                break
            # one or more ';', possibly ending the list
            nk, nv, _ = self.peek()
            if not (nk == "punct" and nv == ";"):
                return
            while nk == "punct" and nv == ";":
                self.next()
                nk, nv, _ = self.peek()
            if nk == "dot" or (nk == "punct" and nv in ("]", "}")) or nk == "end":
                return

    def _object(self, parent: tuple[str, str], pred: str) -> None:
        kind, value, start = self.next()
        if kind == "punct" and value == "[":
            node = self._new_anon(start, "bnode", parent, pred)
            inner = ("a", str(node.id)) if node is not None else ("x", "")
            nk, nv, _ = self.peek()
            if not (nk == "punct" and nv == "]"):
                self._pol(inner)
            if self.next()[1] != "]":
                raise _Unsupported("expected ']'")
            if node is not None:
                node.end = self._last_end()
            return
        if kind == "punct" and value == "(":
            self._collection(start, parent, pred)
            return
        if kind in ("str", "lstr"):
            nk, nv, _ = self.peek()
            if nk == "at":
                self.next()
            elif nk == "punct" and nv == "^^":
                self.next()
                dk, dv, _ = self.next()
                if self.key(dk, dv) is None:
                    raise _Unsupported("bad datatype")
            return
        key = self.key(kind, value)
        if key is None:
            if kind == "word":  # a number or boolean
                return
            raise _Unsupported(f"unexpected {value!r}")
        if key.startswith("_:"):
            if key not in self.scan.label_objects:
                self.scan.label_objects[key] = start
            self._new_anon(start, "label", parent, pred, label=key)
        elif key in self.want and key not in self.scan.objects:
            self.scan.objects[key] = start

    def _collection(
        self, start: int, parent: tuple[str, str], pred: str
    ) -> tuple[_Anon | None, tuple[str, str]]:
        """A '(' ... ')' list (the '(' already read). Returns its first node and the parent
        reference of that node (for a collection used as a subject)."""
        nk, nv, _ = self.peek()
        if nk == "punct" and nv == ")":
            self.next()
            return None, ("n", f"<{RDF}nil>")
        first = self._new_anon(start, "list", parent, pred)
        ref = ("a", str(first.id)) if first is not None else ("x", "")
        first_ref = ref
        index = 0
        while True:
            nk, nv, nstart = self.peek()
            if nk == "punct" and nv == ")":
                self.next()
                if first is not None:
                    first.end = self._last_end()
                return first, first_ref
            if nk == "end":
                raise _Unsupported("unclosed list")
            if index > 0:
                node = self._new_anon(nstart, "list", ref, _RDF_REST)
                ref = ("a", str(node.id)) if node is not None else ("x", "")
            self._object(ref, _RDF_FIRST)
            index += 1


def _read_turtle(scan: FileScan, base: str | None, want: frozenset[str], anon: bool) -> None:
    reader = _TurtleReader(scan, base, want, anon)
    try:
        reader.read()
    except (_Unsupported, RecursionError):
        scan.supported = False


# --------------------------------------------------------------------------------------------
# The fast path: where statements begin (subjects only), for Turtle and TriG
#
# Most results are about IRIs that head a subject block. Finding those needs only the statement
# boundaries: one regular-expression search jumps from one thing that matters to the next
# (strings, comments, IRIs, brackets, braces, a '.' that ends a statement) and skips the names
# in between at C speed. The full reader above is used when more is needed (blank nodes,
# objects); the tests hold both to the same subjects.

_IRIREF = r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"
_CANDIDATE = re.compile(r"[\"'#<\[\](){}.]")
_STRING_AT = re.compile(
    r"\"\"\"(?:[^\"\\]|\\[\s\S]|\"(?!\"\"))*\"\"\""
    r"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''"
    r"|\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\\\r\n]|\\.)*'"
)
_IRIREF_AT = re.compile(_IRIREF)


def _name_char(c: str) -> bool:
    return c.isalnum() or c in "_:%-"


_LEAD = re.compile(
    r"(?:[ \t\r\n\ufeff]+|\#[^\n]*)*"
    r"(" + _IRIREF + r"|(?:\\.|[^\s\"'<>\#\[\](){},;\\^])+|.|\Z)",
    re.S,
)
_AT_PREFIX = re.compile(r"@prefix\s+([^\s:]*):\s*<([^<>\s]*)>(?:\s|\#[^\n]*)*\.", re.S)
_AT_BASE = re.compile(r"@base\s+<([^<>\s]*)>(?:\s|\#[^\n]*)*\.", re.S)
_SPARQL_PREFIX = re.compile(r"(?i:prefix)\s+([^\s:]*):\s*<([^<>\s]*)>", re.S)
_SPARQL_BASE = re.compile(r"(?i:base)\s+<([^<>\s]*)>", re.S)


def _fast_subjects(scan: FileScan, base: str | None) -> bool:
    """Record the first position of every named subject; False if the file holds syntax this
    scanner does not follow (then the full reader is used)."""
    text = scan.text
    if "<<" in text or "{|" in text:
        return False
    names = _TurtleReader(scan, base, frozenset(), False)  # resolves names, reads nothing
    trig = scan.format == "trig"
    subjects = scan.subjects
    pos = 1 if text.startswith("\ufeff") else 0
    depth = 0
    expect = True
    search, lead = _CANDIDATE.search, _LEAD.match
    string_at, iri_at = _STRING_AT.match, _IRIREF_AT.match
    while True:
        if expect and depth == 0:
            expect = False
            m = lead(text, pos)
            if m is None:
                return False
            tok, start = m.group(1), m.start(1)
            if not tok:
                return True  # the end of the text
            low = tok.lower()
            if low in ("@prefix", "@base", "prefix", "base"):
                if tok.startswith("@") and tok not in ("@prefix", "@base"):
                    return False  # @PREFIX is not Turtle
                rx = {
                    "@prefix": _AT_PREFIX,
                    "@base": _AT_BASE,
                    "prefix": _SPARQL_PREFIX,
                    "base": _SPARQL_BASE,
                }[low]
                d = rx.match(text, start)
                if d is None:
                    return False
                if rx.groups == 2:
                    prefixes = dict(names.prefixes)
                    prefixes[d.group(1)] = resolve_iri(names.base, _unescape_uchar(d.group(2)))
                    names.prefixes = prefixes
                else:
                    names.base = resolve_iri(names.base, _unescape_uchar(d.group(1)))
                names._cache = {}
                pos = d.end()
                expect = True
                continue
            if tok[0] in "[({}.":
                pos = start  # no named subject: the search below sees the bracket
            elif trig and low == "graph":
                label = lead(text, m.end())
                brace = lead(text, label.end()) if label is not None else None
                if brace is None or brace.group(1) != "{":
                    return False
                pos = brace.end()
                expect = True
                continue
            else:
                value = tok
                if not tok.startswith("<") and value.endswith("."):
                    n = len(value)  # a name never ends with '.': `ex:s.` is `ex:s` and an end
                    while n > 0 and value[n - 1] == "." and value[n - 2 : n - 1] != "\\":
                        n -= 1
                    value = value[:n]
                end = start + len(value)
                after = lead(text, end)
                if trig and after is not None and after.group(1) == "{":
                    pos = after.end()  # a graph name, then its block
                    expect = True
                    continue
                try:
                    key = names.key("iri" if value.startswith("<") else "word", value)
                except _Unsupported:
                    return False
                if key is None:
                    return False
                if key not in subjects:
                    subjects[key] = start
                pos = end
        m = search(text, pos)
        if m is None:
            return depth == 0
        at = m.start()
        c = text[at]
        pos = at + 1
        if c == '"' or c == "'":
            sm = string_at(text, at)
            if sm is None:
                return False
            pos = sm.end()
        elif c == "#":
            if text[at - 1 : at] != "\\":  # `\#` is an escaped character of a name
                nl = text.find("\n", at)
                pos = len(text) if nl < 0 else nl
        elif c == "<":
            im = iri_at(text, at)
            if im is None:
                return False
            pos = im.end()
        elif c == "[" or c == "(":
            depth += 1
        elif c == "]" or c == ")":
            depth -= 1
        elif depth == 0:
            if c == ".":
                before = text[at - 1 : at] if at else ""
                after = text[at + 1 : at + 2]
                if before == "\\":
                    continue  # `\.` is an escaped character of a name
                if _name_char(before) and _name_char(after):
                    continue  # inside a name or a number: `ex:a.b`, `1.5`
                if not _name_char(before) and after.isdigit():
                    continue  # a number: ` .5`
            expect = True  # a '.', '{' or '}' at the top level: a statement may begin


# --------------------------------------------------------------------------------------------
# N-Triples / N-Quads

_NT_TERM = re.compile(r"<([^>]*)>|(_:[^\s<>\"]+?)(?=[\s.<\"]|$)")


def _nt_key(m: re.Match[str]) -> str:
    return f"<{_unescape_uchar(m.group(1))}>" if m.group(1) is not None else m.group(2)


def _read_nt(scan: FileScan, want: frozenset[str], anon: bool) -> None:
    """N-Triples / N-Quads: one statement per line; the subject is the line's first term."""
    text = scan.text
    offset = 0
    for line in text.split("\n"):
        stripped = line.lstrip(" \t\ufeff\r")
        if stripped and not stripped.startswith("#"):
            start = offset + (len(line) - len(stripped))
            m = _NT_TERM.match(stripped)
            if m is not None:
                key = _nt_key(m)
                first = key not in scan.subjects
                if first:
                    scan.subjects[key] = start
                    if anon and key.startswith("_:"):
                        _add_label(scan, "top:", "", key, start, top=True)
                rest = stripped[m.end() :].lstrip()
                p = _NT_TERM.match(rest)
                if p is not None and (want or anon):
                    obj_text = rest[p.end() :].lstrip()
                    o = _NT_TERM.match(obj_text)
                    if o is not None:
                        okey = _nt_key(o)
                        where = start + (len(stripped) - len(obj_text))
                        if okey.startswith("_:"):
                            if okey not in scan.label_objects:
                                scan.label_objects[okey] = where
                            if anon:
                                ref = ("l:" if key.startswith("_:") else "n:") + key
                                _add_label(scan, ref, _nt_key(p), okey, where)
                        elif okey in want and okey not in scan.objects:
                            scan.objects[okey] = where
        offset += len(line) + 1


def _add_label(
    scan: FileScan, ref: str, pred: str, label: str, offset: int, *, top: bool = False
) -> None:
    node = _Anon(
        id=scan.anon_count,
        offset=offset,
        end=offset,
        kind="label",
        top=top,
        snapshot=({}, None),
        label=label,
    )
    scan.anon_count += 1
    scan.children.setdefault((ref, pred), []).append(node)


# --------------------------------------------------------------------------------------------
# The locator


@dataclass(frozen=True)
class SourceSpec:
    """A file to look in: its path, RDF format, the base IRI it was parsed with and the name to
    show for it (as the user gave it)."""

    path: Path
    format: str
    base_iri: str | None = None
    display: str | None = None
    #: serves remote JSON-LD contexts from local copies (``--context-map``), as when loading
    context_map: Any = field(default=None, compare=False)

    @property
    def shown(self) -> str:
        return self.display if self.display is not None else str(self.path)


class SourceLocator:
    """Finds where nodes stand in the files they were loaded from.

    ``sources`` in load order; ``store`` holds what was parsed from them (used to follow a blank
    node to the triple that points at it). Files are read once, when first needed.
    """

    def __init__(self, sources: Sequence[SourceSpec], store: pyoxigraph.Store | None) -> None:
        self.sources = list(sources)
        self.store = store
        self._scans: dict[int, FileScan] = {}
        self._scan_mode: dict[int, tuple[frozenset[str], bool, bool]] = {}
        self._file_terms: dict[int, set[str]] = {}
        self._anon_cache: dict[str, tuple[int, _Anon] | None] = {}
        self._label_stores: dict[int, pyoxigraph.Store] = {}

    # -- reading
    def _scan(self, i: int, want: frozenset[str], anon: bool, *, full: bool = True) -> FileScan:
        """Read file ``i``: subjects only (``full=False``, fast for Turtle and TriG), or with
        the objects in ``want`` and, if ``anon``, the anonymous blank nodes."""
        have = self._scan_mode.get(i)
        if have is not None:
            h_want, h_anon, h_full = have
            if (h_full or not full) and want <= h_want and (h_anon or not anon):
                return self._scans[i]
            want, anon, full = want | h_want, anon or h_anon, full or h_full
        spec = self.sources[i]
        with open(spec.path, encoding="utf-8", newline="") as fh:
            text = fh.read()
        scan = FileScan(path=spec.path, text=text, format=spec.format)
        if spec.format in ("turtle", "trig", "n3"):
            base = spec.base_iri if spec.base_iri is not None else spec.path.resolve().as_uri()
            if full or anon or spec.format == "n3" or not _fast_subjects(scan, base):
                scan = FileScan(path=spec.path, text=text, format=spec.format)
                _read_turtle(scan, base, want, anon)
                full = True
        elif spec.format in ("ntriples", "nquads"):
            _read_nt(scan, want, anon)
            full = True
        else:
            scan.supported = False
        self._scans[i] = scan
        self._scan_mode[i] = (want, anon, full)
        return scan

    def prescan(self) -> None:
        """Read every file's subject blocks now (Turtle, TriG, N-Triples, N-Quads), what
        :meth:`locate` needs first for IRIs. It needs no store, so it can run in a thread while
        the files are being loaded. A file that cannot be read is skipped (``locate`` reports
        the error, or reads it again)."""
        for i, spec in enumerate(self.sources):
            if spec.format in LINE_FORMATS and spec.format != "n3":
                try:
                    self._scan(i, frozenset(), False, full=False)
                except (OSError, UnicodeDecodeError, ValueError, _Unsupported):
                    self._scans.pop(i, None)
                    self._scan_mode.pop(i, None)

    def _terms_of(self, i: int) -> set[str]:
        """Every subject and object term of a file without positions (JSON-LD, RDF/XML)."""
        terms = self._file_terms.get(i)
        if terms is None:
            from cica_ld.dataset import parse_file

            spec = self.sources[i]
            terms = set()
            try:
                for q in parse_file(
                    spec.path, spec.format, base_iri=spec.base_iri, context_map=spec.context_map
                ):
                    terms.add(str(q.subject))
                    terms.add(str(q.object))
            except Exception:
                terms = set()
            self._file_terms[i] = terms
        return terms

    def _loc(self, i: int, offset: int) -> Location:
        scan = self._scans[i]
        line, col = scan.position(offset)
        return Location(self.sources[i].shown, line, col)

    # -- public
    def locate(self, terms: Iterable[str]) -> dict[str, Location]:
        """Locations of the given terms (N-Triples syntax); terms not found are left out."""
        wanted = {t for t in terms if t.startswith(("<", "_:"))}
        if not wanted:
            return {}
        named = frozenset(t for t in wanted if t.startswith("<"))
        blanks = {t for t in wanted if t.startswith("_:")}
        need_anon = bool(blanks)
        out: dict[str, Location] = {}
        for i in range(len(self.sources)):
            self._scan(i, frozenset(), need_anon, full=need_anon)
        # IRIs that head no subject block: read again, fully, for where they are objects
        objects = frozenset(t for t in named if self._find_subject(t) is None)
        if objects:
            for i in range(len(self.sources)):
                self._scan(i, objects, need_anon, full=True)
        # IRIs: first subject block, else first use as an object
        for t in named:
            loc = self._find_subject(t) or self._find_object(t)
            if loc is None:
                loc = self._find_file(t)
            if loc is not None:
                out[t] = loc
        for t in blanks:
            loc = self._locate_blank(t)
            if loc is not None:
                out[t] = loc
        return out

    def _find_subject(self, key: str) -> Location | None:
        for i, scan in self._scans.items():
            off = scan.subjects.get(key)
            if off is not None:
                return self._loc(i, off)
        return None

    def _find_object(self, key: str) -> Location | None:
        for i, scan in self._scans.items():
            off = scan.objects.get(key) if not key.startswith("_:") else None
            if off is None and key.startswith("_:"):
                off = scan.label_objects.get(key)
            if off is not None:
                return self._loc(i, off)
        return None

    def _find_file(self, key: str) -> Location | None:
        """The first file without positions (JSON-LD, RDF/XML, or a Turtle file the reader
        could not follow) that mentions ``key``: the file alone."""
        for i, scan in self._scans.items():
            if scan.format in LINE_FORMATS and scan.supported:
                continue
            if key in self._terms_of(i):
                return Location(self.sources[i].shown)
        return None

    def _locate_blank(self, key: str) -> Location | None:
        found = self._anon_for(key, 0)
        if found is not None:
            i, node = found
            return self._loc(i, node.offset)
        # not followed to its text: the file of its nearest named ancestor, alone
        seen = {key}
        current = key
        while True:
            pointing = self._pointing(current)
            if pointing is None or pointing[0] in seen:
                return None
            current = pointing[0]
            seen.add(current)
            if current.startswith("<"):
                loc = self._find_subject(current) or self._find_file(current)
                return Location(loc.path) if loc is not None else None

    def _pointing(self, key: str) -> tuple[str, str] | None:
        """(subject, predicate) of a triple whose object is the blank node ``key``."""
        if self.store is None:
            return None
        import pyoxigraph

        node = pyoxigraph.BlankNode(key[2:])
        for q in self.store.quads_for_pattern(None, None, node, None):
            return str(q.subject), str(q.predicate)
        return None

    def _anon_for(self, key: str, depth: int) -> tuple[int, _Anon] | None:
        if key in self._anon_cache:
            return self._anon_cache[key]
        self._anon_cache[key] = None  # guards against cycles
        result: tuple[int, _Anon] | None = None
        if depth < 64:
            pointing = self._pointing(key)
            candidates: list[tuple[int, _Anon]] = []
            if pointing is None and not self._in_store(key):
                candidates = []
            elif pointing is None:
                candidates = self._children("top:", "")
            else:
                subj, pred = pointing
                if subj.startswith("<"):
                    candidates = self._children("n:" + subj, pred)
                else:
                    parent = self._anon_for(subj, depth + 1)
                    if parent is not None:
                        pi, pnode = parent
                        ref = f"l:{pnode.label}" if pnode.kind == "label" else f"a:{pnode.id}"
                        candidates = [
                            (pi, c) for c in self._scans[pi].children.get((ref, pred), [])
                        ]
            result = self._choose(key, candidates)
        self._anon_cache[key] = result
        return result

    def _labelled_store(self, i: int) -> pyoxigraph.Store:
        """The file parsed again with its blank node labels kept (pyoxigraph.parse keeps them;
        loading into a store renames them)."""
        import pyoxigraph

        store = self._label_stores.get(i)
        if store is None:
            from cica_ld.dataset import parse_file
            from cica_ld.lexical import surrogate_store

            spec = self.sources[i]
            try:  # literals stored as the data's store has them (cica_ld.lexical)
                store, _ = surrogate_store(
                    pyoxigraph.Quad(q.subject, q.predicate, q.object)
                    for q in parse_file(
                        spec.path, spec.format, base_iri=spec.base_iri, context_map=spec.context_map
                    )
                )
            except Exception:  # a file that loaded once; no location is no harm
                store = pyoxigraph.Store()
            self._label_stores[i] = store
        return store

    def _in_store(self, key: str) -> bool:
        import pyoxigraph

        if self.store is None:
            return False
        node = pyoxigraph.BlankNode(key[2:])
        return any(True for _ in self.store.quads_for_pattern(node, None, None, None))

    def _pointing_has_first(self, key: str) -> bool:
        import pyoxigraph

        assert self.store is not None
        first = pyoxigraph.NamedNode(RDF + "first")
        node = pyoxigraph.BlankNode(key[2:])
        return any(True for _ in self.store.quads_for_pattern(node, first, None, None))

    def _children(self, ref: str, pred: str) -> list[tuple[int, _Anon]]:
        out: list[tuple[int, _Anon]] = []
        for i, scan in self._scans.items():
            for c in scan.children.get((ref, pred), []):
                out.append((i, c))
        return out

    def _choose(self, key: str, candidates: list[tuple[int, _Anon]]) -> tuple[int, _Anon] | None:
        if len(candidates) > 1:  # a list node has rdf:first; a '[ ]' node (almost) never
            is_list = self._pointing_has_first(key)
            same = [
                c for c in candidates if c[1].kind == "label" or (c[1].kind == "list") == is_list
            ]
            candidates = same or candidates
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        want = self._store_signature(key)
        best: tuple[int, _Anon] | None = None
        best_score = -1.0
        for i, node in candidates:
            sig = self._text_signature(i, node)
            if sig is None:
                continue
            if sig == want:
                return i, node
            score = _overlap(sig, want)
            if score > best_score:
                best, best_score = (i, node), score
        return best if best is not None else candidates[0]

    def _store_signature(self, key: str) -> tuple:
        import pyoxigraph

        assert self.store is not None
        return _signature(self.store, pyoxigraph.BlankNode(key[2:]))

    def _text_signature(self, i: int, node: _Anon) -> tuple | None:
        """The content of an anonymous node, re-parsed by pyoxigraph from its own text."""
        import pyoxigraph

        scan = self._scans[i]
        if node.kind == "label":
            return _signature(self._labelled_store(i), pyoxigraph.BlankNode(str(node.label)[2:]))
        if node.end <= node.offset:
            return None
        prefixes, base = node.snapshot
        head = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in prefixes.items())
        body = scan.text[node.offset : node.end]
        if node.top:  # the whole statement: `[ ... ] :p :o` or `( ... ) :p :o`
            doc = f"{head}{body}\n .\n"
        else:
            doc = f"{head}<urn:x-cica-ld:s> <urn:x-cica-ld:p> {body}\n .\n"
        try:
            quads = list(
                pyoxigraph.parse(doc.encode(), format=pyoxigraph.RdfFormat.TURTLE, base_iri=base)
            )
        except (SyntaxError, ValueError):
            return None
        root = None
        objects: set[str] = set()
        for q in quads:
            if str(q.subject) == "<urn:x-cica-ld:s>":
                root = q.object
            else:
                objects.add(str(q.object))
        if node.top:
            roots = [q.subject for q in quads if str(q.subject) not in objects]
            root = roots[0] if roots else None
        if not isinstance(root, pyoxigraph.BlankNode):
            return None
        # through a store, as the data went: same literals (cica_ld.lexical), no duplicates
        from cica_ld.lexical import surrogate_store

        store, _ = surrogate_store(quads)
        return _signature(store, root)


def _signature(store: pyoxigraph.Store, node: pyoxigraph.BlankNode) -> tuple:
    """What a blank node says, with the blank nodes it points at expanded (a tree)."""
    import pyoxigraph

    def sig(n: pyoxigraph.BlankNode, depth: int, seen: frozenset[str]) -> tuple:
        items = []
        for q in store.quads_for_pattern(n, None, None, None):
            o = q.object
            if isinstance(o, pyoxigraph.BlankNode) and depth < 16 and o.value not in seen:
                items.append((str(q.predicate), sig(o, depth + 1, seen | {o.value})))
            elif isinstance(o, pyoxigraph.BlankNode):
                items.append((str(q.predicate), "_"))
            else:
                items.append((str(q.predicate), str(o)))
        return tuple(sorted(items, key=repr))

    return sig(node, 0, frozenset({node.value}))


def _overlap(a: tuple, b: tuple) -> float:
    sa, sb = set(map(repr, a)), set(map(repr, b))
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / max(1, len(sa | sb))
