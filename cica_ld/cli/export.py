"""`cica-ld export`: convert RDF, or export the dataset as compacted or framed JSON-LD."""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cica_ld.cli.app import app
from cica_ld.cli.options import DataOpt, InputFormatOpt, OutputOpt

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from cica_ld.export import ExportProgress

#: Progress lines start after this many seconds (counted from the start), then come at most
#: this often.
_PROGRESS_AFTER = 1.0


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

    out_fmt = export.format_for_output(output, fmt)
    progress = _Progress()
    ds = dataset.load(data, input_format=input_format, include_ontology=data is None)
    chunks = export.export_chunks(
        ds, out_fmt, context=context, frame=frame, node_id=node_id, progress=progress
    )
    if output is None:
        for chunk in chunks:
            typer.echo(chunk, nl=False)
    else:
        io.atomic_write_chunks(Path(output), chunks)


class _Progress:
    """Prints a progress line on stderr at most once a second, once the export lasts > 1 s."""

    def __init__(self, clock: "Callable[[], float]" = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()
        self.next = _PROGRESS_AFTER

    def __call__(self, p: "ExportProgress") -> None:
        from cica_ld.export import render_progress

        elapsed = self.clock() - self.start
        if elapsed >= self.next and p.done < p.total:
            self.next = elapsed + _PROGRESS_AFTER
            typer.echo(f"cica-ld: {render_progress(p, elapsed)}", err=True)
