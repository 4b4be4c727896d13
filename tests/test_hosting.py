"""Every host answers content negotiation the same: `cica-ld serve`, nginx with the site's
``nginx.conf``, Apache 2.4 with the site's ``.htaccess``, and w3id.org's rules
(``w3id.htaccess``, run under Apache) redirecting to the site. One table of Accept headers,
run against all four on the document paths of the CICA site; and a crawler that follows only
the links in the documents reaches every resource, on `serve` and on the published folder
behind Apache (through the w3id redirects), for the CICA data and for a library catalogue
that is not CICA's.

nginx and Apache are Debian packages (.ci/run installs them); their tests skip without them.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
from _hosts import (
    Answer,
    apache,
    crawl,
    get,
    hydra_walk,
    nginx,
    resources,
    serve,
    served_root,
)
from _publish_support import canonical
from conftest import free_port
from typer.testing import CliRunner

from cica_ld import dataset, publish, server
from cica_ld.cli import app

BASE = "https://w3id.org/cica-ld/"
LIBRARY = Path(__file__).resolve().parent / "fixtures" / "links" / "library.ttl"
LIBRARY_BASE = "http://data.example.net/library/"

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
MEDIA = {
    ".ttl": "text/turtle",
    ".html": "text/html",
    ".jsonld": "application/ld+json",
    ".nt": "application/n-triples",
    ".rdf": "application/rdf+xml",
}

#: Accept header (None: none sent) -> the document suffix every host must answer with, or
#: None for 406 Not Acceptable.
ACCEPT_CASES: list[tuple[str | None, str | None]] = [
    ("text/turtle", ".ttl"),
    ("application/ld+json", ".jsonld"),
    ("application/json", ".jsonld"),
    ("application/rdf+xml", ".rdf"),
    ("application/n-triples", ".nt"),
    ("text/html", ".html"),
    ("application/xhtml+xml", ".html"),
    ("*/*", ".ttl"),
    (None, ".ttl"),
    ("", ".ttl"),
    (FIREFOX, ".html"),
    (CHROME, ".html"),
    ("text/turtle;q=0.5, application/ld+json", ".jsonld"),
    ("application/ld+json;q=0.8, text/turtle;q=0.9", ".ttl"),
    ("application/ld+json;q=0.85, text/turtle;q=0.825", ".jsonld"),
    ("application/n-triples;q=0.001, application/rdf+xml;q=0.0001", ".nt"),
    ("text/turtle;q=0, */*", ".html"),
    ("text/turtle;q=0, text/html;q=0, */*;q=0.3", ".jsonld"),
    ("*/*;q=0.1, application/rdf+xml", ".rdf"),
    ("application/*;q=0.5, text/html;q=0.4", ".jsonld"),
    ("text/*", ".ttl"),
    ("TEXT/Turtle ; charset=utf-8 ; q=1.0", ".ttl"),
    ("text/turtle;q=0", None),
    ("text/turtle;q=0.0, application/ld+json;q=0", None),
    ("image/png", None),
    ("application/pdf, image/*;q=0.9", None),
]

#: Paths of the CICA site (relative to the base IRI) that every host negotiates.
PATHS = ["id/cica", "", "ontology", "ontology/0.1.0", "shapes/0.1.0", "dataset", "index/1"]


@dataclass
class Hosts:
    site: Path  # the published folder
    serve: str  # base URLs
    nginx: str | None
    apache: str | None
    site_url: str | None  # the site under Apache
    w3id: str | None  # the w3id rules under Apache


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    work = tmp_path_factory.mktemp("hosts")
    apache_port, nginx_port = free_port(), free_port()
    site_url = f"http://127.0.0.1:{apache_port}/site/"
    with served_root() as root, contextlib.ExitStack() as stack:
        site = root / "site"
        # published for where Apache hosts it, so w3id.htaccess redirects there
        result = CliRunner().invoke(app, ["publish", "--out", str(site), "--base-url", site_url])
        assert result.exit_code == 0, result.output
        w3id = root / "w3id" / "cica-ld"
        w3id.mkdir(parents=True)
        shutil.copy(site / "w3id.htaccess", w3id / ".htaccess")
        served = stack.enter_context(serve([]))
        apache_url = _optional(stack, lambda: apache(root, _dir(work, "apache"), apache_port))
        nginx_url = _optional(stack, lambda: nginx(root, _dir(work, "nginx"), nginx_port, "/site/"))
        yield Hosts(
            site=site,
            serve=served,
            nginx=nginx_url and nginx_url + "site/",
            apache=apache_url and apache_url + "site/",
            site_url=site_url if apache_url else None,
            w3id=apache_url and apache_url + "w3id/cica-ld/",
        )


def _dir(work: Path, name: str) -> Path:
    d = work / name
    d.mkdir(exist_ok=True)
    return d


def _optional(
    stack: contextlib.ExitStack, start: Callable[[], contextlib.AbstractContextManager[str]]
) -> str | None:
    """The host's URL, or None when its server is not installed (the host's cases skip)."""
    try:
        return stack.enter_context(start())
    except pytest.skip.Exception:
        return None


def _host_url(hosts: Hosts, host: str) -> str:
    url = getattr(hosts, host)
    if url is None:
        pytest.skip(f"{'apache2' if host in ('apache', 'w3id') else host} is not installed")
    return url


@pytest.mark.parametrize("host", ["serve", "nginx", "apache", "w3id"])
@pytest.mark.parametrize("path", PATHS)
def test_every_host_negotiates_the_same(hosts: Hosts, host: str, path: str) -> None:
    """The table: status, Content-Type (or Location for the w3id redirects) and Vary."""
    url = _host_url(hosts, host) + path
    wrong = []
    for accept, suffix in ACCEPT_CASES:
        a = get(url, accept)
        vary = {v.strip().lower() for v in a.header("vary").split(",")}
        got = (a.status, a.header("location"), a.header("content-type").split(";")[0])
        if suffix is None:
            want = (406, "", got[2])
        elif host == "w3id":
            want = (303, f"{hosts.site_url}{path or 'index'}{suffix}", got[2])
        else:
            want = (200, "", MEDIA[suffix])
        if got != want or "accept" not in vary:
            wrong.append(f"Accept {accept!r}: got {got} vary {a.header('vary')!r}, want {want}")
            continue
        if host in ("nginx", "apache") and suffix is not None:
            # the file itself
            file = hosts.site / f"{path or 'index'}{suffix}"
            if a.body != file.read_bytes():
                wrong.append(f"Accept {accept!r}: not the body of {file.name}")
    assert wrong == []


@pytest.mark.parametrize("host", ["nginx", "apache", "w3id"])
def test_the_vocabulary_iri_is_not_shadowed_by_its_versions_folder(hosts: Hosts, host: str) -> None:
    """``ontology/`` (the versioned copies) is a folder beside ``ontology.*``: the vocabulary
    IRI still answers with the vocabulary, not a redirect to the folder or a 404."""
    url = _host_url(hosts, host) + "ontology"
    a = get(url, "text/turtle")
    if host == "w3id":
        assert (a.status, a.header("location")) == (303, f"{hosts.site_url}ontology.ttl")
        a = get(a.header("location"), "text/turtle")
    assert a.status == 200
    assert a.body == (hosts.site / "ontology.ttl").read_bytes()


@pytest.mark.parametrize("host", ["serve", "nginx", "apache"])
def test_unknown_paths_are_404_and_named_files_need_no_negotiation(hosts: Hosts, host: str) -> None:
    base = _host_url(hosts, host)
    assert get(base + "id/no-such-resource", "text/turtle").status == 404
    # a document named with its suffix is that document, whatever the Accept header
    a = get(base + "id/cica.ttl", "text/html;q=0, image/png")
    assert (a.status, a.header("content-type").split(";")[0]) == (200, "text/turtle")


def test_w3id_redirects_land_on_the_document(hosts: Hosts) -> None:
    """Following the 303 of w3id's rules gets the representation asked for."""
    base = _host_url(hosts, "w3id")
    for accept, suffix in [("application/ld+json", ".jsonld"), (FIREFOX, ".html"), ("", ".ttl")]:
        a = get(base + "id/cica", accept)
        assert a.status == 303
        b = get(a.header("location"), accept)
        assert (b.status, b.header("content-type").split(";")[0]) == (200, MEDIA[suffix])
    named = get(base + "id/cica.nt", "text/html")
    assert (named.status, named.header("location")) == (303, f"{hosts.site_url}id/cica.nt")


def test_served_and_published_resource_documents_are_the_same_graph(hosts: Hosts) -> None:
    """`serve` and the published site give one resource the same triples (its description
    and the links to it), and the same index document."""
    for rel in ("id/cica", "id/kazakhstan", "id/membership-afghanistan-member", "index/1"):
        a = get(hosts.serve + rel, "application/n-triples")
        served = pyoxigraph.parse(a.body, format=pyoxigraph.RdfFormat.N_TRIPLES)
        published = pyoxigraph.parse(
            (hosts.site / f"{rel}.nt").read_bytes(), format=pyoxigraph.RdfFormat.N_TRIPLES
        )
        assert canonical(served) == canonical(published), rel


def test_conneg_formats_of_the_host_rules_are_those_of_serve() -> None:
    offers = [(f.suffix, f.media_type, f.aliases) for f in server._page_offers()]
    assert offers == list(publish.CONNEG_FORMATS)


# ---------------------------------------------------------------------------------------------
# Crawling: following only the links in the documents reaches every resource
# ---------------------------------------------------------------------------------------------


def _over(base_url: str, base_iri: str) -> Callable[[str], Answer]:
    """A fetch that asks ``base_url`` for the IRIs under ``base_iri``, following redirects."""

    def fetch(iri: str) -> Answer:
        url = base_url + iri[len(base_iri) :]
        for _ in range(5):
            a = get(url, "text/turtle")
            if a.status not in (301, 302, 303, 307, 308):
                return a
            url = a.header("location")
        return a

    return fetch


def test_a_crawler_from_the_root_of_serve_reaches_every_resource(hosts: Hosts) -> None:
    store = dataset.load().store
    want = resources(store, BASE)
    assert len(want) > 600
    for start in (BASE, BASE + "id/cica"):
        got = crawl(_over(hosts.serve, BASE), start, BASE)
        assert want - got.documents == set(), start
        assert got.failed == {}, start


def test_a_crawler_through_w3id_and_apache_reaches_every_resource(hosts: Hosts) -> None:
    """The published folder behind Apache, every IRI asked of w3id's rules (303s followed)."""
    base = _host_url(hosts, "w3id")
    store = dataset.load().store
    want = resources(store, BASE)
    for start in (BASE, BASE + "id/cica"):
        got = crawl(_over(base, BASE), start, BASE)
        assert want - got.documents == set(), start
        assert got.failed == {}, start


@pytest.mark.parametrize("host", ["serve", "w3id"])
def test_a_hydra_client_reaches_every_listed_resource(hosts: Hosts, host: str) -> None:
    """A Hydra client (hydra:Collection, hydra:view, hydra:next, hydra:member only) from the
    root, against serve and the published folder behind w3id's rules in Apache: the members
    are every resource of the data but the vocabulary (its own document, linked from the
    root), each once, as many as hydra:totalItems says."""
    base = hosts.serve if host == "serve" else _host_url(hosts, host)
    store = dataset.load().store
    walk = hydra_walk(_over(base, BASE), BASE)
    assert walk.views == [BASE + "index/1"]
    assert walk.links[BASE + "index/1"] == {"first": BASE + "index/1", "last": BASE + "index/1"}
    assert len(walk.members) == len(set(walk.members)) == walk.total
    assert resources(store, BASE) - set(walk.members) == {
        BASE + "ontology",
        BASE + "ontology/0.1.0",
    }


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str | None]]:
    """The library catalogue (not CICA's) under `serve --data` and, published, under Apache:
    their base URLs (Apache's None when it is not installed)."""
    work = tmp_path_factory.mktemp("library")
    args = ["--data", str(LIBRARY), "--base-iri", LIBRARY_BASE]
    with served_root() as root, contextlib.ExitStack() as stack:
        result = CliRunner().invoke(app, ["publish", "--out", str(root / "lib"), *args])
        assert result.exit_code == 0, result.output
        served = stack.enter_context(serve(args))
        port = free_port()
        url = _optional(stack, lambda: apache(root, work, port))
        yield served, url and url + "lib/"


@pytest.mark.parametrize("host", ["serve", "apache"])
def test_a_crawler_reaches_every_resource_of_other_data(
    library: tuple[str, str | None], host: str
) -> None:
    url = library[0] if host == "serve" else library[1]
    if url is None:
        pytest.skip("apache2 is not installed")
    store = pyoxigraph.Store()
    store.load(path=str(LIBRARY), format=pyoxigraph.RdfFormat.TURTLE)
    want = resources(store, LIBRARY_BASE)
    # linked from nowhere, linking nowhere: only the root's index documents reach it
    assert LIBRARY_BASE + "book/lonely" in want
    got = crawl(_over(url, LIBRARY_BASE), LIBRARY_BASE, LIBRARY_BASE)
    assert want - got.documents == set()
    assert got.failed == {}
    # and the documents name nothing of CICA's
    for doc in got.documents:
        body = _over(url, LIBRARY_BASE)(doc).body.lower()
        assert b"cica" not in body, doc


def _random_accepts(n: int, seed: int = 13) -> list[str]:
    """Accept headers drawn from the offered types, their aliases, wildcards and types nobody
    offers, each range at most once, with q-values of 0 to 3 decimals, parameters, odd spacing
    and case."""
    import random

    rng = random.Random(seed)
    pool = [
        *(m for _, m, _ in publish.CONNEG_FORMATS),
        *(a for _, _, aliases in publish.CONNEG_FORMATS for a in aliases),
        "*/*",
        "text/*",
        "application/*",
        "image/*",
        "image/png",
        "application/xml",
        "application/pdf",
    ]
    out = []
    for _ in range(n):
        ranges = []
        for media in rng.sample(pool, rng.randint(1, 5)):
            if rng.random() < 0.2:
                media = media.upper()
            params = [";charset=utf-8"] if rng.random() < 0.15 else []
            if rng.random() < 0.7:
                q = rng.choice(
                    [
                        "0",
                        "1",
                        "1.0",
                        "0.000",
                        *(f"0.{rng.randint(0, 999):0{k}d}"[: 2 + k] for k in (1, 2, 3)),
                    ]
                )
                params.append(f"{rng.choice(['', ' '])};{rng.choice(['', ' '])}q={q}")
            ranges.append(media + "".join(params))
        out.append(rng.choice([",", ", ", " ,"]).join(ranges))
    return out


@pytest.mark.parametrize("host", ["serve", "nginx", "apache", "w3id"])
def test_random_accept_headers_agree_with_the_servers_negotiation(hosts: Hosts, host: str) -> None:
    """300 Accept headers: every host picks what cica_ld.server.negotiate picks (the oracle)."""
    url = _host_url(hosts, host) + "id/cica"
    offers = server._page_offers()
    wrong = []
    for accept in _random_accepts(300):
        chosen = server.negotiate(accept, offers)
        a = get(url, accept)
        if chosen is None:
            ok = a.status == 406
        elif host == "w3id":
            ok = (a.status, a.header("location")) == (
                303,
                f"{hosts.site_url}id/cica{chosen.suffix}",
            )
        else:
            ok = (a.status, a.header("content-type").split(";")[0]) == (200, chosen.media_type)
        if not ok:
            wrong.append(
                f"{accept!r}: want {chosen and chosen.suffix}, got {a.status} "
                f"{a.header('content-type')} {a.header('location')}"
            )
    assert wrong == []
