"""A publish-only MQTT 3.1.1 client that builds PUBLISH packets itself and writes them in bulk.

paho spends ~50 µs of Python per publish (message object, packet, locks, its network
thread); a simulator with 10,000 devices needs far less. `MqttWriter` keeps one socket,
joins many packets into one `sendall`, and counts PUBACKs on a reader thread, with its
own window of unacknowledged QoS 1 messages (at most `window` < 65,535, so packet ids
never collide). It does only what the simulator needs: CONNECT (user, password,
TLS), PUBLISH at QoS 0/1 with retain, PINGREQ, DISCONNECT. No reconnect: a lost
connection raises `SimulatorError`, as paho's path does.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable

from device_sim.publisher import SimulatorError

CONNECT_TIMEOUT_S = 10.0
_PUBACK = 0x40
_PINGRESP = 0xD0
_CONNACK = 0x20
_FLUSH_BYTES = 64 * 1024


def _length(n: int) -> bytes:
    """MQTT's variable-length "remaining length"."""
    if n < 128:
        return bytes((n,))
    out = bytearray()
    while True:
        digit, n = n % 128, n // 128
        out.append(digit | 0x80 if n else digit)
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


class MqttWriter:
    """One connection to a broker, for publishing only. Not thread-safe: one publisher."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        keepalive_s: int = 60,
        window: int = 20_000,
    ) -> None:
        if not 1 <= window < 65_535:
            raise ValueError(f"window must be in 1..65534, got {window}")
        self.host, self.port = host, port
        self.client_id = client_id
        self.username, self.password = username, password
        self.tls = tls
        self.keepalive_s = keepalive_s
        self.window = window
        self.sent = 0  # QoS 1 messages written
        self.acked = 0
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._error: str | None = None
        self._parts: list[bytes] = []
        self._pending = 0
        self._pid = 0
        self._last_write = time.monotonic()
        self._topics: dict[str, bytes] = {}

    def connect(self) -> None:
        """Open the connection and wait for the broker's CONNACK."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
            if self.tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except OSError as exc:
            raise SimulatorError(
                f"cannot reach MQTT broker at {self.host}:{self.port}: {exc}"
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        flags = 0x02  # clean session
        payload = _string(self.client_id)
        if self.username is not None:
            flags |= 0x80
            payload += _string(self.username)
            if self.password is not None:
                flags |= 0x40
                payload += _string(self.password)
        body = _string("MQTT") + bytes((4, flags)) + struct.pack("!H", self.keepalive_s) + payload
        try:
            sock.sendall(b"\x10" + _length(len(body)) + body)
            ack = self._read_exactly(sock, 4)
        except OSError as exc:
            sock.close()
            raise SimulatorError(f"MQTT broker at {self.host}:{self.port}: {exc}") from exc
        if ack[0] != _CONNACK or ack[3] != 0:
            sock.close()
            raise SimulatorError(
                f"MQTT broker at {self.host}:{self.port} refused the connection (code {ack[3]})"
            )
        sock.settimeout(None)
        self._sock = sock
        self._reader = threading.Thread(target=self._read_acks, name="mqtt-acks", daemon=True)
        self._reader.start()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Queue one PUBLISH; it goes out with the next `flush()` (or when the buffer fills)."""
        name = self._topics.get(topic)
        if name is None:
            name = self._topics[topic] = _string(topic)
        first = 0x30 | (qos << 1) | (1 if retain else 0)
        if qos:
            if self.sent - self.acked >= self.window:
                self.flush()
                self._wait(lambda: self.sent - self.acked < self.window)
            self._pid = self._pid % 65_535 + 1
            self._parts += (
                bytes((first,)) + _length(len(name) + 2 + len(payload)),
                name,
                struct.pack("!H", self._pid),
                payload,
            )
            self.sent += 1
        else:
            self._parts += (bytes((first,)) + _length(len(name) + len(payload)), name, payload)
        self._pending += len(payload) + len(name) + 6
        if self._pending >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write every queued packet."""
        if not self._parts:
            return
        data = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        self._write(data)

    def idle(self) -> None:
        """Keep the connection alive while nothing is being published (call while pacing)."""
        self.flush()
        if time.monotonic() - self._last_write > self.keepalive_s / 2:
            self._write(b"\xc0\x00")  # PINGREQ

    def wait_acked(self, timeout_s: float) -> bool:
        """Flush, then wait until every QoS 1 message is acknowledged."""
        self.flush()
        return self._wait(lambda: self.acked >= self.sent, timeout_s)

    def close(self) -> None:
        """Send DISCONNECT (nothing queued is lost: flushed first) and close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            if self._parts:
                sock.sendall(b"".join(self._parts))
            sock.sendall(b"\xe0\x00")
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # closing anyway; the caller already has its outcome
        finally:
            sock.close()
            self._parts.clear()
        if self._reader is not None:
            self._reader.join(5)

    def _write(self, data: bytes) -> None:
        if self._error is not None:
            raise SimulatorError(self._error)
        if self._sock is None:
            raise SimulatorError("not connected")
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise SimulatorError(f"lost the connection to {self.host}:{self.port}: {exc}") from exc
        self._last_write = time.monotonic()

    def _wait(self, done: Callable[[], bool], timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not done():
                if self._error is not None:
                    raise SimulatorError(self._error)
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    @staticmethod
    def _read_exactly(sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise OSError("connection closed by the broker")
            data += chunk
        return data

    def _read_acks(self) -> None:
        sock = self._sock
        assert sock is not None
        buffer = b""
        try:
            while True:
                chunk = sock.recv(65_536)
                if not chunk:
                    break
                buffer += chunk
                acks, buffer = self._parse(buffer)
                if acks:
                    with self._cond:
                        self.acked += acks
                        self._cond.notify_all()
        except OSError as exc:
            if self._sock is not None:
                self._fail(f"lost the connection to {self.host}:{self.port}: {exc}")
            return
        if self._sock is not None:
            self._fail(f"MQTT broker at {self.host}:{self.port} closed the connection")

    def _fail(self, reason: str) -> None:
        with self._cond:
            self._error = reason
            self._cond.notify_all()

    @staticmethod
    def _parse(buffer: bytes) -> tuple[int, bytes]:
        """Count the PUBACKs in `buffer`; return them and the incomplete tail."""
        acks = 0
        pos = 0
        end = len(buffer)
        while pos + 2 <= end:
            kind = buffer[pos] & 0xF0
            size = buffer[pos + 1]
            if size & 0x80:  # long packets: only broker messages we do not expect
                raise OSError(f"unexpected packet type {kind >> 4} from the broker")
            if pos + 2 + size > end:
                break
            if kind == _PUBACK:
                acks += 1
            elif kind != _PINGRESP:
                raise OSError(f"unexpected packet type {kind >> 4} from the broker")
            pos += 2 + size
        return acks, buffer[pos:]
