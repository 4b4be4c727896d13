"""`publish` at scale (issue 14.3): the site is written as it is rendered, the resource pages
by worker processes, and it is the same site as the in-memory reference builder gives
(:func:`cica_ld.publish.build_site` + :func:`cica_ld.publish.write_site`).

Same site: the same files; each RDF document isomorphic (RDFC-1.0 canonical quads), each JSON
file equal parsed, each HTML page equal parsed (element tree, attributes, text), every other
file byte for byte. Memory: counted, not timed (a publish holds the files of at most one
resource page at a time while it renders in its own process). Fixtures: the user-data people
graph (not CICA's), generated ORG data (benchmarks/generate.py), and the embedded CICA dataset.
"""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest

from benchmarks.generate import generate
from cica_ld import publish, streaming
from tests._publish_support import canonical, read_with_pyld

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PEOPLE = FIXTURES / "user-data" / "people.ttl"

RDF_FORMATS = {
    ".ttl": pyoxigraph.RdfFormat.TURTLE,
    ".nt": pyoxigraph.RdfFormat.N_TRIPLES,
    ".rdf": pyoxigraph.RdfFormat.RDF_XML,
}


class _Tree(HTMLParser):
    """An HTML page as a list of events: start tags with sorted attributes, end tags, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.events.append(("text", data))


def parsed_html(data: bytes) -> list[tuple[Any, ...]]:
    tree = _Tree()
    tree.feed(data.decode("utf-8"))
    tree.close()
    return tree.events


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_same_site(streamed: Path, reference: Path) -> None:
    a, b = files(streamed), files(reference)
    assert sorted(a) == sorted(b)
    for rel in sorted(a):
        suffix = Path(rel).suffix
        if rel == publish.SITE_MARKER:
            ma, mb = json.loads(a[rel]), json.loads(b[rel])
            assert sorted(ma["files"]) == sorted(mb["files"])
            for name, entry in ma["files"].items():
                assert entry["bytes"] == len(a[name]), name
        elif suffix in RDF_FORMATS and not rel.startswith("dumps/"):
            fmt = RDF_FORMATS[suffix]
            assert canonical(pyoxigraph.parse(a[rel], format=fmt)) == canonical(
                pyoxigraph.parse(b[rel], format=fmt)
            ), rel
        elif suffix == ".jsonld":
            assert json.loads(a[rel]) == json.loads(b[rel]), rel
            assert canonical(read_with_pyld(a[rel])) == canonical(read_with_pyld(b[rel])), rel
        elif suffix == ".json":
            assert json.loads(a[rel]) == json.loads(b[rel]), rel
        elif suffix == ".html":
            assert parsed_html(a[rel]) == parsed_html(b[rel]), rel
        else:
            assert a[rel] == b[rel], rel


def reference_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make :func:`publish.publish` write with the in-memory reference builder."""

    def reference(
        plan: publish.SitePlan, out: Path, progress: Any = None, **kw: Any
    ) -> publish.PublishResult:
        kw.pop("jobs"), kw.pop("chunk")
        return publish.write_site(publish.site_of(plan), out, progress=progress, **kw)

    monkeypatch.setattr(streaming, "publish_streamed", reference)


def both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> tuple[publish.PublishResult, publish.PublishResult]:
    streamed = publish.publish(tmp_path / "streamed", **kw)
    with monkeypatch.context() as m:
        reference_publish(m)
        ref = publish.publish(tmp_path / "reference", **kw)
    assert_same_site(tmp_path / "streamed", tmp_path / "reference")
    return streamed, ref


def test_streamed_site_of_the_users_data_is_the_reference_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streamed, ref = both(tmp_path, monkeypatch, data=[PEOPLE], jobs=2, chunk=1)
    assert (streamed.files, streamed.bytes, streamed.pages) == (ref.files, ref.bytes, ref.pages)
    assert streamed.skipped == ref.skipped


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text, _ = generate(3000, seed=7, defect_rate=0.0)
    path = tmp_path_factory.mktemp("gen") / "gen-3k.ttl"
    path.write_text(text, encoding="utf-8")
    return path


def test_streamed_site_of_generated_data_in_workers_is_the_reference_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated: Path
) -> None:
    streamed, ref = both(
        tmp_path,
        monkeypatch,
        data=[generated],
        base_iri="https://w3id.org/cica-ld/",
        jobs=2,
        chunk=7,
    )
    assert streamed.pages == ref.pages > 300
    assert (streamed.files, streamed.bytes) == (ref.files, ref.bytes)


def test_streamed_cica_site_is_the_reference_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    streamed, ref = both(tmp_path, monkeypatch, jobs=2, chunk=16)
    assert (streamed.files, streamed.bytes, streamed.pages) == (ref.files, ref.bytes, ref.pages)


def test_a_rerun_over_the_previous_site_replaces_it_file_by_file(tmp_path: Path) -> None:
    """Folders already there are written into file by file (the user's files in them stay);
    new folders are moved in whole: the manifest lists what is there either way."""
    site = tmp_path / "site"
    publish.publish(site, data=[PEOPLE], jobs=1)
    (site / "CNAME").write_text("data.example.org\n")
    mine = next(p for p in site.iterdir() if p.is_dir() and not p.name.startswith("."))
    (mine / "notes.txt").write_text("mine\n")
    second = publish.publish(site, data=[PEOPLE], jobs=2, chunk=1)
    manifest = json.loads((site / publish.SITE_MARKER).read_text())["files"]
    assert len(manifest) == second.files
    for rel, entry in manifest.items():
        assert (site / rel).stat().st_size == entry["bytes"], rel
    assert (site / "CNAME").read_text() == "data.example.org\n"
    assert (mine / "notes.txt").read_text() == "mine\n"
    assert not list(site.glob(f"{publish.SITE_MARKER}.*"))


class _Counted(bytes):
    """A file's content that counts how many such contents are alive."""

    live = 0
    peak = 0

    def __new__(cls, value: bytes) -> _Counted:
        obj = super().__new__(cls, value)
        cls.live += 1
        cls.peak = max(cls.peak, cls.live)
        return obj

    def __del__(self) -> None:
        type(self).live -= 1


def count_files_held(monkeypatch: pytest.MonkeyPatch) -> type[_Counted]:
    counted = type("Counted", (_Counted,), {"live": 0, "peak": 0})
    real_resource, real_site = publish.resource_files, publish.site_files

    def resource_files(*args: Any, **kw: Any) -> list[tuple[str, bytes]]:
        return [(rel, counted(c)) for rel, c in real_resource(*args, **kw)]

    def site_files(*args: Any, **kw: Any) -> Any:
        for rel, c in real_site(*args, **kw):
            yield rel, counted(c)

    monkeypatch.setattr(publish, "resource_files", resource_files)
    monkeypatch.setattr(publish, "site_files", site_files)
    return counted


def test_publish_holds_one_resources_files_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated: Path
) -> None:
    """Rendering in this process (``jobs=1``), the files alive at once are at most those of one
    resource page (its HTML and 4 documents) and the next one being made, however many pages
    the site has; the reference builder, which holds the site, is over that bound by far
    (so the count can see a site held in memory)."""
    counted = count_files_held(monkeypatch)
    result = publish.publish(
        tmp_path / "streamed", data=[generated], base_iri="https://w3id.org/cica-ld/", jobs=1
    )
    assert result.files > 1000
    assert counted.peak <= 2 * (1 + len(publish.RESOURCE_DOCS))
    assert counted.live == 0

    held = count_files_held(monkeypatch)
    reference_publish(monkeypatch)
    publish.publish(
        tmp_path / "reference", data=[generated], base_iri="https://w3id.org/cica-ld/", jobs=1
    )
    assert held.peak >= result.files - 10


def test_workers_hold_at_most_a_chunk_of_pages(tmp_path: Path, generated: Path) -> None:
    """A worker's task is a chunk of resources; what it returns is their file names, sizes and
    digests, never their content."""
    plan_items: list[Any] = []
    seen: list[Any] = []

    def work(task: Any) -> Any:
        n, done = real_work(task)
        plan_items.append(len(task[2]))
        seen.extend(done)
        return n, done

    real_work = streaming._work
    streaming._PLAN = None
    from cica_ld import dataset

    ds = dataset.load([generated], include_ontology=False)
    plan = publish.plan_site(
        ds.store,
        vocabulary=pyoxigraph.Store(),
        base_iri="https://w3id.org/cica-ld/",
        base_url="https://w3id.org/cica-ld/",
        site=publish.user_site(ds.store, [generated]),
    )
    root = tmp_path / "staging"
    root.mkdir()
    streaming._PLAN = plan
    try:
        items = plan.resource_items()[:10]
        n, done = work((0, str(root), items))
    finally:
        streaming._PLAN = None
    assert n == 0 and plan_items == [10]
    assert {name for name, _, _ in done} == {
        f"{rel}{suffix}" for rel, _ in items for suffix in [".html", *publish.RESOURCE_DOCS]
    }
    for name, size, digest in done:
        assert isinstance(size, int) and isinstance(digest, bytes) and len(digest) == 32
        assert (root / name).stat().st_size == size
        assert hashlib.sha256((root / name).read_bytes()).digest() == digest


@pytest.mark.parametrize("cica", [False, True])
@pytest.mark.parametrize("source", ["people", "generated"])
def test_dumps_are_streamed_with_the_in_memory_dumps_meaning(
    cica: bool, source: str, generated: Path
) -> None:
    """The dumps publish streams (:class:`publish.DumpStream`, never the whole graph in
    memory): N-Triples, Turtle and RDF/XML the very bytes of the in-memory export of all the
    quads, which parse to the store's graph; JSON-LD too (one node object per subject, the
    whole context inlined), read by PyLD to that same graph. People has blank nodes; generated data
    has many subjects (several output chunks)."""
    from cica_ld import dataset, export

    path = PEOPLE if source == "people" else generated
    ds = dataset.load([path], include_ontology=False)
    site = publish.CICA_SITE if cica else publish.user_site(ds.store, [path])
    plan = publish.plan_site(ds.store, base_iri="https://w3id.org/cica-ld/", site=site)
    quads = export.all_quads(plan.store)
    graph = canonical(quads)
    formats = {"ntriples": ".nt", "turtle": ".ttl", "rdfxml": ".rdf", "jsonld": ".jsonld"}
    for fmt, suffix in formats.items():
        streamed = publish.DumpStream(plan.store, fmt, site)
        data = bytes(streamed)
        assert streamed.size == len(data)
        in_memory = publish.export_document(quads, fmt, site=site, whole=True)
        assert data == in_memory, fmt
        if fmt == "jsonld":
            assert isinstance(json.loads(data)["@context"], dict)  # stands alone
            assert canonical(read_with_pyld(data)) == graph
        else:
            assert canonical(pyoxigraph.parse(data, format=RDF_FORMATS[suffix])) == graph


def test_streamed_manifest_is_the_manifest() -> None:
    """The manifest publish writes entry by entry is the bytes of the whole-document one, with
    and without the files left out (the user's copies already right), for none, one and many
    files, names with non-ASCII characters among them."""
    many = {f"id/r{i}-é.html": (i, f"{i:064x}") for i in range(2000, 0, -3)}
    for files in ({}, {"a.html": (1, "0" * 64)}, many):
        for skip in (set(), set(list(files)[:50])):
            expected = publish._manifest_of({r: v for r, v in files.items() if r not in skip})
            assert b"".join(publish._manifest_chunks(files, skip)) == expected
            as_bytes = {r: (n, bytes.fromhex(h)) for r, (n, h) in files.items()}
            assert b"".join(publish._manifest_chunks(as_bytes, skip)) == expected


def test_a_worker_killed_fails_the_publish_and_leaves_no_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated: Path
) -> None:
    """A worker that dies without a word (killed) is noticed: publish fails with the exit
    code instead of waiting for it, and no site is left at ``--out``."""
    import os

    from cica_ld.errors import InputError

    monkeypatch.setattr(streaming, "_work", lambda task: os._exit(9))  # in the forked worker
    out = tmp_path / "site"
    with pytest.raises(InputError, match="worker process ended with code 9"):
        publish.publish(out, data=[generated], base_iri="https://w3id.org/cica-ld/", jobs=2)
    assert not out.exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_pages_render_with_the_loaded_objects_frozen_and_then_thawed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """While pages render, what loading and planning made is in the collector's permanent
    generation (collections do not walk it; a worker does not copy it by collecting); after
    the publish, nothing of it stays frozen."""
    import gc

    seen: list[int] = []
    site_files = publish.site_files

    def watched(*args: Any, **kw: Any) -> Any:
        # the rest of the site, written by this process while (or before) pages render
        seen.append(gc.get_freeze_count())
        yield from site_files(*args, **kw)

    monkeypatch.setattr(publish, "site_files", watched)
    assert gc.get_freeze_count() == 0
    publish.publish(tmp_path / "site", data=[PEOPLE], jobs=jobs, chunk=1)
    assert len(seen) == 1 and seen[0] > 1000
    assert gc.get_freeze_count() == 0


def test_a_publish_leaves_objects_frozen_by_its_caller_frozen(tmp_path: Path) -> None:
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        publish.publish(tmp_path / "site", data=[PEOPLE], jobs=1)
        # (a few frozen objects are freed by their refcount meanwhile; unfrozen, it is 0)
        assert gc.get_freeze_count() > 0.9 * frozen
    finally:
        gc.unfreeze()
