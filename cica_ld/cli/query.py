"""`cica-ld query` and `cica-ld queries` (placeholder: minimal local SELECT; being extended)."""

from __future__ import annotations

from typing import Annotated

import typer

from cica_ld.cli.app import app
from cica_ld.cli.options import DataOpt, InputFormatOpt


@app.command("queries")
def queries_cmd() -> None:
    """List the named queries of the catalogue.

    Example: cica-ld queries
    """
    from cica_ld.catalogue import catalogue

    for q in catalogue().values():
        params = " ".join(f"[{p.name}={p.default}]" if p.default else p.name for p in q.params)
        typer.echo(f"{q.name:<16} {q.title} {params}".rstrip())


@app.command("query")
def query_cmd(
    query: Annotated[str, typer.Argument(help="Named query, .rq file, inline SPARQL, or -.")],
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
) -> None:
    """Run a SPARQL query.

    Example: cica-ld query members
    """
    from cica_ld import catalogue, dataset

    text = catalogue.get(query).text
    ds = dataset.load(data, input_format=input_format)
    for row in ds.store.query(text, use_default_graph_as_union=True):
        typer.echo("\t".join(str(v) for v in row))
