"""A loopback HTTP proxy for load tests: forwards to a real store, and can ask for HTTP Basic
credentials or fail chosen requests (a flaky network or an overloaded store, on purpose)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@dataclass
class Proxy:
    """``fail(n)`` gives the HTTP status to answer request number ``n`` (1-based) with instead
    of forwarding it, or None to forward; ``basic``: the (user, password) it asks for."""

    upstream: str
    fail: Callable[[int], int | None] = lambda n: None
    basic: tuple[str, str] | None = None
    seen: list[tuple[str, str, int, int]] = field(
        default_factory=list
    )  # method, path, bytes, status
    base: str = ""

    @property
    def forwarded(self) -> list[tuple[str, str, int, int]]:
        return [s for s in self.seen if s[3] < 300]


@contextmanager
def running(proxy: Proxy) -> Iterator[Proxy]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size) if size else b""
            if proxy.basic is not None:
                want = "Basic " + base64.b64encode(":".join(proxy.basic).encode()).decode()
                if self.headers.get("Authorization") != want:
                    with lock:
                        proxy.seen.append((self.command, self.path, len(body), 401))
                    self._answer(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="t"'})
                    return
            with lock:
                n = len(proxy.seen) + 1
                status = proxy.fail(n)
                proxy.seen.append((self.command, self.path, len(body), status or 200))
            if status is not None:
                self._answer(status, b"the store is busy (a test proxy failing on purpose)")
                return
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in ("host", "authorization", "content-length", "connection")
            }
            r = httpx.request(
                self.command,
                proxy.upstream + self.path,
                content=body,
                headers=headers,
                timeout=60,
            )
            keep = {k: v for k, v in r.headers.items() if k.lower() == "content-type"}
            self._answer(r.status_code, r.content, keep)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
