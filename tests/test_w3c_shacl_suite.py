"""The W3C SHACL test suite (core and SPARQL), run against the native engine.

The suite is a copy of ``data-shapes-test-suite/tests`` of the w3c/data-shapes repository
(commit ff9edb9), kept unmodified in ``tests/w3c-shacl/``. Every entry of every manifest
(``mf:entries``) is one test: its ``mf:action`` names the data graph and the shapes graph, its
``mf:result`` the expected validation report, or ``sht:Failure`` when a conforming processor
must refuse the shapes.

A test passes when the Turtle report cica-ld writes (``--format ttl``) has the expected
``sh:conforms`` and the expected results, counted as a multiset: each result compared by focus
node, result path, value, source shape, constraint component and severity IRI (see
tests/_shacl_conformance.py, shared with the DASH suite).

Tests the engine does not support are listed in ``tests/w3c-shacl-unsupported.txt`` with the
reason, and reported as skips with that reason; the list is checked against the suite, so an
entry that names no test, or a listed test that passes, fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from _shacl_conformance import (
    Reader,
    Report,
    actual_report,
    difference,
    load,
    load_graph,
    report_keys,
)

from cica_ld.errors import InputError

SUITE = Path(__file__).resolve().parent / "w3c-shacl"
UNSUPPORTED_FILE = Path(__file__).resolve().parent / "w3c-shacl-unsupported.txt"

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"


@dataclass(frozen=True)
class Case:
    id: str  # section/subsection/name, e.g. core/node/class-001
    manifest: Path
    entry: str  # the entry's IRI (N-Triples)
    data: Path
    shapes: Path

    @property
    def section(self) -> str:
        return self.id.rsplit("/", 1)[0]


def _file_of(iri: str) -> Path:
    assert iri.startswith("<file://"), iri
    from urllib.parse import unquote, urlsplit

    return Path(unquote(urlsplit(iri[1:-1]).path))


def _manifests(path: Path) -> list[Path]:
    """``path`` and every manifest it includes (mf:include), depth first."""
    r = Reader(load(path))
    out = [path]
    for m in r.subjects(MF + "include", None):
        for inc in r.objects(m, MF + "include"):
            out.extend(_manifests(_file_of(inc)))
    return out


@cache
def cases() -> tuple[Case, ...]:
    found: list[Case] = []
    for manifest in _manifests(SUITE / "manifest.ttl"):
        r = Reader(load(manifest))
        for m in r.subjects(MF + "entries", None):
            for entry in r.items(r.objects(m, MF + "entries")[0]):
                action = r.value(entry, MF + "action")
                assert action is not None, entry
                data = r.value(action, SHT + "dataGraph")
                shapes = r.value(action, SHT + "shapesGraph")
                assert data is not None and shapes is not None, entry
                rel = manifest.parent.relative_to(SUITE).as_posix()
                name = entry.strip("<>").rsplit("/", 1)[-1]
                found.append(
                    Case(f"{rel}/{name}", manifest, entry, _file_of(data), _file_of(shapes))
                )
    return tuple(sorted(found, key=lambda c: c.id))


def unsupported() -> dict[str, str]:
    """Test id -> reason, from ``tests/w3c-shacl-unsupported.txt`` (``id: reason`` lines)."""
    out: dict[str, str] = {}
    for line in UNSUPPORTED_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition(":")
        out[test_id.strip()] = reason.strip()
    return out


def expected_results(case: Case) -> Report | None:
    """The report a test expects (None for ``sht:Failure``)."""
    r = Reader(load(case.manifest))
    result = r.value(case.entry, MF + "result")
    assert result is not None
    if result == f"<{SHT}Failure>":
        return None
    return report_keys(r, result)


def actual_results(case: Case) -> Report:
    """The native engine's Turtle report (see tests/_shacl_conformance.py)."""
    data = load_graph(case.data)
    shapes = data if case.shapes == case.data else load_graph(case.shapes)
    return actual_report(data, shapes, "native")


def outcome(case: Case) -> tuple[bool, str]:
    """(passed, explanation) for one test."""
    expected = expected_results(case)
    if expected is None:
        try:
            actual_results(case)
        except InputError as exc:
            return True, f"refused as expected: {exc}"
        return False, "the shapes graph should have been refused (sht:Failure)"
    try:
        actual = actual_results(case)
    except InputError as exc:
        return False, f"refused: {exc}"
    why = difference(expected, actual)
    return not why, why


# --------------------------------------------------------------------------------------------
# The tests


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_w3c_case(case: Case) -> None:
    reason = unsupported().get(case.id)
    if reason is not None:
        passed, _why = outcome(case)
        assert not passed, f"{case.id} is listed as unsupported but passes: remove it from the list"
        pytest.skip(f"unsupported: {reason}")
    passed, why = outcome(case)
    assert passed, why


def test_suite_is_complete_and_unmodified() -> None:
    """The copy holds the suite's core and SPARQL sections with every manifest entry found."""
    sections = {c.id.split("/")[0] for c in cases()}
    assert sections == {"core", "sparql"}
    assert len(cases()) >= 120
    assert (SUITE / "README.md").is_file()


def test_unsupported_list_names_real_tests_with_reasons() -> None:
    ids = {c.id for c in cases()}
    listed = unsupported()
    assert set(listed) <= ids, f"not in the suite: {sorted(set(listed) - ids)}"
    assert all(reason for reason in listed.values()), "every unsupported test needs a reason"
