"""Credentials for tests: the desk issues a person a token, and a client acts as them."""

from __future__ import annotations

import httpx


def issue_token(client: httpx.Client, role: str, subject: str, **fields: object) -> str:
    """An API token for `subject` as `role`, issued by the operator `client`."""
    response = client.post("/api/v1/tokens", json={"role": role, "subject": subject, **fields})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def acting_as(client: httpx.Client, token: str) -> httpx.Client:
    """A client to the same server that presents `token` instead."""
    return httpx.Client(
        base_url=client.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
