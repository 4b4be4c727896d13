"""Literals as written: the terms of the input, kept exactly in a pyoxigraph ``Store``.

pyoxigraph's ``Store`` keeps a well-formed literal of a value datatype as its value
(oxigraph issue #526): ``"007"^^xsd:integer`` is stored as ``"7"``, ``"5"^^xsd:int`` and
``"1048576"^^xsd:nonNegativeInteger`` as ``xsd:integer``, ``"1.50"`` as ``"1.5"``,
``"1"^^xsd:boolean`` as ``"true"``, ``"2020-01-01T10:00:00+00:00"`` as ``...Z``.
``pyoxigraph.parse`` and ``pyoxigraph.Dataset`` keep every term as written.

Two ways cica-ld keeps the input's terms anyway, chosen per command (see :mod:`cica_ld.dataset`):

* ``exact`` (validate, export, publish, serve): a literal the store would change is stored as
  a *surrogate*, the same lexical form with the datatype ``<urn:x-cica-ld:as-written:DT>``,
  which the store keeps untouched. :func:`decode` turns it back into the literal as written;
  it is a pure function of the term, so any output can be decoded without a table. The native
  SHACL engine knows surrogates (``sh:datatype`` sees the datatype as written, comparisons the
  value). Surrogates exist only for literals the store would change, so data in canonical form
  (the common case) is stored exactly as before.
* ``values`` (``query``, the SPARQL endpoint of ``serve``): the store keeps pyoxigraph's values,
  so ``FILTER(?size > 1000)`` compares every number, and a :class:`Lexicon` maps the values in
  results back to the terms as written (where one value came from one written form).

Which literals the store changes is asked of pyoxigraph itself (a scratch store), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

#: Datatype prefix of a surrogate: ``<urn:x-cica-ld:as-written:` + the datatype as written.
SURROGATE = "urn:x-cica-ld:as-written:"
XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = XSD + "string"


def is_surrogate(term: Any) -> bool:
    """Whether ``term`` is a surrogate literal (a literal as written, stored under cover)."""
    import pyoxigraph

    return type(term) is pyoxigraph.Literal and term.datatype.value.startswith(SURROGATE)


def encode(literal: pyoxigraph.Literal) -> pyoxigraph.Literal:
    """The surrogate of ``literal``: its lexical form under ``<urn:x-cica-ld:as-written:DT>``."""
    import pyoxigraph

    dt = pyoxigraph.NamedNode(SURROGATE + literal.datatype.value)
    return pyoxigraph.Literal(literal.value, datatype=dt)


def decode(term: Any) -> Any:
    """``term`` as written: a surrogate becomes its literal again; anything else is returned
    unchanged (triple terms are decoded inside)."""
    import pyoxigraph

    kind = type(term)
    if kind is pyoxigraph.Literal:
        dt = term.datatype.value
        if dt.startswith(SURROGATE):
            return pyoxigraph.Literal(
                term.value, datatype=pyoxigraph.NamedNode(dt[len(SURROGATE) :])
            )
        return term
    if kind is pyoxigraph.Triple:
        return pyoxigraph.Triple(decode(term.subject), term.predicate, decode(term.object))
    return term


def decode_datatype(iri: str) -> str:
    """A datatype IRI as written (the surrogate prefix removed)."""
    return iri[len(SURROGATE) :] if iri.startswith(SURROGATE) else iri


def decode_quad(quad: Any) -> Any:
    """``quad`` (or triple) with its object as written."""
    import pyoxigraph

    obj = quad.object
    if type(obj) is pyoxigraph.Literal:
        if not obj.datatype.value.startswith(SURROGATE):
            return quad
    elif type(obj) is not pyoxigraph.Triple and type(quad.subject) is not pyoxigraph.Triple:
        return quad
    if type(quad) is pyoxigraph.Triple:
        return pyoxigraph.Triple(decode(quad.subject), quad.predicate, decode(obj))
    return pyoxigraph.Quad(decode(quad.subject), quad.predicate, decode(obj), quad.graph_name)


def decode_quads(quads: Iterable[Any]) -> Iterator[Any]:
    """Every quad of ``quads`` as written."""
    for q in quads:
        yield decode_quad(q)


def _candidate(literal: pyoxigraph.Literal) -> bool:
    """Whether the store may change ``literal``: a datatype of XML Schema but xsd:string."""
    dt = literal.datatype.value
    return dt.startswith(XSD) and dt != _XSD_STRING


def store_forms(
    literals: Iterable[pyoxigraph.Literal],
) -> dict[pyoxigraph.Literal, pyoxigraph.Literal]:
    """The literals among ``literals`` that a pyoxigraph store changes, each mapped to the form
    the store gives it (asked of a scratch store, so always what pyoxigraph does)."""
    import pyoxigraph

    candidates = [lit for lit in set(literals) if _candidate(lit)]
    if not candidates:
        return {}
    scratch = pyoxigraph.Store()
    predicate = pyoxigraph.NamedNode("urn:x-cica-ld:p")
    scratch.extend(
        pyoxigraph.Quad(pyoxigraph.NamedNode(f"urn:x-cica-ld:{i}"), predicate, lit)
        for i, lit in enumerate(candidates)
    )
    changed: dict[pyoxigraph.Literal, pyoxigraph.Literal] = {}
    start = len("urn:x-cica-ld:")
    for q in scratch:
        original = candidates[int(q.subject.value[start:])]
        if q.object != original:
            changed[original] = q.object
    return changed


def literals_of(quads: Iterable[Any]) -> set[pyoxigraph.Literal]:
    """The distinct literal objects of ``quads``."""
    from operator import attrgetter

    import pyoxigraph

    literal = pyoxigraph.Literal
    objects = set(map(attrgetter("object"), quads))  # no bytecode per quad: ~2x faster
    return {o for o in objects if type(o) is literal}


def encode_quads(
    quads: Iterable[Any], changed: Mapping[pyoxigraph.Literal, Any]
) -> Iterator[pyoxigraph.Quad]:
    """``quads`` with every literal of ``changed`` replaced by its surrogate."""
    import pyoxigraph

    literal = pyoxigraph.Literal
    cache: dict[pyoxigraph.Literal, pyoxigraph.Literal] = {}
    for q in quads:
        o = q.object
        if type(o) is literal and o in changed:
            s = cache.get(o)
            if s is None:
                s = cache[o] = encode(o)
            yield pyoxigraph.Quad(q.subject, q.predicate, s, q.graph_name)
        else:
            yield q


@dataclass
class Lexicon:
    """Store values mapped back to the literals as written (for the ``values`` mode).

    ``written[v]`` is every written form whose stored value is ``v``. A value with one written
    form that is not itself in the input is restored in results; a value written in several
    ways (``"007"`` and ``"7"``) is left as the store has it, since a result cannot say which
    one it came from.
    """

    written: dict[Any, set[Any]] = field(default_factory=dict)
    #: values that also occur as written (canonical already): never mapped
    canonical_too: set[Any] = field(default_factory=set)

    def add(self, changed: Mapping[Any, Any]) -> None:
        for original, value in changed.items():
            self.written.setdefault(value, set()).add(original)

    def __bool__(self) -> bool:
        return bool(self.written)

    def __len__(self) -> int:
        return sum(len(v) for v in self.written.values())

    def restore(self, term: Any) -> Any:
        """``term`` as written where that is unambiguous, else unchanged."""
        forms = self.written.get(term)
        if forms is None or len(forms) != 1 or term in self.canonical_too:
            return term
        return next(iter(forms))

    def ambiguous(self) -> list[Any]:
        """Values that stand for more than one written form (left as values in results)."""
        return [v for v, forms in self.written.items() if len(forms) > 1 or v in self.canonical_too]


def _json_term(term: Any) -> dict[str, Any]:
    """A term as a binding of the SPARQL 1.1 (1.2 for triple terms) JSON results format."""
    import pyoxigraph

    kind = type(term)
    if kind is pyoxigraph.NamedNode:
        return {"type": "uri", "value": term.value}
    if kind is pyoxigraph.BlankNode:
        return {"type": "bnode", "value": term.value}
    if kind is pyoxigraph.Literal:
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            direction = getattr(term, "direction", None)
            if direction is not None:
                out["its:dir"] = str(direction.value if hasattr(direction, "value") else direction)
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if kind is pyoxigraph.Triple:
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(term.subject),
                "predicate": _json_term(term.predicate),
                "object": _json_term(term.object),
            },
        }
    raise TypeError(f"not an RDF term: {term!r}")  # pragma: no cover


def restore_solutions(solutions: Any, restore: Any) -> Any:
    """SELECT ``solutions`` with each term passed through ``restore`` (a term -> term function,
    e.g. :meth:`Lexicon.restore` or :func:`decode`), as pyoxigraph ``QuerySolutions`` again (so
    every results format is still pyoxigraph's own serializer). Reads ``solutions`` whole."""
    import json

    import pyoxigraph

    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = _json_term(restore(term))
        rows.append(row)
    doc = {"head": {"vars": names}, "results": {"bindings": rows}}
    payload = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return pyoxigraph.parse_query_results(payload, format=pyoxigraph.QueryResultsFormat.JSON)


def restore_triples(triples: Iterable[Any], restore: Any) -> tuple[Any, ...]:
    """CONSTRUCT/DESCRIBE ``triples`` with their objects passed through ``restore``."""
    import pyoxigraph

    return tuple(
        pyoxigraph.Triple(restore(t.subject), t.predicate, restore(t.object)) for t in triples
    )


def lexicon_warning(lexicon: Lexicon, *, limit: int = 3) -> str:
    """What a query's user is told when some values are written in several ways."""
    ambiguous = sorted(lexicon.ambiguous(), key=str)
    examples = []
    for value in ambiguous[:limit]:
        forms = sorted(str(f) for f in lexicon.written[value])
        if value in lexicon.canonical_too:
            forms.append(str(value))
        examples.append(f"{value} written as {', '.join(forms)}")
    more = f" (and {len(ambiguous) - limit} more)" if len(ambiguous) > limit else ""
    return (
        f"{len(ambiguous)} values are written in more than one way in the data: "
        f"{'; '.join(examples)}{more}. SPARQL compares values, so results show these as the "
        "store's value; export, publish and validate keep every form as written"
    )


def holds_surrogates(store: pyoxigraph.Store) -> bool:
    """Whether ``store`` holds any surrogate literal (one scan of the store)."""
    return bool(
        store.query(
            "ASK { ?s ?p ?o FILTER(isLiteral(?o) && "
            f'STRSTARTS(STR(DATATYPE(?o)), "{SURROGATE}")) }}',
            use_default_graph_as_union=True,
        )
    )


def decode_text(term: str) -> str:
    """A term in N-Triples syntax (or a datatype IRI ``<...>``) as written: a surrogate's
    datatype restored."""
    return term.replace("<" + SURROGATE, "<") if SURROGATE in term else term


#: SPARQL: the value of the term in ``{v}``, a surrogate read as its literal as written.
_VALUE_OF = (
    'IF(isLiteral({v}) && STRSTARTS(STR(DATATYPE({v})), "' + SURROGATE + '"), '
    'STRDT(STR({v}), IRI(STRAFTER(STR(DATATYPE({v})), "' + SURROGATE + '"))), {v})'
)


def sparql_value(v: str) -> str:
    """A SPARQL expression for the value of the variable ``v`` when it may be a surrogate:
    comparisons (``<``, ``>=``...) then see the number or date as written."""
    return _VALUE_OF.format(v=v)


class AsWrittenStore:
    """A read-only view of a store holding surrogates: every term it gives is as written.

    It answers what the publishing and serving code asks of a store (``quads_for_pattern``,
    iteration, ``len``, ``query``, ``dump``); a literal in a pattern is looked up in the form the
    store holds it (its surrogate, if the store would change it).
    """

    #: read as :attr:`cica_ld.dataset.LoadedDataset.as_written` by code that unwraps ``.store``
    as_written = 1

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store
        self._stored: dict[Any, Any] = {}

    def _as_stored(self, term: Any) -> Any:
        import pyoxigraph

        if type(term) is not pyoxigraph.Literal or not _candidate(term):
            return term
        found = self._stored.get(term)
        if found is None:
            found = self._stored[term] = encode(term) if store_forms([term]) else term
        return found

    def quads_for_pattern(
        self, subject: Any = None, predicate: Any = None, obj: Any = None, graph: Any = None
    ) -> Iterator[Any]:
        found = self.store.quads_for_pattern(
            subject, predicate, self._as_stored(obj) if obj is not None else None, graph
        )
        return decode_quads(found)

    def __iter__(self) -> Iterator[Any]:
        return decode_quads(iter(self.store))

    def __len__(self) -> int:
        return len(self.store)

    def named_graphs(self) -> Iterator[Any]:
        return self.store.named_graphs()

    def query(self, query: str, **kwargs: Any) -> Any:
        """The store's answer with its terms as written (SPARQL sees the surrogates)."""
        import pyoxigraph

        answer = self.store.query(query, **kwargs)
        if isinstance(answer, pyoxigraph.QuerySolutions):
            return restore_solutions(answer, decode)
        if isinstance(answer, pyoxigraph.QueryTriples):
            return iter(restore_triples(answer, decode))
        return answer

    def dump(self, output: Any = None, format: Any = None, *, from_graph: Any = None) -> Any:
        """As ``Store.dump``: the quads (of ``from_graph``) serialized, as written."""
        import pyoxigraph

        if from_graph is None:
            items: list[Any] = list(self)
        else:
            items = [q.triple for q in self.quads_for_pattern(None, None, None, from_graph)]
        data = pyoxigraph.serialize(items, format=format)
        if output is None:
            return data
        if isinstance(output, (str, bytes)) or hasattr(output, "__fspath__"):
            with open(output, "wb") as fh:
                fh.write(data or b"")
        else:
            output.write(data or b"")
        return None


def values_copy(store: pyoxigraph.Store) -> tuple[pyoxigraph.Store, Lexicon]:
    """A copy of ``store`` (holding surrogates) with pyoxigraph's values in their place, for
    SPARQL written by users, and the lexicon giving those values back as written. Blank nodes
    keep their ids.

    The copy reads a dump of the store (a temporary N-Quads file: no second copy of the data
    in Python's memory), decoding the surrogates on the way in.
    """
    import os
    import tempfile

    import pyoxigraph

    surrogates = [
        row[0]
        for row in store.query(
            "SELECT DISTINCT ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } "
            f'FILTER(isLiteral(?o) && STRSTARTS(STR(DATATYPE(?o)), "{SURROGATE}")) }}'
        )
    ]
    written = [decode(o) for o in surrogates]
    lexicon = Lexicon()
    lexicon.add(store_forms(written))
    lexicon.canonical_too = {
        v for v in lexicon.written if next(iter(store.quads_for_pattern(None, None, v)), None)
    }
    values = pyoxigraph.Store()
    nquads = pyoxigraph.RdfFormat.N_QUADS
    with tempfile.TemporaryDirectory(prefix="cica-ld-values-") as folder:
        dump = os.path.join(folder, "data.nq")
        store.dump(dump, format=nquads)
        # parsed, not loaded: a load would give the blank nodes new ids, and results name them
        values.extend(decode_quads(pyoxigraph.parse(path=dump, format=nquads)))
    return values, lexicon


def lexicon_of(quads: Iterable[Any]) -> Lexicon:
    """The lexicon of quads as written (values mode): which stored values they change."""
    seen = literals_of(quads)
    changed = store_forms(seen)
    lexicon = Lexicon()
    lexicon.add(changed)
    lexicon.canonical_too = {v for v in changed.values() if v in seen}
    return lexicon


def surrogate_store(quads: Iterable[Any]) -> tuple[pyoxigraph.Store, bool]:
    """A store of ``quads`` as the ``exact`` loader stores them (surrogates for the literals
    pyoxigraph would change), and whether it holds any surrogate."""
    import pyoxigraph

    quads = list(quads)
    changed = store_forms(literals_of(quads))
    store = pyoxigraph.Store()
    store.extend(encode_quads(quads, changed) if changed else quads)
    return store, bool(changed)


def exact_store(quads: Iterable[Any]) -> Any:
    """A store of ``quads`` that gives them back as written: a plain ``Store`` when pyoxigraph
    keeps every literal, else an :class:`AsWrittenStore` over surrogates."""
    store, surrogates = surrogate_store(quads)
    return AsWrittenStore(store) if surrogates else store


# ---------------------------------------------------------------------------------------------
# A fast check that no literal of a Turtle, TriG, N-Triples or N-Quads text would be changed by
# the store, read from the bytes with regular expressions (no Python object per triple).

#: The datatype after ``^^``: an IRI (group 1) or a prefixed name (2: prefix, 3: local part),
#: then where a term may end.
_DATATYPE = re.compile(
    rb"""(?:<([^<>"{}|^`\\\x00-\x20]*)>|([A-Za-z][\w.\-]*)?:((?:[\w\-]|\.(?=[\w\-]))*))"""
    rb"""(?=[\s,;.)\]}#]|\Z)"""
)
_HATS = re.compile(rb"\^\^")
#: Bytes where a token may begin or end become 0x01, those of a number stay, all else ``a``:
#: in the translated text, every number Turtle may write bare is ``\x01`` then its text.
_NUMBER_VIEW = bytes(
    1 if c in b" \t\r\n,()[]<>{}\"';#|" else c if c in b"0123456789+-.eE" else ord("a")
    for c in range(256)
)
_BARE = re.compile(rb"\x01([-+.\d][-+.\deE]*)")
_TURTLE_NUMBER = re.compile(rb"[+-]?(?:\d+\.\d*[eE][+-]?\d+|\.?\d+[eE][+-]?\d+|\d*\.\d+|\d+)")
_PREFIX_DECL = re.compile(rb"(?i:@?prefix)\s+([A-Za-z][\w.\-]*)?:\s*<([^<>\s]*)>")
_BASE_WORD = re.compile(rb"base\s")
_PREFIX_WORD = re.compile(rb"prefix\s")
_CHUNK = 8 << 20


def _chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    """``data`` (bytes or a binary file, read as it goes) in pieces of about 8 MiB cut after a
    line end (no short literal, number or ``^^`` spans one), so other threads get the
    interpreter between pieces and a file is never held whole in memory.

    A file is read, not mapped: a mapped file that shrinks while it is read (rewritten by an
    editor, a watcher's test, another process) kills the whole process with SIGBUS."""
    if isinstance(data, bytes):
        start = 0
        while start < len(data):
            end = data.find(b"\n", start + _CHUNK)
            end = len(data) if end < 0 else end + 1
            yield data[start:end]
            start = end
        return
    while piece := data.read(_CHUNK):
        if not piece.endswith(b"\n"):
            piece += data.readline()
        yield piece


def _typed_in(chunk: bytes, out: set[tuple[bytes, bytes | None, bytes | None, bytes]]) -> bool:
    """Add the typed literals of ``chunk`` to ``out`` as (lexical form, IRI or None, prefix,
    local part); False if some ``^^`` is not the end of a short literal without escapes."""
    for m in _HATS.finditer(chunk):
        at = m.start()
        quote = chunk[at - 1 : at]
        if quote not in (b'"', b"'"):
            return False
        opening = chunk.rfind(quote, 0, at - 1)
        if opening < 0 or chunk[opening - 1 : opening] in (b'"', b"'", b"\\"):
            return False  # a long literal (or an escape): not read here
        lexical = chunk[opening + 1 : at - 1]
        if b"\\" in lexical or b"\n" in lexical or b"\r" in lexical:
            return False
        d = _DATATYPE.match(chunk, at + 2)
        if d is None:
            return False
        out.add((lexical, d.group(1), d.group(2), d.group(3) or b""))
    return True


def keeps_every_literal(data: bytes | BinaryIO, fmt: str) -> bool:
    """True when a pyoxigraph store keeps every literal of ``data`` (an RDF text, as bytes or
    a binary file read in pieces, in ``fmt``:
    ``turtle``, ``trig``, ``ntriples`` or ``nquads``) as written; False when some literal
    may be changed, or the text holds syntax this check does not read (a ``^^`` it cannot
    place, a long or escaped typed literal, ``@base``, a prefix declared twice): then the
    caller reads the literals the thorough way (parsing every triple).

    Sound by construction: every ``^^`` of the text must end a short typed literal without
    escapes (:func:`_typed_in`; a string or comment holding ``^^`` fails the check or adds a
    candidate),
    and every number Turtle may write bare is a candidate (numbers inside strings and names
    only add candidates); the candidates with an XML Schema datatype are given to a scratch
    store (:func:`store_forms`), which is what says whether the store changes them.
    """
    import pyoxigraph

    if fmt not in ("turtle", "trig", "ntriples", "nquads"):
        return False
    bare = fmt in ("turtle", "trig")
    typed: set[tuple[bytes, bytes | None, bytes | None, bytes]] = set()
    numbers: set[bytes] = set()
    prefixes: dict[bytes, bytes] = {}
    for chunk in _chunks(data):
        if bare:
            lower = chunk.lower()
            if _BASE_WORD.search(lower):
                return False  # (or the word in a string: read the thorough way)
            for w in _PREFIX_WORD.finditer(lower):
                start = w.start() - 1 if lower[w.start() - 1 : w.start()] == b"@" else w.start()
                decl = _PREFIX_DECL.match(chunk, start)
                if decl is not None and prefixes.setdefault(decl[1] or b"", decl[2]) != decl[2]:
                    return False
            numbers.update(_BARE.findall(chunk.translate(_NUMBER_VIEW)))
        if not _typed_in(chunk, typed):
            return False
    candidates: list[pyoxigraph.Literal] = []
    try:
        for lexical, iri, prefix, local in typed:
            if iri is None:
                ns = prefixes.get(prefix or b"") if bare else None
                if ns is None:
                    return False
                iri = ns + local
            datatype = iri.decode("utf-8")
            if ":" not in datatype:  # a relative IRI: resolved against a base, not read here
                return False
            if datatype.startswith(XSD) and datatype != _XSD_STRING:
                candidates.append(
                    pyoxigraph.Literal(
                        lexical.decode("utf-8"), datatype=pyoxigraph.NamedNode(datatype)
                    )
                )
        for found in numbers:
            m = _TURTLE_NUMBER.match(found)  # the number a token of this text begins with
            if m is None:
                continue
            text = m.group().decode("ascii")
            kind = "double" if "e" in text.lower() else "decimal" if "." in text else "integer"
            candidates.append(pyoxigraph.Literal(text, datatype=pyoxigraph.NamedNode(XSD + kind)))
    except (UnicodeDecodeError, ValueError):
        return False
    return not store_forms(candidates)
