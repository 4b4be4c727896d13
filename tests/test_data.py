"""The CICA data: it parses, every fact node is sourced, and the facts hold.

The fact suite asks its questions in plain ORG + W3C Time (+ PROV) SPARQL, as a consumer who
knows none of our vocabulary would: the only `cica:` terms allowed are the role individuals
(cica:member, cica:observer, cica:partner, cica:chair, and the Secretariat titles); everything
else is ORG, Time, PROV, SKOS, OWL or `cicaid:` IRIs. A meta-test enforces that.

The expected values come from the fact sheet (../shared/sources/cica-facts.md, checked by hand
against its sources); they are the oracle, not copies of query output.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyoxigraph
import pytest
import rdflib

from cica_ld.dataset import load, parse_file

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DATA_FILES = sorted(DATA_DIR.glob("*.ttl"))
ID = "https://w3id.org/cica-ld/id/"
CICA = "https://w3id.org/cica-ld/ontology#"

PREFIXES = """
PREFIX cica: <https://w3id.org/cica-ld/ontology#>
PREFIX cicaid: <https://w3id.org/cica-ld/id/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

#: `cica:` terms an ORG-only consumer may use: the role individuals.
ROLE_TERMS = {"member", "observer", "partner", "chair", "executiveDirector", "secretaryGeneral"}

# ---------------------------------------------------------------------------------------------
# ORG + Time queries (the convention of docs/model-notes.md): "certainly active on ?D".
# The latest possible beginning is the beginning's own date, else the end of a window it lies
# inside; the earliest possible end is the end's own date, else the beginning of its window.
# ---------------------------------------------------------------------------------------------

DATE = "(time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear)"

ACTIVE_ON = f"""
    ?m org:memberDuring ?i .
    ?i time:hasBeginning ?b .
    OPTIONAL {{ ?b {DATE} ?bd0 }}
    OPTIONAL {{ ?bw time:inside ?b ; time:hasEnd/{DATE} ?bd1 }}
    BIND(COALESCE(?bd0, ?bd1) AS ?begin)
    FILTER(BOUND(?begin) && STR(?begin) <= SUBSTR(?D, 1, STRLEN(STR(?begin))))
    OPTIONAL {{
        ?i time:hasEnd ?e .
        OPTIONAL {{ ?e {DATE} ?ed0 }}
        OPTIONAL {{ ?ew time:inside ?e ; time:hasBeginning/{DATE} ?ed1 }}
    }}
    BIND(COALESCE(?ed0, ?ed1) AS ?end)
    FILTER(!BOUND(?e) || (BOUND(?end) && STR(?end) > SUBSTR(?D, 1, STRLEN(STR(?end)))))
"""

#: "possibly active on ?D": the earliest possible beginning is on or before D and the latest
#: possible end (if any is known) is after D.
POSSIBLY_ACTIVE_ON = f"""
    ?m org:memberDuring ?i .
    ?i time:hasBeginning ?b .
    OPTIONAL {{ ?b {DATE} ?bd0 }}
    OPTIONAL {{ ?bw time:inside ?b . OPTIONAL {{ ?bw time:hasBeginning/{DATE} ?bd1 }} }}
    BIND(COALESCE(?bd0, ?bd1, "0000") AS ?begin)
    FILTER(STR(?begin) <= SUBSTR(?D, 1, STRLEN(STR(?begin))))
    OPTIONAL {{
        ?i time:hasEnd ?e .
        OPTIONAL {{ ?e {DATE} ?ed0 }}
        OPTIONAL {{ ?ew time:inside ?e . OPTIONAL {{ ?ew time:hasEnd/{DATE} ?ed1 }} }}
    }}
    BIND(COALESCE(?ed0, ?ed1, "9999") AS ?end)
    FILTER(STR(?end) > SUBSTR(?D, 1, STRLEN(STR(?end))))
"""

HOLDERS_ON = f"""{PREFIXES}
SELECT DISTINCT ?who WHERE {{
    ?m a org:Membership ; org:organization ?org ; org:role ?role ; org:member ?who .
    {ACTIVE_ON}
}}"""

POSSIBLE_HOLDERS_ON = f"""{PREFIXES}
SELECT DISTINCT ?who WHERE {{
    ?m a org:Membership ; org:organization ?org ; org:role ?role ; org:member ?who .
    {POSSIBLY_ACTIVE_ON}
}}"""

COUNT_ON = f"""{PREFIXES}
SELECT (COUNT(DISTINCT ?who) AS ?n) WHERE {{
    ?m a org:Membership ; org:organization ?org ; org:role ?role ; org:member ?who .
    {ACTIVE_ON}
}}"""

ORG_ONLY_QUERIES = {"HOLDERS_ON": HOLDERS_ON, "POSSIBLE": POSSIBLE_HOLDERS_ON, "COUNT": COUNT_ON}

FOUNDING_16 = {
    "afghanistan",
    "azerbaijan",
    "china",
    "egypt",
    "india",
    "iran",
    "israel",
    "kazakhstan",
    "kyrgyzstan",
    "mongolia",
    "pakistan",
    "palestine",
    "russia",
    "tajikistan",
    "turkiye",
    "uzbekistan",
}
CONFIRMED_1999 = {"afghanistan", "azerbaijan", "tajikistan", "turkiye"}
LATER_MEMBERS = {
    # slug: (join date at its true precision, from the fact sheet section 2)
    "thailand": "2004-10-22",
    "republic-of-korea": "2006-06-17",
    "jordan": "2008-08-25",
    "united-arab-emirates": "2008-08-25",
    "iraq": "2010-06",
    "viet-nam": "2010-06",
    "bahrain": "2011",
    "cambodia": "2011",
    "bangladesh": "2014-05-20",
    "qatar": "2014-05",
    "sri-lanka": "2018-08-15",
    "kuwait": "2022-10-13",
}
ALL_28 = FOUNDING_16 | set(LATER_MEMBERS)
OBSERVER_STATES = {
    "united-states",
    "japan",
    "indonesia",
    "malaysia",
    "ukraine",
    "philippines",
    "belarus",
    "laos",
    "turkmenistan",
    "saudi-arabia",
}
OBSERVER_ORGS = {"united-nations", "osce", "league-of-arab-states", "turkpa", "iom"}

#: Wikidata items and ISO 3166-1 codes of the fact sheet (sections 2 and 3).
STATE_IDS = {
    "afghanistan": ("Q889", "AF", "AFG"),
    "azerbaijan": ("Q227", "AZ", "AZE"),
    "china": ("Q148", "CN", "CHN"),
    "egypt": ("Q79", "EG", "EGY"),
    "india": ("Q668", "IN", "IND"),
    "iran": ("Q794", "IR", "IRN"),
    "israel": ("Q801", "IL", "ISR"),
    "kazakhstan": ("Q232", "KZ", "KAZ"),
    "kyrgyzstan": ("Q813", "KG", "KGZ"),
    "mongolia": ("Q711", "MN", "MNG"),
    "pakistan": ("Q843", "PK", "PAK"),
    "palestine": ("Q219060", "PS", "PSE"),
    "russia": ("Q159", "RU", "RUS"),
    "tajikistan": ("Q863", "TJ", "TJK"),
    "turkiye": ("Q43", "TR", "TUR"),
    "uzbekistan": ("Q265", "UZ", "UZB"),
    "thailand": ("Q869", "TH", "THA"),
    "republic-of-korea": ("Q884", "KR", "KOR"),
    "jordan": ("Q810", "JO", "JOR"),
    "united-arab-emirates": ("Q878", "AE", "ARE"),
    "iraq": ("Q796", "IQ", "IRQ"),
    "viet-nam": ("Q881", "VN", "VNM"),
    "bahrain": ("Q398", "BH", "BHR"),
    "cambodia": ("Q424", "KH", "KHM"),
    "bangladesh": ("Q902", "BD", "BGD"),
    "qatar": ("Q846", "QA", "QAT"),
    "sri-lanka": ("Q854", "LK", "LKA"),
    "kuwait": ("Q817", "KW", "KWT"),
    "united-states": ("Q30", "US", "USA"),
    "japan": ("Q17", "JP", "JPN"),
    "indonesia": ("Q252", "ID", "IDN"),
    "malaysia": ("Q833", "MY", "MYS"),
    "ukraine": ("Q212", "UA", "UKR"),
    "philippines": ("Q928", "PH", "PHL"),
    "belarus": ("Q184", "BY", "BLR"),
    "laos": ("Q819", "LA", "LAO"),
    "turkmenistan": ("Q874", "TM", "TKM"),
    "saudi-arabia": ("Q851", "SA", "SAU"),
}


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    """The repository data only (no ontology): ORG-only queries must work without it."""
    return load([DATA_DIR], include_ontology=False).store


@pytest.fixture(scope="module")
def full_store() -> pyoxigraph.Store:
    """Ontology + data, as the CLI loads them."""
    return load().store


def slug(term: pyoxigraph.NamedNode) -> str:
    assert term.value.startswith(ID), term
    return term.value[len(ID) :]


def select(store: pyoxigraph.Store, query: str, **bind: object) -> list[dict[str, object]]:
    """Run a SELECT; ``bind`` values (RDF terms) are bound with a VALUES block."""
    if bind:
        names = " ".join(f"?{k}" for k in bind)
        terms = " ".join(str(v) for v in bind.values())
        query = query.replace("WHERE {", f"WHERE {{ VALUES ({names}) {{ ({terms}) }}", 1)
    rows = store.query(query)
    return [{v.value: row[v] for v in rows.variables if row[v] is not None} for row in rows]


def holders(store, date: str, role: str, org: str = "cica", possible: bool = False) -> set[str]:
    rows = select(
        store,
        POSSIBLE_HOLDERS_ON if possible else HOLDERS_ON,
        D=pyoxigraph.Literal(date),
        role=pyoxigraph.NamedNode(CICA + role),
        org=pyoxigraph.NamedNode(ID + org),
    )
    return {slug(r["who"]) for r in rows}


def count(store, date: str, role: str = "member") -> int:
    rows = select(
        store,
        COUNT_ON,
        D=pyoxigraph.Literal(date),
        role=pyoxigraph.NamedNode(CICA + role),
        org=pyoxigraph.NamedNode(ID + "cica"),
    )
    return int(rows[0]["n"].value)


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def test_data_files_exist() -> None:
    names = {f.stem for f in DATA_FILES}
    for topic in (
        "members",
        "observers",
        "partners",
        "chairs",
        "events",
        "documents",
        "secretariat",
        "kazakhstan",
        "initiatives",
        "claims",
        "sources",
        "statistics",
    ):
        assert topic in names


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_parses_in_rdflib_and_pyoxigraph_alike(path: Path) -> None:
    g = rdflib.Graph().parse(path, format="turtle")
    quads = parse_file(path)
    assert len(g) == len(set(quads)) > 0


def test_no_blank_nodes(store: pyoxigraph.Store) -> None:
    blank = [
        q
        for q in store
        if isinstance(q.subject, pyoxigraph.BlankNode) or isinstance(q.object, pyoxigraph.BlankNode)
    ]
    assert blank == []


# ---------------------------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------------------------

#: Fact nodes that are prov:Entity (under PROV-O, by prov:wasDerivedFrom's domain): they cite
#: their sources with prov:wasDerivedFrom. Events are prov:Activity (ACTIVITY_CLASSES), which
#: PROV-O makes disjoint with prov:Entity: they cite theirs with dcterms:source.
FACT_CLASSES = (
    "org:Membership",
    "cica:Document",
    "cica:Decision",
    "cica:Initiative",
    "cica:DatedStatistic",
    "cica:Claim",
    "cica:State",
    "cica:IntergovernmentalOrganization",
    "org:OrganizationalUnit",
    "org:Post",
    "org:Site",
    "foaf:Person",
    "prov:Location",
    "skos:ConceptScheme",
)
ACTIVITY_CLASSES = ("prov:Activity", "cica:Event")


def test_every_fact_node_is_derived_from_a_source(store: pyoxigraph.Store) -> None:
    values = " ".join(FACT_CLASSES)
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT DISTINCT ?x WHERE {{
            VALUES ?c {{ {values} }}
            ?x a ?c .
            FILTER NOT EXISTS {{ ?x prov:wasDerivedFrom ?s . ?s a cica:Source }}
        }}""",
    )
    assert [r["x"] for r in rows] == []
    n = select(
        store,
        f"""{PREFIXES}
        SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ VALUES ?c {{ {values} }} ?x a ?c }}""",
    )
    assert int(n[0]["n"].value) > 250  # the check above ran over the whole dataset


def test_every_event_cites_a_source_and_none_is_derived_from_one(
    full_store: pyoxigraph.Store,
) -> None:
    """PROV-O: prov:wasDerivedFrom has the domain prov:Entity, which is disjoint with
    prov:Activity; so events cite their sources with dcterms:source (modelling guide)."""
    values = " ".join(ACTIVITY_CLASSES)
    events = select(
        full_store,  # with the ontology: cica:Event's subclasses count through rdfs:subClassOf
        f"""{PREFIXES}
        SELECT DISTINCT ?x WHERE {{ VALUES ?c {{ {values} }} ?x a/rdfs:subClassOf* ?c }}""",
    )
    assert len(events) > 30
    unsourced = select(
        full_store,
        f"""{PREFIXES}
        SELECT DISTINCT ?x WHERE {{
            VALUES ?c {{ {values} }}
            ?x a/rdfs:subClassOf* ?c .
            FILTER NOT EXISTS {{ ?x dcterms:source ?s . ?s a cica:Source ; dcterms:title ?t }}
        }}""",
    )
    assert unsourced == []
    derived = select(
        full_store,
        f"""{PREFIXES}
        SELECT DISTINCT ?x WHERE {{
            VALUES ?c {{ {values} }} ?x a/rdfs:subClassOf* ?c ; prov:wasDerivedFrom ?s }}""",
    )
    assert derived == []
    # and the reasoner-free view: every event of the data is typed prov:Activity itself
    untyped = select(
        full_store,
        f"""{PREFIXES}
        SELECT DISTINCT ?x WHERE {{
            ?x a/rdfs:subClassOf* cica:Event FILTER NOT EXISTS {{ ?x a prov:Activity }} }}""",
    )
    assert untyped == []


def test_only_events_use_dcterms_source(store: pyoxigraph.Store) -> None:
    """One link per kind: entities never cite with dcterms:source (queries rely on it)."""
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT DISTINCT ?x WHERE {{
            ?x dcterms:source ?s FILTER NOT EXISTS {{ ?x a prov:Activity }} }}""",
    )
    assert rows == []


def test_every_source_has_title_publisher_and_url(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?s ?title ?publisher ?page WHERE {{
            ?s a cica:Source .
            OPTIONAL {{ ?s dcterms:title ?title }}
            OPTIONAL {{ ?s dcterms:publisher ?publisher }}
            OPTIONAL {{ ?s foaf:page ?page }}
        }}""",
    )
    assert len(rows) > 90
    for r in rows:
        assert "title" in r, r["s"]
        if slug(r["s"]) == "source-article":
            continue
        assert "publisher" in r, r["s"]
        assert isinstance(r["page"], pyoxigraph.NamedNode), r["s"]
        assert re.match(r"https?://", r["page"].value)


def test_the_article_is_a_source_without_an_invented_url(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?p ?o WHERE {{ cicaid:source-article ?p ?o }}""",
    )
    props = {r["p"].value: r["o"] for r in rows}
    assert props["http://purl.org/dc/terms/title"].value == (
        "Kazakhstan's Diplomatic Mastery- Shaping Asia's Future through CICA Leadership"
    )
    assert "http://xmlns.com/foaf/0.1/page" not in props
    assert "http://purl.org/dc/terms/date" not in props


def test_every_cited_source_is_described(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT DISTINCT ?s WHERE {{
            ?x prov:wasDerivedFrom|dcterms:source ?s FILTER NOT EXISTS {{ ?s a cica:Source }} }}""",
    )
    assert rows == []


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


def test_instants_have_one_date_or_are_bounded_by_a_window(store: pyoxigraph.Store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?t (COUNT(DISTINCT ?d) AS ?n) (COUNT(DISTINCT ?w) AS ?windows) WHERE {{
            {{ ?x time:hasBeginning|time:hasEnd|time:hasTime ?t }} UNION {{ ?t a time:Instant }}
            FILTER NOT EXISTS {{ ?t a time:ProperInterval }}
            OPTIONAL {{ ?t {DATE} ?d }}
            OPTIONAL {{ ?w time:inside ?t }}
        }} GROUP BY ?t""",
    )
    assert len(rows) > 60
    for r in rows:
        n, w = int(r["n"].value), int(r["windows"].value)
        assert (n == 1 and w == 0) or (n == 0 and w >= 1), r["t"]


def test_date_literals_match_their_precision(store: pyoxigraph.Store) -> None:
    patterns = {
        "inXSDDate": r"\d{4}-\d{2}-\d{2}",
        "inXSDgYearMonth": r"\d{4}-\d{2}",
        "inXSDgYear": r"\d{4}",
    }
    for prop, pattern in patterns.items():
        rows = select(store, f"{PREFIXES} SELECT ?d WHERE {{ ?t time:{prop} ?d }}")
        assert rows, prop
        for r in rows:
            assert re.fullmatch(pattern, r["d"].value), (prop, r["d"])


# ---------------------------------------------------------------------------------------------
# The ORG-only fact suite
# ---------------------------------------------------------------------------------------------


def test_fact_suite_queries_use_only_org_time_prov_and_role_terms() -> None:
    for name, query in ORG_ONLY_QUERIES.items():
        used = set(re.findall(r"\bcica:(\w+)", query.replace(PREFIXES, "")))
        assert used <= ROLE_TERMS, (name, used)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("1999-09-14", CONFIRMED_1999),
        ("2002-06-03", CONFIRMED_1999),
        ("2002-06-04", FOUNDING_16),
        ("2004-10-21", FOUNDING_16),
        ("2004-10-22", FOUNDING_16 | {"thailand"}),
        ("2006-06-17", FOUNDING_16 | {"thailand", "republic-of-korea"}),
        ("2022-10-12", ALL_28 - {"kuwait"}),
        ("2022-10-13", ALL_28),
    ],
)
def test_members_on_a_date(store, date: str, expected: set[str]) -> None:
    assert holders(store, date, "member") == expected


def test_members_today_are_the_28(store) -> None:
    assert holders(store, dt.date.today().isoformat(), "member") == ALL_28


def test_founding_group_is_possibly_but_not_certainly_member_in_1999(store) -> None:
    assert holders(store, "1999-09-14", "member", possible=True) == FOUNDING_16
    assert holders(store, "1999-09-13", "member", possible=True) == CONFIRMED_1999


@pytest.mark.parametrize(
    ("date", "n"),
    [
        ("1999-09-14", 4),
        ("2002-06-04", 16),
        ("2004-10-22", 17),
        ("2006-06-17", 18),
        ("2008-08-25", 20),
        ("2010-06-30", 22),
        ("2011-12-31", 24),
        ("2014-05-31", 26),
        ("2018-08-15", 27),
        ("2022-10-13", 28),
        ("2025-06-01", 28),
    ],
)
def test_how_many_members_on_a_date(store, date: str, n: int) -> None:
    assert count(store, date) == n


@pytest.mark.parametrize(
    ("date", "chair"),
    [
        ("2005-01-01", "kazakhstan"),
        ("2011-01-01", "turkiye"),
        ("2016-01-01", "china"),
        ("2019-01-01", "tajikistan"),
        ("2021-01-01", "kazakhstan"),
        ("2023-06-01", "kazakhstan"),
        ("2025-06-01", "azerbaijan"),
    ],
)
def test_who_chaired_on_a_date(store, date: str, chair: str) -> None:
    assert holders(store, date, "chair") == {chair}


def test_exactly_one_chair_on_every_date_since_1999(store) -> None:
    day = dt.date(1999, 9, 14)
    while day <= dt.date.today():
        assert len(holders(store, day.isoformat(), "chair")) == 1, day
        day += dt.timedelta(days=61)


def test_kazakhstan_has_two_terms_since_2020(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?m ?begin ?end WHERE {{
            ?m org:member cicaid:kazakhstan ; org:role cica:chair ; org:memberDuring ?i .
            ?i time:hasBeginning/{DATE} ?begin ; time:hasEnd/{DATE} ?end .
            FILTER(STR(?begin) >= "2020")
        }} ORDER BY ?begin""",
    )
    assert [(r["begin"].value, r["end"].value) for r in rows] == [
        ("2020-09-24", "2022-10"),
        ("2022-10", "2024-12-17"),
    ]


def test_chair_terms_meet_in_order_and_handovers_generate_them(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?who ?next WHERE {{
            ?m org:role cica:chair ; org:member ?who ; org:memberDuring ?i .
            ?i time:intervalMeets ?j .
            ?n org:memberDuring ?j ; org:member ?next .
            ?i time:hasEnd ?t . ?j time:hasBeginning ?t .
        }}""",
    )
    chain = {(slug(r["who"]), slug(r["next"])) for r in rows}
    assert chain == {
        ("kazakhstan", "turkiye"),
        ("turkiye", "china"),
        ("china", "tajikistan"),
        ("tajikistan", "kazakhstan"),
        ("kazakhstan", "kazakhstan"),
        ("kazakhstan", "azerbaijan"),
    }
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?who ?date WHERE {{
            ?m org:role cica:chair ; org:member ?who ; org:memberDuring/time:hasBeginning ?b ;
               prov:wasGeneratedBy ?event .
            ?b {DATE} ?date .
            ?event time:hasTime ?t .
            {{ ?t {DATE} ?ed }} UNION {{ ?t time:hasBeginning/{DATE} ?ed }}
            FILTER(STRSTARTS(STR(?ed), STR(?date)) || STRSTARTS(STR(?date), STR(?ed)))
        }}""",
    )
    assert len(rows) == 6  # every term but the founding one, each dated like its handover


def test_azerbaijan_took_over_on_2024_12_17_at_a_meeting_hosted_online(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?date ?place WHERE {{
            ?m org:member cicaid:azerbaijan ; org:role cica:chair ;
               org:memberDuring/time:hasBeginning/time:inXSDDate ?date ;
               prov:wasGeneratedBy ?e .
            OPTIONAL {{ ?e prov:atLocation ?place }}
        }}""",
    )
    assert len(rows) == 1
    assert rows[0]["date"].value == "2024-12-17"
    assert "place" not in rows[0]  # online: no venue


@pytest.mark.parametrize(("state", "date"), sorted(LATER_MEMBERS.items()))
def test_join_dates_at_their_true_precision(store, state: str, date: str) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?d WHERE {{
            ?m org:member ?s ; org:organization cicaid:cica ; org:role cica:member ;
               org:memberDuring/time:hasBeginning/{DATE} ?d .
        }}""",
        s=pyoxigraph.NamedNode(ID + state),
    )
    assert [r["d"].value for r in rows] == [date]
    expected_type = {10: "date", 7: "gYearMonth", 4: "gYear"}[len(date)]
    assert rows[0]["d"].datatype.value.endswith("#" + expected_type)


def test_founding_group_begins_are_not_dated_but_bounded(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?s ?lo ?hi WHERE {{
            ?m org:member ?s ; org:role cica:member ; org:memberDuring/time:hasBeginning ?b .
            FILTER NOT EXISTS {{ ?b {DATE} ?any }}
            ?w time:inside ?b ; time:hasBeginning/time:inXSDDate ?lo ;
               time:hasEnd/time:inXSDDate ?hi .
        }}""",
    )
    assert {slug(r["s"]) for r in rows} == FOUNDING_16 - CONFIRMED_1999
    assert {(r["lo"].value, r["hi"].value) for r in rows} == {("1999-09-14", "2002-06-04")}


def test_observers_on_dates(store) -> None:
    after_saudi = holders(store, "2023-12-26", "observer")
    assert after_saudi == OBSERVER_STATES | OBSERVER_ORGS
    assert (
        holders(store, "2023-12-25", "observer")
        == (OBSERVER_STATES - {"saudi-arabia"}) | OBSERVER_ORGS
    )
    assert "turkmenistan" in holders(store, "2021-06-23", "observer")
    assert "turkmenistan" not in holders(store, "2021-06-22", "observer")


def test_no_state_is_certainly_member_and_observer_at_once(store) -> None:
    day = dt.date(1999, 9, 14)
    while day <= dt.date.today():
        d = day.isoformat()
        assert holders(store, d, "member") & holders(store, d, "observer") == set(), d
        day += dt.timedelta(days=30)


def test_former_observers_became_members_or_left(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT DISTINCT ?s WHERE {{
            ?m org:member ?s ; org:organization cicaid:cica ; org:role cica:observer ;
               org:memberDuring/time:hasEnd ?e .
        }}""",
    )
    assert {slug(r["s"]) for r in rows} == {
        "australia",
        "lebanon",
        "thailand",
        "republic-of-korea",
        "viet-nam",
        "bangladesh",
        "qatar",
        "sri-lanka",
    }
    assert "australia" not in holders(store, "2010-01-01", "observer", possible=False)
    assert "australia" in holders(store, "2010-01-01", "observer", possible=True)


def test_eaeu_is_a_partner_since_the_sixth_summit(store) -> None:
    assert holders(store, "2022-10-31", "partner") == {"eaeu"}
    assert holders(store, "2022-09-30", "partner") == set()


def test_cica_is_an_observer_at_the_un_general_assembly(store) -> None:
    assert holders(store, "2008-01-01", "observer", org="un-general-assembly") == {"cica"}
    assert holders(store, "2007-11-30", "observer", org="un-general-assembly") == set()


def test_secretariat_heads_and_titles(store) -> None:
    def head(date: str) -> set[tuple[str, str]]:
        out = set()
        for role in ("executiveDirector", "secretaryGeneral"):
            for who in holders(store, date, role, org="cica-secretariat"):
                out.add((who, role))
        return out

    assert head("2007-01-01") == {("jandos-asanov", "executiveDirector")}
    assert head("2009-01-01") == {("dulat-bakishev", "executiveDirector")}
    assert head("2019-01-01") == {("habibullo-mirzozoda", "executiveDirector")}
    assert head("2021-01-01") == {("kairat-sarybay", "executiveDirector")}
    assert head("2023-01-01") == {("kairat-sarybay", "secretaryGeneral")}
    assert head("2013-01-01") == set()  # Aldemir or Gong: not established which


def test_secretariat_unit_and_seats(store) -> None:
    assert store.query(f"{PREFIXES} ASK {{ cicaid:cica-secretariat org:unitOf cicaid:cica }}")
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?city ?begin WHERE {{
            cicaid:cica-secretariat org:hasSite ?site .
            ?site prov:atLocation ?city ; ?during ?i .
            ?i time:hasBeginning/{DATE} ?begin .
        }} ORDER BY ?begin""",
    )
    assert [(slug(r["city"]), r["begin"].value) for r in rows] == [
        ("almaty", "2006"),
        ("astana", "2016-10-28"),
    ]


# ---------------------------------------------------------------------------------------------
# Events, documents, the 1992 / 1999 / 2002 founding events (conflict C1)
# ---------------------------------------------------------------------------------------------


def event_date(store, iri: str) -> str:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?d WHERE {{
            <{ID}{iri}> time:hasTime ?t .
            {{ ?t {DATE} ?d }} UNION {{ ?t time:hasBeginning/{DATE} ?d }}
        }}""",
    )
    assert len(rows) == 1, iri
    return rows[0]["d"].value


def test_initiative_declaration_and_almaty_act_are_separate_events(store) -> None:
    assert event_date(store, "initiative-1992") == "1992-10-05"
    assert event_date(store, "ministerial-1") == "1999-09-14"
    assert event_date(store, "summit-1") == "2002-06-04"
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?doc ?event WHERE {{
            VALUES ?doc {{ cicaid:declaration-1999 cicaid:almaty-act }}
            ?doc prov:wasGeneratedBy ?event }}""",
    )
    assert {(slug(r["doc"]), slug(r["event"])) for r in rows} == {
        ("declaration-1999", "ministerial-1"),
        ("almaty-act", "summit-1"),
    }


def test_six_summits_and_a_planned_seventh(full_store) -> None:
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?s ?planned ?place WHERE {{
            ?s a cica:Summit .
            OPTIONAL {{ ?s cica:planned ?planned }}
            OPTIONAL {{ ?s prov:atLocation/owl:sameAs ?place }}
        }}""",
    )
    got = {slug(r["s"]): (r.get("planned"), r.get("place")) for r in rows}
    assert set(got) == {f"summit-{n}" for n in range(1, 8)}
    wd = "http://www.wikidata.org/entity/"
    places = {k: v[1].value[len(wd) :] for k, v in got.items() if v[1] is not None}
    assert places == {
        "summit-1": "Q35493",
        "summit-2": "Q35493",
        "summit-3": "Q406",
        "summit-4": "Q8686",
        "summit-5": "Q9365",
        "summit-6": "Q1520",
    }
    assert got["summit-7"][0].value == "true"
    assert event_date(full_store, "summit-7") == "2026"
    assert event_date(full_store, "summit-6") == "2022-10-12"


def test_astana_statement_adopted_at_the_sixth_summit(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?date ?city WHERE {{
            cicaid:astana-statement prov:wasGeneratedBy ?e ; dcterms:date ?date .
            ?e prov:atLocation/owl:sameAs ?city }}""",
    )
    assert [(r["date"].value, r["city"].value) for r in rows] == [
        ("2022-10-13", "http://www.wikidata.org/entity/Q1520")
    ]


def test_kuwait_admitted_at_the_sixth_summit(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?e WHERE {{ ?m org:member cicaid:kuwait ; org:role cica:member ;
                            prov:wasGeneratedBy ?e }}""",
    )
    assert [slug(r["e"]) for r in rows] == ["summit-6"]


def test_soc_astana_2023_with_its_outcomes(store) -> None:
    assert event_date(store, "soc-2023-12-12") == "2023-12-12"
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?x WHERE {{ ?x prov:wasGeneratedBy cicaid:soc-2023-12-12 }}""",
    )
    outcomes = {slug(r["x"]) for r in rows}
    assert {
        "cbm-implementation-plan-2024",
        "secretariat-budget-2024",
        "concept-paper-environmental-protection",
        "concept-paper-natural-disaster-management",
        "decision-saudi-observer-recommended-2023",
    } <= outcomes
    astana = "<http://www.wikidata.org/entity/Q1520>"
    assert store.query(
        f"{PREFIXES} ASK {{ cicaid:soc-2023-12-12 prov:atLocation/owl:sameAs {astana} }}"
    )


# ---------------------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------------------


def test_states_have_the_fact_sheet_codes_and_wikidata_items(full_store) -> None:
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?s ?q ?a2 ?a3 WHERE {{
            ?s a cica:State ; owl:sameAs ?q ; cica:iso3166Alpha2 ?a2 ; cica:iso3166Alpha3 ?a3 }}""",
    )
    got = {
        slug(r["s"]): (r["q"].value.rsplit("/", 1)[1], r["a2"].value, r["a3"].value) for r in rows
    }
    assert got == STATE_IDS


def test_sameas_only_to_wikidata_entities_and_never_for_cica(store) -> None:
    rows = select(store, f"{PREFIXES} SELECT ?s ?o WHERE {{ ?s owl:sameAs ?o }}")
    assert len(rows) > 50
    for r in rows:
        assert re.fullmatch(r"http://www\.wikidata\.org/entity/Q[1-9][0-9]*", r["o"].value)
    assert not store.query(f"{PREFIXES} ASK {{ cicaid:cica owl:sameAs ?x }}")


def test_tokayev_is_president_of_kazakhstan(store) -> None:
    assert store.query(f"""{PREFIXES} ASK {{
        ?post org:postIn cicaid:kazakhstan ; org:heldBy ?p ;
              owl:sameAs <http://www.wikidata.org/entity/Q5256775> .
        ?p owl:sameAs <http://www.wikidata.org/entity/Q200881> }}""")


# ---------------------------------------------------------------------------------------------
# Statistics, initiatives and claims (these use our vocabulary)
# ---------------------------------------------------------------------------------------------


def test_uranium_share_2022_is_43_percent_from_wna(full_store) -> None:
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?v ?unit ?asof ?title WHERE {{
            ?s a cica:DatedStatistic ; cica:about cicaid:kazakhstan ;
               cica:measure cica:uraniumShareOfWorldMineOutput ; cica:asOf ?asof ;
               cica:value ?v ; cica:unit ?unit ; prov:wasDerivedFrom/dcterms:publisher ?title .
            FILTER(STR(?asof) = "2022") }}""",
    )
    assert [(float(r["v"].value), r["unit"].value, r["title"].value) for r in rows] == [
        (43.0, "percent", "World Nuclear Association")
    ]


def _end_of_period(as_of: str) -> str:
    if len(as_of) == 4:
        return f"{as_of}-12-31"
    if len(as_of) == 7:
        y, m = map(int, as_of.split("-"))
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        return (nxt - dt.timedelta(days=1)).isoformat()
    return as_of


def test_stated_member_counts_match_the_memberships(full_store) -> None:
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?asof ?n WHERE {{
            ?c a cica:MemberCount ; cica:about cicaid:cica ; cica:countedRole cica:member ;
               cica:measure cica:memberStateCount ; cica:asOf ?asof ; cica:value ?n }}""",
    )
    assert len(rows) >= 9
    for r in rows:
        day = _end_of_period(r["asof"].value)
        stated = int(float(r["n"].value))
        certain = count(full_store, day)
        possible = len(holders(full_store, day, "member", possible=True))
        assert certain <= stated <= possible, (day, certain, stated, possible)
        if day >= "2002-06-04":
            assert certain == stated, day


def test_initiatives_have_the_status_the_sources_support(full_store) -> None:
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?i ?status WHERE {{ ?i a cica:Initiative ; cica:status ?status }}""",
    )
    got = {slug(r["i"]): r["status"].value[len(CICA) :] for r in rows}
    assert got["council-on-sustainable-connectivity"] == "proposed"
    assert got["cica-finance-summit"] == "beingEstablished"


def test_article_claims_stay_visible_and_attributed(full_store) -> None:
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?c ?verdict WHERE {{
            ?c a cica:Claim ; prov:wasDerivedFrom cicaid:source-article ;
               cica:verdict ?verdict }}""",
    )
    got = {slug(r["c"]): r["verdict"].value[len(CICA) :] for r in rows}
    assert got["claim-article-council-established"] == "contradicted"
    assert got["claim-article-finance-summit-permanent"] == "contradicted"
    assert got["claim-article-founded-1992"] == "qualified"
    assert got["claim-article-28-members"] == "qualified"
    assert got["claim-article-oil-gas"] == "unchecked"
    assert got["claim-article-uranium-largest"] == "supported"
    # every disputed claim points at what the sources support
    rows = select(
        full_store,
        f"""{PREFIXES}
        SELECT ?c WHERE {{ ?c a cica:Claim ; cica:verdict cica:contradicted
                           FILTER NOT EXISTS {{ ?c cica:checkedAgainst ?x }} }}""",
    )
    assert rows == []


def test_priorities_are_skos_concepts_from_the_article(store) -> None:
    rows = select(
        store,
        f"""{PREFIXES}
        SELECT ?label WHERE {{ ?c skos:inScheme cicaid:priorities ; skos:prefLabel ?label ;
                               prov:wasDerivedFrom cicaid:source-article }}""",
    )
    assert {r["label"].value for r in rows} >= {
        "sustainable connectivity",
        "economic cooperation",
        "counter-terrorism",
    }
