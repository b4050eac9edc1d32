"""A local HTTP server on 127.0.0.1 that serves the shared feed files the ways sources do.

Runs in a thread (http.server), HTTP/1.1. Paths:
- /files/REL: the file ../shared/feeds/REL with an ETag and Last-Modified; 304 on a match
- /flaky/N/REL: 503 (Retry-After given by ?after=) for the first N requests, then the file
- /drop/N/REL: closes the connection without answering for the first N requests
- /cut/N/REL: announces the whole length but sends half and closes, the first N times
- /gzip/REL: the file gzip-encoded (Content-Encoding: gzip)
- /zeros/N: N zero bytes gzip-encoded (a compression bomb), no Content-Length
- /stream/N: N bytes chunked, no Content-Length
- /declared/N: announces N bytes in Content-Length, sends 10
- /slow/S: waits S seconds before answering
- /status/CODE: answers CODE
- POST /echo: answers the JSON {"content_type", "body"} of what it got; /post/REL: the file
Every request is recorded in `requests` (method, path, headers).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up on purpose (the time-out and size-cap tests) is not an error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FeedServer:
    def __init__(self, root: Path):
        self.root = root
        self.requests: list[tuple[str, str, dict]] = []
        self.counts: Counter = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server._handle(self, "GET")

            def do_POST(self):
                server._handle(self, "POST")

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits(self, path: str) -> int:
        return sum(1 for _m, p, _h in self.requests if urlsplit(p).path == path)

    # --- handling -------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        with self._lock:
            self.requests.append((method, h.path, dict(h.headers)))
            self.counts[parts.path] += 1
            seen = self.counts[parts.path]
        body = b""
        if method == "POST":
            body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        segments = parts.path.strip("/").split("/")
        kind, rest = segments[0], segments[1:]
        if kind == "files":
            return self._file(h, "/".join(rest))
        if kind in ("flaky", "drop", "cut"):
            failures, rel = int(rest[0]), "/".join(rest[1:])
            if seen > failures:
                return self._file(h, rel)
            if kind == "flaky":
                after = query.get("after", ["0"])[0]
                return self._send(h, 503, b"busy", {"Retry-After": after})
            if kind == "drop":
                h.close_connection = True
                h.connection.shutdown(2)
                return None
            data = (self.root / rel).read_bytes()
            h.send_response(200)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return None
        if kind == "gzip":
            data = gzip.compress((self.root / "/".join(rest)).read_bytes())
            return self._send(h, 200, data, {"Content-Encoding": "gzip"})
        if kind == "zeros":
            return self._chunked(
                h, gzip.compress(b"\0" * int(rest[0])), {"Content-Encoding": "gzip"}
            )
        if kind == "stream":
            return self._chunked(h, b"<x>" + b"a" * int(rest[0]) + b"</x>", {})
        if kind == "declared":
            h.send_response(200)
            h.send_header("Content-Length", rest[0])
            h.end_headers()
            h.wfile.write(b"0123456789")
            h.close_connection = True
            return None
        if kind == "slow":
            time.sleep(float(rest[0]))
            return self._send(h, 200, b"late")
        if kind == "status":
            return self._send(h, int(rest[0]), b"status")
        if kind == "echo":
            payload = {"content_type": h.headers.get("Content-Type"), "body": body.decode()}
            return self._send(h, 200, json.dumps(payload).encode())
        if kind == "post":
            return self._file(h, "/".join(rest))
        return self._send(h, 404, b"no such path")

    def _file(self, h: BaseHTTPRequestHandler, rel: str) -> None:
        path = self.root / rel
        if not path.is_file():
            return self._send(h, 404, b"no such file")
        data = path.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if h.headers.get("If-None-Match") == etag or (
            h.headers.get("If-None-Match") is None
            and h.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return self._send(h, 304, b"", headers)
        return self._send(h, 200, data, headers)

    def _send(self, h, status: int, data: bytes, headers: dict | None = None) -> None:
        h.send_response(status)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        if status != 304:
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if status != 304:
            h.wfile.write(data)

    def _chunked(self, h, data: bytes, headers: dict) -> None:
        h.send_response(200)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for i in range(0, len(data), 64 * 1024):
                piece = data[i : i + 64 * 1024]
                h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            h.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its cap
        h.close_connection = True
