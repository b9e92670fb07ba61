"""Device partitions on NATS JetStream: one stream holds what every device sends, one
durable pull consumer per partition reads it in order.

nats-server's subject mapping (deploy/nats-server.conf) rewrites a device's MQTT topic
`{prefix}/{id}/{channel}` (subject `{prefix}.{id}.{channel}`) to
`part.{p}.{prefix}.{id}.{channel}`, `p` a hash of the device id alone: a device's
telemetry, events and status share one partition, in the order they arrived. The stream
is a log (kept for `retention_s`, not deleted on acknowledgement), so whoever takes a
partition over can read it again from the position of that partition's checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.client import JetStreamContext

from domain.wire import Channel
from ingest.messages import RawMessage
from ingest.nats_link import NatsLink, NatsLinkError

log = logging.getLogger(__name__)

PARTITION_ROOT = "part"
UPLINK_CHANNELS = (Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS)
DEFAULT_STREAM = "FAULTLINE"


def consumer_name(partition: int) -> str:
    return f"part-{partition:02d}"


def subject_topic(subject: str) -> str:
    """`part.7.devices.fridge-0001.telemetry` → `devices/fridge-0001/telemetry`.

    The MQTT gateway turns a `.` inside a topic level into `//`; that is turned back."""
    rest = subject.split(".", 2)[2]
    return rest.replace("//", "\x00").replace(".", "/").replace("\x00", ".")


def stream_config(stream: str, prefix: str, retention_s: float) -> StreamConfig:
    """The one stream of every partition: a log kept `retention_s`, oldest dropped first."""
    return StreamConfig(
        name=stream,
        subjects=[f"{PARTITION_ROOT}.*.{prefix}.>"],
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        storage=StorageType.FILE,
        max_age=retention_s,
    )


@dataclass
class _Reader:
    subscription: JetStreamContext.PullSubscription
    last: Msg | None = None  # the newest message handed out, acknowledged by `ack`


class PartitionLog:
    """The stream and its per-partition consumers, over one `NatsLink`.

    `open(p, after=seq)` (re)creates partition p's consumer to start after stream
    sequence `seq` (0: from the oldest kept); `fetch` takes what is waiting in the open
    partitions; `ack(p)` acknowledges everything handed out of p so far (AckAll).
    Positions are stream sequences, carried in `RawMessage.mid`.
    """

    def __init__(
        self,
        link: NatsLink,
        *,
        prefix: str,
        partitions: int,
        stream: str = DEFAULT_STREAM,
        retention_s: float = 7 * 86_400.0,
        max_ack_pending: int = 20_000,
    ) -> None:
        self.link = link
        self.prefix = prefix
        self.partitions = partitions
        self.stream = stream
        self.retention_s = retention_s
        self.max_ack_pending = max_ack_pending
        self._readers: dict[int, _Reader] = {}

    def ensure_stream(self) -> None:
        """Create the stream if it is missing (every worker may; the first one wins)."""
        config = stream_config(self.stream, self.prefix, self.retention_s)

        async def ensure(client: Client) -> None:
            js = client.jetstream()
            try:
                await js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)

        self.link.call(ensure)

    def first_sequence(self) -> int:
        """The oldest stream sequence still kept (what `retention_s` has not dropped)."""

        async def first(client: Client) -> int:
            info = await client.jetstream().stream_info(self.stream)
            return int(info.state.first_seq)

        return self.link.call(first)

    def open(self, partition: int, *, after: int) -> None:
        """Read partition `partition` from the message after stream sequence `after`.

        The durable consumer is replaced, not resumed: where to start is the checkpoint's
        business, and a worker that lost the partition can no longer read it."""
        name = consumer_name(partition)
        config = ConsumerConfig(
            durable_name=name,
            filter_subject=f"{PARTITION_ROOT}.{partition}.{self.prefix}.>",
            ack_policy=AckPolicy.ALL,
            # Only the owner reads a partition, and a new owner starts from its checkpoint:
            # redelivery to the same worker would only repeat what it is still working on.
            ack_wait=3600.0,
            max_ack_pending=self.max_ack_pending,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if after > 0 else DeliverPolicy.ALL,
            opt_start_seq=after + 1 if after > 0 else None,
        )

        async def reopen(client: Client) -> JetStreamContext.PullSubscription:
            js = client.jetstream()
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(self.stream, name)
            await js.add_consumer(self.stream, config)
            return await js.pull_subscribe_bind(name, self.stream)

        self.close(partition)
        self._readers[partition] = _Reader(self.link.call(reopen))

    def close(self, partition: int) -> None:
        """Stop reading `partition` here (its consumer stays for the next owner to replace)."""
        reader = self._readers.pop(partition, None)
        if reader is None:
            return

        async def unsubscribe(_client: Client) -> None:
            await reader.subscription.unsubscribe()

        try:
            self.link.call(unsubscribe, timeout_s=5)
        except NatsLinkError as exc:  # the connection is gone: nothing left to unsubscribe
            log.info("partition %d: unsubscribing failed (%s)", partition, exc)

    def fetch(self, max_messages: int, timeout_s: float) -> dict[int, list[RawMessage]]:
        """What waits in each open partition (up to `max_messages` each), in log order;
        waits up to `timeout_s` when nothing does."""
        readers = dict(self._readers)

        async def one(reader: _Reader) -> list[Msg]:
            try:
                return await reader.subscription.fetch(max_messages, timeout=timeout_s)
            except (TimeoutError, nats.errors.TimeoutError):
                return []

        async def every(_client: Client) -> list[list[Msg]]:
            return await asyncio.gather(*(one(reader) for reader in readers.values()))

        results = self.link.call(every, timeout_s=timeout_s + 30)
        now = time.time()
        out: dict[int, list[RawMessage]] = {}
        for (partition, reader), msgs in zip(readers.items(), results, strict=True):
            if not msgs:
                continue
            reader.last = msgs[-1]
            out[partition] = [
                RawMessage(subject_topic(m.subject), m.data, now, m.metadata.sequence.stream, 1)
                for m in msgs
            ]
        return out

    def ack(self, partition: int) -> None:
        """Acknowledge every message of `partition` handed out so far."""
        reader = self._readers.get(partition)
        if reader is None or reader.last is None:
            return
        last = reader.last

        async def ack(_client: Client) -> None:
            await last.ack()

        self.link.call(ack)
