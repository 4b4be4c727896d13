"""No CICA in the user's work: with --data, publish, serve, load and validate work on exactly the
user's triples and add nothing of the CICA dataset (vocabulary, shapes, JSON-LD context, base
IRI, title, names, keywords). The fixtures (tests/fixtures/user-data/) are a small DCAT
catalogue and a small FOAF/SKOS dataset, not CICA's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from _publish_support import canonical, read_with_pyld
from conftest import FIXTURES, OxigraphServer
from typer.testing import CliRunner

from cica_ld import publish
from cica_ld.cli import app

USER = FIXTURES / "user-data"
CATALOGUE = USER / "catalogue.ttl"
PEOPLE = USER / "people.ttl"
PEOPLE_SHAPES = USER / "people-shapes.ttl"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCT = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
CONSTRUCT_ALL = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def graph_of(path: Path) -> set[Any]:
    """The file's own triples, canonicalized: what every --data output must equal."""
    return canonical(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))


def iris_under(path: Path, base: str) -> set[str]:
    """IRIs under ``base`` used as subject or object in the file (each gets a page)."""
    out = set()
    for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(base):
                out.add(term.value)
    return out


def site_text(site: Path) -> dict[str, str]:
    """Every file of a written site (the marker that says cica-ld wrote the folder aside)."""
    return {
        p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(site.rglob("*"))
        if p.is_file() and p.name != publish.SITE_MARKER
    }


def publish_site(tmp_path: Path, data: Path, *args: str) -> Path:
    out = tmp_path / "site"
    result = cli("publish", "--data", str(data), "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    return out


# ---------------------------------------------------------------------------------------------
# publish --data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [CATALOGUE, PEOPLE], ids=["dcat", "foaf-skos"])
def test_published_site_of_user_data_names_nothing_of_cica(tmp_path: Path, data: Path) -> None:
    site = publish_site(tmp_path, data)
    files = site_text(site)
    assert files
    named = [rel for rel, text in files.items() if "cica" in rel.lower() or "cica" in text.lower()]
    assert named == []
    assert not (site / "context.jsonld").exists()
    assert not (site / "shapes.html").exists()


@pytest.mark.parametrize("data", [CATALOGUE, PEOPLE], ids=["dcat", "foaf-skos"])
def test_dumps_hold_exactly_the_users_graph(tmp_path: Path, data: Path) -> None:
    site = publish_site(tmp_path, data)
    dumps = site / "dumps"
    stem = data.stem
    assert sorted(p.name for p in dumps.iterdir()) == sorted(
        f"{stem}{s}" for s in (".jsonld", ".nt", ".rdf", ".ttl")
    )
    want = graph_of(data)
    for suffix, fmt in (
        (".ttl", ox.RdfFormat.TURTLE),
        (".nt", ox.RdfFormat.N_TRIPLES),
        (".rdf", ox.RdfFormat.RDF_XML),
    ):
        assert canonical(ox.parse(path=str(dumps / f"{stem}{suffix}"), format=fmt)) == want
    # JSON-LD read back offline (PyLD): the context is inline, standard prefixes only
    doc = json.loads((dumps / f"{stem}.jsonld").read_bytes())
    assert isinstance(doc["@context"], dict)
    assert canonical(read_with_pyld(doc)) == want


def test_pages_only_for_the_users_resources_under_the_inferred_base(tmp_path: Path) -> None:
    site = publish_site(tmp_path, CATALOGUE)
    base = "https://data.example.org/"
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    expected = {publish.resource_path(i, base) for i in iris_under(CATALOGUE, base)}
    assert None not in expected
    assert pages == {f"{rel}.html" for rel in expected} | {
        "index.html",
        "index/1.html",
        "dataset.html",
        "404.html",
        "search.html",
    }
    # dataset/bus-stops is the user's (only a path equal to a site document is reserved)
    assert "dataset/bus-stops.html" in pages
    page = (site / "dataset" / "bus-stops.html").read_text()
    assert "<h1>Bus stops</h1>" in page
    assert 'href="../ontology.html"' not in page and 'href="../shapes.html"' not in page
    assert f"<code>{base}</code>" in page  # the footer names the user's base IRI


def test_dataset_description_describes_the_users_data(tmp_path: Path) -> None:
    site = publish_site(tmp_path, CATALOGUE)
    desc = ox.Store()
    desc.load(path=str(site / "dataset.ttl"), format=ox.RdfFormat.TURTLE)
    ds = ox.NamedNode("https://data.example.org/dataset")

    def objects(p: str) -> list[Any]:
        return [q.object for q in desc.quads_for_pattern(ds, ox.NamedNode(p), None, None)]

    n = len(list(ox.parse(path=str(CATALOGUE), format=ox.RdfFormat.TURTLE)))
    assert [int(o.value) for o in objects(VOID + "triples")] == [n]
    # the catalogue's own title, description, licence and publisher; nothing CICA states
    assert objects(DCT + "title") == [ox.Literal("Open Transport Data", language="en")]
    assert [o.value for o in objects(DCT + "description")] == [
        "Timetables and stops of the Example Transport Agency."
    ]
    assert objects(DCT + "license") == [
        ox.NamedNode("https://creativecommons.org/licenses/by/4.0/")
    ]
    assert objects(DCT + "publisher") == [
        ox.NamedNode("https://data.example.org/org/transport-agency")
    ]
    assert objects(DCT + "conformsTo") == []
    assert objects(VOID + "subset") == []  # no Wikidata links in the data: no linkset
    downloads = {o.value for o in objects(VOID + "dataDump")}
    assert downloads == {
        f"https://data.example.org/dumps/catalogue{s}" for s in (".ttl", ".nt", ".jsonld", ".rdf")
    }
    # the schema.org Dataset for search engines: the catalogue's keywords, no CICA creator
    html = (site / "dataset.html").read_text()
    script = re.search(r'<script type="application/ld\+json">\s*(.*?)\s*</script>', html, re.S)
    assert script is not None
    schema = json.loads(script.group(1))
    assert schema["name"] == "Open Transport Data"
    assert schema["keywords"] == ["timetables", "transport"]
    assert "creator" not in schema


def test_base_iri_title_and_name_options(tmp_path: Path) -> None:
    site = publish_site(
        tmp_path,
        PEOPLE,
        *("--base-iri", "http://example.org/people", "--title", "Our people", "--name", "team"),
    )
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert pages == {
        "alice.html",
        "bob.html",
        "index.html",
        "index/1.html",
        "dataset.html",
        "404.html",
        "search.html",
    }
    assert sorted(p.name for p in (site / "dumps").iterdir()) == [
        "team.jsonld",
        "team.nt",
        "team.rdf",
        "team.ttl",
    ]
    assert "<h1>Our people</h1>" in (site / "index.html").read_text()
    assert canonical(
        ox.parse(path=str(site / "dumps" / "team.nt"), format=ox.RdfFormat.N_TRIPLES)
    ) == graph_of(PEOPLE)


def test_defaults_for_data_without_a_dataset_node(tmp_path: Path) -> None:
    """No dcat/void/schema Dataset in the data: the title is the file's stem; the base IRI is
    the common prefix of the subjects on their host, so ontology#Researcher (the user's own
    class) gets its page: the CICA vocabulary page is not there to take the name."""
    site = publish_site(tmp_path, PEOPLE)
    index = (site / "index.html").read_text()
    assert "<h1>people</h1>" in index
    assert ">Vocabulary<" not in index and "vocabulary" not in index  # ontology.html is the user's
    assert 'href="ontology.html"' in index  # listed: the document of the user's ontology#Researcher
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert {"people/alice.html", "topics/rdf.html", "ontology.html"} <= pages
    assert "Researcher" in (site / "ontology.html").read_text()
    alice = ox.parse(path=str(site / "people" / "alice.ttl"), format=ox.RdfFormat.TURTLE)
    assert any(t.predicate.value == "http://xmlns.com/foaf/0.1/accountName" for t in alice)


@pytest.mark.parametrize(
    ("iris", "base"),
    [
        (["http://example.org/people/alice", "http://example.org/org/acme"], "http://example.org/"),
        (["http://example.org/ns#Thing"], "http://example.org/"),
        (
            ["https://a.example/x/1", "https://a.example/x/2", "https://b.example/y"],
            "https://a.example/x/",
        ),
        (["https://a.example/x/1", "https://b.example/y/1"], "https://a.example/x/"),
    ],
)
def test_infer_base_iri(iris: list[str], base: str) -> None:
    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    store.extend(ox.Quad(ox.NamedNode(i), p, ox.Literal("v")) for i in iris)
    assert publish.infer_base_iri(store) == base


def test_data_without_http_subjects_needs_base_iri(tmp_path: Path) -> None:
    data = tmp_path / "urns.ttl"
    data.write_text('<urn:x:1> <http://example.org/p> "v" .\n', encoding="utf-8")
    result = cli("publish", "--data", str(data), "--out", str(tmp_path / "site"))
    assert result.exit_code == 2
    assert "--base-iri" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("name", ["../up", "a b", ".hidden"])
def test_bad_name_is_a_usage_error(tmp_path: Path, name: str) -> None:
    result = cli("publish", "--data", str(PEOPLE), "--out", str(tmp_path / "s"), "--name", name)
    assert result.exit_code == 2
    assert "--name" in result.stderr and "Traceback" not in result.output


def test_publish_help_says_which_defaults_are_cicas() -> None:
    result = cli("publish", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for option in ("--base-iri", "--title", "--name"):
        assert option in text
    assert "without --data the CICA base IRI" in text
    assert "without --data the CICA one" in text
    assert "without --data cica-ld (CICA's)" in text


# ---------------------------------------------------------------------------------------------
# serve --data
# ---------------------------------------------------------------------------------------------


def serve_get(path: str, accept: str | None = None, *args: str) -> Any:
    extra = ["--accept", accept] if accept else []
    return cli("serve", "--data", str(PEOPLE), "--workers", "0", *args, "--get", path, *extra)


def test_serve_answers_with_exactly_the_users_triples() -> None:
    result = serve_get(f"/sparql?query={quote(CONSTRUCT_ALL)}", "application/n-triples")
    assert result.exit_code == 0, result.output
    got = ox.parse(result.stdout_bytes, format=ox.RdfFormat.N_TRIPLES)
    assert canonical(got) == graph_of(PEOPLE)
    dump = serve_get("/dumps/people.nt")
    assert dump.exit_code == 0, dump.output
    assert canonical(ox.parse(dump.stdout_bytes, format=ox.RdfFormat.N_TRIPLES)) == graph_of(PEOPLE)


ONTOLOGY_NS = "http://example.org/ontology"


def test_serve_pages_of_user_data_name_nothing_of_cica() -> None:
    for path in ("/", "/people/alice", "/dataset", "/people/alice.jsonld", "/dataset.ttl"):
        result = serve_get(path, "text/html")
        assert result.exit_code == 0, (path, result.output)
        assert "cica" not in result.stdout.lower(), path
    # the user's own http://example.org/ontology (a hash namespace), not the CICA vocabulary
    onto = serve_get("/ontology", "text/turtle")
    assert onto.exit_code == 0, onto.output
    triples = list(ox.parse(onto.stdout_bytes, format=ox.RdfFormat.TURTLE))
    researcher = ox.NamedNode("http://example.org/ontology#Researcher")
    described = {t.subject.value for t in triples if t.subject.value.startswith(ONTOLOGY_NS)}
    assert described == {researcher.value}
    # the others only link to it (alice is a Researcher) and bring their label
    linking = {t.subject for t in triples if t.object == researcher and t.subject != researcher}
    assert (
        {t.subject for t in triples} - {researcher}
        == linking
        == {ox.NamedNode("http://example.org/people/alice")}
    )
    assert serve_get("/context.jsonld").exit_code == 1  # no CICA context served
    assert serve_get("/shapes.html").exit_code == 1


def test_serve_base_iri_is_inferred_or_given() -> None:
    given = serve_get("/alice", "text/turtle", "--base-iri", "http://example.org/people/")
    assert given.exit_code == 0, given.output
    assert "Alice Example" in given.stdout
    assert serve_get("/alice", "text/turtle").exit_code == 1  # inferred: http://example.org/
    help_text = " ".join(cli("serve", "--help").stdout.split())
    assert "without --data the CICA base IRI https://w3id.org/cica-ld/" in help_text


# ---------------------------------------------------------------------------------------------
# load --data
# ---------------------------------------------------------------------------------------------


def test_load_pushes_exactly_the_users_triples(oxigraph_server: OxigraphServer) -> None:
    res = cli("load", "--endpoint", oxigraph_server.store_url, "--data", str(PEOPLE), "--replace")
    assert res.exit_code == 0, res.output
    r = httpx.post(
        oxigraph_server.query_url,
        content=CONSTRUCT_ALL.encode(),
        headers={"content-type": "application/sparql-query", "accept": "application/n-triples"},
        timeout=30,
    )
    r.raise_for_status()
    assert canonical(ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)) == graph_of(PEOPLE)


# ---------------------------------------------------------------------------------------------
# validate --data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--data", str(PEOPLE)], [str(PEOPLE)]], ids=["--data", "positional"]
)
def test_validate_user_data_without_shapes_is_a_usage_error(args: list[str]) -> None:
    result = cli("validate", *args)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("cica-ld: error:") and "--shapes" in first
    assert result.stdout == "" and "Traceback" not in result.output


def test_validate_user_data_has_no_ontology_graph_unless_named() -> None:
    result = cli("validate", "--data", str(PEOPLE), "--shapes", str(PEOPLE_SHAPES), "-f", "json")
    report = json.loads(result.stdout)
    assert report["sources"]["ontology"] == []
    # bob knows no one: the only result (none from the CICA shapes)
    focus = {r["focusNode"] for r in report["results"]}
    assert focus == {"<http://example.org/people/bob>"}, report["results"]
    assert result.exit_code == 1
    named = cli(
        "validate", "--data", str(PEOPLE), "-s", str(PEOPLE_SHAPES), "-e", str(PEOPLE), "-f", "json"
    )
    assert [s["path"] for s in json.loads(named.stdout)["sources"]["ontology"]] == [str(PEOPLE)]


def test_validate_help_says_the_cica_shapes_are_only_the_default_without_data() -> None:
    text = " ".join(cli("validate", "--help").stdout.split())
    assert "default: the embedded CICA shapes (only without --data)" in text
    assert "no ontology graph with --data" in text
