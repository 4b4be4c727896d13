"""The shapes graph, read into plain Python objects the compiler works from.

Terms are kept in N-Triples syntax (``<iri>``, ``_:b0``, ``"lit"^^<dt>``), as in
:mod:`cica_ld.shacl_model`. A *shape* is any node the SHACL spec calls one: a SHACL instance of
``sh:NodeShape``/``sh:PropertyShape``, the subject of a target, and every node a shape-valued
parameter points at (``sh:property``, ``sh:node``, ``sh:not``, ``sh:and``/``sh:or``/
``sh:xone`` members, ``sh:qualifiedValueShape``). Shapes are read lazily, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cica_ld.errors import InputError
from cica_ld.shacl_model import SH, Severity, path_to_sparql

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"

RDF_TYPE = f"<{RDF}type>"
RDF_NIL = f"<{RDF}nil>"
TRUE = f'"true"^^<{XSD}boolean>'


class ShapesError(InputError):
    """The shapes graph cannot be used: a malformed shape, path or SHACL-SPARQL query."""

    def __init__(self, message: str, *, shape: str | None = None) -> None:
        self.shape = shape
        self.reason = message  # without the shape
        where = f"shape {shape}: " if shape else ""
        super().__init__(f"{where}{message}")


def component(name: str) -> str:
    """The IRI of a core constraint component, e.g. ``component("minCount")``."""
    special = {
        "class": "Class",
        "in": "In",
        "and": "And",
        "or": "Or",
        "not": "Not",
        "xone": "Xone",
        "node": "Node",
        "qualifiedMinCount": "QualifiedMinCount",
        "qualifiedMaxCount": "QualifiedMaxCount",
    }
    local = special.get(name, name[0].upper() + name[1:])
    return f"{SH}{local}ConstraintComponent"


class Graph:
    """Read access to a pyoxigraph store by N-Triples terms (all graphs of the store)."""

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store
        self._terms: dict[str, object] = {}

    def term(self, nt: str) -> object:
        t = self._terms.get(nt)
        if t is None:
            t = to_term(nt)
            self._terms[nt] = t
        return t

    def objects(self, subject: str, predicate: str) -> list[str]:
        if not subject.startswith(("<", "_:")):
            return []
        import pyoxigraph

        out = []
        for q in self.store.quads_for_pattern(
            self.term(subject), pyoxigraph.NamedNode(predicate), None
        ):
            nt = str(q.object)
            self._terms.setdefault(nt, q.object)
            if nt not in out:
                out.append(nt)
        return out

    def subjects(self, predicate: str, obj: str | None) -> list[str]:
        import pyoxigraph

        out = []
        o = self.term(obj) if obj is not None else None
        for q in self.store.quads_for_pattern(None, pyoxigraph.NamedNode(predicate), o):
            nt = str(q.subject)
            self._terms.setdefault(nt, q.subject)
            if nt not in out:
                out.append(nt)
        return out

    def value(self, subject: str, predicate: str) -> str | None:
        found = self.objects(subject, predicate)
        return found[0] if found else None

    def items(self, head: str) -> list[str]:
        """The members of an RDF list."""
        out: list[str] = []
        seen: set[str] = set()
        node = head
        while node != RDF_NIL:
            if node in seen:
                raise ShapesError(f"the RDF list {head} is cyclic")
            seen.add(node)
            first = self.objects(node, RDF + "first")
            rest = self.objects(node, RDF + "rest")
            if len(first) != 1 or len(rest) != 1:
                raise ShapesError(f"{head} is not a well-formed RDF list")
            out.append(first[0])
            node = rest[0]
        return out


def to_term(nt: str) -> object:
    """A term in N-Triples syntax as a pyoxigraph term."""
    import pyoxigraph

    if nt.startswith("<") and nt.endswith(">"):
        return pyoxigraph.NamedNode(nt[1:-1])
    if nt.startswith("_:"):
        return pyoxigraph.BlankNode(nt[2:])
    quad = next(
        iter(pyoxigraph.parse(f"<urn:x:s> <urn:x:p> {nt} .", format=pyoxigraph.RdfFormat.N_TRIPLES))
    )
    return quad.object


def literal_value(nt: str) -> str:
    """The lexical form of a literal term (or the IRI / label of a node)."""
    if nt.startswith("<"):
        return nt[1:-1]
    if nt.startswith("_:"):
        return nt
    return to_term(nt).value  # type: ignore[attr-defined]


def is_literal(nt: str) -> bool:
    return nt.startswith('"')


# ---------------------------------------------------------------------------------------------
# The model


@dataclass
class SparqlConstraint:
    node: str
    select: str
    messages: list[str]
    prefixes: dict[str, str]
    deactivated: bool = False


@dataclass
class SparqlTarget:
    """A SPARQL-based target (``sh:SPARQLTarget``, or an instance of a ``sh:SPARQLTargetType``):
    its SELECT query and the parameter values to pre-bind (name -> term)."""

    node: str
    select: str
    prefixes: dict[str, str]
    constants: dict[str, str] = field(default_factory=dict)


@dataclass
class Parameter:
    path: str  # the parameter's predicate (N-Triples IRI)
    name: str  # its local name: the variable the validators use
    optional: bool = False


@dataclass
class Validator:
    node: str
    kind: str  # "ask" or "select"
    text: str
    messages: list[str]
    prefixes: dict[str, str]


@dataclass
class ConstraintComponent:
    """A SPARQL-based constraint component (``sh:ConstraintComponent`` with parameters)."""

    node: str
    parameters: list[Parameter]
    validator: Validator | None = None
    node_validator: Validator | None = None
    property_validator: Validator | None = None
    messages: list[str] = field(default_factory=list)

    def for_shape(self, is_property: bool) -> Validator | None:
        specific = self.property_validator if is_property else self.node_validator
        return specific or self.validator


@dataclass
class Shape:
    node: str
    path: str | None = None  # the path node (N-Triples) for property shapes
    path_sparql: str | None = None  # in SPARQL syntax (full IRIs), for queries and results
    deactivated: bool = False
    severity: Severity = Severity.VIOLATION
    severity_iri: str = SH + "Violation"
    messages: list[str] = field(default_factory=list)
    # targets
    target_nodes: list[str] = field(default_factory=list)
    target_classes: list[str] = field(default_factory=list)
    target_subjects_of: list[str] = field(default_factory=list)
    target_objects_of: list[str] = field(default_factory=list)
    sparql_targets: list[SparqlTarget] = field(default_factory=list)
    # constraints
    params: dict[str, list[str]] = field(default_factory=dict)
    properties: list[str] = field(default_factory=list)
    sparql: list[SparqlConstraint] = field(default_factory=list)
    lists: dict[str, list[list[str]]] = field(default_factory=dict)  # and/or/xone/in/languageIn

    @property
    def is_property(self) -> bool:
        return self.path is not None

    @property
    def has_targets(self) -> bool:
        return bool(
            self.target_nodes
            or self.target_classes
            or self.target_subjects_of
            or self.target_objects_of
            or self.sparql_targets
        )

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


_CONSTRAINT_PARAMS = (
    "class",
    "datatype",
    "nodeKind",
    "minCount",
    "maxCount",
    "minExclusive",
    "minInclusive",
    "maxExclusive",
    "maxInclusive",
    "minLength",
    "maxLength",
    "pattern",
    "flags",
    "uniqueLang",
    "equals",
    "disjoint",
    "lessThan",
    "lessThanOrEquals",
    "not",
    "node",
    "hasValue",
    "closed",
    "ignoredProperties",
    "qualifiedValueShape",
    "qualifiedMinCount",
    "qualifiedMaxCount",
    "qualifiedValueShapesDisjoint",
)
_LIST_PARAMS = ("and", "or", "xone", "in", "languageIn", "ignoredProperties")
_SHAPE_LISTS = ("and", "or", "xone")


#: Prefixes every SHACL-SPARQL query may use without declaring them.
BUILTIN_PREFIXES: dict[str, str] = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "sh": SH}

#: The ``@prefix`` declarations of the file a node of the shapes graph is written in.
FilePrefixes = Callable[[str], Mapping[str, str]]


class ShapesGraph:
    """The shapes of a shapes graph, read on demand.

    ``file_prefixes`` (a node of the shapes graph -> the prefixes declared in its file): where
    a SHACL-SPARQL query finds a prefix it uses but declares neither itself nor through
    ``sh:prefixes``.
    """

    def __init__(self, store: pyoxigraph.Store, file_prefixes: FilePrefixes | None = None) -> None:
        self.graph = Graph(store)
        self.file_prefixes = file_prefixes
        self._shapes: dict[str, Shape] = {}
        self._parents: dict[str, list[str]] | None = None
        self._components: list[ConstraintComponent] | None = None

    # -- which nodes are shapes with targets

    def target_shapes(self) -> list[Shape]:
        """Every shape that has a target (explicit, or implicit: a shape that is a class)."""
        g = self.graph
        nodes: list[str] = []
        seen: set[str] = set()
        for local in ("targetNode", "targetClass", "targetSubjectsOf", "targetObjectsOf", "target"):
            for s in g.subjects(SH + local, None):
                if s not in seen:
                    seen.add(s)
                    nodes.append(s)
        for cls in self._class_types():
            for s in g.subjects(RDF + "type", cls):
                if s not in seen and self._is_shape(s):
                    seen.add(s)
                    nodes.append(s)
        return [self.shape(n) for n in sorted(nodes)]

    def _class_types(self) -> set[str]:
        """rdfs:Class and its subclasses in the shapes graph."""
        found = {f"<{RDFS}Class>"}
        todo = [f"<{RDFS}Class>"]
        while todo:
            c = todo.pop()
            for sub in self.graph.subjects(RDFS + "subClassOf", c):
                if sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found

    def _is_shape(self, node: str) -> bool:
        types = set(self.graph.objects(node, RDF + "type"))
        return f"<{SH}NodeShape>" in types or f"<{SH}PropertyShape>" in types

    def parents(self, prop: str) -> list[str]:
        """The shapes that have ``prop`` as an ``sh:property``."""
        if self._parents is None:
            self._parents = {}
            for q in self.graph.store.quads_for_pattern(
                None, self.graph.term(f"<{SH}property>"), None
            ):
                self._parents.setdefault(str(q.object), []).append(str(q.subject))
        return self._parents.get(prop, [])

    # -- reading one shape

    def shape(self, node: str) -> Shape:
        found = self._shapes.get(node)
        if found is None:
            found = self._read(node)
            self._shapes[node] = found
        return found

    def _empty_blank(self, node: str) -> bool:
        """Whether ``node`` is a blank node with no triple about it (``[ ]``)."""
        if not node.startswith("_:"):
            return False
        store = self.graph.store
        return next(iter(store.quads_for_pattern(self.graph.term(node), None, None)), None) is None

    def _read(self, node: str) -> Shape:
        g = self.graph
        sh = Shape(node=node)
        paths = g.objects(node, SH + "path")
        if len(paths) > 1:
            raise ShapesError("a property shape has exactly one sh:path", shape=node)
        if paths:
            sh.path = paths[0]
            sh.path_sparql = self.path_text(paths[0], node)
        deactivated = g.objects(node, SH + "deactivated")
        sh.deactivated = TRUE in deactivated
        severity = g.value(node, SH + "severity")
        if severity is not None:
            sh.severity_iri = severity.strip("<>")
            sh.severity = Severity.from_iri(severity)
        sh.messages = g.objects(node, SH + "message")
        sh.target_nodes = g.objects(node, SH + "targetNode")
        sh.target_classes = g.objects(node, SH + "targetClass")
        sh.target_subjects_of = g.objects(node, SH + "targetSubjectsOf")
        sh.target_objects_of = g.objects(node, SH + "targetObjectsOf")
        for t in g.objects(node, SH + "target"):
            sh.sparql_targets.append(self._sparql_target(t, node))
        types = set(g.objects(node, RDF + "type"))
        if types & self._class_types() and node not in sh.target_classes:
            sh.target_classes.append(node)  # implicit class target
        for name in _CONSTRAINT_PARAMS:
            values = g.objects(node, SH + name)
            if values:
                sh.params[name] = values
        for name in _LIST_PARAMS:
            for head in g.objects(node, SH + name):
                try:
                    members = g.items(head)
                except ShapesError as exc:
                    raise ShapesError(f"sh:{name}: {exc.detail}", shape=node) from None
                sh.lists.setdefault(name, []).append(members)
        # sh:property [ ] (a blank node with no triple about it) is no shape: ignored
        # (cica_ld.validation.empty_property_shapes warns about it)
        sh.properties = [p for p in g.objects(node, SH + "property") if not self._empty_blank(p)]
        for c in g.objects(node, SH + "sparql"):
            sh.sparql.append(self._sparql(c, node))
        self._check(sh)
        return sh

    def _check(self, sh: Shape) -> None:
        def one(name: str) -> None:
            if len(sh.params.get(name, [])) > 1:
                raise ShapesError(f"sh:{name} has more than one value", shape=sh.node)

        for name in (
            "minCount",
            "maxCount",
            "minLength",
            "maxLength",
            "qualifiedMinCount",
            "qualifiedMaxCount",
            "closed",
        ):
            one(name)
        for name in (
            "minCount",
            "maxCount",
            "minLength",
            "maxLength",
            "qualifiedMinCount",
            "qualifiedMaxCount",
        ):
            v = sh.param(name)
            if v is not None and not (
                v.endswith(f"<{XSD}integer>") and literal_value(v).lstrip("+").isdigit()
            ):
                raise ShapesError(
                    f"sh:{name} must be a non-negative xsd:integer, got {v}", shape=sh.node
                )
        for name in ("pattern", "flags"):
            for v in sh.params.get(name, []):
                if not is_literal(v):
                    raise ShapesError(f"sh:{name} must be a literal, got {v}", shape=sh.node)

    def path_text(self, path_node: str, shape: str) -> str:
        """A SHACL path as a SPARQL property path (full IRIs); malformed paths raise."""
        g = self.graph
        self._check_path(path_node, shape, set())

        def objects(subject: str, predicate: str) -> list[str]:
            # a node that is a list is a sequence path, whatever else it says (as the W3C
            # tests path-strange-001/002 have it)
            if (
                predicate != RDF + "first"
                and predicate.startswith(SH)
                and g.objects(subject, RDF + "first")
            ):
                return []
            return g.objects(subject, predicate)

        return path_to_sparql(path_node, objects)

    def _check_path(self, node: str, shape: str, seen: set[str]) -> None:
        g = self.graph
        if node.startswith("<"):
            return
        if not node.startswith("_:"):
            raise ShapesError(f"sh:path must be an IRI or a blank node, got {node}", shape=shape)
        if node in seen:
            raise ShapesError("sh:path is recursive", shape=shape)
        seen = seen | {node}
        if g.objects(node, RDF + "first"):
            members = g.items(node)
            if len(members) < 2:
                raise ShapesError("a sequence path needs at least two paths", shape=shape)
            for m in members:
                self._check_path(m, shape, seen)
            return
        for local in ("inversePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath"):
            inner = g.objects(node, SH + local)
            if inner:
                self._check_path(inner[0], shape, seen)
                return
        alt = g.objects(node, SH + "alternativePath")
        if alt:
            members = g.items(alt[0])
            if len(members) < 2:
                raise ShapesError("sh:alternativePath needs at least two paths", shape=shape)
            for m in members:
                self._check_path(m, shape, seen)
            return
        if g.objects(node, RDF + "first"):
            members = g.items(node)
            if len(members) < 2:
                raise ShapesError("a sequence path needs at least two paths", shape=shape)
            for m in members:
                self._check_path(m, shape, seen)
            return
        raise ShapesError(f"{node} is not a well-formed SHACL path", shape=shape)

    # -- SPARQL-based targets (SHACL-AF)

    def _sparql_target(self, node: str, shape: str) -> SparqlTarget:
        from cica_ld.shacl.advanced import sparql_target_type

        g = self.graph
        selects = g.objects(node, SH + "select")
        if selects:
            if len(selects) != 1 or not is_literal(selects[0]):
                raise ShapesError(f"the target {node} needs exactly one sh:select", shape=shape)
            text = literal_value(selects[0])
            return SparqlTarget(
                node, text, self.query_prefixes(node, text, shape, "sh:select of sh:target")
            )
        kind = sparql_target_type(_TermIndex(g), node) if node.startswith(("<", "_:")) else None
        if kind is None:
            raise ShapesError(
                f"sh:target {node} is neither a sh:SPARQLTarget with sh:select nor an instance "
                "of a sh:SPARQLTargetType: other kinds of target are not supported",
                shape=shape,
            )
        selects = g.objects(kind, SH + "select")
        if len(selects) != 1 or not is_literal(selects[0]):
            raise ShapesError(f"the target type {kind} needs exactly one sh:select", shape=shape)
        text = literal_value(selects[0])
        constants: dict[str, str] = {}
        for p in g.objects(kind, SH + "parameter"):
            path = g.value(p, SH + "path")
            if path is None or not path.startswith("<"):
                raise ShapesError(f"parameter {p} of {kind} needs an IRI sh:path", shape=shape)
            found = g.objects(node, path[1:-1])
            if len(found) > 1:
                raise ShapesError(
                    f"sh:target {node} has {len(found)} values of the parameter {path}",
                    shape=shape,
                )
            if not found:
                if TRUE not in g.objects(p, SH + "optional"):
                    raise ShapesError(
                        f"sh:target {node} has no value of the parameter {path} of {kind}",
                        shape=shape,
                    )
                continue
            constants[re.split(r"[#/:]", path[1:-1])[-1]] = found[0]
        prefixes = self.query_prefixes(kind, text, shape, f"sh:select of {kind}")
        return SparqlTarget(node, text, prefixes, constants)

    # -- SPARQL constraints

    def _sparql(self, node: str, shape: str) -> SparqlConstraint:
        g = self.graph
        selects = g.objects(node, SH + "select")
        if len(selects) != 1 or not is_literal(selects[0]):
            raise ShapesError(
                f"SPARQL constraint {node} needs exactly one sh:select string", shape=shape
            )
        select = literal_value(selects[0])
        return SparqlConstraint(
            node=node,
            select=select,
            messages=g.objects(node, SH + "message"),
            prefixes=self.query_prefixes(node, select, shape, "sh:select"),
            deactivated=TRUE in g.objects(node, SH + "deactivated"),
        )

    def query_prefixes(self, node: str, text: str, owner: str, what: str) -> dict[str, str]:
        """The prefixes to declare for the query ``text`` of ``node`` (a SPARQL constraint of
        the shape ``owner``, or a validator of the component ``owner``): those of
        ``sh:prefixes``, rdf/rdfs/owl/xsd/sh, and for a prefix still undeclared, the
        ``@prefix`` of the file ``owner`` is written in. A prefix declared nowhere raises
        :class:`ShapesError` naming it."""
        from cica_ld.shacl.sparql_text import SparqlConstraintError, undeclared_prefixes

        decl = prefix_declarations(self.graph.objects, node)
        out = decl.prefixes
        try:
            missing = undeclared_prefixes(text, set(out))
        except SparqlConstraintError:
            return out  # unreadable text: the query itself reports it
        if missing and self.file_prefixes is not None:
            declared = self.file_prefixes(owner)
            for name in missing:
                if name in declared:
                    out[name] = declared[name]
            missing = [name for name in missing if name not in out]
        if missing:
            raise ShapesError(undeclared_message(what, missing, decl.unresolved), shape=owner)
        return out

    def prefixes(self, node: str) -> dict[str, str]:
        """The prefixes a SPARQL constraint declares through ``sh:prefixes`` (plus rdf, rdfs,
        owl, xsd and sh, which every query may use)."""
        return prefix_declarations(self.graph.objects, node).prefixes

    # -- SPARQL-based constraint components

    def components(self) -> list[ConstraintComponent]:
        if self._components is None:
            found = []
            for node in sorted(self.graph.subjects(SH + "parameter", None)):
                comp = self._component(node)
                if comp is not None:
                    found.append(comp)
            self._components = found
        return self._components

    def _component(self, node: str) -> ConstraintComponent | None:
        g = self.graph
        params = []
        for p in g.objects(node, SH + "parameter"):
            path = g.value(p, SH + "path")
            if path is None or not path.startswith("<"):
                raise ShapesError(f"parameter {p} of {node} needs an IRI sh:path")
            local = re.split(r"[#/:]", path[1:-1])[-1]
            params.append(Parameter(path, local, TRUE in g.objects(p, SH + "optional")))
        comp = ConstraintComponent(
            node=node, parameters=params, messages=g.objects(node, SH + "message")
        )
        for local, attr in (
            ("validator", "validator"),
            ("nodeValidator", "node_validator"),
            ("propertyValidator", "property_validator"),
        ):
            v = g.value(node, SH + local)
            if v is not None:
                setattr(comp, attr, self._validator(v, node))
        if (
            comp.validator is None
            and comp.node_validator is None
            and comp.property_validator is None
        ):
            return None  # e.g. the core components declared in the SHACL vocabulary itself
        return comp

    def _validator(self, node: str, comp: str) -> Validator:
        g = self.graph
        ask = g.objects(node, SH + "ask")
        select = g.objects(node, SH + "select")
        if len(ask) + len(select) != 1 or not is_literal((ask + select)[0]):
            raise ShapesError(f"validator {node} of {comp} needs one sh:ask or sh:select string")
        text = literal_value((ask + select)[0])
        kind = "ask" if ask else "select"
        return Validator(
            node=node,
            kind=kind,
            text=text,
            messages=g.objects(node, SH + "message"),
            prefixes=self.query_prefixes(node, text, comp, f"sh:{kind} of validator {node}"),
        )

    # -- all shapes reachable from some shapes

    def reachable(self, roots: Iterable[Shape]) -> list[Shape]:
        out: list[Shape] = []
        seen: set[str] = set()
        todo = [r.node for r in roots]
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            s = self.shape(n)
            out.append(s)
            todo.extend(shape_refs(s))
        return out


@dataclass(frozen=True)
class PrefixDeclarations:
    """What ``sh:prefixes/owl:imports*/sh:declare`` declares for a query (SHACL 5.2.1), plus
    rdf, rdfs, owl, xsd and sh; ``unresolved``: the ``owl:imports`` met on the way that name a
    node the shapes graph says nothing about (a graph not loaded: never fetched)."""

    prefixes: dict[str, str]
    unresolved: tuple[str, ...] = ()


def prefix_declarations(objects: Callable[[str, str], list[str]], node: str) -> PrefixDeclarations:
    """The prefix declarations SHACL 5.2.1 gives the query of ``node``: the values of the path
    ``sh:prefixes/owl:imports*/sh:declare``, each with exactly one ``sh:prefix`` and one
    ``sh:namespace``; ``objects(subject, predicate)`` reads the shapes graph (N-Triples terms,
    the predicate a full IRI). ``owl:imports`` is followed only inside the shapes graph (the
    files loaded). Raises :class:`ShapesError` for a malformed declaration, or for two that
    give one prefix different namespaces (a syntax error in SHACL)."""
    out = dict(BUILTIN_PREFIXES)
    declared: dict[str, tuple[str, str]] = {}  # prefix -> (namespace, declaring node)
    todo = list(objects(node, SH + "prefixes"))
    seen: set[str] = set()
    unresolved: list[str] = []
    while todo:
        p = todo.pop(0)
        if p in seen or is_literal(p):
            continue
        seen.add(p)
        decls = objects(p, SH + "declare")
        imports = objects(p, OWL + "imports")
        if not decls and not imports and p != node and not objects(p, RDF + "type"):
            unresolved.append(p)
        for decl in decls:
            names = objects(decl, SH + "prefix")
            spaces = objects(decl, SH + "namespace")
            if len(names) != 1 or len(spaces) != 1 or not all(map(is_literal, names + spaces)):
                raise ShapesError(
                    f"sh:declare {decl} needs exactly one sh:prefix and one sh:namespace (literals)"
                )
            name, space = literal_value(names[0]), literal_value(spaces[0])
            before = declared.get(name)
            if before is not None and before[0] != space:
                raise ShapesError(
                    f"the prefix {name}: is declared twice with different namespaces, "
                    f"<{before[0]}> (sh:declare of {before[1]}) and <{space}> (sh:declare of "
                    f"{p}), both reached through one sh:prefixes"
                )
            declared[name] = (space, p)
            out[name] = space
        todo.extend(imports)
    return PrefixDeclarations(out, tuple(unresolved))


def undeclared_message(
    what: str, missing: Iterable[str], unresolved: Iterable[str] = (), where: str | None = None
) -> str:
    """The message for prefixes a query uses that are declared nowhere (``where``: the
    file:line of the first use, when known)."""
    names = ", ".join(f"{name}:" for name in missing)
    at = f"used at {where}; " if where else ""
    text = (
        f"{what} uses the prefix {names} which is declared nowhere ({at}declare it with an "
        "@prefix line in the shapes file, or with sh:declare and sh:prefixes)"
    )
    skipped = sorted(set(unresolved))
    if skipped:
        text += (
            f"; owl:imports {', '.join(skipped)} was not followed: it is not among the shapes "
            "files given (nothing is fetched)"
        )
    return text


class _TermIndex:
    """:class:`Graph` seen as :class:`cica_ld.shacl.advanced.Index` (``values`` only)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.pos: dict[str, list[tuple[str, object]]] = {}

    def values(self, node: str, predicate: str) -> list[object]:
        return [self.graph.term(o) for o in self.graph.objects(node, predicate)]


#: Blank nodes of the shapes graph pre-bound in a query over the data (a parameter value) are
#: written as IRIs under this prefix: a blank node of the shapes graph is no node of the data
#: graph, and such an IRI matches nothing there and equals only itself.
BLANK_PARAMETER = "urn:x-cica-ld:shapes-blank-node:"


def parameter_term(term: str) -> str:
    """A parameter value as it is written into a query (see :data:`BLANK_PARAMETER`)."""
    if term.startswith("_:"):
        return f"<{BLANK_PARAMETER}{term[2:]}>"
    return term


def from_parameter_term(term: str) -> str:
    """The inverse of :func:`parameter_term`, for terms a query gives back."""
    if term.startswith(f"<{BLANK_PARAMETER}"):
        return "_:" + term[len(BLANK_PARAMETER) + 1 : -1]
    return term


def shape_refs(s: Shape) -> list[str]:
    """The shapes a shape refers to (sh:property, sh:node, sh:not, list members, ...)."""
    out = list(s.properties)
    for name in ("node", "not", "qualifiedValueShape"):
        out.extend(s.params.get(name, []))
    for name in _SHAPE_LISTS:
        for members in s.lists.get(name, []):
            out.extend(members)
    return out
