"""The InfluxDB telemetry store: the write path against a real server speaking
`/api/v2/write` (VictoriaMetrics), start-up checks, retries and Flux queries against
InfluxDB's documented HTTP answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from domain import Reading
from faultline.settings import Settings
from faultline.telemetry_backend import open_telemetry_store
from faultline.victoria_metrics import VictoriaMetrics
from storage import flux
from storage.influx_telemetry import InfluxConfigError, InfluxTelemetryStore
from storage.spooled_telemetry import SpooledTelemetryStore
from storage.telemetry import TelemetryError, TelemetryRejected
from tests.storage.fake_influx import Answer, FakeInflux, lines_written

TS = 1_764_040_000.25


def _readings(device_id: str, count: int, start: float = TS) -> list[Reading]:
    return [
        Reading(device_id, start + 30.0 * i, i + 1, {"cabinet_temp_c": 4.0 + i / 100, "door open": 0.0})
        for i in range(count)
    ]  # fmt: skip


def _store(url: str, **overrides: object) -> InfluxTelemetryStore:
    options: dict[str, object] = {
        "url": url,
        "org": "home",
        "bucket": "telemetry",
        "token": "secret-token",
        "device_type": {"fridge-0001": "fridge", "fridge-0002": "fridge"}.get,
        "retry_initial_s": 0.01,
    }
    options.update(overrides)
    return InfluxTelemetryStore(**options)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeInflux]:
    with FakeInflux() as server:
        yield server


def _series(server: VictoriaMetrics, metric: str) -> dict[tuple[str, str], list[tuple[int, float]]]:
    return {
        (s["metric"]["device_id"], s["metric"].get("type", "")): list(
            zip(s["timestamps"], s["values"], strict=True)
        )
        for s in server.export(f'{{__name__="{metric}"}}')
    }


def test_every_reading_lands_as_one_point_with_its_metrics_and_seq(
    victoria_metrics: VictoriaMetrics,
) -> None:
    store = _store(victoria_metrics.url, batch_lines=70)  # several requests per write
    try:
        assert store.write(_readings("fridge-0001", 200) + _readings("fridge-0002", 100)) == 300
    finally:
        store.close()
    seqs = _series(victoria_metrics, "telemetry_seq")
    assert sorted(seqs) == [("fridge-0001", "fridge"), ("fridge-0002", "fridge")]
    assert [v for _, v in seqs["fridge-0001", "fridge"]] == list(range(1, 201))
    first_ms = seqs["fridge-0001", "fridge"][0][0]
    assert first_ms == round(TS * 1000)
    temps = _series(victoria_metrics, "telemetry_cabinet_temp_c")["fridge-0002", "fridge"]
    assert [v for _, v in temps][:3] == [4.0, 4.01, 4.02]
    # A metric name with a space is stored under its encoded name.
    assert _series(victoria_metrics, "telemetry_door%20open")


def test_writing_the_same_readings_again_overwrites_instead_of_duplicating(
    victoria_metrics: VictoriaMetrics,
) -> None:
    store = _store(victoria_metrics.url)
    try:
        readings = _readings("fridge-0001", 50)
        store.write(readings)
        store.write(readings[10:30])  # a redelivered batch
        store.write(readings)  # a replayed spool
    finally:
        store.close()
    points = _series(victoria_metrics, "telemetry_seq")["fridge-0001", "fridge"]
    assert [v for _, v in points] == list(range(1, 51))


def test_second_precision_stores_whole_seconds(victoria_metrics: VictoriaMetrics) -> None:
    store = _store(victoria_metrics.url, precision="s")
    try:
        store.write(_readings("fridge-0001", 3))
    finally:
        store.close()
    points = _series(victoria_metrics, "telemetry_seq")["fridge-0001", "fridge"]
    assert [ms for ms, _ in points] == [round(TS) * 1000 + 30_000 * i for i in range(3)]


def test_writes_are_gzipped_line_protocol_with_the_token(fake: FakeInflux) -> None:
    store = _store(fake.url)
    try:
        store.write(_readings("fridge-0001", 2))
    finally:
        store.close()
    (request,) = fake.requests_to("/api/v2/write")
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.headers["Authorization"] == "Token secret-token"
    assert request.params == {"org": ["home"], "bucket": ["telemetry"], "precision": ["ns"]}
    assert list(lines_written(fake)) == [
        "telemetry,device_id=fridge-0001,type=fridge cabinet_temp_c=4.0,door%20open=0.0,"
        "seq=1i 1764040000250000000",
        "telemetry,device_id=fridge-0001,type=fridge cabinet_temp_c=4.01,door%20open=0.0,"
        "seq=2i 1764040030250000000",
    ]


def test_overload_and_server_errors_are_retried_honouring_retry_after(fake: FakeInflux) -> None:
    fake.answer(
        "/api/v2/write",
        Answer.error(429, "too many requests", "slow down", **{"Retry-After": "0"}),
        Answer.error(503, "unavailable", "shutting down"),
        Answer(204),
    )
    store = _store(fake.url)
    try:
        store.write(_readings("fridge-0001", 1))
    finally:
        store.close()
    assert len(fake.requests_to("/api/v2/write")) == 3


def test_a_store_that_keeps_failing_raises_after_its_retries(fake: FakeInflux) -> None:
    fake.answer("/api/v2/write", Answer.error(503, "unavailable", "shutting down"))
    store = _store(fake.url, max_retries=2)
    try:
        with pytest.raises(TelemetryError, match="503: shutting down") as raised:
            store.write(_readings("fridge-0001", 1))
    finally:
        store.close()
    assert not isinstance(raised.value, TelemetryRejected)
    assert len(fake.requests_to("/api/v2/write")) == 3


def test_points_the_bucket_refuses_for_good_are_not_retried(fake: FakeInflux) -> None:
    fake.answer(
        "/api/v2/write",
        Answer.error(
            422,
            "unprocessable entity",
            "failure writing points to database: partial write: points beyond retention "
            "policy dropped=1",
        ),
    )
    store = _store(fake.url)
    try:
        with pytest.raises(TelemetryRejected, match="beyond retention"):
            store.write(_readings("fridge-0001", 1))
    finally:
        store.close()
    assert len(fake.requests_to("/api/v2/write")) == 1


def test_an_unreachable_server_is_an_outage_not_a_config_error() -> None:
    store = _store("http://127.0.0.1:9", max_retries=0)  # discard port: nothing listens
    try:
        with pytest.raises(TelemetryError, match="cannot reach InfluxDB") as raised:
            store.write(_readings("fridge-0001", 1))
        assert not isinstance(raised.value, InfluxConfigError | TelemetryRejected)
    finally:
        store.close()


def _settings(url: str) -> Settings:
    return Settings(
        telemetry_url=url,
        telemetry_org="home",
        telemetry_bucket="telemetry",
        telemetry_token="secret-token",
    )


def test_a_missing_bucket_stops_the_service_at_start_naming_the_setting(fake: FakeInflux) -> None:
    fake.answer("/api/v2/buckets", Answer(200, json.dumps({"buckets": []}).encode()))
    with pytest.raises(
        InfluxConfigError,
        match="bucket 'telemetry' not found in org 'home' — create it or set "
        "FAULTLINE_TELEMETRY_BUCKET",
    ):
        open_telemetry_store(_settings(fake.url))
    assert fake.requests_to("/api/v2/buckets")[0].params == {
        "name": ["telemetry"],
        "org": ["home"],
    }


def test_a_wrong_token_stops_the_service_at_start_naming_the_setting(fake: FakeInflux) -> None:
    fake.answer("/api/v2/buckets", Answer.error(401, "unauthorized", "unauthorized access"))
    with pytest.raises(InfluxConfigError, match=r"refused the token .*FAULTLINE_TELEMETRY_TOKEN"):
        open_telemetry_store(_settings(fake.url))


def test_a_missing_org_stops_the_service_at_start_naming_the_setting(fake: FakeInflux) -> None:
    fake.answer(
        "/api/v2/buckets", Answer.error(404, "not found", 'organization name "home" not found')
    )
    with pytest.raises(InfluxConfigError, match=r"org 'home' not found.*FAULTLINE_TELEMETRY_ORG"):
        open_telemetry_store(_settings(fake.url))


def test_an_unreachable_server_at_start_starts_with_the_spool_holding_readings(
    tmp_path: object,
) -> None:
    settings = _settings("http://127.0.0.1:9").model_copy(
        update={"telemetry_spool_dir": str(tmp_path) + "/spool"}
    )
    store = open_telemetry_store(settings)
    try:
        assert isinstance(store, SpooledTelemetryStore)
        assert store.write(_readings("fridge-0001", 5)) == 5
        assert store.status()["readings"] == 5
    finally:
        store.close()


def test_a_server_without_the_buckets_api_is_pinged_instead(
    victoria_metrics: VictoriaMetrics,
) -> None:
    store = _store(victoria_metrics.url)
    try:
        store.verify()  # VictoriaMetrics answers 400 there; reachable is all we can check
        store.ping()
    finally:
        store.close()


# What InfluxDB answers for `flux.history(...)`: pivoted fields, empty group key.
HISTORY = """\
#group,false,false,false,false,false,false,false,false,false,false,false,false
#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,string,string,string,double,double,double,long
#default,_result,,,,,,,,,,,
,result,table,_start,_stop,_time,_measurement,device_id,type,cabinet_temp_c,door%20open,power_w,seq
,,0,1970-01-01T00:00:00Z,2200-01-01T00:00:00Z,2025-11-25T03:06:40.25Z,telemetry,fridge-0001,fridge,4.1,0,92.5,1812
,,0,1970-01-01T00:00:00Z,2200-01-01T00:00:00Z,2025-11-25T03:07:10.25Z,telemetry,fridge-0001,fridge,4.2,1,,1813
"""


def test_history_comes_back_as_readings_from_a_pivoted_flux_result(fake: FakeInflux) -> None:
    fake.answer("/api/v2/query", Answer.csv(HISTORY))
    store = _store(fake.url)
    try:
        readings = store.query(device_id="fridge-0001", start=TS - 60, limit=2)
    finally:
        store.close()
    assert readings == [
        Reading("fridge-0001", TS, 1812, {"cabinet_temp_c": 4.1, "door open": 0.0, "power_w": 92.5}),
        Reading("fridge-0001", TS + 30, 1813, {"cabinet_temp_c": 4.2, "door open": 1.0}),
    ]  # fmt: skip
    (request,) = fake.requests_to("/api/v2/query")
    body = json.loads(request.body)
    assert body["query"] == flux.history(
        bucket="telemetry",
        measurement="telemetry",
        device_id="fridge-0001",
        metric=None,
        start_ns=round((TS - 60) * 1e6) * 1000,
        stop_ns=flux.LATEST_NS,
        limit=2,
    )
    assert body["dialect"]["annotations"] == ["datatype", "group", "default"]


def test_a_cursor_resumes_after_the_last_timestamp_and_an_empty_range_asks_nothing(
    fake: FakeInflux,
) -> None:
    fake.answer("/api/v2/query", Answer.csv(""))
    store = _store(fake.url)
    try:
        assert store.query(device_id="fridge-0001", after=(TS, 1812)) == []
        assert store.query(device_id="fridge-0001", start=TS, end=TS) == []
    finally:
        store.close()
    (request,) = fake.requests_to("/api/v2/query")
    query = json.loads(request.body)["query"]
    # Points are unique per timestamp: resume one nanosecond after the last one.
    assert "range(start: 2025-11-25T03:06:40.250000001Z," in query


def test_count_sums_the_seq_points(fake: FakeInflux) -> None:
    fake.answer(
        "/api/v2/query",
        Answer.csv(
            "#datatype,string,long,long\n#group,false,false,false\n#default,_result,,\n"
            ",result,table,_value\n,,0,2880\n"
        ),
    )
    store = _store(fake.url)
    try:
        assert store.count("fridge-0001") == 2880
    finally:
        store.close()
    query = json.loads(fake.requests_to("/api/v2/query")[0].body)["query"]
    assert 'r._field == "seq" and r.device_id == "fridge-0001"' in query
    assert query.rstrip().endswith("|> count()")


def test_a_failing_query_reports_influxdbs_message(fake: FakeInflux) -> None:
    fake.answer(
        "/api/v2/query",
        Answer.csv(
            "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n"
            ',"unsupported aggregate column type float",\n'
        ),
    )
    store = _store(fake.url)
    try:
        with pytest.raises(TelemetryError, match="unsupported aggregate column type"):
            store.count()
    finally:
        store.close()
