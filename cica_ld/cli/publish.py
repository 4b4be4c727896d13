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
        typer.Option(
            "--out",
            help="Folder to write the site to: new, empty, or one a previous publish wrote (its "
            "files are replaced; files publish did not write stay). A link to a folder is written "
            "through.",
        ),
    ],
    data: DataOpt = None,
    input_format: InputFormatOpt = None,
    base_iri: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--base-iri",
            help="IRI prefix the pages are made for (every IRI under it gets a page); default: "
            "without --data the CICA base IRI https://w3id.org/cica-ld/, with --data the "
            "common prefix (ending in /) of the data's subject IRIs on their most common host.",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--base-url",
            help="Where the site will be hosted (absolute URLs in the sitemap, canonical links and "
            "download URLs); default: the base IRI.",
            show_default=False,
        ),
    ] = None,
    title: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--title",
            help="Dataset title; default: without --data the CICA one (CICA knowledge graph), "
            "with --data the title or label of the dataset the data describes (a dcat:Catalog, "
            "void:Dataset, dcat:Dataset or schema:Dataset), else the data file's name.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--name",
            help="File name of the dumps (dumps/NAME.ttl, .nt, .jsonld, .rdf); default: "
            "without --data cica-ld (CICA's), with --data the data file's or folder's name "
            "(a slug of the title for several).",
            show_default=False,
        ),
    ] = None,
    context_map: ContextMapOpt = None,
    issued: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--issued",
            help="DCAT-AP: the date the dataset and its catalogue were issued (YYYY-MM-DD or "
            "YYYY-MM-DDThh:mm:ssZ); default: the dcterms:issued, else dcterms:created, the data "
            "states of its dataset (without --data: the CICA vocabulary header's).",
            show_default=False,
        ),
    ] = None,
    modified: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--modified",
            help="DCAT-AP: the date they were last modified; default: the data's "
            "dcterms:modified of its dataset (without --data: the vocabulary header's).",
            show_default=False,
        ),
    ] = None,
    availability: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--availability",
            help="DCAT-AP: the planned availability of the dumps, a value of the EU table "
            "http://publications.europa.eu/resource/authority/planned-availability/ "
            "(available, experimental, stable, temporary) or its IRI (or one of "
            "http://data.europa.eu/r5r/availability/); default: without --data experimental "
            "(the project's statement), with --data none.",
            show_default=False,
        ),
    ] = None,
    publisher_type: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--publisher-type",
            help="DCAT-AP: the publisher's type, a value of http://purl.org/adms/publishertype/ "
            "(e.g. NonProfitOrganisation, LocalAuthority) or its IRI; with --data the data must "
            "name the publisher (dct:publisher of its dataset); default: without --data "
            "PrivateIndividual(s) (the project's statement), with --data none.",
            show_default=False,
        ),
    ] = None,
    license_type: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--license-type",
            help="DCAT-AP: the licence's type, a value of http://purl.org/adms/licencetype/ "
            "(e.g. Attribution, ShareAlike-Compatible) or its IRI; repeatable; default: the "
            "type the licence's text states for the licences cica-ld knows (MIT: Attribution).",
            show_default=False,
        ),
    ] = None,
    spatial_bbox: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--spatial-bbox",
            help="DCAT-AP: the bounding box of the dataset's spatial coverage, a WKT polygon in "
            "WGS 84, longitude first: 'POLYGON((w s, e s, e n, w n, w s))'; of the one "
            "dct:spatial the dataset has (without --data: Asia), else of a new location.",
            show_default=False,
        ),
    ] = None,
    spatial_centroid: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--spatial-centroid",
            help="DCAT-AP: the centroid of the spatial coverage, a WKT point 'POINT(lon lat)'.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a non-empty --out folder that publish did not write (its files stay; "
            "one where a site file goes is refused).",
        ),
    ] = False,
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--jobs",
            min=1,
            help="Processes rendering the resource pages (publish itself and N-1 forked "
            "workers); default: the cores available (1 for a site of fewer than 400 pages, or "
            "when CICA_LD_MAX_MEMORY is set: the bound applies to one process).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a static linked-data site: a page and Turtle/JSON-LD/N-Triples documents for every
    resource under the base IRI, a DCAT/VoID dataset description, full dumps,
    content-negotiation rules (.htaccess, nginx.conf) and a sitemap. Without --data, the
    embedded CICA dataset with its vocabulary, shapes and JSON-LD context documented; with
    --data, exactly your data: nothing of CICA's is added.

    Example: cica-ld publish --out site --base-url https://example.github.io/cica-ld/

    Example: cica-ld publish --data catalogue.ttl --base-iri https://data.example.org/ --out site
    """
    from cica_ld import dcat_ap, limits, publish

    stated = dcat_ap.publication(
        issued=issued,
        modified=modified,
        availability=availability,
        publisher_type=publisher_type,
        license_type=license_type or (),
        bbox=spatial_bbox,
        centroid=spatial_centroid,
    )
    with limits.guard("publish"), cli_progress() as progress:
        result = publish.publish(
            out,
            data=data,
            input_format=input_format,
            base_url=base_url,
            base_iri=base_iri,
            title=title,
            name=name,
            progress=progress,
            context_map=read_context_map(context_map),
            force=force,
            publication=stated,
            jobs=jobs,
        )
    typer.echo(
        f"wrote {result.files} files ({result.pages} HTML pages, {result.bytes} bytes) to "
        f"{result.out}",
        err=True,
    )
    for rel in result.kept:
        typer.echo(
            f"cica-ld: warning: kept {result.out / rel}: the site no longer has it, but it was "
            "changed since publish wrote it",
            err=True,
        )
    for iri in result.skipped:
        typer.echo(
            f"cica-ld: warning: no page for {iri} (its path cannot be a file name)", err=True
        )
