"""The pages' schema.org JSON-LD uses terms within their domains (citation only on
CreativeWorks, memberOf only on people and organisations, states as schema:Country), the
index, vocabulary and shapes pages carry JSON-LD too, and every page has a meta description
and OpenGraph tags."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cica_ld import jsonld
from cica_ld.cli import app

SCHEMA = "https://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ID = "https://w3id.org/cica-ld/id/"

ORGANIZATIONS = {"Organization", "GovernmentOrganization", "Project"}
CREATIVE_WORKS = {"CreativeWork", "Claim", "DefinedTermSet", "WebSite", "Dataset"}
ROLES = {"Role", "OrganizationRole"}
#: schema.org property -> the types its domain allows (Role: schema.org's Role pattern, where a
#: role node carries the property it qualifies). Thing-wide properties are not listed.
DOMAINS: dict[str, set[str]] = {
    "citation": CREATIVE_WORKS,
    "datePublished": CREATIVE_WORKS,
    "publisher": CREATIVE_WORKS,
    "member": ORGANIZATIONS | {"ProgramMembership"} | ROLES,
    "memberOf": ORGANIZATIONS | {"Person"} | ROLES,
    "nationality": {"Person"},
    "roleName": ROLES,
    "organizer": {"Event"},
    "location": {"Event", "Organization", "GovernmentOrganization", "Person"},
    "startDate": {"Event", "Project"} | ROLES | CREATIVE_WORKS,
    "endDate": {"Event", "Project"} | ROLES | CREATIVE_WORKS,
    "hasDefinedTerm": {"DefinedTermSet"},
    "mainEntity": CREATIVE_WORKS,
    "encodingFormat": CREATIVE_WORKS,
    "version": CREATIVE_WORKS,
}


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("name") or a.get("property")):
            self.meta[str(a.get("name") or a.get("property"))] = a.get("content") or ""
        self._in_script = tag == "script" and a.get("type") == "application/ld+json"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _head(path: Path) -> _Head:
    parser = _Head()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("schema-org") / "site"
    result = CliRunner().invoke(app, ["publish", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _graph(path: Path) -> list[Any]:
    quads: list[Any] = []
    for text in _head(path).scripts:
        quads += jsonld.to_quads(json.loads(text), documents={})  # offline: context inline
    return quads


def _types(quads: list[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for q in quads:
        if q.predicate.value == RDF_TYPE and q.object.value.startswith(SCHEMA):
            out.setdefault(str(q.subject), set()).add(q.object.value.removeprefix(SCHEMA))
    return out


def test_schema_org_terms_are_used_within_their_domains(site: Path) -> None:
    pages = sorted(site.glob("id/*.html")) + [site / n for n in ("index.html", "ontology.html")]
    checked = 0
    for path in pages:
        quads = _graph(path)
        types = _types(quads)
        for q in quads:
            prop = q.predicate.value.removeprefix(SCHEMA)
            if not q.predicate.value.startswith(SCHEMA) or prop not in DOMAINS:
                continue
            got = types.get(str(q.subject), set())
            assert got & DOMAINS[prop], (path.name, str(q.subject), prop, got)
            checked += 1
    assert checked > 500


def test_states_are_countries_members_through_roles(site: Path) -> None:
    quads = _graph(site / "id" / "kazakhstan.html")
    types = _types(quads)
    kz = f"<{ID}kazakhstan>"
    assert types[kz] == {"Country"}  # a Place, not an Organization
    assert not [q for q in quads if str(q.subject) == kz and q.predicate.value.endswith("memberOf")]
    roles = {
        str(q.subject)
        for q in quads
        if q.predicate.value == SCHEMA + "member" and str(q.object) == kz
    }
    assert roles and all(types[r] == {"OrganizationRole"} for r in roles)
    cica = f"<{ID}cica>"
    assert any(
        str(q.subject) == cica and q.predicate.value == SCHEMA + "member" and str(q.object) in roles
        for q in quads
    )
    # on CICA's own page too: roles whose member is a Country
    cica_quads = _graph(site / "id" / "cica.html")
    cica_types = _types(cica_quads)
    members = [
        str(q.object)
        for q in cica_quads
        if q.predicate.value == SCHEMA + "member"
        and cica_types.get(str(q.subject)) == {"OrganizationRole"}
    ]
    assert kz in members and cica_types[kz] == {"Country"}


def test_citation_only_on_creative_works(site: Path) -> None:
    cited = subjects = 0
    for path in sorted(site.glob("id/*.html")):
        quads = _graph(path)
        types = _types(quads)
        for q in quads:
            if q.predicate.value == SCHEMA + "citation":
                assert types[str(q.subject)] & CREATIVE_WORKS, path.name
                cited += 1
            elif q.predicate.value == SCHEMA + "subjectOf":
                assert not types.get(str(q.subject), set()) & CREATIVE_WORKS, path.name
                subjects += 1
    assert cited and subjects  # documents cite, events and states are the subject of sources


@pytest.mark.parametrize(
    ("page", "schema_type"),
    [
        ("index.html", "WebSite"),
        ("ontology.html", "DefinedTermSet"),
        ("shapes.html", "CreativeWork"),
    ],
)
def test_index_vocabulary_and_shapes_pages_carry_json_ld(
    site: Path, page: str, schema_type: str
) -> None:
    quads = _graph(site / page)
    assert schema_type in {t for ts in _types(quads).values() for t in ts}
    names = [q for q in quads if q.predicate.value == SCHEMA + "name"]
    assert names
    if page == "ontology.html":
        terms = [q for q in quads if q.predicate.value == SCHEMA + "hasDefinedTerm"]
        assert len(terms) > 30


def test_every_page_has_a_meta_description_and_opengraph(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 600
    for path in pages:
        head = _head(path)
        assert head.meta.get("description", "").strip(), path
        for prop in ("og:title", "og:description", "og:type", "og:url", "og:site_name"):
            assert head.meta.get(prop, "").strip(), (path, prop)
        assert head.meta["og:url"].startswith("https://w3id.org/cica-ld/"), path
    index = _head(site / "index.html")
    assert index.meta["og:type"] == "website"
    assert "Conference on Interaction" in index.meta["description"]
    kz = _head(site / "id" / "kazakhstan.html")
    assert "Kazakhstan" in kz.meta["og:title"]


def test_user_site_pages_have_meta_and_no_cica(tmp_path: Path) -> None:
    people = Path(__file__).resolve().parent / "fixtures" / "user-data" / "people.ttl"
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["publish", "--data", str(people), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for path in sorted(out.rglob("*.html")):
        head = _head(path)
        assert head.meta.get("description"), path
        text = " ".join([*head.meta.values(), *head.scripts]).lower()
        assert "cica" not in text, path
