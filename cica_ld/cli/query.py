"""`cica-ld query` and `cica-ld queries`: thin adapters over :mod:`cica_ld.query`."""

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cica_ld.cli.app import app, echo_warning, isatty
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
from cica_ld.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from cica_ld.io import OutputTarget

CatalogueOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional here on py3.10
    typer.Option(
        "--catalogue",
        help="Folder of named queries (.rq files) to use instead of the bundled catalogue "
        "(the CICA dataset's named queries).",
        metavar="DIR",
        show_default=False,
    ),
]


def _write(data: bytes, out: "OutputTarget") -> None:
    if out.is_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        from cica_ld.io import atomic_write

        atomic_write(out, data)


@app.command("queries")
def queries_cmd(
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(
            help="Show this query's SPARQL text instead of the list.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    catalogue_dir: CatalogueOpt = None,
) -> None:
    """List the named queries: name, title, description and parameters (with defaults).

    Example: cica-ld queries
    """
    from cica_ld import catalogue as cat

    folder = catalogue_dir or cat.QUERIES_DIR
    if name is not None:
        typer.echo(cat.get(name, folder).text, nl=False)
        return
    typer.echo(cat.render_catalogue(cat.catalogue(folder)), nl=False)


@app.command("query")
def query_cmd(
    query: Annotated[
        str,
        typer.Argument(
            help="A named query (see 'cica-ld queries'), a .rq file, SPARQL text, or - for stdin.",
            metavar="QUERY",
        ),
    ],
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--format",
            "-f",
            help="SELECT/ASK: table (default), csv, tsv, json, xml. CONSTRUCT/DESCRIBE: turtle "
            "(default), ntriples, jsonld, rdfxml, or an alias (ttl, nt, json-ld, rdf/xml). "
            "Default with --output: from its extension.",
            metavar="FORMAT",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
    width: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--width",
            help="Fit the table format to N columns, cutting long values with '…' (0: never "
            "cut). Default: the terminal's width when stdout is a terminal, else never cut.",
            metavar="N",
            min=0,
            show_default=False,
        ),
    ] = None,
    param: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--param",
            "-p",
            help="Bind ?NAME to VALUE (repeatable): an ISO date is an xsd:date, an integer an "
            "xsd:integer, <iri> or prefix:local an IRI, anything else a string.",
            metavar="NAME=VALUE",
            show_default=False,
        ),
    ] = None,
    endpoint: EndpointOpt = None,
    timeout: TimeoutOpt = 30.0,
    max_response: MaxResponseOpt = 256.0,
    follow_redirects: FollowRedirectsOpt = False,
    allow_service: Annotated[
        bool, typer.Option("--allow-service", help="Let the query call other endpoints (SERVICE).")
    ] = False,
    catalogue_dir: CatalogueOpt = None,
    context_map: ContextMapOpt = None,
) -> None:
    """Run a read-only SPARQL query on the embedded dataset, your files, or an endpoint.

    Example: cica-ld query members --param date=2020-01-01 -f csv
    """
    from cica_ld import dataset, io
    from cica_ld import query as q

    stdin = getattr(sys.stdin, "buffer", sys.stdin).read() if query == "-" else None
    kwargs = {"catalogue_dir": catalogue_dir} if catalogue_dir else {}
    source = q.resolve_query(query, stdin=stdin, **kwargs)
    prepared = q.prepare(source, param or [], allow_service=allow_service)
    chosen = q.choose_format(fmt, output, prepared.form)
    read = data or [dataset.bundled_dir("ontology"), dataset.bundled_dir("data")]
    out = io.resolve_output(output, inputs=[*read, *filter(None, [source.path])])
    if width is not None and chosen != "table":
        raise UsageError(f"--width applies to the table format, not {chosen}")
    if width is None and out.is_stdout and isatty(sys.stdout):
        width = shutil.get_terminal_size().columns
    if endpoint is not None:
        if data:
            raise UsageError("--data and --endpoint exclude each other")
        with endpoint_limits(max_response, follow_redirects):
            result = q.run(prepared, chosen, endpoint=endpoint, timeout=timeout, width=width)
    else:
        if input_format and not data:
            raise UsageError("--input-format applies to --data files; give --data too")
        with cli_progress() as progress:
            loaded = dataset.load(
                data or None,
                input_format=input_format,
                include_ontology=not data,
                progress=progress,
                literals="values",
                context_map=read_context_map(context_map),
            )
            progress.stage("running the query")
            result = q.run(
                prepared, chosen, store=loaded.store, restore=loaded.restorer(), width=width
            )
        if loaded.lexicon and loaded.lexicon.ambiguous():
            from cica_ld.lexical import lexicon_warning

            echo_warning(lexicon_warning(loaded.lexicon))
    _write(result, out)
