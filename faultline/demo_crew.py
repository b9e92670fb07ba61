"""The demo's simulated field crew: each technician, signed in with their own token, takes
their jobs from booked to en route, on site and resolved (with a job report) at a steady
pace, over the same HTTP API the technician app uses."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

import httpx

log = logging.getLogger(__name__)

NEXT = {"assigned": "en_route", "en_route": "on_site", "on_site": "resolved"}


class SimulatedCrew:
    """`start()` a thread that moves every technician's open jobs one step per `pace_s`."""

    def __init__(
        self,
        *,
        base_url: str,
        tokens: Mapping[str, str],
        pace_s: float,
        on_resolved: Callable[[str], None] = lambda _device: None,
    ) -> None:
        self.base_url = base_url
        self.tokens = dict(tokens)
        self.pace_s = pace_s
        self.on_resolved = on_resolved
        self.moves = 0
        self._since: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-crew", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        clients = {
            technician_id: httpx.Client(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            for technician_id, token in self.tokens.items()
        }
        try:
            while not self._stop.wait(1.0):
                for technician_id, client in clients.items():
                    try:
                        self._step(technician_id, client)
                    except httpx.HTTPError as exc:  # the API restarting: try next second
                        log.warning("simulated technician %s: %s", technician_id, exc)
        finally:
            for client in clients.values():
                client.close()

    def _step(self, technician_id: str, client: httpx.Client) -> None:
        now = time.monotonic()
        response = client.get("/api/v1/tickets", params={"limit": 50})
        response.raise_for_status()
        for ticket in response.json()["items"]:
            status = ticket["status"]
            target = NEXT.get(status)
            if target is None:
                continue
            seen_status, since = self._since.get(ticket["id"], (status, now))
            if seen_status != status:
                since = now  # someone else (a person in the app) moved it: start over
            self._since[ticket["id"]] = (status, since)
            if now - since < self.pace_s:
                continue
            if target == "resolved":
                self._report(client, ticket)
            moved = client.post(f"/api/v1/tickets/{ticket['id']}/events", json={"status": target})
            if moved.status_code == 200:
                self.moves += 1
                self._since[ticket["id"]] = (target, now)
                log.info("%s: ticket #%s %s", technician_id, ticket["id"], target)
                if target == "resolved":
                    self.on_resolved(ticket["device_id"])

    def _report(self, client: httpx.Client, ticket: dict[str, object]) -> None:
        order = ticket.get("work_order") or {}
        content = order.get("content", {}) if isinstance(order, dict) else {}
        steps = len(content.get("checklist") or [])
        client.put(
            f"/api/v1/tickets/{ticket['id']}/report",
            json={
                "checklist_done": list(range(steps)),
                "parts_used": list(content.get("parts") or [])[:1],
                "note": "Simulated visit: fault confirmed, part replaced, readings back to normal.",
            },
        )
