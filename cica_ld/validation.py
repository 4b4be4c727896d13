"""SHACL validation: load data, shapes and ontology, check the shapes graph, run an engine, and
return a :class:`ValidationReport` whose results carry the source location of their focus node.

Engines (``engine=``):

* ``pyshacl``, the reference: the pyoxigraph stores are handed to pySHACL as rdflib graphs
  (serialized as N-Triples and parsed, keeping a map of blank node ids so results point back at
  the same blank nodes), and pySHACL's report graph is read into :class:`ValidationResult`.
* ``native``: :mod:`cica_ld.shacl`, the fast engine that compiles shapes to SPARQL on pyoxigraph
  (imported only when asked for).

What is validated. The data files are one data graph (the union of their graphs). The ontology
reaches the validator as the ontology graph: its subclass axioms count for ``sh:class`` and
``sh:targetClass``, but its own triples never make results: targets are evaluated over the data
only (plus, with ``inference``, what is inferred about the data's own nodes). A shapes graph that
is itself invalid (against the syntax rules of SHACL, as in the W3C SHACL-for-SHACL shapes, and
SHACL-SPARQL queries that do not parse) is an input error naming the shape and why.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cica_ld import dataset
from cica_ld import namespaces as _namespaces
from cica_ld.errors import CicaError, InputError, UsageError
from cica_ld.locations import Location, SourceLocator, SourceSpec
from cica_ld.shacl_model import (  # engine names live there: the CLI reads them at start-up
    DEFAULT_ENGINE,
    ENGINES,
    INFERENCE,
    INFERENCE_ENGINE,
    SH,
    Severity,
    ValidationResult,
    custom_severity,
    path_to_sparql,
)

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph
    import rdflib

    from cica_ld.progress import Progress

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Prefixes every report may use to abbreviate IRIs (the files' own prefixes are added).
WELL_KNOWN_PREFIXES: dict[str, str] = _namespaces.PREFIXES


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Finding:
    """One validation result and where its focus node stands in the sources (if known)."""

    result: ValidationResult
    location: Location | None = None


@dataclass(frozen=True)
class Sources:
    """What was validated: the files loaded (in order), or the endpoint."""

    data: tuple[dataset.SourceFile, ...] = ()
    shapes: tuple[dataset.SourceFile, ...] = ()
    ontology: tuple[dataset.SourceFile, ...] = ()
    endpoint: str | None = None


@dataclass(frozen=True)
class ShapeCoverage:
    """A shape with targets and how many focus nodes its targets select in the data."""

    shape: str
    name: str
    targets: str  # the target declarations, e.g. "sh:targetClass foaf:Person"
    focus_nodes: int | None  # None: not counted (an endpoint, SPARQL-based targets)


@dataclass(frozen=True)
class Coverage:
    """What a run checked: data triples, shapes, and the focus nodes of each targeted shape.

    ``data_triples`` is None for an endpoint (not counted). ``untargeted`` are shapes that have
    no target and that no targeted shape refers to (never checked); ``deactivated`` counts the
    shapes switched off with ``sh:deactivated true``.
    """

    data_triples: int | None
    shapes: int
    targeted: tuple[ShapeCoverage, ...] = ()
    untargeted: tuple[str, ...] = ()  # readable names
    deactivated: int = 0
    inference: bool = False  # focus nodes were counted before inference

    @property
    def focus_nodes(self) -> int | None:
        """Focus nodes summed over the targeted shapes (None if some were not counted)."""
        counts = [s.focus_nodes for s in self.targeted]
        if any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)

    @property
    def nothing_checked(self) -> str | None:
        """Why nothing at all was checked (empty data, no shapes, no target, no focus node at
        all), or None when something was."""
        if self.data_triples == 0:
            return "the data graph is empty"
        if self.shapes == 0:
            return "the shapes graph has no shapes"
        if not self.targeted:
            return "no shape has a target"
        if self.focus_nodes == 0 and not self.inference:
            return "no target selects a focus node in the data"
        return None


@dataclass(frozen=True)
class ReportWarning:
    """Something the run did not check (or an engine's warning), for stderr and the reports.

    ``kind``: ``empty-data``, ``empty-shapes``, ``no-targets``, ``untargeted-shapes``,
    ``no-focus-nodes``, ``empty-property-shape`` or ``engine``; ``shapes`` the readable names
    of the shapes concerned.
    """

    kind: str
    message: str
    shapes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of a validation run.

    ``findings`` are sorted by location (file in load order, line, column), then by focus node
    and shape. ``conforms`` is SHACL's ``sh:conforms`` (no result at all); ``passed`` applies
    ``fail_on``: nothing at or above that severity (and, with ``fail_on_empty``, something was
    checked); a custom severity counts at the violation level, so it fails the run whatever
    the level. ``fail_on_iri``: a custom severity ``--fail-on`` named (an IRI without angle
    brackets): then only results of exactly that severity fail the run (``fail_on`` is then
    violation, its level). ``coverage`` says what was checked and ``warnings`` what was not.
    """

    findings: tuple[Finding, ...]
    fail_on: Severity = Severity.VIOLATION
    engine: str = DEFAULT_ENGINE
    inference: str = "none"
    sources: Sources = field(default_factory=Sources)
    shape_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    prefixes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    seconds: float = 0.0
    coverage: Coverage | None = None
    warnings: tuple[ReportWarning, ...] = ()
    fail_on_empty: bool = False
    fail_on_iri: str | None = None

    @property
    def results(self) -> tuple[ValidationResult, ...]:
        return tuple(f.result for f in self.findings)

    @property
    def conforms(self) -> bool:
        return not self.findings

    @property
    def counts(self) -> dict[Severity, int]:
        """Number of results per severity (every severity present, most severe first)."""
        out = {s: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.result.severity] += 1
        return out

    @property
    def custom_counts(self) -> dict[str, int]:
        """Number of results per custom severity IRI (counted among the violations too)."""
        out: dict[str, int] = {}
        for f in self.findings:
            if f.result.severity_iri is not None:
                out[f.result.severity_iri] = out.get(f.result.severity_iri, 0) + 1
        return out

    @property
    def fail_on_term(self) -> str:
        """The severity ``--fail-on`` names, as an IRI in N-Triples syntax."""
        return f"<{self.fail_on_iri or self.fail_on.iri}>"

    @property
    def failing(self) -> int:
        """How many results fail the run: at or above ``fail_on`` (custom severities count as
        violations), or of exactly the severity ``fail_on_iri``."""
        if self.fail_on_iri is not None:
            return sum(1 for f in self.findings if f.result.severity_iri == self.fail_on_iri)
        return sum(1 for f in self.findings if f.result.severity >= self.fail_on)

    @property
    def nothing_checked(self) -> str | None:
        """Why nothing at all was checked, or None (see :attr:`Coverage.nothing_checked`)."""
        return self.coverage.nothing_checked if self.coverage is not None else None

    @property
    def failed_empty(self) -> bool:
        """``fail_on_empty`` was asked and nothing was checked (the run fails, exit 1)."""
        return self.fail_on_empty and self.nothing_checked is not None

    @property
    def passed(self) -> bool:
        return self.failing == 0 and not self.failed_empty

    def shape_name(self, term: str) -> str:
        """A readable name of a source shape (prefixed IRI; for a blank-node property shape, the
        node shape it belongs to and its path)."""
        return self.shape_names.get(term) or abbreviate(term, self.prefixes)


def abbreviate(term: str, prefixes: Mapping[str, str]) -> str:
    """``<iri>`` as ``prefix:local`` where a prefix fits and the local name is simple (also the
    datatype of a literal, ``"1"^^xsd:integer``); other terms unchanged."""
    if term.startswith('"') and term.endswith(">") and '"^^<' in term:
        lexical, _, datatype = term.rpartition("^^")
        return f"{lexical}^^{abbreviate(datatype, prefixes)}"
    if not term.startswith("<") or not term.endswith(">"):
        return term
    iri = term[1:-1]
    best = ""
    best_ns = ""
    for name, ns in prefixes.items():
        if iri.startswith(ns) and len(ns) > len(best_ns):
            local = iri[len(ns) :]
            if _SIMPLE_LOCAL.fullmatch(local):
                best, best_ns = f"{name}:{local}", ns
    return best or term


_SIMPLE_LOCAL = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)?")


def abbreviate_path(path: str, prefixes: Mapping[str, str]) -> str:
    """A SPARQL path with its IRIs abbreviated."""
    return re.sub(r"<[^<>\s]*>", lambda m: abbreviate(m.group(0), prefixes), path)


class ShapesGraphError(InputError):
    """The shapes graph is not a valid SHACL shapes graph (exit 2): names the shape and why."""

    def __init__(self, problems: Sequence[tuple[str, Location | None]]) -> None:
        self.problems = list(problems)
        why, loc = self.problems[0]
        more = len(self.problems) - 1
        hint = None
        if more:
            listed = "; ".join(
                f"{p_loc}: {p_why}" if p_loc else p_why for p_why, p_loc in self.problems[1:4]
            )
            hint = f"{more} more problem{'s' if more > 1 else ''} in the shapes graph: {listed}"
            if more > 3:
                hint += "; ..."
        super().__init__(
            f"invalid shapes graph: {why}",
            path=loc.path if loc else None,
            line=loc.line if loc else None,
            column=loc.column if loc else None,
            hint=hint,
        )


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class LoadedGraph:
    """One graph (data, shapes or ontology): its store and the files it came from."""

    store: pyoxigraph.Store
    files: list[dataset.SourceFile]
    specs: list[SourceSpec]
    #: distinct literals kept as surrogates (see :mod:`cica_ld.lexical`)
    as_written: int = 0
    _locator: SourceLocator | None = field(default=None, repr=False, compare=False)
    _prescan: threading.Thread | None = field(default=None, repr=False, compare=False)

    def locator(self) -> SourceLocator:
        """The files' locator (the one :func:`load_graph` may have started reading early)."""
        if self._prescan is not None:
            self._prescan.join()
            self._prescan = None
        if self._locator is None:
            self._locator = SourceLocator(self.specs, self.store)
        return self._locator


def display_path(path: Path) -> str:
    """A file as reports show it: as the user named it (relative stays relative)."""
    return str(path)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load_graph(
    files: Sequence[Path],
    input_format: str | None = None,
    *,
    prescan: bool = False,
    progress: Progress | None = None,
    context_map: Mapping[str, Any] | None = None,
) -> LoadedGraph:
    """Load files (in order) into one store, every triple in the default graph (the named
    graphs of TriG, N-Quads and JSON-LD files are merged into it).

    ``prescan``: meanwhile, on a machine with more than one CPU, read the files' layout for the
    locator in a thread (pyoxigraph parses without holding the GIL, so both run at once; at 1M
    triples this takes the ~3 s of locating results off the critical path). ``context_map``
    serves remote JSON-LD contexts from local copies (``--context-map``).
    """
    import pyoxigraph

    store = pyoxigraph.Store()
    loaded: list[dataset.SourceFile] = []
    specs: list[SourceSpec] = []
    for f in files:
        fmt = dataset.format_for(f, input_format)
        specs.append(
            SourceSpec(
                path=f,
                format=fmt,
                base_iri=f.resolve().as_uri(),
                display=display_path(f),
                context_map=context_map,
            )
        )
    graph = LoadedGraph(store=store, files=loaded, specs=specs)
    if prescan and _cpus() > 1:
        locator = graph._locator = SourceLocator(specs, store)
        graph._prescan = threading.Thread(target=locator.prescan, name="prescan", daemon=True)
        graph._prescan.start()
    outcome = dataset.load_files(
        store,
        [(spec.path, spec.format, spec.base_iri) for spec in specs],
        literals="exact",
        merge_graphs=True,
        progress=progress,
        context_map=context_map,
    )
    loaded.extend(outcome.sources)
    graph.as_written = outcome.as_written
    return graph


#: Bundled shapes for the vocabulary itself (validated as data: ``--data ontology/``), not part
#: of the default run on the embedded data, where their targets select nothing.
VOCABULARY_SHAPES = "vocabulary.ttl"


def _files(paths: Sequence[str | Path] | None, kind: str) -> list[Path]:
    if paths is None:
        files = dataset.bundled_files(kind)
        if kind == "shapes":
            files = [f for f in files if f.name != VOCABULARY_SHAPES]
        return files
    return dataset.expand_paths(paths)


_PREFIX_DECL = re.compile(
    r"(?:@prefix|(?i:prefix))\s+([A-Za-z][\w.\-]*|):\s*<([^<>\s]*)>", re.MULTILINE
)


def file_prefixes(specs: Sequence[SourceSpec]) -> dict[str, str]:
    """Prefixes declared near the top of the Turtle/TriG files (for abbreviating IRIs)."""
    out: dict[str, str] = {}
    for spec in specs:
        if spec.format not in ("turtle", "trig", "n3"):
            continue
        try:
            with open(spec.path, encoding="utf-8", errors="replace") as fh:
                head = fh.read(65536)
        except OSError:
            continue
        for name, ns in _PREFIX_DECL.findall(head):
            if name and ns.startswith(("http:", "https:", "urn:")):
                out.setdefault(name, ns)
    return out


class FilePrefixes:
    """The ``@prefix`` declarations of each shapes file (Turtle, TriG, N3), as the parser read
    them: where a SHACL-SPARQL query finds the prefixes it uses but does not declare. Called
    with a node of the shapes graph, it gives the prefixes of the file the node is written in
    (located by the source locator when there are several files; where it cannot be located,
    every file's, the first file winning)."""

    def __init__(self, graph: LoadedGraph) -> None:
        self.graph = graph
        self._files: dict[int, dict[str, str]] = {}

    def _of(self, i: int) -> dict[str, str]:
        found = self._files.get(i)
        if found is None:
            import pyoxigraph

            spec = self.graph.specs[i]
            found = {}
            if spec.format in ("turtle", "trig", "n3"):
                try:
                    parser = pyoxigraph.parse(
                        path=str(spec.path),
                        format=dataset._rdf_format(spec.format),
                        base_iri=spec.base_iri,
                    )
                    for _ in parser:
                        pass
                    found = dict(parser.prefixes)
                except (SyntaxError, ValueError, OSError):
                    found = {}  # it loaded before: only a file changed meanwhile gets here
            self._files[i] = found
        return found

    def merged(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in range(len(self.graph.specs)):
            for name, ns in self._of(i).items():
                out.setdefault(name, ns)
        return out

    def __call__(self, node: str) -> dict[str, str]:
        specs = self.graph.specs
        if len(specs) == 1:
            return self._of(0)
        loc = self.graph.locator().locate({node}).get(node)
        if loc is not None:
            for i, spec in enumerate(specs):
                if spec.shown == loc.path:
                    return self._of(i)
        return self.merged()


def located_shapes_error(exc: InputError, graph: LoadedGraph) -> InputError:
    """A :class:`~cica_ld.shacl.ShapesError` of the native engine as an invalid shapes graph,
    located at its shape (file:line) and naming it as reports do."""
    shape = getattr(exc, "shape", None)
    if shape is None:
        return exc
    prefixes = dict(WELL_KNOWN_PREFIXES)
    prefixes.update(file_prefixes(graph.specs))
    name = shape_names({shape}, graph.store, prefixes).get(shape, shape)
    why = getattr(exc, "reason", exc.detail)
    return ShapesGraphError([(f"{name}: {why}", graph.locator().locate({shape}).get(shape))])


# ---------------------------------------------------------------------------------------------
# The entry points


def validate(
    data: Sequence[str | Path] | None = None,
    shapes: Sequence[str | Path] | None = None,
    ontology: Sequence[str | Path] | None = None,
    *,
    input_format: str | None = None,
    inference: str = "none",
    engine: str | None = None,
    fail_on: Severity | str = Severity.VIOLATION,
    endpoint: str | None = None,
    timeout: float = 60.0,
    progress: Progress | None = None,
    context_map: Mapping[str, Any] | None = None,
    fail_on_empty: bool = False,
    rules: bool = False,
) -> ValidationReport:
    """Validate RDF files (or a SPARQL endpoint) against SHACL shapes.

    ``data``, ``shapes`` and ``ontology`` are files or folders; an empty ``ontology`` means no
    ontology graph. ``None`` means the embedded CICA data, shapes and vocabulary, but only
    without ``data`` (the embedded dataset checked against its own shapes): with ``data``,
    ``shapes`` must be given (a :class:`UsageError` naming ``--shapes`` otherwise, never the
    CICA shapes by surprise) and ``ontology=None`` means no ontology graph.
    ``input_format`` applies to the data files. Raises :class:`InputError` (missing file, syntax
    error, an invalid shapes graph, a bad option value) and, for an endpoint,
    :class:`~cica_ld.errors.EndpointError`. ``progress`` is told the stages of the run.
    ``context_map`` serves remote JSON-LD contexts of the files from local copies.

    The report says what was checked (:class:`Coverage`) and warns about what was not (empty
    data or shapes, shapes without targets, targets without focus nodes); ``fail_on_empty``
    makes a run that checked nothing at all fail (``passed`` false).

    ``rules``: run the shapes' SHACL-AF rules (``sh:rule``) on a copy of the data first and
    validate that copy (:mod:`cica_ld.shacl.rules`; pySHACL with ``advanced`` and
    ``iterate_rules``); without it, a shapes graph with rules is refused (exit 2).
    """
    started = time.perf_counter()
    inference = check_inference(inference)
    if engine is None and inference != "none":
        engine = INFERENCE_ENGINE
    engine = check_engine(engine)
    fail_on_checked = check_fail_on(fail_on)
    fail_on_iri = fail_on_checked if isinstance(fail_on_checked, str) else None
    fail_on = fail_on_checked if isinstance(fail_on_checked, Severity) else Severity.VIOLATION
    if endpoint is not None and data is not None:
        raise UsageError("--data and --endpoint exclude each other: the data is at the endpoint")
    if endpoint is not None and rules:
        raise UsageError(
            "--rules adds the inferred triples to a copy of local data: not with --endpoint "
            "(the endpoint is only read)"
        )
    if data is not None:
        if shapes is None:
            raise UsageError(
                "--data needs --shapes: name the SHACL shapes file or folder to validate "
                "the data against",
                hint="the embedded CICA shapes apply only to the embedded CICA data (no --data)",
            )
        if ontology is None:
            ontology = []  # the user's data: no ontology graph unless one is named
    cmap = context_map
    shapes_graph = load_graph(_files(shapes, "shapes"), progress=progress, context_map=cmap)
    onto_graph = (
        load_graph(_files(ontology, "ontology"), progress=progress, context_map=cmap)
        if ontology != []
        else None
    )
    if progress is not None:
        progress.stage("checking the shapes graph")
    shapes_warnings = check_shapes_graph(shapes_graph, rules=rules)
    shapes_prefixes = FilePrefixes(shapes_graph)
    prefixes = dict(WELL_KNOWN_PREFIXES)
    prefixes.update(file_prefixes(shapes_graph.specs))
    if onto_graph is not None:
        prefixes.update(file_prefixes(onto_graph.specs))
    engine_warnings: list[ReportWarning] = []

    if endpoint is not None:
        if progress is not None:
            progress.stage(f"validating at {endpoint}")
        try:
            results = _run_endpoint(
                endpoint,
                shapes_graph,
                onto_graph,
                timeout=timeout,
                prefixes=prefixes,
                shapes_prefixes=shapes_prefixes,
            )
        except InputError as exc:
            raise located_shapes_error(exc, shapes_graph) from None
        findings = [Finding(r) for r in results]
        data_files: tuple[dataset.SourceFile, ...] = ()
        data_store = None
    else:
        data_graph = load_graph(
            _files(data, "data"), input_format, prescan=True, progress=progress, context_map=cmap
        )
        prefixes.update(file_prefixes(data_graph.specs))
        data_store = data_graph.store
        try:
            if rules:  # pySHACL runs them itself: this copy only counts its focus nodes
                if progress is not None:
                    progress.stage("running the rules (sh:rule)")
                from cica_ld.shacl.rules import apply_rules

                data_store = apply_rules(
                    data_store,
                    shapes_graph.store,
                    onto_graph.store if onto_graph is not None else None,
                    file_prefixes=shapes_prefixes,
                ).store
            results = run_engine(
                engine,
                data_store if engine == "native" else data_graph.store,
                shapes_graph.store,
                onto_graph.store if onto_graph is not None else None,
                inference=inference,
                progress=progress,
                as_written=data_graph.as_written > 0,
                warnings=engine_warnings,
                prefixes=prefixes,
                shapes_prefixes=shapes_prefixes,
                rules=rules,
            )
        except InputError as exc:
            raise located_shapes_error(exc, shapes_graph) from None
        if progress is not None and results:
            progress.stage(f"locating {len(results)} results")
        findings = locate_results(results, data_graph, onto_graph)
        data_files = tuple(data_graph.files)
    coverage, warnings = check_coverage(
        shapes_graph.store,
        data_store,
        onto_graph.store if onto_graph is not None else None,
        prefixes,
        inference=inference != "none",
        shapes_prefixes=shapes_prefixes,
    )
    return ValidationReport(
        findings=tuple(sort_findings(findings, data_files)),
        fail_on=fail_on,
        fail_on_iri=fail_on_iri,
        engine=engine,
        inference=inference,
        sources=Sources(
            data=data_files,
            shapes=tuple(shapes_graph.files),
            ontology=tuple(onto_graph.files) if onto_graph is not None else (),
            endpoint=endpoint,
        ),
        shape_names=MappingProxyType(
            shape_names(_result_shapes(f.result for f in findings), shapes_graph.store, prefixes)
        ),
        prefixes=MappingProxyType(prefixes),
        seconds=time.perf_counter() - started,
        coverage=coverage,
        warnings=(*shapes_warnings, *warnings, *engine_warnings),
        fail_on_empty=fail_on_empty,
    )


def _result_shapes(results: Iterable[ValidationResult]) -> set[str]:
    """The source shapes of results and of their details (sh:detail), at any depth."""
    out: set[str] = set()
    todo = list(results)
    while todo:
        r = todo.pop()
        out.add(r.source_shape)
        todo.extend(r.details)
    return out


def check_engine(engine: str | None) -> str:
    engine = DEFAULT_ENGINE if engine is None else engine
    if engine not in ENGINES:
        raise UsageError(
            f"unknown engine {engine!r}", hint=f"use --engine with one of: {', '.join(ENGINES)}"
        )
    return engine


def check_inference(inference: str) -> str:
    if inference not in INFERENCE:
        raise UsageError(
            f"unknown inference {inference!r}",
            hint=f"use --inference with one of: {', '.join(INFERENCE)}",
        )
    return inference


def check_fail_on(fail_on: Severity | str) -> Severity | str:
    """What ``--fail-on`` names: a level (``violation``, ``warning``, ``info``, in any case, or
    the IRIs ``sh:Violation``, ``sh:Warning``, ``sh:Info``, written ``sh:Info`` or in full) as
    a :class:`Severity`; any other absolute IRI (``<iri>`` or bare) as a custom severity, the
    IRI without angle brackets. Else :class:`UsageError`."""
    if isinstance(fail_on, Severity):
        return fail_on
    text = fail_on.strip()
    with contextlib.suppress(KeyError):
        return Severity.parse(text)
    if text.startswith("sh:") and text[3:] in ("Violation", "Warning", "Info"):
        return Severity.from_iri(SH + text[3:])
    iri = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    if _ABSOLUTE_IRI.match(iri) and not re.search(r"[\s<>\"{}|^`\\]", iri):
        return custom_severity(iri) or Severity.from_iri(iri)
    raise UsageError(
        f"unknown severity {fail_on!r}",
        hint="use --fail-on with one of: violation, warning, info, or a severity's full IRI "
        "(e.g. http://example.org/ns#Blocker)",
    )


#: An absolute IRI as --fail-on takes one: a scheme and "//" (http://...), or urn:/tag:.
_ABSOLUTE_IRI = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://\S+|(?:urn|tag):\S+)$")


def _native() -> Any:
    """The native engine's module (imported only when it runs)."""
    import cica_ld.shacl

    return cica_ld.shacl


def run_engine(
    engine: str,
    data: pyoxigraph.Store,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None,
    *,
    inference: str = "none",
    progress: Progress | None = None,
    as_written: bool | None = None,
    warnings: list[ReportWarning] | None = None,
    prefixes: Mapping[str, str] | None = None,
    shapes_prefixes: FilePrefixes | None = None,
    rules: bool = False,
) -> list[ValidationResult]:
    """Run one engine over the stores; results in the engine's order (``warnings`` collects
    what the engine warned about; ``prefixes`` abbreviate IRIs in generated messages;
    ``as_written``: whether ``data`` holds surrogates, :mod:`cica_ld.lexical`, None: find
    out). ``shapes_prefixes``: the shapes files' prefixes, for SHACL-SPARQL queries that do
    not declare theirs (pySHACL gets them all, as bindings of the data graph: where it looks
    for them). ``rules``: pySHACL runs the SHACL-AF rules itself (the native engine is given
    data the rules already ran on, see :func:`validate`)."""
    if check_engine(engine) == "native":
        return list(
            _native().validate(
                data,
                shapes,
                ontology,
                inference=inference,
                progress=progress,
                prefixes=prefixes,
                as_written=as_written,
                shapes_prefixes=shapes_prefixes,
            )
        )
    if progress is not None:
        progress.stage("validating with pySHACL")
    return validate_with_pyshacl(
        data,
        shapes,
        ontology,
        inference=inference,
        warnings=warnings,
        prefixes=shapes_prefixes.merged() if shapes_prefixes is not None else None,
        rules=rules,
    )


def _run_endpoint(
    endpoint: str,
    shapes: LoadedGraph,
    ontology: LoadedGraph | None,
    *,
    timeout: float,
    prefixes: Mapping[str, str] | None = None,
    shapes_prefixes: FilePrefixes | None = None,
) -> list[ValidationResult]:
    native = _native()
    run = getattr(native, "validate_endpoint", None)
    if run is None:
        raise UsageError(
            "validation against an endpoint is not available in this version of cica-ld"
        )
    return list(
        run(
            endpoint,
            shapes.store,
            ontology.store if ontology is not None else None,
            timeout=timeout,
            prefixes=prefixes,
            shapes_prefixes=shapes_prefixes,
        )
    )


# ---------------------------------------------------------------------------------------------
# Locations and order


def locate_results(
    results: Sequence[ValidationResult], data: LoadedGraph, ontology: LoadedGraph | None
) -> list[Finding]:
    """Attach the source location of each result's focus node (data files first, then the
    ontology's)."""
    if not results:
        return []
    focus = {r.focus_node for r in results}
    where = data.locator().locate(focus)
    missing = focus - set(where)
    if missing and ontology is not None:
        where.update(ontology.locator().locate(missing))
    return [Finding(r, where.get(r.focus_node)) for r in results]


def sort_findings(
    findings: Sequence[Finding], files: Sequence[dataset.SourceFile] = ()
) -> list[Finding]:
    """Findings in report order: by file (load order), line, column; unlocated ones last."""
    order = {display_path(f.path): i for i, f in enumerate(files)}

    def key(f: Finding) -> tuple:
        r = f.result
        loc = f.location
        where: tuple = (
            (0, order.get(loc.path, len(order)), loc.path, loc.line or 0, loc.column or 0)
            if loc is not None
            else (1, 0, "", 0, 0)
        )
        return (
            *where,
            -int(r.severity),
            r.focus_node,
            r.source_shape,
            r.constraint_component,
            r.path or "",
            r.value or "",
            r.message or "",
        )

    return sorted(findings, key=key)


def shape_names(
    shapes: set[str] | frozenset[str], store: pyoxigraph.Store, prefixes: Mapping[str, str]
) -> dict[str, str]:
    """Readable, run-independent names of source shapes: a prefixed IRI, or for a blank-node
    shape, the shape that owns it (``sh:property``) and its path, e.g.
    ``cicash:MembershipShape/org:role``."""
    objects = _store_objects(store)
    subjects = _store_subjects(store)
    out: dict[str, str] = {}

    def name(term: str, depth: int) -> str:
        if term.startswith("<") or depth > 8:
            return abbreviate(term, prefixes)
        path = objects(term, SH + "path")
        path_text = abbreviate_path(path_to_sparql(path[0], objects), prefixes) if path else ""
        owners = subjects(term, SH + "property") or subjects(term, SH + "node")
        for link in ("or", "and", "xone", "not", "qualifiedValueShape"):
            if owners:
                break
            owners = _list_owners(term, link, store)
        owner = name(sorted(owners)[0], depth + 1) if owners else "[]"
        return f"{owner}/{path_text}" if path_text else f"{owner}/[]"

    for s in shapes:
        out[s] = name(s, 0)
    return out


def _list_owners(term: str, link: str, store: pyoxigraph.Store) -> list[str]:
    """Shapes that have ``term`` as a member of their sh:or/sh:and/sh:xone list, or as their
    sh:not / sh:qualifiedValueShape."""
    import pyoxigraph

    node = _to_term(term)
    if link in ("not", "qualifiedValueShape"):
        return [
            str(q.subject)
            for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(SH + link), node)
        ]
    query = (
        f"SELECT ?s ?t WHERE {{ ?s <{SH}{link}> ?l . ?l <{RDF}rest>*/<{RDF}first> ?m . "
        "FILTER(?m = ?t) }"
    )
    return [
        str(row["s"]) for row in store.query(query, substitutions={pyoxigraph.Variable("t"): node})
    ]


def _to_term(term: str) -> Any:
    import pyoxigraph

    if term.startswith("<"):
        return pyoxigraph.NamedNode(term[1:-1])
    if term.startswith("_:"):
        return pyoxigraph.BlankNode(term[2:])
    raise ValueError(f"not a node: {term}")


def _store_objects(store: pyoxigraph.Store) -> Callable[[str, str], list[str]]:
    import pyoxigraph

    def objects(subject: str, predicate: str) -> list[str]:
        if not subject.startswith(("<", "_:")):
            return []
        return [
            str(q.object)
            for q in store.quads_for_pattern(
                _to_term(subject), pyoxigraph.NamedNode(predicate), None
            )
        ]

    return objects


def _store_subjects(store: pyoxigraph.Store) -> Callable[[str, str], list[str]]:
    import pyoxigraph

    def subjects(obj: str, predicate: str) -> list[str]:
        return [
            str(q.subject)
            for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(predicate), _to_term(obj))
        ]

    return subjects


# ---------------------------------------------------------------------------------------------
# The pySHACL adapter


@contextlib.contextmanager
def _literals_as_written() -> Iterator[None]:
    """rdflib normally rewrites literals to a canonical form ("01"^^xsd:integer -> "1"); keep
    them as written, so values in results are the data's own (as the native engine reports)."""
    import rdflib
    import rdflib.term

    before = rdflib.NORMALIZE_LITERALS
    # OWL-RL (pySHACL's inference) swaps rdflib's global lexical-to-value table for its own
    # stricter one and never puts it back, so a later run in the same process would call
    # "2020"^^xsd:gYear ill-typed: restore it
    mapping = dict(rdflib.term._toPythonMapping)
    rdflib.NORMALIZE_LITERALS = False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = before
        rdflib.term._toPythonMapping.clear()
        rdflib.term._toPythonMapping.update(mapping)


@contextlib.contextmanager
def _sparql_parsed_once() -> Iterator[None]:
    """pySHACL hands rdflib the text of a SPARQL constraint once per focus node, and rdflib
    parses it every time (about 0.1 s for a long query: most of a run on real shapes). While
    pySHACL runs, parse each distinct query once and reuse it (what rdflib's own prepareQuery
    does); evaluation is untouched."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    cache: dict[tuple, Any] = {}

    def query(
        self: Any,
        strOrQuery: Any,
        initBindings: Any = None,
        initNs: Any = None,
        base: Any = None,
        DEBUG: bool = False,
    ) -> Any:
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            prepared = cache.get(key)
            if prepared is None:
                parsed = processor.parseQuery(strOrQuery)
                if _calls_service(parsed):  # the text pySHACL built: never run its SERVICE
                    raise InputError(_SERVICE_IN_SHAPES, hint=_PYSHACL_HINT)
                prepared = cache[key] = processor.translateQuery(parsed, base, initNs)
            strOrQuery = prepared
        elif _calls_service(getattr(strOrQuery, "algebra", None)):
            raise InputError(_SERVICE_IN_SHAPES, hint=_PYSHACL_HINT)
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


_SERVICE_IN_SHAPES = (
    "a SPARQL query of the shapes calls SERVICE (another endpoint): refused, validation never "
    "fetches from the network"
)

#: The SHACL (and SHACL-AF) properties whose value is SPARQL that pySHACL may run.
_SPARQL_PROPERTIES = ("select", "ask", "construct", "update")


def _calls_service(tree: Any) -> bool:
    """Whether an rdflib SPARQL parse tree or algebra holds a SERVICE pattern."""
    stack, seen = [tree], 0
    while stack:
        node = stack.pop()
        seen += 1
        if getattr(node, "name", None) == "ServiceGraphPattern":
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
            stack.extend(node)
    return False


def refuse_service_in_shapes(shapes: pyoxigraph.Store) -> None:
    """Raise :class:`InputError` if a SPARQL query or update of the shapes graph (``sh:select``,
    ``sh:ask``, ``sh:construct``, ``sh:update``) calls SERVICE, as rdflib (which runs them for
    pySHACL) parses it. A text that spells "service" and does not parse is refused too: it
    cannot be shown to make no call. (pySHACL's own rewrites of a query are checked again
    when it runs, see :func:`_sparql_parsed_once`.)"""
    import pyoxigraph
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    from cica_ld.query import check_nesting, service_spans

    for name in _SPARQL_PROPERTIES:
        for quad in shapes.quads_for_pattern(None, pyoxigraph.NamedNode(SH + name), None):
            text = quad.object.value
            try:  # before rdflib's recursive parser (here and in pySHACL) meets it
                check_nesting(text, origin=f"shapes: sh:{name} of {quad.subject}")
            except InputError as exc:
                raise InputError(exc.message, hint=exc.hint) from None
            if not service_spans(text):
                continue  # SERVICE is a keyword: no spelling of it, no call
            try:
                tree = (parseUpdate if name == "update" else parseQuery)(text)
            except Exception:  # rdflib raises many kinds on bad SPARQL
                tree = None
            if tree is None or _calls_service(tree):
                why = "calls SERVICE" if tree is not None else "spells SERVICE and does not parse"
                raise InputError(
                    f"shapes: sh:{name} of {quad.subject} {why}: refused, validation never "
                    "fetches from the network",
                    hint=_PYSHACL_HINT,
                )


def _to_rdflib(store: pyoxigraph.Store) -> tuple[rdflib.Graph, dict[str, Any]]:
    """The store's default graph as an rdflib Graph, and the map from the store's blank node ids
    to rdflib's (N-Triples out, N-Triples in: fast, and exact; literals as written)."""
    import pyoxigraph
    import rdflib

    from cica_ld.lexical import decode_quads, holds_surrogates

    default = pyoxigraph.DefaultGraph()
    if holds_surrogates(store):  # pySHACL gets the literals as written
        payload = pyoxigraph.serialize(
            [q.triple for q in decode_quads(store.quads_for_pattern(None, None, None, default))],
            format=pyoxigraph.RdfFormat.N_TRIPLES,
        )
    else:
        payload = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES, from_graph=default)
    graph = rdflib.Graph()
    ids: dict[str, Any] = {}
    if payload:
        graph.parse(data=payload.decode("utf-8"), format="nt", bnode_context=ids)
    return graph, ids


def _nt(term: Any, back: Mapping[Any, str]) -> str:
    """An rdflib term in N-Triples syntax (blank nodes mapped back to the store's ids)."""
    import pyoxigraph
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        return f"_:{back.get(term, str(term))}"
    if isinstance(term, rdflib.Literal):
        if term.language:
            return str(pyoxigraph.Literal(str(term), language=term.language))
        if term.datatype is not None:
            return str(pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(term.datatype)))
        return str(pyoxigraph.Literal(str(term)))
    return str(term)


def validate_with_pyshacl(
    data: pyoxigraph.Store,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None,
    *,
    inference: str = "none",
    warnings: list[ReportWarning] | None = None,
    prefixes: Mapping[str, str] | None = None,
    rules: bool = False,
) -> list[ValidationResult]:
    """Validate with pySHACL (the reference engine), results keyed by the stores' own terms.

    The data and the shapes go in as written (literals unchanged), the ontology as pySHACL's
    ontology graph (``ont_graph``, as ``pyshacl -e``). Every result pySHACL reports is kept,
    with one exception: pySHACL mixes the ontology into the data graph, so results whose focus
    node is one of the vocabulary's own terms (a subject of the ontology graph that is no
    subject in the data graph) are dropped: they are about the ontology, not the data.
    Nested results (``sh:detail``) become the ``details`` of the result they explain. Whatever
    rdflib or pySHACL raise on the shapes or the data is an :class:`InputError` (one line, no
    traceback); their log records and Python warnings are not printed (pySHACL's warnings,
    such as a recursion it backed out of, go to ``warnings``).
    ``prefixes`` are bound in the data graph: pySHACL resolves the prefixes of a SHACL-SPARQL
    query without ``sh:prefixes`` by the data graph's bindings. SHACL-AF (pySHACL's
    ``advanced``) is on when the shapes have SPARQL-based targets or ``rules`` is given; with
    ``rules``, pySHACL runs the rules to a fixpoint (``iterate_rules``) on its copy of the data.
    """
    import rdflib

    with _literals_as_written(), _sparql_parsed_once(), _quiet_libraries(warnings):
        _data, data_ids, shape_ids, report, vocabulary = _run_pyshacl(
            data, shapes, ontology, inference, prefixes, rules=rules
        )

    back: dict[Any, str] = {v: k for k, v in data_ids.items()}
    back.update({v: k for k, v in shape_ids.items()})
    sh = rdflib.Namespace(SH)

    def objects_in(graph: rdflib.Graph) -> Callable[[str, str], list[str]]:
        by_nt: dict[str, Any] = {}

        def objects(subject: str, predicate: str) -> list[str]:
            node = by_nt.get(subject)
            if node is None:
                return []
            out = []
            for o in graph.objects(node, rdflib.URIRef(predicate)):
                nt = _nt(o, back)
                by_nt[nt] = o
                out.append(nt)
            return out

        def start(node: Any) -> str:
            nt = _nt(node, back)
            by_nt[nt] = node
            return nt

        objects.start = start  # type: ignore[attr-defined]
        return objects

    read_path = objects_in(report)

    def read(r: Any, seen: frozenset) -> ValidationResult | None:
        focus = report.value(r, sh.focusNode)
        shape = report.value(r, sh.sourceShape)
        component = report.value(r, sh.sourceConstraintComponent)
        if focus is None or shape is None or component is None:
            return None
        path_node = report.value(r, sh.resultPath)
        path = None
        if path_node is not None:
            path = path_to_sparql(read_path.start(path_node), read_path)  # type: ignore[attr-defined]
        value = report.value(r, sh.value)
        constraint = report.value(r, sh.sourceConstraint)
        severity = report.value(r, sh.resultSeverity)
        nested = [
            d
            for d in (read(n, seen | {r}) for n in report.objects(r, sh.detail) if n not in seen)
            if d is not None
        ]
        return ValidationResult(
            focus_node=_nt(focus, back),
            source_shape=_nt(shape, back),
            constraint_component=str(component),
            severity=Severity.from_iri(str(severity)) if severity else Severity.VIOLATION,
            severity_iri=custom_severity(str(severity)) if severity else None,
            path=path,
            value=_nt(value, back) if value is not None else None,
            message=_pick_message(list(report.objects(r, sh.resultMessage))),
            source_constraint=_nt(constraint, back) if constraint is not None else None,
            details=tuple(sorted(nested, key=lambda d: d.key())),
        )

    inner = set(report.objects(None, sh.detail))
    results: list[ValidationResult] = []
    for r in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        if r in inner:
            continue  # a nested result: read as a detail of the one that points at it
        if report.value(r, sh.focusNode) in vocabulary:
            continue  # about a term of the ontology graph alone (pySHACL mixes it in)
        result = read(r, frozenset())
        if result is not None:
            results.append(result)
    return results


_PYSHACL_HINT = "--engine native validates without pySHACL"


def _run_pyshacl(
    data: pyoxigraph.Store,
    shapes: pyoxigraph.Store,
    ontology: pyoxigraph.Store | None,
    inference: str,
    prefixes: Mapping[str, str] | None = None,
    *,
    rules: bool = False,
) -> tuple[rdflib.Graph, dict[str, Any], dict[str, Any], rdflib.Graph, set[Any]]:
    """pySHACL over the stores: (data graph, the data's and the shapes' blank node ids, report
    graph, the vocabulary's own terms, see :func:`_vocabulary_terms`). ``prefixes``
    are bound in the data graph (where pySHACL looks for a query's prefixes). Every exception
    of rdflib or pySHACL is an :class:`InputError`; one raised in cica-ld's own code is not
    caught (a bug, exit 4)."""
    import pyshacl
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    refuse_service_in_shapes(shapes)
    try:
        data_g, data_ids = _to_rdflib(data)
        for name, ns in (prefixes or {}).items():
            data_g.bind(name, ns, override=True, replace=True)
        shapes_g, shape_ids = _to_rdflib(shapes)
        _drop_empty_property_shapes(shapes_g)
        onto_g = _to_rdflib(ontology)[0] if ontology is not None else None
        vocabulary = _vocabulary_terms(onto_g, data_g) if onto_g is not None else set()
        _conforms, report, _text = pyshacl.validate(
            data_g,
            shacl_graph=shapes_g,
            ont_graph=onto_g,
            inference=inference,
            inplace=True,  # data_g is ours: no need for pySHACL to copy it
            abort_on_first=False,
            allow_infos=True,
            allow_warnings=True,
            advanced=rules or _uses_advanced_features(shapes),
            iterate_rules=rules,
            debug=False,
        )
    except (ConstraintLoadError, ShapeLoadError) as exc:
        raise ShapesGraphError([(_one_line(str(exc)), None)]) from None
    except ReportableRuntimeError as exc:
        raise InputError(f"pySHACL: {_one_line(str(exc))}", hint=_PYSHACL_HINT) from None
    except RecursionError:
        raise InputError(
            "pySHACL: the shapes nest too deeply (recursive shapes?)", hint=_PYSHACL_HINT
        ) from None
    except Exception as exc:
        if isinstance(exc, (CicaError, MemoryError)) or _raised_in_cica_ld(exc):
            raise
        kind = type(exc).__name__
        if kind == "error":  # re.error, binascii.error, ...: name the module too
            kind = f"{type(exc).__module__}.{kind}"
        raise InputError(
            f"pySHACL failed on these shapes or data: {kind}: {_one_line(str(exc))[:300]}",
            hint=_PYSHACL_HINT,
        ) from None
    if isinstance(report, BaseException):  # pySHACL returns a failure instead of a report
        raise InputError(
            f"pySHACL could not validate: {_one_line(str(report))[:300]}", hint=_PYSHACL_HINT
        )
    return data_g, data_ids, shape_ids, report, vocabulary


def _drop_empty_property_shapes(shapes_g: rdflib.Graph) -> None:
    """Remove each ``sh:property [ ]`` (see :func:`empty_property_shapes`) from pySHACL's copy
    of the shapes: pySHACL 0.40.1 loads them but fails (ReportableRuntimeError, "not a
    well-formed SHACL PropertyShape") as soon as their shape has a focus node."""
    import rdflib

    prop = rdflib.URIRef(SH + "property")
    for s, o in list(shapes_g.subject_objects(prop)):
        if isinstance(o, rdflib.BNode) and next(shapes_g.predicate_objects(o), None) is None:
            shapes_g.remove((s, prop, o))


def _vocabulary_terms(onto_g: rdflib.Graph, data_g: rdflib.Graph) -> set[Any]:
    """The vocabulary's own terms: the subjects of the ontology graph that are no subject in
    the data graph (what the ontology describes and the data does not), on which pySHACL
    would report only because it mixes the ontology into the data graph."""
    return {s for s in set(onto_g.subjects()) if (s, None, None) not in data_g}


def _uses_advanced_features(shapes: pyoxigraph.Store) -> bool:
    """Whether the shapes have SPARQL-based targets or SHACL functions (pySHACL's advanced)."""
    import pyoxigraph

    target = shapes.quads_for_pattern(None, pyoxigraph.NamedNode(SH + "target"), None)
    functions = shapes.quads_for_pattern(
        None, pyoxigraph.NamedNode(RDF + "type"), pyoxigraph.NamedNode(SH + "SPARQLFunction")
    )
    return any(True for _ in target) or any(True for _ in functions)


def _raised_in_cica_ld(exc: BaseException) -> bool:
    """Whether the innermost frame of the exception's traceback is cica-ld's own code."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(Path(__file__).parent)


@contextlib.contextmanager
def _quiet_libraries(warnings: list[ReportWarning] | None) -> Iterator[None]:
    """rdflib and pySHACL neither log nor warn on stderr while they run (rdflib logs a
    traceback for every ill-typed literal): log records are dropped; Python warnings are
    collected and, one line each, added to ``warnings``."""
    import logging
    import warnings as py_warnings

    loggers = [logging.getLogger(name) for name in ("rdflib", "pyshacl", "owlrl")]
    levels = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        with py_warnings.catch_warnings(record=True) as caught:
            py_warnings.simplefilter("always")
            yield
    finally:
        for lg, level in levels:
            lg.setLevel(level)
    if warnings is not None:
        seen = {w.message for w in warnings}
        for w in caught:
            text = _one_line(str(w.message))
            first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0]
            message = f"pySHACL: {first[:200]}"
            if message not in seen:
                seen.add(message)
                warnings.append(ReportWarning("engine", message))


def _pick_message(messages: list[Any]) -> str | None:
    if not messages:
        return None
    for m in messages:
        if getattr(m, "language", None) in (None, "en") or str(
            getattr(m, "language", "")
        ).startswith("en"):
            return str(m)
    return str(messages[0])


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parse_term(term: str) -> Any:
    """A term in N-Triples syntax as a pyoxigraph term (None if it does not parse)."""
    import pyoxigraph

    try:
        if term.startswith(("<", "_:")):
            return _to_term(term)
        quad = next(
            iter(
                pyoxigraph.parse(
                    f"<urn:x:s> <urn:x:p> {term} .", format=pyoxigraph.RdfFormat.N_TRIPLES
                )
            )
        )
        return quad.object
    except (SyntaxError, ValueError, StopIteration):
        return None


# ---------------------------------------------------------------------------------------------
# Is the shapes graph itself valid?
#
# The syntax rules of SHACL (https://www.w3.org/TR/shacl/#syntax-rules) as the W3C "SHACL for
# SHACL" shapes graph states them (shapes, parameters, lists, paths), checked directly over the
# store for speed and for messages that name the rule; plus what the SHACL-SPARQL rules ask of
# sh:select (one query, that parses, with the prefixes it declares), sh:pattern (a regular
# expression SPARQL's REGEX accepts) and references to shapes that are defined nowhere.

_SHAPE_SUBJECT_PARAMS = tuple(
    [
        "targetClass",
        "targetNode",
        "targetObjectsOf",
        "targetSubjectsOf",
        "target",
        "and",
        "class",
        "closed",
        "datatype",
        "disjoint",
        "equals",
        "flags",
        "hasValue",
        "ignoredProperties",
        "in",
        "languageIn",
        "lessThan",
        "lessThanOrEquals",
        "maxCount",
        "maxExclusive",
        "maxInclusive",
        "maxLength",
        "minCount",
        "minExclusive",
        "minInclusive",
        "minLength",
        "node",
        "nodeKind",
        "not",
        "or",
        "pattern",
        "property",
        "qualifiedMaxCount",
        "qualifiedMinCount",
        "qualifiedValueShape",
        "qualifiedValueShapesDisjoint",
        "sparql",
        "uniqueLang",
        "xone",
    ]
)
_SHAPE_OBJECT_PARAMS = ("node", "not", "property", "qualifiedValueShape")
_PROPERTY_ONLY = (
    "lessThan",
    "lessThanOrEquals",
    "maxCount",
    "minCount",
    "qualifiedValueShape",
    "uniqueLang",
)
_COUNTS = (
    "maxCount",
    "minCount",
    "maxLength",
    "minLength",
    "qualifiedMaxCount",
    "qualifiedMinCount",
)
_PARAM_RULES: dict[str, tuple[str, ...]] = {
    "targetNode": ("iri-or-literal",),
    "targetClass": ("iri",),
    "targetSubjectsOf": ("iri",),
    "targetObjectsOf": ("iri",),
    "severity": ("max1", "iri"),
    "message": ("text",),
    "deactivated": ("max1", "true-false"),
    "and": ("list",),
    "or": ("list",),
    "xone": ("list",),
    "class": ("iri",),
    "closed": ("max1", "boolean"),
    "ignoredProperties": ("max1", "list", "iri-members"),
    "datatype": ("max1", "iri"),
    "disjoint": ("iri",),
    "equals": ("iri",),
    "lessThan": ("iri",),
    "lessThanOrEquals": ("iri",),
    "in": ("max1", "list"),
    "languageIn": ("max1", "list", "string-members"),
    "maxExclusive": ("max1", "literal"),
    "maxInclusive": ("max1", "literal"),
    "minExclusive": ("max1", "literal"),
    "minInclusive": ("max1", "literal"),
    "nodeKind": ("max1", "node-kind"),
    "pattern": ("max1", "string", "regex"),
    "flags": ("max1", "string"),
    "qualifiedValueShape": ("max1",),
    "qualifiedValueShapesDisjoint": ("max1", "boolean"),
    "uniqueLang": ("max1", "boolean"),
    **{c: ("max1", "count") for c in _COUNTS},
}
_NODE_KINDS = frozenset(
    f"<{SH}{k}>"
    for k in ("BlankNode", "IRI", "Literal", "BlankNodeOrIRI", "BlankNodeOrLiteral", "IRIOrLiteral")
)
_PATH_KEYS = ("inversePath", "zeroOrMorePath", "oneOrMorePath", "zeroOrOnePath")


class _Graph:
    """A small in-memory index of a (small) graph: subject -> predicate -> objects, literals
    as written (a surrogate, :mod:`cica_ld.lexical`, read as the literal it stands for)."""

    def __init__(self, store: pyoxigraph.Store) -> None:
        from cica_ld.lexical import decode_quads

        self.spo: dict[str, dict[str, list[Any]]] = {}
        self.pos: dict[str, list[tuple[str, Any]]] = {}
        for q in decode_quads(store.quads_for_pattern(None, None, None, None)):
            s, p = str(q.subject), q.predicate.value
            self.spo.setdefault(s, {}).setdefault(p, []).append(q.object)
            self.pos.setdefault(p, []).append((s, q.object))

    def values(self, node: str, predicate: str) -> list[Any]:
        return self.spo.get(node, {}).get(predicate, [])

    def subjects(self, predicate: str) -> list[str]:
        return [s for s, _ in self.pos.get(predicate, [])]

    def objects(self, predicate: str) -> list[Any]:
        return [o for _, o in self.pos.get(predicate, [])]

    def list_items(self, head: Any) -> tuple[list[Any], str | None]:
        """The members of a well-formed RDF list, or why it is not one."""
        items: list[Any] = []
        node = str(head)
        seen: set[str] = set()
        while node != f"<{RDF}nil>":
            if not node.startswith("_:") and not node.startswith("<"):
                return items, f"is not a list (found {node})"
            if node in seen:
                return items, "is a list with a cycle"
            seen.add(node)
            first = self.values(node, RDF + "first")
            rest = self.values(node, RDF + "rest")
            if len(first) != 1 or len(rest) != 1:
                return (
                    items,
                    "is not a well-formed list (each node needs one rdf:first and one rdf:rest)",
                )
            items.append(first[0])
            node = str(rest[0])
        if self.values(node, RDF + "first") or self.values(node, RDF + "rest"):
            return items, "is not a well-formed list (rdf:nil has rdf:first or rdf:rest)"
        return items, None


def shapes_graph_problems(
    store: pyoxigraph.Store,
    prefixes: Callable[[str], Mapping[str, str]] | None = None,
    *,
    rules: bool = False,
) -> list[tuple[str, str]]:
    """(shape, why) for every syntax rule of SHACL the shapes graph breaks (empty if valid).
    ``prefixes``: a shape -> the ``@prefix`` declarations of its file (see :class:`FilePrefixes`),
    for SHACL-SPARQL queries that use prefixes they do not declare. SHACL-AF features that are
    not run (``sh:rule`` unless ``rules``, see :mod:`cica_ld.shacl.advanced`) are problems too."""
    import pyoxigraph

    from cica_ld.shacl import advanced

    g = _Graph(store)
    problems: list[tuple[str, str]] = []
    shapes: dict[str, None] = {}  # ordered set
    for t in ("NodeShape", "PropertyShape"):
        for s, o in g.pos.get(RDF + "type", []):
            if str(o) == f"<{SH}{t}>":
                shapes[s] = None
    for param in _SHAPE_SUBJECT_PARAMS:
        for s in g.subjects(SH + param):
            shapes[s] = None
    as_property: set[str] = set()
    as_node: set[str] = set()
    for param in _SHAPE_OBJECT_PARAMS:
        for o in g.objects(SH + param):
            if not isinstance(o, pyoxigraph.Literal):
                shapes[str(o)] = None
                (as_property if param == "property" else as_node if param == "node" else set()).add(
                    str(o)
                )
    for param in ("and", "or", "xone"):
        for o in g.objects(SH + param):
            members, _why = g.list_items(o)
            for m in members:
                if not isinstance(m, pyoxigraph.Literal):
                    shapes[str(m)] = None
    for shape in shapes:
        for why in _shape_problems(g, shape, shape in as_property, shape in as_node, prefixes):
            problems.append((shape, why))
    for local in ("validator", "nodeValidator", "propertyValidator"):
        for comp, validator in g.pos.get(SH + local, []):
            for why in _validator_prefix_problems(g, comp, str(validator), prefixes):
                problems.append((comp, why))

    def check_query(node: str, text: str, what: str) -> Iterator[str]:
        return _query_problems(g, node, text, what, lambda: prefixes(node) if prefixes else {})

    problems.extend(advanced.problems(g, check_query, rules=rules))
    return problems


def _declared_prefixes(g: _Graph, node: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """rdf/rdfs/owl/xsd/sh and what ``sh:prefixes/owl:imports*/sh:declare`` of ``node``
    declares (SHACL 5.2.1), and the imports not followed (not loaded). Raises
    :class:`~cica_ld.shacl.shapes.ShapesError` for malformed or conflicting declarations."""
    from cica_ld.shacl.shapes import prefix_declarations

    found = prefix_declarations(lambda s, p: [str(o) for o in g.values(s, p)], node)
    return found.prefixes, found.unresolved


class _Problem(str):
    """A problem's text that can be told where (file:line) the thing it is about is used."""

    anchor: str  # the node whose query it is about
    prefix: str  # the prefix whose first use after the anchor is the place
    build: Callable[[str | None], str]

    @classmethod
    def make(cls, anchor: str, prefix: str, build: Callable[[str | None], str]) -> _Problem:
        out = cls(build(None))
        out.anchor, out.prefix, out.build = anchor, prefix, build
        return out


def _undeclared(
    text: str, declared: dict[str, str], file_prefixes: Callable[[], Mapping[str, str]]
) -> list[str]:
    """The prefixes ``text`` uses that are declared nowhere (``declared`` gets those the file
    declares)."""
    from cica_ld.shacl.sparql_text import SparqlConstraintError, undeclared_prefixes

    try:
        missing = undeclared_prefixes(text, set(declared))
    except SparqlConstraintError:
        return []  # unreadable: the parser says where
    if missing:
        in_file = file_prefixes()
        for name in missing:
            if name in in_file:
                declared[name] = in_file[name]
    return [name for name in missing if name not in declared]


def _undeclared_problem(
    what: str, nowhere: list[str], unresolved: tuple[str, ...], anchor: str
) -> _Problem:
    from cica_ld.shacl.shapes import undeclared_message

    return _Problem.make(
        anchor,
        nowhere[0],
        lambda where: undeclared_message(what, nowhere, unresolved, where),
    )


def _validator_prefix_problems(
    g: _Graph, comp: str, validator: str, prefixes: Callable[[str], Mapping[str, str]] | None
) -> Iterator[str]:
    """A validator's sh:ask/sh:select that uses a prefix declared nowhere."""
    import pyoxigraph

    for form in ("ask", "select"):
        for text in g.values(validator, SH + form):
            if not isinstance(text, pyoxigraph.Literal):
                continue
            try:
                declared, unresolved = _declared_prefixes(g, validator)
            except InputError as exc:
                yield exc.detail
                continue
            nowhere = _undeclared(text.value, declared, lambda: prefixes(comp) if prefixes else {})
            if nowhere:
                yield _undeclared_problem(
                    f"sh:{form} of validator {validator}", nowhere, unresolved, validator
                )


def _shape_problems(
    g: _Graph,
    shape: str,
    as_property: bool,
    as_node: bool,
    prefixes: Callable[[str], Mapping[str, str]] | None = None,
) -> Iterator[str]:
    import pyoxigraph

    Lit, BN, NN = pyoxigraph.Literal, pyoxigraph.BlankNode, pyoxigraph.NamedNode
    props = g.spo.get(shape, {})
    if as_property and not props and shape.startswith("_:"):
        return  # sh:property [ ]: no shape at all, ignored with a warning (see check_shapes_graph)
    types = {str(t) for t in g.values(shape, RDF + "type")}
    paths = g.values(shape, SH + "path")
    if len(paths) > 1:
        yield f"has {len(paths)} values of sh:path (a property shape has exactly one)"
    elif paths:
        why = _path_problem(g, paths[0], 0)
        if why:
            yield f"sh:path {why}"
        if f"<{SH}NodeShape>" in types:
            yield "is a sh:NodeShape but has a sh:path (node shapes have none)"
        if as_node:
            yield "is the value of sh:node, so it must be a node shape, but it has a sh:path"
    else:
        if as_property:
            yield "is the value of sh:property but has no sh:path"
        elif f"<{SH}PropertyShape>" in types:
            yield "is a sh:PropertyShape but has no sh:path"
        for param in _PROPERTY_ONLY if not as_property else ():
            if SH + param in props:
                yield f"sh:{param} is only allowed in a property shape (this shape has no sh:path)"
    if shape.startswith("_:") and (f"<{RDFS}Class>" in types or f"<{OWL}Class>" in types):
        yield "is a class and a shape (an implicit class target), so it must be an IRI"
    for param, rules in _PARAM_RULES.items():
        values = props.get(SH + param)
        if not values:
            continue
        label = f"sh:{param}"
        if "max1" in rules and len(values) > 1:
            yield f"{label} has {len(values)} values (at most one)"
        for v in values:
            shown = str(v)
            if "iri" in rules and not isinstance(v, NN):
                yield f"{label} must be an IRI, found {shown}"
            if "iri-or-literal" in rules and isinstance(v, BN):
                yield f"{label} must be an IRI or a literal, found a blank node"
            if "literal" in rules and not isinstance(v, Lit):
                yield f"{label} must be a literal, found {shown}"
            if "text" in rules and not (
                isinstance(v, Lit)
                and (v.language or v.datatype.value in (XSD + "string", RDF + "langString"))
            ):
                yield f"{label} must be a string (or a language-tagged string), found {shown}"
            if "string" in rules and not (
                isinstance(v, Lit) and not v.language and v.datatype.value == XSD + "string"
            ):
                yield f"{label} must be an xsd:string, found {shown}"
            if "boolean" in rules and not (
                isinstance(v, Lit) and v.datatype.value == XSD + "boolean"
            ):
                yield f"{label} must be an xsd:boolean, found {shown}"
            if "true-false" in rules and not (
                isinstance(v, Lit)
                and v.datatype.value == XSD + "boolean"
                and v.value in ("true", "false")
            ):
                yield f"{label} must be true or false, found {shown}"
            if "count" in rules:
                if not (isinstance(v, Lit) and v.datatype.value == XSD + "integer"):
                    yield f"{label} must be an xsd:integer, found {shown}"
                elif not re.fullmatch(r"\+?[0-9]+", v.value.strip()):
                    yield f"{label} must not be negative, found {v.value}"
            if "node-kind" in rules and shown not in _NODE_KINDS:
                yield (
                    f"{label} must be one of sh:BlankNode, sh:IRI, sh:Literal, sh:BlankNodeOrIRI, "
                    f"sh:BlankNodeOrLiteral, sh:IRIOrLiteral, found {shown}"
                )
            if "list" in rules:
                members, why = g.list_items(v)
                if why:
                    yield f"{label} {why}"
                if "iri-members" in rules and any(not isinstance(m, NN) for m in members):
                    yield f"{label} must list IRIs only"
                if "string-members" in rules and any(
                    not (isinstance(m, Lit) and m.datatype.value == XSD + "string") for m in members
                ):
                    yield f"{label} must list xsd:string language tags only"
            if "regex" in rules and isinstance(v, Lit):
                flags = g.values(shape, SH + "flags")
                why = _regex_problem(
                    v.value, flags[0].value if flags and isinstance(flags[0], Lit) else ""
                )
                if why is not None:
                    yield f"{label} {v.value!r} is not a valid regular expression{why}"
    # shapes referred to but defined nowhere (a typo leaves a constraint that never fails)
    refs: list[Any] = []
    for param in ("node", "property", "qualifiedValueShape", "not"):
        refs += g.values(shape, SH + param)
    for param in ("and", "or", "xone"):
        for head in g.values(shape, SH + param):
            refs += g.list_items(head)[0]
    for ref in refs:
        if isinstance(ref, NN) and str(ref) not in g.spo:
            yield f"refers to the shape {ref}, which the shapes graph does not define"
        if isinstance(ref, Lit):
            yield f"refers to a literal {ref} where a shape is expected"
    for constraint in g.values(shape, SH + "sparql"):
        yield from _sparql_problems(g, constraint, lambda: prefixes(shape) if prefixes else {})


def _path_problem(g: _Graph, node: Any, depth: int) -> str | None:
    import pyoxigraph

    if isinstance(node, pyoxigraph.NamedNode):
        return None
    if isinstance(node, pyoxigraph.Literal):
        return f"must be an IRI or a path, found the literal {node}"
    if depth > 32:
        return "is nested too deeply (a cycle?)"
    props = g.spo.get(str(node), {})
    if RDF + "first" in props:
        members, why = g.list_items(node)
        if why:
            return why
        if len(members) < 2:
            return "is a sequence path with fewer than two members"
        for m in members:
            why = _path_problem(g, m, depth + 1)
            if why:
                return why
        return None
    kinds = [k for k in (*_PATH_KEYS, "alternativePath") if SH + k in props]
    if len(kinds) != 1 or len(props) != 1 or len(props[SH + kinds[0]]) != 1:
        return (
            "is not a well-formed path (an IRI, a list, or a node with exactly one of "
            "sh:inversePath, sh:alternativePath, sh:zeroOrMorePath, sh:oneOrMorePath, "
            "sh:zeroOrOnePath)"
        )
    value = props[SH + kinds[0]][0]
    if kinds[0] == "alternativePath":
        members, why = g.list_items(value)
        if why:
            return f"sh:alternativePath {why}"
        if len(members) < 2:
            return "sh:alternativePath lists fewer than two paths"
        for m in members:
            why = _path_problem(g, m, depth + 1)
            if why:
                return why
        return None
    return _path_problem(g, value, depth + 1)


def _regex_problem(pattern: str, flags: str) -> str | None:
    """Whether SPARQL's REGEX (XPath regular expressions, as the engines run them) accepts it."""
    import pyoxigraph

    # the literals' N-Triples forms are valid SPARQL literals (escaped): nothing is injected
    pat, flg = pyoxigraph.Literal(pattern), pyoxigraph.Literal(flags)
    query = f'SELECT (REGEX("", {pat}, {flg}) AS ?ok) WHERE {{}}'
    rows = list(pyoxigraph.Store().query(query))
    if rows and rows[0]["ok"] is not None:
        return None
    return f" (with flags {flags!r})" if flags else ""


def _sparql_problems(
    g: _Graph, constraint: Any, file_prefixes: Callable[[], Mapping[str, str]] = dict
) -> Iterator[str]:
    import pyoxigraph

    if isinstance(constraint, pyoxigraph.Literal):
        yield f"sh:sparql must be a node with sh:select, found the literal {constraint}"
        return
    key = str(constraint)
    selects = g.values(key, SH + "select")
    if len(selects) != 1:
        yield f"a sh:sparql constraint has {len(selects)} values of sh:select (exactly one)"
        return
    select = selects[0]
    if not isinstance(select, pyoxigraph.Literal):
        yield f"sh:select must be a string, found {select}"
        return
    problems = list(_query_problems(g, key, select.value, "sh:select", file_prefixes))
    yield from problems
    if any(not p.startswith("sh:select is not valid SPARQL") for p in problems):
        return
    if not re.search(r"SELECT\b", select.value, re.IGNORECASE):
        yield "sh:select must be a SELECT query"
    elif not re.search(r"[$?]this\b", select.value):
        yield "sh:select does not mention $this (the focus node)"


def _query_problems(
    g: _Graph,
    key: str,
    text: str,
    what: str,
    file_prefixes: Callable[[], Mapping[str, str]] = dict,
) -> Iterator[str]:
    """What is wrong with the SPARQL ``text`` of the node ``key`` (its ``what``, e.g.
    ``sh:select``): a prefix declared nowhere, bad or conflicting sh:declare, SERVICE, a syntax
    error, a call of a function SPARQL 1.1 does not define (SHACL functions included)."""
    import pyoxigraph

    try:
        declared, unresolved = _declared_prefixes(g, key)
    except InputError as exc:
        yield exc.detail
        return
    nowhere = _undeclared(text, declared, file_prefixes)
    if nowhere:
        yield _undeclared_problem(what, nowhere, unresolved, key)
        return
    lines = [f"PREFIX {name}: <{ns}>" for name, ns in declared.items()]
    full = "\n".join([*lines, text])
    from cica_ld.errors import UnsafeQueryError
    from cica_ld.query import check_nesting, check_safety, without_service

    try:  # before any parser recurses into it
        check_nesting(text)
    except InputError as exc:
        yield f"sh:select: {exc.detail} ({exc.hint})"
        return
    try:  # pyoxigraph's parse, never evaluating a SERVICE
        check_safety(full)
    except UnsafeQueryError as exc:
        yield f"{what}: {exc.detail} (not allowed in a SHACL-SPARQL query)"
        return
    except InputError:
        pass  # a syntax error: reported below
    declared_functions = {  # the shapes' SHACL functions: callable (they run on the data)
        pyoxigraph.NamedNode(s[1:-1]): lambda *_args: None
        for s, t in g.pos.get(RDF + "type", [])
        if str(t) == f"<{SH}SPARQLFunction>" and s.startswith("<")
    }
    try:  # evaluated on an empty store: with no SERVICE left to call
        pyoxigraph.Store().query(without_service(full), custom_functions=declared_functions)
    except SyntaxError as exc:
        msg = str(exc).split("\n", 1)[0]
        if "Prefix not found" in str(exc):
            msg = (
                "a prefix is not declared (declare it with sh:declare and point sh:prefixes at it)"
            )
        elif len(msg) > 160:
            msg = msg[:160] + "..."
        yield f"{what} is not valid SPARQL: {msg}"
    except RuntimeError as exc:  # Oxigraph plans function calls before it evaluates
        called = re.search(r"custom function (<[^<>\s]*>)", str(exc))
        if called is None:
            raise
        yield (
            f"{what} calls the function {called.group(1)}, which is neither a SPARQL 1.1 "
            "function nor a sh:SPARQLFunction of the shapes (extension functions are not "
            "supported)"
        )
    except (ValueError, OSError):  # parsed, but failed on the empty store: fine
        pass


def empty_property_shapes(store: pyoxigraph.Store) -> list[tuple[str, str]]:
    """(shape, value) for every ``sh:property [ ]``: a value of sh:property that is a blank node
    with no triple at all about it. It is no shape (no sh:path, no constraint: it checks
    nothing), and both engines ignore it (the native engine skips it, see
    :mod:`cica_ld.shacl.shapes`; pySHACL 0.40.1 would fail on it, so the adapter leaves it out
    of pySHACL's copy, see :func:`_drop_empty_property_shapes`). A blank node with
    constraints but no sh:path stays an error: it would silently check nothing of what its
    author wrote."""
    import pyoxigraph

    out = []
    for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(SH + "property"), None):
        o = q.object
        if (
            isinstance(o, pyoxigraph.BlankNode)
            and next(iter(store.quads_for_pattern(o, None, None)), None) is None
        ):
            out.append((str(q.subject), str(o)))
    return sorted(set(out))


def check_shapes_graph(graph: LoadedGraph, *, rules: bool = False) -> list[ReportWarning]:
    """Raise :class:`ShapesGraphError` if the shapes graph breaks a syntax rule of SHACL or uses
    a SHACL-AF feature that is not run (``rules``: whether sh:rule is), each problem located at
    the shape it is about. Returns the warnings about what is ignored: each empty
    ``sh:property [ ]`` (:func:`empty_property_shapes`), located (file:line) where it is
    written."""
    problems = shapes_graph_problems(graph.store, FilePrefixes(graph), rules=rules)
    if not problems:
        return _empty_property_warnings(graph)
    prefixes = dict(WELL_KNOWN_PREFIXES)
    prefixes.update(file_prefixes(graph.specs))
    names = shape_names({s for s, _ in problems}, graph.store, prefixes)
    where = graph.locator().locate({s for s, _ in problems})
    problems = [
        (s, why.build(_use_location(graph, why.anchor, why.prefix)))
        if isinstance(why, _Problem)
        else (s, why)
        for s, why in problems
    ]
    located = [(f"{names.get(s, s)}: {why}", where.get(s)) for s, why in problems]
    located.sort(key=lambda p: (p[1] is None, p[1] or Location(""), p[0]))
    raise ShapesGraphError(located)


def _empty_property_warnings(graph: LoadedGraph) -> list[ReportWarning]:
    empty = empty_property_shapes(graph.store)
    if not empty:
        return []
    prefixes = dict(WELL_KNOWN_PREFIXES)
    prefixes.update(file_prefixes(graph.specs))
    names = shape_names({s for s, _ in empty}, graph.store, prefixes)
    where = graph.locator().locate({t for pair in empty for t in pair})
    out = []
    for shape, value in empty:
        loc = where.get(value) or where.get(shape)
        at = f"{loc}: " if loc is not None else ""
        name = names.get(shape, shape)
        out.append(
            ReportWarning(
                "empty-property-shape",
                f"{at}{name}: an empty sh:property [ ] (no sh:path, no constraint) checks "
                "nothing: ignored",
                (name,),
            )
        )
    return out


def _use_location(graph: LoadedGraph, anchor: str, prefix: str) -> str | None:
    """file:line:column of the first ``prefix:`` name written after where ``anchor`` (the node
    holding a query) stands in its file; None where that is not known."""
    loc = graph.locator().locate({anchor}).get(anchor)
    if loc is None or loc.line is None:
        return None
    spec = next((s for s in graph.specs if s.shown == loc.path), None)
    if spec is None:
        return None
    try:
        lines = Path(spec.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    use = re.compile(r"(?<![\w.:\-])" + re.escape(prefix) + r":(?![/\s])")
    for n in range(loc.line - 1, len(lines)):
        start = (loc.column or 1) - 1 if n == loc.line - 1 else 0
        m = use.search(lines[n], start)
        if m is not None:
            return str(Location(loc.path, n + 1, m.start() + 1))
    return None


# ---------------------------------------------------------------------------------------------
# What was checked
#
# "Conforms" over nothing is no news: empty data, a shapes graph without shapes, shapes that
# nothing targets, targets that select no node. Counted over the stores directly (the same for
# both engines): every shape, the targeted ones, what they refer to, and per targeted shape the
# focus nodes its targets select in the data.

_TARGETS = ("targetNode", "targetClass", "targetSubjectsOf", "targetObjectsOf")
_SHAPE_REFS = ("property", "node", "not", "qualifiedValueShape")
#: At most this many shapes are named in a warning (the rest are counted).
WARNING_SHAPES = 10


def check_coverage(
    shapes: pyoxigraph.Store,
    data: pyoxigraph.Store | None,
    ontology: pyoxigraph.Store | None,
    prefixes: Mapping[str, str],
    *,
    inference: bool = False,
    shapes_prefixes: Callable[[str], Mapping[str, str]] | None = None,
) -> tuple[Coverage, list[ReportWarning]]:
    """What a run checks (``data`` None: an endpoint, not counted) and the warnings about what
    it does not: empty data, no shapes, no targets, shapes never reached from a target, targets
    that select no focus node."""

    g = _Graph(shapes)
    all_shapes = _all_shapes(g)
    active = [s for s in all_shapes if not _deactivated(g, s)]
    targeted = [s for s in active if _has_target(g, s)]
    # reached from a target; what only switched-off shapes use is switched off with them
    reached = _closure(g, targeted)
    reached |= _closure(g, [str(o) for o in g.objects(SH + "condition")])  # of rules
    unreached = [s for s in active if s not in reached]
    off = _closure(g, [s for s in all_shapes if s not in active])
    unreached = [s for s in unreached if s not in off]
    # name the unreached shapes nothing else refers to (a node shape, not its property shapes)
    referred = {r for s in all_shapes for r in _refs(g, s)}
    roots = [s for s in unreached if s not in referred]
    covered = _closure(g, roots)
    roots += [s for s in unreached if s not in covered]  # shapes referring to each other only
    names = shape_names(set(targeted) | set(roots), shapes, prefixes)
    counter = _FocusCounter(data, ontology, shapes, shapes_prefixes) if data is not None else None
    per_shape = []
    for s in sorted(targeted, key=lambda t: names[t]):
        per_shape.append(
            ShapeCoverage(
                shape=s,
                name=names[s],
                targets=_targets_text(g, s, prefixes),
                focus_nodes=counter.count(g, s) if counter is not None else None,
            )
        )
    coverage = Coverage(
        data_triples=len(data) if data is not None else None,
        shapes=len(all_shapes),
        targeted=tuple(per_shape),
        untargeted=tuple(sorted(names[s] for s in roots)),
        deactivated=len(all_shapes) - len(active),
        inference=inference,
    )
    return coverage, _coverage_warnings(coverage)


def _coverage_warnings(c: Coverage) -> list[ReportWarning]:
    out: list[ReportWarning] = []
    if c.data_triples == 0:
        out.append(
            ReportWarning("empty-data", "the data graph is empty (no triples): nothing was checked")
        )
    if c.shapes == 0:
        out.append(
            ReportWarning("empty-shapes", "the shapes graph has no shapes: nothing was checked")
        )
    elif not c.targeted:
        out.append(
            ReportWarning(
                "no-targets",
                "no shape has a target (sh:targetClass, sh:targetNode, sh:targetSubjectsOf, "
                "sh:targetObjectsOf, or a shape that is also a class): nothing was checked",
            )
        )
    if c.untargeted and c.shapes:
        n = len(c.untargeted)
        out.append(
            ReportWarning(
                "untargeted-shapes",
                f"{_count(n, 'shape')} never checked: no target, and no shape with a target "
                f"refers to {'it' if n == 1 else 'them'}: {_listed(c.untargeted)}",
                c.untargeted,
            )
        )
    empty = [s for s in c.targeted if s.focus_nodes == 0]
    if empty and c.data_triples != 0:
        listed = _listed([f"{s.name} ({s.targets})" for s in empty])
        when = " before inference" if c.inference else ""
        out.append(
            ReportWarning(
                "no-focus-nodes",
                f"the targets of {_count(len(empty), 'shape')} select no focus node in the "
                f"data{when}, so {'it was' if len(empty) == 1 else 'they were'} not checked: "
                f"{listed}",
                tuple(s.name for s in empty),
            )
        )
    return out


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:WARNING_SHAPES])
    more = len(items) - WARNING_SHAPES
    return f"{shown}, and {more} more" if more > 0 else shown


def _all_shapes(g: _Graph) -> list[str]:
    """Every node the shapes graph makes a shape (as SHACL defines it), parameter declarations
    of SPARQL-based constraint components excepted."""
    import pyoxigraph

    found: dict[str, None] = {}
    for s, o in g.pos.get(RDF + "type", []):
        if str(o) in (f"<{SH}NodeShape>", f"<{SH}PropertyShape>"):
            found[s] = None
    for param in (*_SHAPE_SUBJECT_PARAMS, "target"):
        for s in g.subjects(SH + param):
            found[s] = None
    for param in _SHAPE_REFS:
        for o in g.objects(SH + param):
            if not isinstance(o, pyoxigraph.Literal):
                found[str(o)] = None
    for param in ("and", "or", "xone"):
        for o in g.objects(SH + param):
            for m in g.list_items(o)[0]:
                if not isinstance(m, pyoxigraph.Literal):
                    found[str(m)] = None
    not_shapes = {str(o) for o in g.objects(SH + "parameter")}
    not_shapes |= set(g.subjects(SH + "parameter"))  # constraint components
    # sh:property [ ]: ignored (see empty_property_shapes), unless something else makes it one
    other_refs = {str(o) for p in _SHAPE_REFS if p != "property" for o in g.objects(SH + p)}
    not_shapes |= {
        str(o)
        for o in g.objects(SH + "property")
        if isinstance(o, pyoxigraph.BlankNode) and str(o) not in g.spo and str(o) not in other_refs
    }
    return [s for s in found if s not in not_shapes]


def _deactivated(g: _Graph, shape: str) -> bool:
    return any(str(v) == f'"true"^^<{XSD}boolean>' for v in g.values(shape, SH + "deactivated"))


def _has_target(g: _Graph, shape: str) -> bool:
    if any(g.values(shape, SH + t) for t in (*_TARGETS, "target")):
        return True
    types = {str(t) for t in g.values(shape, RDF + "type")}
    return f"<{RDFS}Class>" in types or f"<{OWL}Class>" in types


def _closure(g: _Graph, shapes: Iterable[str]) -> set[str]:
    """The shapes and every shape they refer to, at any depth."""
    found: set[str] = set()
    todo = list(shapes)
    while todo:
        s = todo.pop()
        if s not in found:
            found.add(s)
            todo.extend(_refs(g, s))
    return found


def _refs(g: _Graph, shape: str) -> list[str]:
    out = [str(o) for p in _SHAPE_REFS for o in g.values(shape, SH + p)]
    for p in ("and", "or", "xone"):
        for head in g.values(shape, SH + p):
            out.extend(str(m) for m in g.list_items(head)[0])
    return [o for o in out if o.startswith(("<", "_:"))]


def _targets_text(g: _Graph, shape: str, prefixes: Mapping[str, str]) -> str:
    parts = []
    for t in _TARGETS:
        for v in g.values(shape, SH + t):
            parts.append(f"sh:{t} {abbreviate(str(v), prefixes)}")
    if g.values(shape, SH + "target"):
        parts.append("sh:target")
    types = {str(t) for t in g.values(shape, RDF + "type")}
    if f"<{RDFS}Class>" in types or f"<{OWL}Class>" in types:
        parts.append(f"implicit class target {abbreviate(shape, prefixes)}")
    return ", ".join(parts)


class _FocusCounter:
    """Counts the focus nodes a shape's targets select in the data (subclasses from the data
    and the ontology count for sh:targetClass and implicit class targets)."""

    def __init__(
        self,
        data: pyoxigraph.Store,
        ontology: pyoxigraph.Store | None,
        shapes: pyoxigraph.Store | None = None,
        shapes_prefixes: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self.data = data
        self.ontology = ontology
        self.shapes = shapes
        self.shapes_prefixes = shapes_prefixes
        self._engine: Any = None
        sub: dict[str, set[str]] = {}
        query = f"SELECT ?s ?o WHERE {{ ?s <{RDFS}subClassOf> ?o }}"
        for store in (data, ontology):
            if store is None:
                continue
            for row in store.query(query):  # type: ignore[union-attr]
                sub.setdefault(str(row["o"]), set()).add(str(row["s"]))  # type: ignore[index]
        self.sub = sub

    def _subclasses(self, cls: str) -> set[str]:
        seen = {cls}
        todo = [cls]
        while todo:
            for s in self.sub.get(todo.pop(), ()):
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        return seen

    def count(self, g: _Graph, shape: str) -> int | None:
        if g.values(shape, SH + "target"):
            return self._count_by_engine(shape)
        nodes = {str(v) for v in g.values(shape, SH + "targetNode")}
        classes = {str(c) for c in g.values(shape, SH + "targetClass")}
        types = {str(t) for t in g.values(shape, RDF + "type")}
        if f"<{RDFS}Class>" in types or f"<{OWL}Class>" in types:
            classes.add(shape)
        parts = []
        named = sorted(n for n in nodes if not n.startswith("_:"))
        if named:
            parts.append(f"{{ VALUES ?this {{ {' '.join(named)} }} }}")
        all_classes = sorted({s for c in classes for s in self._subclasses(c)})
        iris = [c for c in all_classes if c.startswith("<")]
        if iris:
            parts.append(f"{{ ?this <{RDF}type> ?t . VALUES ?t {{ {' '.join(iris)} }} }}")
        for p in g.values(shape, SH + "targetSubjectsOf"):
            if str(p).startswith("<"):
                parts.append(f"{{ ?this {p} ?o }}")
        for p in g.values(shape, SH + "targetObjectsOf"):
            if str(p).startswith("<"):
                parts.append(f"{{ ?s {p} ?this }}")
        blank = len(nodes) - len(named)  # blank target nodes: focus nodes, in no data
        if not parts:
            return blank
        query = f"SELECT (COUNT(DISTINCT ?this) AS ?n) WHERE {{ {' UNION '.join(parts)} }}"
        rows = list(self.data.query(query))  # type: ignore[arg-type]
        return blank + int(rows[0]["n"].value)  # type: ignore[index,union-attr]

    def _count_by_engine(self, shape: str) -> int | None:
        """The focus nodes of a shape with SPARQL-based targets, as the native engine selects
        them (None when it cannot say)."""
        if self.shapes is None:
            return None
        from cica_ld.shacl.backend import LocalBackend
        from cica_ld.shacl.engine import Engine

        try:
            if self._engine is None:
                self._engine = Engine(
                    LocalBackend(self.data),
                    self.shapes,
                    self.ontology,
                    file_prefixes=self.shapes_prefixes,
                )
            engine = self._engine
            return len(engine._focus_nodes(engine.target_focus([engine.shapes.shape(shape)])))
        except InputError:
            return None
