"""A real HTTP server on 127.0.0.1 for a forum we control, with faults on demand and a request log.

The server knows nothing about forum software: a *site* object answers ``respond(path)`` with
``(status, body, headers)`` and has a ``now`` (sent as the ``Date`` header). Faults are scripted per
path pattern, so a test can say "the first two requests for thread pages get a 429 with Retry-After: 2".
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAINTENANCE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Down for maintenance</title></head><body>"
    b"<h1>We'll be back shortly</h1><p>The forum is being upgraded. Please try again later.</p></body></html>"
)
# Pages a site serves instead of its content when it will not serve us: (status, body). They are
# what real forums and their CDNs send (wording and markers of the real products), so the crawl's
# block detection is exercised on realistic pages, never on a marker made up for the test.
BLOCK_PAGES = {
    "ban": (200, b"<!DOCTYPE html><html><head><title>Forum - Message</title></head><body>"
                 b"<div class=\"standard_error\"><h2>Forum Message</h2><div class=\"blockrow restore\">"
                 b"You have been banned for the following reason:<br />Automated scraping<br />"
                 b"Date the ban will be lifted: Never</div></div></body></html>"),
    "ban403": (403, b"<!DOCTYPE html><html><head><title>Access denied | forum uses Cloudflare to restrict access"
                    b"</title></head><body><div id=\"cf-wrapper\"><div id=\"cf-error-details\">"
                    b"<h1>Sorry, you have been blocked</h1><h2>You are unable to access this forum</h2>"
                    b"<p>Cloudflare Ray ID: 8f0c0ffee0000000</p></div></div></body></html>"),
    "challenge": (503, b"<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
                       b"<meta http-equiv=\"refresh\" content=\"390\"></head><body><div class=\"main-wrapper\">"
                       b"<noscript>Enable JavaScript and cookies to continue</noscript></div>"
                       b"<script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};"
                       b"var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/h/b/orchestrate/"
                       b"chl_page/v1';document.getElementsByTagName('head')[0].appendChild(a);}());</script>"
                       b"</body></html>"),
    "login": (200, b"<!DOCTYPE html><html><head><title>Miata Forum</title></head><body>"
                   b"<form action=\"login.php?do=login\" method=\"post\"><input name=\"vb_login_username\" />"
                   b"<input type=\"password\" name=\"vb_login_password\" /></form>"
                   b"<table class=\"tborder\"><tr><td class=\"panelsurround\"><div class=\"panel\">"
                   b"<div>You are not logged in or you do not have permission to access this page. This could be "
                   b"due to one of several reasons:</div></div></td></tr></table></body></html>"),
    "login-phpbb": (200, b"<!DOCTYPE html><html dir=\"ltr\" lang=\"en-gb\"><head><title>Miata Board - Login</title>"
                         b"</head><body id=\"phpbb\"><div id=\"page-body\"><form action=\"./ucp.php?mode=login\" "
                         b"method=\"post\" id=\"login\" data-focus=\"username\"><div class=\"panel\">"
                         b"<h2 class=\"login-title\">Login</h2><fieldset><dl><dt><label for=\"username\">Username:"
                         b"</label></dt><dd><input type=\"text\" name=\"username\" id=\"username\" /></dd></dl>"
                         b"<dl><dt><label for=\"password\">Password:</label></dt><dd><input type=\"password\" "
                         b"id=\"password\" name=\"password\" /></dd></dl></fieldset></div></form></div>"
                         b"</body></html>"),
}
FAULT_KINDS = ("403", "429", "500", "503", "slow", "drop", "truncate", "maintenance", "rewrite", "undeclared-charset",
               "redirect-loop", *BLOCK_PAGES)


def _wait_unless_client_leaves(handler, seconds: float) -> bool:
    """Sleep ``seconds``; False as soon as the client closes its connection."""
    import select
    import socket

    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([handler.connection], [], [], min(left, 0.05))
        if readable:
            try:
                if handler.connection.recv(1, socket.MSG_PEEK) == b"":
                    return False
            except OSError:
                return False
    return True


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that hung up (a killed crawl, a download timeout) is part of the tests, not a bug.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


@dataclass(frozen=True)
class LoggedRequest:
    time: float  # time.monotonic() when the response was sent (or the connection dropped)
    path: str
    status: int  # 0: connection dropped without a response
    user_agent: str
    fault: str | None = None


@dataclass
class FaultRule:
    """The first ``times`` requests whose path matches ``pattern`` (after ``skip`` matching ones) fail.

    ``retry_after`` is sent with 429/503: seconds ("2"), or "date:N" for an HTTP date N seconds ahead.
    """

    pattern: str
    kind: str
    times: int = 1
    skip: int = 0
    retry_after: str | None = None
    delay: float = 0.0  # for "slow": seconds to wait before answering
    # for "rewrite": (old, new) replaced in the page; "{n}" in new becomes this rule's request count,
    # e.g. a next-page link pointing back with a parameter that changes on every visit
    rewrite: tuple[str, str] | None = None
    seen: int = field(default=0, init=False)

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        self._regex = re.compile(self.pattern)

    def applies(self, path: str) -> bool:
        if not self._regex.search(path):
            return False
        self.seen += 1
        return self.skip < self.seen <= self.skip + self.times


class ForumServer:
    def __init__(self, site, faults: list[FaultRule] | None = None):
        self.site = site
        self.faults = list(faults or [])
        self.requests: list[LoggedRequest] = []
        self.base_url: str | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.in_flight = 0
        self._local = threading.local()
        self.max_in_flight = 0  # most requests being answered at the same moment
        # Every request being answered: (connection, counted flag) by id, so that a client that gave
        # up on one (a "slow" fault, or any answer slower than its DOWNLOAD_TIMEOUT on a loaded
        # machine) is seen as gone before its next request is counted (see _prune_abandoned).
        self._held: dict[int, tuple] = {}

    def _fault_for(self, path: str) -> FaultRule | None:
        with self._lock:
            return next((rule for rule in self.faults if rule.applies(path)), None)

    def _log(self, path, status, user_agent, fault=None):
        with self._lock:
            self.requests.append(LoggedRequest(time.monotonic(), path, status, user_agent, fault))

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                server._handle(self)

            def log_message(self, *args):  # keep test and demo output clean
                pass

        self._server = _QuietServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        return self.base_url

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        counted = [True]  # this request's share of in_flight, released once
        self._local.counted = counted
        with self._lock:
            self._prune_abandoned()
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._held[id(handler)] = (handler.connection, counted)
        try:
            self._answer(handler)
        finally:
            self._release()
            with self._lock:
                self._held.pop(id(handler), None)

    def _release(self, counted: list | None = None) -> None:
        # A request stops being in flight as its answer starts to go out: the client may send its
        # next request the moment the last byte arrives, before this thread gets to run again.
        counted = counted or getattr(self._local, "counted", [False])
        with self._lock:
            if counted[0]:
                self.in_flight -= 1
                counted[0] = False

    def _prune_abandoned(self) -> None:
        """Release held requests whose client has hung up (called under the lock, as a request
        arrives). The client closed that connection before it sent the new request, and on loopback
        the close reaches this socket first, so this accounting does not depend on how soon the
        holding thread wakes up: a loaded machine cannot make it count a request twice."""
        import socket

        for key, (connection, counted) in list(self._held.items()):
            try:
                gone = connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone and counted[0]:
                self.in_flight -= 1
                counted[0] = False
            if gone:
                del self._held[key]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path, ua = handler.path, handler.headers.get("User-Agent", "")
        fault = self._fault_for(path)
        kind = fault.kind if fault else None
        if kind == "redirect-loop":
            # A misconfigured rewrite rule: the page sends the client to a twin URL that sends it back.
            self._release()
            twin = path[: -len("?via=loop")] if path.endswith("?via=loop") else path + ("&" if "?" in path else "?") + "via=loop"
            handler.send_response(302)
            handler.send_header("Location", twin)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            self._log(path, 302, ua, kind)
            return
        if kind == "drop":
            self._release()
            handler.close_connection = True
            self._log(path, 0, ua, kind)
            return
        if kind == "slow":
            answered = _wait_unless_client_leaves(handler, fault.delay)
            if not answered:
                # The client timed out and hung up: from its side the request is over.
                self._release()
                self._log(path, 0, ua, "timeout")
                return
        status, body, headers = self.site.respond(path)
        headers = dict(headers)
        if kind in ("403", "429", "500", "503"):
            status, body = int(kind), f"<html><body><h1>{kind}</h1></body></html>".encode()
            headers["Content-Type"] = "text/html; charset=utf-8"
            if fault.retry_after and kind in ("429", "503"):
                headers["Retry-After"] = self._retry_after_value(fault.retry_after)
        elif kind == "maintenance":
            body, headers["Content-Type"] = MAINTENANCE_PAGE, "text/html; charset=utf-8"
        elif kind in BLOCK_PAGES:
            status, body = BLOCK_PAGES[kind]
            headers["Content-Type"] = "text/html; charset=utf-8"
        elif kind == "rewrite":
            old, new = fault.rewrite
            body = body.replace(old.encode(), new.replace("{n}", str(fault.seen)).encode())
        elif kind == "undeclared-charset":
            # The page as a careless server sends it: no charset in the header or a <meta>, and a few
            # bytes that are not UTF-8 (a pasted cp1252 quote) in an otherwise UTF-8 page.
            headers["Content-Type"] = "text/html"
            body = re.sub(rb"""(?i)<meta[^>]*charset=[^>]*>""", b"", body)
            body = re.sub(rb"(?i)<head>", b"<head><!-- \x93quoted\x94 \x85 -->", body, count=1)
        elif kind == "truncate":
            body = body[: len(body) // 2]  # a backend that died mid-render: short but well-framed
        headers.setdefault("Date", format_datetime(self.site.now.astimezone(timezone.utc), usegmt=True))
        self._release()
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (download timeout)
            pass
        self._log(path, status, ua, kind)

    def _retry_after_value(self, spec: str) -> str:
        if spec.startswith("date:"):
            # An HTTP date on the server's own clock, the one its Date header shows (the site's frozen
            # "now"), as a client must read it: relative to that Date, not to its own clock.
            when = self.site.now.astimezone(timezone.utc) + timedelta(seconds=float(spec[5:]))
            return format_datetime(when.replace(microsecond=0), usegmt=True)
        return spec

    def ground_truth(self) -> list[str]:
        """Post ids a complete crawl must collect, as strings (the dataset's ``post_id``)."""
        return [str(i) for i in self.site.expected_post_ids]

    def write_ground_truth(self, path) -> int:
        ids = self.ground_truth()
        with open(path, "w", encoding="utf-8") as out:
            out.writelines(f"{i}\n" for i in ids)
        return len(ids)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ForumServer":
        if self.base_url is None or self._server is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
