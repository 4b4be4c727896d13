"""Where the data graph is: an embedded pyoxigraph store, or a SPARQL endpoint.

Both answer SELECT queries as rows of terms in N-Triples syntax (``None`` for unbound), so the
engine above them is the same. The local store also evaluates Oxigraph's ``LATERAL`` and
substitutes pre-bound variables natively (SEP-0007); an endpoint gets standard SPARQL 1.1 only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cica_ld.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

Row = tuple[str | None, ...]


class QueryFailed(InputError):
    """A generated or user-written query was refused by the SPARQL engine (exit 2: the shapes
    graph holds a query the engine cannot run)."""


class Backend:
    """The data graph, queried by SPARQL."""

    local = False

    def select(self, query: str, variables: Sequence[str]) -> Iterator[Row]:  # pragma: no cover
        raise NotImplementedError

    def select_bound(
        self, query: str, variables: Sequence[str], name: str, term: str
    ) -> Iterator[Row]:  # pragma: no cover
        """``select`` with the variable ``name`` pre-bound to ``term`` (substitution)."""
        raise NotImplementedError


class LocalBackend(Backend):
    """An embedded pyoxigraph store; its default graph is the data graph."""

    local = True

    def __init__(self, store: pyoxigraph.Store, *, as_written: bool | None = None) -> None:
        self.store = store
        if as_written is None:
            from cica_ld.lexical import holds_surrogates

            as_written = holds_surrogates(store)
        #: the store holds literals as written under surrogate datatypes (cica_ld.lexical)
        self.as_written = as_written
        self._values: LocalBackend | None = None
        self._values_lock = threading.Lock()  # shapes run in threads: one copy for all
        self._restore: dict[str, str] = {}
        #: the shapes graph's SHACL functions (IRI -> cica_ld.shacl.functions.Function)
        self.functions: dict[str, object] = {}
        self._callables: dict | None = None

    def values(self) -> tuple[LocalBackend, dict[str, str]]:
        """For SPARQL written by users (sh:sparql, SPARQL-based components): the data with
        pyoxigraph's values in place of the surrogates (so comparisons see numbers and dates),
        and a map from a value's N-Triples text to the literal as written, where one written
        form has that value. Without surrogates: this backend itself and an empty map."""
        if not self.as_written:
            return self, {}
        with self._values_lock:
            if self._values is None:
                from cica_ld.lexical import values_copy

                values, lexicon = values_copy(self.store)
                self._restore = {
                    str(v): str(r) for v in lexicon.written if (r := lexicon.restore(v)) != v
                }
                self._values = LocalBackend(values, as_written=False)
                self._values.functions = self.functions
        return self._values, self._restore

    def _run(self, query: str, **kwargs: object) -> pyoxigraph.QuerySolutions:
        _refuse_service(query)
        if self.functions:
            if self._callables is None:
                from cica_ld.shacl.functions import callables

                self._callables = callables(self.functions, self.store)  # type: ignore[arg-type]
            kwargs["custom_functions"] = self._callables
        try:
            return self.store.query(query, **kwargs)  # type: ignore[arg-type,return-value]
        except SyntaxError as exc:
            raise QueryFailed(f"SPARQL syntax error: {exc}\n{query}") from None
        except (ValueError, OSError) as exc:  # evaluation errors raised by Oxigraph
            raise QueryFailed(f"SPARQL evaluation failed: {exc}") from None
        except RuntimeError as exc:  # a function SPARQL does not define (a SHACL function...)
            if "custom function" not in str(exc):
                raise
            raise QueryFailed(
                f"{exc}: it is neither a SPARQL 1.1 function nor a sh:SPARQLFunction of the "
                "shapes (extension functions are not supported)"
            ) from None

    def select(self, query: str, variables: Sequence[str]) -> Iterator[Row]:
        import pyoxigraph

        names = [pyoxigraph.Variable(v) for v in variables]
        for sol in self._run(query):
            yield tuple(None if (t := sol[v]) is None else str(t) for v in names)

    def select_bound(
        self, query: str, variables: Sequence[str], name: str, term: str
    ) -> Iterator[Row]:
        """The term is written into the query text, as for an endpoint: Oxigraph substitutes
        only projected variables, and an aggregate query without GROUP BY (the one case that
        needs per-node evaluation locally) cannot project it."""
        yield from _select_substituted(self, query, variables, name, term)


def _refuse_service(query: str) -> None:
    """:class:`QueryFailed` unless pyoxigraph's parser shows ``query`` makes no SERVICE call
    (SHACL-SPARQL has no SERVICE; validation never fetches from the network)."""
    from cica_ld.query import service_free

    if not service_free(query):
        raise QueryFailed(
            "SERVICE is not allowed in a SHACL-SPARQL query (or the query spells SERVICE "
            "and does not parse): refused, validation never fetches from the network"
        )


def _select_substituted(
    backend: Backend, query: str, variables: Sequence[str], name: str, term: str
) -> Iterator[Row]:
    from cica_ld.shacl.sparql_text import substitute_projection

    if term.startswith("_:"):
        raise QueryFailed(
            "a SPARQL constraint that needs per-node evaluation cannot be run for a blank "
            "focus node: a query cannot name a blank node of the data"
        )
    text = substitute_projection(query, name, term)
    renamed = [v if v != name else "__cica_unused" for v in variables]
    for row in backend.select(text, renamed):
        yield tuple(term if v == name else row[i] for i, v in enumerate(variables))


class RemoteBackend(Backend):
    """A SPARQL 1.1 Protocol endpoint (read-only: only SELECT queries are sent)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        from cica_ld import endpoint

        self.url = endpoint.check_url(url)
        self.timeout = timeout

    def select(self, query: str, variables: Sequence[str]) -> Iterator[Row]:
        from cica_ld import endpoint

        _refuse_service(query)
        solutions = endpoint.select(self.url, query, timeout=self.timeout)
        import pyoxigraph

        names = [pyoxigraph.Variable(v) for v in variables]
        for sol in solutions:
            yield tuple(None if (t := sol[v]) is None else str(t) for v in names)

    def select_bound(
        self, query: str, variables: Sequence[str], name: str, term: str
    ) -> Iterator[Row]:
        """Standard SPARQL has no pre-binding: the term is written into the query text."""
        yield from _select_substituted(self, query, variables, name, term)
