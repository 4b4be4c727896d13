"""Real web servers for the hosting tests, each on a free loopback port and stopped when the
context ends: `cica-ld serve` (a subprocess), nginx with the site's ``nginx.conf``, Apache 2.4
with the site's ``.htaccess`` (and w3id.org's rules in a folder of their own), plus a small
HTTP client that never follows redirects and an RDF crawler."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
from conftest import free_port

from cica_ld import publish

APACHE_MODULES = Path("/usr/lib/apache2/modules")
#: What the README's Apache section asks for, and nothing more: no mod_negotiation.
APACHE_MODULE_NAMES = ("mpm_event", "authz_core", "mime", "dir", "rewrite", "headers")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def get(url: str, accept: str | None) -> Answer:
    """GET ``url`` with ``accept`` (None: no Accept header), redirects not followed."""
    headers = {} if accept is None else {"Accept": accept}
    req = urllib.request.Request(url, headers=headers)
    try:
        with _OPENER.open(req, timeout=30) as resp:
            return Answer(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, dict(e.headers.items()), e.read())


def _wait_for(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"{what} did not start: {err}")
            time.sleep(0.05)
    pytest.fail(f"{what} did not listen on port {port} in time")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def serve(args: list[str]) -> Iterator[str]:
    """`cica-ld serve ARGS` on a free port; yields its base URL (``http://127.0.0.1:P/``)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cica_ld", "serve", "--port", str(port), "--quiet", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, proc, "cica-ld serve")
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


def binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it): its rules are not run here")
    return found


@contextlib.contextmanager
def served_root() -> Iterator[Path]:
    """A temporary folder the web servers serve from. Apache refuses to serve as root, so when
    the tests run as root its workers run as ``nobody``, and the folder is readable by all
    (pytest's own temporary folders are private to the user)."""
    with tempfile.TemporaryDirectory(prefix="cica-ld-hosts-") as d:
        root = Path(d)
        root.chmod(0o755)
        yield root


def _readable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode | stat.S_IRGRP | stat.S_IROTH | (0o055 if p.is_dir() else 0))


@contextlib.contextmanager
def apache(root: Path, work: Path, port: int) -> Iterator[str]:
    """Apache 2.4 serving ``root`` at ``http://127.0.0.1:PORT/`` with the settings of the
    README's Hosting section (``AllowOverride FileInfo Options Indexes``, mod_rewrite,
    mod_headers, no mod_negotiation), so each folder's ``.htaccess`` applies. ``work`` holds
    the configuration and logs."""
    exe = binary("apache2")
    _readable(root)
    (work / "mime.types").write_text("")
    modules = "\n".join(
        f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in APACHE_MODULE_NAMES
    )
    user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
    conf = work / "httpd.conf"
    conf.write_text(
        f"ServerRoot {work}\nListen 127.0.0.1:{port}\nServerName 127.0.0.1\n"
        f"PidFile {work}/httpd.pid\nErrorLog {work}/error.log\nLogLevel warn\n"
        f"TypesConfig {work}/mime.types\n{modules}\n{user}"
        f"DocumentRoot {root}\n"
        f"<Directory {root}>\n    AllowOverride FileInfo Options Indexes\n"
        "    Require all granted\n</Directory>\n"
    )
    proc = subprocess.Popen(
        [exe, "-f", str(conf), "-DFOREGROUND"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for(port, proc, "apache2")
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


@contextlib.contextmanager
def nginx(root: Path, work: Path, port: int, base_path: str) -> Iterator[str]:
    """nginx serving ``root`` with the site's ``nginx.conf`` (its ``map`` part in the ``http``
    block, its ``location`` part in the ``server`` block) for the site at ``base_path``."""
    exe = binary("nginx")
    snippet = publish.nginx_conf(base_path)
    maps, _, location = snippet.partition("# 2.")
    conf = work / "nginx.conf"
    temps = " ".join(
        f"{k}_temp_path {work};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        # workers as the current user: pytest's tmp folders are private to it
        f"{'user root; ' if os.geteuid() == 0 else ''}"
        f"daemon off; pid {work}/nginx.pid; error_log {work}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; {temps}\n"
        f"{maps}\nserver {{ listen 127.0.0.1:{port}; root {root};\n#{location}\n}} }}\n"
    )
    proc = subprocess.Popen(
        [exe, "-c", str(conf), "-p", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for(port, proc, "nginx")
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


RDF_MEDIA = {
    "text/turtle": pyoxigraph.RdfFormat.TURTLE,
    "application/n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
    "application/rdf+xml": pyoxigraph.RdfFormat.RDF_XML,
    "application/ld+json": pyoxigraph.RdfFormat.JSON_LD,
}


@dataclass
class Crawl:
    documents: set[str]  # the IRIs whose RDF documents were read (without fragment)
    failed: dict[str, int]  # IRI -> HTTP status, for those that did not answer 200
    other: set[str]  # answered 200 with something else than RDF (an HTML landing page)


def crawl(
    fetch: Callable[[str], Answer], start: str, base_iri: str, *, accept: str = "text/turtle"
) -> Crawl:
    """An RDF client: GET ``start`` with ``accept``, parse the answer, and do the same for
    every IRI under ``base_iri`` that it names (subject, predicate or object), until no new
    document is found. ``fetch`` maps an IRI to its answer (following its own redirects).
    The dumps (``dumps/...``) are not followed: they would hold every IRI by themselves."""
    done: set[str] = set()
    failed: dict[str, int] = {}
    other: set[str] = set()
    todo = [start]
    while todo:
        doc = todo.pop().split("#", 1)[0]
        if doc in done or doc.startswith(base_iri + "dumps/"):
            continue
        done.add(doc)
        answer = fetch(doc)
        media = answer.header("content-type").split(";")[0].strip()
        if answer.status != 200:
            failed[doc] = answer.status
            continue
        if media not in RDF_MEDIA:
            other.add(doc)
            continue
        for t in pyoxigraph.parse(answer.body, format=RDF_MEDIA[media], base_iri=doc):
            for term in (t.subject, t.predicate, t.object):
                if (
                    isinstance(term, pyoxigraph.NamedNode)
                    and term.value.startswith(base_iri)
                    and term.value.split("#", 1)[0] not in done
                ):
                    todo.append(term.value)
    return Crawl(done - set(failed) - other, failed, other)


HYDRA = "http://www.w3.org/ns/hydra/core#"


@dataclass
class HydraWalk:
    members: list[str]  # the hydra:member of the collection, page after page
    views: list[str]  # the pages read, in the order hydra:next gave them
    total: int  # the collection's hydra:totalItems
    links: dict[str, dict[str, str]]  # page -> {first, last, previous, next} -> page


def hydra_walk(fetch: Callable[[str], Answer], root: str) -> HydraWalk:
    """A Hydra client: read the root document, take the ``hydra:Collection`` it describes and
    its ``hydra:view``, then read page after page by ``hydra:next`` only, collecting the
    collection's ``hydra:member``s and each page's navigation links."""
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

    def read(iri: str) -> list[pyoxigraph.Triple]:
        answer = fetch(iri)
        assert answer.status == 200, (iri, answer.status)
        media = answer.header("content-type").split(";")[0].strip()
        return list(pyoxigraph.parse(answer.body, format=RDF_MEDIA[media], base_iri=iri))

    top = read(root)
    (coll,) = {
        t.subject
        for t in top
        if t.predicate.value == rdf_type and t.object.value == HYDRA + "Collection"
    }
    (total,) = {
        int(t.object.value)
        for t in top
        if t.subject == coll and t.predicate.value == HYDRA + "totalItems"
    }
    (page,) = {
        t.object.value for t in top if t.subject == coll and t.predicate.value == HYDRA + "view"
    }
    walk = HydraWalk([], [], total, {})
    while page is not None:
        assert page not in walk.views, f"hydra:next loops back to {page}"
        walk.views.append(page)
        triples = read(page)
        walk.members += [
            t.object.value
            for t in triples
            if t.subject == coll and t.predicate.value == HYDRA + "member"
        ]
        links = {
            t.predicate.value[len(HYDRA) :]: t.object.value
            for t in triples
            if t.subject.value == page
            and t.predicate.value.startswith(HYDRA)
            and t.predicate.value != HYDRA + "member"
        }
        walk.links[page] = links
        page = links.get("next")
    return walk


def resources(store: pyoxigraph.Store, base_iri: str) -> set[str]:
    """Every document IRI the data has under ``base_iri`` (IRIs used as subject or object, a
    hash IRI counted as its document)."""
    out = set()
    for q in store:
        for t in (q.subject, q.object):
            if isinstance(t, pyoxigraph.NamedNode) and t.value.startswith(base_iri):
                out.add(t.value.split("#", 1)[0])
    return out
