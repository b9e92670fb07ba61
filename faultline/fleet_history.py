"""Training the fleet model on a site's own telemetry history: every provisioned device
that raised no anomaly in the window, read from the telemetry store page by page."""

from __future__ import annotations

from dataclasses import dataclass

from detection.fleet_model import FleetModel
from detection.fleet_training import FleetRows
from faultline.settings import Settings
from faultline.telemetry_backend import open_history_store
from storage import anomalies, devices
from storage.database import make_engine, make_session_factory, migrate
from storage.telemetry import TelemetryStore

PAGE = 5000


@dataclass(frozen=True)
class HistoryTraining:
    model: FleetModel
    devices_used: int
    devices_skipped: int  # raised an anomaly in the window
    readings: int


def train_from_history(settings: Settings, *, start: float, end: float) -> HistoryTraining:
    """Fit on readings with `start <= ts < end` of devices that raised no anomaly then."""
    db = make_engine(settings.database_url)
    try:
        migrate(db)
        with make_session_factory(db)() as session:
            types = devices.types_by_id(session=session)
            models = devices.models_by_id(session=session)
            flagged = anomalies.device_ids_between(session=session, start=start, end=end)
    finally:
        db.dispose()
    healthy = {d: t for d, t in types.items() if d not in flagged}
    rows = FleetRows(healthy, models)
    store = open_history_store(settings)
    try:
        count = sum(_feed(store, rows, device_id, start, end) for device_id in sorted(healthy))
    finally:
        store.close()
    return HistoryTraining(rows.fit(), len(healthy), len(types) - len(healthy), count)


def _feed(store: TelemetryStore, rows: FleetRows, device_id: str, start: float, end: float) -> int:
    count, after = 0, None
    while True:
        page = store.query(device_id=device_id, start=start, end=end, after=after, limit=PAGE)
        rows.add(page)
        count += len(page)
        if len(page) < PAGE:
            return count
        after = (page[-1].ts, page[-1].seq)
