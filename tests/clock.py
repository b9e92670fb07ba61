"""Fixed event-time starts for scenarios, so no test depends on the date or hour it runs at.

Every scenario is placed at a fixed instant in the past (a Monday, midnight UTC) instead of
"now minus its length": detection reads the hour of day from event time, so a scenario
placed against the wall clock would give different answers at different hours. The suite is
run under `faketime` at dates after this one (readings from the future are rejected).
"""

from __future__ import annotations

from datetime import UTC, datetime

SCENARIO_START = datetime(2025, 3, 3, tzinfo=UTC).timestamp()
DAY = 86_400.0
