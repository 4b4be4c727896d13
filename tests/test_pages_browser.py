"""Pages people read, in a real browser (headless Debian chromium, as tests/test_site_browser.py
starts it): the dates at the top of a term and an event page, the search typed into its box
(from http and from file://), no horizontal scroll at 375 px on every kind of page, and the
charts drawn. Screenshots are saved under tmp_path and decoded (stdlib PNG reader) to check
what was drawn. A harness page beside the site (same origin) loads the pages in iframes and
writes what it measured into its own DOM, which chromium dumps. Skipped without chromium.
"""

from __future__ import annotations

import functools
import http.server
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port
from test_site_browser import _Quiet, run_chromium
from typer.testing import CliRunner

from cica_ld.cli import app

pytestmark = pytest.mark.slow

CLUB = Path(__file__).resolve().parent / "fixtures" / "pages" / "club.ttl"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the CICA site (``cica/``) and a site of the club fixture (``club/``)."""
    out = tmp_path_factory.mktemp("pages-browser")
    for name, extra in (("cica", []), ("club", ["--data", str(CLUB)])):
        result = CliRunner().invoke(app, ["publish", "--out", str(out / name), *extra])
        assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def served(root: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def harness(root: Path, name: str, script: str) -> str:
    """A page at the root of the served folder that runs ``script`` (which ends by writing
    JSON into ``#out``); its path."""
    (root / name).write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f'<pre id="out">pending</pre><script>{script}</script></body></html>',
        encoding="utf-8",
    )
    return name


def run_harness(url: str, profile: Path) -> object:
    dom = run_chromium(url, profile, "--virtual-time-budget=30000", "--dump-dom").stdout
    import html

    text = dom.decode("utf-8")
    start = text.index('<pre id="out">') + len('<pre id="out">')
    body = text[start : text.index("</pre>", start)]
    assert body != "pending", "the harness did not finish"
    return json.loads(html.unescape(body))


def png_pixels(path: Path) -> tuple[int, int, list[bytes], int]:
    """Width, height, rows of bytes and channels (3 RGB, 4 RGBA) of an 8-bit non-interlaced
    PNG (what chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, channels


def colour_count(path: Path, rgb: tuple[int, int, int]) -> int:
    width, _height, rows, channels = png_pixels(path)
    want = bytes(rgb)
    return sum(
        1 for row in rows for x in range(width) if row[x * channels : x * channels + 3] == want
    )


def test_dates_are_shown_at_the_top_of_a_term_and_an_event_page(
    root: Path, served: str, tmp_path: Path
) -> None:
    script = """
    var pages = ["cica/id/chair-term-2-turkiye.html", "cica/id/summit-3.html",
                 "club/m-ben.html", "club/open-2004.html"];
    var res = {}, i = 0;
    function next() {
      if (i >= pages.length) {
        document.getElementById("out").textContent = JSON.stringify(res);
        return;
      }
      var f = document.createElement("iframe");
      f.style.width = "1280px"; f.style.height = "800px";
      f.onload = function () {
        var box = f.contentDocument.getElementById("dates");
        var r = box ? box.getBoundingClientRect() : null;
        res[pages[i]] = box ? {text: box.innerText.replace(/\\s+/g, " ").trim(),
                               top: r.top, bottom: r.bottom, visible: r.height > 0} : null;
        f.remove(); i++; next();
      };
      f.src = pages[i]; document.body.appendChild(f);
    }
    next();
    """
    got = run_harness(served + harness(root, "dates.html", script), tmp_path / "profile")
    expected = {
        "cica/id/chair-term-2-turkiye.html": "Member during June 2010 to May 2014",
        "cica/id/summit-3.html": "When 8 June 2010",
        "club/m-ben.html": "Member during April 2003 to 31 January 2010",
        "club/open-2004.html": "When 10 July 2004 to 12 July 2004",
    }
    for rel, want in expected.items():
        box = got[rel]
        assert box is not None, rel
        assert box["text"] == want, rel
        # on screen without scrolling: not behind a link, not below the fold
        assert box["visible"] and box["bottom"] < 800, (rel, box)
    shot = tmp_path / "chair-term.png"
    run_chromium(
        served + "cica/id/chair-term-2-turkiye.html",
        tmp_path / "profile-shot",
        "--hide-scrollbars",
        "--window-size=1280,900",
        f"--screenshot={shot}",
    )
    width, height, _rows, _ = png_pixels(shot)
    assert (width, height) == (1280, 900)
    # the dates box is drawn: its accent border (#0b5cad) is on screen
    assert colour_count(shot, (0x0B, 0x5C, 0xAD)) > 200


TYPE_IN_SEARCH = """
var f = document.createElement("iframe");
f.style.width = "1000px"; f.style.height = "800px";
f.onload = function () {
  var d = f.contentDocument, input = d.getElementById("search-input"), out = {};
  var before = d.getElementById("search-results").children.length;
  var word = "%s", typed = "";
  for (var i = 0; i < word.length; i++) {   // one input event per key, as typing sends
    typed += word[i]; input.value = typed;
    input.dispatchEvent(new Event("input", {bubbles: true}));
  }
  out.before = before;
  out.status = d.getElementById("search-status").textContent;
  out.results = Array.prototype.map.call(d.querySelectorAll("#search-results li a"),
    function (a) { return [a.textContent, a.getAttribute("href")]; });
  out.focused = d.activeElement === input;
  document.getElementById("out").textContent = JSON.stringify(out);
};
f.src = "%s"; document.body.appendChild(f);
"""


def test_search_typed_in_the_box_lists_the_resources(
    root: Path, served: str, tmp_path: Path
) -> None:
    script = TYPE_IN_SEARCH % ("kazakh", "cica/search.html")
    got = run_harness(served + harness(root, "type.html", script), tmp_path / "profile")
    assert got["before"] == 0
    labels = [label for label, _ in got["results"]]
    assert labels[0] == "Kazakhstan"
    assert got["results"][0][1] == "id/kazakhstan.html"
    assert all("kazakh" in label.lower() or "Kazakh" in label for label in labels[:20])
    assert got["status"] == f"{len(labels)} results."
    # accents ignored: "turkiye" finds Türkiye
    script = TYPE_IN_SEARCH % ("turkiye", "club/../cica/search.html")
    got = run_harness(served + harness(root, "type2.html", script), tmp_path / "profile2")
    assert got["results"][0] == ["Türkiye", "id/turkiye.html"]
    # and a site of the user's data has its own search
    script = TYPE_IN_SEARCH % ("brook", "club/search.html")
    got = run_harness(served + harness(root, "type3.html", script), tmp_path / "profile3")
    assert got["results"][0] == ["Ben Brook", "ben.html"]
    assert ["Ben Brook: member", "m-ben.html"] in got["results"]


def test_search_works_from_a_local_folder(root: Path, tmp_path: Path) -> None:
    url = (root / "cica" / "search.html").as_uri() + "?q=almaty"
    dom = run_chromium(url, tmp_path / "profile", "--dump-dom").stdout.decode("utf-8")
    assert '<a href="id/almaty.html">Almaty</a>' in dom
    assert 'id="search-status" role="status" aria-live="polite">' in dom
    shot = tmp_path / "search.png"
    run_chromium(
        url, tmp_path / "profile-shot", "--hide-scrollbars", "--window-size=800,600",
        f"--screenshot={shot}",
    )  # fmt: skip
    assert png_pixels(shot)[:2] == (800, 600)
    # result links are drawn in the link colour
    assert colour_count(shot, (0x0B, 0x5C, 0xAD)) > 100


PAGES_375 = [
    "cica/index.html",
    "cica/id/cica.html",
    "cica/id/kazakhstan.html",
    "cica/id/chair-term-2-turkiye.html",
    "cica/id/summit-3.html",
    "cica/id/instant-1999.html",
    "cica/id/membership-china-member.html",
    "cica/ontology.html",
    "cica/shapes.html",
    "cica/dataset.html",
    "cica/search.html?q=a",
    "cica/404.html",
    "club/index.html",
    "club/club.html",
    "club/ann.html",
    "club/dataset.html",
]


def test_no_horizontal_scroll_at_375_px(root: Path, served: str, tmp_path: Path) -> None:
    script = (
        "var pages = "
        + json.dumps(PAGES_375)
        + """;
    var res = {}, i = 0;
    function next() {
      if (i >= pages.length) {
        document.getElementById("out").textContent = JSON.stringify(res);
        return;
      }
      var f = document.createElement("iframe");
      f.style.width = "375px"; f.style.height = "800px"; f.style.border = "0";
      f.onload = function () {
        var d = f.contentDocument.documentElement;
        var svgs = Array.prototype.map.call(f.contentDocument.querySelectorAll("svg.chart"),
          function (s) { return s.getBoundingClientRect().right; });
        res[pages[i]] = {scroll: d.scrollWidth, client: d.clientWidth, svgs: svgs};
        f.remove(); i++; next();
      };
      f.src = pages[i]; document.body.appendChild(f);
    }
    next();
    """
    )
    got = run_harness(served + harness(root, "narrow.html", script), tmp_path / "profile")
    assert set(got) == set(PAGES_375)
    wide = {rel: m for rel, m in got.items() if m["scroll"] > m["client"]}
    assert wide == {}
    for rel, m in got.items():
        assert 300 <= m["client"] <= 375, rel
        assert all(right <= m["client"] for right in m["svgs"]), rel
    assert len(got["cica/id/cica.html"]["svgs"]) == 2  # the chart and the chair timeline
    assert len(got["club/club.html"]["svgs"]) == 2
    shot = tmp_path / "cica-375.png"
    run_chromium(
        served + "cica/id/cica.html",
        tmp_path / "profile-shot",
        "--hide-scrollbars",
        "--window-size=375,1400",
        f"--screenshot={shot}",
    )
    assert png_pixels(shot)[:2] == (375, 1400)
    # the charts are drawn on the phone-width page: member line and chair bars (#0b5cad),
    # the observers' line or the alternate chair bars (#b35900)
    assert colour_count(shot, (0x0B, 0x5C, 0xAD)) > 300
    assert colour_count(shot, (0xB3, 0x59, 0x00)) > 50
