"""Scoring detection against ground truth: pure functions, no simulator, no engine.

An alarm (an anomaly that opened an alarm stream; escalations of an open one are not new
alarms) matches a labelled episode of the same device and fault code when it was raised
between the episode's onset and its end (plus `late_grace_s`). Per fault code:
precision (alarms that match / alarms), recall (episodes found / episodes), F1, median
and p90 detection delay (first matching `detected_at` - labelled onset), false alarms per
1,000 device-days, and duplicates (extra alarms for an episode already found). Alarms
and false alarms are also counted per source (telemetry, error code, fleet model).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from domain import Anomaly, AnomalySource, FaultCode, source_of

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Episode:
    """One labelled fault: `end_ts` None means it lasts to the end of the run."""

    device_id: str
    fault_code: FaultCode
    onset_ts: float
    end_ts: float | None = None


@dataclass
class CodeScore:
    """The figures for one fault code."""

    fault_code: FaultCode
    episodes: int = 0
    found: int = 0
    alarms: int = 0
    matched_alarms: int = 0
    duplicates: int = 0
    delays_s: list[float] = field(default_factory=list)
    false_per_kdd: float = 0.0

    @property
    def false_alarms(self) -> int:
        return self.alarms - self.matched_alarms

    @property
    def precision(self) -> float | None:
        return self.matched_alarms / self.alarms if self.alarms else None

    @property
    def recall(self) -> float | None:
        return self.found / self.episodes if self.episodes else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    @property
    def median_delay_s(self) -> float | None:
        return _quantile(self.delays_s, 0.5)

    @property
    def p90_delay_s(self) -> float | None:
        return _quantile(self.delays_s, 0.9)


@dataclass
class EvalReport:
    """Per-code scores plus the totals."""

    codes: dict[FaultCode, CodeScore]
    device_days: float
    # Per source of the alarm: [alarms, false alarms].
    sources: dict[AnomalySource, list[int]] = field(default_factory=dict)

    @property
    def false_alarms(self) -> int:
        return sum(c.false_alarms for c in self.codes.values())

    @property
    def false_per_kdd(self) -> float:
        return self.false_alarms / self.device_days * 1000.0 if self.device_days else 0.0

    def meets(self, *, recall: float, precision: float, false_per_kdd: float) -> bool:
        """Every code with episodes reaches `recall`, every code with alarms `precision`,
        and all false alarms together stay within `false_per_kdd`."""
        for score in self.codes.values():
            if score.recall is not None and score.recall < recall:
                return False
            if score.precision is not None and score.precision < precision:
                return False
        return self.false_per_kdd <= false_per_kdd


def is_new_alarm(anomaly: Anomaly) -> bool:
    """True unless the anomaly re-announces (escalates) an alarm already open."""
    alarm = anomaly.evidence.get("alarm")
    return not (isinstance(alarm, dict) and alarm.get("update") == "escalated")


def score(
    episodes: Iterable[Episode],
    anomalies: Iterable[Anomaly],
    *,
    device_days: float,
    end_ts: float,
    late_grace_s: float = 0.0,
    codes: Sequence[FaultCode] = (),
) -> EvalReport:
    """Match alarms to episodes per device and code and compute the figures.

    >>> ep = Episode("f-1", FaultCode.FRIDGE_TEMP_DRIFT, 100.0)
    >>> from domain import Severity
    >>> hit = Anomaly("f-1", FaultCode.FRIDGE_TEMP_DRIFT, Severity.HIGH, 700.0, 90.0, 0.9, "")
    >>> miss = Anomaly("f-2", FaultCode.FRIDGE_TEMP_DRIFT, Severity.HIGH, 50.0, 40.0, 0.9, "")
    >>> report = score([ep], [hit, miss], device_days=2.0, end_ts=1000.0)
    >>> s = report.codes[FaultCode.FRIDGE_TEMP_DRIFT]
    >>> s.recall, s.precision, s.median_delay_s, s.false_per_kdd
    (1.0, 0.5, 600.0, 500.0)
    """
    by_key: dict[tuple[str, FaultCode], list[Episode]] = defaultdict(list)
    table: dict[FaultCode, CodeScore] = {code: CodeScore(code) for code in codes}
    for episode in episodes:
        by_key[(episode.device_id, episode.fault_code)].append(episode)
        table.setdefault(episode.fault_code, CodeScore(episode.fault_code)).episodes += 1
    first_hit: dict[Episode, float] = {}
    sources: dict[AnomalySource, list[int]] = {}
    for anomaly in sorted(anomalies, key=lambda a: a.detected_at):
        if not is_new_alarm(anomaly):
            continue
        row = table.setdefault(anomaly.fault_code, CodeScore(anomaly.fault_code))
        row.alarms += 1
        counts = sources.setdefault(source_of(anomaly), [0, 0])
        counts[0] += 1
        counts[1] += 1
        t = anomaly.detected_at
        for episode in by_key.get((anomaly.device_id, anomaly.fault_code), ()):
            end = end_ts if episode.end_ts is None else episode.end_ts
            if episode.onset_ts <= t <= end + late_grace_s:
                row.matched_alarms += 1
                counts[1] -= 1
                if episode in first_hit:
                    row.duplicates += 1
                else:
                    first_hit[episode] = t
                break
    for episode, t in first_hit.items():
        row = table[episode.fault_code]
        row.found += 1
        row.delays_s.append(t - episode.onset_ts)
    for row in table.values():
        row.false_per_kdd = row.false_alarms / device_days * 1000.0 if device_days else 0.0
    ordered = dict(sorted(table.items(), key=lambda item: list(FaultCode).index(item[0])))
    return EvalReport(ordered, device_days, dict(sorted(sources.items())))


def format_report(report: EvalReport) -> str:
    """The per-code table `faultline eval fleet` prints."""
    head = (
        f"{'fault code':<27} {'episodes':>8} {'found':>6} {'alarms':>6} {'false':>6} "
        f"{'dup':>4} {'precision':>9} {'recall':>7} {'F1':>6} {'med delay':>10} "
        f"{'p90 delay':>10} {'FA/1000dd':>9}"
    )
    lines = [head, "-" * len(head)]
    for row in report.codes.values():
        lines.append(
            f"{row.fault_code.value:<27} {row.episodes:>8} {row.found:>6} {row.alarms:>6} "
            f"{row.false_alarms:>6} {row.duplicates:>4} {_ratio(row.precision):>9} "
            f"{_ratio(row.recall):>7} {_ratio(row.f1):>6} {_duration(row.median_delay_s):>10} "
            f"{_duration(row.p90_delay_s):>10} {row.false_per_kdd:>9.2f}"
        )
    lines.append("-" * len(head))
    lines.append(
        f"all codes: {report.false_alarms} false alarms over {report.device_days:,.0f} "
        f"device-days = {report.false_per_kdd:.2f} per 1,000 device-days"
    )
    if report.sources:
        by_source = ", ".join(
            f"{source.value} {alarms} ({false} false)"
            for source, (alarms, false) in report.sources.items()
        )
        lines.append(f"alarms by source: {by_source}")
    return "\n".join(lines)


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
