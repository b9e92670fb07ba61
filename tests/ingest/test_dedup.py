"""Sequence tracking: duplicates are dropped, gaps are noticed, late readings fill gaps."""

from __future__ import annotations

from ingest.dedup import SeqTracker


def test_repeated_seq_is_a_duplicate_per_device() -> None:
    tracker = SeqTracker()
    assert tracker.observe("a", 1) == (False, 0)
    assert tracker.observe("a", 1) == (True, 0)
    assert tracker.observe("b", 1) == (False, 0)


def test_gap_is_counted_and_a_late_reading_takes_it_back() -> None:
    tracker = SeqTracker()
    tracker.observe("a", 1)
    assert tracker.observe("a", 4) == (False, 2)
    assert tracker.observe("a", 3) == (False, -1)
    assert tracker.observe("a", 3) == (True, 0)


def test_window_bounds_memory_per_device() -> None:
    tracker = SeqTracker(window=8)
    for seq in range(100):
        tracker.observe("a", seq)
    assert tracker.observe("a", 95) == (True, 0)
    # Seq 50 fell out of the window: it is no longer remembered (the store still dedupes).
    assert tracker.observe("a", 50) == (False, -1)
