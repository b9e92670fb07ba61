"""Devices' identities on the broker: Mosquitto's dynamic-security plugin, administered
over its control topic (`$CONTROL/dynamic-security/v1`).

Each device is a dynsec client whose username is its device id, with a role of its own
that lets it publish only under `{prefix}/{its id}/` (telemetry, events, status) and
subscribe only to its own `commands`; by default nobody may publish or subscribe. The
service's identity has a role that reads every device and writes commands. Mosquitto 2.0
has no `%u` substitution in dynsec ACLs, so each device's role names its topics.
Deleting a device's client disconnects it at once and refuses it from then on.
"""

from __future__ import annotations

import json
import logging
import secrets
import ssl
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from domain.wire import DEFAULT_PREFIX, Channel
from ingest.broker_address import BrokerAddress
from ingest.errors import IngestError

log = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
SERVICE_ROLE = "faultline-service"
_ALREADY = ("already exists", "Client already exists", "Role already exists")


class IdentityError(IngestError):
    """The broker refused an identity command, or did not answer; the message says which."""


def device_role(device_id: str) -> str:
    return f"device:{device_id}"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


class DynamicSecurity:
    """A control connection to the broker as its dynsec administrator.

    `execute` sends commands and waits for the plugin's answers; the helpers build the
    commands for a device's identity (`provision`, `rotate`, `revoke`) and the service's.
    """

    def __init__(
        self,
        address: BrokerAddress,
        *,
        prefix: str = DEFAULT_PREFIX,
        ca_file: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not address.username:
            raise IdentityError(
                f"the dynsec administrator URL {address} names no user: "
                "mqtt://admin:password@host:port"
            )
        self.address = address
        self.prefix = prefix
        self.timeout_s = timeout_s
        self._answers: dict[str, dict[str, Any]] = {}
        self._answered = threading.Condition()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"faultline-dynsec-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set_context(ssl.create_default_context(cafile=ca_file))
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message

    def start(self) -> None:
        try:
            self._client.connect(self.address.host, self.address.port, keepalive=30)
        except OSError as exc:
            raise IdentityError(f"cannot reach the broker {self.address}: {exc}") from exc
        self._client.loop_start()
        if not self._subscribed.wait(self.timeout_s):
            self.stop()
            raise IdentityError(
                f"the broker {self.address} did not accept the dynsec administrator "
                f"{self.address.username!r} (wrong password, or the plugin is not loaded)"
            )

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    # -- the service and the devices -----------------------------------------------------

    def ensure_service(self, username: str, password: str | None) -> None:
        """Nobody may publish or subscribe unless a role says so; the service reads every
        device and sends commands. Creates the service's client when it is missing."""
        prefix = self.prefix
        self.execute(
            [
                _default("publishClientSend", allow=False),
                _default("subscribe", allow=False),
                _default("publishClientReceive", allow=True),
                _default("unsubscribe", allow=True),
                {"command": "createRole", "rolename": SERVICE_ROLE},
            ],
            tolerate=_ALREADY,
        )
        self.execute(
            [
                _acl(SERVICE_ROLE, "subscribePattern", f"{prefix}/#"),
                _acl(SERVICE_ROLE, "publishClientSend", f"{prefix}/+/{Channel.COMMANDS.value}"),
            ],
            tolerate=("ACL with this topic already exists",),
        )
        create: dict[str, Any] = {
            "command": "createClient",
            "username": username,
            "roles": [{"rolename": SERVICE_ROLE}],
        }
        if password:
            create["password"] = password
        (answer,) = self.execute([create], tolerate=_ALREADY)
        if answer.get("error"):  # the client was there: make sure it has the role
            # (dynsec 2.0 answers "Internal error" when it has it already).
            self.execute(
                [{"command": "addClientRole", "username": username, "rolename": SERVICE_ROLE}],
                tolerate=("Internal error", "already"),
            )

    def provision(self, device_ids: Sequence[str]) -> dict[str, str]:
        """A broker identity for each device (a new secret for one that had one)."""
        secrets_by_device = {device_id: new_secret() for device_id in device_ids}
        commands: list[dict[str, Any]] = []
        for device_id in device_ids:
            role = device_role(device_id)
            commands.append({"command": "deleteClient", "username": device_id})
            commands.append({"command": "deleteRole", "rolename": role})
            commands.append(
                {"command": "createRole", "rolename": role, "acls": self._acls(device_id)}
            )
            commands.append(
                {
                    "command": "createClient",
                    "username": device_id,
                    "password": secrets_by_device[device_id],
                    "roles": [{"rolename": role}],
                }
            )
        self.execute(commands, tolerate=("not found", "Client not found", "Role not found"))
        return secrets_by_device

    def rotate(self, device_id: str) -> str:
        """A new secret; the old one no longer connects (the live connection is closed)."""
        secret = new_secret()
        self.execute(
            [
                {"command": "setClientPassword", "username": device_id, "password": secret},
                {"command": "disableClient", "username": device_id},
                {"command": "enableClient", "username": device_id},
            ]
        )
        return secret

    def revoke(self, device_id: str) -> None:
        """The device is disconnected now and refused from now on."""
        self.execute(
            [
                {"command": "deleteClient", "username": device_id},
                {"command": "deleteRole", "rolename": device_role(device_id)},
            ],
            tolerate=("not found",),
        )

    def _acls(self, device_id: str) -> list[dict[str, Any]]:
        own = f"{self.prefix}/{device_id}"
        acls = [
            {"acltype": "publishClientSend", "topic": f"{own}/{channel.value}", "allow": True}
            for channel in (Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS)
        ]
        commands = f"{own}/{Channel.COMMANDS.value}"
        acls.append({"acltype": "subscribeLiteral", "topic": commands, "allow": True})
        return acls

    # -- the control protocol ----------------------------------------------------------

    def execute(
        self, commands: Sequence[dict[str, Any]], *, tolerate: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Send `commands` in one control message and return their answers in order.

        An answer with an error raises `IdentityError`, unless the error text contains
        one of `tolerate` (e.g. "already exists" when making sure something is there).
        """
        tagged = []
        for command in commands:
            tag = uuid.uuid4().hex
            tagged.append({**command, "correlationData": tag})
        body = json.dumps({"commands": tagged})
        info = self._client.publish(CONTROL_TOPIC, body, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise IdentityError(f"cannot send to {CONTROL_TOPIC}: {mqtt.error_string(info.rc)}")
        tags = [command["correlationData"] for command in tagged]
        with self._answered:
            if not self._answered.wait_for(
                lambda: all(tag in self._answers for tag in tags), self.timeout_s
            ):
                raise IdentityError(
                    f"the broker {self.address} did not answer dynsec commands in "
                    f"{self.timeout_s:.0f} s (is the dynamic-security plugin loaded?)"
                )
            answers = [self._answers.pop(tag) for tag in tags]
        for command, answer in zip(commands, answers, strict=True):
            error = answer.get("error")
            if error and not any(text in error for text in tolerate):
                raise IdentityError(f"the broker refused {command['command']}: {error}")
        return answers

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("dynsec administrator refused by %s: %s", self.address, reason)
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            responses = json.loads(message.payload).get("responses", [])
        except ValueError:
            log.warning("unreadable dynsec response: %r", message.payload[:200])
            return
        with self._answered:
            for response in responses:
                tag = response.get("correlationData")
                if tag:
                    self._answers[str(tag)] = response
            self._answered.notify_all()


def _default(acltype: str, *, allow: bool) -> dict[str, Any]:
    return {"command": "setDefaultACLAccess", "acls": [{"acltype": acltype, "allow": allow}]}


def _acl(role: str, acltype: str, topic: str) -> dict[str, Any]:
    return {
        "command": "addRoleACL",
        "rolename": role,
        "acltype": acltype,
        "topic": topic,
        "allow": True,
    }
