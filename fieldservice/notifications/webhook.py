"""Webhooks: a JSON POST signed with HMAC-SHA256, carrying an Idempotency-Key.

Headers: `Idempotency-Key` (the same on every retry: drop repeats), `X-Faultline-Timestamp`
(Unix seconds) and `X-Faultline-Signature: sha256=<hex>` over `"{timestamp}.{body}"` with the
shared secret. Receivers check it with `verify_signature`. 2xx is delivered; 408, 429, 5xx
and network errors are retried; other 4xx are permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx

from fieldservice.errors import DeliveryError
from fieldservice.notifications.delivery import Envelope

SIGNATURE_HEADER = "X-Faultline-Signature"
TIMESTAMP_HEADER = "X-Faultline-Timestamp"
KEY_HEADER = "Idempotency-Key"
RETRYABLE_STATUSES = frozenset({408, 425, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance_s: float = 300.0,
) -> bool:
    """Whether `signature` is ours for this body and the timestamp is recent (anti-replay)."""
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(envelope: Envelope) -> bytes:
    return json.dumps(
        {
            "idempotency_key": envelope.key,
            "kind": envelope.kind,
            "audience": envelope.audience,
            "ticket_id": envelope.ticket_id,
            "customer_id": envelope.customer_id,
            "technician_id": envelope.technician_id,
            "language": envelope.language,
            "subject": envelope.subject,
            "body": envelope.body,
            "data": dict(envelope.payload),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


class WebhookChannel:
    def __init__(
        self,
        *,
        secret: str,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("a webhook channel needs a signing secret (FAULTLINE_WEBHOOK_SECRET)")
        self.secret = secret
        self.client = client or httpx.Client(timeout=timeout_s)
        self.clock = clock

    def send(self, envelope: Envelope) -> None:
        body = body_of(envelope)
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            KEY_HEADER: envelope.key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            "User-Agent": "faultline-notifier",
        }
        try:
            response = self.client.post(envelope.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"POST {envelope.recipient}: {exc!r}", retryable=True) from exc
        if response.is_success:
            return
        retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES
        raise DeliveryError(
            f"POST {envelope.recipient} answered {response.status_code}: {response.text[:200]}",
            retryable=retryable,
        )

    def close(self) -> None:
        self.client.close()
