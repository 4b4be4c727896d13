"""`cica-ld export`: convert RDF, or export the dataset as compacted or framed JSON-LD."""

import contextlib
import sys
from typing import Annotated, Any, Optional

import typer

from cica_ld.cli.app import app, isatty
from cica_ld.cli.app import progress as cli_progress
from cica_ld.cli.options import (
    ContextMapOpt,
    DataOpt,
    InputFormatOpt,
    OutputOpt,
    read_context_map,
)


@app.command("export")
def export_cmd(
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--format",
            "-f",
            help="jsonld, turtle, ntriples, nquads, trig or rdfxml, or an alias (json-ld, ttl, nt, "
            "nq, rdf/xml) (default: from the --output extension, else jsonld).",
            show_default=False,
        ),
    ] = None,
    context: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--context",
            metavar="url|inline|FILE|URL",
            help="JSON-LD context: the project context by its URL (url) or inlined (inline); "
            "your own from a context FILE (inlined), or by its URL (served from --context-map). "
            "Default: url; with --data, a context of the prefixes your files declare.",
            show_default=False,
        ),
    ] = None,
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
    context_map: ContextMapOpt = None,
) -> None:
    """Export the dataset (or convert --data files) to another RDF format, deterministically.

    With no --data, the embedded CICA vocabulary and data; with --data, only those files.
    JSON-LD is compacted with the project context (https://w3id.org/cica-ld/context.jsonld,
    bundled, never fetched), with your own (--context FILE or URL), or, with --data, with the
    prefixes your files declare; or it is framed into entity-shaped documents with --frame.
    JSON-LD, N-Triples and N-Quads of a default graph are written subject by subject (the
    graph is not copied); progress goes to stderr when it takes a while.

    Example: cica-ld export --frame organisation --id cicaid:cica -o cica.jsonld
    """
    from cica_ld import dataset, export, io, limits

    read = data or [dataset.bundled_dir("ontology"), dataset.bundled_dir("data")]
    out = io.resolve_output(output, inputs=read)
    out_fmt = export.format_for_output(None if out.is_stdout else output, fmt)
    cmap = read_context_map(context_map)
    if context is None and data is None:
        context = "url"
    with limits.guard("export"), _progress(to_stdout=out.is_stdout) as progress:
        ds = dataset.load(
            data,
            input_format=input_format,
            include_ontology=data is None,
            progress=progress,
            context_map=cmap,
        )
        chunks = export.export_chunks(
            ds,
            out_fmt,
            context=context,
            frame=frame,
            node_id=node_id,
            progress=progress,
            context_map=cmap,
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
