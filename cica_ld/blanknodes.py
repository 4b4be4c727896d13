"""Stable blank node labels within a work budget: RDFC-1.0 where it is cheap, a linear method
for lists and trees, and an input error for knots RDFC-1.0 cannot untie in reasonable time.

Export, publish and the server's dumps give blank nodes labels that depend only on the graph,
so the same graph gives the same bytes. RDFC-1.0 (pyoxigraph's ``Dataset.canonicalize``) does
this, but its cost explodes where blank nodes look alike: it is cubic on an RDF list (an
800-item list took over a minute) and factorial on a knot of interlinked blank nodes (9 took
45 s). So the blank nodes are split into components (linked by triples between blank nodes)
and the RDFC-1.0 work of each is estimated first (linear):

- a component whose estimate is within ``budget`` is labelled by RDFC-1.0 (``_:c14nN``, as
  before: small graphs keep their labels);
- a bigger component that is a tree (each blank node the object of at most one triple whose
  subject is a blank node, no cycle: RDF lists, nested ``[ ]``, OWL restrictions, SHACL
  property shapes) is labelled by a hash of its structure, in linear time (``_:b`` + 20 hex
  digits): a blank node of a tree is told apart by what it holds and where it hangs, and two
  that cannot be told apart are interchangeable, so the labels are canonical too;
- any other component over the budget raises :class:`~cica_ld.errors.InputError` (exit 2),
  naming its size and the variable that raises the budget (``CICA_LD_MAX_RDFC_WORK``).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from cica_ld.errors import InputError, InternalError


def _is_blank(term: Any) -> bool:
    return term.__class__ is _BLANK


_BLANK: Any = None  # pyoxigraph.BlankNode, set on first use (pyoxigraph imported lazily)


def _text(term: Any) -> str:
    return "" if type(term).__name__ == "DefaultGraph" else str(term)


def relabel(quads: Iterable[Any], *, budget: int | None = None) -> list[Any]:
    """``quads`` with every blank node given a stable label (see the module doc), in no
    particular order. ``budget`` is the RDFC-1.0 work allowed per component (default: the
    ``CICA_LD_MAX_RDFC_WORK`` limit)."""
    import pyoxigraph

    from cica_ld import limits

    global _BLANK
    _BLANK = pyoxigraph.BlankNode
    budget = limits.current().rdfc_work if budget is None else budget
    qs = list(quads)
    blank_quads = [q for q in qs if _is_blank(q.subject) or _is_blank(q.object)]
    if not blank_quads and not any(_is_blank(q.graph_name) for q in qs):
        return qs
    if any(
        _is_blank(q.graph_name)
        or not isinstance(q.subject, (pyoxigraph.NamedNode, pyoxigraph.BlankNode))
        or isinstance(q.object, pyoxigraph.Triple)
        for q in qs
    ):  # blank graph names, triple terms: beyond the estimate; RDFC-1.0 as it is
        ds = pyoxigraph.Dataset(qs)
        ds.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
        return list(ds)
    plain = [q for q in qs if not (_is_blank(q.subject) or _is_blank(q.object))]
    components = _components(blank_quads)
    to_rdfc: list[Any] = []
    labels: dict[Any, str] = {}
    roots: dict[str, int] = defaultdict(int)  # trees alike (interchangeable) seen so far
    for nodes, cquads in components:
        work = _rdfc_work(nodes, cquads, budget)
        if work <= budget:
            to_rdfc += cquads
            continue
        tree = _tree_labels(nodes, cquads, roots)
        if tree is None:
            raise InputError(
                f"{len(nodes)} interlinked blank nodes that look alike cannot be given stable "
                f"labels within the work budget (RDFC-1.0 would need at least {work:,} steps, "
                f"the budget is {budget:,})",
                hint=f"raise the budget with {limits.ENV['rdfc_work']}, or give some of these "
                "nodes IRIs",
            )
        labels.update(tree)
    out = plain
    if to_rdfc:
        ds = pyoxigraph.Dataset(to_rdfc)
        ds.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
        out += list(ds)
    if labels:
        if len(set(labels.values())) != len(labels):  # pragma: no cover - a hash collision
            raise InternalError("two blank nodes got the same structural label")
        node = {b: pyoxigraph.BlankNode(label) for b, label in labels.items()}
        for q in blank_quads:
            if q.subject in node or q.object in node:
                out.append(
                    pyoxigraph.Quad(
                        node.get(q.subject, q.subject),
                        q.predicate,
                        node.get(q.object, q.object),
                        q.graph_name,
                    )
                )
    return out


def _components(blank_quads: list[Any]) -> list[tuple[list[Any], list[Any]]]:
    """The blank nodes linked by triples between blank nodes, each group with its quads."""
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for q in blank_quads:
        s, o = q.subject, q.object
        if _is_blank(s):
            find(s)
        if _is_blank(o):
            find(o)
        if _is_blank(s) and _is_blank(o):
            a, b = find(s), find(o)
            if a != b:
                parent[a] = b
    nodes: dict[Any, list[Any]] = defaultdict(list)
    for b in list(parent):
        nodes[find(b)].append(b)
    quads: dict[Any, list[Any]] = defaultdict(list)
    for q in blank_quads:
        quads[find(q.subject if _is_blank(q.subject) else q.object)].append(q)
    return [(nodes[r], quads[r]) for r in nodes]


def _rdfc_work(nodes: list[Any], quads: list[Any], budget: int) -> int:
    """An estimate of RDFC-1.0's work on one component: nothing when every blank node has its
    own first-degree hash; else, for each blank node sharing it, the component's size times
    the orderings of its look-alike neighbours (measured: a 200-item list, ~40,000, took
    3.5 s; a knot of 7, ~35,000, 1.4 s). A group whose size squared is within the budget
    is estimated in full; a bigger one only as far as it is over the budget."""
    if len(nodes) == 1:
        return 1
    first: dict[Any, list[str]] = defaultdict(list)
    for q in quads:
        for b in (q.subject, q.object):
            if _is_blank(b):
                s = "_:a" if q.subject == b else ("_:z" if _is_blank(q.subject) else str(q.subject))
                o = "_:a" if q.object == b else ("_:z" if _is_blank(q.object) else str(q.object))
                first[b].append(f"{s} {q.predicate} {o} {_text(q.graph_name)}")
    hashes = {b: hash(tuple(sorted(v))) for b, v in first.items()}
    tied: dict[int, int] = defaultdict(int)
    for h in hashes.values():
        tied[h] += 1
    related: dict[Any, dict[tuple[Any, ...], int]] = defaultdict(lambda: defaultdict(int))
    for q in quads:
        if _is_blank(q.subject) and _is_blank(q.object):
            related[q.subject][(hashes[q.object], q.predicate, "o")] += 1
            related[q.object][(hashes[q.subject], q.predicate, "s")] += 1
    work = 0
    for b, h in hashes.items():
        if tied[h] < 2:
            continue
        orderings = 1
        for count in related[b].values():
            orderings *= math.factorial(min(count, 20))
        work += len(nodes) * orderings
        if work > budget and len(nodes) ** 2 > budget:  # over, and no need to say by how much
            return work
    return work


def _digest(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _tree_labels(
    nodes: list[Any], quads: list[Any], roots_seen: dict[str, int]
) -> dict[Any, str] | None:
    """Labels for a component that is a tree of blank nodes (see the module doc), or None when
    it is not one. Linear: one hash per node, bottom-up, then one top-down. ``roots_seen``
    counts the trees met so far by their hash: a second tree just like one before (the two
    are interchangeable) gets other labels."""
    children: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
    has_parent: set[Any] = set()
    own: dict[Any, list[str]] = defaultdict(list)
    for q in quads:
        s, o, p, g = q.subject, q.object, str(q.predicate), _text(q.graph_name)
        if _is_blank(s) and _is_blank(o):
            if o in has_parent or s == o:
                return None
            has_parent.add(o)
            children[s].append((o, f"{p} {g}"))
        elif _is_blank(s):
            own[s].append(f"out {p} {o} {g}")
        else:
            own[o].append(f"in {s} {p} {g}")
    roots = [b for b in nodes if b not in has_parent]
    if len(roots) != 1:  # a tree has one root: several (or none) mean a cycle
        return None
    # post-order without recursion (a list is a chain as deep as it is long)
    order: list[Any] = []
    stack = [roots[0]]
    while stack:
        b = stack.pop()
        order.append(b)
        stack.extend(child for child, _ in children[b])
    if len(order) != len(nodes):  # pragma: no cover - a cycle slipped through
        return None
    down: dict[Any, str] = {}
    for b in reversed(order):
        parts = sorted(own[b]) + sorted(f"child {edge} {down[c]}" for c, edge in children[b])
        down[b] = _digest(parts)
    labels: dict[Any, str] = {}
    top = down[roots[0]]
    full: dict[Any, str] = {roots[0]: _digest([top, str(roots_seen[top])])}
    roots_seen[top] += 1
    for b in order:  # parents before children
        labels[b] = "b" + full[b][:20]
        seen: dict[str, int] = defaultdict(int)
        for c, edge in sorted(children[b], key=lambda ce: (ce[1], down[ce[0]])):
            key = f"{edge} {down[c]}"
            full[c] = _digest([full[b], key, str(seen[key])])  # look-alike siblings: in turn
            seen[key] += 1
    return labels
