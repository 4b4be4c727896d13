"""A nested group of a SHACL-SPARQL query's top level is evaluated on its own and joined
(:func:`cica_ld.shacl.sparql_text.decorrelate`): written as a sub-SELECT projecting all its
variables, so Oxigraph's planner hash-joins it instead of evaluating it again for every
solution of the rest (53 s instead of 0.2 s at 1M triples for a pair of terms with their
bounds). The answers are the query's as written, as a multiset: duplicates, variables an
OPTIONAL leaves unbound, and a FILTER in the group that reads a variable bound only outside
it (unbound inside the group, by SPARQL's scoping, in both forms)."""

from __future__ import annotations

from collections import Counter

import pyoxigraph
import pytest

from cica_ld.shacl import sparql_text

FOCUS = "{ ?this a <http://example.org/Term> }"

DATA = """
@prefix ex: <http://example.org/> .
ex:t1 a ex:Term ; ex:kind ex:k1 ; ex:begin "2001" ; ex:end "2005" .
ex:t2 a ex:Term ; ex:kind ex:k1 ; ex:begin "2003" .
ex:t3 a ex:Term ; ex:kind ex:k1 ; ex:begin "2003" ; ex:begin "2004" .
ex:t4 a ex:Term ; ex:kind ex:k2 ; ex:end "2004" .
ex:t5 a ex:Term ; ex:kind ex:k3 .
ex:o1 ex:kind ex:k1 ; ex:begin "2002" ; ex:end "2006" .
ex:o2 ex:kind ex:k1 ; ex:begin "2002" .
ex:o3 ex:kind ex:k2 ; ex:begin "1990" ; ex:end "2000" .
"""

# no DISTINCT: the multiplicity of each answer is compared too
PAIRS = """
PREFIX ex: <http://example.org/>
SELECT ?this ?other ?late WHERE {
    {
        $this ex:kind ?k .
        OPTIONAL { $this ex:begin ?b }
        OPTIONAL { $this ex:end ?e }
        BIND(COALESCE(?e, "9999") AS ?late)
    }
    {
        ?other ex:kind ?k ; ex:begin ?ob .
        OPTIONAL { ?other ex:end ?oe }
        BIND(COALESCE(?oe, "9999") AS ?olate)
    }
    FILTER(?other != $this && COALESCE(?b, "0000") < ?olate && ?ob < ?late)
}
"""

# ?k is bound outside the second group only: inside it, the FILTER sees it unbound
SCOPED = """
PREFIX ex: <http://example.org/>
SELECT ?this ?other WHERE {
    $this ex:kind ?k .
    { ?other ex:kind ?k2 . FILTER(!BOUND(?k) || ?k2 = ?k) }
}
"""

# a group nested in a group nested in the top level, and a group in a UNION (left alone)
DEEPER = """
PREFIX ex: <http://example.org/>
SELECT ?this ?b ?x WHERE {
    { { $this ex:begin ?b } OPTIONAL { $this ex:end ?e } }
    { ?x ex:kind ex:k2 } UNION { ?x ex:kind ex:k3 }
}
"""


def _answers(query: str, variables: tuple[str, ...]) -> Counter[tuple[str | None, ...]]:
    store = pyoxigraph.Store()
    store.load(DATA.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    out: Counter[tuple[str | None, ...]] = Counter()
    for row in store.query(query):
        out[tuple(None if row[v] is None else str(row[v]) for v in variables)] += 1
    return out


@pytest.mark.parametrize(
    ("query", "variables", "groups"),
    [
        (PAIRS, ("this", "other", "late"), 2),
        (SCOPED, ("this", "other"), 1),
        (DEEPER, ("this", "b", "x"), 1),
    ],
)
@pytest.mark.parametrize("lift_filters", [True, False])
def test_nested_groups_become_sub_selects_with_the_same_answers(
    query: str, variables: tuple[str, ...], groups: int, lift_filters: bool
) -> None:
    written = sparql_text.join_query(query, FOCUS, optimise=False)
    rewritten = sparql_text.join_query(query, FOCUS, lift_filters=lift_filters)
    assert rewritten.count("SELECT * WHERE {") == groups
    expected = _answers(written, variables)
    assert sum(expected.values()) > 0  # the comparison is not between two empty answers
    assert _answers(rewritten, variables) == expected


def test_answers_of_the_pair_query() -> None:
    """What the pair query says, worked out by hand: t1 overlaps o1 and o2, t2 and t3 (open)
    overlap t1, each other, o1 and o2 (t3 twice: two beginnings), t4 (no beginning) overlaps
    o3, t5 has no other term of its kind."""
    got = _answers(sparql_text.join_query(PAIRS, FOCUS), ("this", "other"))
    ex = "<http://example.org/"
    assert got == Counter(
        {
            (f"{ex}t1>", f"{ex}o1>"): 1,
            (f"{ex}t1>", f"{ex}o2>"): 1,
            (f"{ex}t1>", f"{ex}t2>"): 1,
            (f"{ex}t1>", f"{ex}t3>"): 2,
            (f"{ex}t2>", f"{ex}t1>"): 1,
            (f"{ex}t2>", f"{ex}t3>"): 2,
            (f"{ex}t2>", f"{ex}o1>"): 1,
            (f"{ex}t2>", f"{ex}o2>"): 1,
            (f"{ex}t3>", f"{ex}t1>"): 2,
            (f"{ex}t3>", f"{ex}t2>"): 2,
            (f"{ex}t3>", f"{ex}o1>"): 2,
            (f"{ex}t3>", f"{ex}o2>"): 2,
            (f"{ex}t4>", f"{ex}o3>"): 1,
        }
    )
