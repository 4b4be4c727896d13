"""SHACL-AF rules (``sh:rule``): ``sh:TripleRule`` and ``sh:SPARQLRule``, run to a fixpoint on a
copy of the data before it is validated (``cica-ld validate --rules``).

Which rules run: every ``sh:rule`` of a shape that is not deactivated, unless the rule itself is
(``sh:deactivated true``). Its focus nodes are the shape's targets in the data (as validation
selects them, SPARQL-based targets included), less those that do not conform to each of its
``sh:condition`` shapes. Rules run in ``sh:order`` (lowest first, 0 when not given; then by
their node, so runs repeat), and all of them again, on the triples inferred so far, until a
round infers nothing new (at most :data:`MAX_ROUNDS` rounds, then an error: rules that keep
inventing nodes would never stop). This is pySHACL's ``iterate_rules``.

* ``sh:TripleRule``: for each focus node, the triples ``S p O`` for every node ``S`` of
  ``sh:subject`` and ``O`` of ``sh:object``, where a node expression is ``sh:this`` (the focus
  node), an IRI or literal (itself), ``[ sh:path P ]`` (the values of P from the focus node),
  or ``[ f ( e1 e2 ... ) ]`` with ``f`` a ``sh:SPARQLFunction`` of the shapes (``f`` called on
  every combination of the nodes of its arguments; unbound results dropped).
* ``sh:SPARQLRule``: the ``sh:construct`` query, run once per focus node with ``$this``
  written into it (a blank focus node, which a query cannot name, is pre-bound by Oxigraph's
  substitution instead, which binds it only where a triple pattern of the WHERE clause uses
  it), with the prefixes of ``sh:prefixes`` (and the shapes file's own).

The user's data is never changed: the rules read and write a copy. On data holding literals as
written (:mod:`cica_ld.lexical`), the rules run on their values (so arithmetic and comparisons
work), and an inferred literal that is a value of the data is written back as the data wrote it.
What is refused instead of run is checked first by :mod:`cica_ld.shacl.advanced`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cica_ld.errors import InputError
from cica_ld.shacl.shapes import (
    RDF,
    SH,
    TRUE,
    FilePrefixes,
    Shape,
    ShapesError,
    ShapesGraph,
    is_literal,
    literal_value,
    to_term,
)

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

#: Rounds of all rules before giving up on a fixpoint.
MAX_ROUNDS = 100


@dataclass(frozen=True)
class Rule:
    node: str
    shape: Shape
    kind: str  # "triple" or "sparql"
    order: float
    conditions: tuple[str, ...]
    # TripleRule: the node expressions (N-Triples terms or ("path", sparql path))
    subject: object = None
    predicate: str | None = None
    object: object = None
    # SPARQLRule: the CONSTRUCT query with its prologue
    construct: str | None = None


@dataclass(frozen=True)
class RulesOutcome:
    """The data with what the rules inferred (a new store), and how much that was."""

    store: pyoxigraph.Store
    inferred: int
    rounds: int


def read_rules(shapes: ShapesGraph) -> list[Rule]:
    """The rules to run, in the order they run."""
    g = shapes.graph
    out: list[Rule] = []
    for node in sorted(g.subjects(SH + "rule", None)):
        shape = shapes.shape(node)
        if shape.deactivated:
            continue
        for rule in g.objects(node, SH + "rule"):
            if TRUE in g.objects(rule, SH + "deactivated"):
                continue
            out.append(_read_rule(shapes, shape, rule))
    out.sort(key=lambda r: (r.order, r.shape.node, r.node))
    return out


def _read_rule(shapes: ShapesGraph, shape: Shape, node: str) -> Rule:
    g = shapes.graph
    types = set(g.objects(node, RDF + "type"))
    order_values = g.objects(node, SH + "order")
    try:
        order = float(literal_value(order_values[0])) if order_values else 0.0
    except ValueError:
        raise ShapesError(
            f"sh:order of the rule {node} must be a number", shape=shape.node
        ) from None
    conditions = tuple(g.objects(node, SH + "condition"))
    if f"<{SH}TripleRule>" in types:
        parts = {}
        for local in ("subject", "predicate", "object"):
            found = g.objects(node, SH + local)
            if len(found) != 1:
                raise ShapesError(
                    f"the sh:TripleRule {node} needs one sh:{local}", shape=shape.node
                )
            parts[local] = _expression(shapes, found[0], node, shape.node)
        predicate = parts["predicate"]
        if not (isinstance(predicate, str) and predicate.startswith("<")):
            raise ShapesError(f"sh:predicate of {node} must be an IRI", shape=shape.node)
        return Rule(
            node,
            shape,
            "triple",
            order,
            conditions,
            subject=parts["subject"],
            predicate=predicate,
            object=parts["object"],
        )
    if f"<{SH}SPARQLRule>" in types:
        texts = g.objects(node, SH + "construct")
        if len(texts) != 1 or not is_literal(texts[0]):
            raise ShapesError(f"the sh:SPARQLRule {node} needs one sh:construct", shape=shape.node)
        text = literal_value(texts[0])
        prefixes = shapes.query_prefixes(node, text, shape.node, f"sh:construct of {node}")
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
        return Rule(node, shape, "sparql", order, conditions, construct=prologue + text)
    raise ShapesError(
        f"sh:rule {node} is neither a sh:TripleRule nor a sh:SPARQLRule", shape=shape.node
    )


def _expression(shapes: ShapesGraph, expr: str, rule: str, shape: str) -> object:
    """A node expression: ``"this"``, a constant term, or ("path", SPARQL path)."""
    if expr == f"<{SH}this>":
        return "this"
    if expr.startswith("<") or is_literal(expr):
        return expr
    g = shapes.graph
    paths = g.objects(expr, SH + "path")
    if len(paths) == 1:
        return ("path", shapes.path_text(paths[0], shape))
    calls = _function_call(shapes, expr)
    if calls is not None:
        iri, args = calls
        return ("call", iri, tuple(_expression(shapes, a, rule, shape) for a in args))
    raise ShapesError(
        f"{rule}: the node expression {expr} is not run (sh:this, an IRI, a literal or "
        "[ sh:path ... ] are)",
        shape=shape,
    )


def _function_call(shapes: ShapesGraph, expr: str) -> tuple[str, list[str]] | None:
    """(function IRI, argument expressions) of a function node expression ``[ f ( a b ) ]``
    whose ``f`` is a sh:SPARQLFunction of the shapes graph; None for anything else."""
    g = shapes.graph
    props = {str(q.predicate) for q in g.store.quads_for_pattern(g.term(expr), None, None)}
    if len(props) != 1:
        return None
    (pred,) = props
    if f"<{SH}SPARQLFunction>" not in g.objects(pred, RDF + "type"):
        return None
    heads = g.objects(expr, pred[1:-1])
    if len(heads) != 1:
        return None
    return pred[1:-1], g.items(heads[0])


def apply_rules(
    data: pyoxigraph.Store,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None = None,
    *,
    file_prefixes: FilePrefixes | None = None,
) -> RulesOutcome:
    """Run the rules of ``shapes`` on a copy of the default graph of ``data`` (see the module
    doc); ``data`` itself is not changed."""
    import pyoxigraph

    from cica_ld import lexical

    graph = ShapesGraph(shapes, file_prefixes)
    rules = read_rules(graph)
    default = pyoxigraph.DefaultGraph()
    quads = list(data.quads_for_pattern(None, None, None, default))
    as_written = lexical.holds_surrogates(data)
    if as_written:
        work, lexicon = lexical.values_copy(data)
    else:
        work, lexicon = pyoxigraph.Store(), None
        work.extend(quads)
    inferred: set[pyoxigraph.Triple] = set()
    rounds = 0
    while rules:
        rounds += 1
        new = _round(work, shapes, ontology, file_prefixes, rules)
        fresh = new - inferred
        for t in fresh:
            work.add(pyoxigraph.Quad(t.subject, t.predicate, t.object, default))
        inferred |= fresh
        if not fresh:
            break
        if rounds >= MAX_ROUNDS:
            raise InputError(
                f"the rules did not reach a fixpoint after {MAX_ROUNDS} rounds (rules that "
                f"keep adding new nodes?): {len(inferred)} triples inferred so far"
            )
    out = pyoxigraph.Store()
    out.extend(quads)
    added = 0
    for t in sorted(inferred, key=str):
        obj = t.object
        if lexicon is not None and isinstance(obj, pyoxigraph.Literal):
            written = lexicon.restore(obj)
            if written != obj:
                obj = lexical.encode(written)
        quad = pyoxigraph.Quad(t.subject, t.predicate, obj, default)
        if quad not in out:
            out.add(quad)
            added += 1
    return RulesOutcome(out, added, rounds)


def _round(
    work: pyoxigraph.Store,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None,
    file_prefixes: FilePrefixes | None,
    rules: list[Rule],
) -> set[pyoxigraph.Triple]:
    """One run of every rule in order; each sees what the rules before it inferred."""
    import pyoxigraph

    from cica_ld.shacl.backend import LocalBackend
    from cica_ld.shacl.engine import Engine

    out: set[pyoxigraph.Triple] = set()
    for rule in rules:
        # a fresh engine: its caches must not outlive the data they were computed on
        engine = Engine(
            LocalBackend(work, as_written=False), shapes, ontology, file_prefixes=file_prefixes
        )
        focus = engine.target_focus([engine.shapes.shape(rule.shape.node)])
        nodes = set(engine._focus_nodes(focus))
        for cond in rule.conditions:
            if nodes:
                nodes -= engine.failing(cond, focus)
        if not nodes:
            continue
        found = _triple_rule(engine, rule, focus, nodes) if rule.kind == "triple" else None
        if found is None:
            found = _sparql_rule(work, rule, nodes, engine.backend.functions)
        default = pyoxigraph.DefaultGraph()
        for t in found:
            if pyoxigraph.Quad(t.subject, t.predicate, t.object, default) not in work:
                work.add(pyoxigraph.Quad(t.subject, t.predicate, t.object, default))
                out.add(t)
    return out


def _values(engine, expr: object, focus, nodes: set[str]) -> dict[str, set[str]]:
    """Focus node -> the nodes of the expression for it."""
    if expr == "this":
        return {n: {n} for n in nodes}
    if isinstance(expr, tuple) and expr[0] == "call":
        return _call_values(engine, expr, focus, nodes)
    if isinstance(expr, tuple):
        query = f"SELECT DISTINCT ?this ?v WHERE {{ {focus.bag} ?this {expr[1]} ?v }}"
        out: dict[str, set[str]] = {}
        for f, v in engine._select(query, ["this", "v"]):
            if f in nodes and v is not None:
                out.setdefault(f, set()).add(v)
        return out
    return {n: {expr} for n in nodes}  # type: ignore[misc]


def _call_values(engine, expr: tuple, focus, nodes: set[str]) -> dict[str, set[str]]:
    """A function node expression: the function called on every combination of the nodes of
    its arguments (an empty argument: no call), per focus node; unbound results dropped."""
    import itertools

    from cica_ld.shacl.functions import callables

    _kind, iri, args = expr
    functions = engine.backend.functions
    table = callables(functions, engine.backend.store)
    call = next(f for k, f in table.items() if k.value == iri)
    arg_values = [_values(engine, a, focus, nodes) for a in args]
    out: dict[str, set[str]] = {}
    for n in nodes:
        for combo in itertools.product(*(sorted(v.get(n, ())) for v in arg_values)):
            result = call(*(to_term(t) for t in combo))
            if result is not None:
                out.setdefault(n, set()).add(str(result))
    return out


def _triple_rule(engine, rule: Rule, focus, nodes: set[str]) -> set[pyoxigraph.Triple]:
    import pyoxigraph

    subjects = _values(engine, rule.subject, focus, nodes)
    objects = _values(engine, rule.object, focus, nodes)
    predicate = to_term(rule.predicate)  # type: ignore[arg-type]
    out = set()
    for n in nodes:
        for s in subjects.get(n, ()):
            if is_literal(s):
                continue  # a literal is no subject
            for o in objects.get(n, ()):
                out.add(pyoxigraph.Triple(to_term(s), predicate, to_term(o)))  # type: ignore[arg-type]
    return out


def _sparql_rule(
    work: pyoxigraph.Store, rule: Rule, nodes: set[str], functions: dict
) -> set[pyoxigraph.Triple]:
    import pyoxigraph

    from cica_ld.shacl.backend import QueryFailed, _refuse_service
    from cica_ld.shacl.sparql_text import substitute_variable

    text = rule.construct or ""
    _refuse_service(text)
    this = pyoxigraph.Variable("this")
    extra: dict = {}
    if functions:
        from cica_ld.shacl.functions import callables

        extra["custom_functions"] = callables(functions, work)
    out: set[pyoxigraph.Triple] = set()
    for n in sorted(nodes):
        try:
            if n.startswith("_:"):  # a blank node cannot be written: Oxigraph's pre-binding
                triples = work.query(text, substitutions={this: to_term(n)}, **extra)  # type: ignore[dict-item]
            else:  # written into the query: $this is bound everywhere (Oxigraph's substitution
                # leaves it unbound where no triple pattern mentions it)
                triples = work.query(substitute_variable(text, "this", n), **extra)
            for t in triples:  # type: ignore[union-attr]
                if not isinstance(t.subject, pyoxigraph.Literal):
                    out.add(pyoxigraph.Triple(t.subject, t.predicate, t.object))
        except SyntaxError as exc:
            raise QueryFailed(f"{rule.node}: SPARQL syntax error: {exc}") from None
        except (ValueError, OSError) as exc:
            raise QueryFailed(f"{rule.node}: SPARQL evaluation failed: {exc}") from None
        except RuntimeError as exc:  # a function SPARQL does not define
            raise QueryFailed(f"{rule.node}: {exc}") from None
    return out
