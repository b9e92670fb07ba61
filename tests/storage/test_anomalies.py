"""Anomalies: stored as given, listed newest first with a keyset cursor."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from domain import Anomaly, DeviceInfo, FaultCode, Severity
from storage import anomalies, devices


def _anomaly(device_id: str, n: int) -> Anomaly:
    return Anomaly(
        device_id=device_id,
        fault_code=FaultCode.FRIDGE_TEMP_DRIFT,
        severity=Severity.HIGH,
        detected_at=1_764_000_000.0 + n,
        onset_at=1_763_990_000.0 + n,
        confidence=0.9,
        summary=f"cabinet warming #{n}",
        evidence={"cabinet_temp_c": {"baseline": 4.0, "now": 9.5}},
        diagnosis={"probable_cause": "door seal", "parts": ["gasket"]},
    )


def test_anomaly_is_stored_with_its_evidence_and_diagnosis(
    session: Session, device_info: Callable[..., DeviceInfo]
) -> None:
    devices.create(session=session, device_in=device_info("fridge-0001"))
    row = anomalies.add(session=session, anomaly=_anomaly("fridge-0001", 0), ticket_id=None)
    session.commit()

    stored = anomalies.list_page(session=session)
    assert [r.id for r in stored] == [row.id]
    assert stored[0].fault_code == "FRIDGE_TEMP_DRIFT"
    assert stored[0].severity == 3
    assert stored[0].evidence == {"cabinet_temp_c": {"baseline": 4.0, "now": 9.5}}
    assert stored[0].diagnosis["parts"] == ["gasket"]
    assert stored[0].ticket_id is None


def test_pages_run_newest_first_and_filter_by_device(
    session: Session, device_info: Callable[..., DeviceInfo]
) -> None:
    for device_id in ("fridge-a", "fridge-b"):
        devices.create(session=session, device_in=device_info(device_id))
    added = [
        anomalies.add(session=session, anomaly=_anomaly(f"fridge-{'ab'[n % 2]}", n), ticket_id=None)
        for n in range(7)
    ]
    session.commit()

    seen: list[int] = []
    before = None
    while page := anomalies.list_page(session=session, before_id=before, limit=3):
        seen += [row.id for row in page]
        before = page[-1].id
    assert seen == sorted((row.id for row in added), reverse=True)

    only_b = anomalies.list_page(session=session, device_id="fridge-b")
    assert [row.summary for row in only_b] == [
        "cabinet warming #5",
        "cabinet warming #3",
        "cabinet warming #1",
    ]
