"""One NATS connection on an event loop of its own, callable from plain threads.

nats-py is asyncio; ingest's workers are threads that block on their store. The link runs
the client's loop in a daemon thread and hands each call over with
`run_coroutine_threadsafe`, so a worker blocks on `call()` like on any other I/O. The
client reconnects by itself; errors come out as `NatsLinkError` with what failed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
from nats.aio.client import Client

log = logging.getLogger(__name__)

T = TypeVar("T")


class NatsLinkError(RuntimeError):
    """The NATS server could not be reached, or refused what was asked."""


class NatsLink:
    """`start()` connects (raising `NatsLinkError` if the server is not there in time);
    `call(fn)` runs `fn(client)` on the link's loop and returns its result."""

    def __init__(self, url: str, *, name: str, connect_timeout_s: float = 5.0) -> None:
        self.url = url
        self.name = name
        self.connect_timeout_s = connect_timeout_s
        self.connected = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats", daemon=True)
        self._client: Client | None = None
        self._last_error: str | None = None

    def start(self) -> None:
        """Connect, trying for `connect_timeout_s`; raises `NatsLinkError` with the reason."""
        self._thread.start()
        try:
            self._client = self._submit(self._connect(), self.connect_timeout_s + 5)
        except Exception as exc:
            self._stop_loop()
            why = self._last_error or f"{type(exc).__name__} {exc}".strip()
            raise NatsLinkError(f"cannot connect to NATS at {self.url}: {why}") from exc
        self.connected = True

    def call(self, fn: Callable[[Client], Awaitable[T]], timeout_s: float = 30.0) -> T:
        """Run `fn(client)` on the link's loop and wait for it; NATS errors are re-raised
        as `NatsLinkError` (what the caller can act on), anything else as it is."""
        if self._client is None:
            raise NatsLinkError("the NATS link is not started")
        client = self._client
        try:
            return self._submit(fn(client), timeout_s)
        except (nats.errors.Error, TimeoutError) as exc:
            raise NatsLinkError(f"NATS at {self.url}: {type(exc).__name__}: {exc}") from exc

    def stop(self) -> None:
        if self._client is not None:
            client = self._client
            self._client = None
            try:
                self._submit(client.close(), 10)
            except Exception as exc:  # closing a link to a server that is gone
                log.warning("closing the NATS connection: %s", exc)
        self.connected = False
        self._stop_loop()

    def _stop_loop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _submit(self, coro: Awaitable[T], timeout_s: float) -> T:
        future = asyncio.run_coroutine_threadsafe(_awaited(coro), self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    async def _connect(self) -> Client:
        async def disconnected() -> None:
            self.connected = False
            if self._client is not None:  # not while closing
                log.warning("lost NATS at %s; reconnecting", self.url)

        async def reconnected() -> None:
            self.connected = True
            log.info("reconnected to NATS at %s", self.url)

        async def error(exc: Exception) -> None:
            self._last_error = str(exc) or type(exc).__name__
            if self._client is not None:  # while starting, `start` reports the last one
                log.warning("NATS at %s: %s", self.url, exc)

        # Reconnecting for ever once connected; the first connection is given a deadline.
        return await asyncio.wait_for(
            nats.connect(
                self.url,
                name=self.name,
                connect_timeout=max(int(self.connect_timeout_s), 1),
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            ),
            self.connect_timeout_s,
        )


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
