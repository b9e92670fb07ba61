"""The balancing rule: workers that each apply it alone end with every partition owned
exactly once, in fair shares, and take over the partitions of a worker that is gone."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from faultline.partition_balance import plan


def _settle(workers: list[str], holders: dict[int, str], partitions: int, seed: int) -> int:
    """Let the workers act in random order (as their timers fire) until nobody moves."""
    rng = random.Random(seed)
    for rounds in range(1, 100):
        moved = False
        for me in rng.sample(workers, len(workers)):
            step = plan(me=me, members=workers, holders=holders, partitions=partitions)
            for p in step.release:
                assert holders.pop(p) == me, "a worker may only give up what it holds"
                moved = True
            for p in step.claim:
                assert p not in holders, "a worker may only claim a free partition"
                holders[p] = me
                moved = True
        if not moved:
            return rounds
    raise AssertionError("the workers never settled")


@settings(max_examples=60, deadline=None)
@given(
    partitions=st.integers(min_value=1, max_value=64),
    workers=st.integers(min_value=1, max_value=9),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_workers_settle_with_every_partition_owned_once_in_fair_shares(
    partitions: int, workers: int, seed: int
) -> None:
    names = [f"w{i}" for i in range(workers)]
    holders: dict[int, str] = {}
    _settle(names, holders, partitions, seed)
    assert sorted(holders) == list(range(partitions))
    counts = [sum(1 for h in holders.values() if h == name) for name in names]
    share = -(-partitions // workers)
    assert max(counts) <= share
    assert sum(counts) == partitions


def test_a_joining_worker_gets_half_and_a_dead_workers_partitions_are_taken_over() -> None:
    holders: dict[int, str] = {}
    _settle(["a"], holders, 16, seed=1)
    assert set(holders.values()) == {"a"}
    _settle(["a", "b"], holders, 16, seed=2)
    assert sorted(holders.values()).count("b") == 8
    # "a" dies: its leases expire (they vanish from the holders), "b" takes them all.
    holders = {p: h for p, h in holders.items() if h == "b"}
    _settle(["b"], holders, 16, seed=3)
    assert holders == dict.fromkeys(range(16), "b")


def test_a_worker_never_claims_a_partition_another_one_still_holds() -> None:
    step = plan(me="b", members=["a", "b"], holders=dict.fromkeys(range(16), "a"), partitions=16)
    assert step.claim == () and step.release == ()
