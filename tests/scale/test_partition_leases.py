"""Partition leases on a real nats-server: one holder at a time, renewal by the holder
only, expiry when the holder stops renewing, and a clean hand-back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from faultline.nats_process import NatsServerProcess
from ingest.nats_link import NatsLink
from ingest.partition_leases import PartitionLeases
from tests.service_harness import wait_until

TTL_S = 1.0


@pytest.fixture
def links(nats_server: NatsServerProcess) -> Iterator[list[NatsLink]]:
    made = [NatsLink(nats_server.url, name=f"test-{i}") for i in range(2)]
    for link in made:
        link.start()
    yield made
    for link in made:
        link.stop()


def _leases(link: NatsLink, worker: str) -> PartitionLeases:
    leases = PartitionLeases(link, worker_id=worker, ttl_s=TTL_S)
    leases.open()
    return leases


def test_only_one_worker_holds_a_partition_and_only_it_can_renew(links: list[NatsLink]) -> None:
    a, b = _leases(links[0], "a"), _leases(links[1], "b")
    assert a.claim(3)
    assert not b.claim(3)
    assert a.renew(3)
    assert not b.renew(3), "b never held it"
    assert a.holders(16) == {3: "a"} == b.holders(16)


def test_a_lease_nobody_renews_expires_and_the_old_holder_learns_it_lost_it(
    links: list[NatsLink],
) -> None:
    a, b = _leases(links[0], "a"), _leases(links[1], "b")
    assert a.claim(5)
    wait_until(lambda: b.claim(5), 10 * TTL_S, "b to take partition 5 once a's lease expired")
    assert not a.renew(5), "a's renewal must fail: b holds the partition now"
    assert a.held == set() and b.held == {5}


def test_a_released_partition_is_free_at_once_and_members_are_the_live_workers(
    links: list[NatsLink],
) -> None:
    a, b = _leases(links[0], "a"), _leases(links[1], "b")
    a.heartbeat()
    b.heartbeat()
    assert a.members() == ["a", "b"]
    assert a.claim(0) and a.claim(1)
    a.leave()
    assert b.members() == ["b"]
    assert b.claim(0) and b.claim(1), "a handed its partitions back: no wait for expiry"
