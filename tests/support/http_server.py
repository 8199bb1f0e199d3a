"""A scripted HTTP server on 127.0.0.1 for crawl tests.

Each path answers from a script: a list of replies given in turn, the last one repeating. A reply is
a :class:`Reply`, a callable building one at request time (e.g. for a date relative to now), or
:data:`DROP` to close the connection without answering. Every request is logged with its arrival
time, path, answered status and User-Agent. Unscripted paths answer 404.

    with ScriptedServer({"/page": [Reply(503, {"Retry-After": "2"}), Reply(200)]}) as server:
        url = server.url("/page")
        ...
        server.requests_to("/page")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b"<html><body>ok</body></html>"


DROP = object()
"""Script step: close the connection without a response (a connection drop)."""

ScriptStep = Reply | Callable[[], Reply] | object


class LoggedRequest(NamedTuple):
    time: float  # time.time() at arrival
    path: str
    status: int | None  # None for DROP
    user_agent: str | None


class ScriptedServer:
    """Threaded HTTP/1.0 server on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, routes: Mapping[str, Sequence[ScriptStep]]):
        self._scripts = {path: list(steps) for path, steps in routes.items()}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self.log: list[LoggedRequest] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_to(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [entry for entry in self.log if entry.path == path]

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next_step(self, path: str) -> ScriptStep | None:
        with self._lock:
            script = self._scripts.get(path)
            if not script:
                return None
            served = self._served.get(path, 0)
            self._served[path] = served + 1
            return script[min(served, len(script) - 1)]

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                arrived = time.time()
                path = self.path.split("?", 1)[0]
                step = server._next_step(path)
                user_agent = self.headers.get("User-Agent")
                if step is DROP:
                    server._record(LoggedRequest(arrived, path, None, user_agent))
                    self.close_connection = True
                    return
                if step is None:
                    reply = Reply(404, body=b"not scripted")
                else:
                    reply = step() if callable(step) else step
                server._record(LoggedRequest(arrived, path, reply.status, user_agent))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                pass  # keep test output quiet; the request log says what happened

        return Handler
