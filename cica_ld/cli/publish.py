"""`cica-ld publish`: build the static linked-data site."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from cica_ld.cli.app import app
from cica_ld.cli.app import progress as cli_progress
from cica_ld.cli.options import ContextMapOpt, DataOpt, InputFormatOpt, read_context_map


@app.command("publish")
def publish_cmd(
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to write the site to (new, empty, or a previous site)."),
    ],
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    base_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--base-url",
            help="Where the site will be hosted (absolute URLs in the sitemap, canonical links and "
            "download URLs); default: the base IRI https://w3id.org/cica-ld/.",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--title", help="Dataset title (default: CICA knowledge graph).", show_default=False
        ),
    ] = None,
    context_map: ContextMapOpt = None,
) -> None:
    """Build a static linked-data site: a page and Turtle/JSON-LD/N-Triples documents for every
    resource under the base IRI, the vocabulary and shapes documented, a DCAT/VoID dataset
    description, full dumps, content-negotiation rules (.htaccess, nginx.conf) and a sitemap.

    Example: cica-ld publish --out site --base-url https://example.github.io/cica-ld/
    """
    from cica_ld import publish

    with cli_progress() as progress:
        result = publish.publish(
            out,
            data=data,
            input_format=input_format,
            base_url=base_url or publish.BASE_IRI,
            title=title or publish.DEFAULT_TITLE,
            progress=progress,
            context_map=read_context_map(context_map),
        )
    typer.echo(
        f"wrote {result.files} files ({result.pages} HTML pages, {result.bytes} bytes) to "
        f"{result.out}",
        err=True,
    )
    for iri in result.skipped:
        typer.echo(
            f"cica-ld: warning: no page for {iri} (its path cannot be a file name)", err=True
        )
