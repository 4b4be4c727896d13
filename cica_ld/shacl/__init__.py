"""The native SHACL engine: SHACL Core and SHACL-SPARQL compiled to SPARQL, evaluated once over
all focus nodes of a shape on pyoxigraph (or on a remote SPARQL endpoint).

Public API::

    from cica_ld.shacl import validate, validate_endpoint
    results = validate(data_store, shapes_store, ontology_store)        # list[ValidationResult]
    results = validate_endpoint("http://127.0.0.1:7878/query", shapes_store, ontology_store)

What is validated: the data graph is the default graph of ``data`` (or the endpoint's default
graph); targets are evaluated over it. The ontology graph contributes class membership only:
its ``rdfs:subClassOf`` axioms count for ``sh:targetClass``, implicit class targets and
``sh:class``, and its ``rdf:type`` statements count for ``sh:class``; its other triples are not
seen. ``inference`` other than ``"none"`` is not done by this engine (RDFS/OWL-RL entailment
would need a second, inferred copy of the data): it raises :class:`~cica_ld.errors.UsageError`.

Recursive shapes (a shape that reaches itself through sh:property, sh:node, sh:not or
sh:qualifiedValueShape) are evaluated as pySHACL evaluates them: unrolled along the evaluation
path until pySHACL's recursion check assumes the repeated shape conforms (see
:class:`~cica_ld.shacl.engine.Engine`), so both engines give the same results.

Prefixes: a SHACL-SPARQL query may use rdf, rdfs, owl, xsd and sh, the prefixes declared by
``sh:prefixes/owl:imports*/sh:declare`` (SHACL 5.2.1; imports followed inside the shapes
store only), and (``shapes_prefixes``) the ``@prefix`` lines of the shapes file: a mapping, or
a function from a shape (or constraint component) to the prefixes of the file it is written
in. ``sh:prefixes`` wins where both declare a prefix.

SHACL-AF: SPARQL-based targets (``sh:SPARQLTarget``, ``sh:SPARQLTargetType``) are evaluated,
``sh:SPARQLFunction`` can be called from the shapes' SPARQL (local data only);
rules (``sh:rule``) are not run here: :func:`cica_ld.shacl.rules.apply_rules` runs them on a
copy of the data, which is then validated (what ``cica-ld validate --rules`` does).

Errors: a shapes graph the engine cannot use (a malformed path, a SHACL-SPARQL query with
syntax SHACL forbids or a prefix declared nowhere, a target of an unsupported kind, recursion
through sh:and/sh:or/sh:xone that never ends) raises
:class:`~cica_ld.shacl.shapes.ShapesError` (an :class:`~cica_ld.errors.InputError`, exit 2);
an endpoint that fails raises :class:`~cica_ld.errors.EndpointError` (exit 3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from cica_ld.errors import UsageError
from cica_ld.shacl.shapes import ShapesError
from cica_ld.shacl.sparql_text import SparqlConstraintError
from cica_ld.shacl_model import Severity, ValidationResult

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

    from cica_ld.progress import Progress

__all__ = [
    "Severity",
    "ShapesError",
    "SparqlConstraintError",
    "ValidationResult",
    "validate",
    "validate_endpoint",
]


def validate(
    data: pyoxigraph.Store,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None = None,
    *,
    inference: str = "none",
    workers: int | None = None,
    progress: Progress | None = None,
    as_written: bool | None = None,
    prefixes: Mapping[str, str] | None = None,
    shapes_prefixes: ShapesPrefixes | None = None,
) -> list[ValidationResult]:
    """Validate the default graph of ``data`` against the shapes in ``shapes``.

    ``as_written``: whether ``data`` holds literals as written under surrogates (see
    :mod:`cica_ld.lexical`); None finds out with one scan of the store.

    Returns the validation results (an empty list when the data conforms), sorted by focus
    node, source shape, component, path and value: a multiset, as SHACL counts results (one
    per evaluation of a shape at a focus node, so a nested shape's results once per parent
    focus node and per parent shape; one per sh:lessThan pair and per repeated language tag).

    ``workers``: how many threads evaluate independent shapes at once (default: one per CPU,
    at most 4). pyoxigraph evaluates a query without holding the GIL, so the threads share the
    one store and run in parallel; ``workers=1`` evaluates everything in the calling thread.
    ``progress`` counts the independent pieces of work as they finish. ``prefixes``
    abbreviate the IRIs in generated messages (default: rdf, rdfs, owl, xsd, sh).
    """
    from cica_ld.shacl.backend import LocalBackend
    from cica_ld.shacl.engine import Engine

    _check_inference(inference)
    engine = Engine(
        LocalBackend(data, as_written=as_written),
        shapes,
        ontology,
        prefixes,
        file_prefixes=_file_prefixes(shapes_prefixes),
    )
    return engine.validate(workers=_workers(workers), progress=progress)


def validate_endpoint(
    url: str,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None = None,
    *,
    timeout: float = 30.0,
    workers: int | None = None,
    prefixes: Mapping[str, str] | None = None,
    shapes_prefixes: ShapesPrefixes | None = None,
) -> list[ValidationResult]:
    """Validate the data behind a SPARQL 1.1 Protocol endpoint (read-only SELECT queries).

    The same compiled queries as :func:`validate`; SPARQL constraints that cannot be evaluated
    over all focus nodes at once are sent once per focus node, with the node written into the
    query (a blank focus node cannot be named that way and raises an error).
    """
    from cica_ld.shacl.backend import RemoteBackend
    from cica_ld.shacl.engine import Engine

    engine = Engine(
        RemoteBackend(url, timeout=timeout),
        shapes,
        ontology,
        prefixes,
        file_prefixes=_file_prefixes(shapes_prefixes),
    )
    return engine.validate(workers=_workers(workers))


#: The shapes files' prefixes: one mapping, or a function from a node to its file's mapping.
ShapesPrefixes = Mapping[str, str] | Callable[[str], Mapping[str, str]]


def _file_prefixes(
    prefixes: ShapesPrefixes | None,
) -> Callable[[str], Mapping[str, str]] | None:
    if prefixes is None or callable(prefixes):
        return prefixes
    fixed = dict(prefixes)
    return lambda _node: fixed


def _workers(workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cpus or 1))


def _check_inference(inference: str) -> None:
    if inference != "none":
        raise UsageError(
            f"the native engine does not infer ({inference!r}): it validates the data as given",
            hint="use --inference none, or --engine pyshacl for RDFS/OWL-RL inference",
        )
