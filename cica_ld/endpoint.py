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

Queries are POSTed URL-encoded (``query=...``, the SPARQL 1.1 Protocol's "query via URL-encoded
POST"): every store answers that form, while Virtuoso 7 never answers a direct
``application/sparql-query`` POST (it waits for more of the body). Parameters in the endpoint URL
(``?default-graph-uri=IRI``) are kept.

Authentication (:class:`Credentials`): HTTP Basic or Digest (RFC 7616, what Virtuoso's
``/sparql-graph-crud-auth`` asks for), chosen from the server's ``WWW-Authenticate`` challenge or
forced. :func:`netrc_credentials` reads a netrc file. Many requests to one server share a
connection (and a Digest nonce) through :func:`session`.

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
from dataclasses import dataclass, field, replace
from pathlib import Path
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

#: HTTP statuses worth trying again: the server was busy or failed for the moment.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class HTTPStatusError(EndpointError):
    """The server answered with an HTTP error status (``status``)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class TransportError(EndpointError):
    """The server could not be reached, or did not answer in time (worth trying again)."""


def retryable(error: EndpointError) -> bool:
    """Whether ``error`` may pass if the request is sent again: no connection, a timeout, or a
    status of :data:`RETRYABLE_STATUSES` (a 4xx such as 400 or 401 fails the same way again)."""
    if isinstance(error, HTTPStatusError):
        return error.status in RETRYABLE_STATUSES
    return isinstance(error, TransportError)


AUTH_SCHEMES = ("auto", "digest", "basic")


@dataclass(frozen=True)
class Credentials:
    """A user name and password for HTTP authentication. ``scheme``: ``auto`` (what the
    server's 401 challenge asks for, Digest preferred), ``digest`` or ``basic``."""

    user: str
    password: str = field(repr=False)
    scheme: str = "auto"

    def __post_init__(self) -> None:
        if self.scheme not in AUTH_SCHEMES:
            raise UsageError(
                f"unknown authentication scheme {self.scheme!r}",
                hint="use --auth " + ", --auth ".join(AUTH_SCHEMES),
            )


def netrc_credentials(
    path: str | Path, host: str, user: str | None = None
) -> tuple[str, str] | None:
    """The (login, password) a netrc file gives for ``host`` (or its ``default`` entry), None
    when it has none (or names another login than ``user``), or the file does not exist. A
    malformed file is a :class:`UsageError` naming it."""
    import netrc

    path = Path(path)
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        raise UsageError(f"{path}: cannot read this netrc file: {exc}") from None
    if entry is None:
        return None
    login, _account, password = entry
    if password is None or (user is not None and login and login != user):
        return None
    return (login or user or ""), password


def _httpx_auth(credentials: Credentials | None) -> Any:
    import httpx

    if credentials is None:
        return None
    if credentials.scheme == "digest":
        return httpx.DigestAuth(credentials.user, credentials.password)
    if credentials.scheme == "basic":
        return httpx.BasicAuth(credentials.user, credentials.password)
    return _AutoAuth(credentials.user, credentials.password)


def _challenge_schemes(headers: Any) -> list[str]:
    """The auth schemes the WWW-Authenticate headers of a 401 offer, lower case, in order."""
    out = []
    for value in headers.get_list("www-authenticate"):
        value = re.sub(r'"(?:[^"\\]|\\.)*"', '""', value)  # commas inside quotes are no separators
        for part in value.split(","):
            m = re.match(r"\s*([A-Za-z][\w.+-]*)(?:\s|$)", part)
            if m:
                out.append(m.group(1).lower())
    return out


def _make_auto_auth() -> Any:
    import httpx

    class AutoAuth(httpx.Auth):
        """Send the request as is; on a 401, answer the challenge the server made (Digest
        if offered, else Basic), and keep that scheme for the next requests."""

        def __init__(self, user: str, password: str) -> None:
            self.digest = httpx.DigestAuth(user, password)
            self.basic = httpx.BasicAuth(user, password)
            self.chosen: Any = None

        def auth_flow(self, request: Any) -> Any:
            if self.chosen is not None:
                yield from self.chosen.auth_flow(request)
                return
            response = yield request
            if response.status_code != 401:
                return
            schemes = _challenge_schemes(response.headers)
            if "digest" in schemes:
                self.chosen = self.digest
            elif "basic" in schemes:
                self.chosen = self.basic
            else:
                return
            yield from self.chosen.auth_flow(request)

    return AutoAuth


def _AutoAuth(user: str, password: str) -> Any:  # a class made lazily (httpx)
    global _AUTO_AUTH
    if _AUTO_AUTH is None:
        _AUTO_AUTH = _make_auto_auth()
    return _AUTO_AUTH(user, password)


_AUTO_AUTH: Any = None


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
    headers: Mapping[str, str] = field(default_factory=dict)

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
    data: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    total: bool = False,
    max_bytes: int | None = None,
    follow_redirects: bool | None = None,
    auth: Credentials | None = None,
    session: Session | None = None,
) -> EndpointResponse:
    """Send one HTTP request; return the 2xx answer or raise :class:`EndpointError`
    (:class:`HTTPStatusError` for an HTTP error status, :class:`TransportError` when the
    server cannot be reached or does not answer in time).

    ``timeout`` (seconds) bounds connecting and each wait for data, and with ``total`` the
    whole exchange. An answer of more than ``max_bytes`` is refused as soon as it is known
    (its Content-Length, or the bytes read so far); a redirect is refused unless
    ``follow_redirects``. Both default to the current :func:`limits`. ``data`` is sent as an
    URL-encoded form. ``auth`` answers a 401 challenge (a body to send again must then be
    bytes, not an iterable). With a ``session`` (see :func:`session`) the connection and the
    credentials of the session are used.
    """
    import httpx

    check_url(url, option="URL")
    cap = _limits.max_bytes if max_bytes is None else max_bytes
    follow = _limits.follow_redirects if follow_redirects is None else follow_redirects
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    deadline = time.monotonic() + timeout if total else None
    try:
        with contextlib.ExitStack() as stack:
            if session is not None:
                client = session.client
            else:
                client = stack.enter_context(
                    httpx.Client(
                        timeout=httpx.Timeout(timeout),
                        transport=_transport(deadline),
                    )
                )
            kwargs: dict[str, Any] = {"follow_redirects": follow, "timeout": timeout}
            if auth is not None:
                kwargs["auth"] = _httpx_auth(auth)
            resp = stack.enter_context(
                client.stream(
                    method,
                    url,
                    content=content,
                    data=data,
                    headers=all_headers,
                    params=params,
                    **kwargs,
                )
            )
            if 300 <= resp.status_code < 400:
                raise HTTPStatusError(
                    f"{url} redirects (HTTP {resp.status_code}) to "
                    f"{resp.headers.get('location', '?')}: not followed",
                    status=resp.status_code,
                    hint="add --follow-redirects to follow it, or use the URL it names",
                )
            body = _read_capped(resp, url, cap, deadline, timeout)
    except httpx.TimeoutException:
        whole = " (the deadline of the whole request)" if total else ""
        raise TransportError(
            f"{url}: no answer within {timeout:g} s{whole}", hint="raise --timeout"
        ) from None
    except httpx.ConnectError as exc:
        raise TransportError(f"cannot connect to {url}: {_reason(exc)}") from None
    except httpx.TooManyRedirects as exc:
        raise EndpointError(f"{url}: {_reason(exc)}") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise TransportError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None
    except httpx.StreamConsumed:
        raise EndpointError(
            f"{url} asked for credentials after a streamed body was sent: it cannot be sent again",
            hint="send the data in chunks (cica-ld load does)",
        ) from None
    except httpx.HTTPError as exc:
        raise EndpointError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from None
    except (httpx.InvalidURL, ValueError) as exc:  # a URL httpx refuses
        raise UsageError(f"bad URL {url!r}: {exc}") from None
    media_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if resp.status_code >= 400:
        message = server_message(body, media_type)
        hint = None
        if resp.status_code == 401:
            hint = (
                "give --user (the password from $CICA_LD_PASSWORD, a netrc file or the prompt)"
                if auth is None and (session is None or session.auth is None)
                else "check the user name and password (and --auth)"
            )
        raise HTTPStatusError(
            f"{url} answered HTTP {resp.status_code} {resp.reason_phrase}"
            + (f": {message}" if message else ""),
            status=resp.status_code,
            hint=hint,
        )
    return EndpointResponse(
        url=str(resp.url),
        status=resp.status_code,
        media_type=media_type,
        content=body,
        headers={k.lower(): v for k, v in resp.headers.items()},
    )


class Session:
    """One HTTP connection pool (and set of credentials) for many requests to a server: pass
    it as ``session=`` to :func:`request`. Made by :func:`session`."""

    def __init__(self, client: Any, auth: Credentials | None) -> None:
        self.client = client
        self.auth = auth


@contextlib.contextmanager
def session(
    *, timeout: float = DEFAULT_TIMEOUT, auth: Credentials | None = None
) -> Iterator[Session]:
    """A :class:`Session` for the block: kept-alive connections, and ``auth`` answered once
    per server (a Digest nonce is reused), not once per request."""
    import httpx

    with httpx.Client(timeout=httpx.Timeout(timeout), auth=_httpx_auth(auth)) as client:
        yield Session(client, auth)


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
    """POST ``query`` URL-encoded (SPARQL 1.1 Protocol, ``query=...``) with ``Accept``;
    ``timeout`` is the deadline of the whole exchange. Parameters in ``url`` (such as
    ``default-graph-uri``) go along. An answer the server says it cut short (Virtuoso's
    ``X-SPARQL-MaxRows`` header, sent when ``ResultSetMaxRows`` truncated it) is refused:
    partial results would pass for whole ones."""
    response = request(
        "POST",
        url,
        data={"query": query},
        headers={"Accept": accept},
        timeout=timeout,
        total=True,
    )
    cut = response.headers.get("x-sparql-maxrows")
    if cut is not None:
        raise EndpointError(
            f"{url} cut its answer at {cut} rows (X-SPARQL-MaxRows): the results are "
            "incomplete, not used",
            hint="raise the server's limit (Virtuoso: ResultSetMaxRows in the [SPARQL] section "
            "of virtuoso.ini), or ask for fewer rows (LIMIT)",
        )
    return response


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
