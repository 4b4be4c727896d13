"""The validation engine: SHACL shapes compiled to SPARQL queries evaluated once over all focus
nodes of a shape (set-based), not once per focus node.

How a shape is checked:

* its focus nodes are a SPARQL group pattern binding ``?this`` (:class:`Focus`): the targets of
  a shape, or the value nodes of another shape for nested shapes;
* the value-level components (class, datatype, nodeKind, pattern, lengths, ranges, languageIn,
  in, and sh:node/not/and/or/xone over shapes that are themselves value-level) become boolean
  SPARQL expressions, all checked by one query per shape returning only the failing
  (focus, value) pairs, with a flag per component;
* cardinalities, hasValue, uniqueLang, the property-pair components, closed and the qualified
  counts are one aggregate or anti-join query each;
* shape-valued components over shapes that are not value-level (they have property shapes,
  SPARQL constraints, counts...) compute the set of nodes that fail the inner shape among the
  value nodes (by the same machinery, recursively) and combine it with the (focus, value) pairs
  in Python;
* ``sh:sparql`` constraints are rewritten by :mod:`cica_ld.shacl.sparql_text` to run once over
  all focus nodes (or once per focus node inside the store when that could change answers).
* recursive shapes are unrolled along pySHACL's evaluation path until pySHACL's recursion
  check would skip the repeated shape (see "Recursion, as pySHACL evaluates it" below), each
  unrolled shape evaluated set-based like any other.

The data graph is only read by SPARQL SELECT queries (:mod:`cica_ld.shacl.backend`), so the
same engine validates an embedded store and a remote endpoint. The ontology graph contributes
class membership: ``rdfs:subClassOf`` axioms (for ``sh:targetClass``, implicit class targets and
``sh:class``) and ``rdf:type`` statements (for ``sh:class``); targets come from the data only.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cica_ld.lexical import SURROGATE, decode_text, sparql_value
from cica_ld.shacl import sparql_text
from cica_ld.shacl.backend import Backend
from cica_ld.shacl.shapes import (
    OWL,
    RDF,
    RDF_TYPE,
    RDFS,
    SH,
    TRUE,
    XSD,
    FilePrefixes,
    Shape,
    ShapesError,
    ShapesGraph,
    SparqlTarget,
    component,
    from_parameter_term,
    is_literal,
    literal_value,
    parameter_term,
    shape_refs,
    to_term,
)
from cica_ld.shacl_model import Severity, ValidationResult, custom_severity

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.progress import Progress

SPARQL_COMPONENT = SH + "SPARQLConstraintComponent"
#: Nested results (sh:detail) are given this many levels deep, at most this many per result.
DETAIL_DEPTH = 3
DETAIL_LIMIT = 20
#: Up to this many focus nodes, a decorrelated EXISTS body is evaluated for them alone.
SMALL_FOCUS = 1000
CLOSED = component("closed")

# datatypes whose lexical forms Oxigraph's XPath constructor functions check
_CASTABLE = frozenset(
    XSD + n
    for n in (
        "boolean",
        "float",
        "double",
        "decimal",
        "integer",
        "dateTime",
        "date",
        "time",
        "duration",
        "yearMonthDuration",
        "dayTimeDuration",
        "gYear",
        "gYearMonth",
        "gMonth",
        "gDay",
        "gMonthDay",
    )
)
# integer types derived from xsd:integer, with their bounds (None: unbounded)
_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    XSD + "long": (-(2**63), 2**63 - 1),
    XSD + "int": (-(2**31), 2**31 - 1),
    XSD + "short": (-(2**15), 2**15 - 1),
    XSD + "byte": (-(2**7), 2**7 - 1),
    XSD + "nonNegativeInteger": (0, None),
    XSD + "positiveInteger": (1, None),
    XSD + "nonPositiveInteger": (None, 0),
    XSD + "negativeInteger": (None, -1),
    XSD + "unsignedLong": (0, 2**64 - 1),
    XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1),
    XSD + "unsignedByte": (0, 2**8 - 1),
}
_NODE_KINDS = {
    SH + "IRI": "isIRI({v})",
    SH + "BlankNode": "isBlank({v})",
    SH + "Literal": "isLiteral({v})",
    SH + "BlankNodeOrIRI": "(isBlank({v}) || isIRI({v}))",
    SH + "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    SH + "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
_COMPARISONS = {
    "minExclusive": ">",
    "minInclusive": ">=",
    "maxExclusive": "<",
    "maxInclusive": "<=",
}
_VALUE_LEVEL = (
    "class",
    "datatype",
    "nodeKind",
    "minExclusive",
    "minInclusive",
    "maxExclusive",
    "maxInclusive",
    "minLength",
    "maxLength",
    "pattern",
    "languageIn",
    "in",
)


@dataclass(frozen=True)
class Focus:
    """The focus nodes of a shape: a SPARQL group pattern that binds ``?this`` once per focus
    node (``pattern``), and one that may bind the same node more than once but is cheaper to
    join (``bag``: class and node targets inline, for queries whose answers are sets)."""

    pattern: str
    bag_pattern: str | None = None
    probe_pattern: str | None = None  # every target pattern, unioned, nothing made distinct
    #: How many times the shape is evaluated at each focus node, where that can be more than
    #: once (SHACL counts each evaluation's results): a pattern binding ?this once per
    #: evaluation. None: once each.
    counted: str | None = None

    @property
    def bag(self) -> str:
        return self.bag_pattern or self.pattern

    @property
    def probe(self) -> str:
        """A pattern binding ?this to every focus node, possibly many times: cheap to ask
        whether there is any (or how many, roughly)."""
        return self.probe_pattern or self.bag

    def renamed(self, var: str) -> str:
        """The pattern with ``?this`` renamed (to nest it inside another pattern)."""
        return sparql_text.substitute_variable(self.pattern, "this", f"?{var}")

    def counted_renamed(self, var: str) -> str | None:
        """:attr:`counted` with ``?this`` renamed (None when each node counts once)."""
        if self.counted is None:
            return None
        return sparql_text.substitute_variable(self.counted, "this", f"?{var}")


@dataclass(frozen=True)
class Unit:
    """A piece of work: a shape over focus nodes; all of it (``piece`` None), all but its
    SPARQL constraints (``"core"``), or one SPARQL constraint (its index)."""

    shape: Shape
    focus: Focus
    include_properties: bool
    piece: str | int | None = None
    path: tuple[str, ...] = ()  # the evaluation path it starts from (see Engine._skipped)


def _pieces(
    shape: Shape, focus: Focus, include_properties: bool, path: tuple[str, ...] = ()
) -> list[Unit]:
    if not shape.sparql:
        return [Unit(shape, focus, include_properties, path=path)]
    out = [Unit(shape, focus, include_properties, "core", path)]
    out.extend(Unit(shape, focus, False, i, path) for i in range(len(shape.sparql)))
    return out


#: pySHACL's limit on nested shape evaluation (``max_validation_depth``): deeper is an error.
MAX_DEPTH = 15


@dataclass(frozen=True)
class Hit:
    """One failure found by a query, before it becomes a :class:`ValidationResult`."""

    focus: str
    component: str
    value: str | None = None
    path: str | None = None  # overrides the shape's path (closed, SPARQL ?path)
    message: str | None = None
    source_constraint: str | None = None
    bindings: tuple[tuple[str, str], ...] = ()
    # for the generated message: the constraint's parameter value (a term, or the members of a
    # list: sh:in, sh:languageIn, sh:and...), a count found (sh:minCount...), and a detail
    param: str | tuple[str, ...] | None = None
    count: int | None = None
    extra: str | None = None
    other: str | None = None  # sh:lessThan(OrEquals): the value compared with (one per pair)
    # which constraint of the shape found it, where two may have the same parameter value
    # (two sh:or lists with the same members are two constraints: two results)
    nth: int = 0


class Engine:
    """Validates a data graph (a :class:`Backend`) against a shapes graph."""

    def __init__(
        self,
        backend: Backend,
        shapes: pyoxigraph.Store,
        ontology: pyoxigraph.Store | None = None,
        prefixes: Mapping[str, str] | None = None,
        *,
        file_prefixes: FilePrefixes | None = None,
    ) -> None:
        self.backend = backend
        #: the data holds literals as written under surrogates (see cica_ld.lexical)
        self.as_written = bool(getattr(backend, "as_written", False))
        self.prefixes: Mapping[str, str] = prefixes if prefixes is not None else _PREFIXES
        self.shapes = ShapesGraph(shapes, file_prefixes)
        self._use_functions(backend)
        self.ontology = ontology
        self._sub: dict[str, list[str]] | None = None
        self._onto_types: dict[str, set[str]] | None = None
        self._closure: dict[str, list[str]] = {}
        self._expr_cache: dict[tuple[str, str], str | None] = {}
        self._failing_cache: dict[tuple[str, str], frozenset[str]] = {}
        self._local = threading.local()  # per-thread: the evaluation path (recursion)
        self._cyclic: dict[str, bool] = {}
        self._sizes: dict[str, int] = {}
        self._units: list[Unit] | None = None
        self._fresh = 0
        # shapes with nested failures (sh:node...) -> the focus nodes they were found among
        self._nested_focus: dict[str, dict[str, Focus]] = {}
        self._nested_lock = threading.Lock()
        self._inner_cache: dict[tuple[str, str], dict[str, list[ValidationResult]]] = {}
        self._pairs_cache: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._values_cache: dict[tuple[str, str], Focus] = {}
        self._weights_cache: dict[str, dict[str, int]] = {}

    def _use_functions(self, backend: Backend) -> None:
        """Give the backend the shapes graph's SHACL functions (sh:SPARQLFunction)."""
        from cica_ld.shacl.functions import read_functions

        functions = read_functions(self.shapes)
        if not functions:
            return
        if not backend.local:
            raise ShapesError(
                "SHACL functions (sh:SPARQLFunction) run only on local data: an endpoint "
                f"cannot call {', '.join(f'<{iri}>' for iri in sorted(functions))}"
            )
        backend.functions = functions  # type: ignore[attr-defined]

    # -----------------------------------------------------------------------------------------
    # Entry point

    def validate(
        self, workers: int = 1, progress: Progress | None = None
    ) -> list[ValidationResult]:
        """All validation results, sorted. ``workers`` > 1 evaluates independent shapes in that
        many threads: pyoxigraph evaluates a query without holding the GIL, and the queries
        return few rows (the failures), so the threads run in parallel on one shared store."""
        units = self.units()
        if progress is not None:
            progress.stage("validating (shapes and constraints)", total=len(units))
        results: list[ValidationResult] = []
        if workers > 1 and len(units) > 1:
            from concurrent.futures import ThreadPoolExecutor, as_completed

            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(self.run_unit, i) for i in range(len(units))]
                for _ in as_completed(futures):
                    if progress is not None:
                        progress.advance()
                for future in futures:  # in order: the first failing piece's error is raised
                    results.extend(future.result())
        else:
            for i in range(len(units)):
                results.extend(self.run_unit(i))
                if progress is not None:
                    progress.advance()
        return self.with_details(sorted(results, key=_result_order))

    # -----------------------------------------------------------------------------------------
    # Nested results (sh:detail)

    def _record(self, shape: Shape, focus: Focus) -> None:
        """Remember that ``shape`` had a nested failure among ``focus`` (to explain it later)."""
        with self._nested_lock:
            self._nested_focus.setdefault(shape.node, {})[focus.pattern] = focus

    def with_details(
        self, results: list[ValidationResult], depth: int = 0, chain: frozenset[str] = frozenset()
    ) -> list[ValidationResult]:
        """Results of sh:node, sh:and, sh:or, sh:xone and sh:qualifiedMinCount with the results
        of the nested shapes that made them fail as ``details`` (SHACL's sh:detail), nested
        up to :data:`DETAIL_DEPTH` levels; a generated message gets the first nested reason."""
        out: list[ValidationResult] = []
        for r in results:
            name = _NESTED.get(r.constraint_component)
            if name is None or depth >= DETAIL_DEPTH or r.source_shape in chain:
                out.append(r)
                continue
            found = self._details(r, name)
            if not found:
                out.append(r)
                continue
            found = self.with_details(found, depth + 1, chain | {r.source_shape})
            shape = self.shapes.shape(r.source_shape)
            message = r.message
            if not shape.messages and message is not None:
                message = _with_reason(message, found)
            out.append(replace(r, details=tuple(found), message=message))
        return out

    def _details(self, r: ValidationResult, name: str) -> list[ValidationResult]:
        shape = self.shapes.shape(r.source_shape)
        if name == "node":
            refs = list(shape.params.get("node", []))
        elif name == "qualifiedMinCount":
            refs = list(shape.params.get("qualifiedValueShape", []))
        else:
            refs = [m for members in shape.lists.get(name, []) for m in members]
        found: set[ValidationResult] = set()
        for focus in list(self._nested_focus.get(shape.node, {}).values()):
            key = (shape.node, focus.pattern)
            values = self._values_cache.get(key)
            if values is None:  # one pattern per focus: the inner results are cached by it
                values = self._values_cache[key] = self.value_focus(shape, focus)
            if name == "qualifiedMinCount":
                pairs = self._pairs_cache.get((shape.node, focus.pattern))
                if pairs is None:
                    pairs = {}
                    for f, v in self._pairs_of(shape, focus):
                        pairs.setdefault(f, set()).add(v)
                    self._pairs_cache[(shape.node, focus.pattern)] = pairs
                nodes = pairs.get(r.focus_node, set())
            else:
                nodes = {r.value} if r.value is not None else set()
            for ref in refs:
                inner = self._inner_results(ref, values)
                for node in nodes:
                    found.update(inner.get(node, ()))
        return sorted(found, key=_result_order)[:DETAIL_LIMIT]

    def _inner_results(self, ref: str, focus: Focus) -> dict[str, list[ValidationResult]]:
        """The results of the shape ``ref`` over ``focus``, by focus node."""
        key = (ref, focus.pattern)
        found = self._inner_cache.get(key)
        if found is None:
            out: list[ValidationResult] = []
            if ref not in self._stack:
                self._report(self.shapes.shape(ref), focus, out)
            found = {}
            for r in dict.fromkeys(out):  # details: each once
                found.setdefault(r.focus_node, []).append(r)
            self._inner_cache[key] = found
        return found

    def units(self) -> list[Unit]:
        """The independent pieces of work. Property shapes of top-level node shapes are
        validated once over the union of their parents' focus nodes (a node that is a focus
        node of several parents counts once per parent, as SHACL validates it once per
        parent). Each SPARQL constraint of a shape is a piece of its own (they are the costly
        ones), and those come first, so parallel workers stay busy."""
        if self._units is None:
            units: list[Unit] = []
            roots = [s for s in self.shapes.target_shapes() if not s.deactivated]
            merged: dict[str, list[Shape]] = {}
            for shape in roots:
                units.extend(_pieces(shape, self.target_focus([shape]), False))
                for prop in self._property_children(shape):
                    merged.setdefault(prop, []).append(shape)
            for prop, parents in sorted(merged.items()):
                pshape = self.shapes.shape(prop)
                if pshape.deactivated:
                    continue
                if all(not p.is_property for p in parents) and not self.cyclic(prop):
                    focus = self.target_focus(parents)
                    if len(parents) > 1:
                        each = [self.target_focus([p]).pattern for p in parents]
                        focus = replace(focus, counted="{ " + " UNION ".join(each) + " }")
                    units.extend(_pieces(pshape, focus, True))
                else:
                    # per parent: a shape in a cycle is evaluated from its parent's path
                    for p in parents:
                        focus = self.value_focus(p, self.target_focus([p]))
                        units.extend(_pieces(pshape, focus, True, (p.node, "property")))
            units.sort(key=lambda u: 0 if isinstance(u.piece, int) else 1)
            self._units = units
        return self._units

    def run_unit(self, index: int) -> list[ValidationResult]:
        unit = self.units()[index]
        stack = self._stack
        stack.extend(unit.path)
        try:
            return self._run_unit(unit)
        finally:
            del stack[len(stack) - len(unit.path) :]

    def _run_unit(self, unit: Unit) -> list[ValidationResult]:
        out: list[ValidationResult] = []
        if isinstance(unit.piece, int):
            shape = unit.shape
            self._add(shape, unit.focus, self.hits(shape, unit.focus, only_sparql=unit.piece), out)
            return out
        self._report(
            unit.shape,
            unit.focus,
            out,
            include_properties=unit.include_properties,
            skip_sparql=unit.piece == "core",
        )
        return out

    def _property_children(self, shape: Shape) -> list[str]:
        return list(shape.properties)

    # -----------------------------------------------------------------------------------------
    # Focus nodes

    def target_focus(self, shapes: Iterable[Shape]) -> Focus:
        """The focus nodes of the targets of ``shapes`` (their union)."""
        shapes = list(shapes)
        nodes: set[str] = set()
        classes: set[str] = set()
        subjects_of: set[str] = set()
        objects_of: set[str] = set()
        for s in shapes:
            nodes.update(n for n in s.target_nodes if not n.startswith("_:"))
            for c in s.target_classes:
                classes.update(self.subclasses(c))
            subjects_of.update(p for p in s.target_subjects_of if p.startswith("<"))
            objects_of.update(p for p in s.target_objects_of if p.startswith("<"))
        parts = []
        if nodes:
            parts.append(f"{{ VALUES ?this {{ {' '.join(sorted(nodes))} }} }}")
        cls = sorted(c for c in classes if c.startswith("<"))
        if len(cls) == 1:
            parts.append(f"{{ ?this {RDF_TYPE} {cls[0]} }}")
        elif cls:
            parts.append(
                f"{{ ?this {RDF_TYPE} ?__cica_type . VALUES ?__cica_type {{ {' '.join(cls)} }} }}"
            )
        inline = list(parts)
        used = [f"{{ ?this {p} ?__cica_o }}" for p in sorted(subjects_of)]
        used += [f"{{ ?__cica_s {p} ?this }}" for p in sorted(objects_of)]
        for s in shapes:
            used.extend(self._sparql_target_pattern(s, t) for t in s.sparql_targets)
        parts.extend(used)
        if not parts:
            return Focus("{ FILTER(false) }")
        pattern = f"{{ SELECT DISTINCT ?this WHERE {{ {' UNION '.join(parts)} }} }}"
        # subjects/objects of a predicate repeat (one per triple): kept distinct in the bag too
        if used:
            inline.append(f"{{ SELECT DISTINCT ?this WHERE {{ {' UNION '.join(used)} }} }}")
        bag = inline[0] if len(inline) == 1 else "{ " + " UNION ".join(inline) + " }"
        return Focus(pattern, bag, "{ " + " UNION ".join(parts) + " }")

    def _sparql_target_pattern(self, shape: Shape, target: SparqlTarget) -> str:
        """A SPARQL-based target as a group pattern binding ?this (a subquery, its prefixes
        written out and its parameters pre-bound). On data holding literals as written, the
        query runs on the data's values (as sh:sparql does) and its focus nodes, when all are
        IRIs and at most ten thousand, are listed; otherwise it is nested in each query as it
        is."""
        text = self._prepare(shape, target.select, target.constants, target.node)
        try:
            body = sparql_text.inline_prefixes(text, target.prefixes)
        except sparql_text.SparqlConstraintError as exc:
            raise ShapesError(f"{target.node}: {exc}", shape=shape.node) from None
        if self.as_written:
            nodes = {f for (f,) in self._user_select(body, ["this"]) if f is not None}
            if len(nodes) <= SMALL_FOCUS * 10 and all(n.startswith("<") for n in nodes):
                if not nodes:
                    return "{ FILTER(false) }"
                return f"{{ VALUES ?this {{ {' '.join(sorted(nodes))} }} }}"
        return f"{{ SELECT DISTINCT ?this WHERE {{ {body} }} }}"

    def value_focus(self, shape: Shape, focus: Focus) -> Focus:
        """The value nodes of ``shape`` for the focus nodes ``focus``, as focus nodes."""
        if not shape.is_property:
            return focus
        var = self._var("p")
        pairs = (
            f"{{ SELECT DISTINCT ?{var} ?this WHERE {{ {focus.renamed(var)} "
            f"?{var} {shape.path_sparql} ?this . }} }}"
        )
        parents = focus.counted_renamed(var)
        return Focus(
            f"{{ SELECT DISTINCT ?this WHERE {{ {focus.renamed(var)} "
            f"?{var} {shape.path_sparql} ?this . }} }}",
            # a value node is a focus node once per (parent evaluation, value) pair
            counted=pairs if parents is None else f"{{ {pairs} {parents} }}",
        )

    # -----------------------------------------------------------------------------------------
    # Recursion, as pySHACL evaluates it
    #
    # The evaluation path is pySHACL's: shape, component, shape, component, ... from a target
    # shape down to the shape being evaluated (components as "property", "node", "not",
    # "qualified", "and", "or", "xone"). pySHACL stops a recursion by that path alone, not by
    # the data: when a shape S, about to evaluate a component K, has been on the path before
    # with the same K, the shape that followed it then is assumed to conform now (K is skipped
    # for it), once the path is long enough (3 rounds of the cycle; 6 for a property shape
    # that points back with sh:node). The same rule here gives the same results, set-based:
    # the unrolled shapes are finitely many, each evaluated over all its focus nodes at once.
    # Recursion through sh:and/or/xone is never skipped: it ends at MAX_DEPTH, an error, as in
    # pySHACL. Shapes from which no cycle is reachable do not depend on the path.

    @property
    def _stack(self) -> list[str]:
        """The evaluation path of this thread (shape nodes and component names, alternating)."""
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @contextlib.contextmanager
    def _entered(self, node: str) -> Iterator[None]:
        """The shape ``node`` is evaluated (pushed on the path)."""
        stack = self._stack
        if len(stack) // 2 >= MAX_DEPTH:
            raise ShapesError(
                "the shapes are nested too deeply (recursion through sh:and, sh:or or sh:xone "
                "never ends; pySHACL stops there too)",
                shape=node,
            )
        stack.append(node)
        try:
            yield
        finally:
            stack.pop()

    @contextlib.contextmanager
    def _via(self, kind: str) -> Iterator[None]:
        """The shape on top of the path evaluates a shape-valued component ``kind``."""
        stack = self._stack
        stack.append(kind)
        try:
            yield
        finally:
            stack.pop()

    def _skipped(self, node: str, kind: str) -> frozenset[str]:
        """The shapes that component ``kind`` of shape ``node`` (the top of the path) skips
        as recursive (pySHACL's ``recursion_triggers``)."""
        flat = [*self._stack, kind]
        n = len(flat)
        if n < 4:
            return frozenset()
        previous = flat[n - 3]
        lookback = 12 if {kind, previous} == {"property", "node"} else 6
        if n < lookback:
            return frozenset()
        return frozenset(
            flat[s + 2]
            for s in range(0, n - 2, 2)
            if flat[s] == node and flat[s + 1] == kind and s + 2 < n
        )

    def cyclic(self, node: str) -> bool:
        """Whether a cycle of shape references is reachable from the shape ``node``."""
        found = self._cyclic.get(node)
        if found is None:
            refs: dict[str, list[str]] = {}
            todo = [node]
            while todo:
                n = todo.pop()
                if n not in refs:
                    refs[n] = shape_refs(self.shapes.shape(n))
                    todo.extend(refs[n])
            # a cycle remains when nodes without (remaining) references are peeled off
            pending = {n: set(r) for n, r in refs.items()}
            changed = True
            while changed:
                changed = False
                for n in [n for n, r in pending.items() if not r]:
                    del pending[n]
                    changed = True
                for r in pending.values():
                    r.intersection_update(pending)
            found = bool(pending)
            self._cyclic[node] = found
        return found

    def _path_key(self, node: str) -> tuple[str, ...]:
        """What the evaluation of ``node`` depends on besides its focus nodes."""
        return tuple(self._stack) if self.cyclic(node) else ()

    def focus_size(self, focus: Focus, limit: int = SMALL_FOCUS) -> int:
        """How many focus nodes there are, roughly: the distinct nodes among the first ``limit``
        bindings (0 exactly when there is none: then no query is needed)."""
        found = self._sizes.get(focus.pattern)
        if found is None:
            query = f"SELECT ?this WHERE {{ {focus.probe} }} LIMIT {limit}"
            found = len({f for (f,) in self._select(query, ["this"])})
            self._sizes[focus.pattern] = found
        return found

    def _var(self, stem: str) -> str:
        self._fresh += 1
        return f"__cica_{stem}{self._fresh}"

    # -----------------------------------------------------------------------------------------
    # Classes

    def _subclass_index(self) -> dict[str, list[str]]:
        if self._sub is None:
            sub: dict[str, list[str]] = {}
            query = f"SELECT ?s ?o WHERE {{ ?s <{RDFS}subClassOf> ?o }}"
            pairs = list(self.backend.select(query, ["s", "o"]))
            if self.ontology is not None:
                pairs += [
                    (str(r["s"]), str(r["o"]))
                    for r in self.ontology.query(query)  # type: ignore[index,union-attr]
                ]
            for s, o in pairs:
                if s is not None and o is not None:
                    sub.setdefault(o, []).append(s)
            self._sub = sub
        return self._sub

    def subclasses(self, cls: str) -> list[str]:
        """``cls`` and every class below it (rdfs:subClassOf*, data and ontology)."""
        found = self._closure.get(cls)
        if found is None:
            index = self._subclass_index()
            seen = {cls}
            todo = [cls]
            while todo:
                c = todo.pop()
                for s in index.get(c, []):
                    if s not in seen:
                        seen.add(s)
                        todo.append(s)
            found = sorted(seen)
            self._closure[cls] = found
        return found

    def _ontology_instances(self, classes: list[str]) -> list[str]:
        if self.ontology is None:
            return []
        if self._onto_types is None:
            types: dict[str, set[str]] = {}
            for r in self.ontology.query(f"SELECT ?s ?t WHERE {{ ?s {RDF_TYPE} ?t }}"):  # type: ignore[union-attr]
                s = str(r["s"])  # type: ignore[index]
                if s.startswith("<"):
                    types.setdefault(str(r["t"]), set()).add(s)  # type: ignore[index]
            self._onto_types = types
        out: set[str] = set()
        for c in classes:
            out |= self._onto_types.get(c, set())
        return sorted(out)

    # -----------------------------------------------------------------------------------------
    # Value-level expressions

    def value_expr(self, shape: Shape, name: str, value: str, v: str) -> str:
        """A SPARQL expression true when the term in variable ``v`` satisfies the value-level
        constraint ``sh:name value`` of ``shape`` (never raises an error: COALESCE)."""
        if name == "class":
            classes = [c for c in self.subclasses(value) if c.startswith("<")]
            if len(classes) == 1:
                data = _exists(f"{v} {RDF_TYPE} {classes[0]}")
            else:
                data = _exists(
                    f"{v} {RDF_TYPE} ?__cica_t . FILTER(?__cica_t IN ({', '.join(classes)}))"
                )
            extra = self._ontology_instances(classes)
            if extra:
                data = f"({data} || {v} IN ({', '.join(extra)}))"
            return data
        if name == "datatype":
            return _datatype_expr(value, v)
        if name == "nodeKind":
            kind = _NODE_KINDS.get(value.strip("<>"))
            if kind is None:
                raise ShapesError(f"unknown sh:nodeKind {value}", shape=shape.node)
            return kind.format(v=v)
        if name in _COMPARISONS:
            return f"COALESCE({self._value_of(v)} {_COMPARISONS[name]} {decode_text(value)}, false)"
        if name in ("minLength", "maxLength"):
            op = ">=" if name == "minLength" else "<="
            return f"COALESCE(!isBlank({v}) && STRLEN(STR({v})) {op} {literal_value(value)}, false)"
        if name == "pattern":
            flags = shape.param("flags")
            flag_text = f", {_string(literal_value(flags))}" if flags else ""
            return (
                f"COALESCE(!isBlank({v}) && REGEX(STR({v}), {_string(literal_value(value))}"
                f"{flag_text}), false)"
            )
        raise AssertionError(name)

    def list_expr(self, shape: Shape, name: str, members: list[str], v: str) -> str:
        if name == "in":
            terms = [m for m in members if not m.startswith("_:")]
            if not terms:
                return "false"
            return "(" + " || ".join(self.same_term(v, t) for t in terms) + ")"
        if name == "languageIn":
            tags = [_string(literal_value(m)) for m in members]
            if not tags:
                return "false"
            matches = " || ".join(f"langMatches(lang({v}), {t})" for t in tags)
            return f"COALESCE(isLiteral({v}) && ({matches}), false)"
        raise AssertionError(name)

    def same_term(self, v: str, term: str) -> str:
        """True when ``v`` is the RDF term ``term`` (an IRI or a literal in N-Triples syntax).

        An IRI is compared with ``=`` (RDFterm-equal: for an IRI the same as sameTerm, and
        false, never an error, against any other term): Virtuoso 7.2 leaves
        ``sameTerm(?v, <iri>)`` unbound outside a FILTER. A literal is compared with sameTerm
        in the embedded store; at an endpoint, a literal without a language tag is compared
        by its datatype and lexical form (the same test), since Virtuoso's sameTerm is false
        for a simple or typed literal and the identical constant."""
        if term.startswith("<"):
            return f"({v} = {term})"
        if self.backend.local or not is_literal(term):
            return f"sameTerm({v}, {term})"
        lit = to_term(term)
        if getattr(lit, "language", None):
            return f"sameTerm({v}, {term})"
        datatype = lit.datatype.value  # type: ignore[attr-defined]
        lexical = _string(lit.value)  # type: ignore[attr-defined]
        return f"(isLiteral({v}) && datatype({v}) = <{datatype}> && STR({v}) = {lexical})"

    def conforms_expr(self, node: str, v: str) -> str | None:
        """A SPARQL expression true when ``v`` conforms to the shape ``node``, if the shape is
        value-level (no path, no property shapes, counts or SPARQL); else None."""
        key = (node, v, self._path_key(node))
        if key in self._expr_cache:
            return self._expr_cache[key]
        with self._entered(node):
            out = self._conforms_expr(self.shapes.shape(node), v)
        self._expr_cache[key] = out
        return out

    def _conforms_expr(self, shape: Shape, v: str) -> str | None:
        if shape.deactivated:
            return "true"
        if shape.is_property or shape.properties or shape.sparql:
            return None
        allowed = set(_VALUE_LEVEL) | {
            "flags",
            "hasValue",
            "node",
            "not",
            "closed",
            "ignoredProperties",
        }
        if any(name not in allowed for name in shape.params):
            return None
        parts: list[str] = []
        for name in _VALUE_LEVEL:
            if name in ("in", "languageIn"):
                for members in shape.lists.get(name, []):
                    parts.append(self.list_expr(shape, name, members, v))
                continue
            for value in shape.params.get(name, []):
                parts.append(self.value_expr(shape, name, value, v))
        for value in shape.params.get("hasValue", []):
            parts.append(self.same_term(v, value))
        for name in ("node", "not"):
            skipped = self._skipped(shape.node, name)
            for ref in shape.params.get(name, []):
                if ref in skipped:
                    continue
                with self._via(name):
                    inner = self.conforms_expr(ref, v)
                if inner is None:
                    return None
                parts.append(inner if name == "node" else f"!({inner})")
        for name in ("and", "or", "xone"):
            for members in shape.lists.get(name, []):
                with self._via(name):
                    exprs = [self.conforms_expr(m, v) for m in members]
                if any(e is None for e in exprs):
                    return None
                parts.append(_logical(name, exprs))  # type: ignore[arg-type]
        if shape.param("closed") == TRUE:
            parts.append(self._closed_ok(shape, v))
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def _closed_ok(self, shape: Shape, v: str) -> str:
        allowed = self._closed_allowed(shape)
        filt = f"FILTER(?__cica_cp NOT IN ({', '.join(allowed)}))" if allowed else ""
        return f"!{_exists(f'{v} ?__cica_cp ?__cica_co . {filt}')}"

    def _closed_allowed(self, shape: Shape) -> list[str]:
        allowed: set[str] = set()
        for prop in shape.properties:
            p = self.shapes.shape(prop)
            if p.path is not None and p.path.startswith("<"):
                allowed.add(p.path)
        for members in shape.lists.get("ignoredProperties", []):
            allowed.update(m for m in members if m.startswith("<"))
        return sorted(allowed)

    # -----------------------------------------------------------------------------------------
    # Evaluating a shape

    def _report(
        self,
        shape: Shape,
        focus: Focus,
        out: list[ValidationResult],
        *,
        include_properties: bool = True,
        skip_sparql: bool = False,
    ) -> None:
        """Add the results of ``shape`` over ``focus`` to ``out`` (``skip_sparql``: without its
        own SPARQL constraints, evaluated as separate pieces)."""
        if shape.deactivated:
            return
        self._add(shape, focus, self.hits(shape, focus, skip_sparql=skip_sparql), out)
        if not include_properties or not shape.properties:
            return
        children_focus = self.value_focus(shape, focus)
        with self._entered(shape.node):
            skipped = self._skipped(shape.node, "property")
            with self._via("property"):
                for prop in shape.properties:
                    if prop not in skipped:
                        self._report(self.shapes.shape(prop), children_focus, out)

    def _add(
        self, shape: Shape, focus: Focus, hits: Iterable[Hit], out: list[ValidationResult]
    ) -> None:
        """Add the results of ``hits`` to ``out``: each distinct hit once per evaluation of the
        shape at its focus node (:attr:`Focus.counted`). A hit found twice by one evaluation
        is one failure (the focus patterns may bind a node more than once); distinct hits stay
        distinct results even where the results read the same (one per sh:lessThan pair, per
        language tag of sh:uniqueLang, per constraint)."""
        found = list(dict.fromkeys(hits))
        if not found:
            return
        weights = self._weights(focus) if focus.counted is not None else {}
        for hit in found:
            result = self._result(shape, hit)
            out.extend([result] * weights.get(hit.focus, 1))

    def _weights(self, focus: Focus) -> dict[str, int]:
        """The focus nodes evaluated more than once, and how many times (from
        :attr:`Focus.counted`)."""
        key = focus.counted or ""
        found = self._weights_cache.get(key)
        if found is None:
            query = (
                f"SELECT ?this (COUNT(*) AS ?n) WHERE {{ {focus.counted} }} "
                "GROUP BY ?this HAVING (COUNT(*) > 1)"
            )
            found = {
                f: int(literal_value(n))
                for f, n in self._select(query, ["this", "n"])
                if f is not None and n is not None
            }
            self._weights_cache[key] = found
        return found

    def _result(self, shape: Shape, hit: Hit) -> ValidationResult:
        path = hit.path if hit.path is not None else shape.path_sparql
        message = hit.message
        if message is None:
            message = _pick_message(shape.messages)
            if message is not None:
                message = _fill_template(message, hit)
        if message is None:
            message = _default_message(shape, hit, self.prefixes)
        return ValidationResult(
            focus_node=decode_text(hit.focus),
            source_shape=shape.node,
            constraint_component=hit.component,
            severity=shape.severity,
            severity_iri=custom_severity(shape.severity_iri),
            path=path,
            value=decode_text(hit.value) if hit.value is not None else None,
            message=message,
            source_constraint=hit.source_constraint,
        )

    def hits(
        self,
        shape: Shape,
        focus: Focus,
        *,
        skip_sparql: bool = False,
        only_sparql: int | None = None,
    ) -> Iterator[Hit]:
        """Every failure of the shape's own constraints (not of its property shapes); or of
        its SPARQL constraints but not those (``skip_sparql``); or of one SPARQL constraint
        alone (``only_sparql``: its index in ``shape.sparql``)."""
        if self.focus_size(focus) == 0:
            return
        with self._entered(shape.node):
            if only_sparql is not None:
                constraint = shape.sparql[only_sparql]
                if not constraint.deactivated:
                    yield from self._sparql(shape, constraint, focus)
                return
            yield from self._value_level(shape, focus)
            yield from self._counts(shape, focus)
            yield from self._has_value(shape, focus)
            yield from self._unique_lang(shape, focus)
            yield from self._pairs(shape, focus)
            yield from self._closed(shape, focus)
            yield from self._nested(shape, focus)
            yield from self._qualified(shape, focus)
            for constraint in shape.sparql:
                if not constraint.deactivated and not skip_sparql:
                    yield from self._sparql(shape, constraint, focus)
            for comp in self.shapes.components():
                yield from self._custom(shape, comp, focus)

    def failing(self, node: str, focus: Focus) -> frozenset[str]:
        """The focus nodes (among ``focus``) that do not conform to the shape ``node``."""
        key = (node, focus.pattern, self._path_key(node))
        found = self._failing_cache.get(key)
        if found is not None:
            return found
        shape = self.shapes.shape(node)
        out: set[str] = set()
        if not shape.deactivated:
            out.update(h.focus for h in self.hits(shape, focus))
            with self._entered(node):
                skipped = self._skipped(node, "property")
                with self._via("property"):
                    for prop in shape.properties:
                        if prop in skipped:
                            continue
                        pshape = self.shapes.shape(prop)
                        if not shape.is_property:
                            out |= self.failing(prop, focus)
                            continue
                        # a property shape's property shapes apply to its value nodes
                        bad_values = self.failing(pshape.node, self.value_focus(shape, focus))
                        if bad_values:
                            for f, val in self._pairs_of(shape, focus):
                                if val in bad_values:
                                    out.add(f)
        found = frozenset(out)
        self._failing_cache[key] = found
        return found

    def _select(self, query: str, variables: list[str]) -> Iterator[tuple[str | None, ...]]:
        return self.backend.select(query, variables)

    def _value_of(self, v: str) -> str:
        """The SPARQL expression comparing the value of ``v`` (a surrogate as its value)."""
        return sparql_value(v) if self.as_written else v

    def _user_backend(self) -> tuple[Backend, dict[str, str]]:
        """Where SPARQL written by users runs: on data holding surrogates, a copy with the
        store's values (their comparisons see numbers and dates), and the map restoring
        values to the literals as written."""
        values = getattr(self.backend, "values", None)
        if not self.as_written or values is None:
            return self.backend, {}
        return values()

    def _user_select(
        self, query: str, variables: list[str], *, focus: Focus | None = None
    ) -> Iterator[tuple[str | None, ...]]:
        """Rows of a user-written query (per focus node with ``focus``), values as written."""
        backend, restore = self._user_backend()
        if focus is None:
            rows = backend.select(query, variables)
        else:
            rows = (
                row
                for node in self._focus_nodes(focus)
                for row in backend.select_bound(query, variables, "this", node)
            )
        for row in rows:  # a blank-node parameter value the query gives back is itself again
            yield tuple(
                from_parameter_term(restore.get(t, t)) if t is not None else None for t in row
            )

    def _value_pattern(self, shape: Shape) -> str:
        if shape.is_property:
            return f"?this {shape.path_sparql} ?value ."
        return "BIND(?this AS ?value)"

    def _pairs_of(self, shape: Shape, focus: Focus) -> list[tuple[str, str]]:
        """Every (focus node, value node) pair of the shape."""
        query = f"SELECT DISTINCT ?this ?value WHERE {{ {focus.bag} {self._value_pattern(shape)} }}"
        return [(f, v) for f, v in self._select(query, ["this", "value"]) if f and v]  # type: ignore[misc]

    # -- value-level components, one query

    def _value_checks(self, shape: Shape) -> list[tuple[str, str, str | tuple[str, ...]]]:
        """(component IRI, expression over ?value, parameter value) for every value-level
        constraint."""
        checks: list[tuple[str, str, str | tuple[str, ...]]] = []
        for name in _VALUE_LEVEL:
            if name in ("in", "languageIn"):
                for members in shape.lists.get(name, []):
                    expr = self.list_expr(shape, name, members, "?value")
                    checks.append((component(name), expr, tuple(members)))
                continue
            for value in shape.params.get(name, []):
                expr = self.value_expr(shape, name, value, "?value")
                checks.append((component(name), expr, value))
        for name in ("node", "not"):
            skipped = self._skipped(shape.node, name)
            for ref in shape.params.get(name, []):
                if ref in skipped:
                    continue
                with self._via(name):
                    inner = self.conforms_expr(ref, "?value")
                if inner is not None:
                    expr = inner if name == "node" else f"!({inner})"
                    checks.append((component(name), expr, ref))
        for name in ("and", "or", "xone"):
            for members in shape.lists.get(name, []):
                with self._via(name):
                    exprs = [self.conforms_expr(m, "?value") for m in members]
                if all(e is not None for e in exprs):
                    expr = _logical(name, exprs)  # type: ignore[arg-type]
                    checks.append((component(name), expr, tuple(members)))
        if not shape.is_property:
            for value in shape.params.get("hasValue", []):
                checks.append(("hasValue-node", self.same_term("?value", value), value))
        return checks

    def _value_level(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        checks = self._value_checks(shape)
        if not checks:
            return
        binds = "\n".join(
            f"BIND(COALESCE({expr}, false) AS ?k{i})" for i, (_c, expr, _p) in enumerate(checks)
        )
        # ``?k = false``, not ``!?k``: with FILTER(!?k), Virtuoso 7.2 projects ?k negated
        failing = " || ".join(f"?k{i} = false" for i in range(len(checks)))
        names = [f"k{i}" for i in range(len(checks))]
        query = (
            f"SELECT DISTINCT ?this ?value {' '.join('?' + n for n in names)} WHERE {{\n"
            f"{focus.bag}\n{self._value_pattern(shape)}\n{binds}\nFILTER({failing})\n}}"
        )
        for row in self._select(query, ["this", "value", *names]):
            f, val = row[0], row[1]
            if f is None:
                continue
            for i, ((comp, _expr, param), flag) in enumerate(zip(checks, row[2:], strict=True)):
                if not _flag(flag):
                    if comp == "hasValue-node":
                        yield Hit(f, component("hasValue"), param=param)
                    else:
                        if comp in _NESTED:
                            self._record(shape, focus)
                        yield Hit(f, comp, value=val, param=param, nth=i)

    # -- cardinality

    def _counts(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        if not shape.is_property:
            return
        lo_term = shape.param("minCount")
        hi_term = shape.param("maxCount")
        lo = int(literal_value(lo_term)) if lo_term is not None else None
        hi = int(literal_value(hi_term)) if hi_term is not None else None
        path = shape.path_sparql
        if lo is not None and lo <= 0:
            lo = None  # never fails
        queries: list[tuple[str, str]] = []
        if lo is not None and hi is not None:
            # both in one pass: the count of every focus node, reported where out of range
            queries.append(
                (
                    "both",
                    f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus.bag} "
                    f"OPTIONAL {{ ?this {path} ?value }} }} GROUP BY ?this "
                    f"HAVING (COUNT(DISTINCT ?value) < {lo} || COUNT(DISTINCT ?value) > {hi})",
                )
            )
        else:
            if lo == 1:
                without = _without(f"?this {path} ?value", path)
                queries.append(("min", f"SELECT ?this WHERE {{ {focus.bag} {without} }}"))
            elif lo is not None:
                queries.append(
                    (
                        "min",
                        f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus.bag} "
                        f"OPTIONAL {{ ?this {path} ?value }} }} "
                        f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {lo})",
                    )
                )
            if hi == 0:
                queries.append(
                    (
                        "max",
                        f"SELECT DISTINCT ?this WHERE {{ {focus.bag} ?this {path} ?value }}",
                    )
                )
            elif hi == 1:
                # two different values: a self-join is cheaper than grouping every focus node
                queries.append(
                    (
                        "max",
                        f"SELECT DISTINCT ?this WHERE {{ {focus.bag} ?this {path} ?value . "
                        f"?this {path} ?__cica_v2 . FILTER(!sameTerm(?value, ?__cica_v2)) }}",
                    )
                )
            elif hi is not None:
                queries.append(
                    (
                        "max",
                        f"SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus.bag} "
                        f"?this {path} ?value . }} "
                        f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {hi})",
                    )
                )
        for kind, query in queries:
            for f, n_term in self._select(query, ["this", "n"]):
                if f is None:
                    continue
                if kind != "both":
                    if n_term is not None:
                        count: int | None = int(literal_value(n_term))
                    else:  # a query that finds the failures without counting
                        count = 0 if kind == "min" else None
                    yield Hit(
                        f,
                        component(f"{kind}Count"),
                        param=lo_term if kind == "min" else hi_term,
                        count=count,
                    )
                    continue
                n = int(literal_value(n_term)) if n_term is not None else 0
                if lo is not None and n < lo:
                    yield Hit(f, component("minCount"), param=lo_term, count=n)
                if hi is not None and n > hi:
                    yield Hit(f, component("maxCount"), param=hi_term, count=n)

    def _has_value(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        if not shape.is_property:
            return  # node shapes: a value-level check
        for value in shape.params.get("hasValue", []):
            query = (
                f"SELECT ?this WHERE {{ {focus.bag} "
                f"{_without(f'?this {shape.path_sparql} {value}', shape.path_sparql)} }}"
            )
            for (f,) in self._select(query, ["this"]):
                if f is not None:
                    yield Hit(f, component("hasValue"), param=value)

    def _unique_lang(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        if shape.param("uniqueLang") != TRUE or not shape.is_property:
            return
        path = shape.path_sparql
        query = (
            f"SELECT DISTINCT ?this ?lang WHERE {{ {focus.bag} "
            f"?this {path} ?a . ?this {path} ?b . "
            f'BIND(LCASE(LANG(?a)) AS ?lang) FILTER(?lang != "" && ?a != ?b && '
            f"LCASE(LANG(?b)) = ?lang) }}"
        )
        for f, lang in self._select(query, ["this", "lang"]):
            if f is not None:
                yield Hit(f, component("uniqueLang"), extra=literal_value(lang) if lang else None)

    # -- property pairs

    def _pairs(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        vp = self._value_pattern(shape)
        for other in shape.params.get("equals", []):
            if shape.is_property:
                not_value = _without(f"?this {shape.path_sparql} ?value", shape.path_sparql)
            else:  # the only value node is the focus node itself
                not_value = "FILTER(!sameTerm(?this, ?value))"
            queries = (
                f"SELECT DISTINCT ?this ?value WHERE {{ {focus.bag} {vp} "
                f"FILTER NOT EXISTS {{ ?this {other} ?value }} }}",
                f"SELECT DISTINCT ?this ?value WHERE {{ {focus.bag} ?this {other} ?value . "
                f"{not_value} }}",
            )
            for direction, query in zip(("missing", "extra"), queries, strict=True):
                for f, v in self._select(query, ["this", "value"]):
                    if f is not None:
                        yield Hit(f, component("equals"), value=v, param=other, extra=direction)
        for other in shape.params.get("disjoint", []):
            query = (
                f"SELECT DISTINCT ?this ?value WHERE {{ {focus.bag} {vp} ?this {other} ?value . }}"
            )
            for f, v in self._select(query, ["this", "value"]):
                if f is not None:
                    yield Hit(f, component("disjoint"), value=v, param=other)
        for name, op in (("lessThan", "<"), ("lessThanOrEquals", "<=")):
            for other in shape.params.get(name, []):
                # one result per pair of a value node and a value of ``other``
                query = (
                    f"SELECT DISTINCT ?this ?value ?__cica_other WHERE {{ {focus.bag} {vp} "
                    f"?this {other} ?__cica_other . "
                    f"FILTER(!COALESCE({self._value_of('?value')} {op} "
                    f"{self._value_of('?__cica_other')}, false)) }}"
                )
                for f, v, o in self._select(query, ["this", "value", "__cica_other"]):
                    if f is not None:
                        yield Hit(f, component(name), value=v, param=other, other=o)

    # -- closed

    def _closed(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        if shape.param("closed") != TRUE:
            return
        allowed = self._closed_allowed(shape)
        filt = f"FILTER(?p NOT IN ({', '.join(allowed)}))" if allowed else ""
        query = (
            f"SELECT DISTINCT ?this ?p ?o WHERE {{ {focus.bag} {self._value_pattern(shape)} "
            f"?value ?p ?o . {filt} }}"
        )
        for f, p, o in self._select(query, ["this", "p", "o"]):
            if f is not None:
                yield Hit(f, CLOSED, value=o, path=p)

    # -- shape-valued components over shapes that are not value-level

    def _nested(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        pending: list[tuple[str, list[str]]] = []
        for name in ("node", "not"):
            skipped = self._skipped(shape.node, name)
            for ref in shape.params.get(name, []):
                if ref in skipped:
                    continue  # recursion: assumed to conform, as pySHACL does
                with self._via(name):
                    if self.conforms_expr(ref, "?value") is None:
                        pending.append((name, [ref]))
        for name in ("and", "or", "xone"):
            for members in shape.lists.get(name, []):
                with self._via(name):
                    if any(self.conforms_expr(m, "?value") is None for m in members):
                        pending.append((name, members))
        if not pending:
            return
        values = self.value_focus(shape, focus)
        pairs = self._pairs_of(shape, focus)
        for nth, (name, members) in enumerate(pending):
            with self._via(name):
                bad = [self.failing(m, values) for m in members]
            for f, v in pairs:
                ok = [v not in b for b in bad]
                if name == "node":
                    fail = not ok[0]
                elif name == "not":
                    fail = ok[0]
                elif name == "and":
                    fail = not all(ok)
                elif name == "or":
                    fail = not any(ok)
                else:
                    fail = sum(ok) != 1
                if fail:
                    self._record(shape, focus)
                    yield Hit(
                        f,
                        component(name),
                        value=v,
                        param=members[0] if name in ("node", "not") else tuple(members),
                        count=sum(ok),
                        nth=nth,
                    )

    def _qualified(self, shape: Shape, focus: Focus) -> Iterator[Hit]:
        q_shapes = shape.params.get("qualifiedValueShape", [])
        if not q_shapes or not shape.is_property:
            return
        lo = shape.param("qualifiedMinCount")
        hi = shape.param("qualifiedMaxCount")
        if lo is None and hi is None:
            return
        disjoint = shape.param("qualifiedValueShapesDisjoint") == TRUE
        siblings = self._siblings(shape) if disjoint else []
        values = self.value_focus(shape, focus)
        pairs = self._pairs_of(shape, focus)
        focus_nodes = self._focus_nodes(focus)
        skipped = self._skipped(shape.node, "qualified")
        for q in q_shapes:
            if q in skipped:
                continue  # recursion: skipped, as pySHACL does
            with self._via("qualified"):
                bad = self.failing(q, values)
                sibling_bad = [self.failing(s, values) for s in siblings if s != q]
            counts: dict[str, int] = dict.fromkeys(focus_nodes, 0)
            for f, v in pairs:
                if v in bad:
                    continue
                if any(v not in b for b in sibling_bad):
                    continue  # conforms to a sibling shape too
                counts[f] = counts.get(f, 0) + 1
            for f, n in counts.items():
                if lo is not None and n < int(literal_value(lo)):
                    self._record(shape, focus)
                    yield Hit(f, component("qualifiedMinCount"), param=(q, lo), count=n)
                if hi is not None and n > int(literal_value(hi)):
                    yield Hit(f, component("qualifiedMaxCount"), param=(q, hi), count=n)

    def _siblings(self, shape: Shape) -> list[str]:
        out: list[str] = []
        for parent in self.shapes.parents(shape.node):
            for prop in self.shapes.shape(parent).properties:
                if prop == shape.node:
                    continue
                out.extend(self.shapes.shape(prop).params.get("qualifiedValueShape", []))
        return out

    def _focus_nodes(self, focus: Focus) -> list[str]:
        query = f"SELECT DISTINCT ?this WHERE {{ {focus.bag} }}"
        return [f for (f,) in self._select(query, ["this"]) if f is not None]

    # -- SHACL-SPARQL

    def _sparql(self, shape: Shape, constraint, focus: Focus) -> Iterator[Hit]:
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(constraint.prefixes.items()))
        yield from self._select_constraint(
            shape,
            prologue + constraint.select,
            focus,
            component=SPARQL_COMPONENT,
            source=constraint.node,
            messages=constraint.messages,
            constants={},
        )

    def _prepare(self, shape: Shape, text: str, constants: dict[str, str], source: str) -> str:
        """Substitute $PATH, $currentShape and parameter values into a query's text (refused if
        it nests past the nesting limit, before anything parses it)."""
        from cica_ld.errors import InputError
        from cica_ld.query import check_nesting

        try:
            check_nesting(text, origin="query")
        except InputError as exc:
            raise ShapesError(f"{source}: {exc}", shape=shape.node) from None
        try:
            if _mentions(text, "PATH"):
                if shape.path_sparql is None:
                    raise sparql_text.SparqlConstraintError("$PATH is used in a node shape")
                text = sparql_text.substitute_variable(text, "PATH", shape.path_sparql)
            if _mentions(text, "currentShape"):
                if shape.node.startswith("_:"):
                    raise sparql_text.SparqlConstraintError(
                        "$currentShape of a blank-node shape cannot be named in a query"
                    )
                text = sparql_text.substitute_variable(text, "currentShape", shape.node)
            if _mentions(text, "shapesGraph"):
                raise sparql_text.SparqlConstraintError("$shapesGraph is not supported")
            for name, term in constants.items():
                term = parameter_term(decode_text(term))  # a parameter's value as written
                text = sparql_text.substitute_variable(text, name, term)
        except sparql_text.SparqlConstraintError as exc:
            raise ShapesError(f"{source}: {exc}", shape=shape.node) from None
        return text

    def _select_constraint(
        self,
        shape: Shape,
        text: str,
        focus: Focus,
        *,
        component: str,
        source: str,
        messages: list[str],
        constants: dict[str, str],
    ) -> Iterator[Hit]:
        """A SELECT query with ``$this`` pre-bound: each solution is a failure."""
        text = self._prepare(shape, text, constants, source)
        try:
            analysis = sparql_text.analyse(text)
            variables = sparql_text.projected_variables(text)
        except sparql_text.SparqlConstraintError as exc:
            raise ShapesError(f"{source}: {exc}", shape=shape.node) from None
        wanted = sorted(set(variables) | {"this", "value", "path", "failure"})
        if analysis.mode == "join":
            # repeated focus nodes only repeat solutions, unless the query aggregates
            pattern = focus.pattern if analysis.aggregates else focus.bag
            small = self.focus_size(focus) < SMALL_FOCUS
            # a remote store may be Virtuoso: no FILTER reading outer variables in an OPTIONAL
            query = sparql_text.join_query(
                text, pattern, restrict_exists=small, lift_filters=self.backend.local
            )
            rows = self._user_select(query, wanted)
        elif analysis.mode == "lateral" and self.backend.local:
            rows = self._user_select(sparql_text.lateral_query(text, focus.pattern), wanted)
        else:
            rows = self._user_select(text, wanted, focus=focus)
        index = {v: i for i, v in enumerate(wanted)}
        message = _pick_message(messages)
        for row in rows:
            f = row[index["this"]]
            if f is None:
                continue
            failure = row[index["failure"]]
            if failure is not None and failure == TRUE:
                raise ShapesError(f"{source} reported a failure for {f}", shape=shape.node)
            value = row[index["value"]]
            if value is None and not shape.is_property:
                value = f
            path = row[index["path"]]
            bindings = tuple(constants.items()) + tuple(
                (v, row[index[v]]) for v in variables if row[index[v]] is not None
            )
            hit = Hit(
                f,
                component,
                value=value,
                path=path if path is not None and path.startswith("<") else None,
                source_constraint=source,
                bindings=bindings,  # type: ignore[arg-type]
            )
            if message is not None:
                hit = Hit(**{**hit.__dict__, "message": _fill_template(message, hit)})
            yield hit

    def _custom(self, shape: Shape, comp, focus: Focus) -> Iterator[Hit]:
        """A SPARQL-based constraint component the shape uses (it has every non-optional
        parameter), once per combination of parameter values."""
        g = self.shapes.graph
        values: list[list[tuple[str, str]]] = []
        for p in comp.parameters:
            found = g.objects(shape.node, p.path.strip("<>"))
            if not found:
                if not p.optional:
                    return
                continue
            values.append([(p.name, v) for v in found])
        if not values:
            return
        validator = comp.for_shape(shape.is_property)
        if validator is None:
            return
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(validator.prefixes.items()))
        messages = validator.messages or comp.messages
        for combo in itertools.product(*values):
            constants = dict(combo)
            if validator.kind == "select":
                yield from self._select_constraint(
                    shape,
                    prologue + validator.text,
                    focus,
                    component=comp.node.strip("<>"),
                    source=validator.node,
                    messages=messages,
                    constants=constants,
                )
                continue
            yield from self._ask(shape, comp, validator, prologue, constants, focus, messages)

    def _ask(self, shape, comp, validator, prologue, constants, focus, messages) -> Iterator[Hit]:
        """An ASK validator: each value node for which the ASK query is false fails."""
        text = self._prepare(shape, prologue + validator.text, constants, validator.node)
        try:
            body = sparql_text.ask_body(text, frozenset({"this", "value"}))
        except sparql_text.SparqlConstraintError as exc:
            raise ShapesError(f"{validator.node}: {exc}", shape=shape.node) from None
        head = text[: sparql_text.prologue_end(text)]
        query = (
            f"{head}SELECT DISTINCT ?this ?value WHERE {{ {focus.bag} "
            f"{self._value_pattern(shape)} FILTER NOT EXISTS {{ {body} }} }}"
        )
        message = _pick_message(messages)
        for f, v in self._user_select(query, ["this", "value"]):
            if f is None:
                continue
            hit = Hit(
                f,
                comp.node.strip("<>"),
                value=v,
                source_constraint=validator.node,
                bindings=tuple(constants.items()),
            )
            if message is not None:
                hit = Hit(**{**hit.__dict__, "message": _fill_template(message, hit)})
            yield hit


# ---------------------------------------------------------------------------------------------
# Helpers


def _without(pattern: str, path: str | None) -> str:
    """An anti-join: no solution of the triple/path ``pattern`` compatible with the current
    one (whose ``?this``, and ``?value`` where used, are bound). A single predicate is looked
    up per solution (``FILTER NOT EXISTS``); a longer path is evaluated once and subtracted
    (``MINUS``), since Oxigraph plans a path inside EXISTS without knowing its start is bound.
    Both mean the same here: every variable of the pattern is bound on the left."""
    if path is not None and re.fullmatch(r"<[^<>\s]*>", path):
        return f"FILTER NOT EXISTS {{ {pattern} }}"
    return f"MINUS {{ {pattern} }}"


def _mentions(text: str, name: str) -> bool:
    return any(t.kind == "var" and t.var_name == name for t in sparql_text.tokenize(text))


def _exists(pattern: str) -> str:
    """``EXISTS { pattern }`` as an expression that may be an operand of ``||``/``&&``:
    Virtuoso 7.2 refuses an EXISTS there (error SQ074) but takes it as the condition of IF."""
    return f"IF(EXISTS {{ {pattern} }}, true, false)"


def _flag(term: str | None) -> bool:
    """A projected boolean flag: ``true`` (Virtuoso answers booleans as the integers 1/0)."""
    return term in (TRUE, _ONE)


_ONE = f'"1"^^<{XSD}integer>'


def _string(value: str) -> str:
    """A SPARQL string literal."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _logical(name: str, exprs: list[str]) -> str:
    if name == "and":
        return "(" + " && ".join(exprs) + ")" if exprs else "true"
    if name == "or":
        return "(" + " || ".join(exprs) + ")" if exprs else "false"
    ones = " + ".join(f"IF({e}, 1, 0)" for e in exprs)
    return f"({ones} = 1)" if exprs else "false"


def _datatype_expr(dt: str, v: str) -> str:
    iri = dt.strip("<>")
    if iri == RDF + "langString":
        return f'(isLiteral({v}) && lang({v}) != "")'
    base = f"isLiteral({v}) && datatype({v}) = {dt}"
    if iri.startswith(XSD) and iri != XSD + "string":  # or the surrogate of a literal as written
        base = f"isLiteral({v}) && datatype({v}) IN ({dt}, <{SURROGATE}{iri}>)"
    if iri in _CASTABLE:
        return f"({base} && COALESCE(isLiteral({dt}(STR({v}))), false))"
    if iri in _INTEGER_RANGES:
        lo, hi = _INTEGER_RANGES[iri]
        checks = [f"isLiteral(<{XSD}integer>(STR({v})))"]
        if lo is not None:
            checks.append(f"<{XSD}integer>(STR({v})) >= {_bound(lo)}")
        if hi is not None:
            checks.append(f"<{XSD}integer>(STR({v})) <= {_bound(hi)}")
        return f"({base} && COALESCE({' && '.join(checks)}, false))"
    return f"({base})"


def _bound(n: int) -> str:
    """An integer bound as SPARQL: the query parser reads ``-9223372036854775808`` as minus an
    integer too large for Oxigraph, so bounds are typed literals (decimal past 64 bits)."""
    if -(2**63) <= n < 2**63:
        return f'"{n}"^^<{XSD}integer>'
    return f'"{n}"^^<{XSD}decimal>'


def _pick_message(messages: list[str]) -> str | None:
    """One of a shape's sh:message values: English or without language tag first."""
    if not messages:
        return None
    best = sorted(messages, key=lambda m: (0 if ('"@en' in m or m.endswith('"')) else 1, m))
    return literal_value(best[0])


_TEMPLATE = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def _fill_template(message: str, hit: Hit) -> str:
    """``{?var}``/``{$var}`` in a message replaced by the bindings of the result."""
    values = dict(hit.bindings)
    values.setdefault("this", hit.focus)
    if hit.value is not None:
        values.setdefault("value", hit.value)
    return _TEMPLATE.sub(lambda m: _display(values.get(m.group(1))) or m.group(0), message)


def _display(term: str | None) -> str | None:
    if term is None:
        return None
    if is_literal(term):
        return literal_value(term)
    return term.strip("<>")


_NESTED = {component(n): n for n in ("node", "and", "or", "xone", "qualifiedMinCount")}
#: IRIs in generated messages are abbreviated with these prefixes (unless given others).
_PREFIXES = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "sh": SH}
_NUMERIC = frozenset(XSD + n for n in ("integer", "decimal", "float", "double")) | frozenset(
    _INTEGER_RANGES
)
_ORDERED = {"minExclusive": ">", "minInclusive": ">=", "maxExclusive": "<", "maxInclusive": "<="}


def _with_reason(message: str, details: list[ValidationResult]) -> str:
    """A generated message followed by the first nested reason (and how many more)."""
    first = details[0].message or details[0].constraint_component.rsplit("#", 1)[-1]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{message}: {first}{more}"


def _short(term: str | None, prefixes: Mapping[str, str]) -> str:
    """A term as a message shows it: ``prefix:local`` or ``<iri>``, a number as written, a
    string quoted, other literals with their (abbreviated) datatype."""
    if term is None:
        return "(none)"
    if term.startswith("_:"):
        return "a blank node"
    term = decode_text(term)  # a literal (or datatype) as written, never its surrogate
    if term.startswith("<"):
        from cica_ld.validation import abbreviate

        return abbreviate(term, prefixes)
    lit = to_term(term)
    lexical = lit.value  # type: ignore[attr-defined]
    shown = lexical if len(lexical) <= 60 else lexical[:57] + "..."
    quoted = _quoted(lexical)
    if lit.language:  # type: ignore[attr-defined]
        return f"{quoted}@{lit.language}"  # type: ignore[attr-defined]
    dt = lit.datatype.value  # type: ignore[attr-defined]
    if dt in _NUMERIC and _number(term) is not None:
        return shown
    if dt == XSD + "string":
        return quoted
    return f"{quoted}^^{_short(f'<{dt}>', prefixes)}"


def _quoted(lexical: str) -> str:
    """A lexical form in double quotes (escaped; shortened past 60 characters)."""
    shown = lexical if len(lexical) <= 60 else lexical[:57] + "..."
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(term: str) -> float | None:
    if not is_literal(term):
        return None
    lit = to_term(term)
    if lit.datatype.value not in _NUMERIC:  # type: ignore[attr-defined]
        return None
    try:
        return float(lit.value)  # type: ignore[attr-defined]
    except ValueError:
        return None


def _comparable(value: str | None, bound: str) -> bool:
    """Whether a value and a range bound compare (numbers; the same date/time/string type)."""
    if value is None or not is_literal(value) or not is_literal(bound):
        return False
    if _number(value) is not None and _number(bound) is not None:
        return True
    a, b = to_term(value), to_term(bound)
    same = a.datatype == b.datatype  # type: ignore[attr-defined]
    simple = (XSD + "string", XSD + "date", XSD + "dateTime", XSD + "time", XSD + "gYear")
    if not same or a.datatype.value not in simple:  # type: ignore[attr-defined]
        return False
    from datetime import date, datetime, time

    parse = {XSD + "date": date.fromisoformat, XSD + "dateTime": datetime.fromisoformat}
    parse[XSD + "time"] = time.fromisoformat
    check = parse.get(a.datatype.value)  # type: ignore[attr-defined]
    if check is None:
        return True
    try:
        check(a.value), check(b.value)  # type: ignore[attr-defined]
    except ValueError:
        return False
    return True


def _kind(term: str | None) -> str:
    if term is None:
        return "nothing"
    if term.startswith("<"):
        return "an IRI"
    if term.startswith("_:"):
        return "a blank node"
    return "a literal"


def _shape_ref(ref: str, prefixes: Mapping[str, str]) -> str:
    return _short(ref, prefixes) if ref.startswith("<") else "a nested shape"


def _listed(items: Iterable[str], limit: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _default_message(shape: Shape, hit: Hit, prefixes: Mapping[str, str]) -> str:
    """The message of a result whose shape gives none: what the constraint asks, with its
    parameter's value (the datatype, the maximum, the pattern, the count...)."""
    local = hit.component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    key = local[0].lower() + local[1:]
    p, v = hit.param, hit.value

    def sh(t: str | None) -> str:
        return _short(t, prefixes)

    if hit.component == SPARQL_COMPONENT:
        return "the SPARQL constraint reports a violation"
    if key == "class" and isinstance(p, str):
        return f"value is not an instance of {sh(p)} (sh:class)"
    if key == "datatype" and isinstance(p, str):
        why = f"it is {_kind(v)}"
        if v is not None and is_literal(v):
            lit = to_term(v)
            dt = f"<{lit.datatype.value}>"  # type: ignore[attr-defined]
            if dt == p:
                lexical = _quoted(literal_value(v))
                return f"value {lexical} is not a valid {sh(p)} (ill-formed; sh:datatype)"
            why = f"it is {'a language-tagged string' if lit.language else sh(dt)}"  # type: ignore[attr-defined]
        return f"value does not have datatype {sh(p)} ({why})"
    if key == "nodeKind" and isinstance(p, str):
        return f"value is not of node kind {sh(p)} (it is {_kind(v)})"
    if key in _ORDERED and isinstance(p, str):
        limit = "minimum" if key.startswith("min") else "maximum"
        if not _comparable(v, p):
            return f"value {sh(v)} cannot be compared with the {limit} {sh(p)} (sh:{key})"
        relation = {
            "minExclusive": "is not greater than",
            "minInclusive": "is less than",
            "maxExclusive": "is not less than",
            "maxInclusive": "is greater than",
        }[key]
        return f"value {sh(v)} {relation} the {limit} {sh(p)} (sh:{key})"
    if key in ("minLength", "maxLength") and isinstance(p, str):
        n = literal_value(p)
        if v is None or v.startswith("_:"):
            return f"value is a blank node, which has no length (sh:{key} {n})"
        length = len(literal_value(v))
        than = "shorter than the minimum" if key == "minLength" else "longer than the maximum"
        return f"value is {_plural(length, 'character')} long, {than} {n} (sh:{key})"
    if key == "pattern" and isinstance(p, str):
        flags = shape.param("flags")
        with_flags = f" with flags {literal_value(flags)}" if flags else ""
        if v is not None and v.startswith("_:"):
            return f"value is a blank node, which cannot match the pattern {literal_value(p)}"
        return f"value does not match the pattern {literal_value(p)}{with_flags} (sh:pattern)"
    if key == "languageIn" and isinstance(p, tuple):
        tags = _listed(f'"{literal_value(t)}"' for t in p)
        lang = to_term(v).language if v is not None and is_literal(v) else None  # type: ignore[attr-defined]
        what = f'language tag "{lang}"' if lang else "value has no language tag; it"
        return f"{what} is not among {tags} (sh:languageIn)"
    if key == "in" and isinstance(p, tuple):
        return f"value is not among the allowed values {_listed(sh(t) for t in p)} (sh:in)"
    if key == "hasValue" and isinstance(p, str):
        return f"the required value {sh(p)} is missing (sh:hasValue)"
    if key in ("minCount", "maxCount") and isinstance(p, str):
        n = literal_value(p)
        if key == "minCount":
            count = "no value" if hit.count == 0 else _plural(hit.count or 0, "value")
            return f"{count}, fewer than the minimum {n} (sh:minCount)"
        if hit.count is None:
            return f"more values than the maximum {n} (sh:maxCount)"
        return f"{_plural(hit.count, 'value')}, more than the maximum {n} (sh:maxCount)"
    if key == "uniqueLang":
        tag = f' "{hit.extra}"' if hit.extra else ""
        return f"more than one value has the language tag{tag} (sh:uniqueLang)"
    if key == "equals" and isinstance(p, str):
        if hit.extra == "extra":
            return f"a value of {sh(p)} is not a value here (sh:equals {sh(p)})"
        return f"value is not also a value of {sh(p)} (sh:equals)"
    if key == "disjoint" and isinstance(p, str):
        return f"value is also a value of {sh(p)} (sh:disjoint)"
    if key in ("lessThan", "lessThanOrEquals") and isinstance(p, str):
        op = "less than" if key == "lessThan" else "less than or equal to"
        return f"value is not {op} every value of {sh(p)} (sh:{key})"
    if key == "closed":
        return f"property {sh(hit.path)} is not allowed by the closed shape (sh:closed)"
    if key == "not" and isinstance(p, str):
        return f"value conforms to {_shape_ref(p, prefixes)}, which sh:not forbids"
    if key == "node" and isinstance(p, str):
        return f"value does not conform to the shape {_shape_ref(p, prefixes)} (sh:node)"
    if key in ("and", "or", "xone") and isinstance(p, tuple):
        shapes = _listed(_shape_ref(m, prefixes) for m in p)
        if key == "and":
            return f"value does not conform to every shape of sh:and ({shapes})"
        if key == "or":
            return f"value conforms to none of the shapes of sh:or ({shapes})"
        return f"value does not conform to exactly one of the shapes of sh:xone ({shapes})"
    if key in ("qualifiedMinCount", "qualifiedMaxCount") and isinstance(p, tuple):
        q, bound = p
        n = hit.count or 0
        than = "fewer than the minimum" if key == "qualifiedMinCount" else "more than the maximum"
        return (
            f"{_plural(n, 'value')} conform{'s' if n == 1 else ''} to the qualified shape "
            f"{_shape_ref(q, prefixes)}, {than} {literal_value(bound)} (sh:{key})"
        )
    return f"{local} constraint not satisfied"


def _result_order(r: ValidationResult) -> tuple:
    return (
        r.focus_node,
        r.source_shape,
        r.constraint_component,
        r.path or "",
        r.value or "",
        r.message or "",
        -int(r.severity),
    )


# re-exported for the package
__all__ = ["OWL", "Engine", "Focus", "Hit", "Severity"]
