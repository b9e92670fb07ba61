"""Who owns which partition: leases in a JetStream key-value bucket whose entries expire.

nats-server 2.9 has no exclusive consumer, so ownership is a lease: `partition.07` holds
the owner's id, created only if absent (compare-and-set on the key's revision), renewed
by its owner with the revision it last wrote, and gone `ttl_s` after the last renewal
(the bucket's max age) when the owner dies. A renewal that fails means someone else has
taken the partition: the old owner must stop reading it at once. Each worker also keeps
`worker.{id}` alive, so every worker knows how many share the partitions.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats.js.errors
from nats.aio.client import Client
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue

from ingest.nats_link import NatsLink

T = TypeVar("T")

DEFAULT_BUCKET = "faultline_partitions"
_UNSAFE = re.compile(r"[^-_=a-zA-Z0-9]")


def lease_key(partition: int) -> str:
    return f"partition.{partition:02d}"


class PartitionLeases:
    """Leases of one worker (`worker_id`) over a bucket shared by all of them."""

    def __init__(
        self, link: NatsLink, *, worker_id: str, ttl_s: float, bucket: str = DEFAULT_BUCKET
    ) -> None:
        self.link = link
        self.worker_id = _UNSAFE.sub("_", worker_id)
        self.ttl_s = ttl_s
        self.bucket = bucket
        self._revisions: dict[int, int] = {}  # partition -> revision of our lease
        self._member_revision: int | None = None
        self._bucket: KeyValue | None = None

    def open(self) -> None:
        """Create the bucket if missing (its max age is the lease time)."""

        async def ensure(client: Client) -> KeyValue:
            js = client.jetstream()
            try:
                return await js.key_value(self.bucket)
            except nats.js.errors.BucketNotFoundError:
                return await js.create_key_value(
                    KeyValueConfig(
                        bucket=self.bucket, ttl=self.ttl_s, history=1, storage=StorageType.FILE
                    )
                )

        self._bucket = self.link.call(ensure)

    @property
    def held(self) -> set[int]:
        return set(self._revisions)

    def heartbeat(self) -> None:
        """Say this worker is alive (one key per worker, expiring like a lease)."""
        key = f"worker.{self.worker_id}"
        value = self.worker_id.encode()

        async def beat(kv: KeyValue) -> int:
            return await kv.put(key, value)

        self._member_revision = self._kv(beat)

    def members(self) -> list[str]:
        """The workers alive now (their heartbeat younger than the lease time), sorted."""

        async def keys(kv: KeyValue) -> list[str]:
            try:
                return await kv.keys()
            except nats.js.errors.NoKeysError:
                return []

        # Every key, filtered here: nats-server 2.9 cannot filter keys (2.10 can).
        return sorted(k.split(".", 1)[1] for k in self._kv(keys) if k.startswith("worker."))

    def holders(self, partitions: int) -> dict[int, str]:
        """partition -> the worker holding its lease, for the partitions that are held."""

        async def every(kv: KeyValue) -> dict[int, str]:
            found = {}
            for partition in range(partitions):
                try:
                    entry = await kv.get(lease_key(partition))
                except nats.js.errors.KeyNotFoundError:
                    continue
                if entry.value:
                    found[partition] = entry.value.decode()
            return found

        return self._kv(every)

    def claim(self, partition: int) -> bool:
        """Take `partition` if nobody holds it; True when it is now ours."""

        async def create(kv: KeyValue) -> int | None:
            try:
                return await kv.create(lease_key(partition), self.worker_id.encode())
            except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyNotFoundError):
                # KeyNotFound: held when asked, expired by the time the client looked why.
                return None

        revision = self._kv(create)
        if revision is None:
            return False
        self._revisions[partition] = revision
        return True

    def renew(self, partition: int) -> bool:
        """Extend our lease; False (and forgotten) when it is no longer ours."""
        last = self._revisions.get(partition)
        if last is None:
            return False

        async def update(kv: KeyValue) -> int | None:
            try:
                return await kv.update(lease_key(partition), self.worker_id.encode(), last=last)
            except nats.js.errors.KeyWrongLastSequenceError:
                return None

        revision = self._kv(update)
        if revision is None:
            del self._revisions[partition]
            return False
        self._revisions[partition] = revision
        return True

    def release(self, partition: int) -> None:
        """Give `partition` up (only if the lease is still ours)."""
        last = self._revisions.pop(partition, None)
        if last is None:
            return

        async def delete(kv: KeyValue) -> None:
            # KeyWrongLastSequence: it had already expired and been taken.
            with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
                await kv.delete(lease_key(partition), last=last)

        self._kv(delete)

    def leave(self) -> None:
        """Release every lease and the heartbeat: a clean stop hands over at once."""
        for partition in sorted(self._revisions):
            self.release(partition)

        async def delete(kv: KeyValue) -> None:
            await kv.delete(f"worker.{self.worker_id}")

        self._kv(delete)

    def _kv(self, fn: Callable[[KeyValue], Awaitable[T]]) -> T:
        kv = self._bucket
        if kv is None:
            raise RuntimeError("PartitionLeases.open() first")

        async def run(_client: Client) -> T:
            return await fn(kv)

        return self.link.call(run)
