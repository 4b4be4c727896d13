"""`publish --out`: the site writes only what it owns, never over its input, through links.

Issue 15's findings, each a test: a re-run deleted everything the user put in the folder (a
``.git``, a ``CNAME``); ``--out`` a link to a folder was replaced by a folder; ``--out`` could be
an input folder. Fixtures: a small DCAT/FOAF/SKOS catalogue (tests/fixtures/outputs/).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cica_ld import publish
from cica_ld.cli import app
from cica_ld.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "outputs"
CATALOGUE = FIXTURES / "catalogue.ttl"
LATER = FIXTURES / "catalogue-later.ttl"  # bike-counts and transport withdrawn


def run(*args: str | Path) -> object:
    return CliRunner().invoke(app, ["publish", *map(str, args)])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (links not followed) -> its content."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def user_files(site: Path) -> None:
    (site / ".git").mkdir()
    (site / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (site / "CNAME").write_text("data.example.org\n")
    (site / "notes").mkdir()
    (site / "notes" / "todo.md").write_text("- add the 2025 readings\n")


USER = {
    ".git/HEAD": b"ref: refs/heads/gh-pages\n",
    "CNAME": b"data.example.org\n",
    "notes/todo.md": b"- add the 2025 readings\n",
}


def test_manifest_lists_every_file_written_with_size_and_hash(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run("--data", CATALOGUE, "--out", site)
    assert result.exit_code == 0, result.output
    manifest = json.loads((site / publish.SITE_MARKER).read_text())
    written = snapshot(site)
    del written[publish.SITE_MARKER]
    assert set(manifest["files"]) == set(written)
    for rel, content in written.items():
        entry = manifest["files"][rel]
        assert entry == {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def test_rerun_keeps_the_users_files(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("--data", CATALOGUE, "--out", site).exit_code == 0
    user_files(site)
    result = run("--data", CATALOGUE, "--out", site)
    assert result.exit_code == 0, result.output
    after = snapshot(site)
    for rel, content in USER.items():
        assert after[rel] == content
    assert "bike-counts.html" in after
    manifest = json.loads(after[publish.SITE_MARKER])
    assert not set(USER) & set(manifest["files"])  # never claimed


def test_rerun_deletes_only_the_previous_sites_files_it_no_longer_has(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("--data", CATALOGUE, "--out", site).exit_code == 0
    user_files(site)
    result = run("--data", LATER, "--out", site)
    assert result.exit_code == 0, result.output
    after = snapshot(site)
    assert not any(rel.startswith(("bike-counts.", "transport.")) for rel in after)
    assert "dumps/catalogue.ttl" not in after and "dumps/catalogue-later.ttl" in after
    assert "air-quality.html" in after
    for rel, content in USER.items():
        assert after[rel] == content
    manifest = json.loads(after[publish.SITE_MARKER])
    assert set(manifest["files"]) == set(after) - set(USER) - {publish.SITE_MARKER}


def test_a_page_the_user_changed_is_kept_when_the_site_drops_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("--data", CATALOGUE, "--out", site).exit_code == 0
    (site / "bike-counts.html").write_text("<p>my notes on the counts</p>")
    result = run("--data", LATER, "--out", site)
    assert result.exit_code == 0, result.output
    assert (site / "bike-counts.html").read_text() == "<p>my notes on the counts</p>"
    assert not (site / "bike-counts.ttl").exists()  # unchanged: deleted
    assert "kept" in result.stderr and "bike-counts.html" in result.stderr


def test_a_page_the_user_changed_where_the_site_writes_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("--data", CATALOGUE, "--out", site).exit_code == 0
    (site / "index.html").write_text("<p>my own front page</p>")
    before = snapshot(site)
    result = run("--data", CATALOGUE, "--out", site)
    assert result.exit_code == 2
    assert "index.html" in result.stderr and "Traceback" not in result.output
    assert snapshot(site) == before


def test_a_folder_publish_did_not_make_is_refused_unless_force(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "CNAME").write_text("data.example.org\n")
    result = run("--data", CATALOGUE, "--out", docs)
    assert result.exit_code == 2
    assert str(docs) in result.stderr and "--force" in result.stderr
    assert snapshot(docs) == {"CNAME": b"data.example.org\n"}
    result = run("--data", CATALOGUE, "--out", docs, "--force")
    assert result.exit_code == 0, result.output
    assert (docs / "CNAME").read_text() == "data.example.org\n"
    assert (docs / "catalogue.html").is_file()
    result = run("--data", LATER, "--out", docs)  # now it holds a site: no --force needed
    assert result.exit_code == 0, result.output
    assert (docs / "CNAME").read_text() == "data.example.org\n"
    assert not (docs / "bike-counts.html").exists()


def test_force_never_overwrites_a_file_it_did_not_write(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    (docs / ".nojekyll").write_bytes(b"")  # the same as the site's: fine, left alone
    result = run("--data", CATALOGUE, "--out", docs, "--force")
    assert result.exit_code == 2
    assert "robots.txt" in result.stderr and ".nojekyll" not in result.stderr
    assert snapshot(docs) == {"robots.txt": b"User-agent: *\nDisallow: /\n", ".nojekyll": b""}
    (docs / "robots.txt").unlink()
    result = run("--data", CATALOGUE, "--out", docs, "--force")
    assert result.exit_code == 0, result.output
    manifest = json.loads((docs / publish.SITE_MARKER).read_text())
    assert ".nojekyll" not in manifest["files"] and "robots.txt" in manifest["files"]


def test_out_a_link_to_a_folder_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real-site"
    real.mkdir()
    link = tmp_path / "site"
    link.symlink_to(real, target_is_directory=True)
    for data in (CATALOGUE, LATER):
        result = run("--data", data, "--out", link)
        assert result.exit_code == 0, result.output
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert (real / "catalogue.html").is_file() and (real / publish.SITE_MARKER).is_file()
    assert not (real / "bike-counts.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real-site", "site"]


def test_out_a_link_to_a_foreign_folder_is_refused_naming_the_link(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "keep.txt").write_text("mine")
    link = tmp_path / "site"
    link.symlink_to(real, target_is_directory=True)
    result = run("--data", CATALOGUE, "--out", link)
    assert result.exit_code == 2
    assert f"{link}: the folder (a link to {real})" in result.stderr
    assert snapshot(real) == {"keep.txt": b"mine"} and link.is_symlink()


@pytest.mark.parametrize("where", ["same", "inside"])
def test_out_in_an_input_folder_is_refused(tmp_path: Path, where: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalogue.ttl").write_bytes(CATALOGUE.read_bytes())
    out = data if where == "same" else data / "site"
    result = run("--data", data, "--out", out)
    assert result.exit_code == 2
    assert "input folder" in result.stderr and "Traceback" not in result.output
    assert snapshot(data) == {"catalogue.ttl": CATALOGUE.read_bytes()}


def test_an_input_folder_inside_out_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("--data", CATALOGUE, "--out", site).exit_code == 0
    (site / "src").mkdir()
    (site / "src" / "catalogue.ttl").write_bytes(CATALOGUE.read_bytes())
    before = snapshot(site)
    result = run("--data", site / "src", "--out", site)
    assert result.exit_code == 2 and "input folder" in result.stderr
    assert snapshot(site) == before


def test_an_input_file_of_the_previous_site_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("--data", CATALOGUE, "--out", site).exit_code == 0
    before = snapshot(site)
    dump = site / "dumps" / "catalogue.ttl"
    link = tmp_path / "dump-link.ttl"
    link.symlink_to(dump)
    for given in (dump, link):
        result = run("--data", given, "--out", site)
        assert result.exit_code == 2, result.output
        assert "input" in result.stderr and str(given) in result.stderr
    assert snapshot(site) == before


def test_out_an_input_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "catalogue.ttl"
    data.write_bytes(CATALOGUE.read_bytes())
    result = run("--data", data, "--out", data)
    assert result.exit_code == 2 and "expected a folder" in result.stderr
    assert data.read_bytes() == CATALOGUE.read_bytes()


def test_a_users_file_of_the_input_inside_out_is_read_and_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "source.ttl").write_bytes(CATALOGUE.read_bytes())  # the user's, not the site's
    result = run("--data", site / "source.ttl", "--out", site, "--force")
    assert result.exit_code == 0, result.output
    assert (site / "source.ttl").read_bytes() == CATALOGUE.read_bytes()
    assert (site / "catalogue.html").is_file()


def _site(data: Path) -> publish.Site:
    from cica_ld import dataset

    store = dataset.load([data]).store
    return publish.build_site(
        store, base_iri="https://data.example.org/", base_url="https://data.example.org/"
    )


def test_a_failure_while_moving_in_leaves_the_previous_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    publish.write_site(_site(CATALOGUE), site)
    user_files(site)
    before = snapshot(site)
    real_replace = os.replace
    calls = {"n": 0}

    def failing(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 30:  # well into moving the new files in
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", failing)
    with pytest.raises(InputError, match="No space left on device"):
        publish.write_site(_site(LATER), site)
    assert calls["n"] > 30  # it failed there, then moved everything back
    assert snapshot(site) == before
    assert [p.name for p in site.iterdir() if p.name.endswith(".tmp")] == []


def test_an_interrupt_while_writing_leaves_the_previous_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    publish.write_site(_site(CATALOGUE), site)
    before = snapshot(site)
    real_write = Path.write_bytes
    calls = {"n": 0}

    def interrupted(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish.write_site(_site(LATER), site)
    monkeypatch.undo()
    assert snapshot(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_first_publish_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(InputError, match="No space left"):
        publish.write_site(_site(CATALOGUE), tmp_path / "site")
    assert list(tmp_path.iterdir()) == []


def test_a_site_of_an_older_cica_ld_is_replaced_in_place(tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish.write_site(_site(CATALOGUE), site)
    (site / publish.SITE_MARKER).write_text("written by cica-ld 0.1.0 publish\n")  # no list
    (site / "CNAME").write_text("data.example.org\n")
    (site / "index.html").write_text("<p>an older index</p>")
    publish.write_site(_site(CATALOGUE), site)
    assert (site / "index.html").read_bytes() == _site(CATALOGUE).files["index.html"]
    assert (site / "CNAME").read_text() == "data.example.org\n"
    assert "files" in json.loads((site / publish.SITE_MARKER).read_text())


def test_a_manifest_naming_a_path_outside_the_site_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "precious.txt").write_text("mine")
    doc = {"files": {"../precious.txt": {"bytes": 4, "sha256": "x"}}}
    (site / publish.SITE_MARKER).write_text(json.dumps(doc))
    with pytest.raises(InputError, match="outside the site"):
        publish.write_site(_site(CATALOGUE), site)
    assert (tmp_path / "precious.txt").read_text() == "mine"


def test_force_refuses_what_is_in_the_way_below_the_sites_folders(tmp_path: Path) -> None:
    """A forced publish into a folder of the user's: a file where a folder of the site goes,
    and a file of the user's at a path inside another of the site's folders, are refused
    (named) and left; the folders of the site not there at all are not looked into."""
    fresh = tmp_path / "fresh"
    assert run("--data", CATALOGUE, "--out", fresh).exit_code == 0
    site = snapshot(fresh)
    folders = sorted({rel.split("/", 1)[0] for rel in site if "/" in rel})
    assert len(folders) >= 2, folders
    blocked, inside = folders[0], folders[1]
    deep = next(rel for rel in site if rel.startswith(f"{inside}/"))
    docs = tmp_path / "docs"
    (docs / deep).parent.mkdir(parents=True)
    (docs / deep).write_text("the user's own\n")
    (docs / blocked).write_text("a file, where the site puts a folder\n")
    before = snapshot(docs)
    result = run("--data", CATALOGUE, "--out", docs, "--force")
    assert result.exit_code == 2, result.output
    assert blocked in result.stderr and deep in result.stderr
    assert snapshot(docs) == before
    (docs / blocked).unlink()
    (docs / deep).unlink()
    result = run("--data", CATALOGUE, "--out", docs, "--force")
    assert result.exit_code == 0, result.output
    assert snapshot(docs) == site
