"""Request bodies: the token is checked before a byte of the body is read, and a body over
the limit is refused (413) from its Content-Length, or while it streams when chunked."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from faultline.service import Service
from faultline.settings import Settings
from tests.api.conftest import MAX_BODY_BYTES, TOKEN, LiveApi, serving

DECLARED = 50 * 1024 * 1024


def _exchange(api: LiveApi, head: str, body: bytes = b"") -> tuple[int, dict[str, object]]:
    """Send a request head (and maybe part of a body) on a raw socket; read one response.

    The socket times out after 10 s: a server that waits for the rest of the body fails here.
    """
    with socket.create_connection((api.host, api.port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed before a response: {data!r}"
            data += chunk
        header_block, _, rest = data.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed in the middle of the response"
            rest += chunk
    return status, json.loads(rest[:length]) if length else {}


def _head(method: str, path: str, *, token: str | None, framing: str) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: test", "Content-Type: application/json", framing]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return "\r\n".join(lines) + "\r\n\r\n"


def test_a_missing_or_wrong_token_is_401_before_the_body_is_sent(live_api: LiveApi) -> None:
    # Declares a 50 MB body but sends none of it: only a server that never reads it answers.
    for token in (None, "wrong"):
        for framing in (f"Content-Length: {MAX_BODY_BYTES // 2}", "Transfer-Encoding: chunked"):
            head = _head("POST", "/api/v1/devices", token=token, framing=framing)
            status, body = _exchange(live_api, head)
            assert status == 401, (token, framing, body)
            assert "bearer token" in str(body["detail"])


def test_a_declared_body_over_the_limit_is_413_before_it_is_sent(live_api: LiveApi) -> None:
    for token in (TOKEN, None):
        head = _head("POST", "/api/v1/devices", token=token, framing=f"Content-Length: {DECLARED}")
        status, body = _exchange(live_api, head)
        assert status in ((413,) if token else (401, 413)), (token, status, body)
        if status == 413:
            assert str(MAX_BODY_BYTES) in str(body["detail"])


def test_a_chunked_body_is_cut_off_at_the_limit(live_api: LiveApi) -> None:
    chunk = b"x" * 8192
    sent = b"".join(
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY_BYTES // 8192 + 2)
    )
    # No terminating chunk: the server must stop reading and answer once past the limit.
    head = _head("POST", "/api/v1/devices", token=TOKEN, framing="Transfer-Encoding: chunked")
    status, body = _exchange(live_api, head, sent)
    assert status == 413, body
    assert str(MAX_BODY_BYTES) in str(body["detail"])


def test_a_body_under_the_limit_is_read_and_one_over_it_refused(client: httpx.Client) -> None:
    def customer(notes: int) -> dict[str, object]:
        return {"name": "Li Na", "access_notes": "n" * notes}

    fits = client.put("/api/v1/customers/c-17", json=customer(MAX_BODY_BYTES - 200))
    assert fits.status_code == 200, fits.text[:200]
    assert len(fits.json()["access_notes"]) == MAX_BODY_BYTES - 200
    over = client.put("/api/v1/customers/c-17", json=customer(MAX_BODY_BYTES))
    assert over.status_code == 413, over.text[:200]
    assert "FAULTLINE_HTTP_MAX_BODY_BYTES" in over.json()["detail"]
    assert client.get("/api/v1/customers/c-17").json()["access_notes"] == "n" * (
        MAX_BODY_BYTES - 200
    )


def test_the_service_takes_its_body_limit_from_faultline_http_max_body_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULTLINE_HTTP_MAX_BODY_BYTES", "2048")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'faultline.db'}",
        telemetry_path=str(tmp_path / "telemetry.db"),
        admin_token=TOKEN,
    )
    service = Service(settings)  # built, never started: no broker needed
    try:
        with serving(service.app) as port:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            url = f"http://127.0.0.1:{port}/api/v1/customers/c-1"
            over = httpx.put(url, json={"name": "x" * 2048}, headers=headers)
            assert over.status_code == 413 and "2048" in over.json()["detail"]
            fits = httpx.put(url, json={"name": "x" * 1900}, headers=headers)
            assert fits.status_code == 200, fits.text
    finally:
        service.telemetry.close()
        service.db.dispose()
