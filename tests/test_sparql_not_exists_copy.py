"""The endpoint form of ``FILTER NOT EXISTS { P }`` whose FILTERs read outer variables
(:func:`cica_ld.shacl.sparql_text._not_exists_by_copy`): no FILTER inside an OPTIONAL reads an
outer variable, and the answers are those of the query as written, as a multiset, including
outer variables left unbound by an OPTIONAL and values that are the literal ``false``."""

from __future__ import annotations

from collections import Counter

import pyoxigraph
import pytest

from cica_ld.shacl import sparql_text

EX = "http://example.org/"
FOCUS = "{ ?this a <http://example.org/Term> }"

# terms with a begin (optional), an end (optional) and a kind; other terms of the same kind
# "overlap" them when neither definitely begins after or ends before
DATA = f"""
@prefix ex: <{EX}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:t1 a ex:Term ; ex:kind ex:k1 ; ex:begin "2001" ; ex:end "2005" .
ex:t2 a ex:Term ; ex:kind ex:k1 ; ex:begin "2003" ; ex:end "2009" .
ex:t3 a ex:Term ; ex:kind ex:k1 ; ex:begin "2010" .
ex:t4 a ex:Term ; ex:kind ex:k2 ; ex:end "2004" .
ex:t5 a ex:Term ; ex:kind ex:k2 ; ex:begin "2006" ; ex:flag false .
ex:t6 a ex:Term ; ex:kind ex:k2 ; ex:flag false .
ex:t7 a ex:Term ; ex:kind ex:k3 .
ex:t8 a ex:Term ; ex:kind ex:k4 .
ex:o1 ex:kind ex:k1 ; ex:begin "2004" ; ex:end "2004" ; ex:flag false .
ex:o2 ex:kind ex:k2 ; ex:begin "1990" ; ex:end "2000" .
ex:o3 ex:kind ex:k3 ; ex:begin "2000" .
"""

# ?b is bound by an OPTIONAL (unbound for some terms), ?f is the literal false or unbound,
# ?late always bound (BIND of COALESCE): each kind of outer variable the body reads
QUERY = """
PREFIX ex: <http://example.org/>
SELECT ?this ?b WHERE {
    ?this ex:kind ?k .
    OPTIONAL { ?this ex:begin ?b }
    OPTIONAL { ?this ex:flag ?f }
    OPTIONAL { ?this ex:end ?e }
    BIND(COALESCE(?e, "9999") AS ?late)
    FILTER NOT EXISTS {
        ?other ex:kind ?k ;
            ex:begin ?ob .
        OPTIONAL { ?other ex:end ?oe }
        FILTER(?other != ?this && !(COALESCE(?oe, "9999") < COALESCE(?b, "0000"))
            && !(?late < ?ob) && (!BOUND(?f) || ?f = false))
    }
}
"""


def _store() -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(DATA.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    return store


def _answers(store: pyoxigraph.Store, query: str) -> Counter[tuple[str | None, ...]]:
    out: Counter[tuple[str | None, ...]] = Counter()
    for row in store.query(query):
        out[tuple(None if row[v] is None else str(row[v]) for v in ("this", "b"))] += 1
    return out


#: the local form's left join: a FILTER in the OPTIONAL, after its sub-SELECT, reading the
#: outer variables (what Virtuoso 7.2 evaluates without them)
FILTER_IN_OPTIONAL = "} } FILTER("


def test_endpoint_form_answers_as_written() -> None:
    store = _store()
    written = sparql_text.join_query(QUERY, FOCUS, optimise=False)
    remote = sparql_text.join_query(QUERY, FOCUS, lift_filters=False)
    local = sparql_text.join_query(QUERY, FOCUS, lift_filters=True)
    assert "NOT EXISTS" not in remote  # decorrelated (it was kept as written before)
    assert FILTER_IN_OPTIONAL not in remote
    assert FILTER_IN_OPTIONAL in local
    expected = _answers(store, written)
    # the data has answers and non-answers of each kind (a test that passes on nothing fails)
    assert expected == Counter(
        {(f"<{EX}t3>", '"2010"'): 1, (f"<{EX}t5>", '"2006"'): 1, (f"<{EX}t8>", None): 1}
    )
    assert _answers(store, remote) == expected
    assert _answers(store, local) == expected


def test_endpoint_form_with_few_focus_nodes() -> None:
    """``restrict_exists`` (few focus nodes) puts the focus pattern in the body as well."""
    store = _store()
    expected = _answers(store, sparql_text.join_query(QUERY, FOCUS, optimise=False))
    remote = sparql_text.join_query(QUERY, FOCUS, lift_filters=False, restrict_exists=True)
    assert "NOT EXISTS" not in remote
    assert _answers(store, remote) == expected


@pytest.mark.parametrize(
    "outer",
    [
        "?this ex:kind ?k . ?this ex:label _:x .",  # a blank node label: one node per pattern
        "?this ex:kind ?k . BIND(RAND() AS ?r)",  # a second evaluation gives other values
        "?this ex:kind ?k . BIND(STRUUID() AS ?r)",
    ],
)
def test_kept_as_written_where_a_copy_could_differ(outer: str) -> None:
    query = QUERY.replace("?this ex:kind ?k .", outer, 1)
    remote = sparql_text.join_query(query, FOCUS, lift_filters=False)
    assert "FILTER NOT EXISTS" in remote
