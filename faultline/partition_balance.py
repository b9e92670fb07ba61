"""Which partitions a worker should take or give up, from who is alive and who holds what.

Every worker runs the same rule, so they converge without talking to each other: each
owns at most its fair share (partitions / live workers, rounded up); a worker above its
share gives up the extras; a worker below it takes free partitions. Each worker prefers
the partitions `p % workers == its rank`, so the split is stable and a joining worker
receives a spread of partitions rather than a block.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """Partitions to claim (free now) and to release (ours, above our share)."""

    claim: tuple[int, ...]
    release: tuple[int, ...]


def plan(
    *, me: str, members: Iterable[str], holders: Mapping[int, str], partitions: int
) -> Plan:
    """The next step for worker `me`.

    >>> plan(me="a", members=["a"], holders={}, partitions=4)
    Plan(claim=(0, 1, 2, 3), release=())
    >>> plan(me="a", members=["a", "b"], holders={p: "a" for p in range(4)}, partitions=4)
    Plan(claim=(), release=(1, 3))
    >>> plan(me="b", members=["a", "b"], holders={0: "a", 2: "a"}, partitions=4)
    Plan(claim=(1, 3), release=())
    """
    alive = sorted(set(members) | {me})
    workers, rank = len(alive), alive.index(me)
    share = math.ceil(partitions / workers)

    def preferred(p: int) -> bool:
        return p % workers == rank

    mine = [p for p, holder in holders.items() if holder == me]
    extra = max(len(mine) - share, 0)
    release = sorted(mine, key=lambda p: (preferred(p), p))[:extra]
    room = share - (len(mine) - len(release))
    free = [p for p in range(partitions) if p not in holders]
    claim = sorted(free, key=lambda p: (not preferred(p), p))[: max(room, 0)]
    return Plan(tuple(sorted(claim)), tuple(sorted(release)))
