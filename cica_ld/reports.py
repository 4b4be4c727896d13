"""Rendering validation reports: ``render(report, fmt) -> str``.

Formats: ``text`` (for people and compilers' problem matchers), ``json`` (the stable schema in
``docs/validation-report.schema.json``), ``turtle`` (the W3C ``sh:ValidationReport`` graph),
``sarif`` (SARIF 2.1.0, for GitHub code scanning and other SARIF viewers), ``junit`` (JUnit XML,
for GitLab, Jenkins and other CI test reports) and ``github`` (GitHub Actions workflow commands,
which annotate the files of a pull request).

``max_results`` caps the results shown; every format then says how many were left out (the
summary counts always cover every result). The results kept are the most severe first; they are
shown in report order (file, line, column).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from cica_ld import __version__
from cica_ld.errors import UsageError
from cica_ld.shacl_model import SH, Severity, ValidationResult
from cica_ld.validation import Finding, ValidationReport, abbreviate, abbreviate_path

FORMATS: tuple[str, ...] = ("text", "json", "turtle", "sarif", "junit", "github")
#: Output file extension -> format (for ``--output`` without ``--format``).
EXTENSION_FORMATS: dict[str, str] = {
    ".txt": "text",
    ".json": "json",
    ".ttl": "turtle",
    ".sarif": "sarif",
    ".xml": "junit",
}
JSON_SCHEMA_ID = "https://w3id.org/cica-ld/schemas/validation-report-1.json"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://w3id.org/cica-ld"


def format_for_output(path: str | PurePath) -> str | None:
    """The report format an output file's name suggests (``x.sarif``, ``x.sarif.json``)."""
    name = PurePath(path).name.lower()
    if name.endswith(".sarif.json"):
        return "sarif"
    for ext, fmt in EXTENSION_FORMATS.items():
        if name.endswith(ext):
            return fmt
    return None


def choose_format(fmt: str | None, output: str | PurePath | None) -> str:
    """The report format: ``fmt`` if given, else from ``output``'s extension, else ``text``.

    An output file whose extension names no report format (``report.csv``) raises
    :class:`UsageError` before anything is validated; a name without one (or ``-``) is text.
    """
    if fmt is not None:
        return check_format(fmt)
    if output is None or not PurePath(output).suffix:
        return "text"
    found = format_for_output(output)
    if found is None:
        known = ", ".join([*EXTENSION_FORMATS, ".sarif.json"])
        raise UsageError(
            f"cannot tell the report format from the extension {PurePath(output).suffix!r} "
            f"({known})",
            path=output,
            hint=f"name it with --format ({', '.join(FORMATS)})",
        )
    return found


def check_format(fmt: str) -> str:
    """The report format ``fmt`` names (in any case; ``ttl`` and the other aliases of
    :func:`cica_ld.dataset.format_name` for ``turtle``), else :class:`UsageError`."""
    from cica_ld.dataset import format_name

    name = fmt.strip().lower()
    if name not in FORMATS:
        name = format_name(fmt)
    if name not in FORMATS:
        raise UsageError(
            f"unknown report format {fmt!r}", hint=f"use --format with one of: {', '.join(FORMATS)}"
        )
    return name


def render(report: ValidationReport, fmt: str = "text", *, max_results: int | None = None) -> str:
    """The report as text in format ``fmt`` (see :data:`FORMATS`)."""
    fmt = check_format(fmt)
    if max_results is not None and max_results < 0:
        raise UsageError("--max-results must be 0 or more")
    shown = select(report.findings, max_results)
    omitted = len(report.findings) - len(shown)
    return _RENDERERS[fmt](report, shown, omitted, max_results)


def select(findings: Sequence[Finding], max_results: int | None) -> list[Finding]:
    """At most ``max_results`` findings, the most severe first, kept in report order."""
    if max_results is None or max_results >= len(findings):
        return list(findings)
    ranked = sorted(range(len(findings)), key=lambda i: (-int(findings[i].result.severity), i))
    keep = sorted(ranked[:max_results])
    return [findings[i] for i in keep]


# ---------------------------------------------------------------------------------------------
# helpers shared by the formats


def _plural(n: int, word: str) -> str:
    if word == "info":
        return f"{n} info"
    return f"{n} {word}{'' if n == 1 else 's'}"


def counts_text(report: ValidationReport) -> str:
    """``2 violations, 0 warnings, 1 info``; custom severities count as violations and are
    named: ``2 violations (1 ex:Blocker), ...``."""
    c = report.counts
    violations = _plural(c[Severity.VIOLATION], "violation")
    custom = report.custom_counts
    if custom:
        named = ", ".join(
            f"{n} {abbreviate(f'<{iri}>', report.prefixes)}" for iri, n in sorted(custom.items())
        )
        violations += f" ({named})"
    return ", ".join(
        [
            violations,
            _plural(c[Severity.WARNING], "warning"),
            _plural(c[Severity.INFO], "info"),
        ]
    )


def severity_name(r: ValidationResult, report: ValidationReport) -> str:
    """A result's severity as reports name it: ``violation``, ``warning``, ``info``, or a
    custom severity's IRI (prefixed where a prefix fits)."""
    if r.severity_iri is not None:
        return abbreviate(f"<{r.severity_iri}>", report.prefixes)
    return r.severity.label


def fail_on_text(report: ValidationReport) -> str:
    """The --fail-on of the run: a level name or a custom severity's IRI (prefixed)."""
    if report.fail_on_iri is not None:
        return abbreviate(f"<{report.fail_on_iri}>", report.prefixes)
    return report.fail_on.label


def verdict(report: ValidationReport) -> str:
    """One line: does the data conform, and under which --fail-on (or was nothing checked)."""
    if report.conforms and report.nothing_checked:
        if report.fail_on_empty:
            return f"fails: nothing checked ({report.nothing_checked}; --fail-on-empty)"
        return f"nothing checked ({report.nothing_checked})"
    if report.conforms:
        return "conforms"
    if report.passed:
        if report.fail_on_iri is not None:
            return f"passes (no result of severity --fail-on {fail_on_text(report)})"
        return f"passes (nothing at or above --fail-on {report.fail_on.label})"
    return "does not conform"


def component_param(component: str) -> str:
    """``sh:MinCountConstraintComponent`` -> ``minCount`` (the parameter's name)."""
    local = component.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    local = local.removesuffix("ConstraintComponent") or local
    return local[:1].lower() + local[1:] if not local.isupper() else local.lower()


def message_of(finding: Finding, report: ValidationReport) -> str:
    r = finding.result
    if r.message:
        return " ".join(r.message.split())
    return f"{component_param(r.constraint_component)} constraint not met"


def details(finding: Finding, report: ValidationReport) -> str:
    """``focus X; path P; value V`` (prefixed names)."""
    r = finding.result
    parts = [f"focus {abbreviate(r.focus_node, report.prefixes)}"]
    if r.path:
        parts.append(f"path {abbreviate_path(r.path, report.prefixes)}")
    if r.value is not None:
        parts.append(f"value {abbreviate(r.value, report.prefixes)}")
    return "; ".join(parts)


def detail_lines(
    result: ValidationResult, report: ValidationReport, depth: int = 0, limit: int = 5
) -> list[tuple[int, str]]:
    """The nested results (sh:detail) of a result as (depth, line), ``message [shape]
    (focus ...)``, at most ``limit`` per level (then how many more)."""
    out: list[tuple[int, str]] = []
    for d in result.details[:limit]:
        text = " ".join((d.message or f"{component_param(d.constraint_component)} not met").split())
        where = _result_details(d, report)
        out.append((depth, f"{text} [{report.shape_name(d.source_shape)}] ({where})"))
        out.extend(detail_lines(d, report, depth + 1, limit))
    if len(result.details) > limit:
        out.append((depth, f"... {len(result.details) - limit} more"))
    return out


def _result_details(r: ValidationResult, report: ValidationReport) -> str:
    parts = [f"focus {abbreviate(r.focus_node, report.prefixes)}"]
    if r.path:
        parts.append(f"path {abbreviate_path(r.path, report.prefixes)}")
    if r.value is not None:
        parts.append(f"value {abbreviate(r.value, report.prefixes)}")
    return "; ".join(parts)


def checked_text(report: ValidationReport) -> str:
    """``3 shapes, 12 focus nodes`` (what was checked), or "" when not known."""
    c = report.coverage
    if c is None:
        return ""
    text = f", {c.shapes} shape{'s' if c.shapes != 1 else ''}"
    if c.focus_nodes is not None:
        text += f", {c.focus_nodes} focus node{'s' if c.focus_nodes != 1 else ''}"
    return text


def rule_id(finding: Finding, report: ValidationReport) -> str:
    """A stable name for the rule a result breaks: its shape and constraint parameter."""
    r = finding.result
    return f"{report.shape_name(r.source_shape)}/sh:{component_param(r.constraint_component)}"


def _omitted_text(omitted: int, max_results: int | None) -> str:
    more = f"{omitted} more result{'s' if omitted != 1 else ''}"
    return f"{more} not shown (--max-results {max_results})"


def _custom_tag(r: ValidationResult, report: ValidationReport) -> str:
    """``[severity ex:Blocker] `` for a result with a custom severity (the formats whose levels
    are fixed keep its IRI in the message), else ""."""
    if r.severity_iri is None:
        return ""
    return f"[severity {severity_name(r, report)}] "


def _where(finding: Finding) -> str:
    return str(finding.location) if finding.location is not None else "(no source location)"


# ---------------------------------------------------------------------------------------------
# text


def _text(
    report: ValidationReport, shown: list[Finding], omitted: int, max_results: int | None
) -> str:
    lines: list[str] = []
    current: str | None = None
    for f in shown:
        group = f.location.path if f.location is not None else ""
        if current is not None and group != current:
            lines.append("")
        current = group
        r = f.result
        lines.append(
            f"{_where(f)}: {severity_name(r, report)}: {message_of(f, report)} "
            f"[{report.shape_name(r.source_shape)}]"
        )
        lines.append(f"    {details(f, report)}")
        for depth, line in detail_lines(r, report):
            lines.append(f"    {'  ' * depth}detail: {line}")
    if omitted:
        if lines:
            lines.append("")
        lines.append(_omitted_text(omitted, max_results))
    if lines:
        lines.append("")
    src = report.sources
    what = (
        f"endpoint {src.endpoint}"
        if src.endpoint
        else f"{len(src.data)} data file{'s' if len(src.data) != 1 else ''}, "
        f"{sum(f.quads for f in src.data)} triples"
    )
    lines.append(
        f"{verdict(report)}: {counts_text(report)} ({what}; {len(src.shapes)} shapes "
        f"file{'s' if len(src.shapes) != 1 else ''}{checked_text(report)}; engine {report.engine}, "
        f"inference {report.inference})"
    )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# json


def to_json(
    report: ValidationReport, shown: Sequence[Finding] | None = None, omitted: int = 0
) -> dict:
    """The report as a JSON-ready dict (schema: docs/validation-report.schema.json)."""
    shown = report.findings if shown is None else shown

    def files(items: Sequence) -> list[dict]:
        return [{"path": str(f.path), "format": f.format, "triples": f.quads} for f in items]

    counts = report.counts
    return {
        "$schema": JSON_SCHEMA_ID,
        "schemaVersion": 1,
        "tool": {"name": "cica-ld", "version": __version__},
        "engine": report.engine,
        "inference": report.inference,
        "conforms": report.conforms,
        "failOn": report.fail_on.label,
        "failOnSeverity": report.fail_on_term,
        "passed": report.passed,
        "counts": {
            "violation": counts[Severity.VIOLATION],
            "warning": counts[Severity.WARNING],
            "info": counts[Severity.INFO],
            "total": len(report.findings),
        },
        "shown": len(shown),
        "omitted": omitted,
        "sources": {
            "data": files(report.sources.data),
            "shapes": files(report.sources.shapes),
            "ontology": files(report.sources.ontology),
            "endpoint": report.sources.endpoint,
        },
        "results": [_json_result(f, report) for f in shown],
        "failOnEmpty": report.fail_on_empty,
        "nothingChecked": report.nothing_checked,
        "checked": _json_coverage(report),
        "warnings": [
            {"kind": w.kind, "message": w.message, "shapes": list(w.shapes)}
            for w in report.warnings
        ],
    }


def _json_coverage(report: ValidationReport) -> dict | None:
    c = report.coverage
    if c is None:
        return None
    return {
        "dataTriples": c.data_triples,
        "shapes": c.shapes,
        "deactivatedShapes": c.deactivated,
        "focusNodes": c.focus_nodes,
        "targetedShapes": [
            {"shape": s.shape, "name": s.name, "targets": s.targets, "focusNodes": s.focus_nodes}
            for s in c.targeted
        ],
        "untargetedShapes": list(c.untargeted),
    }


def _json_detail(r: ValidationResult, report: ValidationReport) -> dict:
    return {
        "severity": r.severity.label,
        "resultSeverity": r.severity_term,
        "message": r.message,
        "focusNode": r.focus_node,
        "path": r.path,
        "value": r.value,
        "sourceShape": r.source_shape,
        "sourceShapeName": report.shape_name(r.source_shape),
        "sourceConstraintComponent": r.constraint_component,
        "sourceConstraint": r.source_constraint,
        "details": [_json_detail(d, report) for d in r.details],
    }


def _json_result(f: Finding, report: ValidationReport) -> dict:
    """A result as the JSON report has it: its detail fields, with its location before its
    nested results."""
    out = _json_detail(f.result, report)
    details = out.pop("details")
    loc = f.location
    out["location"] = (
        None if loc is None else {"file": loc.path, "line": loc.line, "column": loc.column}
    )
    out["details"] = details
    return out


def _json(
    report: ValidationReport, shown: list[Finding], omitted: int, max_results: int | None
) -> str:
    return json.dumps(to_json(report, shown, omitted), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# turtle (the W3C validation report graph)

_PATH_TOKEN = re.compile(r"\s*(<[^<>\s]*>|[()/|^*+?])")


def parse_path(path: str) -> object:
    """A SPARQL path in the form of :func:`cica_ld.shacl_model.path_to_sparql` as a tree:
    an IRI term, or (op, operand...) with op one of ``^ / | * + ?``. Raises ValueError."""
    tokens: list[str] = []
    pos = 0
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None:
            if path[pos:].strip():
                raise ValueError(f"not a path: {path!r}")
            break
        tokens.append(m.group(1))
        pos = m.end()
    at = 0

    def peek() -> str | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> str:
        nonlocal at
        if at >= len(tokens):
            raise ValueError(f"not a path: {path!r}")
        at += 1
        return tokens[at - 1]

    def alt() -> object:
        items = [seq()]
        while peek() == "|":
            take()
            items.append(seq())
        return items[0] if len(items) == 1 else ("|", *items)

    def seq() -> object:
        items = [unary()]
        while peek() == "/":
            take()
            items.append(unary())
        return items[0] if len(items) == 1 else ("/", *items)

    def unary() -> object:
        if peek() == "^":
            take()
            return ("^", unary())
        tok = take()
        if tok == "(":
            node = alt()
            if take() != ")":
                raise ValueError(f"not a path: {path!r}")
        elif tok.startswith("<"):
            node = tok
        else:
            raise ValueError(f"not a path: {path!r}")
        while peek() in ("*", "+", "?"):
            node = (take(), node)
        return node

    tree = alt()
    if at != len(tokens):
        raise ValueError(f"not a path: {path!r}")
    return tree


_UNARY_TTL = {"^": "sh:inversePath", "*": "sh:zeroOrMorePath", "+": "sh:oneOrMorePath"}
_UNARY_TTL["?"] = "sh:zeroOrOnePath"


def _path_ttl(tree: object, prefixes: Mapping[str, str]) -> str:
    if isinstance(tree, str):
        return abbreviate(tree, prefixes)
    assert isinstance(tree, tuple)
    op, *args = tree
    if op == "/":
        return "( " + " ".join(_path_ttl(a, prefixes) for a in args) + " )"
    if op == "|":
        inner = " ".join(_path_ttl(a, prefixes) for a in args)
        return f"[ sh:alternativePath ( {inner} ) ]"
    return f"[ {_UNARY_TTL[op]} {_path_ttl(args[0], prefixes)} ]"


def _ttl_string(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def _turtle(
    report: ValidationReport, shown: list[Finding], omitted: int, max_results: int | None
) -> str:
    prefixes = dict(report.prefixes)
    prefixes.setdefault("sh", SH)
    blocks = [_ttl_result(f.result, prefixes, 1) for f in shown]
    body = "[] a sh:ValidationReport ;\n    sh:conforms " + ("true" if report.conforms else "false")
    if blocks:
        body += " ;\n    sh:result " + " , ".join(blocks)
    body += " .\n"
    used = {m.group(1) for m in re.finditer(r"(?<![\w<\"])([A-Za-z][\w.\-]*|):[^\s/]", body)}
    head = [f"@prefix {p}: <{ns}> ." for p, ns in sorted(prefixes.items()) if p in used]
    comment = [f"# cica-ld validate: {verdict(report)}: {counts_text(report)}"]
    if omitted:
        comment.append(f"# {_omitted_text(omitted, max_results)}")
    comment += [f"# warning: {' '.join(w.message.split())}" for w in report.warnings]
    return "\n".join(comment + head) + "\n\n" + body


def _ttl_result(r: ValidationResult, prefixes: Mapping[str, str], depth: int) -> str:
    """One result as a Turtle blank node, its details (sh:detail) nested inside."""
    lines = ["a sh:ValidationResult", f"sh:focusNode {abbreviate(r.focus_node, prefixes)}"]
    if r.path:
        with contextlib.suppress(ValueError):  # a path in another form: left out
            lines.append(f"sh:resultPath {_path_ttl(parse_path(r.path), prefixes)}")
    if r.value is not None:
        lines.append(f"sh:value {abbreviate(r.value, prefixes)}")
    if r.message:
        lines.append(f"sh:resultMessage {_ttl_string(r.message)}")
    lines.append(f"sh:resultSeverity {abbreviate(r.severity_term, prefixes)}")
    lines.append(f"sh:sourceShape {abbreviate(r.source_shape, prefixes)}")
    lines.append(
        "sh:sourceConstraintComponent " + abbreviate("<" + r.constraint_component + ">", prefixes)
    )
    if r.source_constraint:
        lines.append(f"sh:sourceConstraint {abbreviate(r.source_constraint, prefixes)}")
    if r.details:
        nested = [_ttl_result(d, prefixes, depth + 1) for d in r.details]
        lines.append("sh:detail " + " , ".join(nested))
    pad = "    " * depth
    return "[\n" + pad + "    " + (" ;\n" + pad + "    ").join(lines) + "\n" + pad + "]"


# ---------------------------------------------------------------------------------------------
# SARIF 2.1.0

#: SARIF levels of the severities; a custom severity has its level's (violation: error), and its
#: IRI in the result's message and properties.
_SARIF_LEVEL = {Severity.VIOLATION: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
#: Warnings that mean nothing at all was checked (they fail the run with --fail-on-empty).
_EMPTY_KINDS = frozenset({"empty-data", "empty-shapes", "no-targets", "no-focus-nodes"})


def _artifact_uri(path: str) -> tuple[str, bool]:
    """(uri, relative?) of a file path for SARIF."""
    p = PurePath(path)
    if p.is_absolute():
        from pathlib import Path

        return Path(path).as_uri(), False
    # the file name's bytes (a name that is not UTF-8 comes as surrogate escapes), %-encoded
    return quote(os.fsencode(p.as_posix()), safe="/-._~"), True


def _fingerprint(f: Finding, rule: str) -> str:
    r = f.result
    focus = r.focus_node if not r.focus_node.startswith("_:") else "_:"
    value = r.value if r.value is None or not r.value.startswith("_:") else "_:"
    raw = "\x1f".join([rule, focus, r.path or "", value or ""])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def to_sarif(
    report: ValidationReport,
    shown: Sequence[Finding] | None = None,
    omitted: int = 0,
    max_results: int | None = None,
) -> dict:
    """The report as a SARIF 2.1.0 log (a JSON-ready dict)."""
    shown = report.findings if shown is None else shown
    rules: list[dict] = []
    rule_index: dict[str, int] = {}
    results: list[dict] = []
    for f in shown:
        r = f.result
        rid = rule_id(f, report)
        if rid not in rule_index:
            rule_index[rid] = len(rules)
            shape = report.shape_name(r.source_shape)
            param = component_param(r.constraint_component)
            rules.append(
                {
                    "id": rid,
                    "name": re.sub(r"[^A-Za-z0-9]+", "-", rid).strip("-") or "shacl",
                    "shortDescription": {"text": f"SHACL sh:{param} of {shape}"},
                    "fullDescription": {
                        "text": f"Values must satisfy the sh:{param} constraint of the shape "
                        f"{shape} ({abbreviate(f'<{r.constraint_component}>', report.prefixes)})."
                    },
                    "help": {
                        "text": f"See the shape {shape} in the shapes graph: the result's message "
                        "says what it expects."
                    },
                    "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
                    "properties": {
                        "tags": ["shacl", "rdf"],
                        "sourceShape": r.source_shape,
                        "sourceConstraintComponent": r.constraint_component,
                    },
                }
            )
        result: dict = {
            "ruleId": rid,
            "ruleIndex": rule_index[rid],
            "level": _SARIF_LEVEL[r.severity],
            "message": {
                "text": f"{_custom_tag(r, report)}{message_of(f, report)} ({details(f, report)})"
            },
            "partialFingerprints": {"cicaLdResult/v1": _fingerprint(f, rid)},
            "properties": {
                "severity": r.severity.label,
                "resultSeverity": r.severity_term,
                "focusNode": r.focus_node,
                "path": r.path,
                "value": r.value,
                "sourceShape": r.source_shape,
                "sourceConstraintComponent": r.constraint_component,
            },
        }
        if r.details:
            result["properties"]["details"] = [_json_detail(d, report) for d in r.details]
            text = result["message"]["text"]
            lines = [f"{'  ' * depth}- {line}" for depth, line in detail_lines(r, report)]
            result["message"]["text"] = text + "\nDetails (sh:detail):\n" + "\n".join(lines)
        if f.location is not None:
            uri, relative = _artifact_uri(f.location.path)
            artifact: dict = {"uri": uri}
            if relative:
                artifact["uriBaseId"] = "%SRCROOT%"
            region: dict = {"startLine": f.location.line or 1}
            if f.location.column is not None:
                region["startColumn"] = f.location.column
            result["locations"] = [
                {
                    "physicalLocation": {"artifactLocation": artifact, "region": region},
                    "logicalLocations": [
                        {"fullyQualifiedName": r.focus_node.strip("<>"), "kind": "resource"}
                    ],
                }
            ]
        results.append(result)
    notifications = []
    if omitted:
        notifications.append(
            {"level": "note", "message": {"text": _omitted_text(omitted, max_results)}}
        )
    for w in report.warnings:
        notification: dict = {
            "level": "error" if report.failed_empty and w.kind in _EMPTY_KINDS else "warning",
            "message": {"text": w.message},
            "descriptor": {"id": f"cica-ld/{w.kind}"},
        }
        if w.shapes:
            notification["properties"] = {"shapes": list(w.shapes)}
        notifications.append(notification)
    invocation: dict = {
        "executionSuccessful": True,
        "properties": {
            "conforms": report.conforms,
            "passed": report.passed,
            "failOn": report.fail_on.label,
            "failOnSeverity": report.fail_on_term,
            "counts": {s.label: n for s, n in report.counts.items()},
            "customSeverities": {f"<{i}>": n for i, n in sorted(report.custom_counts.items())},
            "omitted": omitted,
            "nothingChecked": report.nothing_checked,
            "checked": _json_coverage(report),
        },
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cica-ld",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "cica-ld/validate/"},
                "columnKind": "unicodeCodePoints",
                "invocations": [invocation],
                "results": results,
            }
        ],
    }


def _sarif(
    report: ValidationReport, shown: list[Finding], omitted: int, max_results: int | None
) -> str:
    return (
        json.dumps(to_sarif(report, shown, omitted, max_results), indent=2, ensure_ascii=False)
        + "\n"
    )


# ---------------------------------------------------------------------------------------------
# JUnit XML


def _junit(
    report: ValidationReport, shown: list[Finding], omitted: int, max_results: int | None
) -> str:
    groups: dict[str, list[Finding]] = {}
    for f in shown:
        groups.setdefault(f.location.path if f.location else "(no source location)", []).append(f)
    suites: list[str] = []
    for name, items in groups.items():
        cases = []
        for f in items:
            r = f.result
            msg = message_of(f, report)
            case_name = f"{rule_id(f, report)} {abbreviate(r.focus_node, report.prefixes)}"
            attrs = f"name={quoteattr(case_name)} classname={quoteattr(name)}"
            if f.location is not None:
                attrs += f" file={quoteattr(f.location.path)}"
                if f.location.line is not None:
                    attrs += f' line="{f.location.line}"'
            body = (
                f"{_where(f)}: {severity_name(r, report)}: {msg} "
                f"[{report.shape_name(r.source_shape)}]\n{details(f, report)}"
            )
            for depth, line in detail_lines(r, report):
                body += f"\n{'  ' * depth}detail: {line}"
            cases.append(
                f"    <testcase {attrs}>\n"
                f"      <failure type={quoteattr(severity_name(r, report))} "
                f"message={quoteattr(_custom_tag(r, report) + msg)}>"
                f"{xml_escape(body)}</failure>\n"
                "    </testcase>"
            )
        suites.append(
            f'  <testsuite name={quoteattr(name)} tests="{len(items)}" '
            f'failures="{len(items)}" errors="0" skipped="0">\n'
            + "\n".join(cases)
            + "\n  </testsuite>"
        )
    failures = len(shown)
    total = len(shown)
    if report.warnings:
        # what was not checked: a skipped test case each (a failure with --fail-on-empty)
        cases = []
        failed = 0
        for w in report.warnings:
            name = f"not checked: {w.kind}" if w.kind != "engine" else "engine warning"
            attrs = f'name={quoteattr(name)} classname="shacl.coverage"'
            if report.failed_empty and w.kind in _EMPTY_KINDS:
                failed += 1
                inner = (
                    f'<failure type="nothing-checked" message={quoteattr(w.message)}>'
                    f"{xml_escape(w.message)} (--fail-on-empty)</failure>"
                )
            else:
                inner = f"<skipped message={quoteattr(w.message)}/>"
            cases.append(f"    <testcase {attrs}>\n      {inner}\n    </testcase>")
        err = "\n".join(f"warning: {w.message}" for w in report.warnings)
        suites.append(
            f'  <testsuite name="coverage" tests="{len(cases)}" failures="{failed}" errors="0" '
            f'skipped="{len(cases) - failed}">\n'
            + "\n".join(cases)
            + f"\n    <system-err>{xml_escape(err)}</system-err>\n  </testsuite>"
        )
        failures += failed
        total += len(cases)
    if not shown and not report.nothing_checked:
        suites.append(
            '  <testsuite name="shacl" tests="1" failures="0" errors="0" skipped="0">\n'
            '    <testcase name="conforms" classname="shacl"/>\n'
            "  </testsuite>"
        )
        total += 1
    out_lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="cica-ld validate" tests="{total}" failures="{failures}" '
        f'errors="0" time="{report.seconds:.3f}">',
        *suites,
    ]
    if omitted:
        out_lines.append(
            "  <!-- " + _omitted_text(omitted, max_results).replace("--", "- -") + " -->"
        )
    out_lines.append("</testsuites>")
    return "\n".join(out_lines) + "\n"


# ---------------------------------------------------------------------------------------------
# GitHub Actions workflow commands

#: Annotation levels of the severities; a custom severity has its level's (violation: error) and
#: its IRI at the start of the message.
_GITHUB_LEVEL = {Severity.VIOLATION: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github_escape_data(text: str) -> str:
    """Escape a workflow command's message (as actions/toolkit's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(text: str) -> str:
    """Escape a workflow command property value (as actions/toolkit's escapeProperty)."""
    return github_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(
    report: ValidationReport, shown: list[Finding], omitted: int, max_results: int | None
) -> str:
    lines = []
    for f in shown:
        r = f.result
        props = []
        if f.location is not None:
            props.append(f"file={github_escape_property(f.location.path)}")
            if f.location.line is not None:
                props.append(f"line={f.location.line}")
                if f.location.column is not None:
                    props.append(f"col={f.location.column}")
        props.append(f"title={github_escape_property(rule_id(f, report))}")
        message = f"{_custom_tag(r, report)}{message_of(f, report)} ({details(f, report)})"
        lines.append(
            f"::{_GITHUB_LEVEL[r.severity]} {','.join(props)}::{github_escape_data(message)}"
        )
    if omitted:
        lines.append(
            "::notice title=cica-ld validate::"
            + github_escape_data(_omitted_text(omitted, max_results))
        )
    for w in report.warnings:
        level = "error" if report.failed_empty and w.kind in _EMPTY_KINDS else "warning"
        lines.append(
            f"::{level} title=cica-ld validate (not checked)::{github_escape_data(w.message)}"
            if w.kind != "engine"
            else f"::warning title=cica-ld validate::{github_escape_data(w.message)}"
        )
    summary = f"{verdict(report)}: {counts_text(report)}"
    lines.append(f"::notice title=cica-ld validate::{github_escape_data(summary)}")
    return "\n".join(lines) + "\n"


_RENDERERS = {
    "text": _text,
    "json": _json,
    "turtle": _turtle,
    "sarif": _sarif,
    "junit": _junit,
    "github": _github,
}
