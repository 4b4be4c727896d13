"""The named query catalogue: headers, listing, lookup; tested on fixture catalogues, plus an
integrity check of every query in the bundled catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cica_ld import catalogue as cat
from cica_ld import query as q
from cica_ld.cli import app
from cica_ld.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CATALOGUE = FIXTURES / "query" / "catalogue"
BAD = FIXTURES / "query-bad-header"


def test_catalogue_reads_names_titles_descriptions_params():
    found = cat.catalogue(CATALOGUE)
    assert list(found) == ["count", "is-member", "members", "memberships", "state"]
    members = found["members"]
    assert members.title == "Members on a date"
    assert members.description == (
        "Member states of the club on ?date, with their ISO code and join date. "
        "Continuation lines of the description are indented."
    )
    assert members.params == (
        cat.QueryParam("date", "today", "the day to ask about (xsd:date)"),
        cat.QueryParam("org", "<https://example.org/id/club>", "the organisation"),
    )
    assert not members.params[0].required
    state = found["state"].params[0]
    assert (state.name, state.default, state.required) == ("state", None, True)
    assert found["count"].params == ()


def test_header_rules(tmp_path: Path):
    text = (
        "# title: T\n"
        "# description: first\n"
        "#   second\n"
        "# A note that is not part of the description.\n"
        "# param: x = 1 -- the x\n"
        "#   more about x\n"
        "# param: y\n"
        "SELECT ?x ?y WHERE { }\n"
        "# title: ignored, after the header\n"
    )
    header = cat.parse_header(text)
    assert header["title"] == "T"
    assert header["description"] == "first second"
    assert header["params"] == [
        cat.QueryParam("x", "1", "the x more about x"),
        cat.QueryParam("y", None, ""),
    ]


def test_title_defaults_to_the_name(tmp_path: Path):
    f = tmp_path / "plain.rq"
    f.write_text("ASK {}\n", encoding="utf-8")
    named = cat.load_named(f)
    assert (named.name, named.title, named.description, named.params) == ("plain", "plain", "", ())


def test_malformed_param_line_is_located():
    with pytest.raises(InputError) as err:
        cat.catalogue(BAD)
    assert (err.value.path, err.value.line) == (str(BAD / "broken.rq"), 3)
    assert "malformed param line" in str(err.value)


def test_duplicate_param_is_an_error():
    with pytest.raises(InputError, match="declared twice") as err:
        cat.parse_header("# param: a\n# param: a = 1\nASK {}")
    assert err.value.line == 2


def test_only_well_named_rq_files_count(tmp_path: Path):
    for name in ["good-one.rq", "Bad_Name.rq", "notes.txt", "2nd.rq"]:
        (tmp_path / name).write_text("ASK {}", encoding="utf-8")
    assert list(cat.catalogue(tmp_path)) == ["2nd", "good-one"]


def test_get_and_close_matches():
    assert cat.get("state", CATALOGUE).path == CATALOGUE / "state.rq"
    with pytest.raises(InputError) as err:
        cat.get("membres", CATALOGUE)
    assert "members" in str(err.value.hint) and "memberships" in str(err.value.hint)
    with pytest.raises(InputError) as err:
        cat.get("zzzz", CATALOGUE)
    assert "cica-ld queries" in str(err.value.hint)


def test_missing_catalogue_folder(tmp_path: Path):
    with pytest.raises(InputError, match="no such query catalogue folder"):
        cat.catalogue(tmp_path / "nope")


def test_render_catalogue_lists_everything_from_the_headers():
    text = cat.render_catalogue(cat.catalogue(CATALOGUE))
    assert "members: Members on a date" in text
    assert "Member states of the club on ?date" in text
    assert "--param date=... (default today): the day to ask about (xsd:date)" in text
    assert "--param state=... (required): the state" in text
    assert cat.render_catalogue({}) == "(no named queries)\n"


def test_cli_queries_lists_and_shows():
    r = CliRunner().invoke(app, ["queries", "--catalogue", str(CATALOGUE)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout == cat.render_catalogue(cat.catalogue(CATALOGUE))
    r = CliRunner().invoke(app, ["queries", "count", "--catalogue", str(CATALOGUE)])
    assert r.exit_code == 0
    assert r.stdout == (CATALOGUE / "count.rq").read_text(encoding="utf-8")
    r = CliRunner().invoke(app, ["queries", "--catalogue", str(BAD)])
    assert r.exit_code == 2
    assert f"{BAD / 'broken.rq'}:3:1: malformed param line" in r.stderr


BUNDLED = sorted(cat.catalogue().values(), key=lambda n: n.name) if cat.QUERIES_DIR.is_dir() else []


@pytest.mark.parametrize("named", BUNDLED, ids=lambda n: n.name)
def test_bundled_query_is_valid_and_its_params_are_its_variables(named: cat.NamedQuery):
    """Each shipped query: a title, read-only valid SPARQL, declared parameters that are
    variables of the query, defaults that parse."""
    assert named.title and named.title != named.name, "give the query a '# title:'"
    info = q.analyse(named.text, origin=str(named.path))
    q.check_syntax(named.text, origin=str(named.path))
    for p in named.params:
        assert p.name in info.variables, f"?{p.name} is declared but not used"
        if p.default is not None:
            q.parse_param_value(p.default, info.prefixes)
    # with every required parameter given, the query prepares (its VALUES block fits)
    given = {p.name: "<https://example.org/x>" for p in named.params if p.required}
    src = q.QuerySource(text=named.text, origin=str(named.path), path=named.path, named=named)
    assert q.prepare(src, given).form in q.QUERY_FORMS
