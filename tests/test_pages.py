"""Pages people read (issue 13 item 5), on the rendered HTML parsed with lxml: dates at the top
of every dated page at their precision, property names as labels, the client-side search
index, the charts of memberships and terms (inline SVG with accessible titles), the 404 page;
on the CICA site and on a site of a user's data (tests/fixtures/pages/club.ttl, W3C ORG and
Time, not CICA's)."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest
from typer.testing import CliRunner

from cica_ld import charts, dates, publish
from cica_ld.cli import app

lxml_html = pytest.importorskip("lxml.html")

CLUB = Path(__file__).resolve().parent / "fixtures" / "pages" / "club.ttl"
ORG = "http://www.w3.org/ns/org#"
SVG = "{http://www.w3.org/2000/svg}"


def _publish(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(app, ["publish", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def cica_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _publish(tmp_path_factory.mktemp("pages") / "cica")


@pytest.fixture(scope="module")
def club_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _publish(tmp_path_factory.mktemp("pages") / "club", "--data", str(CLUB))


def page(site: Path, rel: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((site / rel).read_bytes())


def text(el: lxml_html.HtmlElement) -> str:
    return " ".join(el.text_content().split())


def dates_of(doc: lxml_html.HtmlElement) -> dict[str, str]:
    """The dates box at the top of a page: name -> text."""
    box = doc.get_element_by_id("dates")
    names = [text(dt) for dt in box.findall("dt")]
    values = [text(dd) for dd in box.findall("dd")]
    return dict(zip(names, values, strict=True))


def property_names(doc: lxml_html.HtmlElement) -> dict[str, str]:
    """The property column of the page's own properties table: shown text -> IRI (title)."""
    table = doc.get_element_by_id("properties").find(".//table")
    out = {}
    for td in table.xpath("./tbody/tr/td[@class='property']"):
        a = td.find("a")
        out[text(td)] = a.get("title") if a is not None else ""
    return out


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown", "precision"),
    [
        ("1999", "1999", "year"),
        ("2010-06", "June 2010", "month"),
        ("1999-09-14", "14 September 1999", "date"),
        ("1999-09-14Z", "14 September 1999", "date"),
        ("2022-10-13T09:30:00Z", "13 October 2022, 09:30 UTC", "dateTime"),
        ("2022-10-13T09:30:00+06:00", "13 October 2022, 09:30 +06:00", "dateTime"),
    ],
)
def test_a_date_is_shown_at_its_precision(value: str, shown: str, precision: str) -> None:
    d = dates.parse(value)
    assert d is not None
    assert (d.text, d.value, d.precision) == (shown, value, precision)


def test_the_span_of_a_date_covers_its_precision() -> None:
    year, month, day = dates.parse("2004"), dates.parse("2004-02"), dates.parse("2004-02-01")
    assert (year.start, year.end) == (2004.0, 2005.0)
    assert month.start == day.start == pytest.approx(2004 + 31 / 366)
    assert month.end == pytest.approx(2004 + 60 / 366)  # 2004 is a leap year
    assert day.end - day.start < 0.003
    assert dates.parse("not a date") is None
    assert dates.parse("2004-13") is None


def test_chair_term_page_shows_its_dates_at_the_top(cica_site: Path) -> None:
    doc = page(cica_site, "id/chair-term-2-turkiye.html")
    assert dates_of(doc) == {"Member during": "June 2010 to May 2014"}
    times = doc.get_element_by_id("dates").findall(".//time")
    assert [t.get("datetime") for t in times] == ["2010-06", "2014-05"]
    # and beside the interval in the properties table, not only behind its link
    rows = doc.xpath("//table[@class='properties']/tbody/tr[td[@class='property']]")
    shown = {text(tr.find("td")): text(tr.findall("td")[1]) for tr in rows}
    assert shown["member during"].endswith("(interval) June 2010 to May 2014")


def test_membership_with_an_undated_beginning_shows_its_window(cica_site: Path) -> None:
    doc = page(cica_site, "id/membership-china-member.html")
    assert dates_of(doc) == {
        "Member during": "from a date between 14 September 1999 and 4 June 2002"
    }


def test_event_page_shows_when(cica_site: Path) -> None:
    doc = page(cica_site, "id/summit-3.html")
    assert dates_of(doc) == {"When": "8 June 2010"}
    assert doc.get_element_by_id("dates").find(".//time").get("datetime") == "2010-06-08"


def test_instant_and_interval_pages_show_their_own_dates(cica_site: Path) -> None:
    assert dates_of(page(cica_site, "id/instant-1999.html")) == {"Date": "1999"}
    found = dates_of(page(cica_site, "id/chair-term-1-kazakhstan-interval.html"))
    assert found["Interval"] == ("a date between 5 October 1992 and 14 September 1999 to June 2010")


def test_every_membership_and_event_page_of_the_cica_site_has_dates(
    cica_site: Path,
) -> None:
    store = pyoxigraph.Store()
    store.bulk_load(
        (cica_site / "dumps" / "cica-ld.nt").read_bytes(), format=pyoxigraph.RdfFormat.N_TRIPLES
    )
    q = """SELECT DISTINCT ?s { { ?s <http://www.w3.org/ns/org#memberDuring> ?i }
        UNION { ?s <http://www.w3.org/2006/time#hasTime> ?t } }"""
    dated = [r["s"].value for r in store.query(q)]
    assert len(dated) > 80
    missing = []
    for iri in dated:
        rel = publish.resource_path(iri)
        doc = page(cica_site, f"{rel}.html")
        try:
            box = dates_of(doc)
        except KeyError:
            box = {}
        if not box:
            missing.append(rel)
    # memberships whose beginning is not known in any way have no date to show
    undated = {
        r["m"].value
        for r in store.query(
            """PREFIX org: <http://www.w3.org/ns/org#> PREFIX time: <http://www.w3.org/2006/time#>
            SELECT ?m { ?m org:memberDuring ?i . ?i time:hasBeginning ?b .
              FILTER NOT EXISTS { ?b ?p ?v FILTER(STRSTARTS(STR(?p), STR(time:inXSD))) }
              FILTER NOT EXISTS { ?w time:inside ?b }
              FILTER NOT EXISTS { ?i time:hasEnd ?e } }"""
        )
    }
    assert {publish.resource_path(i) for i in undated} >= set(missing)


def test_user_data_dates_and_labels(club_site: Path) -> None:
    ann = page(club_site, "ann.html")
    assert dates_of(ann) == {"Birthday": "17 May 1990"}
    assert property_names(ann) == {
        "type": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "birthday": "http://xmlns.com/foaf/0.1/birthday",
        "name": "http://xmlns.com/foaf/0.1/name",
    }
    assert dates_of(page(club_site, "open-2004.html")) == {"When": "10 July 2004 to 12 July 2004"}
    assert dates_of(page(club_site, "m-ben.html")) == {
        "Member during": "April 2003 to 31 January 2010"
    }
    assert dates_of(page(club_site, "m-dee.html")) == {
        "Member during": "from a date between 2001 and 14 September 2005"
    }


# ---------------------------------------------------------------------------------------------
# Property names
# ---------------------------------------------------------------------------------------------


def test_properties_are_named_by_their_labels_not_prefixed_names(cica_site: Path) -> None:
    names = property_names(page(cica_site, "id/chair-term-2-turkiye.html"))
    assert names["member during"] == ORG + "memberDuring"
    assert names["was derived from"] == "http://www.w3.org/ns/prov#wasDerivedFrom"
    assert names["post"] == "https://w3id.org/cica-ld/ontology#post"  # the vocabulary's label
    assert not [n for n in names if ":" in n]
    # the vocabulary page still gives the prefixed name of the external terms beside the label
    vocab = page(cica_site, "ontology.html")
    external = text(vocab.get_element_by_id("external"))
    assert "member during org:memberDuring" in external


def test_a_label_in_the_data_wins_over_the_bundled_one(tmp_path: Path) -> None:
    data = tmp_path / "own-label.ttl"
    data.write_text(
        "@prefix org: <http://www.w3.org/ns/org#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        '<http://example.org/x/a> org:memberOf <http://example.org/x/b> ; rdfs:label "A" .\n'
        '<http://example.org/x/b> rdfs:label "B" .\n'
        'org:memberOf rdfs:label "belongs to"@en .\n'
        '<http://example.org/x/a> <http://example.org/x/odd> "v" .\n'
    )
    site = _publish(tmp_path / "site", "--data", str(data))
    names = property_names(page(site, "a.html"))
    assert "belongs to" in names
    assert names["http://example.org/x/odd"] == "http://example.org/x/odd"  # no label, no prefix


# ---------------------------------------------------------------------------------------------
# Search index
# ---------------------------------------------------------------------------------------------


def _index(site: Path) -> dict:
    index = json.loads((site / "search-index.json").read_text())
    script = (site / "search-index.js").read_text()
    prefix = f"window.{publish.SEARCH_GLOBAL} = "
    assert script.startswith(prefix) and script.rstrip().endswith(";")
    assert json.loads(script[len(prefix) :].rstrip().rstrip(";")) == index
    return index


def test_search_index_lists_every_resource_page(club_site: Path) -> None:
    index = _index(club_site)
    assert index["fields"] == ["label", "href", "kind", "names"]
    hrefs = {item[1] for item in index["items"]}
    pages = {p.name for p in club_site.glob("*.html")}
    assert hrefs == pages - {"index.html", "dataset.html", "404.html", "search.html"}
    by_href = {item[1]: item for item in index["items"]}
    assert by_href["club.html"][:3] == ["Riverside Chess Club", "club.html", "Formal organization"]
    assert by_href["ann.html"][:3] == ["Ann Archer", "ann.html", "Person"]
    for href in hrefs:
        assert (club_site / href).is_file()


def test_search_index_of_the_cica_site_has_the_vocabulary_terms(cica_site: Path) -> None:
    index = _index(cica_site)
    by_href = {item[1]: item for item in index["items"]}
    assert by_href["id/kazakhstan.html"][0] == "Kazakhstan"
    assert by_href["id/kazakhstan.html"][2] == "State"
    assert by_href["ontology.html#State"][0] == "state"
    ids = page(cica_site, "ontology.html").xpath("//@id")
    for href in by_href:
        if href.startswith("ontology.html#"):
            assert href.split("#")[1] in ids, href
    # other names are searchable: the ASCII spelling of a name with diacritics
    assert "Ahmet Davutoglu" in by_href["id/ahmet-davutoglu.html"][3]


def test_search_page_and_box(cica_site: Path) -> None:
    doc = page(cica_site, "search.html")
    assert doc.get_element_by_id("search-input").get("name") == "q"
    scripts = [s.get("src") for s in doc.iter("script") if s.get("src")]
    assert scripts == ["search-index.js", "search.js"]
    assert (cica_site / "search.js").read_bytes() == (
        publish.TEMPLATES_DIR / "search.js"
    ).read_bytes()
    # every page has the box, a form that goes to the search page
    kz = page(cica_site, "id/kazakhstan.html")
    form = kz.xpath("//form[@role='search']")[0]
    assert form.get("action") == "../search.html"
    assert form.find("input").get("name") == "q"


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------


def test_count_steps_certain_and_possible() -> None:
    p = [
        charts.Period("a", "", (2000.0, 2001.0), None),
        charts.Period("b", "", (2002.0, 2002.1), (2005.0, 2006.0)),
    ]
    certain = charts._steps(p, True)
    possible = charts._steps(p, False)
    assert charts._count_at(certain, 2000.5) == 0
    assert charts._count_at(possible, 2000.5) == 1
    assert charts._count_at(certain, 2003) == charts._count_at(possible, 2003) == 2
    assert charts._count_at(certain, 2005.5) == 1  # b may have ended
    assert charts._count_at(possible, 2005.5) == 2  # or not yet
    assert charts._count_at(possible, 2007) == 1


def _figure(doc: lxml_html.HtmlElement, ident: str) -> lxml_html.HtmlElement:
    svg = doc.get_element_by_id(ident)
    assert svg.tag in ("svg", SVG + "svg")
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert doc.get_element_by_id(title_id).tag.endswith("title")
    assert doc.get_element_by_id(desc_id).tag.endswith("desc")
    return svg


def test_cica_page_has_the_membership_chart_and_the_chair_timeline(cica_site: Path) -> None:
    doc = page(cica_site, "id/cica.html")
    chart = _figure(doc, "chart-memberships")
    assert text(doc.get_element_by_id("chart-memberships-title")) == (
        "Memberships of Conference on Interaction and Confidence Building Measures in Asia "
        "over time"
    )
    desc = text(doc.get_element_by_id("chart-memberships-desc"))
    assert "member: 28 in all, 28 at the end" in desc
    roles = [g.get("data-role") for g in chart.iter() if g.get("class") == "series"]
    assert roles[0] == "member" and set(roles) <= {"member", "observer", "partner"}
    timeline = _figure(doc, "timeline-1")
    assert text(doc.get_element_by_id("timeline-1-title")) == "Terms of Chair of CICA"
    terms = [t for t in timeline.iter() if t.get("class") == "term"]
    assert len(terms) == 7
    first = text(terms[0].find("title"))
    assert first == "Kazakhstan: a date between 5 October 1992 and 14 September 1999 to June 2010"
    links = [a.get("href") for a in timeline.iter() if a.tag.endswith("a")]
    assert "chair-term-2-turkiye.html" in links
    for href in links:
        assert (cica_site / "id" / href).is_file()


def test_charts_generalise_to_any_org_membership_data(club_site: Path) -> None:
    doc = page(club_site, "club.html")
    _figure(doc, "chart-memberships")
    desc = text(doc.get_element_by_id("chart-memberships-desc"))
    assert "member: 4 in all, 3 at the end" in desc  # Ben left in 2010; chair terms apart
    timeline = _figure(doc, "timeline-1")
    assert text(doc.get_element_by_id("timeline-1-title")) == "Terms of Chair of the club"
    titles = [text(t.find("title")) for t in timeline.iter() if t.get("class") == "term"]
    assert titles == ["Ann Archer: 2001 to April 2003", "Cai Clark: from April 2003"]
    # a page without memberships has no figure
    assert page(club_site, "ann.html").xpath("//svg|//*[local-name()='svg']") == []


# ---------------------------------------------------------------------------------------------
# 404
# ---------------------------------------------------------------------------------------------


def test_404_page_is_styled_and_links_from_the_site_root(club_site: Path, cica_site: Path) -> None:
    doc = page(cica_site, "404.html")
    assert doc.xpath("//section[@class='not-found']")
    # styled wherever it is served: the stylesheet inline as well
    inline = doc.xpath("//head/style/text()")
    assert inline and ".not-found" in inline[0]
    assert inline[0].strip() == (cica_site / "style.css").read_text().strip()
    assert doc.xpath("//link[@rel='stylesheet']/@href") == ["/cica-ld/style.css"]
    hrefs = doc.xpath("//main//a/@href")
    assert "/cica-ld/index.html" in hrefs
    assert doc.xpath("//main//form/@action") == ["/cica-ld/search.html"]
    # a site of the user's data, hosted where its base IRI says (http://example.org/club/)
    club = page(club_site, "404.html")
    assert club.xpath("//link[@rel='stylesheet']/@href") == ["/club/style.css"]


def test_404_of_a_site_hosted_under_a_path(tmp_path: Path) -> None:
    site = _publish(
        tmp_path / "site", "--data", str(CLUB), "--base-url", "https://example.net/chess/"
    )
    doc = page(site, "404.html")
    assert doc.xpath("//link[@rel='stylesheet']/@href") == ["/chess/style.css"]
    assert "/chess/index.html" in doc.xpath("//main//a/@href")


# ---------------------------------------------------------------------------------------------
# serve: the same search and 404
# ---------------------------------------------------------------------------------------------


def _serve_get(path: str, accept: str | None = None) -> object:
    extra = ["--accept", accept] if accept else []
    args = ["serve", "--data", str(CLUB), "--workers", "0", "--get", path, *extra]
    return CliRunner().invoke(app, args)


def test_serve_answers_the_search_as_publish_writes_it(club_site: Path) -> None:
    for name in ("search-index.json", "search-index.js", "search.js"):
        result = _serve_get("/" + name)
        assert result.exit_code == 0, (name, result.output)
        assert result.stdout_bytes == (club_site / name).read_bytes(), name
    result = _serve_get("/search.html", "text/html")
    assert result.exit_code == 0, result.output
    doc = lxml_html.fromstring(result.stdout_bytes)
    assert doc.get_element_by_id("search-input") is not None
    assert [s.get("src") for s in doc.iter("script") if s.get("src")] == [
        "search-index.js",
        "search.js",
    ]


def test_serve_sends_the_styled_404_to_browsers_and_text_to_others() -> None:
    from test_server import AppClient

    from cica_ld import server

    store = pyoxigraph.Store()
    store.bulk_load(CLUB.read_bytes(), format=pyoxigraph.RdfFormat.TURTLE)
    app = server.create_app(
        store,
        workers=0,
        base_iri="http://example.org/club/",
        site=publish.user_site(store, [CLUB]),
    )
    client = AppClient(app)
    try:
        browser = client.get("/nobody", headers={"Accept": "text/html,*/*;q=0.8"})
        assert browser.status_code == 404
        assert browser.headers["content-type"].startswith("text/html")
        doc = lxml_html.fromstring(browser.content)
        assert doc.xpath("//section[@class='not-found']")
        assert doc.xpath("//link[@rel='stylesheet']/@href") == ["/style.css"]
        assert "/search.html" in doc.xpath("//form/@action")
        other = client.get("/nobody", headers={"Accept": "text/turtle"})
        assert other.status_code == 404
        assert other.headers["content-type"].startswith("text/plain")
        assert "no resource http://example.org/club/nobody" in other.text
    finally:
        client.close()


def test_serve_searches_every_resource_of_the_cica_site_vocabulary_terms_too(
    cica_site: Path,
) -> None:
    """serve's index is publish's, item for item: every resource page and every term of the
    vocabulary page (serve once left the terms out)."""
    result = CliRunner().invoke(app, ["serve", "--workers", "0", "--get", "/search-index.json"])
    assert result.exit_code == 0, result.output
    served = json.loads(result.stdout_bytes)
    published = _index(cica_site)
    assert served == published
    hrefs = {item[1] for item in served["items"]}
    terms = {h for h in hrefs if h.startswith("ontology.html#")}
    assert "ontology.html#State" in terms and len(terms) > 20
    assert "id/kazakhstan.html" in hrefs
