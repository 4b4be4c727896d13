"""`cica-ld export`: convert RDF, or export the dataset as compacted or framed JSON-LD."""

import contextlib
import sys
from typing import Annotated, Any, Optional

import typer

from cica_ld.cli.app import app, isatty
from cica_ld.cli.app import progress as cli_progress
from cica_ld.cli.options import DataOpt, InputFormatOpt, OutputOpt


@app.command("export")
def export_cmd(
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--format",
            "-f",
            help="jsonld, turtle, ntriples, nquads, trig or rdfxml (default: from the --output "
            "extension, else jsonld).",
            show_default=False,
        ),
    ] = None,
    context: Annotated[
        str,
        typer.Option(
            "--context",
            help="JSON-LD: reference the project context by its URL (url) or inline it (inline).",
        ),
    ] = "url",
    frame: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--frame",
            help="JSON-LD framing: a bundled frame (organisation, state, event) or a frame file.",
            show_default=False,
        ),
    ] = None,
    node_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--id",
            help="With --frame: only this node (IRI or compact IRI, e.g. cicaid:cica).",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Export the dataset (or convert --data files) to another RDF format, deterministically.

    With no --data, the embedded CICA vocabulary and data; with --data, only those files.
    JSON-LD is compacted with the project context (https://w3id.org/cica-ld/context.jsonld,
    bundled, never fetched) or framed into entity-shaped documents with --frame.
    JSON-LD, N-Triples and N-Quads of a default graph are written subject by subject (the
    graph is not copied); progress goes to stderr when it takes a while.

    Example: cica-ld export --frame organisation --id cicaid:cica -o cica.jsonld
    """
    from cica_ld import dataset, export, io

    read = data or [dataset.bundled_dir("ontology"), dataset.bundled_dir("data")]
    out = io.resolve_output(output, inputs=read)
    out_fmt = export.format_for_output(None if out.is_stdout else output, fmt)
    with _progress(to_stdout=out.is_stdout) as progress:
        ds = dataset.load(
            data, input_format=input_format, include_ontology=data is None, progress=progress
        )
        chunks = export.export_chunks(
            ds, out_fmt, context=context, frame=frame, node_id=node_id, progress=progress
        )
        if out.is_stdout:
            for chunk in chunks:
                typer.echo(chunk, nl=False)
        else:
            io.atomic_write_chunks(out, chunks)


def _progress(*, to_stdout: bool) -> Any:
    """The command's progress, off when the data itself goes to a terminal (no mixed lines)."""
    if to_stdout and isatty(sys.stdout):
        from cica_ld.progress import NO_PROGRESS

        return contextlib.nullcontext(NO_PROGRESS)
    return cli_progress()
