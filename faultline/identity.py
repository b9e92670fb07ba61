"""Device identity for the API: Mosquitto's dynamic security behind the API's interface,
set up at start (the service's own role, nobody else allowed by default)."""

from __future__ import annotations

import logging

from api.identity import IdentityUnavailable
from faultline.settings import Settings
from ingest.broker_address import BrokerAddress
from ingest.broker_identity import DynamicSecurity, IdentityError

log = logging.getLogger(__name__)


class BrokerIdentity:
    """`issue` and `revoke` of the API (`api.identity.DeviceIdentity`) on dynsec."""

    def __init__(self, dynsec: DynamicSecurity) -> None:
        self.dynsec = dynsec

    def issue(self, device_id: str) -> str:
        try:
            return self.dynsec.provision([device_id])[device_id]
        except IdentityError as exc:
            raise IdentityUnavailable(str(exc)) from exc

    def revoke(self, device_id: str) -> None:
        try:
            self.dynsec.revoke(device_id)
        except IdentityError as exc:
            raise IdentityUnavailable(str(exc)) from exc

    def close(self) -> None:
        self.dynsec.stop()


def open_identity(settings: Settings) -> BrokerIdentity | None:
    """Device identity when a broker administrator is configured, else None. Makes sure
    the service's own identity (from FAULTLINE_MQTT_URL) may read every device."""
    if not settings.mqtt_admin_url:
        return None
    service = BrokerAddress.parse(settings.mqtt_url)
    if not service.username:
        raise IdentityError(
            "with device identity on (FAULTLINE_MQTT_ADMIN_URL), the service needs its own "
            "broker user in FAULTLINE_MQTT_URL: mqtt://user:password@host:port"
        )
    dynsec = DynamicSecurity(
        BrokerAddress.parse(settings.mqtt_admin_url),
        prefix=settings.mqtt_prefix,
        ca_file=settings.mqtt_ca_file or None,
    )
    dynsec.start()
    try:
        dynsec.ensure_service(service.username, service.password)
    except IdentityError:
        dynsec.stop()
        raise
    log.info("device identity on: %s administers dynamic security", dynsec.address)
    return BrokerIdentity(dynsec)
