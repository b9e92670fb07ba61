"""What one MQTT message becomes after validation, and the batch handed to the sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain import Reading
from domain.wire import ApplianceEvent, DeadLetter


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A message as the broker delivered it; `mid` is acknowledged once the batch is stored."""

    topic: str
    payload: bytes
    received_at: float
    mid: int = 0
    qos: int = 0


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device announced itself online or offline (its retained status / last will)."""

    device_id: str
    online: bool
    received_at: float


@dataclass
class Batch:
    """Validated messages handed to the sink together, in arrival order."""

    readings: list[Reading] = field(default_factory=list)
    events: list[ApplianceEvent] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.readings) + len(self.events) + len(self.statuses) + len(self.dead_letters)

    def split(self) -> tuple[Batch, Batch]:
        """Two batches holding this one's messages, about half each, order kept (readings
        first): to find the one message a store refuses without refusing the rest."""
        cut = len(self) // 2
        first, second = Batch(), Batch()
        for name in ("readings", "events", "statuses", "dead_letters"):
            items: list[Any] = getattr(self, name)
            take = min(cut, len(items))
            getattr(first, name).extend(items[:take])
            getattr(second, name).extend(items[take:])
            cut -= take
        return first, second
