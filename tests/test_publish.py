"""`cica-ld publish`: the static site is complete, consistent with the data, crawlable without
a broken link, its embedded JSON-LD parses offline, its dataset description counts right, and
it is deterministic. Built once from the embedded CICA dataset."""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
import shutil
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
from _publish_support import MINI, canonical, read_with_pyld
from conftest import free_port
from typer.testing import CliRunner

from cica_ld import dataset, publish
from cica_ld.cli import app
from cica_ld.errors import InputError

BASE = "https://w3id.org/cica-ld/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SH = "http://www.w3.org/ns/shacl#"
OWL = "http://www.w3.org/2002/07/owl#"
SCHEMA = "https://schema.org/"
CICA = BASE + "ontology#"


class Page(HTMLParser):
    """Links, ids, embedded JSON-LD, text and per-term usage counts of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.counts: dict[str, str] = {}
        self._script = False
        self._term: str | None = None
        self._in_count = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "div" and a.get("class") == "term":
            self._term = a.get("id")
        if tag == "span" and a.get("class") == "count" and self._term:
            self._in_count = True
        for attr in ("href", "src"):
            if attr in a and not (tag == "link" and a.get("rel") == "canonical"):
                self.links.append((tag, attr, a[attr]))
        if tag == "script" and a.get("type") == "application/ld+json":
            self._script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False
        if tag == "span":
            self._in_count = False

    def handle_data(self, data: str) -> None:
        if self._script:
            self.scripts[-1] += data
        else:
            self.text.append(data)
        if self._in_count and self._term and self._term not in self.counts:
            self.counts[self._term] = data.strip()


def parse_page(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    return dataset.load().store


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("publish") / "site"
    result = CliRunner().invoke(app, ["publish", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr
    return out


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[str, Page]:
    return {p.relative_to(site).as_posix(): parse_page(p) for p in sorted(site.rglob("*.html"))}


def _under_base(store: pyoxigraph.Store) -> set[str]:
    out = set()
    for q in store:
        for t in (q.subject, q.object):
            if isinstance(t, pyoxigraph.NamedNode) and t.value.startswith(BASE):
                out.add(t.value)
    return out


# ---------------------------------------------------------------------------------------------
# Completeness
# ---------------------------------------------------------------------------------------------


def test_every_resource_under_the_base_has_a_page_and_documents(
    site: Path, store: pyoxigraph.Store
) -> None:
    iris = _under_base(store)
    assert BASE + "id/cica" in iris
    for iri in iris:
        rel = publish.resource_path(iri)
        assert rel is not None, iri
        for suffix in (".html", ".ttl", ".jsonld", ".nt") if rel != "index" else (".html",):
            assert (site / f"{rel}{suffix}").is_file(), f"{iri}: {rel}{suffix} missing"
    for name in (
        "index.html",
        "ontology.html",
        "shapes.html",
        "dataset.html",
        "context.jsonld",
        "sitemap.xml",
        "robots.txt",
        ".htaccess",
        "nginx.conf",
        "404.html",
        ".nojekyll",
        "style.css",
    ):
        assert (site / name).is_file(), name


def test_resource_documents_hold_the_resource_description(
    site: Path, store: pyoxigraph.Store
) -> None:
    """Each resource's .ttl, .nt, .rdf and .jsonld give the same graph: its triples and the
    links to it with their subjects' labels; together with the vocabulary document they are
    exactly the dataset."""
    union: set[Any] = set()
    docs = sorted(site.glob("id/*.ttl"))
    assert len(docs) > 100
    for ttl in docs:
        rel = ttl.relative_to(site).with_suffix("").as_posix()
        turtle = list(pyoxigraph.parse(ttl.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE))
        nt = list(
            pyoxigraph.parse(
                ttl.with_suffix(".nt").read_bytes(), format=pyoxigraph.RdfFormat.N_TRIPLES
            )
        )
        rdfxml = pyoxigraph.parse(
            ttl.with_suffix(".rdf").read_bytes(), format=pyoxigraph.RdfFormat.RDF_XML
        )
        assert canonical(turtle) == canonical(nt) == canonical(rdfxml), rel
        # the labels of what the resource links to are there too
        labelled = publish.with_reference_labels(store, publish.resource_graph(store, BASE + rel))
        quads = {pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in turtle}
        assert {pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in labelled} <= quads, rel
        own = [q for q in turtle if q.subject.value == BASE + rel]
        expected = publish.resource_graph(store, BASE + rel)
        assert canonical(own) == canonical(
            pyoxigraph.Quad(t.subject, t.predicate, t.object) for t in expected
        ), rel
        node = pyoxigraph.NamedNode(BASE + rel)
        links = {
            (q.subject, q.predicate)
            for q in store.quads_for_pattern(None, None, node, None)
            if isinstance(q.subject, pyoxigraph.NamedNode) and q.subject != node
        }
        assert links == {(q.subject, q.predicate) for q in turtle if q.object == node}, rel
        # the other subjects: a link to this one, or a label (of a linker or of a linked resource)
        labels = LABELS | set(publish.INCOMING_LABEL_PROPS)
        for q in turtle:
            if q.subject != node:
                assert q.object == node or q.predicate.value in labels, rel
        union.update(own)
    # JSON-LD documents (read with PyLD, offline) on a sample: every 10th resource
    for ttl in docs[::10]:
        turtle = list(pyoxigraph.parse(ttl.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE))
        assert canonical(read_with_pyld(ttl.with_suffix(".jsonld").read_bytes())) == canonical(
            turtle
        )
    vocab = list(
        pyoxigraph.parse((site / "ontology.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    )
    union.update(vocab)
    triples = {pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in store}
    assert canonical(union) == canonical(triples)


LABELS = {
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
    "http://xmlns.com/foaf/0.1/name",
    "https://schema.org/name",
}


def test_dumps_are_the_whole_dataset(site: Path, store: pyoxigraph.Store) -> None:
    expected = canonical(pyoxigraph.Quad(q.subject, q.predicate, q.object) for q in store)
    for name, fmt in (
        ("cica-ld.ttl", pyoxigraph.RdfFormat.TURTLE),
        ("cica-ld.nt", pyoxigraph.RdfFormat.N_TRIPLES),
        ("cica-ld.rdf", pyoxigraph.RdfFormat.RDF_XML),
    ):
        got = pyoxigraph.parse((site / "dumps" / name).read_bytes(), format=fmt)
        assert canonical(got) == expected, name
    assert canonical(read_with_pyld((site / "dumps" / "cica-ld.jsonld").read_bytes())) == expected


# ---------------------------------------------------------------------------------------------
# Crawl: no broken internal link, every embedded JSON-LD parses
# ---------------------------------------------------------------------------------------------


def test_crawl_finds_no_broken_internal_link(site: Path, pages: dict[str, Page]) -> None:
    broken = []
    checked = 0
    for rel, page in pages.items():
        for tag, _attr, url in page.links:
            if url.startswith(("http://", "https://", "mailto:")):
                assert not (tag == "a" and url.startswith(BASE)), f"{rel}: absolute link {url}"
                continue
            path, _, frag = url.partition("#")
            if rel == "404.html":
                # served at any depth: its links start at the site's path on the host
                assert path.startswith("/cica-ld/"), url
                path = path.removeprefix("/cica-ld/")
            target = (
                posixpath.normpath(posixpath.join(posixpath.dirname(rel), path)) if path else rel
            )
            checked += 1
            if target.startswith("..") or not (site / target).is_file():
                broken.append(f"{rel}: {url}")
            elif frag and target.endswith(".html") and frag not in pages[target].ids:
                broken.append(f"{rel}: {url} (no id {frag!r})")
    assert checked > 10000
    assert broken == []


def test_every_embedded_jsonld_parses_offline(
    pages: dict[str, Page], store: pyoxigraph.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access while reading embedded JSON-LD")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    found = 0
    for rel, page in pages.items():
        for script in page.scripts:
            quads = read_with_pyld(json.loads(script))
            assert quads, rel
            found += 1
            if rel.startswith("id/"):
                iri = BASE + rel.removesuffix(".html")
                got = {(q.subject, q.predicate, q.object) for q in quads}
                own = {
                    (t.subject, t.predicate, t.object) for t in publish.resource_graph(store, iri)
                }
                assert own <= got, rel
                types = {
                    q.object.value
                    for q in quads
                    if q.subject == pyoxigraph.NamedNode(iri) and q.predicate.value == RDF_TYPE
                }
                assert any(t.startswith(SCHEMA) for t in types), rel
    assert found >= len([r for r in pages if r.startswith("id/")])


def test_cica_page_embeds_schema_org_members(
    pages: dict[str, Page], store: pyoxigraph.Store
) -> None:
    quads = read_with_pyld(json.loads(pages["id/cica.html"].scripts[0]))
    cica = pyoxigraph.NamedNode(BASE + "id/cica")
    assert pyoxigraph.NamedNode(SCHEMA + "GovernmentOrganization") in {
        q.object for q in quads if q.subject == cica and q.predicate.value == RDF_TYPE
    }
    roles = {
        q.object for q in quads if q.subject == cica and q.predicate.value == SCHEMA + "member"
    }
    members_in_schema = {
        q.object.value
        for q in quads
        if q.subject in roles and q.predicate.value == SCHEMA + "member"
    }
    memberships = {
        q.subject
        for q in store.quads_for_pattern(
            None, pyoxigraph.NamedNode("http://www.w3.org/ns/org#organization"), cica, None
        )
    }
    agents = {
        q.object.value
        for m in memberships
        for q in store.quads_for_pattern(
            m, pyoxigraph.NamedNode("http://www.w3.org/ns/org#member"), None, None
        )
    }
    assert agents and members_in_schema == agents


# ---------------------------------------------------------------------------------------------
# Pages: what they show
# ---------------------------------------------------------------------------------------------


def _members_of_cica(store: pyoxigraph.Store) -> dict[str, str]:
    rows = store.query(
        """PREFIX org: <http://www.w3.org/ns/org#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?s ?label { ?m org:organization <https://w3id.org/cica-ld/id/cica> ;
            org:role <https://w3id.org/cica-ld/ontology#member> ; org:member ?s .
            ?s rdfs:label ?label FILTER(LANG(?label) = "en") }"""
    )
    return {r["s"].value: r["label"].value for r in rows}


def test_cica_page_lists_member_states_with_sources(
    pages: dict[str, Page], store: pyoxigraph.Store
) -> None:
    page = pages["id/cica.html"]
    members = _members_of_cica(store)
    assert len(members) >= 20
    text = " ".join(page.text)
    hrefs = {url for _, _, url in page.links}
    for iri, label in members.items():
        assert label in text
        assert iri.removeprefix(BASE + "id/") + ".html" in hrefs
    assert "Sources cited" in text and "Incoming links" in text


def test_event_pages_cite_their_sources(pages: dict[str, Page], store: pyoxigraph.Store) -> None:
    """Events cite sources with dcterms:source (PROV-O: an activity is no prov:Entity); their
    pages list them like the entities' prov:wasDerivedFrom sources, and their schema.org
    JSON-LD makes the event the subject of each (schema:citation is a CreativeWork's)."""
    rows = store.query(
        "SELECT ?e (GROUP_CONCAT(STR(?src)) AS ?srcs) WHERE { ?e a prov:Activity ; "
        "<http://purl.org/dc/terms/source> ?src } GROUP BY ?e",
        prefixes={"prov": "http://www.w3.org/ns/prov#"},
    )
    events = {r["e"].value: r["srcs"].value.split() for r in rows}
    assert len(events) >= 20
    for iri, sources in events.items():
        page = pages[iri.removeprefix(BASE) + ".html"]
        assert "Sources cited" in " ".join(page.text), iri
        hrefs = {url for _, _, url in page.links}
        embedded = " ".join(page.scripts)
        assert '"subjectOf"' in embedded and '"citation"' not in embedded, iri
        for src in sources:
            slug = src.removeprefix(BASE + "id/")
            assert any(h.endswith(slug + ".html") for h in hrefs), (iri, src)


def test_vocabulary_page_documents_terms_with_usage_counts(
    site: Path, pages: dict[str, Page], store: pyoxigraph.Store
) -> None:
    page = pages["ontology.html"]
    vocab = list(
        pyoxigraph.parse((site / "ontology.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    )
    kinds = {OWL + "Class", OWL + "ObjectProperty", OWL + "DatatypeProperty"}
    terms = {
        q.subject.value: q.object.value
        for q in vocab
        if q.predicate.value == RDF_TYPE
        and q.object.value in kinds
        and q.subject.value.startswith(CICA)
    }
    assert len(terms) > 30
    text = " ".join(page.text)
    for iri, kind in terms.items():
        local = iri.removeprefix(CICA)
        assert local in page.ids, local
        if kind == OWL + "Class":
            q = f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a <{iri}> }}"
        else:
            q = f"SELECT (COUNT(*) AS ?n) {{ ?s <{iri}> ?o }}"
        expected = next(iter(store.query(q)))["n"].value
        assert page.counts[local] == expected, local
    for q in vocab:
        if q.predicate.value == "http://www.w3.org/2004/02/skos/core#definition":
            assert q.object.value in text


def test_shapes_page_documents_every_shape(site: Path, pages: dict[str, Page]) -> None:
    page = pages["shapes.html"]
    shapes = list(
        pyoxigraph.parse((site / "shapes.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    )
    text = html.unescape(" ".join(page.text))
    node_shapes = {
        q.subject.value
        for q in shapes
        if q.predicate.value == RDF_TYPE and q.object.value == SH + "NodeShape"
    }
    assert len(node_shapes) > 10
    for iri in node_shapes:
        assert iri.split("#", 1)[1] in page.ids, iri
    messages = [q.object.value for q in shapes if q.predicate.value == SH + "message"]
    for m in messages:
        assert " ".join(m.split()) in " ".join(text.split()), m


def test_index_links_every_resource_page(pages: dict[str, Page], store: pyoxigraph.Store) -> None:
    page = pages["index.html"]
    hrefs = {url for _, _, url in page.links}
    for iri in _under_base(store):
        rel = publish.resource_path(iri)
        if "#" in iri or rel is None or rel.split("/")[0] in publish.RESERVED:
            continue
        assert f"{rel}.html" in hrefs, iri


# ---------------------------------------------------------------------------------------------
# Dataset description, sitemap, content negotiation
# ---------------------------------------------------------------------------------------------


def _count(store: pyoxigraph.Store, q: str) -> int:
    return int(next(iter(store.query(q)))["n"].value)


def test_dataset_description_counts_and_distributions(site: Path, store: pyoxigraph.Store) -> None:
    desc = pyoxigraph.Store()
    desc.extend(
        pyoxigraph.parse((site / "dataset.ttl").read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    )
    ds = pyoxigraph.NamedNode(BASE + "dataset")

    def value(s: Any, p: str) -> str:
        return next(
            iter(desc.quads_for_pattern(s, pyoxigraph.NamedNode(p), None, None))
        ).object.value

    types = {
        q.object.value
        for q in desc.quads_for_pattern(ds, pyoxigraph.NamedNode(RDF_TYPE), None, None)
    }
    assert {DCAT + "Dataset", VOID + "Dataset"} <= types
    assert int(value(ds, VOID + "triples")) == len(store)
    assert int(value(ds, VOID + "classes")) == _count(
        store, "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?s a ?c }"
    )
    assert int(value(ds, VOID + "properties")) == _count(
        store, "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?s ?p ?o }"
    )
    assert int(value(ds, VOID + "entities")) == _count(
        store,
        "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}")) }}',
    )
    linkset = pyoxigraph.NamedNode(BASE + "dataset#wikidata-links")
    assert value(linkset, VOID + "linkPredicate") == OWL + "sameAs"
    links = _count(
        store,
        "SELECT (COUNT(*) AS ?n) { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o "
        'FILTER(STRSTARTS(STR(?o), "http://www.wikidata.org/entity/")) }',
    )
    assert links > 30 and int(value(linkset, VOID + "triples")) == links
    dists = [
        q.object
        for q in desc.quads_for_pattern(ds, pyoxigraph.NamedNode(DCAT + "distribution"), None, None)
    ]
    assert len(dists) == len(publish.DUMPS)
    for d in dists:
        url = value(d, DCAT + "downloadURL")
        assert url.startswith(BASE + "dumps/")
        path = site / url.removeprefix(BASE)
        assert path.is_file() and int(value(d, DCAT + "byteSize")) == path.stat().st_size
    # the class partition of cica:State counts the states
    part = pyoxigraph.NamedNode(BASE + "dataset#class-cica-State")
    assert int(value(part, VOID + "entities")) == _count(
        store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a <{CICA}State> }}"
    )


def test_sitemap_lists_every_page(site: Path, pages: dict[str, Page]) -> None:
    root = ET.fromstring((site / "sitemap.xml").read_bytes())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {e.text for e in root.findall("s:url/s:loc", ns)}
    expected = {BASE + ("" if p == "index.html" else p) for p in pages if p != "404.html"}
    assert locs == expected
    assert f"Sitemap: {BASE}sitemap.xml" in (site / "robots.txt").read_text()


def test_htaccess_and_nginx_rules_name_every_document_kind(site: Path) -> None:
    """The rules the site ships are the generated ones (run in real servers by
    tests/test_hosting.py): each representation's media type and suffix, Vary on every
    answer."""
    htaccess = (site / ".htaccess").read_text()
    nginx = (site / "nginx.conf").read_text()
    assert htaccess == publish.htaccess("/cica-ld/")
    assert nginx == publish.nginx_conf("/cica-ld/")
    for suffix, media, _ in publish.CONNEG_FORMATS:
        assert f"E=LD_CHOICE:%{{ENV:LD_Q_{suffix[1:].upper()}}}{suffix}" in htaccess
        assert f'"$ld_q_{suffix[1:]}{suffix}"' in nginx
        assert re.escape(media) in htaccess and re.escape(media) in nginx
    assert "Header always merge Vary Accept" in htaccess
    assert "add_header Vary Accept always" in nginx


def test_nginx_serves_each_representation_by_accept(site: Path, tmp_path: Path) -> None:
    """The generated nginx snippet in a real nginx (skipped where nginx is not installed)."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.skip("nginx is not installed: the content-negotiation rules are not run here")
    root = tmp_path / "www"
    (root).mkdir()
    shutil.copytree(site, root / "cica-ld")
    snippet = publish.nginx_conf("/cica-ld/")
    map_part, _, location = snippet.partition("# 2.")
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        # workers as the current user: pytest's tmp folders are private to it
        f"{'user root; ' if os.geteuid() == 0 else ''}"
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};\n"
        f"fastcgi_temp_path {tmp_path}; uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};\n"
        f"{map_part}\nserver {{ listen 127.0.0.1:{port}; root {root};\n#{location}\n}} }}\n"
    )
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                time.sleep(0.05)

        def get(path: str, accept: str) -> tuple[str, bytes]:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Accept": accept}
            )
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.headers.get("Content-Type", ""), resp.read()

        base = site / "id" / "cica"
        for accept, suffix, media in (
            ("text/turtle", ".ttl", "text/turtle"),
            ("application/ld+json", ".jsonld", "application/ld+json"),
            ("application/n-triples", ".nt", "application/n-triples"),
            ("text/html,application/xhtml+xml,*/*;q=0.8", ".html", "text/html"),
        ):
            ctype, body = get("/cica-ld/id/cica", accept)
            assert ctype.startswith(media) and body == base.with_suffix(suffix).read_bytes()
        ctype, body = get("/cica-ld/ontology", "application/rdf+xml")
        assert ctype.startswith("application/rdf+xml")
        assert body == (site / "ontology.rdf").read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# Determinism, --base-url, writing, offline, the per-resource API
# ---------------------------------------------------------------------------------------------


def test_site_is_byte_identical_when_built_again(site: Path) -> None:
    again = publish.build_site(
        dataset.load().store,
        vocabulary=_store(dataset.bundled_files("ontology")),
        shapes=_store(dataset.bundled_files("shapes")),
    )
    written = {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in site.rglob("*")
        if p.is_file() and p.name != publish.SITE_MARKER
    }
    assert sorted(written) == sorted(again.files)
    different = [name for name, content in again.files.items() if written[name] != content]
    assert different == []


def _store(files: list[Path]) -> pyoxigraph.Store:
    s = pyoxigraph.Store()
    for f in files:
        s.extend(dataset.parse_file(f))
    return s


def test_base_url_moves_absolute_urls_not_identifiers(tmp_path: Path) -> None:
    out = tmp_path / "site"
    hosted = "https://example.github.io/cica-ld/"
    result = CliRunner().invoke(
        app,
        # MINI is CICA-like data: with --data the CICA base IRI and names are asked for
        [
            *("publish", "--out", str(out), "--data", str(MINI)),
            *("--base-url", hosted.rstrip("/"), "--base-iri", BASE, "--name", "cica-ld"),
        ],
    )
    assert result.exit_code == 0, result.output
    root = ET.fromstring((out / "sitemap.xml").read_bytes())
    locs = [e.text or "" for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs and all(u.startswith(hosted) for u in locs)
    page = (out / "id" / "cica.html").read_text()
    assert f'<link rel="canonical" href="{hosted}id/cica.html">' in page
    assert "https://w3id.org/cica-ld/id/cica</code>" in page  # the identifier is unchanged
    desc = (out / "dataset.ttl").read_text()
    assert f"<{hosted}dumps/cica-ld.ttl>" in desc
    assert "<https://w3id.org/cica-ld/dataset>" in desc
    ttl = (out / "id" / "cica.ttl").read_text()
    assert "example.github.io" not in ttl
    w3id = (out / "w3id.htaccess").read_text()
    assert f"{hosted}$1%1 [R=303,L]" in w3id
    assert "R=303" in w3id


def test_bad_base_url_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["publish", "--out", str(tmp_path / "s"), "--data", str(MINI), "--base-url", "ftp:x"]
    )
    assert result.exit_code == 2
    assert "--base-url" in result.stderr and "Traceback" not in result.output


def test_publish_never_replaces_a_folder_it_did_not_write(tmp_path: Path) -> None:
    site = publish.build_site(dataset.load([MINI]).store, vocabulary=pyoxigraph.Store())
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not written by cica-ld"):
        publish.write_site(site, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"
    out = tmp_path / "site"
    publish.write_site(site, out)
    (out / "notes.html").write_text("the user's page")
    result = publish.write_site(site, out)
    assert (out / "notes.html").read_text() == "the user's page"  # not publish's: it stays
    assert result.files == len(site.files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "site"]


def test_publish_opens_no_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a socket connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = publish.publish(tmp_path / "site", data=[MINI])
    assert result.pages > 10


def test_per_resource_functions_for_the_server(store: pyoxigraph.Store) -> None:
    page = publish.render_resource_html(store, BASE + "id/kazakhstan")
    assert "<h1>Kazakhstan</h1>" in page
    assert 'href="cica.html"' in page  # memberships link to the organisation
    graph = publish.resource_graph(store, BASE + "id/kazakhstan")
    assert graph and all(t.subject.value == BASE + "id/kazakhstan" for t in graph)
    index = publish.render_index_html(store)
    assert 'href="id/kazakhstan.html"' in index
    desc = publish.dataset_description(store, "http://127.0.0.1:8000/")
    assert any(
        t.predicate.value == VOID + "triples" and int(t.object.value) == len(store) for t in desc
    )
    with pytest.raises(InputError):
        publish.render_resource_html(store, "http://example.org/elsewhere")


def test_help_ends_with_an_example() -> None:
    result = CliRunner().invoke(app, ["publish", "--help"])
    assert result.exit_code == 0 and "Example: cica-ld publish" in result.stdout


def test_mini_site_has_pages_for_referenced_only_resources(tmp_path: Path) -> None:
    """An IRI under the base that is only an object (no triples) still gets a page."""
    ds = dataset.load([MINI])
    site = publish.build_site(ds.store, vocabulary=_store(dataset.bundled_files("ontology")))
    assert "id/azerbaijan.html" in site.files
    assert b"only referred to" in site.files["id/azerbaijan.html"]
    assert site.skipped == ()


def test_blank_nodes_do_not_make_the_site_differ_between_runs() -> None:
    vocab = _store(dataset.bundled_files("ontology"))
    first = publish.build_site(dataset.load([MINI]).store, vocabulary=vocab)
    second = publish.build_site(dataset.load([MINI]).store, vocabulary=vocab)
    assert b"_:c14n0" in first.files["id/claim-article-founded.html"]
    assert first.files == second.files
