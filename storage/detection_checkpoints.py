"""The detection engine's checkpoint: one row per engine name, replaced on every save.

The payload is opaque bytes here (the caller serialises the engine); storage only keeps
the newest copy with when it was saved and how far event time had got.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage.models import DetectionCheckpointRow


@dataclass(frozen=True, slots=True)
class Checkpoint:
    name: str
    version: int
    saved_at: float
    watermark: float | None
    devices: int
    data: bytes


def save(*, session: Session, checkpoint: Checkpoint) -> None:
    """Insert or replace the checkpoint called `checkpoint.name`."""
    row = session.get(DetectionCheckpointRow, checkpoint.name)
    if row is None:
        row = DetectionCheckpointRow(name=checkpoint.name)
        session.add(row)
    row.version = checkpoint.version
    row.saved_at = checkpoint.saved_at
    row.watermark = checkpoint.watermark
    row.devices = checkpoint.devices
    row.data = checkpoint.data


def load(*, session: Session, name: str) -> Checkpoint | None:
    row = session.get(DetectionCheckpointRow, name)
    if row is None:
        return None
    return Checkpoint(row.name, row.version, row.saved_at, row.watermark, row.devices, row.data)
