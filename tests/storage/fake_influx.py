"""A stand-in for InfluxDB 2.x's HTTP API, answering what InfluxDB's documentation says it
answers (status codes, JSON error bodies, annotated CSV), for the cases a real server
cannot be made to produce here: a wrong token, a missing org or bucket, 429 and 503,
a refused batch, and query results. InfluxDB 2.x itself is not packaged for Debian; the
write path is tested against a real VictoriaMetrics, and against a real InfluxDB when
FAULTLINE_TEST_INFLUX_URL is set.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, status: int, code: str, message: str, **headers: str) -> Answer:
        """InfluxDB's JSON error body: `{"code": "...", "message": "..."}`."""
        return cls(status, json.dumps({"code": code, "message": message}).encode(), headers=headers)

    @classmethod
    def csv(cls, text: str) -> Answer:
        return cls(200, text.encode(), content_type="text/csv; charset=utf-8")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes  # decompressed if it came gzipped


class FakeInflux:
    """Answers each path from a queue of `Answer`s (the last one repeats); records requests."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {
            "/ping": [Answer(204)],
            "/api/v2/write": [Answer(204)],
            "/api/v2/buckets": [
                Answer(200, json.dumps({"buckets": [{"name": "telemetry"}]}).encode())
            ],
        }
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, path: str, *answers: Answer) -> None:
        self.answers[path] = list(answers)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> FakeInflux:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if handler.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.requests.append(
            Request(handler.command, url.path, parse_qs(url.query), dict(handler.headers), body)
        )
        queue = self.answers.get(url.path) or [Answer.error(404, "not found", "path not found")]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(answer.body)


def lines_written(fake: FakeInflux) -> Iterator[str]:
    for request in fake.requests_to("/api/v2/write"):
        yield from request.body.decode().splitlines()
