"""The engine-neutral model of SHACL validation results (the contract between engines and reports).

Engines (``--engine native``, the fast SHACL-to-SPARQL engine; ``--engine pyshacl``, the
reference) produce :class:`ValidationResult` values; ``validation.py`` adds source locations and
renders reports. Terms are kept in N-Triples syntax (``<iri>``, ``_:b0``, ``"lit"^^<dt>``) so
results from different engines compare as plain tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

SH = "http://www.w3.org/ns/shacl#"


class Severity(IntEnum):
    """SHACL severities, ordered so that ``>=`` means "at least as severe"."""

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
        """``sh:Violation`` etc. (with or without angle brackets); unknown IRIs count as
        violations, as the SHACL spec treats any other severity as a violation-level result."""
        local = iri.strip("<>").rsplit("#", 1)[-1]
        return {"Info": cls.INFO, "Warning": cls.WARNING}.get(local, cls.VIOLATION)

    @classmethod
    def parse(cls, name: str) -> Severity:
        return cls[name.upper()]


@dataclass(frozen=True)
class ValidationResult:
    """One ``sh:ValidationResult``. Terms in N-Triples syntax; ``path`` in SPARQL path syntax."""

    focus_node: str
    source_shape: str
    constraint_component: str  # the component IRI, without angle brackets
    severity: Severity = Severity.VIOLATION
    path: str | None = None
    value: str | None = None
    message: str | None = None
    source_constraint: str | None = None  # for sh:sparql constraints: the constraint node

    def key(self) -> tuple[str, str, str, str | None, str | None]:
        """What identifies a result when two engines are compared (messages may differ)."""
        return (
            self.focus_node,
            self.source_shape,
            self.constraint_component,
            self.path,
            self.value,
        )
