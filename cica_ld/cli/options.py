"""Options shared by several commands, defined once so names and help cannot drift."""

from contextlib import AbstractContextManager
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
    typer.Option(
        "--timeout",
        help="Seconds each request to the endpoint may take in all (connecting, the headers "
        "and the whole answer): a total deadline.",
        min=0.001,
    ),
]
MaxResponseOpt = Annotated[
    float,
    typer.Option(
        "--max-response",
        help="Largest answer read from the server, in MB (10^6 bytes): a larger one is "
        "refused (exit 3) without reading it further.",
        metavar="MB",
        min=0.001,
    ),
]
FollowRedirectsOpt = Annotated[
    bool,
    typer.Option(
        "--follow-redirects",
        help="Follow HTTP redirects of the server (by default a redirect is an error, exit 3).",
    ),
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
UserOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--user",
        "-u",
        help="User name for a server that asks for one. The password is never an option: it "
        "comes from $CICA_LD_PASSWORD, else the netrc file ($NETRC or ~/.netrc), else a hidden "
        "prompt on a terminal.",
        show_default=False,
    ),
]
AuthOpt = Annotated[
    str,
    typer.Option(
        "--auth",
        help="HTTP authentication: auto (what the server's 401 asks for, Digest preferred), "
        "digest or basic.",
    ),
]


def endpoint_limits(max_response: float, follow_redirects: bool) -> AbstractContextManager[None]:
    """The ``--max-response`` and ``--follow-redirects`` limits, for the requests in a block."""
    from cica_ld import endpoint

    return endpoint.limits(
        max_bytes=int(max_response * 1_000_000), follow_redirects=follow_redirects
    )


def read_context_map(specs: list[str] | None) -> dict | None:
    """The ``--context-map`` values read (URL -> context document), None for none given."""
    if not specs:
        return None
    from cica_ld.jsonld import load_context_map

    return load_context_map(specs)
