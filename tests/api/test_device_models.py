"""The device-model catalog over HTTP: create, read, list, replace, delete; an entry that
names a metric or rating its type does not have is refused with the field named."""

from __future__ import annotations

import httpx

CELL = {
    "type": "battery_pack",
    "reporting_interval_s": 86400,
    "ranges": {"voltage_v": [2.5, 4.3]},
    "ratings": {"design_capacity_ah": 2.0},
}


def test_a_catalog_entry_round_trips(client: httpx.Client) -> None:
    assert client.get("/api/v1/device-models/CELL-18650").status_code == 404
    put = client.put("/api/v1/device-models/CELL-18650", json=CELL)
    assert put.status_code == 200, put.text
    entry = client.get("/api/v1/device-models/CELL-18650").json()
    assert entry["ranges"] == {"voltage_v": [2.5, 4.3]}
    assert entry["ratings"] == {"design_capacity_ah": 2.0}
    assert entry["reporting_interval_s"] == 86400
    replaced = client.put("/api/v1/device-models/CELL-18650", json={**CELL, "ratings": {}})
    assert replaced.status_code == 200 and replaced.json()["ratings"] == {}
    listed = client.get("/api/v1/device-models").json()["items"]
    assert [item["model"] for item in listed] == ["CELL-18650"]
    assert client.delete("/api/v1/device-models/CELL-18650").status_code == 204
    assert client.get("/api/v1/device-models").json()["items"] == []


def test_an_entry_its_type_cannot_use_is_refused_naming_the_field(client: httpx.Client) -> None:
    wrong_metric = {**CELL, "ranges": {"cabinet_temp_c": [0, 10]}}
    answer = client.put("/api/v1/device-models/X", json=wrong_metric)
    assert answer.status_code == 422 and "cabinet_temp_c" in answer.text
    wrong_rating = {**CELL, "ratings": {"cusum_limit": 3.0}}
    answer = client.put("/api/v1/device-models/X", json=wrong_rating)
    assert answer.status_code == 422 and "cusum_limit" in answer.text
    assert client.get("/api/v1/device-models").json()["items"] == []
    backwards = {**CELL, "ranges": {"voltage_v": [4.3, 2.5]}}
    answer = client.put("/api/v1/device-models/X", json=backwards)
    assert answer.status_code == 200 and answer.json()["ranges"] == {"voltage_v": [2.5, 4.3]}
