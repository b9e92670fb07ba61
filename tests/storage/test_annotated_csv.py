"""InfluxDB's annotated CSV, in the shapes its documentation describes: annotation rows
(in either order), a header per section, several tables per section told apart by the
`table` column, blank lines between sections of different schemas, `#default` values,
and an `error,reference` table when a query fails part-way."""

from __future__ import annotations

import math

import pytest

from storage.annotated_csv import AnnotatedCsvError, FluxQueryError, parse, rfc3339_ns

# Three series of one field, one table each; #group before #datatype, a #default result.
THREE_TABLES = """\
#group,false,false,true,true,false,false,true,true,true,true
#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,string
#default,last,,,,,,,,,
,result,table,_start,_stop,_time,_value,_field,_measurement,device_id,type
,,0,2025-11-24T00:00:00Z,2025-11-25T00:00:00Z,2025-11-24T23:59:30Z,4.1,cabinet_temp_c,telemetry,fridge-0001,fridge
,,1,2025-11-24T00:00:00Z,2025-11-25T00:00:00Z,2025-11-24T23:59:30Z,3.9,cabinet_temp_c,telemetry,fridge-0002,fridge
,,2,2025-11-24T00:00:00Z,2025-11-25T00:00:00Z,2025-11-24T23:59:00.5Z,812,drum_rpm,telemetry,washer-0001,washer
"""

# Two results of different schemas, separated by a blank line, #datatype first.
TWO_SECTIONS = """\
#datatype,string,long,string,long
#group,false,false,true,false
#default,counts,,,
,result,table,device_id,_value
,,0,fridge-0001,2880
,,1,fridge-0002,2879

#datatype,string,long,dateTime:RFC3339Nano,double,long,boolean,unsignedLong,string
#group,false,false,false,false,false,false,false,false
#default,_result,,,,,,,
,result,table,_time,cabinet_temp_c,seq,door_open,cycles,note
,,0,2025-11-24T23:59:30.123456789Z,+Inf,7,true,18446744073709551615,"door, left open"
,,0,2025-11-24T23:59:31+01:00,-Inf,8,false,0,"two
lines"
,,0,2025-11-24T23:59:32Z,NaN,,false,1,
"""

# A query that fails after some data: InfluxDB appends an error table.
FAILS_PART_WAY = """\
#datatype,string,long,dateTime:RFC3339,double
#group,false,false,false,false
#default,_result,,,
,result,table,_time,_value
,,0,2025-11-24T23:59:30Z,4.1

#datatype,string,string
#group,true,true
#default,,
,error,reference
,"runtime error: schema collision: cannot group float and integer types together",897
"""


def test_tables_are_told_apart_by_their_table_number() -> None:
    tables = parse(THREE_TABLES)
    assert [t.table for t in tables] == [0, 1, 2]
    assert [t.result for t in tables] == ["last"] * 3  # the #default of an empty result
    first = tables[0]
    assert first.group_key == {
        "_start": rfc3339_ns("2025-11-24T00:00:00Z"),
        "_stop": rfc3339_ns("2025-11-25T00:00:00Z"),
        "_field": "cabinet_temp_c",
        "_measurement": "telemetry",
        "device_id": "fridge-0001",
        "type": "fridge",
    }
    assert first.records[0]["_value"] == 4.1
    assert tables[2].records[0]["_time"] == rfc3339_ns("2025-11-24T23:59:00.5Z")


def test_sections_of_different_schemas_each_keep_their_own_types() -> None:
    counts_a, counts_b, rows = parse(TWO_SECTIONS)
    assert (counts_a.result, counts_a.records) == ("counts", [
        {"result": "counts", "table": 0, "device_id": "fridge-0001", "_value": 2880}
    ])  # fmt: skip
    assert counts_b.records[0]["_value"] == 2879
    assert rows.result == "_result"
    first, second, third = rows.records
    assert first["cabinet_temp_c"] == math.inf and second["cabinet_temp_c"] == -math.inf
    assert math.isnan(third["cabinet_temp_c"])
    assert (first["seq"], second["seq"], third["seq"]) == (7, 8, None)  # empty cell: null
    assert (first["door_open"], second["door_open"]) == (True, False)
    assert first["cycles"] == 2**64 - 1
    assert first["note"] == "door, left open" and second["note"] == "two\nlines"
    assert third["note"] is None


def test_times_keep_nanoseconds_and_honour_offsets() -> None:
    rows = parse(TWO_SECTIONS)[2].records
    assert rows[0]["_time"] == rfc3339_ns("2025-11-24T23:59:30Z") + 123_456_789
    assert rows[1]["_time"] == rfc3339_ns("2025-11-24T22:59:31Z")


def test_an_error_table_raises_with_influxdbs_message() -> None:
    with pytest.raises(FluxQueryError, match="schema collision") as raised:
        parse(FAILS_PART_WAY)
    assert raised.value.reference == "897"


def test_an_empty_response_has_no_tables() -> None:
    assert parse("") == []
    assert parse("\r\n") == []


def test_text_that_is_not_annotated_csv_is_refused() -> None:
    with pytest.raises(AnnotatedCsvError):
        parse("#datatype,string,long\n,result,table\n,,0,extra\n")
    with pytest.raises(AnnotatedCsvError, match="RFC 3339"):
        parse("#datatype,string,long,dateTime:RFC3339\n,result,table,_time\n,,0,yesterday\n")
