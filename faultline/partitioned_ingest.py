"""Ingest of a partitioned worker: takes its share of the device partitions, reads them
from JetStream and runs each through its own `PartitionRunner`, on one thread.

Between rounds of fetching it renews its leases, drops a partition whose lease it lost
(without saving: the new owner's checkpoint wins), gives up partitions above its fair
share (checkpoint first, then the lease) and takes free ones (`partition_balance.plan`).
A worker that joins or dies therefore moves partitions within a lease time or two.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from faultline.partition_balance import plan
from faultline.partition_runner import PartitionParts, PartitionRunner
from ingest.nats_link import NatsLink, NatsLinkError
from ingest.partition_leases import PartitionLeases

log = logging.getLogger(__name__)


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class PartitionedIngest:
    """Duck-types what `Service` needs of its subscriber and worker (start, pause, stop,
    alive, wait_connected), so the service runs unchanged around it."""

    def __init__(
        self,
        *,
        link: NatsLink,
        leases: PartitionLeases,
        parts: PartitionParts,
        partitions: int,
        fetch_timeout_s: float = 0.2,
    ) -> None:
        self.link = link
        self.leases = leases
        self.parts = parts
        self.partitions = partitions
        self.fetch_timeout_s = fetch_timeout_s
        self.runners: dict[int, PartitionRunner] = {}
        self.rebalances = 0
        self.lost = 0
        self._stop = threading.Event()
        self._started = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="partitions", daemon=True)
        self._next_balance = 0.0
        self._next_renew = 0.0
        self._failures = 0

    # -- what Service calls -------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.link.start()
        self.parts.log.ensure_stream()
        self.leases.open()
        self.parts.stats.connected = True
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.link.connected:
            time.sleep(0.02)
        return self.link.connected

    def pause(self) -> None:
        """Finish the batch in hand, then stop fetching."""
        self._stop.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Checkpoint and hand back every partition, then disconnect."""
        if self._stopped or not self._started:
            return
        self._stopped = True
        self._stop.set()
        self._thread.join(timeout)
        try:
            for partition in sorted(self.runners):
                self.runners.pop(partition).close(save=self.leases.renew(partition))
            self.leases.leave()
        except NatsLinkError as exc:
            log.warning("stopping without handing partitions back (%s); they expire", exc)
        self.link.stop()
        self.parts.stats.connected = False

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def owned(self) -> list[int]:
        return sorted(self.runners)

    def runner_list(self) -> list[PartitionRunner]:
        """The partitions owned now (safe from other threads: a copy)."""
        return list(self.runners.values())

    # -- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._balance_when_due()
                if not self.runners:
                    self._stop.wait(self.fetch_timeout_s)
                    continue
                batches = self.parts.log.fetch(self.parts.batch_size, self.fetch_timeout_s)
                for partition, raws in batches.items():
                    runner = self.runners.get(partition)
                    if runner is not None and not self._stop.is_set():
                        runner.handle(raws)
                        # Renew between partitions, not only between rounds: a round over
                        # many full partitions can outlast a lease.
                        self._renew_when_due()
                self._failures = 0
                self.parts.stats.connected = self.link.connected
            except NatsLinkError as exc:
                self._failures += 1
                self.parts.stats.connected = False
                self.parts.stats.last_connect_error = str(exc)
                log.warning("partitioned ingest: %s; retrying", exc)
                self._stop.wait(min(0.5 * self._failures, 5.0))
            except Exception:  # e.g. the database away while a checkpoint is restored
                self._failures += 1
                self.parts.stats.add(sink_failures=1)
                log.exception("partitioned ingest: a round failed; retrying")
                self._stop.wait(min(0.5 * self._failures, 5.0))

    def _balance_when_due(self) -> None:
        if time.monotonic() >= self._next_balance:
            self._balance()
            self._next_balance = self._next_renew = time.monotonic() + self.leases.ttl_s / 4

    def _renew_when_due(self) -> None:
        if time.monotonic() >= self._next_renew:
            self._renew()
            self._next_renew = time.monotonic() + self.leases.ttl_s / 4

    def _renew(self) -> None:
        """Renew every lease held; drop (without saving) a partition whose lease is gone."""
        for partition in list(self.runners):
            if not self.leases.renew(partition):
                self.lost += 1
                log.warning("partition %d: lease lost (expired or taken); dropped", partition)
                self.runners.pop(partition).close(save=False)

    def _balance(self) -> None:
        leases = self.leases
        leases.heartbeat()
        self._renew()
        step = plan(
            me=leases.worker_id,
            members=leases.members(),
            holders=leases.holders(self.partitions),
            partitions=self.partitions,
        )
        for partition in step.release:
            runner = self.runners.pop(partition, None)
            if runner is not None:
                runner.close(save=True)
            leases.release(partition)
        for partition in step.claim:
            if leases.claim(partition):
                self.runners[partition] = PartitionRunner(partition, self.parts)
        if step.claim or step.release:
            self.rebalances += 1
            log.info("partitions owned by %s: %s", leases.worker_id, self.owned)
