"""A small HTTP client for SPARQL services: the SPARQL 1.1 Protocol (queries) and plain requests
for the Graph Store Protocol, on httpx.

Every failure becomes an :class:`~cica_ld.errors.EndpointError` (exit code 3) with a one-line
message: the endpoint cannot be reached, it did not answer within the timeout, or it answered
with an HTTP error (the message then carries the server's own explanation). A URL that is not
``http(s)://`` is a :class:`~cica_ld.errors.UsageError` (exit 2).

Reuse it: :func:`request` for any call (streamed uploads included: ``content`` may be an
iterable of bytes), :func:`sparql_query` for a query with a chosen ``Accept``, and
:func:`select` / :func:`ask` / :func:`construct` for answers parsed into pyoxigraph objects.
httpx is imported only when a request is made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cica_ld import __version__
from cica_ld.errors import EndpointError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pyoxigraph

SPARQL_QUERY = "application/sparql-query"
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
RESULTS_CSV = "text/csv"
RESULTS_TSV = "text/tab-separated-values"
N_TRIPLES = "application/n-triples"

DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"cica-ld/{__version__}"
_MAX_MESSAGE = 400


@dataclass(frozen=True)
class EndpointResponse:
    """A successful (2xx) answer: its status, media type (no parameters, lower case), body."""

    url: str
    status: int
    media_type: str
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def check_url(url: str, *, option: str = "--endpoint") -> str:
    """``url`` if it is an absolute http(s) URL with a host, else :class:`UsageError`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{option} needs an http:// or https:// URL, got {url!r}",
            hint=f"e.g. {option} http://127.0.0.1:7878/query",
        )
    return url


def request(
    method: str,
    url: str,
    *,
    content: bytes | Iterable[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> EndpointResponse:
    """Send one HTTP request; return the 2xx answer or raise :class:`EndpointError`.

    ``timeout`` (seconds) bounds connecting and each wait for data.
    """
    import httpx

    check_url(url, option="URL")
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True) as client:
            resp = client.request(method, url, content=content, headers=all_headers, params=params)
    except httpx.TimeoutException:
        raise EndpointError(
            f"{url}: no answer within {timeout:g} s", hint="raise --timeout"
        ) from None
    except httpx.ConnectError as exc:
        raise EndpointError(f"cannot connect to {url}: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise EndpointError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None
    except (httpx.InvalidURL, ValueError) as exc:  # a URL httpx refuses
        raise UsageError(f"bad URL {url!r}: {exc}") from None
    media_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if resp.status_code >= 400:
        message = server_message(resp.content, media_type)
        raise EndpointError(
            f"{url} answered HTTP {resp.status_code} {resp.reason_phrase}"
            + (f": {message}" if message else "")
        )
    return EndpointResponse(
        url=str(resp.url), status=resp.status_code, media_type=media_type, content=resp.content
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def server_message(content: bytes, media_type: str = "") -> str:
    """The explanation in an error body, on one line (HTML tags dropped), at most ~400 chars."""
    text = content.decode("utf-8", errors="replace")
    if "html" in media_type or text.lstrip().startswith("<"):
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text


def sparql_query(
    url: str, query: str, *, accept: str, timeout: float = DEFAULT_TIMEOUT
) -> EndpointResponse:
    """POST ``query`` as ``application/sparql-query`` (SPARQL 1.1 Protocol) with ``Accept``."""
    return request(
        "POST",
        url,
        content=query.encode("utf-8"),
        headers={"Content-Type": f"{SPARQL_QUERY}; charset=utf-8", "Accept": accept},
        timeout=timeout,
    )


_RESULT_TYPES = {
    RESULTS_JSON: "JSON",
    "application/json": "JSON",
    RESULTS_XML: "XML",
    "application/xml": "XML",
    "text/xml": "XML",
    RESULTS_TSV: "TSV",
}


def parse_results(
    response: EndpointResponse,
) -> pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean:
    """The SELECT solutions or ASK boolean in a response (SPARQL JSON, XML or TSV)."""
    import pyoxigraph

    name = _RESULT_TYPES.get(response.media_type)
    if name is None:
        raise EndpointError(
            f"{response.url} answered with {response.media_type or 'no media type'}, "
            "not SPARQL results (JSON, XML or TSV)"
        )
    fmt = getattr(pyoxigraph.QueryResultsFormat, name)
    try:  # read it all once: a server may fail in the middle of a 200 answer
        answer = pyoxigraph.parse_query_results(response.content, format=fmt)
        if isinstance(answer, pyoxigraph.QuerySolutions):
            for _ in answer:
                pass
    except (SyntaxError, ValueError, OSError) as exc:
        raise EndpointError(
            f"{response.url} answered malformed SPARQL results ({_reason(exc)}); "
            f"the answer reads: {server_message(response.content, response.media_type)}"
        ) from None
    return pyoxigraph.parse_query_results(response.content, format=fmt)


def parse_graph(response: EndpointResponse) -> list[pyoxigraph.Triple]:
    """The triples in a CONSTRUCT/DESCRIBE response (any RDF syntax pyoxigraph reads)."""
    import pyoxigraph

    try:
        fmt = pyoxigraph.RdfFormat.from_media_type(response.media_type)
    except (ValueError, TypeError):
        fmt = None
    if fmt is None:
        raise EndpointError(
            f"{response.url} answered with {response.media_type or 'no media type'}, "
            "not an RDF graph"
        )
    try:
        return [q.triple for q in pyoxigraph.parse(response.content, format=fmt)]
    except (SyntaxError, ValueError, OSError) as exc:
        raise EndpointError(
            f"{response.url} answered malformed RDF ({_reason(exc)}); "
            f"the answer reads: {server_message(response.content, response.media_type)}"
        ) from None


def select(url: str, query: str, *, timeout: float = DEFAULT_TIMEOUT) -> pyoxigraph.QuerySolutions:
    """Run a SELECT query on an endpoint; the solutions, parsed."""
    answer = parse_results(sparql_query(url, query, accept=RESULTS_JSON, timeout=timeout))
    if not hasattr(answer, "variables"):
        raise EndpointError(f"{url} answered a boolean to a SELECT query")
    return answer  # type: ignore[return-value]


def ask(url: str, query: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Run an ASK query on an endpoint; its boolean."""
    answer = parse_results(sparql_query(url, query, accept=RESULTS_JSON, timeout=timeout))
    if hasattr(answer, "variables"):
        raise EndpointError(f"{url} answered solutions to an ASK query")
    return bool(answer)


def construct(url: str, query: str, *, timeout: float = DEFAULT_TIMEOUT) -> list[pyoxigraph.Triple]:
    """Run a CONSTRUCT or DESCRIBE query on an endpoint; its triples."""
    return parse_graph(sparql_query(url, query, accept=N_TRIPLES, timeout=timeout))
