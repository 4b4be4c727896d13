"""A small HTTP client for SPARQL services: the SPARQL 1.1 Protocol (queries) and plain requests
for the Graph Store Protocol, on httpx.

Every failure becomes an :class:`~cica_ld.errors.EndpointError` (exit code 3) with a one-line
message: the endpoint cannot be reached, it did not answer within the timeout, or it answered
with an HTTP error (the message then carries the server's own explanation). A URL that is not
``http(s)://`` is a :class:`~cica_ld.errors.UsageError` (exit 2).

Limits: a SPARQL query's ``timeout`` is a total deadline (connecting, sending, the headers and
the whole body: a server that drips its answer is cut off); an answer larger than
``max_bytes`` (:data:`DEFAULT_MAX_BYTES` unless set, see :func:`limits`) is refused, read no
further; a redirect is an error unless ``follow_redirects``.

Reuse it: :func:`request` for any call (streamed uploads included: ``content`` may be an
iterable of bytes), :func:`sparql_query` for a query with a chosen ``Accept``, and
:func:`select` / :func:`ask` / :func:`construct` for answers parsed into pyoxigraph objects.
httpx is imported only when a request is made.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
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
#: The largest answer read from a server unless told otherwise (``--max-response``, in MB).
DEFAULT_MAX_BYTES = 256_000_000
USER_AGENT = f"cica-ld/{__version__}"
_MAX_MESSAGE = 400


@dataclass(frozen=True)
class Limits:
    """What a request may cost: the largest answer read, and whether redirects are followed."""

    max_bytes: int = DEFAULT_MAX_BYTES
    follow_redirects: bool = False


_limits = Limits()


@contextlib.contextmanager
def limits(*, max_bytes: int | None = None, follow_redirects: bool | None = None) -> Iterator[None]:
    """Within the block, requests that do not say otherwise use these limits (what the
    ``--max-response`` and ``--follow-redirects`` options of a command set)."""
    global _limits
    before = _limits
    changes: dict[str, Any] = {}
    if max_bytes is not None:
        changes["max_bytes"] = max_bytes
    if follow_redirects is not None:
        changes["follow_redirects"] = follow_redirects
    _limits = replace(before, **changes)
    try:
        yield
    finally:
        _limits = before


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


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
    total: bool = False,
    max_bytes: int | None = None,
    follow_redirects: bool | None = None,
) -> EndpointResponse:
    """Send one HTTP request; return the 2xx answer or raise :class:`EndpointError`.

    ``timeout`` (seconds) bounds connecting and each wait for data, and with ``total`` the
    whole exchange. An answer of more than ``max_bytes`` is refused as soon as it is known
    (its Content-Length, or the bytes read so far); a redirect is refused unless
    ``follow_redirects``. Both default to the current :func:`limits`.
    """
    import httpx

    check_url(url, option="URL")
    cap = _limits.max_bytes if max_bytes is None else max_bytes
    follow = _limits.follow_redirects if follow_redirects is None else follow_redirects
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    deadline = time.monotonic() + timeout if total else None
    try:
        with (
            httpx.Client(
                timeout=httpx.Timeout(timeout),
                follow_redirects=follow,
                transport=_transport(deadline),
            ) as client,
            client.stream(method, url, content=content, headers=all_headers, params=params) as resp,
        ):
            if 300 <= resp.status_code < 400:
                raise EndpointError(
                    f"{url} redirects (HTTP {resp.status_code}) to "
                    f"{resp.headers.get('location', '?')}: not followed",
                    hint="add --follow-redirects to follow it, or use the URL it names",
                )
            body = _read_capped(resp, url, cap, deadline, timeout)
    except httpx.TimeoutException:
        whole = " (the deadline of the whole request)" if total else ""
        raise EndpointError(
            f"{url}: no answer within {timeout:g} s{whole}", hint="raise --timeout"
        ) from None
    except httpx.ConnectError as exc:
        raise EndpointError(f"cannot connect to {url}: {_reason(exc)}") from None
    except httpx.TooManyRedirects as exc:
        raise EndpointError(f"{url}: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise EndpointError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None
    except (httpx.InvalidURL, ValueError) as exc:  # a URL httpx refuses
        raise UsageError(f"bad URL {url!r}: {exc}") from None
    media_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if resp.status_code >= 400:
        message = server_message(body, media_type)
        raise EndpointError(
            f"{url} answered HTTP {resp.status_code} {resp.reason_phrase}"
            + (f": {message}" if message else "")
        )
    return EndpointResponse(
        url=str(resp.url), status=resp.status_code, media_type=media_type, content=body
    )


def _too_large(url: str, cap: int) -> EndpointError:
    return EndpointError(
        f"{url}: the answer is larger than {_megabytes(cap)} (--max-response): not read further",
        hint="raise --max-response, or narrow the query (LIMIT, fewer variables)",
    )


def _read_capped(resp: Any, url: str, cap: int, deadline: float | None, timeout: float) -> bytes:
    """The body of a streamed response, refusing more than ``cap`` bytes (decoded) and, with a
    ``deadline``, any time past it."""
    import httpx

    declared = resp.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(url, cap)
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise _too_large(url, cap)
        chunks.append(chunk)
        if deadline is not None and time.monotonic() > deadline:
            raise httpx.ReadTimeout(f"no complete answer within {timeout:g} s")
    return b"".join(chunks)


def _transport(deadline: float | None) -> Any:
    """An httpx transport whose every network wait (connect, TLS, each read and write) ends
    by ``deadline``: a server that sends its headers or body a byte at a time is cut off."""
    import httpx

    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if deadline is not None and backend is not None:
        pool._network_backend = _DeadlineBackend(backend, deadline)  # type: ignore[union-attr]
    return transport  # (without that private hook, the body loop still checks the deadline)


class _DeadlineBackend:
    """An httpcore network backend wrapper: each wait gets at most the time left."""

    def __init__(self, inner: Any, deadline: float) -> None:
        self.inner, self.deadline = inner, deadline

    def left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("the deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **kw: Any) -> Any:
        import httpcore

        stream = self.inner.connect_tcp(
            host, port, timeout=self.left(timeout, httpcore.ConnectTimeout), **kw
        )
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path: str, timeout: float | None = None, **kw: Any) -> Any:
        import httpcore

        stream = self.inner.connect_unix_socket(
            path, timeout=self.left(timeout, httpcore.ConnectTimeout), **kw
        )
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _DeadlineStream:
    def __init__(self, inner: Any, backend: _DeadlineBackend) -> None:
        self.inner, self.backend = inner, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        return self.inner.read(max_bytes, self.backend.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        import httpcore

        self.inner.write(buffer, self.backend.left(timeout, httpcore.WriteTimeout))

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: Any = None):
        import httpcore

        stream = self.inner.start_tls(
            ssl_context, server_hostname, self.backend.left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(stream, self.backend)

    def close(self) -> None:
        self.inner.close()

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


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
    """POST ``query`` as ``application/sparql-query`` (SPARQL 1.1 Protocol) with ``Accept``;
    ``timeout`` is the deadline of the whole exchange."""
    return request(
        "POST",
        url,
        content=query.encode("utf-8"),
        headers={"Content-Type": f"{SPARQL_QUERY}; charset=utf-8", "Accept": accept},
        timeout=timeout,
        total=True,
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
