"""SHACL functions (SHACL-AF ``sh:SPARQLFunction``): SPARQL functions defined in the shapes graph
by a SELECT (its one projected variable is the result) or an ASK query, callable by their IRI
from any SPARQL of the shapes (constraints, validators, targets, rules).

They run as pyoxigraph custom functions: a call writes its arguments into the function's query
(in place of the parameters' variables, ``$op1``...) and evaluates it over the same data as
the query that called it. Parameters take the arguments in ``sh:order`` (lowest first; those
without, after, by the local name of their ``sh:path``); an optional parameter may be left
out. A call that cannot be evaluated (too many or too few arguments, a blank-node argument,
which a query cannot name, no solution) is an error in SPARQL's sense: the expression is
unbound. Functions exist only on the embedded store: a query sent to an endpoint cannot call
them (an error naming the function).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cica_ld.shacl.shapes import RDF, SH, TRUE, ShapesError, ShapesGraph, is_literal, literal_value

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

#: Nested calls deeper than this are errors (a function that calls itself without end).
MAX_DEPTH = 32


@dataclass(frozen=True)
class Function:
    iri: str  # without brackets
    parameters: tuple[tuple[str, bool], ...]  # (variable name, optional), in call order
    kind: str  # "select" or "ask"
    query: str  # with its prologue


def read_functions(shapes: ShapesGraph) -> dict[str, Function]:
    """Every ``sh:SPARQLFunction`` of the shapes graph, by IRI."""
    g = shapes.graph
    out: dict[str, Function] = {}
    for node in sorted(g.subjects(RDF + "type", f"<{SH}SPARQLFunction>")):
        if not node.startswith("<"):
            raise ShapesError(f"a sh:SPARQLFunction must be an IRI, found {node}")
        params = []
        for p in g.objects(node, SH + "parameter"):
            path = g.value(p, SH + "path")
            if path is None or not path.startswith("<"):
                raise ShapesError(f"a parameter of the function {node} needs an IRI sh:path")
            order = g.value(p, SH + "order")
            local = re.split(r"[#/:]", path[1:-1])[-1]
            key = float(literal_value(order)) if order is not None else float("inf")
            params.append((key, local, TRUE in g.objects(p, SH + "optional")))
        params.sort(key=lambda t: (t[0], t[1]))
        selects, asks = g.objects(node, SH + "select"), g.objects(node, SH + "ask")
        texts = selects + asks
        if len(texts) != 1 or not is_literal(texts[0]):
            raise ShapesError(f"the function {node} needs one sh:select or sh:ask string")
        kind = "select" if selects else "ask"
        text = literal_value(texts[0])
        from cica_ld.query import service_free

        if not service_free(text):
            raise ShapesError(
                f"sh:{kind} of the function {node} calls SERVICE (or spells it and does not "
                "parse): refused, validation never fetches from the network"
            )
        prefixes = shapes.query_prefixes(node, text, node, f"sh:{kind} of the function {node}")
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
        out[node[1:-1]] = Function(
            node[1:-1], tuple((name, opt) for _k, name, opt in params), kind, prologue + text
        )
    return out


_depth = threading.local()


def callables(
    functions: Mapping[str, Function], store: pyoxigraph.Store
) -> dict[pyoxigraph.NamedNode, Callable[..., Any]]:
    """pyoxigraph ``custom_functions`` evaluating ``functions`` over ``store``."""
    import pyoxigraph

    table: dict[pyoxigraph.NamedNode, Callable[..., Any]] = {}

    def make(f: Function) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            return _call(f, store, table, args)

        return call

    for iri, f in functions.items():
        table[pyoxigraph.NamedNode(iri)] = make(f)
    return table


def _call(f: Function, store: Any, table: Mapping[Any, Any], args: tuple[Any, ...]) -> Any:
    import pyoxigraph

    from cica_ld.shacl.sparql_text import substitute_variable

    required = sum(1 for _n, optional in f.parameters if not optional)
    if not required <= len(args) <= len(f.parameters):
        return None
    depth = getattr(_depth, "n", 0)
    if depth >= MAX_DEPTH:
        return None
    text = f.query
    for (name, _optional), arg in zip(f.parameters, args, strict=False):
        if isinstance(arg, pyoxigraph.BlankNode) or not isinstance(
            arg, (pyoxigraph.NamedNode, pyoxigraph.Literal)
        ):
            return None  # a query cannot name a blank node
        text = substitute_variable(text, name, str(arg))
    _depth.n = depth + 1
    try:
        answer = store.query(text, custom_functions=dict(table))
        if f.kind == "ask":
            return pyoxigraph.Literal(
                "true" if bool(answer) else "false",
                datatype=pyoxigraph.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"),
            )
        variables = answer.variables
        for row in answer:
            return row[variables[0]] if variables else None
        return None
    except (SyntaxError, ValueError, OSError, RuntimeError):
        return None
    finally:
        _depth.n = depth
