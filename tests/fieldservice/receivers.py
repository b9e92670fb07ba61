"""Real notification receivers for tests: an SMTP server (aiosmtpd) and an HTTP webhook
endpoint that checks the HMAC signature. Both record what arrived and dedupe by key,
as a careful real receiver would."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from faultline.sockets import free_port
from fieldservice.notifications.webhook import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)


@dataclass(frozen=True)
class Mail:
    message_id: str
    key: str
    to: str
    subject: str
    text: str
    html: str | None
    received_at: float


class _Handler:
    def __init__(self, inbox: SmtpReceiver) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        text_part = parsed.get_body(("plain",))
        html_part = parsed.get_body(("html",))
        mail = Mail(
            message_id=str(parsed["Message-ID"]),
            key=str(parsed["X-Faultline-Idempotency-Key"]),
            to=str(parsed["To"]),
            subject=str(parsed["Subject"]),
            text=text_part.get_content() if text_part is not None else "",
            html=html_part.get_content() if html_part is not None else None,
            received_at=time.time(),
        )
        # Accepted (queued) first, acknowledged after the delay: a client killed meanwhile
        # never hears the 250 and will send the same message again.
        self.inbox.record(mail)
        if self.inbox.delay_s:
            await asyncio.sleep(self.inbox.delay_s)
        return "250 Message accepted for delivery"


class SmtpReceiver:
    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.port = free_port()
        self.received: list[Mail] = []
        self._lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def record(self, mail: Mail) -> None:
        with self._lock:
            self.received.append(mail)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def unique(self) -> dict[str, Mail]:
        """What an inbox shows: one message per Message-ID (the first copy)."""
        with self._lock:
            seen: dict[str, Mail] = {}
            for mail in self.received:
                seen.setdefault(mail.message_id, mail)
            return seen

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.unique().values() if m.to == address]


@dataclass(frozen=True)
class Hook:
    key: str
    body: dict[str, Any]
    signature_ok: bool


class WebhookReceiver:
    """`POST /hook`: 401 on a bad signature, 200 otherwise; repeats of a key are kept once."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[Hook] = []
        self.rejected = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify_signature(
                    receiver.secret,
                    timestamp=self.headers.get(TIMESTAMP_HEADER, ""),
                    body=raw,
                    signature=self.headers.get(SIGNATURE_HEADER, ""),
                )
                if not ok:
                    with receiver._lock:
                        receiver.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                hook = Hook(self.headers.get(KEY_HEADER, ""), json.loads(raw), ok)
                with receiver._lock:
                    receiver.received.append(hook)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def unique(self) -> dict[str, Hook]:
        with self._lock:
            seen: dict[str, Hook] = {}
            for hook in self.received:
                seen.setdefault(hook.key, hook)
            return seen

    def kinds(self, predicate: Callable[[Hook], bool] = lambda _h: True) -> list[str]:
        return [h.body["kind"] for h in self.unique().values() if predicate(h)]


def running(receiver: SmtpReceiver | WebhookReceiver) -> Iterator[Any]:
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
