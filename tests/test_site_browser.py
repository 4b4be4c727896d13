"""End to end: the published site in a real browser (headless Debian chromium).

The site is built from the embedded CICA dataset, served by a loopback http.server on a free
port, and opened in chromium: the CICA page must show its member states (in the rendered DOM),
the index must link to every state, and a screenshot of the CICA page is kept in
tests/artifacts/ (gitignored) for people to look at. Skipped where chromium is not installed
(`.ci/run` installs it in CI).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import free_port

from cica_ld import dataset, publish

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BASE = "https://w3id.org/cica-ld/"

pytestmark = pytest.mark.slow


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it in CI)")


def run_chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    proc = subprocess.run(args, capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    return proc


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("browser") / "site"
    publish.publish(out)
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class DomSection(HTMLParser):
    """Text inside the element with a given id, and every link of the document."""

    def __init__(self, section_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.section_id = section_id
        self.depth = 0
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if self.depth:
            self.depth += 1
        elif a.get("id") == self.section_id:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def _labels(query: str) -> dict[str, str]:
    store = dataset.load().store
    return {r["s"].value: r["label"].value for r in store.query(query)}


MEMBERS = """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?s ?label { ?m org:organization <https://w3id.org/cica-ld/id/cica> ;
    org:role <https://w3id.org/cica-ld/ontology#member> ; org:member ?s .
    ?s a <https://w3id.org/cica-ld/ontology#State> ; rdfs:label ?label
    FILTER(LANG(?label) = "en") }"""

STATES = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?s ?label { ?s a <https://w3id.org/cica-ld/ontology#State> ;
    rdfs:label ?label FILTER(LANG(?label) = "en") }"""


def test_cica_page_shows_its_member_states(served_site: str, tmp_path: Path) -> None:
    members = _labels(MEMBERS)
    assert len(members) >= 20
    dom = run_chromium(served_site + "id/cica.html", tmp_path / "profile", "--dump-dom").stdout
    parsed = DomSection("members")
    parsed.feed(dom.decode("utf-8"))
    shown = " ".join(parsed.text)
    assert "member" in shown
    missing = sorted(label for label in members.values() if label not in shown)
    assert missing == []
    for iri in members:
        assert iri.removeprefix(BASE + "id/") + ".html" in parsed.links


def test_index_links_to_every_state(served_site: str, tmp_path: Path) -> None:
    states = _labels(STATES)
    assert len(states) >= 28
    dom = run_chromium(served_site + "index.html", tmp_path / "profile", "--dump-dom").stdout
    parsed = DomSection("states")
    parsed.feed(dom.decode("utf-8"))
    for iri, label in states.items():
        assert f"id/{iri.removeprefix(BASE + 'id/')}.html" in parsed.links, iri
        assert label in " ".join(parsed.text)


def test_screenshot_of_the_cica_page(served_site: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "cica-page.png"
    shot.unlink(missing_ok=True)
    run_chromium(
        served_site + "id/cica.html",
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,2400",
        f"--screenshot={shot}",
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2400)
