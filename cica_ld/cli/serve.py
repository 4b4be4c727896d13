"""`cica-ld serve`: a local SPARQL endpoint and linked-data server (see cica_ld/server.py)."""

import sys
from collections.abc import Callable
from typing import Annotated, Optional

import typer

from cica_ld.cli.app import app, echo_error, echo_warning
from cica_ld.cli.options import ContextMapOpt, DataOpt, InputFormatOpt, read_context_map


@app.command("serve")
def serve_cmd(
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="TCP port (0 picks a free one).", min=0, max=65535)
    ] = 8000,
    base_iri: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--base-iri",
            help="IRI prefix the paths map onto: /id/x is <BASE-IRI>id/x; default: without "
            "--data the CICA base IRI https://w3id.org/cica-ld/, with --data inferred from the "
            "data as cica-ld publish does.",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--base-url",
            help="Where clients reach this server (e.g. behind a proxy), for the absolute URLs "
            "it states about itself; default: from each request.",
            show_default=False,
        ),
    ] = None,
    query_timeout: Annotated[
        float,
        typer.Option("--query-timeout", help="Seconds a query may run before 503.", min=0.01),
    ] = 10.0,
    max_results: Annotated[
        int,
        typer.Option(
            "--max-results",
            help="Most solutions/triples a query returns; more are cut and the response "
            "carries X-SPARQL-MaxRows.",
            min=1,
        ),
    ] = 10_000,
    workers: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--workers",
            help="Query worker processes (default: one per CPU, at most 4). 0 runs queries in "
            "threads, without the hard timeout.",
            min=0,
            show_default=False,
        ),
    ] = None,
    max_queue: Annotated[
        int,
        typer.Option(
            "--max-queue",
            help="Queries that may wait for a busy worker; one more is answered 503 with "
            "Retry-After.",
            min=0,
        ),
    ] = 16,
    max_response_mb: Annotated[
        float,
        typer.Option(
            "--max-response-mb",
            help="Largest answer to a query, in MB (10^6 bytes); past it fewer solutions are "
            "returned and the response carries X-SPARQL-MaxBytes.",
            min=0.001,
        ),
    ] = 16.0,
    max_connections: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-connections",
            help="Client connections open at once (default 1000, fewer if the open-file "
            "limit is low); past it the oldest idle one is closed.",
            min=1,
            show_default=False,
        ),
    ] = None,
    header_timeout: Annotated[
        float,
        typer.Option(
            "--header-timeout",
            help="Seconds a client has to send a whole request, or its first one after connecting.",
            min=0.01,
        ),
    ] = 10.0,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout", help="Seconds an idle keep-alive connection stays open.", min=0.01
        ),
    ] = 5.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No access log.")] = False,
    get: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--get",
            help="Answer one GET request for this path in-process, print the body, and exit: "
            "0 on 2xx, 1 otherwise.",
            show_default=False,
        ),
    ] = None,
    accept: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--accept", help="Accept header for --get.", show_default=False),
    ] = None,
    context_map: ContextMapOpt = None,
) -> None:
    """Serve the dataset: a SPARQL 1.1 endpoint at /sparql, every resource at its path.

    Without --data, the embedded CICA dataset (its vocabulary and data, with its vocabulary
    and shapes pages); with --data, exactly your files' triples, nothing of CICA's added.
    Read-only, loopback by default, CORS open for browser clients such as YASGUI.

    Example: cica-ld serve --port 8000   (then open http://127.0.0.1:8000/id/cica)

    Example: cica-ld serve --get '/sparql?query=ASK{?s ?p ?o}'
    """
    from cica_ld import dataset, server
    from cica_ld.publish import normalize_base

    if base_url is not None:  # refused before loading, as publish does
        normalize_base(base_url)
    if base_iri is not None:
        normalize_base(base_iri, option="--base-iri")
    ds = dataset.load(
        data,
        input_format=input_format,
        include_ontology=not data,
        context_map=read_context_map(context_map),
    )
    site, base_iri = server.site_for(ds.store, data, base_iri)
    web = server.create_app(
        ds, base_url=base_url, base_iri=base_iri, query_timeout=query_timeout,
        max_results=max_results, workers=workers, site=site, max_queue=max_queue,
        max_response_bytes=max(1, int(max_response_mb * 1_000_000)),
    )  # fmt: skip
    if get is not None:
        result = server.fetch(web, get, accept=accept)
        if not result.ok:
            echo_error(f"GET {get}: HTTP {result.status}: {result.body.decode(errors='replace')}")
            raise typer.Exit(1)
        sys.stdout.buffer.write(result.body)
        return
    if not server.is_loopback(host):
        echo_warning(f"listening on {host}: anyone who can reach this address can query it")
    server.run(
        web, host=host, port=port, access_log=not quiet, on_ready=_ready(len(ds)),
        max_connections=max_connections, header_timeout=header_timeout,
        idle_timeout=idle_timeout,
    )  # fmt: skip


def _ready(triples: int) -> Callable[[str], None]:
    def announce(url: str) -> None:
        typer.echo(
            f"cica-ld: serving {triples} triples at {url} (SPARQL endpoint {url}sparql); "
            "Ctrl-C to stop",
            err=True,
        )

    return announce
