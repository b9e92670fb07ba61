"""Turns raw MQTT messages into readings, events and status changes, or dead letters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from domain.devices import DeviceType
from domain.wire import (
    DEFAULT_PREFIX,
    ApplianceEvent,
    Channel,
    DeadLetter,
    PayloadRejected,
    RejectReason,
    decode_event,
    decode_reading,
    parse_topic,
)
from ingest.dedup import SeqTracker, Verdict
from ingest.messages import Batch, RawMessage, StatusChange
from ingest.stats import IngestStats

DeviceLookup = Callable[[str], DeviceType | None]


class Validator:
    """Applies every rule of the wire contract; one bad message never raises out of here.

    `lookup` answers a device's type, or None for a device that was never provisioned.
    `max_future_s` bounds how far ahead of the wall clock an event time may be.
    """

    def __init__(
        self,
        *,
        lookup: DeviceLookup,
        stats: IngestStats,
        prefix: str = DEFAULT_PREFIX,
        max_future_s: float = 300.0,
        seq_window: int = 512,
    ) -> None:
        self.lookup = lookup
        self.stats = stats
        self.prefix = prefix
        self.max_future_s = max_future_s
        self.seqs = SeqTracker(seq_window)
        # Counts of the batch being validated, added to `stats` at `end_batch` (one lock
        # per batch instead of one per message).
        self._counts: Counter[str] = Counter()
        self._gap_devices: set[str] = set()

    def add_to(self, batch: Batch, message: RawMessage) -> None:
        """Validate `message` and append what it became to `batch`."""
        device_id: str | None = None
        try:
            device_id, channel = parse_topic(message.topic, self.prefix)
            if self.lookup(device_id) is None:
                raise PayloadRejected(
                    RejectReason.UNKNOWN_DEVICE, f"device {device_id!r} is not provisioned"
                )
            if channel is Channel.TELEMETRY:
                self._add_reading(batch, device_id, message)
            elif channel is Channel.EVENTS:
                batch.events.append(self._checked_event(device_id, message))
                self._counts["events"] += 1
            elif channel is Channel.STATUS:
                batch.statuses.append(self._status(device_id, message))
                self._counts["status_changes"] += 1
        except PayloadRejected as rejected:
            self.stats.reject(rejected.reason.value)
            batch.dead_letters.append(
                DeadLetter(
                    topic=message.topic,
                    payload=message.payload,
                    reason=rejected.reason,
                    detail=rejected.detail,
                    received_at=message.received_at,
                    device_id=device_id,
                )
            )

    def end_batch(self) -> None:
        """Add the counts of the messages validated since the last call to `stats`."""
        counts, self._counts = self._counts, Counter()
        gaps, self._gap_devices = self._gap_devices, set()
        if counts:
            self.stats.add(**counts)
        received = counts["accepted"]
        if received or counts["missing_readings"]:
            self.stats.loss.add(
                received=received, lost=max(counts["missing_readings"], 0), devices=gaps
            )
            self.stats.loss.note()

    def _add_reading(self, batch: Batch, device_id: str, message: RawMessage) -> None:
        reading = decode_reading(device_id, message.payload)
        self._check_not_future(reading.ts, message.received_at)
        seen = self.seqs.observe(device_id, reading.seq, reading.ts)
        counts = self._counts
        verdict = seen.verdict
        if verdict is Verdict.DUPLICATE:
            counts["duplicates"] += 1
            return
        if verdict is Verdict.NEW:
            self.stats.lag.add(device_id, reading.ts, message.received_at)
            if seen.missing:
                counts["seq_gaps"] += 1
                counts["missing_readings"] += seen.missing
                self._gap_devices.add(device_id)
        elif verdict is Verdict.NEW_EPOCH:
            counts["epochs"] += 1
        else:
            counts["late_readings"] += 1
            counts["missing_readings"] += seen.missing
        batch.readings.append(reading)
        counts["accepted"] += 1

    def _checked_event(self, device_id: str, message: RawMessage) -> ApplianceEvent:
        event = decode_event(device_id, message.payload)
        self._check_not_future(event.ts, message.received_at)
        return event

    def _status(self, device_id: str, message: RawMessage) -> StatusChange:
        text = message.payload.decode("utf-8", "replace").strip().lower()
        if text not in ("online", "offline"):
            raise PayloadRejected(
                RejectReason.BAD_SCHEMA, f"status {text[:40]!r} is not online/offline"
            )
        return StatusChange(device_id, text == "online", message.received_at)

    def _check_not_future(self, ts: float, received_at: float) -> None:
        if ts > received_at + self.max_future_s:
            raise PayloadRejected(
                RejectReason.FUTURE_TIMESTAMP,
                f"ts {ts:.0f} is {ts - received_at:.0f} s ahead of the receive time",
            )
