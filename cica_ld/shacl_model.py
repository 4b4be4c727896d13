"""The engine-neutral model of SHACL validation results (the contract between engines and reports).

Engines (``--engine native``, the fast SHACL-to-SPARQL engine; ``--engine pyshacl``, the
reference) produce :class:`ValidationResult` values; ``validation.py`` adds source locations and
renders reports. Terms are kept in N-Triples syntax (``<iri>``, ``_:b0``, ``"lit"^^<dt>``) so
results from different engines compare as plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

SH = "http://www.w3.org/ns/shacl#"

ENGINES: tuple[str, ...] = ("native", "pyshacl")
#: The engine used when none is named: the native engine (it gives the same results as pySHACL
#: on the repository data, the W3C suite and generated defects; see tests/test_shacl_engine.py).
#: It validates the data as given, so a run that asks for inference uses pySHACL instead.
DEFAULT_ENGINE = "native"
INFERENCE_ENGINE = "pyshacl"
INFERENCE: tuple[str, ...] = ("none", "rdfs", "owlrl")


class Severity(IntEnum):
    """SHACL's three severity levels, ordered so that ``>=`` means "at least as severe".

    SHACL allows any IRI as a severity (``sh:severity ex:Blocker``); a result keeps such an IRI
    (:attr:`ValidationResult.severity_iri`) and counts at the level :meth:`from_iri` gives it:
    violation, the most severe (SHACL's default severity).
    """

    INFO = 1
    WARNING = 2
    VIOLATION = 3

    @property
    def iri(self) -> str:
        return SH + self.name.capitalize()

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_iri(cls, iri: str) -> Severity:
        """The level of a severity IRI (with or without angle brackets): exactly ``sh:Info``
        or ``sh:Warning`` are those levels; ``sh:Violation`` and every other IRI (a custom
        severity, or an IRI that merely ends in ``#Info``) count as violations."""
        return {SH + "Info": cls.INFO, SH + "Warning": cls.WARNING}.get(
            iri.strip("<>"), cls.VIOLATION
        )

    @classmethod
    def parse(cls, name: str) -> Severity:
        return cls[name.upper()]


def custom_severity(iri: str) -> str | None:
    """``iri`` (without angle brackets) if it is a custom severity, that is none of
    ``sh:Info``, ``sh:Warning``, ``sh:Violation``; else None."""
    iri = iri.strip("<>")
    return None if iri in _LEVEL_IRIS else iri


_LEVEL_IRIS = frozenset(SH + n for n in ("Info", "Warning", "Violation"))


@dataclass(frozen=True)
class ValidationResult:
    """One ``sh:ValidationResult``. Terms in N-Triples syntax; ``path`` in SPARQL path syntax.

    ``details`` are SHACL's ``sh:detail``: the results of a nested shape (``sh:node``,
    ``sh:qualifiedValueShape``, a member of ``sh:and``/``sh:or``/``sh:xone``) that made this
    one fail; they do not count in comparisons. ``severity_iri`` is a custom severity's IRI
    (without angle brackets; None for sh:Info, sh:Warning, sh:Violation), ``severity`` then
    the level it counts at (violation).
    """

    focus_node: str
    source_shape: str
    constraint_component: str  # the component IRI, without angle brackets
    severity: Severity = Severity.VIOLATION
    path: str | None = None
    value: str | None = None
    message: str | None = None
    source_constraint: str | None = None  # for sh:sparql constraints: the constraint node
    details: tuple[ValidationResult, ...] = field(default=(), compare=False)
    severity_iri: str | None = None

    @property
    def severity_term(self) -> str:
        """The result's ``sh:resultSeverity`` in N-Triples syntax (``<iri>``)."""
        return f"<{self.severity_iri or self.severity.iri}>"

    def key(self) -> tuple[str, str, str, str | None, str | None]:
        """What identifies a result when two engines are compared (messages may differ)."""
        return (
            self.focus_node,
            self.source_shape,
            self.constraint_component,
            self.path,
            self.value,
        )


_PATH_UNARY = {
    "zeroOrMorePath": "*",
    "oneOrMorePath": "+",
    "zeroOrOnePath": "?",
}
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def path_to_sparql(node: str, objects: Callable[[str, str], list[str]]) -> str:
    """Render a SHACL property path (the node of ``sh:path``) in SPARQL path syntax.

    Terms are in N-Triples syntax; ``objects(subject, predicate_iri)`` returns the objects of a
    subject for a predicate IRI (without angle brackets), so any graph can be read. The form is
    fixed so that engines agree: IRIs as ``<iri>``; ``^p`` inverse; ``a/b`` sequence; ``a|b``
    alternative; ``p*``, ``p+``, ``p?``; every operand that is not an IRI in parentheses, e.g.
    ``^(<a>/<b>)``, ``(<a>|<b>)*``, ``<a>/(^<b>)``.
    """

    def operand(n: str) -> str:
        text = render(n)
        return text if n.startswith("<") else f"({text})"

    def members(n: str) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        while n != f"<{_RDF}nil>" and n not in seen:
            seen.add(n)
            first = objects(n, _RDF + "first")
            if not first:
                break
            out.append(first[0])
            rest = objects(n, _RDF + "rest")
            if not rest:
                break
            n = rest[0]
        return out

    def render(n: str) -> str:
        if n.startswith("<"):
            return n
        inverse = objects(n, SH + "inversePath")
        if inverse:
            return "^" + operand(inverse[0])
        alternative = objects(n, SH + "alternativePath")
        if alternative:
            return "|".join(operand(m) for m in members(alternative[0]))
        for local, suffix in _PATH_UNARY.items():
            inner = objects(n, SH + local)
            if inner:
                return operand(inner[0]) + suffix
        if objects(n, _RDF + "first"):
            return "/".join(operand(m) for m in members(n))
        return n  # not a well-formed path: shown as the node itself

    return render(node)
