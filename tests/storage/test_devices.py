"""Devices: provisioning, duplicates, keyset pages, conversion back to DeviceInfo."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain import DeviceInfo, DeviceType
from storage import devices
from storage.errors import DuplicateError


def test_created_device_reads_back_as_the_same_info(
    session: Session, device_info: Callable[..., DeviceInfo]
) -> None:
    info = device_info("fridge-0001")
    devices.create(session=session, device_in=info)
    session.commit()

    row = devices.get(session=session, device_id="fridge-0001")
    assert row is not None
    assert devices.to_info(row) == info
    assert row.created_at > 0
    assert devices.get(session=session, device_id="fridge-9999") is None


def test_provisioning_an_existing_id_raises_duplicate_and_keeps_the_transaction(
    session_factory: sessionmaker[Session], device_info: Callable[..., DeviceInfo]
) -> None:
    with session_factory() as session:
        devices.create(session=session, device_in=device_info("fridge-0001"))
        session.commit()

    with session_factory() as session:
        devices.create(session=session, device_in=device_info("fridge-0002"))
        with pytest.raises(DuplicateError, match="fridge-0001"):
            devices.create(session=session, device_in=device_info("fridge-0001", model="X"))
        session.commit()  # the duplicate did not doom the other insert

    with session_factory() as session:
        rows = devices.list_page(session=session)
        assert [row.device_id for row in rows] == ["fridge-0001", "fridge-0002"]
        assert rows[0].model == "FR-300"


def test_pages_walk_every_device_once_in_id_order(
    session: Session, device_info: Callable[..., DeviceInfo]
) -> None:
    ids = [f"dev-{n:02d}" for n in (7, 3, 11, 1, 5, 9, 2)]
    for device_id in ids:
        devices.create(session=session, device_in=device_info(device_id))
    session.commit()

    seen: list[str] = []
    after = None
    while page := devices.list_page(session=session, after=after, limit=3):
        assert len(page) <= 3
        seen += [row.device_id for row in page]
        after = page[-1].device_id
    assert seen == sorted(ids)


def test_pages_filter_by_type_and_types_by_id_lists_every_device(
    session: Session, device_info: Callable[..., DeviceInfo]
) -> None:
    devices.create(session=session, device_in=device_info("a-fridge"))
    devices.create(session=session, device_in=device_info("b-washer", type=DeviceType.WASHER))
    devices.create(session=session, device_in=device_info("c-fridge"))
    session.flush()

    fridges = devices.list_page(session=session, type=DeviceType.FRIDGE)
    assert [row.device_id for row in fridges] == ["a-fridge", "c-fridge"]
    after_a = devices.list_page(session=session, type=DeviceType.FRIDGE, after="a-fridge")
    assert [row.device_id for row in after_a] == ["c-fridge"]
    assert devices.types_by_id(session=session) == {
        "a-fridge": DeviceType.FRIDGE,
        "b-washer": DeviceType.WASHER,
        "c-fridge": DeviceType.FRIDGE,
    }


def test_a_page_limit_below_one_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="limit"):
        devices.list_page(session=session, limit=0)
