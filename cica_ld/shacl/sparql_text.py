"""Reading and rewriting the SELECT queries of SHACL-SPARQL constraints.

SHACL evaluates a SPARQL-based constraint once per focus node, with ``$this`` *pre-bound* to
it. Doing that 100,000 times is what makes pySHACL slow. This module turns such a query into
one evaluated once over all focus nodes, without changing its answers:

* a small SPARQL tokenizer and a structural reader (groups, triples blocks, OPTIONAL, UNION,
  FILTER and BIND with their ``EXISTS`` bodies, sub-SELECTs, solution modifiers) that keeps
  the offsets of every piece, so a rewrite is made of the query's own text;
* :func:`analyse` decides how a query can be evaluated for many focus nodes at once:

  - ``"join"``: the focus nodes are joined into the top-level group (``$this`` becomes a
    variable bound by the target pattern). That gives the same answers as pre-binding when
    every expression mentioning ``$this`` is evaluated where the target pattern has already
    bound it (top-level FILTER/BIND, ``EXISTS`` bodies), ``$this`` occurs in no sub-SELECT,
    aggregation groups by ``$this``, and there is no LIMIT/OFFSET;
  - ``"lateral"``: Oxigraph's ``LATERAL`` (SEP-0006) evaluates the query once per focus node
    with ``$this`` substituted, inside the store (used for the queries ``join`` cannot take);
  - ``"per-node"``: one query per focus node with ``$this`` substituted (aggregates without
    GROUP BY, and the remote fallback of ``lateral``).

* :func:`decorrelate` rewrites the top-level group of a ``join`` query for Oxigraph's planner,
  which has no statistics: ``FILTER NOT EXISTS { P }`` / ``EXISTS { P }`` over several
  patterns become a left join with ``P`` evaluated once (``OPTIONAL { SELECT DISTINCT ...
  (1 AS ?flag) }`` then ``FILTER(!BOUND(?flag))``), and a triples block is split into one
  sub-SELECT per subject ("star"), joined on their shared variables by hash joins. Both keep
  the query's answers (see the comments at each step for the conditions checked).

The constructs SHACL forbids in these queries (MINUS, VALUES, SERVICE, ``AS $this``, a nested
SELECT that does not project ``$this``) raise :class:`SparqlConstraintError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "Analysis",
    "SparqlConstraintError",
    "analyse",
    "decorrelate",
    "rename_variables",
    "substitute_variable",
    "tokenize",
]


class SparqlConstraintError(ValueError):
    """A SHACL-SPARQL query that cannot be used (syntax SHACL forbids, or unreadable text)."""


# ---------------------------------------------------------------------------------------------
# Tokens

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
)
_PN_CHARS = _PN_CHARS_BASE + r"_\-0-9\u00b7\u0300-\u036f\u203f-\u2040"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<var>[?$][_0-9"""
    + _PN_CHARS_BASE
    + r"""][_0-9\u00b7\u0300-\u036f\u203f-\u2040"""
    + _PN_CHARS_BASE
    + r"""]*)
  | (?P<bnode>_:[_0-9"""
    + _PN_CHARS_BASE
    + r"""](?:[."""
    + _PN_CHARS
    + r"""]*["""
    + _PN_CHARS
    + r"""])?)
  | (?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)
  | (?P<number>(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<pname>(?:["""
    + _PN_CHARS_BASE
    + r"""](?:[."""
    + _PN_CHARS
    + r"""]*["""
    + _PN_CHARS
    + r"""])?)?:(?:(?:[:0-9"""
    + _PN_CHARS
    + r"""]|%[0-9A-Fa-f]{2}|\\[_~.!$&'()*+,;=/?\#@%-])(?:(?:[.:"""
    + _PN_CHARS
    + r"""]|%[0-9A-Fa-f]{2}|\\[_~.!$&'()*+,;=/?\#@%-])*(?:[:"""
    + _PN_CHARS
    + r"""]|%[0-9A-Fa-f]{2}|\\[_~.!$&'()*+,;=/?\#@%-]))?)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>&&|\|\||!=|<=|>=|\^\^|[{}()\[\].;,!=<>+\-*/^|?])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # iri, string, var, bnode, lang, number, pname, name, op
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_op(self, text: str) -> bool:
        return self.kind == "op" and self.text == text

    def is_word(self, word: str) -> bool:
        return self.kind == "name" and self.text.upper() == word

    @property
    def var_name(self) -> str:
        return self.text[1:]


def tokenize(text: str) -> list[Token]:
    """The tokens of a SPARQL query (comments and white space dropped)."""
    out: list[Token] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise SparqlConstraintError(
                f"cannot read the SPARQL query near {text[pos : pos + 20]!r}"
            )
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append(Token(kind, m.group(), pos, m.end()))
        pos = m.end()
    return out


# ---------------------------------------------------------------------------------------------
# Structure

_GROUP_KEYWORDS = frozenset(
    {"FILTER", "BIND", "OPTIONAL", "MINUS", "GRAPH", "SERVICE", "VALUES", "UNION"}
)


@dataclass
class Exists:
    """An ``EXISTS { ... }`` or ``NOT EXISTS { ... }`` inside an expression."""

    negated: bool
    group: Group
    start: int  # offset of NOT (or EXISTS)
    end: int  # offset after the closing brace


@dataclass
class Expr:
    """An expression: its text span and the EXISTS forms inside it (outermost first)."""

    start: int
    end: int
    tokens: list[Token]
    exists: list[Exists] = field(default_factory=list)


@dataclass
class Element:
    """One element of a group graph pattern."""

    # triples, group, union, optional, minus, graph, service, filter, bind, values, subselect
    kind: str
    start: int
    end: int
    tokens: list[Token] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)  # group/union/optional/minus/graph/service
    expr: Expr | None = None  # filter/bind
    bind_var: str | None = None
    query: Query | None = None  # subselect


@dataclass
class Group:
    start: int  # offset of "{"
    end: int  # offset after "}"
    elements: list[Element] = field(default_factory=list)


@dataclass
class Query:
    start: int
    end: int
    select_start: int  # offset of SELECT
    projection: list[Token]  # tokens between SELECT [DISTINCT|REDUCED] and WHERE/{
    modifier: str  # "", "DISTINCT" or "REDUCED"
    projection_start: int
    projection_end: int
    where: Group
    tail: list[Token]  # solution modifiers (and a trailing VALUES) after the WHERE group
    tail_start: int
    tail_end: int
    prologue_end: int = 0


class _Reader:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.toks = tokens
        self.i = 0

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SparqlConstraintError("the SPARQL query ends too early")
        self.i += 1
        return tok

    def expect_op(self, op: str) -> Token:
        tok = self.next()
        if not tok.is_op(op):
            raise SparqlConstraintError(f"expected {op!r} in the SPARQL query, found {tok.text!r}")
        return tok

    # -- queries

    def query(self, top: bool) -> Query:
        start_tok = self.peek()
        if start_tok is None:
            raise SparqlConstraintError("empty SPARQL query")
        prologue_end = start_tok.start
        if top:
            while (tok := self.peek()) is not None and (
                tok.is_word("PREFIX") or tok.is_word("BASE")
            ):
                self.next()
                if tok.is_word("PREFIX"):
                    self.next()  # pname "p:"
                self.next()  # <iri>
            prologue_end = self.peek().start if self.peek() is not None else len(self.text)
        select = self.next()
        if not select.is_word("SELECT"):
            raise SparqlConstraintError(
                f"a SHACL-SPARQL constraint needs a SELECT query, found {select.text!r}"
            )
        modifier = ""
        if (tok := self.peek()) is not None and (tok.is_word("DISTINCT") or tok.is_word("REDUCED")):
            modifier = tok.upper
            self.next()
        proj_start = self.peek().start if self.peek() is not None else len(self.text)
        projection: list[Token] = []
        depth = 0
        while True:
            tok = self.peek()
            if tok is None:
                raise SparqlConstraintError("a SELECT query without WHERE")
            if depth == 0 and (tok.is_word("WHERE") or tok.is_op("{")):
                break
            if tok.is_word("FROM"):
                raise SparqlConstraintError("FROM is not allowed in a SHACL-SPARQL query")
            if tok.is_op("("):
                depth += 1
            elif tok.is_op(")"):
                depth -= 1
            projection.append(self.next())
        proj_end = projection[-1].end if projection else proj_start
        if self.peek() is not None and self.peek().is_word("WHERE"):
            self.next()
        where = self.group()
        tail: list[Token] = []
        tail_start = where.end
        depth = 0
        while (tok := self.peek()) is not None:
            if not top and depth == 0 and tok.is_op("}"):
                break
            if tok.is_op("(") or tok.is_op("{"):
                depth += 1
            elif tok.is_op(")") or tok.is_op("}"):
                depth -= 1
            tail.append(self.next())
        tail_end = tail[-1].end if tail else tail_start
        return Query(
            start=select.start,
            end=tail_end if tail else where.end,
            select_start=select.start,
            projection=projection,
            modifier=modifier,
            projection_start=proj_start,
            projection_end=proj_end,
            where=where,
            tail=tail,
            tail_start=tail_start,
            tail_end=tail_end,
            prologue_end=prologue_end,
        )

    # -- groups

    def group(self) -> Group:
        open_tok = self.expect_op("{")
        group = Group(start=open_tok.start, end=open_tok.end)
        while True:
            tok = self.peek()
            if tok is None:
                raise SparqlConstraintError("unbalanced braces in the SPARQL query")
            if tok.is_op("}"):
                self.next()
                group.end = tok.end
                return group
            if tok.is_op("."):
                self.next()
                continue
            if tok.is_op("{"):
                group.elements.append(self.group_or_union())
                continue
            word = tok.upper if tok.kind == "name" else ""
            if word in ("OPTIONAL", "MINUS"):
                self.next()
                g = self.group()
                group.elements.append(
                    Element(kind=word.lower(), start=tok.start, end=g.end, groups=[g])
                )
            elif word == "GRAPH":
                self.next()
                name = self.next()
                g = self.group()
                group.elements.append(
                    Element(kind="graph", start=tok.start, end=g.end, tokens=[name], groups=[g])
                )
            elif word == "SERVICE":
                self.next()
                toks = [self.next()]
                if toks[0].is_word("SILENT"):
                    toks.append(self.next())
                g = self.group()
                group.elements.append(
                    Element(kind="service", start=tok.start, end=g.end, tokens=toks, groups=[g])
                )
            elif word == "FILTER":
                self.next()
                expr = self.constraint()
                group.elements.append(
                    Element(kind="filter", start=tok.start, end=expr.end, expr=expr)
                )
            elif word == "BIND":
                self.next()
                self.expect_op("(")
                expr, var, end = self.bind_body()
                group.elements.append(
                    Element(kind="bind", start=tok.start, end=end, expr=expr, bind_var=var)
                )
            elif word == "VALUES":
                self.next()
                toks = self.values_block()
                group.elements.append(
                    Element(kind="values", start=tok.start, end=toks[-1].end, tokens=toks)
                )
            elif word == "LATERAL":
                raise SparqlConstraintError("LATERAL is not allowed in a SHACL-SPARQL query")
            else:
                group.elements.append(self.triples())

    def group_or_union(self) -> Element:
        first = self.peek()
        assert first is not None
        if (nxt := self.peek(1)) is not None and nxt.is_word("SELECT"):
            self.next()
            sub = self.query(top=False)
            close = self.expect_op("}")
            return Element(kind="subselect", start=first.start, end=close.end, query=sub)
        groups = [self.group()]
        while (tok := self.peek()) is not None and tok.is_word("UNION"):
            self.next()
            nxt = self.peek(1)
            if nxt is not None and nxt.is_word("SELECT"):
                # a sub-SELECT as a union branch: read it as a group holding it
                open_tok = self.expect_op("{")
                sub = self.query(top=False)
                close = self.expect_op("}")
                g = Group(start=open_tok.start, end=close.end)
                g.elements.append(
                    Element(kind="subselect", start=open_tok.start, end=close.end, query=sub)
                )
                groups.append(g)
            else:
                groups.append(self.group())
        kind = "group" if len(groups) == 1 else "union"
        return Element(kind=kind, start=first.start, end=groups[-1].end, groups=groups)

    def triples(self) -> Element:
        toks: list[Token] = []
        depth = 0
        while True:
            tok = self.peek()
            if tok is None:
                raise SparqlConstraintError("unbalanced braces in the SPARQL query")
            if depth == 0:
                if tok.is_op("{") or tok.is_op("}"):
                    break
                if tok.kind == "name" and tok.upper in _GROUP_KEYWORDS | {"LATERAL"}:
                    break
            if tok.is_op("(") or tok.is_op("["):
                depth += 1
            elif tok.is_op(")") or tok.is_op("]"):
                depth -= 1
            elif tok.is_op("{"):
                raise SparqlConstraintError("unexpected '{' in a triples block")
            toks.append(self.next())
        while toks and toks[-1].is_op("."):
            toks.pop()
        if not toks:
            raise SparqlConstraintError(f"unexpected {self.peek().text!r} in the SPARQL query")
        return Element(kind="triples", start=toks[0].start, end=toks[-1].end, tokens=toks)

    def values_block(self) -> list[Token]:
        toks: list[Token] = []
        while not (tok := self.next()).is_op("{"):
            toks.append(tok)
        toks.append(tok)
        depth = 1
        while depth:
            tok = self.next()
            toks.append(tok)
            if tok.is_op("{"):
                depth += 1
            elif tok.is_op("}"):
                depth -= 1
        return toks

    # -- expressions

    def constraint(self) -> Expr:
        """The constraint of a FILTER: a bracketed expression, a built-in call or EXISTS."""
        tok = self.peek()
        if tok is None:
            raise SparqlConstraintError("FILTER without an expression")
        if tok.is_op("("):
            return self.expression_until_close(bracketed=True)
        if tok.is_word("NOT") or tok.is_word("EXISTS"):
            start = tok.start
            toks: list[Token] = []
            exists = [self.exists_form(toks)]
            return Expr(start=start, end=exists[0].end, tokens=toks, exists=exists)
        # a function call: name/iri/pname then a bracketed argument list
        start = tok.start
        toks = [self.next()]
        inner = self.expression_until_close(bracketed=True)
        return Expr(start=start, end=inner.end, tokens=toks + inner.tokens, exists=inner.exists)

    def exists_form(self, toks: list[Token]) -> Exists:
        tok = self.next()
        negated = False
        start = tok.start
        if tok.is_word("NOT"):
            negated = True
            toks.append(tok)
            tok = self.next()
        if not tok.is_word("EXISTS"):
            raise SparqlConstraintError(f"expected EXISTS, found {tok.text!r}")
        toks.append(tok)
        g = self.group()
        return Exists(negated=negated, group=g, start=start, end=g.end)

    def expression_until_close(self, bracketed: bool) -> Expr:
        """A bracketed expression ``( ... )`` (the reader stands on its opening bracket)."""
        open_tok = self.expect_op("(")
        toks: list[Token] = [open_tok]
        exists: list[Exists] = []
        depth = 1
        while depth:
            tok = self.peek()
            if tok is None:
                raise SparqlConstraintError("unbalanced brackets in the SPARQL query")
            if tok.is_word("EXISTS") or (
                tok.is_word("NOT") and (n := self.peek(1)) is not None and n.is_word("EXISTS")
            ):
                exists.append(self.exists_form(toks))
                continue
            self.next()
            toks.append(tok)
            if tok.is_op("("):
                depth += 1
            elif tok.is_op(")"):
                depth -= 1
        return Expr(start=open_tok.start, end=toks[-1].end, tokens=toks, exists=exists)

    def bind_body(self) -> tuple[Expr, str, int]:
        """``expr AS ?var )`` after BIND's opening bracket."""
        toks: list[Token] = []
        exists: list[Exists] = []
        depth = 0
        start = self.peek().start if self.peek() is not None else 0
        while True:
            tok = self.peek()
            if tok is None:
                raise SparqlConstraintError("unbalanced brackets in BIND")
            if depth == 0 and tok.is_word("AS"):
                break
            if tok.is_word("EXISTS") or (
                tok.is_word("NOT") and (n := self.peek(1)) is not None and n.is_word("EXISTS")
            ):
                exists.append(self.exists_form(toks))
                continue
            self.next()
            toks.append(tok)
            if tok.is_op("("):
                depth += 1
            elif tok.is_op(")"):
                depth -= 1
        end = toks[-1].end if toks else start
        self.next()  # AS
        var = self.next()
        if var.kind != "var":
            raise SparqlConstraintError("BIND ... AS needs a variable")
        close = self.expect_op(")")
        return Expr(start=start, end=end, tokens=toks, exists=exists), var.var_name, close.end


def parse(text: str) -> tuple[Query, list[Token]]:
    """Read a SELECT query; its structure and tokens."""
    tokens = tokenize(text)
    reader = _Reader(text, tokens)
    query = reader.query(top=True)
    if reader.peek() is not None:
        raise SparqlConstraintError(f"unexpected {reader.peek().text!r} after the query")
    return query, tokens


# ---------------------------------------------------------------------------------------------
# Variables


def _vars_in_tokens(tokens: list[Token]) -> set[str]:
    return {t.var_name for t in tokens if t.kind == "var"}


def group_vars(group: Group) -> set[str]:
    """Every variable mentioned anywhere in a group (sub-SELECTs and EXISTS bodies included)."""
    out: set[str] = set()
    for el in group.elements:
        out |= element_vars(el)
    return out


def element_vars(el: Element) -> set[str]:
    out = _vars_in_tokens(el.tokens)
    for g in el.groups:
        out |= group_vars(g)
    if el.expr is not None:
        out |= expr_vars(el.expr)
    if el.bind_var:
        out.add(el.bind_var)
    if el.query is not None:
        out |= query_vars(el.query)
    return out


def expr_vars(expr: Expr) -> set[str]:
    out = _vars_in_tokens(expr.tokens)
    for ex in expr.exists:
        out |= group_vars(ex.group)
    return out


def query_vars(q: Query) -> set[str]:
    return _vars_in_tokens(q.projection) | group_vars(q.where) | _vars_in_tokens(q.tail)


def certainly_bound(group: Group) -> set[str]:
    """Variables every solution of the group binds: those of its top-level triples blocks."""
    out: set[str] = set()
    for el in group.elements:
        if el.kind == "triples":
            out |= _vars_in_tokens(el.tokens)
    return out


def _has_blank_syntax(tokens: list[Token]) -> bool:
    return any(t.kind == "bnode" or t.is_op("[") or t.is_op("(") for t in tokens)


# ---------------------------------------------------------------------------------------------
# Analysis: can the query be joined with the focus nodes?


@dataclass(frozen=True)
class Analysis:
    mode: str  # "join", "lateral" or "per-node"
    reason: str  # why not "join" (empty for join)
    projects_this: bool
    aggregates: bool = False  # GROUP BY or aggregate functions: focus nodes must not repeat


def _check_forbidden(query: Query, tokens: list[Token], prebound: frozenset[str]) -> None:
    """The syntax rules of SHACL-SPARQL (section 5.3.1 of the SHACL spec)."""
    for tok in tokens:
        if tok.kind == "name" and tok.upper in ("MINUS", "SERVICE"):
            raise SparqlConstraintError(f"{tok.upper} is not allowed in a SHACL-SPARQL query")
        if tok.kind == "name" and tok.upper == "VALUES":
            raise SparqlConstraintError("VALUES is not allowed in a SHACL-SPARQL query")
    for i, tok in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if tok.is_word("AS") and nxt.kind == "var" and nxt.var_name in prebound:
            raise SparqlConstraintError(
                f"a SHACL-SPARQL query must not bind the pre-bound variable ${nxt.var_name} (AS)"
            )

    def visit_group(g: Group) -> None:
        for el in g.elements:
            if el.kind == "subselect" and el.query is not None:
                projected = {t.var_name for t in el.query.projection if t.kind == "var"}
                star = any(t.is_op("*") for t in el.query.projection)
                for var in sorted(prebound & {"this", "value"}):
                    # as the SHACL spec and pySHACL have it: a nested SELECT projects $this
                    # (and $value where it is pre-bound), whether or not it uses it
                    if star or var not in projected:
                        raise SparqlConstraintError(
                            f"a nested SELECT must project the pre-bound variable ${var}"
                        )
                visit_group(el.query.where)
            for sub in el.groups:
                visit_group(sub)
            if el.expr is not None:
                for ex in el.expr.exists:
                    visit_group(ex.group)

    visit_group(query.where)


def analyse(text: str, prebound: frozenset[str] = frozenset({"this"})) -> Analysis:
    """How a constraint query can be evaluated over many focus nodes (see the module doc)."""
    from cica_ld.errors import InputError
    from cica_ld.query import check_nesting

    try:
        check_nesting(text, origin="query")
    except InputError as exc:  # before the recursive parser below (and pyoxigraph's)
        raise SparqlConstraintError(str(exc)) from None
    query, tokens = parse(text)
    _check_forbidden(query, tokens, prebound)
    projected = {t.var_name for t in query.projection if t.kind == "var"}
    star = any(t.is_op("*") for t in query.projection)
    projects_this = star or "this" in projected
    tail_words = {t.upper for t in query.tail if t.kind == "name"}
    has_aggregate = _has_aggregate(query.projection) or _has_aggregate(query.tail)
    group_by_this = _groups_by_this(query.tail)
    if has_aggregate and "GROUP" not in tail_words:
        return Analysis("per-node", "aggregates without GROUP BY", projects_this)
    if "GROUP" in tail_words and not group_by_this:
        return Analysis("lateral", "GROUP BY without $this", projects_this)
    if "LIMIT" in tail_words or "OFFSET" in tail_words:
        return Analysis("lateral", "LIMIT/OFFSET", projects_this)
    problem = _join_problem(query.where, top=True, binds_this=True)
    if problem:
        return Analysis("lateral", problem, projects_this)
    grouped = has_aggregate or "GROUP" in tail_words or "HAVING" in tail_words
    # (only the outer query's aggregates see repeated focus nodes: sub-SELECTs are joined)
    return Analysis("join", "", projects_this, aggregates=grouped)


_AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"})


def _has_aggregate(tokens: list[Token]) -> bool:
    return any(
        t.kind == "name"
        and t.upper in _AGGREGATES
        and i + 1 < len(tokens)
        and tokens[i + 1].is_op("(")
        for i, t in enumerate(tokens)
    )


def _groups_by_this(tail: list[Token]) -> bool:
    """``GROUP BY`` lists ``$this`` as a plain variable."""
    i = 0
    while i < len(tail) - 1:
        if tail[i].is_word("GROUP") and tail[i + 1].is_word("BY"):
            j = i + 2
            depth = 0
            while j < len(tail):
                t = tail[j]
                if (
                    depth == 0
                    and t.kind == "name"
                    and t.upper in ("HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES")
                ):
                    break
                if t.is_op("("):
                    depth += 1
                elif t.is_op(")"):
                    depth -= 1
                elif depth == 0 and t.kind == "var" and t.var_name == "this":
                    return True
                j += 1
            return False
        i += 1
    return False


def _mentions_this(tokens: list[Token]) -> bool:
    return any(t.kind == "var" and t.var_name == "this" for t in tokens)


def _expr_mentions_this(expr: Expr) -> bool:
    return "this" in expr_vars(expr)


def _join_problem(group: Group, *, top: bool, binds_this: bool) -> str:
    """Why joining the focus nodes into ``group`` could differ from pre-binding ('' if not).

    ``binds_this``: ``?this`` is bound in every solution this group's own FILTERs (and BINDs)
    see: true at the top (the focus pattern is joined there), or where the group's own triples
    bind it. Expressions elsewhere that mention ``$this`` would see it unbound.
    """
    for el in group.elements:
        if el.kind == "subselect" and el.query is not None and "this" in query_vars(el.query):
            return "a sub-SELECT uses $this"
        if (
            el.kind in ("filter", "bind")
            and el.expr is not None
            and _expr_mentions_this(el.expr)
            and not binds_this
        ):
            return f"a nested {el.kind.upper()} uses $this"
        if el.kind == "graph":
            return "GRAPH"
        for sub in el.groups:
            sub_binds = "this" in certainly_bound(sub)
            if el.kind == "optional":
                # FILTERs directly in an OPTIONAL are its left-join condition: they see the
                # outer solution, so ?this from the top is bound there; BINDs are not
                problem = _optional_problem(sub, binds_this or sub_binds)
            else:
                problem = _join_problem(sub, top=False, binds_this=sub_binds)
            if problem:
                return problem
    return ""


def _optional_problem(group: Group, filter_sees_this: bool) -> str:
    sub_binds = "this" in certainly_bound(group)
    for el in group.elements:
        if el.kind == "filter" and el.expr is not None:
            if _expr_mentions_this(el.expr) and not filter_sees_this:
                return "a FILTER in an OPTIONAL uses $this"
            continue
        if el.kind == "bind" and el.expr is not None:
            if _expr_mentions_this(el.expr) and not sub_binds:
                return "a BIND in an OPTIONAL uses $this"
            continue
        problem = _join_problem(
            Group(group.start, group.end, [el]), top=False, binds_this=sub_binds
        )
        if problem:
            return problem
    return ""


# ---------------------------------------------------------------------------------------------
# Rewriting


def substitute_variable(text: str, name: str, replacement: str) -> str:
    """Replace every occurrence of the variable ``?name``/``$name`` by ``replacement`` text."""
    out: list[str] = []
    pos = 0
    for tok in tokenize(text):
        if tok.kind == "var" and tok.var_name == name:
            out.append(text[pos : tok.start])
            out.append(replacement)
            pos = tok.end
    out.append(text[pos:])
    return "".join(out)


def rename_variables(text: str) -> str:
    """``$x`` written as ``?x`` everywhere (the same variable in SPARQL; same length)."""
    out = list(text)
    for tok in tokenize(text):
        if tok.kind == "var" and tok.text.startswith("$"):
            out[tok.start] = "?"
    return "".join(out)


class _Fresh:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n}"


def join_query(
    text: str,
    focus_pattern: str,
    *,
    optimise: bool = True,
    restrict_exists: bool = False,
    lift_filters: bool = True,
) -> str:
    """The query joined with the focus nodes: ``focus_pattern`` (a group pattern binding
    ``?this``) is placed first in the top-level group, ``$x`` is written ``?x``, ``?this`` is
    projected, and (``optimise``) the top-level group is rewritten by :func:`decorrelate`
    (``restrict_exists``: decorrelated EXISTS bodies that share ``?this`` are joined with the
    focus pattern too; worth it when there are few focus nodes; ``lift_filters``: see
    :func:`decorrelate`)."""
    text = rename_variables(text)
    query, _tokens = parse(text)
    body = (
        decorrelate(
            text,
            query.where,
            tokenize(text),
            {"this"},
            focus=focus_pattern if restrict_exists else None,
            lift_filters=lift_filters,
            outer_focus=focus_pattern,
        )
        if optimise
        else None
    )
    if body is None:
        body = text[query.where.start + 1 : query.where.end - 1]
    projection = text[query.projection_start : query.projection_end]
    star = any(t.is_op("*") for t in query.projection)
    if not star and "this" not in {t.var_name for t in query.projection if t.kind == "var"}:
        projection = "?this " + projection
    head = text[: query.select_start]
    modifier = f"{query.modifier} " if query.modifier else ""
    tail = text[query.tail_start : query.tail_end] if query.tail else ""
    return f"{head}SELECT {modifier}{projection} WHERE {{\n{focus_pattern}\n{body}\n}} {tail}"


def lateral_query(text: str, focus_pattern: str) -> str:
    """The query evaluated once per focus node inside Oxigraph: ``SELECT * { focus LATERAL {
    the query } }`` (the query projects ``?this`` so the focus node is substituted in it)."""
    text = rename_variables(text)
    query, _tokens = parse(text)
    star = any(t.is_op("*") for t in query.projection)
    inner = text[query.select_start : query.end]
    if not star and "this" not in {t.var_name for t in query.projection if t.kind == "var"}:
        inner = (
            text[query.select_start : query.projection_start]
            + "?this "
            + text[query.projection_start : query.end]
        )
    head = text[: query.prologue_end]
    return f"{head}SELECT * WHERE {{\n{focus_pattern}\nLATERAL {{ {inner} }}\n}}"


def decorrelate(
    text: str,
    group: Group,
    tokens: list[Token],
    extra_bound: set[str],
    *,
    focus: str | None = None,
    lift_filters: bool = True,
    outer_focus: str | None = None,
) -> str | None:
    """The body of ``group`` (without its braces) rewritten for a planner without statistics,
    or ``None`` when nothing changes. ``tokens``: all tokens of ``text``; ``extra_bound``:
    variables bound in every solution besides the group's own triples (``?this``); ``focus``:
    the pattern binding ``?this`` in every solution (repeated inside a decorrelated EXISTS body
    that shares ``?this``, so the body is evaluated for the focus nodes only);
    ``lift_filters``: a NOT EXISTS body whose FILTERs read outer variables may become a left
    join whose condition reads them (False keeps such a NOT EXISTS as written: Virtuoso 7.2
    evaluates the FILTER of an OPTIONAL without the outer solution's variables); with
    ``outer_focus`` (the pattern the query's top-level ``group`` is joined with), such a NOT
    EXISTS becomes a left join on the solutions that have a match, found by a copy of the
    group, with no FILTER in the OPTIONAL (:func:`_not_exists_by_copy`)."""
    fresh = _Fresh(f"__cica_f{group.start}_")
    changed = False
    parts: list[str] = []
    binds: list[str] = []
    appended: list[str] = []
    extra_filters: list[str] = []
    bound = certainly_bound(group) | extra_bound
    for el in group.elements:
        if el.kind == "triples":
            split = _split_stars(text, el)
            if split is not None:
                parts.append(split)
                changed = True
                continue
        if el.kind == "group":  # (a union is its own kind)
            # a nested group is evaluated on its own, then joined: made a sub-SELECT (all of
            # its variables projected, so the same join), Oxigraph's planner keeps it so and
            # hash-joins it instead of evaluating it again for each solution of the others
            parts.append(f"{{ SELECT * WHERE {text[el.start : el.end]} }}")
            changed = True
            continue
        if el.kind == "filter" and el.expr is not None and el.expr.exists:
            copy = (group, el, outer_focus) if outer_focus is not None else None
            new_text, opts, filters = _rewrite_filter(
                text, el, bound, tokens, fresh, focus, lift_filters=lift_filters, copy=copy
            )
            if new_text is not None:
                changed = True
                if new_text:
                    parts.append(new_text)
                for opt in opts:  # a copy-form left join first binds its keys
                    if isinstance(opt, tuple):
                        binds.extend(opt[0])
                        appended.append(opt[1])
                    else:
                        appended.append(opt)
                extra_filters.extend(filters)
                continue
        parts.append(text[el.start : el.end] + (" ." if el.kind == "triples" else ""))
    if not changed:
        return None
    return "\n".join(parts + binds + appended + extra_filters)


def _outer_vars(tokens: list[Token], ex: Exists) -> set[str]:
    """Variables mentioned outside an EXISTS body (an over-approximation of those it shares
    with the solutions it is evaluated on); ``?this`` always counts."""
    return {
        t.var_name for t in tokens if t.kind == "var" and not (ex.start <= t.start < ex.end)
    } | {"this"}


def _split_stars(text: str, el: Element) -> str | None:
    """A triples block as one sub-SELECT per subject, or None when it cannot or need not be.

    Oxigraph's planner joins triple patterns in an order chosen without statistics; grouping
    the patterns of one subject ("star") into a sub-SELECT that projects all their variables
    makes the stars hash-joined on their shared variables, which keeps evaluation linear. The
    answers are the same: the join of the stars is the join of the patterns, and no variable
    is hidden. Blocks with blank nodes, collections or a single subject are left alone.
    """
    toks = el.tokens
    if _has_blank_syntax(toks):
        return None
    triples = _triples_by_subject(toks)
    if triples is None or len(triples) < 2:
        return None
    out = []
    for _subject, spans in triples.items():
        body = " . ".join(text[a:b] for a, b in spans)
        names = sorted(
            _vars_in_tokens([t for t in toks if any(a <= t.start < b for a, b in spans)])
        )
        if not names:
            out.append(f"{{ {body} . }}")
            continue
        proj = " ".join(f"?{n}" for n in names)
        out.append(f"{{ SELECT {proj} WHERE {{ {body} . }} }}")
    return "\n".join(out)


def _triples_by_subject(toks: list[Token]) -> dict[str, list[tuple[int, int]]] | None:
    """Spans ``subject predicate-object-list`` of each statement of a block (no blank syntax),
    grouped by subject text; None if the block cannot be read that way."""
    statements: list[list[Token]] = []
    current: list[Token] = []
    for tok in toks:
        if tok.is_op("."):
            if current:
                statements.append(current)
            current = []
        else:
            current.append(tok)
    if current:
        statements.append(current)
    by_subject: dict[str, list[tuple[int, int]]] = {}
    for st in statements:
        if len(st) < 3:
            return None
        subject = st[0]
        if subject.kind not in ("var", "iri", "pname"):
            return None
        by_subject.setdefault(subject.text.replace("$", "?"), []).append((st[0].start, st[-1].end))
    return by_subject


def _rewrite_filter(
    text: str,
    el: Element,
    bound: set[str],
    tokens: list[Token],
    fresh: _Fresh,
    focus: str | None = None,
    *,
    lift_filters: bool = True,
    copy: tuple[Group, Element, str] | None = None,
) -> tuple[str | None, list, list[str]]:
    """Decorrelate the EXISTS forms of a top-level FILTER.

    Returns (the FILTER's new text or '' if nothing is left, OPTIONAL patterns to append to the
    group, each a text or (BINDs that must precede it, its text), FILTERs to append), or
    (None, [], []) when the filter is kept as it is. ``copy``: (the group, this FILTER, the
    focus pattern), for :func:`_not_exists_by_copy`.
    """
    expr = el.expr
    assert expr is not None
    conjuncts = _top_conjuncts(text, expr)
    opts: list = []
    filters: list[str] = []
    kept: list[str] = []
    changed = False
    for c_start, c_end, c_exists in conjuncts:
        whole = (
            len(c_exists) == 1
            and c_exists[0].negated
            and _strip_brackets(text, c_start, c_end) == (c_exists[0].start, c_exists[0].end)
        )
        if whole:
            rewritten = _not_exists_as_left_join(
                text, c_exists[0], tokens, fresh, focus, lift_filters=lift_filters, copy=copy
            )
            if rewritten is not None:
                opt, flag = rewritten[0], rewritten[-1]
                opts.append(opt if len(rewritten) == 2 else (rewritten[1], opt))
                filters.append(f"FILTER(!BOUND(?{flag}))")
                changed = True
                continue
        # EXISTS forms inside a larger expression: flags, where each can be one
        piece = text[c_start:c_end]
        replacements: list[tuple[int, int, str]] = []
        for ex in c_exists:
            flagged = _exists_as_flag(
                text, ex, bound, tokens, fresh, focus, lift_filters=lift_filters
            )
            if flagged is None:
                continue
            opt, flag = flagged
            opts.append(opt)
            replacements.append((ex.start, ex.end, f"{'!' if ex.negated else ''}BOUND(?{flag})"))
        if replacements:
            changed = True
            out, pos = [], c_start
            for a, b, rep in sorted(replacements):
                out.append(text[pos:a])
                out.append(rep)
                pos = b
            out.append(text[pos:c_end])
            piece = "".join(out)
        kept.append(piece)
    if not changed:
        return None, [], []
    new_filter = f"FILTER({' && '.join(f'({k})' for k in kept)})" if kept else ""
    return new_filter, opts, filters


def _strip_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without enclosing brackets that match each other."""
    toks = tokenize(text[start:end])
    while len(toks) >= 2 and toks[0].is_op("(") and toks[-1].is_op(")"):
        depth = 0
        matched_outer = True
        for i, t in enumerate(toks):
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
                if depth == 0 and i != len(toks) - 1:
                    matched_outer = False
                    break
        if not matched_outer:
            break
        start, end = start + toks[1].start, start + toks[-2].end
        toks = tokenize(text[start:end])
    return start, end


def _top_conjuncts(text: str, expr: Expr) -> list[tuple[int, int, list[Exists]]]:
    """The ``&&``-separated parts of an expression at its top level (outer brackets removed),
    each with the EXISTS forms inside it."""
    start, end = _strip_brackets(text, expr.start, expr.end)
    toks = [t for t in expr.tokens if start <= t.start and t.end <= end]
    # positions of top-level && (EXISTS bodies are not in expr.tokens)
    cuts: list[tuple[int, int]] = []
    depth = 0
    for t in toks:
        if t.is_op("("):
            depth += 1
        elif t.is_op(")"):
            depth -= 1
        elif depth == 0 and t.is_op("&&"):
            cuts.append((t.start, t.end))
    spans = []
    pos = start
    for a, b in cuts:
        spans.append((pos, a))
        pos = b
    spans.append((pos, end))
    out = []
    for a, b in spans:
        a2, b2 = _trim(text, a, b)
        out.append((a2, b2, [ex for ex in expr.exists if a2 <= ex.start and ex.end <= b2]))
    return out


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _pattern_count(group: Group) -> int:
    n = 0
    for el in group.elements:
        if el.kind == "triples":
            n += sum(1 for t in el.tokens if t.is_op(".") or t.is_op(";") or t.is_op(",")) + 1
        else:
            n += 2
    return n


def _not_exists_as_left_join(
    text: str,
    ex: Exists,
    tokens: list[Token],
    fresh: _Fresh,
    focus: str | None = None,
    *,
    lift_filters: bool = True,
    copy: tuple[Group, Element, str] | None = None,
) -> tuple[str, str] | tuple[str, list[str], str] | None:
    """``FILTER NOT EXISTS { P }`` as ``OPTIONAL { { SELECT DISTINCT ... (1 AS ?flag) WHERE
    { P' } } FILTER(lifted) }`` + ``FILTER(!BOUND(?flag))``.

    Why it is the same: a left join keeps a solution ``mu`` alone (flag unbound) exactly when
    no solution of ``P'`` is compatible with it and satisfies the lifted filters, i.e. when
    ``P`` with ``mu`` substituted has no solution, as NOT EXISTS asks; solutions with a match
    get the flag and are dropped. ``P'`` is ``P`` without its top-level FILTERs that mention
    an outer variable not bound by ``P``'s own triples ("lifted": they become the left-join
    condition, evaluated on the merged solution, where that variable has the outer value).
    Conditions: no other place in ``P`` mentions such an outer variable (a nested OPTIONAL, a
    BIND, a sub-SELECT, a nested EXISTS), so substitution and compatibility agree.

    A body of a single triple pattern is left alone: Oxigraph answers it by index lookups.
    """
    body = ex.group
    if _pattern_count(body) <= 1:
        return None
    outer_vars = _outer_vars(tokens, ex)
    inner_bound = certainly_bound(body)
    shared = group_vars(body) & outer_vars
    free_outer = {v for v in shared if v not in inner_bound}
    lifted: list[Element] = []
    rest: list[Element] = []
    for el in body.elements:
        mentions = element_vars(el) & free_outer
        if el.kind == "filter" and el.expr is not None and not el.expr.exists and mentions:
            lifted.append(el)
            continue
        if mentions:
            return None  # an outer variable in a place a left join cannot reproduce
        if el.kind == "subselect":
            return None
        rest.append(el)
    if not rest:
        return None
    if lifted and not lift_filters:
        if copy is None:
            return None
        return _not_exists_by_copy(text, body, rest, lifted, shared, tokens, fresh, focus, copy)
    lifted_vars: set[str] = set()
    for el in lifted:
        assert el.expr is not None
        lifted_vars |= expr_vars(el.expr)
    # the shared variables the body binds (join keys) and the body's own variables the lifted
    # filters read
    projected = sorted((shared & inner_bound) | (lifted_vars - free_outer))
    flag = fresh()
    inner_body = "\n".join(
        text[el.start : el.end] + (" ." if el.kind == "triples" else "") for el in rest
    )
    inner_group = Group(body.start, body.end, rest)
    if focus is not None and "this" in projected:
        # only the focus nodes can match: evaluate the body for them alone
        inner_body = f"{focus}\n{inner_body}"
    else:
        better = decorrelate(text, inner_group, tokens, set(), lift_filters=lift_filters)
        if better is not None:
            inner_body = better
    proj = " ".join(f"?{v}" for v in projected)
    condition = " && ".join(f"({_filter_expr_text(text, el)})" for el in lifted)
    cond = f" FILTER({condition})" if condition else ""
    opt = (
        f"OPTIONAL {{ {{ SELECT DISTINCT {proj} (1 AS ?{flag}) WHERE {{\n{inner_body}\n}} }}"
        f"{cond} }}"
    )
    return opt, flag


#: Functions whose value differs between two evaluations of the same pattern: a pattern using
#: them cannot be evaluated twice for the same solutions (:func:`_not_exists_by_copy`).
_FRESH_VALUES = frozenset({"BNODE", "RAND", "UUID", "STRUUID"})


def _not_exists_by_copy(
    text: str,
    body: Group,
    rest: list[Element],
    lifted: list[Element],
    shared: set[str],
    tokens: list[Token],
    fresh: _Fresh,
    focus: str | None,
    copy: tuple[Group, Element, str],
) -> tuple[str, list[str], str] | None:
    """``FILTER NOT EXISTS { P }`` whose FILTERs read outer variables, with no FILTER in an
    OPTIONAL (some stores, Virtuoso 7.2 among them, evaluate such a FILTER without the outer
    solution's variables, and Oxigraph evaluates the NOT EXISTS once per solution, which is
    slow at scale): a copy of the group finds the outer solutions that have a match,

        BIND keys                                       (on the group's solutions)
        OPTIONAL { SELECT DISTINCT keys (1 AS ?flag) WHERE {
            { focus + the group's patterns } BIND keys { P' } FILTER(lifted) } }
        FILTER(!BOUND(?flag))

    Why it is the same: NOT EXISTS of a solution ``mu`` depends only on the values ``mu`` gives
    the variables ``P`` shares with the rest of the query (``shared``). The copy has every
    solution of the group among its own (the same patterns and the same focus pattern; the
    FILTERs of the group are left out, which only adds solutions), and joining it with ``P'``
    (``P`` without the lifted FILTERs) then applying them is the left join with a condition
    of :func:`_not_exists_as_left_join`: so the sub-SELECT's keys are exactly those of the
    solutions with a match. Each shared variable is a key as itself where the group's
    triples bind it in every solution, else as the pair ``(BOUND(?v), COALESCE(?v, false))``,
    which is the same for two solutions exactly when both leave ``?v`` unbound or both bind
    it to the same term; so the join on the keys pairs ``mu`` with its own keys only. Refused
    (None) where a second evaluation could differ: blank node labels (a label names one node
    per basic graph pattern) and BNODE, RAND, UUID, STRUUID in the copied patterns.
    """
    group, this_filter, outer_focus = copy
    elements = [el for el in group.elements if el.kind != "filter" and el is not this_filter]
    original = "\n".join(text[el.start : el.end] for el in elements)
    for tok in tokenize(original):
        if tok.kind == "bnode" or (tok.kind == "name" and tok.upper in _FRESH_VALUES):
            return None
    always = certainly_bound(group) | {"this"}  # the focus pattern binds ?this
    flag = fresh()
    binds: list[str] = []
    keys: list[str] = []
    for i, v in enumerate(sorted(shared)):
        if v in always:
            keys.append(f"?{v}")
            continue
        bound_key, value_key = f"?{flag}_b{i}", f"?{flag}_v{i}"
        binds.append(f"BIND(BOUND(?{v}) AS {bound_key})")
        binds.append(f"BIND(COALESCE(?{v}, false) AS {value_key})")
        keys += [bound_key, value_key]
    # both evaluated as the query's own group is: triples blocks split into stars
    copied = "\n".join(
        (_split_stars(text, el) if el.kind == "triples" else None)
        or text[el.start : el.end] + (" ." if el.kind == "triples" else "")
        for el in elements
    )
    inner_body = "\n".join(
        text[el.start : el.end] + (" ." if el.kind == "triples" else "") for el in rest
    )
    if focus is not None and "this" in shared:
        inner_body = f"{focus}\n{inner_body}"
    else:
        better = decorrelate(
            text, Group(body.start, body.end, rest), tokens, set(), lift_filters=False
        )
        if better is not None:
            inner_body = better
    condition = " && ".join(f"({_filter_expr_text(text, el)})" for el in lifted)
    opt = (
        f"OPTIONAL {{ {{ SELECT DISTINCT {' '.join(keys)} (1 AS ?{flag}) WHERE {{\n"
        f"{{ {outer_focus}\n{copied}\n}}\n" + "\n".join(binds) + f"\n{{ {inner_body}\n}}\n"
        f"FILTER({condition})\n}} }} }}"
    )
    return opt, binds, flag


def _exists_as_flag(
    text: str,
    ex: Exists,
    bound: set[str],
    tokens: list[Token],
    fresh: _Fresh,
    focus: str | None = None,
    *,
    lift_filters: bool = True,
) -> tuple[str, str] | None:
    """``[NOT] EXISTS { P }`` inside a FILTER expression as ``[!]BOUND(?flag)`` with
    ``OPTIONAL { SELECT DISTINCT <shared> (1 AS ?flag) WHERE { P } }`` appended to the group.

    Same answers when every variable ``P`` shares with the outer query is bound by ``P``'s own
    triples (so substitution equals compatibility) and is bound in every outer solution (so
    the left join adds at most the flag, and no new binding). Single-pattern bodies are left
    alone (index lookups)."""
    body = ex.group
    if _pattern_count(body) <= 1:
        return None
    if any(el.kind == "subselect" for el in body.elements):
        return None
    outer_vars = _outer_vars(tokens, ex)
    shared = group_vars(body) & outer_vars
    inner_bound = certainly_bound(body)
    if not shared <= inner_bound or not shared <= bound:
        return None
    flag = fresh()
    if focus is not None and "this" in shared:
        inner_body = f"{focus}\n{text[body.start + 1 : body.end - 1]}"
    else:
        inner_body = decorrelate(text, body, tokens, set(), lift_filters=lift_filters)
        if inner_body is None:
            inner_body = text[body.start + 1 : body.end - 1]
    proj = " ".join(f"?{v}" for v in sorted(shared))
    opt = f"OPTIONAL {{ SELECT DISTINCT {proj} (1 AS ?{flag}) WHERE {{\n{inner_body}\n}} }}"
    return opt, flag


def _filter_expr_text(text: str, el: Element) -> str:
    assert el.expr is not None
    return text[el.expr.start : el.expr.end]


def substitute_projection(text: str, name: str, term: str) -> str:
    """The query with the variable ``name`` replaced by ``term`` (N-Triples syntax) everywhere:
    in the projection of the query and of every nested SELECT as ``(term AS ?__cica_unused)``
    (a name of its own in each nested one: ``?__cica_unused1``... so no projection binds a
    variable already in scope), in GROUP BY as ``(term)``, elsewhere as the term itself.
    Standard SPARQL's stand-in for pre-binding, for remote endpoints."""
    _query, tokens = parse(text)
    out: list[str] = []
    pos = 0
    in_group_by = False
    # inside a SELECT's projection: the depth of parentheses there, else None
    projection_depth: int | None = None
    nested = 0
    for i, tok in enumerate(tokens):
        if tok.is_word("SELECT"):
            projection_depth = 0
            nested += 1
        elif projection_depth is not None:
            if tok.is_op("("):
                projection_depth += 1
            elif tok.is_op(")"):
                projection_depth -= 1
            elif projection_depth == 0 and (tok.is_word("WHERE") or tok.is_op("{")):
                projection_depth = None
        if tok.is_word("BY") and i > 0 and tokens[i - 1].is_word("GROUP"):
            in_group_by = True
        elif in_group_by and (
            (tok.kind == "name" and tok.upper in ("HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"))
            or tok.is_op("}")
            or tok.is_op("{")
        ):
            in_group_by = False
        if tok.kind != "var" or tok.var_name != name:
            continue
        out.append(text[pos : tok.start])
        if projection_depth == 0:
            prev = tokens[i - 1] if i else None
            if prev is not None and prev.is_word("AS"):
                raise SparqlConstraintError(f"the query binds ${name} with AS")
            suffix = "" if nested == 1 else str(nested - 1)
            out.append(f"({term} AS ?__cica_unused{suffix})")
        elif in_group_by:
            out.append(f"({term})")
        else:
            out.append(term)
        pos = tok.end
    out.append(text[pos:])
    return "".join(out)


def projected_variables(text: str) -> list[str]:
    """The names of the variables a SELECT query projects (for ``*``: every variable of its
    WHERE clause)."""
    query, _tokens = parse(text)
    if _projects_star(query.projection):
        return sorted(group_vars(query.where))
    out: list[str] = []
    depth = 0
    toks = query.projection
    for i, t in enumerate(toks):
        if t.is_op("("):
            depth += 1
        elif t.is_op(")"):
            depth -= 1
        elif (
            t.kind == "var"
            and (depth == 0 or (i > 0 and toks[i - 1].is_word("AS")))
            and t.var_name not in out
        ):
            out.append(t.var_name)
    return out


def _projects_star(projection: list[Token]) -> bool:
    """``SELECT *`` (a ``*`` outside parentheses, not a multiplication in an expression)."""
    depth = 0
    for t in projection:
        if t.is_op("("):
            depth += 1
        elif t.is_op(")"):
            depth -= 1
        elif t.is_op("*") and depth == 0:
            return True
    return False


def prologue_end(text: str) -> int:
    """The offset where the query form (SELECT, ASK) begins, after PREFIX/BASE lines."""
    tokens = tokenize(text)
    i = 0
    while i < len(tokens) and (tokens[i].is_word("PREFIX") or tokens[i].is_word("BASE")):
        i += 3 if tokens[i].is_word("PREFIX") else 2
    return tokens[i].start if i < len(tokens) else len(text)


def ask_body(text: str, prebound: frozenset[str]) -> str:
    """The WHERE group of an ASK query (without braces, ``$x`` written ``?x``), after checking
    the syntax rules of SHACL-SPARQL; for an ASK validator evaluated inside ``EXISTS``."""
    text = rename_variables(text)
    tokens = tokenize(text)
    start = prologue_end(text)
    ask = next((t for t in tokens if t.start >= start), None)
    if ask is None or not ask.is_word("ASK"):
        raise SparqlConstraintError("an ASK validator needs an ASK query")
    as_select = text[: ask.start] + "SELECT *" + text[ask.end :]
    query, toks = parse(as_select)
    _check_forbidden(query, toks, prebound)
    if query.tail:
        raise SparqlConstraintError("an ASK validator has no solution modifiers")
    return as_select[query.where.start + 1 : query.where.end - 1]


def undeclared_prefixes(text: str, known: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The prefixes the query's prefixed names use that neither its own ``PREFIX`` lines nor
    ``known`` declare, in order of first use (``""`` for the empty prefix of ``:name``)."""
    tokens = tokenize(text)
    declared = set(known)
    out: list[str] = []
    for i, t in enumerate(tokens):
        if t.kind != "pname":
            continue
        name = t.text.split(":", 1)[0]
        if i > 0 and tokens[i - 1].is_word("PREFIX"):
            declared.add(name)
        elif name not in declared and name not in out:
            out.append(name)
    return out


_PN_LOCAL_ESCAPE = re.compile(r"\\(.)")


def inline_prefixes(text: str, prefixes: Mapping[str, str]) -> str:
    """The query ``text`` without its prologue, every prefixed name written as a full IRI
    (with ``prefixes`` and the query's own PREFIX lines): a text that can be nested as a
    subquery. A BASE line, or a prefix declared nowhere, raises
    :class:`SparqlConstraintError`."""
    tokens = tokenize(text)
    declared = dict(prefixes)
    i = 0
    while i < len(tokens) and (tokens[i].is_word("PREFIX") or tokens[i].is_word("BASE")):
        if tokens[i].is_word("BASE"):
            raise SparqlConstraintError("BASE is not supported here (write full IRIs)")
        if i + 2 >= len(tokens) or tokens[i + 1].kind != "pname" or tokens[i + 2].kind != "iri":
            raise SparqlConstraintError("a PREFIX line needs a prefix and an IRI")
        declared[tokens[i + 1].text[:-1]] = tokens[i + 2].text[1:-1]
        i += 3
    if i == len(tokens):
        return ""
    out: list[str] = []
    last = tokens[i].start
    for t in tokens[i:]:
        if t.kind != "pname":
            continue
        name, local = t.text.split(":", 1)
        ns = declared.get(name)
        if ns is None:
            raise SparqlConstraintError(f"the prefix {name}: is declared nowhere")
        local = _PN_LOCAL_ESCAPE.sub(lambda m: m.group(1), local)
        out += [text[last : t.start], f"<{ns}{local}>"]
        last = t.end
    out.append(text[last:])
    return "".join(out)
