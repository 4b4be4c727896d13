"""Links both ways: a resource's documents carry the links to it (with the labels of the
resources that link), capped at MAX_INCOMING with a link to where the rest are; the root
document links the index documents, which list every resource. On a library catalogue that is
not CICA's (tests/fixtures/links); the crawls over real servers are in test_hosting.py."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph
import pytest
from _hosts import Answer, crawl, hydra_walk, resources
from _publish_support import canonical

from cica_ld import publish, server

LIBRARY = Path(__file__).resolve().parent / "fixtures" / "links" / "library.ttl"
B = "http://data.example.net/library/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
nn = pyoxigraph.NamedNode
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    s = pyoxigraph.Store()
    s.load(path=str(LIBRARY), format=pyoxigraph.RdfFormat.TURTLE)
    return s


def _triples(ts: list[pyoxigraph.Triple]) -> set[tuple[str, str, str]]:
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in ts}


def test_incoming_links_come_with_their_subjects_labels(store: pyoxigraph.Store) -> None:
    doc = publish.document_graph(store, B + "subject/rivers", [B + "subject/rivers"])
    rivers = nn(B + "subject/rivers")
    links = {(t.subject.value, t.predicate.value) for t in doc if t.object == rivers}
    assert links == {(B + f"book/{n}", DCT + "subject") for n in (1, 2, 3)}
    # each linking book's label as written (schema:name, language tag kept)
    assert (
        pyoxigraph.Triple(
            nn(B + "book/2"), nn(SCHEMA + "name"), pyoxigraph.Literal("Deltas", language="en")
        )
        in doc
    )
    # and nothing else of the books: not their types, dates or other links
    assert not [
        t
        for t in doc
        if t.subject == nn(B + "book/1")
        and t.predicate.value != SCHEMA + "name"
        and t.object != rivers
    ]
    # its own description is whole (both labels, the scheme)
    assert set(publish.resource_graph(store, B + "subject/rivers")) <= set(doc)


def test_links_from_blank_nodes_and_self_links_are_not_incoming(store: pyoxigraph.Store) -> None:
    # book/4 is named by the reading list through a blank node ([ schema:item book/4 ])
    doc = publish.incoming_graph(store, [B + "book/4"])
    assert all(isinstance(t.subject, pyoxigraph.NamedNode) for t in doc)
    assert not any(t.predicate.value == SCHEMA + "item" for t in doc)


def test_only_labelled_subjects_bring_a_label(store: pyoxigraph.Store) -> None:
    doc = publish.incoming_graph(store, [B + "subjects"])
    assert _triples(doc) == {
        (f"<{B}subject/ice>", f"<{SKOS}inScheme>", f"<{B}subjects>"),
        (f"<{B}subject/rivers>", f"<{SKOS}inScheme>", f"<{B}subjects>"),
        (f"<{B}subject/ice>", f"<{SKOS}prefLabel>", '"Ice"@en'),
        (f"<{B}subject/rivers>", f"<{SKOS}prefLabel>", '"Rivers"@en'),
        (f"<{B}subject/rivers>", f"<{SKOS}prefLabel>", '"Flüsse"@de'),
    }


def test_incoming_links_are_capped_with_a_link_to_the_rest(store: pyoxigraph.Store) -> None:
    more = B + "dumps/library.nt"
    doc = publish.document_graph(
        store, B + "subject/rivers", [B + "subject/rivers"], limit=2, more=more
    )
    rivers = nn(B + "subject/rivers")
    assert len([t for t in doc if t.object == rivers]) == 2
    assert pyoxigraph.Triple(rivers, nn(RDFS + "seeAlso"), nn(more)) in doc
    # the same two on every run (the store's index order, which depends on the data only)
    again = pyoxigraph.Store()
    again.load(path=str(LIBRARY), format=pyoxigraph.RdfFormat.TURTLE)
    assert doc == publish.document_graph(
        again, B + "subject/rivers", [B + "subject/rivers"], limit=2, more=more
    )
    # under the cap: no link to the rest
    whole = publish.document_graph(
        store, B + "subject/rivers", [B + "subject/rivers"], limit=3, more=more
    )
    assert not any(t.predicate.value == RDFS + "seeAlso" for t in whole)


def test_served_documents_cap_links_with_a_query_for_the_rest(
    store: pyoxigraph.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "MAX_INCOMING", 1)
    app = server.create_app(store, base_iri=B, workers=0, site=publish.user_site(store, [LIBRARY]))
    r = server.fetch(app, "/subject/rivers", accept="application/n-triples")
    assert r.status == 200
    got = list(pyoxigraph.parse(r.body, format=pyoxigraph.RdfFormat.N_TRIPLES))
    rivers = nn(B + "subject/rivers")
    assert len([q for q in got if q.object == rivers]) == 1
    [see] = [q.object.value for q in got if q.predicate.value == RDFS + "seeAlso"]
    url = urlsplit(see)
    assert url.path == "/sparql"
    # the query the link names gives every link
    query = parse_qs(url.query)["query"][0]
    # (server.fetch runs one request in the app's lifespan: a new app for the next)
    app = server.create_app(store, base_iri=B, workers=0, site=publish.user_site(store, [LIBRARY]))
    answer = server.fetch(app, f"/sparql?{url.query}", accept="application/n-triples")
    assert answer.status == 200, query
    rest = list(pyoxigraph.parse(answer.body, format=pyoxigraph.RdfFormat.N_TRIPLES))
    assert {q.subject.value for q in rest} == {B + f"book/{n}" for n in (1, 2, 3)}


def _site_fetch(files: dict[str, bytes]) -> object:
    """The published files as an RDF client sees them over the host rules (Turtle)."""

    def fetch(iri: str) -> Answer:
        rel = publish.resource_path(iri, B)
        body = files.get(f"{rel}.ttl") if rel is not None else None
        if body is None:
            return Answer(404, {}, b"")
        return Answer(200, {"Content-Type": "text/turtle"}, body)

    return fetch


def test_paged_index_documents_reach_every_resource(
    store: pyoxigraph.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 3 resources an index document and one incoming link per document, a crawler from
    the root still reaches every resource: the index documents list them all."""
    monkeypatch.setattr(publish, "INDEX_PAGE_SIZE", 3)
    monkeypatch.setattr(publish, "MAX_INCOMING", 1)
    site = publish.build_site(
        store, base_iri=B, base_url=B, site=publish.user_site(store, [LIBRARY])
    )
    pages = sorted(f for f in site.files if f.startswith("index/") and f.endswith(".ttl"))
    assert pages == [f"index/{n}.ttl" for n in (1, 2, 3, 4)]  # 10 resources
    root = list(pyoxigraph.parse(site.files["index.ttl"], format=pyoxigraph.RdfFormat.TURTLE))
    listed = {q.object.value for q in root if q.predicate.value == RDFS + "seeAlso"}
    assert {B + f"index/{n}" for n in (1, 2, 3, 4)} <= listed
    got = crawl(_site_fetch(site.files), B, B)
    assert resources(store, B) - got.documents == set()
    # each page: part of the dataset, at most 3 resources with their labels as written
    for page in pages:
        triples = list(pyoxigraph.parse(site.files[page], format=pyoxigraph.RdfFormat.TURTLE))
        doc = nn(B + page.removesuffix(".ttl"))
        assert pyoxigraph.Quad(doc, nn(DCT + "isPartOf"), nn(B + "dataset")) in triples
        assert (
            1
            <= len(
                [q for q in triples if q.subject == doc and q.predicate.value == RDFS + "seeAlso"]
            )
            <= 3
        )


def test_a_hydra_client_pages_through_the_index_documents(
    store: pyoxigraph.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside rdfs:seeAlso and dcterms:isPartOf, the index documents are Hydra partial
    collection views: from the root's collection and its hydra:view, hydra:next alone walks
    every page, each with hydra:first/last/previous, and the members are every listed
    resource, each once, as many as hydra:totalItems says."""
    monkeypatch.setattr(publish, "INDEX_PAGE_SIZE", 3)
    site = publish.user_site(store, [LIBRARY])
    files = publish.build_site(store, base_iri=B, base_url=B, site=site).files
    listing = [i for page in publish.index_documents(store, B, site=site) for i in page]
    assert len(listing) == 10
    walk = hydra_walk(_site_fetch(files), B)
    pages = [B + f"index/{n}" for n in (1, 2, 3, 4)]
    assert walk.views == pages
    assert walk.members == listing and walk.total == 10
    for n, page in enumerate(pages):
        want = {"first": pages[0], "last": pages[-1]}
        if n > 0:
            want["previous"] = pages[n - 1]
        if n < len(pages) - 1:
            want["next"] = pages[n + 1]
        assert walk.links[page] == want, page
        typed = pyoxigraph.parse(files[f"index/{n + 1}.ttl"], format=pyoxigraph.RdfFormat.TURTLE)
        view = nn(publish.HYDRA + "PartialCollectionView")
        assert pyoxigraph.Quad(nn(page), nn(RDF_TYPE), view) in list(typed)
    # serve answers the same pages
    app = server.create_app(store, base_iri=B, workers=0, site=site)
    r = server.fetch(app, "/index/2", accept="text/turtle")
    served = pyoxigraph.parse(r.body, format=pyoxigraph.RdfFormat.TURTLE)
    published = pyoxigraph.parse(files["index/2.ttl"], format=pyoxigraph.RdfFormat.TURTLE)
    assert canonical(served) == canonical(published)


def test_index_documents_served_and_published_agree(store: pyoxigraph.Store) -> None:
    site = publish.user_site(store, [LIBRARY])
    files = publish.build_site(store, base_iri=B, base_url=B, site=site).files
    app = server.create_app(store, base_iri=B, workers=0, site=site)
    r = server.fetch(app, "/index/1", accept="text/turtle")
    assert r.status == 200 and r.headers["content-type"].startswith("text/turtle")
    served = pyoxigraph.parse(r.body, format=pyoxigraph.RdfFormat.TURTLE)
    published = pyoxigraph.parse(files["index/1.ttl"], format=pyoxigraph.RdfFormat.TURTLE)
    assert canonical(served) == canonical(published)
    for path, accept, status in (("/index/2", "text/turtle", 404), ("/index/1", "text/html", 200)):
        app = server.create_app(store, base_iri=B, workers=0, site=site)
        assert server.fetch(app, path, accept=accept).status == status, path


def test_user_data_under_index_is_the_sites_own(store: pyoxigraph.Store) -> None:
    """``index/...`` is where the index documents are: a resource of the user's data there
    gets no page (and a warning), like ``dumps/...``."""
    s = pyoxigraph.Store()
    s.add(pyoxigraph.Quad(nn(B + "index/7"), nn(RDFS + "label"), pyoxigraph.Literal("x")))
    s.add(pyoxigraph.Quad(nn(B + "a"), nn(RDFS + "seeAlso"), nn(B + "index/7")))
    site = publish.build_site(s, base_iri=B, base_url=B, site=publish.user_site(s, [LIBRARY]))
    assert B + "index/7" in site.skipped
    assert "a.ttl" in site.files


def test_pages_cap_incoming_links_and_link_the_dump(
    store: pyoxigraph.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = publish.user_site(store, [LIBRARY])
    monkeypatch.setattr(publish, "MAX_INCOMING", 2)
    html = publish.render_resource_html(store, B + "subject/rivers", B, base_iri=B, site=site)
    rows = html.split('<table class="incoming">', 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr><td>") == 2
    assert 'The first 2 links; all of them are in the <a href="../dumps/library.nt">' in html
    monkeypatch.setattr(publish, "MAX_INCOMING", 3)
    html = publish.render_resource_html(store, B + "subject/rivers", B, base_iri=B, site=site)
    rows = html.split('<table class="incoming">', 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr><td>") == 3
    assert "N-Triples dump" not in html
