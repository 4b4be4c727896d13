"""`cica-ld load`: push the dataset to a triple store (SPARQL 1.1 Graph Store HTTP Protocol)."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cica_ld.cli.app import app, isatty
from cica_ld.cli.app import progress as cli_progress
from cica_ld.cli.options import (
    AuthOpt,
    ContextMapOpt,
    DataOpt,
    FollowRedirectsOpt,
    InputFormatOpt,
    MaxResponseOpt,
    UserOpt,
    endpoint_limits,
    read_context_map,
)

if TYPE_CHECKING:  # pragma: no cover
    from cica_ld.endpoint import Credentials

#: The environment variable holding the password of --user (never a command-line option).
PASSWORD_ENV = "CICA_LD_PASSWORD"


@app.command("load")
def load_cmd(
    endpoint: Annotated[
        str,
        typer.Option(
            "--endpoint",
            help="Graph Store Protocol URL, e.g. http://127.0.0.1:7878/store (Oxigraph), "
            "http://localhost:3030/ds/data (Fuseki), http://localhost:8890/sparql-graph-crud-auth "
            "(Virtuoso, with --user).",
            show_default=False,
        ),
    ],
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    graph: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--graph", help="Named graph IRI (default: the default graph).", show_default=False
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the graph's content (HTTP PUT of the first chunk, POST of the others) "
            "instead of adding to it (POST).",
        ),
    ] = False,
    user: UserOpt = None,
    auth: AuthOpt = "auto",
    chunk_triples: Annotated[
        int,
        typer.Option(
            "--chunk-triples",
            help="Triples per request (a blank node's triples always go in one request).",
            min=1,
        ),
    ] = 50_000,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            help="Times a chunk is sent again after a passing failure (no connection, timeout, "
            "HTTP 408/429/5xx), waiting 1 s, 2 s, 4 s...",
            min=0,
        ),
    ] = 3,
    state_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--state-dir",
            help="Folder of the state files recording the chunks done, so that the same load "
            "run again after a failure resumes (default: $XDG_STATE_HOME/cica-ld, else "
            "~/.local/state/cica-ld). A complete load removes its state file.",
            show_default=False,
        ),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option("--restart", help="Forget the chunks an earlier run recorded: send all."),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds to wait for the store (connect, each read), per request.",
            min=0.001,
        ),
    ] = 120.0,
    max_response: MaxResponseOpt = 256.0,
    follow_redirects: FollowRedirectsOpt = False,
    context_map: ContextMapOpt = None,
) -> None:
    """Load the embedded CICA dataset (its vocabulary and data), or exactly the --data files
    (nothing added), into a triple store.

    The data goes in chunks, one request each; a chunk failing for a passing reason is retried,
    and the same command run again after a failure resumes where it stopped. Credentials:
    --user with the password from $CICA_LD_PASSWORD, else from the netrc file ($NETRC or
    ~/.netrc), else asked for (hidden) on a terminal; without --user, the netrc entry of the
    host, if any. Basic or Digest, as the server asks (or --auth).

    Example: cica-ld load --endpoint http://127.0.0.1:7878/store --replace
    """
    from cica_ld import graphstore

    credentials = resolve_credentials(endpoint, user, auth)
    files = graphstore.resolve_files(data, input_format=input_format)
    with cli_progress() as progress, endpoint_limits(max_response, follow_redirects):
        result = graphstore.upload(
            endpoint, files, graph=graph, replace=replace, timeout=timeout, progress=progress,
            context_map=read_context_map(context_map), auth=credentials, retries=retries,
            chunk_triples=chunk_triples, state_dir=state_dir or default_state_dir(),
            restart=restart, notice=_notice,
        )  # fmt: skip
    typer.echo(f"cica-ld: {graphstore.render_result(result)}", err=True)


def _notice(line: str) -> None:
    typer.echo(f"cica-ld: {line}", err=True)


def default_state_dir() -> Path:
    """$XDG_STATE_HOME/cica-ld, else ~/.local/state/cica-ld."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cica-ld"


def netrc_path() -> Path:
    """$NETRC, else ~/.netrc."""
    return Path(os.environ.get("NETRC") or Path.home() / ".netrc")


def resolve_credentials(endpoint: str, user: str | None, scheme: str) -> "Credentials | None":
    """The credentials of --user (password: $CICA_LD_PASSWORD, the netrc file, a hidden
    prompt on a terminal), or without --user those of the netrc entry for the host."""
    from urllib.parse import urlsplit

    from cica_ld.endpoint import AUTH_SCHEMES, Credentials, check_url, netrc_credentials
    from cica_ld.errors import UsageError

    check_url(endpoint)
    if scheme not in AUTH_SCHEMES:
        raise UsageError(
            f"unknown --auth {scheme!r}", hint="use --auth " + ", --auth ".join(AUTH_SCHEMES)
        )
    host = urlsplit(endpoint).hostname or ""
    password = os.environ.get(PASSWORD_ENV)
    if user is None:
        if password:
            raise UsageError(f"${PASSWORD_ENV} is set but --user is not", hint="add --user NAME")
        found = netrc_credentials(netrc_path(), host)
        return Credentials(found[0], found[1], scheme) if found and found[0] else None
    if not password:
        found = netrc_credentials(netrc_path(), host, user)
        password = found[1] if found else None
    if not password and isatty(sys.stdin) and isatty(sys.stderr):
        password = typer.prompt(f"Password for {user} at {host}", hide_input=True, err=True)
    if not password:
        raise UsageError(
            f"no password for --user {user}",
            hint=f"set ${PASSWORD_ENV}, add the host to {netrc_path()}, or run on a terminal "
            "to be asked",
        )
    return Credentials(user, password, scheme)
