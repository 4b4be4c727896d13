"""The resource page renderer's shortcuts give what the plain way gives: the embedded JSON-LD's
indent halved by whole-text replaces is ``json.dumps(indent=1)``; a term's HTML, kept for the
next page that links the same term, is told apart by value and by kind (a date's HTML is not
the same text escaped); a template reads a view's key as Jinja would. Fixtures: random JSON,
hand-made term views (nothing of CICA's)."""

from __future__ import annotations

import json
import random
from typing import Any

import jinja2
import orjson
import pytest
from markupsafe import Markup

from cica_ld import jsonld, publish


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    if depth > 6 or rng.random() < 0.3:
        return rng.choice(["a  b", "  x\n  y", "", "\0", "<&>", 7, -1.5, None, True, "é 日本"])
    if rng.random() < 0.5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{i} ": _random_json(rng, depth + 1) for i in range(rng.randint(0, 3))}


def test_halved_indent_is_json_dumps_indent_1() -> None:
    rng = random.Random(14)
    for _ in range(2000):
        doc = _random_json(rng)
        text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode("utf-8")
        assert publish._halve_indent(text) == json.dumps(doc, indent=1, ensure_ascii=False)


def test_script_json_is_the_indent_1_text_safe_in_a_script() -> None:
    doc = {"@id": "https://data.example.org/a", "name": ["</script>", {"@value": "a & b"}]}
    text = publish.script_json(doc)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == jsonld.canonical_order(doc)
    plain = json.dumps(jsonld.canonical_order(doc), indent=1, ensure_ascii=False)
    assert text == plain.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def view(**kw: Any) -> dict[str, Any]:
    return {"href": None, "text": "", "iri": "", "date": None, "note": "", **kw}


@pytest.mark.parametrize(
    "v",
    [
        view(text="Plain <text>"),
        view(text="A & B", href="../id/a.html", iri="https://data.example.org/id/a"),
        view(text="1999", note="xsd:gYear"),
        view(text="x", href="https://example.org/?a=1&b=2"),
        view(text="term", date="2001-02-03"),
        view(text="term", date=Markup('<time datetime="2001">2001</time>')),
    ],
)
def test_a_terms_html_is_the_same_when_kept(v: dict[str, Any]) -> None:
    publish._TERM_HTML.clear()
    first = publish._term_html(v)
    again = publish._term_html(dict(v))
    plain = publish._term_html_of(*(v[k] for k in publish._TERM_KEYS))
    assert first == again == plain and isinstance(again, Markup)


def test_a_dates_html_and_the_same_text_are_kept_apart() -> None:
    publish._TERM_HTML.clear()
    markup = publish._term_html(view(text="t", date=Markup("<b>2001</b>")))
    text = publish._term_html(view(text="t", date="<b>2001</b>"))
    assert '<span class="date"><b>2001</b></span>' in markup
    assert '<span class="date">&lt;b&gt;2001&lt;/b&gt;</span>' in text


def test_the_kept_terms_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publish, "_TERM_HTML_LIMIT", 10)
    publish._TERM_HTML.clear()
    for n in range(35):
        publish._term_html(view(text=f"t{n}"))
    assert len(publish._TERM_HTML) <= 10


class _Obj:
    property = "an attribute"


def test_templates_read_view_keys_attributes_and_refuse_what_is_missing() -> None:
    env = publish._environment()
    t = env.from_string("{{ d.property }}|{{ d.items }}|{{ o.property }}|{{ d.x.y }}")
    assert t.render(d={"property": "a key", "items": 3, "x": {"y": 1}}, o=_Obj()) == (
        "a key|3|an attribute|1"
    )
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ d.missing }}").render(d={"property": 1})


@pytest.mark.parametrize(
    ("target", "here"),
    [
        ("id/a.html", "id"),
        ("index.html", "id"),
        ("id/a.html", "."),
        ("index.html", "."),
        ("id/a.html", "id/sub"),
        ("ontology.html", "shapes/0.1.0"),
        ("a/b/c.html", "a/b"),
        ("a/b", "a/b"),
        ("a/b", "a/b/c"),
        ("x/y.html", "a/b/c"),
        ("a//b.html", "a"),
        ("a/./b.html", "a"),
        ("../b.html", "a"),
        ("id/a.html", "id/"),
    ],
)
def test_site_relative_links_are_posix_relpath(target: str, here: str) -> None:
    import posixpath

    publish._relpath.cache_clear()
    assert publish._relpath(target, here) == posixpath.relpath(target, here)
