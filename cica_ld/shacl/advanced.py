"""SHACL Advanced Features (SHACL-AF) in a shapes graph: what cica-ld runs, and what it refuses.

Run (by both engines): SPARQL-based targets (``sh:target`` with a ``sh:select``, i.e. a
``sh:SPARQLTarget``) and targets whose type is a ``sh:SPARQLTargetType`` with parameters;
``sh:SPARQLFunction`` (see :mod:`cica_ld.shacl.functions`); with
``--rules`` (``rules=True``), ``sh:rule`` of type ``sh:TripleRule`` (node expressions
``sh:this``, an IRI, a literal, or ``[ sh:path ... ]``) and ``sh:SPARQLRule`` (see
:mod:`cica_ld.shacl.rules`).

Refused (an invalid shapes graph, exit 2, naming the shape or node and the feature): ``sh:rule``
without ``--rules`` (it would be ignored), other rule types and node expressions,
``sh:expression``, SHACL functions of other kinds (``sh:JSFunction``...), and targets of other
kinds. Nothing of SHACL-AF is ever silently ignored.

:func:`problems` reads the shapes graph through a small index (``values(node, predicate)`` and
``pos``: predicate -> (subject, object) pairs, pyoxigraph terms as objects) and a callback that
checks a query's text (prefixes, syntax, SERVICE), both given by :mod:`cica_ld.validation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from cica_ld.shacl_model import SH

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RULE_TYPES = (f"<{SH}TripleRule>", f"<{SH}SPARQLRule>")
#: Kinds of SHACL function that are not run (sh:SPARQLFunction is, cica_ld.shacl.functions).
FUNCTION_TYPES = tuple(f"<{SH}{t}>" for t in ("Function", "JSFunction", "SHACLFunction"))
#: What a TripleRule's sh:subject, sh:predicate and sh:object may be.
NODE_EXPRESSIONS = "sh:this, an IRI, a literal, [ sh:path ... ] or a call of a sh:SPARQLFunction"


class Index(Protocol):  # pragma: no cover - a structural type
    pos: dict[str, list[tuple[str, Any]]]

    def values(self, node: str, predicate: str) -> list[Any]: ...


#: (node, text, what) -> the problems of that query text ("what" names it, e.g. sh:select).
QueryCheck = Callable[[str, str, str], Iterator[str]]


def problems(g: Index, query_problems: QueryCheck, *, rules: bool) -> Iterator[tuple[str, str]]:
    """(node, why) for every SHACL-AF feature of the shapes graph that cica-ld does not run
    (``rules``: whether ``sh:rule`` is run), or runs and finds malformed."""
    yield from _rule_problems(g, query_problems, rules)
    for shape, _ in g.pos.get(SH + "expression", []):
        yield (
            shape,
            "sh:expression (a SHACL-AF node expression constraint) is not supported: "
            "refused rather than ignored",
        )
    for node, t in g.pos.get(RDF + "type", []):
        if str(t) in FUNCTION_TYPES and f"<{SH}SPARQLFunction>" not in {
            str(x) for x in g.values(node, RDF + "type")
        }:
            yield (
                node,
                f"declares a SHACL function of kind {_short(str(t))}: only sh:SPARQLFunction "
                "is supported (refused rather than ignored)",
            )
        elif str(t) == f"<{SH}SPARQLFunction>":
            yield from ((node, why) for why in function_problems(g, query_problems, node))
    for shape, target in g.pos.get(SH + "target", []):
        for why in target_problems(g, query_problems, target):
            yield shape, why


def _its(kind: str, key: str) -> str:
    """How a message names a rule or target: by its IRI, or (a blank node, whose id changes
    from run to run) as the shape's own."""
    return f"the {kind} {key}" if key.startswith("<") else f"its {kind}"


def function_problems(g: Index, query_problems: QueryCheck, node: str) -> Iterator[str]:
    """What keeps the ``sh:SPARQLFunction`` ``node`` from being run."""
    if not node.startswith("<"):
        yield "a sh:SPARQLFunction must be an IRI"
        return
    for param in g.values(node, SH + "parameter"):
        paths = g.values(str(param), SH + "path")
        if len(paths) != 1 or not str(paths[0]).startswith("<"):
            yield "a sh:parameter of the function needs one IRI sh:path"
    selects, asks = g.values(node, SH + "select"), g.values(node, SH + "ask")
    texts = selects + asks
    if len(texts) != 1 or not _literal(texts[0]):
        yield "the function needs exactly one sh:select or sh:ask string"
        return
    what = f"sh:{'select' if selects else 'ask'} of the function"
    found = list(query_problems(node, texts[0].value, what))
    yield from found
    if found or not selects:
        return
    from cica_ld.shacl.sparql_text import SparqlConstraintError, projected_variables

    try:
        projected = projected_variables(texts[0].value)
    except SparqlConstraintError as exc:
        yield f"{what}: {exc}"
        return
    if len(projected) != 1:
        yield f"{what} must project exactly one variable (the result)"


def _short(iri: str) -> str:
    return "sh:" + iri[len(SH) + 1 : -1] if iri.startswith(f"<{SH}") else iri


def _literal(term: Any) -> bool:
    return type(term).__name__ == "Literal"


def _one_text(g: Index, node: str, local: str) -> tuple[str | None, str | None]:
    """The one string value of ``sh:local`` of ``node``, or why there is none."""
    found = g.values(node, SH + local)
    if len(found) != 1 or not _literal(found[0]):
        return None, f"needs exactly one sh:{local} string (found {len(found)} values)"
    return found[0].value, None


def sparql_target_type(g: Index, target: str) -> str | None:
    """The ``sh:SPARQLTargetType`` among the types of ``target`` (None if there is none)."""
    for t in g.values(target, RDF + "type"):
        if any(str(tt) == f"<{SH}SPARQLTargetType>" for tt in g.values(str(t), RDF + "type")):
            return str(t)
    return None


def target_problems(g: Index, query_problems: QueryCheck, target: Any) -> Iterator[str]:
    """What keeps the value ``target`` of a ``sh:target`` from being run."""
    if _literal(target):
        yield f"sh:target must be a node, found the literal {target}"
        return
    key = str(target)
    if g.values(key, SH + "select"):
        text, why = _one_text(g, key, "select")
        if why:
            yield f"{_its('SPARQL-based target', key)} {why}"
            return
        assert text is not None
        yield from _target_query_problems(query_problems, key, text, "sh:select of sh:target")
        return
    kind = sparql_target_type(g, key)
    if kind is None:
        types = ", ".join(str(t) for t in g.values(key, RDF + "type")) or "no rdf:type"
        yield (
            f"{_its('sh:target', key)} ({types}) is neither a sh:SPARQLTarget with sh:select "
            "nor an instance of a sh:SPARQLTargetType: other kinds of target are not supported"
        )
        return
    text, why = _one_text(g, kind, "select")
    if why:
        yield f"the target type {kind} {why}"
        return
    assert text is not None
    for param in g.values(kind, SH + "parameter"):
        paths = g.values(str(param), SH + "path")
        if len(paths) != 1 or not str(paths[0]).startswith("<"):
            yield f"a sh:parameter of the target type {kind} needs one IRI sh:path"
            return
        optional = any(str(v).startswith('"true"') for v in g.values(str(param), SH + "optional"))
        count = len(g.values(key, str(paths[0])[1:-1]))
        if count == 0 and not optional:
            yield f"{_its('sh:target', key)} has no value for the parameter {paths[0]} of {kind}"
        if count > 1:
            yield f"{_its('sh:target', key)} has {count} values for the parameter {paths[0]} (one)"
    yield from _target_query_problems(query_problems, kind, text, f"sh:select of {kind}")


def _target_query_problems(query_problems: QueryCheck, key: str, text: str, what: str):
    found = list(query_problems(key, text, what))
    yield from found
    if found:
        return
    from cica_ld.shacl.sparql_text import SparqlConstraintError, projected_variables

    try:
        projected = projected_variables(text)
    except SparqlConstraintError as exc:
        yield f"{what}: {exc}"
        return
    if "this" not in projected:
        yield f"{what} must project ?this (the focus nodes it selects)"


def _rule_problems(g: Index, query_problems: QueryCheck, rules: bool) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    true = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    for shape, rule in g.pos.get(SH + "rule", []):
        if any(str(v) == true for v in g.values(shape, SH + "deactivated")):
            continue  # a deactivated shape's rules never run
        if not rules:
            if shape not in seen:
                seen.add(shape)
                yield (
                    shape,
                    "has sh:rule (SHACL-AF rules), which runs only with --rules (validate "
                    "would otherwise ignore it)",
                )
            continue
        for why in rule_problems(g, query_problems, rule):
            yield shape, why


def rule_problems(g: Index, query_problems: QueryCheck, rule: Any) -> Iterator[str]:
    """What keeps ``rule`` (a value of ``sh:rule``) from being run."""
    if _literal(rule):
        yield f"sh:rule must be a node, found the literal {rule}"
        return
    key = str(rule)
    types = {str(t) for t in g.values(key, RDF + "type")}
    if f"<{SH}TripleRule>" in types:
        for local in ("subject", "predicate", "object"):
            found = g.values(key, SH + local)
            if len(found) != 1:
                yield f"{_its('sh:TripleRule', key)} needs exactly one sh:{local}"
                continue
            why = node_expression_problem(g, found[0])
            if why:
                yield f"sh:{local} of {_its('sh:TripleRule', key)} {why}"
            elif local == "predicate" and not str(found[0]).startswith("<"):
                yield f"sh:predicate of {_its('sh:TripleRule', key)} must be an IRI"
    elif f"<{SH}SPARQLRule>" in types:
        text, why = _one_text(g, key, "construct")
        if why:
            yield f"{_its('sh:SPARQLRule', key)} {why}"
            return
        assert text is not None
        found = list(query_problems(key, text, f"sh:construct of {_its('sh:SPARQLRule', key)}"))
        yield from found
        if not found and not text.lstrip().upper().startswith(("CONSTRUCT", "PREFIX", "BASE")):
            yield f"sh:construct of {_its('sh:SPARQLRule', key)} must be a CONSTRUCT query"
    else:
        shown = ", ".join(sorted(types)) or "no rdf:type"
        yield (
            f"{_its('sh:rule', key)} ({shown}) is neither a sh:TripleRule nor a sh:SPARQLRule: "
            "other kinds of rule are not supported"
        )
    for order in g.values(key, SH + "order"):
        if not (_literal(order) and _is_number(order.value)):
            yield f"sh:order of {_its('rule', key)} must be a number, found {order}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def node_expression_problem(g: Index, expr: Any) -> str | None:
    """Why ``expr`` is not a node expression the rules run (None if it is one)."""
    text = str(expr)
    if _literal(expr) or text.startswith("<"):
        return None
    pairs = _properties(g, text)
    props = {p for p, _ in pairs}
    if props == {SH + "path"}:
        return None
    if len(pairs) == 1 and any(  # a call of a sh:SPARQLFunction: [ ex:f ( arg ... ) ]
        str(t) == f"<{SH}SPARQLFunction>" for t in g.values(f"<{pairs[0][0]}>", RDF + "type")
    ):
        items = _list_items(g, pairs[0][1])
        if items is None:
            return "is a function call whose arguments are not a well-formed list"
        for item in items:
            why = node_expression_problem(g, item)
            if why:
                return f"has an argument that {why}"
        return None
    named = ", ".join(sorted(_short(f"<{p}>") for p in props)) or "nothing"
    return f"is a node expression cica-ld does not run (it has {named}; {NODE_EXPRESSIONS} are run)"


def _list_items(g: Index, head: Any) -> list[Any] | None:
    items, node, seen = [], head, set()
    while str(node) != f"<{RDF}nil>":
        if str(node) in seen:
            return None
        seen.add(str(node))
        first, rest = g.values(str(node), RDF + "first"), g.values(str(node), RDF + "rest")
        if len(first) != 1 or len(rest) != 1:
            return None
        items.append(first[0])
        node = rest[0]
    return items


def _properties(g: Index, node: str) -> list[tuple[str, Any]]:
    spo = getattr(g, "spo", None)
    if spo is not None:
        return [(p, o) for p, objs in spo.get(node, {}).items() for o in objs]
    return [(p, o) for p, pairs in g.pos.items() for s, o in pairs if s == node]
