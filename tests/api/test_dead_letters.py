"""Dead letters over HTTP: the list shows what was rejected without loading payloads; one
letter's detail shows the stored first bytes of its payload, its full size and its hash."""

from __future__ import annotations

import base64
import hashlib

import httpx
from sqlalchemy import Engine, event

from domain.wire import DeadLetter, RejectReason
from storage import dead_letters
from storage.dead_letters import PREFIX_BYTES
from tests.api.conftest import LiveApi

NOW = 1_764_000_000.0


def _add(api: LiveApi, payloads: list[bytes]) -> None:
    with api.sessions.begin() as session:
        dead_letters.add_many(
            session=session,
            letters=[
                DeadLetter(
                    topic="devices/fridge-0001/telemetry",
                    payload=payload,
                    reason=RejectReason.OVERSIZE,
                    detail=f"letter {n}",
                    received_at=NOW + n,
                    device_id="fridge-0001",
                )
                for n, payload in enumerate(payloads)
            ],
        )


def test_a_thousand_letters_are_listed_without_reading_a_payload(
    client: httpx.Client, live_api: LiveApi, engine: Engine
) -> None:
    _add(live_api, [b"x" * 40_000] * 1_000)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        listed = client.get("/api/v1/dead-letters", params={"limit": 1000})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert listed.status_code == 200, listed.text[:300]
    items = listed.json()["items"]
    assert len(items) == 1_000 and listed.json()["next"] is None
    assert set(items[0]) == {
        "id", "received_at", "topic", "device_id", "reason", "detail",
        "payload_bytes", "payload_sha256",
    }  # fmt: skip
    assert items[0]["payload_bytes"] == 40_000
    reads = [s for s in statements if "FROM dead_letters" in s]
    assert reads and not any("payload_prefix" in s for s in reads), reads


def test_one_letter_shows_its_stored_prefix_size_and_hash(
    client: httpx.Client, live_api: LiveApi
) -> None:
    big = b'{"ts": 1764000000, "seq": ' + b"9" * 30_000 + b"}"
    _add(live_api, [b"\x00\xffnot json", big])
    items = client.get("/api/v1/dead-letters").json()["items"]
    by_detail = {item["detail"]: item["id"] for item in items}

    whole = client.get(f"/api/v1/dead-letters/{by_detail['letter 0']}").json()
    assert base64.b64decode(whole["payload_prefix_b64"]) == b"\x00\xffnot json"
    assert whole["payload_bytes"] == 10 and whole["payload_truncated"] is False

    cut = client.get(f"/api/v1/dead-letters/{by_detail['letter 1']}").json()
    assert base64.b64decode(cut["payload_prefix_b64"]) == big[:PREFIX_BYTES]
    assert cut["payload_bytes"] == len(big) and cut["payload_truncated"] is True
    assert cut["payload_sha256"] == hashlib.sha256(big).hexdigest()
    assert cut["topic"] == "devices/fridge-0001/telemetry" and cut["reason"] == "oversize"

    missing = client.get("/api/v1/dead-letters/999999")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    assert client.get(f"/api/v1/dead-letters/{2**63}").status_code == 422
