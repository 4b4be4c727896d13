"""`cica-ld load`: push the dataset to a triple store (SPARQL 1.1 Graph Store HTTP Protocol)."""

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cica_ld.cli.app import app
from cica_ld.cli.options import (
    ContextMapOpt,
    DataOpt,
    FollowRedirectsOpt,
    InputFormatOpt,
    MaxResponseOpt,
    endpoint_limits,
    read_context_map,
)

if TYPE_CHECKING:  # pragma: no cover
    from cica_ld.graphstore import LoadProgress

#: Progress lines start after this many seconds, then come at most this often.
_PROGRESS_AFTER = 1.0


@app.command("load")
def load_cmd(
    endpoint: Annotated[
        str,
        typer.Option(
            "--endpoint",
            help="Graph Store Protocol URL, e.g. http://127.0.0.1:7878/store (Oxigraph) or "
            "http://localhost:3030/ds/data (Fuseki).",
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
            help="Replace the graph's content (HTTP PUT) instead of adding to it (POST).",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", help="Seconds to wait for the store (connect, each read).", min=0.001
        ),
    ] = 120.0,
    max_response: MaxResponseOpt = 256.0,
    follow_redirects: FollowRedirectsOpt = False,
    context_map: ContextMapOpt = None,
) -> None:
    """Load the embedded CICA dataset (its vocabulary and data), or exactly the --data files
    (nothing added), into a triple store.

    The upload is one streamed request; progress goes to stderr when it takes a while.

    Example: cica-ld load --endpoint http://127.0.0.1:7878/store --replace
    """
    from cica_ld import graphstore

    files = graphstore.resolve_files(data, input_format=input_format)
    with endpoint_limits(max_response, follow_redirects):
        result = graphstore.upload(
            endpoint, files, graph=graph, replace=replace, timeout=timeout, progress=_Progress(),
            context_map=read_context_map(context_map),
        )  # fmt: skip
    typer.echo(f"cica-ld: {graphstore.render_result(result)}", err=True)


class _Progress:
    """Prints a progress line on stderr at most once a second, once the upload lasts > 1 s."""

    def __init__(self) -> None:
        self.next = _PROGRESS_AFTER

    def __call__(self, p: "LoadProgress") -> None:
        from cica_ld.graphstore import render_progress

        if p.elapsed >= self.next:
            self.next = p.elapsed + _PROGRESS_AFTER
            typer.echo(f"cica-ld: {render_progress(p)}", err=True)
