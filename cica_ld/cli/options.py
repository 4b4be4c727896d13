"""Options shared by several commands, defined once so names and help cannot drift."""

from pathlib import Path
from typing import Annotated, Optional

import typer

DataOpt = Annotated[
    Optional[list[Path]],  # noqa: UP045 - typer needs Optional here on py3.10
    typer.Option(
        "--data",
        "-d",
        help="RDF file or folder to use instead of the embedded CICA data (repeatable; a folder "
        "means every RDF file below it, sorted).",
        show_default=False,
    ),
]
InputFormatOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--input-format",
        help="Format of the --data files (turtle, ntriples, nquads, trig, rdfxml, jsonld, or an "
        "alias such as ttl, nt, nq, json-ld); default: from each file's extension.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of stdout: replaced atomically (a symlink's target), "
        "a device or FIFO written through, - for stdout.",
        show_default=False,
    ),
]
EndpointOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--endpoint",
        help="URL of a SPARQL 1.1 endpoint to use instead of local files.",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", help="Seconds to wait for the endpoint.", min=0.001),
]
ContextMapOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--context-map",
        metavar="URL=FILE",
        help="Serve the remote JSON-LD context URL from the local file FILE (repeatable), for "
        "reading JSON-LD --data files (and for export --context URL). Nothing is ever fetched: "
        "a remote context not mapped is refused.",
        show_default=False,
    ),
]


def read_context_map(specs: list[str] | None) -> dict | None:
    """The ``--context-map`` values read (URL -> context document), None for none given."""
    if not specs:
        return None
    from cica_ld.jsonld import load_context_map

    return load_context_map(specs)
