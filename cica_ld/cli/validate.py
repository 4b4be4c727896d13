"""`cica-ld validate`: SHACL validation with exit codes and reports CI systems read."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from cica_ld.cli.app import app, echo_error, echo_warning
from cica_ld.cli.app import progress as cli_progress
from cica_ld.cli.options import (
    ContextMapOpt,
    DataOpt,
    EndpointOpt,
    FollowRedirectsOpt,
    InputFormatOpt,
    MaxResponseOpt,
    OutputOpt,
    TimeoutOpt,
    endpoint_limits,
    read_context_map,
)
from cica_ld.shacl_model import DEFAULT_ENGINE

PathsArg = Annotated[
    Optional[list[Path]],  # noqa: UP045 - typer needs Optional here on py3.10
    typer.Argument(
        help="More data files or folders (added to --data; how pre-commit passes file names).",
        show_default=False,
    ),
]
ShapesOpt = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Option(
        "--shapes",
        "-s",
        help="SHACL shapes file or folder (repeatable); required with --data or paths; default: "
        "the embedded CICA shapes (only without --data).",
        show_default=False,
    ),
]
OntologyOpt = Annotated[
    Optional[list[Path]],  # noqa: UP045
    typer.Option(
        "--ontology",
        "-e",
        help="Ontology file or folder (repeatable), the ontology graph: its subclass axioms "
        "count for sh:class and targets, its own triples are not validated; default: the "
        "embedded CICA vocabulary without --data, no ontology graph with --data.",
        show_default=False,
    ),
]
NoOntologyOpt = Annotated[
    bool, typer.Option("--no-ontology", help="Validate without an ontology graph.")
]
InferenceOpt = Annotated[
    str,
    typer.Option("--inference", "-i", help="Inference before validating: none, rdfs or owlrl."),
]
EngineOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--engine",
        help="Validation engine: native (fast, SHACL compiled to SPARQL) or pyshacl (the "
        f"reference). [default: {DEFAULT_ENGINE}; pyshacl with --inference rdfs/owlrl]",
        show_default=False,
    ),
]
FailOnOpt = Annotated[
    str,
    typer.Option(
        "--fail-on",
        help="Lowest severity that fails the run (exit 1): violation, warning or info "
        "(custom severities count as violations); or a custom severity's full IRI: only "
        "results of exactly that severity fail the run.",
    ),
]
FormatOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--format",
        "-f",
        help="Report format: text, json, turtle, sarif, junit or github. Default: from the "
        "--output extension (.json, .ttl, .sarif, .xml), else text.",
        show_default=False,
    ),
]
FailOnEmptyOpt = Annotated[
    bool,
    typer.Option(
        "--fail-on-empty",
        help="Fail (exit 1) when nothing was checked: empty data, no shapes, no shape with a "
        "target, or targets that select no focus node.",
    ),
]
RulesOpt = Annotated[
    bool,
    typer.Option(
        "--rules",
        help="Run the shapes' SHACL-AF rules (sh:TripleRule, sh:SPARQLRule) to a fixpoint on a "
        "copy of the data, then validate that copy (the files are never changed). Without it, "
        "shapes with sh:rule are refused (exit 2).",
    ),
]
MaxResultsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--max-results",
        help="Show at most N results (the most severe first) and say how many were left out.",
        min=0,
        show_default=False,
    ),
]


@app.command("validate")
def validate_cmd(
    paths: PathsArg = None,
    data: DataOpt = None,
    shapes: ShapesOpt = None,
    ontology: OntologyOpt = None,
    no_ontology: NoOntologyOpt = False,
    input_format: InputFormatOpt = None,
    inference: InferenceOpt = "none",
    engine: EngineOpt = None,
    fail_on: FailOnOpt = "violation",
    fail_on_empty: FailOnEmptyOpt = False,
    rules: RulesOpt = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    max_results: MaxResultsOpt = None,
    endpoint: EndpointOpt = None,
    timeout: TimeoutOpt = 60.0,
    max_response: MaxResponseOpt = 256.0,
    follow_redirects: FollowRedirectsOpt = False,
    context_map: ContextMapOpt = None,
) -> None:
    """Validate RDF data against SHACL shapes.

    Each result names the file, line and column where its focus node is described. Exit codes:
    0 the data conforms (nothing at or above --fail-on), 1 it does not (or, with
    --fail-on-empty, nothing was checked), 2 input error (a missing file, a syntax error, an
    invalid shapes graph, a bad option), 3 endpoint error, 4 internal error. What was not
    checked (empty data, shapes without targets, targets without focus nodes) is a warning on
    stderr.

    Example: cica-ld validate --data data/ --shapes shapes/ -f sarif -o results.sarif
    """
    from cica_ld import io, reports, validation

    fmt = reports.choose_format(fmt, output)
    fail = validation.check_fail_on(fail_on)
    data_paths = [*(data or []), *(paths or [])] or None
    out = io.resolve_output(output, inputs=_inputs(data_paths, shapes, ontology, endpoint))
    with cli_progress() as progress, endpoint_limits(max_response, follow_redirects):
        report = validation.validate(
            data_paths,
            shapes,
            [] if no_ontology else ontology,
            input_format=input_format,
            inference=inference,
            engine=engine,
            fail_on=fail,
            endpoint=endpoint,
            timeout=timeout,
            progress=progress,
            context_map=read_context_map(context_map),
            fail_on_empty=fail_on_empty,
            rules=rules,
        )
        progress.stage("writing the report")
        text = reports.render(report, fmt, max_results=max_results)
    if out.is_stdout:
        typer.echo(text, nl=False)
    else:
        io.atomic_write(out, text)
    for warning in report.warnings:
        echo_warning(warning.message)
    if report.failed_empty and report.failing == 0:
        echo_error(f"nothing was checked: {report.nothing_checked} (--fail-on-empty)")
    raise typer.Exit(0 if report.passed else 1)


def _inputs(
    data: list[Path] | None,
    shapes: list[Path] | None,
    ontology: list[Path] | None,
    endpoint: str | None,
) -> list[Path]:
    """The files and folders a run reads (the embedded ones by default): never an output."""
    from cica_ld.dataset import bundled_dir

    default = [] if endpoint is not None else [bundled_dir("data")]
    return [
        *(data or default),
        *(shapes or [bundled_dir("shapes")]),
        *(ontology or [bundled_dir("ontology")]),
    ]
