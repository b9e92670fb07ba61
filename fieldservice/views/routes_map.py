"""Technicians and today's routes on a plain lat/lon plot (no map tiles, so it works offline):
each technician's base and visits in route order, and the faults nobody is booked for yet.
Four queries: technicians, their visits of the day, the unbooked open tickets, and the
fleet's locations (grey dots, for a sense of where the work is)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldservice import technicians
from fieldservice.work_orders import WorkOrderStatus
from storage.models import (
    OPEN_STATUSES,
    DeviceRow,
    TicketRow,
    WorkOrderRow,
)

MAX_DOTS = 2000
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


@dataclass
class Stop:
    ticket_id: int
    device_id: str
    lat: float
    lon: float
    status: str
    window_start: float | None
    window_end: float | None
    x: float = 0.0
    y: float = 0.0


@dataclass
class Route:
    technician_id: str
    name: str
    day: str
    colour: str
    base_lat: float
    base_lon: float
    stops: list[Stop] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0

    @property
    def points(self) -> str:
        """SVG polyline points: base, stops in order, back to base."""
        path = [(self.x, self.y), *((s.x, s.y) for s in self.stops), (self.x, self.y)]
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in path)


@dataclass
class Dot:
    device_id: str
    lat: float
    lon: float
    x: float = 0.0
    y: float = 0.0


@dataclass
class RoutesMap:
    routes: list[Route]
    unbooked: list[Stop]
    devices: list[Dot]  # the fleet, for a sense of where the work is (at most MAX_DOTS)
    width: int
    height: int
    bounds: tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max


def routes_map(*, session: Session, now: float, width: int = 720, height: int = 480) -> RoutesMap:
    techs = technicians.active(session=session)
    routes: dict[str, Route] = {}
    for index, tech in enumerate(techs):
        shift = technicians.next_shift(tech, now, min_left_s=0.0)
        day = shift.day if shift else _local_day(now, tech.utc_offset_min)
        routes[tech.technician_id] = Route(
            technician_id=tech.technician_id,
            name=tech.name,
            day=day,
            colour=PALETTE[index % len(PALETTE)],
            base_lat=tech.base_lat,
            base_lon=tech.base_lon,
        )
    if routes:
        visits = session.execute(
            select(
                WorkOrderRow, TicketRow.status, TicketRow.device_id, DeviceRow.lat, DeviceRow.lon
            )
            .join(TicketRow, TicketRow.id == WorkOrderRow.ticket_id)
            .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
            .where(WorkOrderRow.technician_id.in_(sorted(routes)))
            .where(WorkOrderRow.service_day.in_(sorted({r.day for r in routes.values()})))
            .where(
                WorkOrderRow.status.in_(
                    [WorkOrderStatus.SCHEDULED.value, WorkOrderStatus.DONE.value]
                )
            )
            .order_by(WorkOrderRow.window_start, WorkOrderRow.route_seq, WorkOrderRow.id)
        ).tuples()
        for order, status, device_id, lat, lon in visits:
            route = routes.get(order.technician_id or "")
            if route is None or route.day != order.service_day:
                continue
            route.stops.append(
                Stop(
                    ticket_id=order.ticket_id,
                    device_id=device_id,
                    lat=lat,
                    lon=lon,
                    status=status,
                    window_start=order.window_start,
                    window_end=order.window_end,
                )
            )
    unbooked = [
        Stop(
            ticket_id=t_id,
            device_id=d_id,
            lat=lat,
            lon=lon,
            status=status,
            window_start=None,
            window_end=None,
        )
        for t_id, d_id, lat, lon, status in session.execute(
            select(
                TicketRow.id, TicketRow.device_id, DeviceRow.lat, DeviceRow.lon, TicketRow.status
            )
            .join(DeviceRow, DeviceRow.device_id == TicketRow.device_id)
            .where(TicketRow.status.in_(sorted(s.value for s in OPEN_STATUSES)))
            .where(TicketRow.technician_id.is_(None))
            .order_by(TicketRow.id)
            .limit(500)
        ).tuples()
    ]
    dots = [
        Dot(device_id, lat, lon)
        for device_id, lat, lon in session.execute(
            select(DeviceRow.device_id, DeviceRow.lat, DeviceRow.lon)
            .order_by(DeviceRow.device_id)
            .limit(MAX_DOTS)
        ).tuples()
    ]
    result = RoutesMap(list(routes.values()), unbooked, dots, width, height, (0.0, 0.0, 0.0, 0.0))
    _project(result)
    return result


def _project(plot: RoutesMap, pad: float = 28.0) -> None:
    """Equirectangular: x from longitude scaled by cos(latitude), y from latitude, fitted."""
    lats = [r.base_lat for r in plot.routes] + [s.lat for r in plot.routes for s in r.stops]
    lons = [r.base_lon for r in plot.routes] + [s.lon for r in plot.routes for s in r.stops]
    lats += [s.lat for s in plot.unbooked] + [d.lat for d in plot.devices]
    lons += [s.lon for s in plot.unbooked] + [d.lon for d in plot.devices]
    if not lats:
        return
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    # At least ~2 km across, so one point does not fill the plot.
    if lat1 - lat0 < 0.02:
        lat0, lat1 = lat0 - 0.01, lat1 + 0.01
    if lon1 - lon0 < 0.02:
        lon0, lon1 = lon0 - 0.01, lon1 + 0.01
    plot.bounds = (lat0, lat1, lon0, lon1)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    span_x, span_y = (lon1 - lon0) * kx, lat1 - lat0
    scale = min((plot.width - 2 * pad) / span_x, (plot.height - 2 * pad) / span_y)
    off_x = (plot.width - span_x * scale) / 2
    off_y = (plot.height - span_y * scale) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return off_x + (lon - lon0) * kx * scale, plot.height - off_y - (lat - lat0) * scale

    for route in plot.routes:
        route.x, route.y = xy(route.base_lat, route.base_lon)
        for stop in route.stops:
            stop.x, stop.y = xy(stop.lat, stop.lon)
    for stop in plot.unbooked:
        stop.x, stop.y = xy(stop.lat, stop.lon)
    for dot in plot.devices:
        dot.x, dot.y = xy(dot.lat, dot.lon)


def _local_day(now: float, offset_min: int) -> str:
    return datetime.fromtimestamp(now + offset_min * 60.0, UTC).date().isoformat()
