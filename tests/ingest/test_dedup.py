"""Sequence tracking: true duplicates are dropped, gaps are counted, reboots start epochs."""

from __future__ import annotations

from ingest.dedup import Observation, SeqTracker, Verdict

NEW = Observation(Verdict.NEW)
DUP = Observation(Verdict.DUPLICATE)


def test_repeated_seq_and_ts_is_a_duplicate_per_device() -> None:
    tracker = SeqTracker()
    assert tracker.observe("a", 1, 100.0) == NEW
    assert tracker.observe("a", 1, 100.0) == DUP
    assert tracker.observe("b", 1, 100.0) == NEW


def test_gap_is_counted_and_a_late_reading_takes_it_back() -> None:
    tracker = SeqTracker()
    tracker.observe("a", 1, 100.0)
    assert tracker.observe("a", 4, 400.0) == Observation(Verdict.NEW, 2)
    assert tracker.observe("a", 3, 300.0) == Observation(Verdict.LATE, -1)
    assert tracker.observe("a", 3, 300.0) == DUP


def test_a_rebooted_device_starts_a_new_epoch_and_nothing_is_dropped() -> None:
    tracker = SeqTracker()
    for seq in range(1, 101):
        assert tracker.observe("a", seq, 1000.0 + seq) == NEW
    # Firmware update: seq starts again at 1, later in event time.
    assert tracker.observe("a", 1, 2000.0) == Observation(Verdict.NEW_EPOCH)
    for seq in range(2, 50):
        assert tracker.observe("a", seq, 2000.0 + seq) == NEW
    # A redelivery of the new epoch's reading is a duplicate; the old epoch's seq 10 came
    # with a different time and is not.
    assert tracker.observe("a", 10, 2010.0) == DUP
    assert tracker.observe("a", 10, 1010.0).verdict is Verdict.LATE


def test_missing_never_goes_negative_when_stragglers_outnumber_gaps() -> None:
    tracker = SeqTracker()
    total = 0
    tracker.observe("a", 10, 1000.0)
    for seq, ts in [(12, 1200.0), (11, 1100.0), (5, 500.0), (6, 600.0), (7, 700.0)]:
        total += tracker.observe("a", seq, ts).missing
    assert total == 0


def test_window_bounds_memory_per_device() -> None:
    tracker = SeqTracker(window=8)
    for seq in range(100):
        tracker.observe("a", seq, float(seq))
    assert tracker.observe("a", 95, 95.0) == DUP
    # Seq 50 fell out of the window: no longer remembered (the store still dedupes).
    assert tracker.observe("a", 50, 50.0).verdict is Verdict.LATE
